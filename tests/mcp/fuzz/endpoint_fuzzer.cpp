// libFuzzer target for the MCP endpoint (mcp/endpoint.hpp, jsonrpc.hpp):
// whole POST bodies, as the Streamable HTTP transport hands them over, into
// McpEndpoint::post with the test tools of harness.hpp (echo: free, with a
// schema; boom: throws; remember: paid, writes the payer's session) and the
// trusting payment gate (tests only: any `testPayer` pays). Built and run by
// tests/fuzz/run_fuzzer.sh.
//
// The first input byte picks the headers sent with the body: bits 0-1 the
// Mcp-Session-Id (a live 2025-11-25 session, a live 2025-03-26 one, which
// takes batches, none, an unknown one), bits 2-3 MCP-Protocol-Version (none,
// 2025-11-25, 2025-03-26, unsupported). The rest is the body.
// Invariants, checked with __builtin_trap() so a violation is a crash:
//  - post completes without throwing, with status 200, 202, 400, 404 or 503;
//  - 202 (only notifications and responses) has an empty body; every other
//    answer is valid JSON: one JSON-RPC 2.0 response ("jsonrpc": "2.0", an
//    id that is null, a string or an integer, exactly one of result and
//    error, an error with an integer code and a string message) or, for a
//    batch, a non-empty array of them;
//  - a new Mcp-Session-Id comes only with a successful initialize.
#include <x402/mcp/endpoint.hpp>
#include <x402/session/in_memory_store.hpp>

#include "fuzz/selected_input.hpp"
#include "mcp/harness.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcp = x402::mcp;
namespace xs = x402::session;
using mcp::json;

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

mcp::EndpointOptions endpoint_options() {
    mcp::EndpointOptions options;
    // Few sessions, so the fuzzer's initialize calls exercise the
    // replacement of unpaid ones; a clock that stands still, so the two
    // paid sessions below are never idle and never replaced.
    options.max_sessions = 32;
    options.clock = [] { return std::chrono::steady_clock::time_point{}; };
    return options;
}

struct Server {
    boost::asio::io_context io;
    // Bounded, so that 10 M runs of paid writes stay in memory.
    xs::SessionPlugin sessions{xs::AnyStore::make<xs::InMemoryStore>(xs::InMemoryStoreOptions{.max_entries = 1000})};
    mcp::McpEndpoint endpoint{endpoint_options()};
    std::string modern;
    std::string legacy;

    Server() {
        mcp_test::add_test_tools(endpoint.tools());
        endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(sessions));
        modern = open("2025-11-25");
        legacy = open("2025-03-26");
    }

    mcp::Reply post(std::string body, std::optional<std::string> session, std::optional<std::string> version) {
        std::optional<mcp::Reply> reply;
        boost::asio::co_spawn(io, endpoint.post(std::move(body), std::move(session), std::move(version)),
                              [&](std::exception_ptr error, mcp::Reply answered) {
                                  require(!error);  // every failure is an answer
                                  reply = std::move(answered);
                              });
        io.restart();
        io.run();
        require(reply.has_value());
        return std::move(*reply);
    }

    /// An initialized session that has paid: kept however many others open.
    std::string open(const std::string& version) {
        const mcp::Reply opened = post(mcp_test::initialize_request(version).dump(), {}, {});
        if (!opened.session_id) throw std::runtime_error("initialize failed: " + opened.body);
        post(mcp_test::notification("notifications/initialized").dump(), opened.session_id, version);
        const mcp::Reply paid = post(mcp_test::call_request(1, "remember", {{"value", "seed"}},
                                                            mcp_test::pay_as(mcp_test::alice))
                                         .dump(),
                                     opened.session_id, version);
        if (paid.status != 200) throw std::runtime_error("paid call failed: " + paid.body);
        return *opened.session_id;
    }
};

Server& server() {
    static Server instance;
    return instance;
}

void check_response(const json& response) {
    require(response.is_object());
    require(response.value("jsonrpc", json()) == "2.0");
    require(response.contains("id"));
    const json& id = response["id"];
    require(id.is_null() || id.is_string() || id.is_number_integer());
    require(response.contains("result") != response.contains("error"));
    if (response.contains("error")) {
        const json& error = response["error"];
        require(error.is_object() && error.contains("code") && error["code"].is_number_integer());
        require(error.contains("message") && error["message"].is_string());
    }
}

void fuzz(std::uint8_t headers, std::string_view body) {
    Server& s = server();
    std::optional<std::string> session;
    switch (headers & 3) {
        case 0: session = s.modern; break;
        case 1: session = s.legacy; break;
        case 2: break;
        default: session = "00000000000000000000000000000000"; break;
    }
    std::optional<std::string> version;
    switch ((headers >> 2) & 3) {
        case 0: break;
        case 1: version = "2025-11-25"; break;
        case 2: version = "2025-03-26"; break;
        default: version = "1999-01-01"; break;
    }
    const mcp::Reply reply = s.post(std::string(body), session, version);
    const unsigned status = reply.status;
    require(status == 200 || status == 202 || status == 400 || status == 404 || status == 503);
    if (status == 202) {
        require(reply.body.empty() && !reply.session_id);
        return;
    }
    const json answer = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    require(!answer.is_discarded());
    if (answer.is_array()) {
        require(!answer.empty());
        for (const json& response : answer) check_response(response);
    } else {
        check_response(answer);
    }
    if (reply.session_id) require(status == 200 && answer.is_object() && answer.contains("result"));
}

}  // namespace

// The endpoint answers every body; it never throws.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return x402_fuzz::run_selected(data, size, fuzz);
}
