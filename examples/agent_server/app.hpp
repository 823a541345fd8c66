// The agent server's command line and main loop, shared by the example
// (examples/agent_server.cpp, no payment verifier yet) and the interop test's
// server (tests/mcp/agent_server_double.cpp, with a test-double gate).
#pragma once

#include "agent_server/tools.hpp"

#include <x402/mcp.hpp>
#include <x402/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace agent_server {

struct Options {
    /// Keep serving until SIGINT/SIGTERM; without it, print a short in-process demo and exit.
    bool serve = false;
    /// ADDRESS:PORT to listen on ([v6]:PORT for IPv6); port 0 picks a free one.
    std::string address = "127.0.0.1";
    unsigned short port = 8402;
    /// Session store: memory:// (default). redis:// is reserved for the Redis store.
    std::string store = "memory://";
    Pricing pricing;
    /// io threads in --serve mode.
    unsigned threads = 2;
};

inline const char* usage =
    "usage: agent-server [--serve] [--listen ADDRESS:PORT] [--store URL] [--pay-to ADDRESS]\n"
    "                    [--network NAME] [--asset ADDRESS --asset-name NAME --asset-version V] [--threads N]\n"
    "  --listen   default 127.0.0.1:8402 (port 0: any free port; the chosen one is printed)\n"
    "  --store    memory:// (default); redis://HOST:PORT is not wired in yet\n"
    "  --pay-to   recipient of payments (default 0x209693Bc6afc0C5328bA36FaF03C514EF312287C)\n"
    "  --network  eip155:84532 (Base Sepolia, default) or eip155:8453 (Base); others need --asset\n"
    "  --serve    keep serving MCP on http://ADDRESS:PORT/mcp until SIGINT/SIGTERM;\n"
    "             without it: a short demo of the MCP answers, then exit\n";

/// Parses argv; nullopt (after printing why) on a usage error.
inline std::optional<Options> parse(int argc, char** argv) {
    Options options;
    std::optional<std::string> asset;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto fail = [](const std::string& why) -> std::optional<Options> {
        std::cerr << "agent-server: " << why << '\n' << usage;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--serve") {
            options.serve = true;
            continue;
        }
        if (flag == "--help" || flag == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (i + 1 >= args.size()) return fail("missing value after " + std::string(flag));
        const std::string value(args[++i]);
        if (flag == "--listen") {
            const std::size_t colon = value.rfind(':');
            if (colon == std::string::npos || colon == 0) return fail("--listen needs ADDRESS:PORT");
            std::string host = value.substr(0, colon);
            if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
            try {
                std::size_t used = 0;
                const unsigned long port = std::stoul(value.substr(colon + 1), &used);
                if (used != value.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
                options.port = static_cast<unsigned short>(port);
            } catch (const std::exception&) {
                return fail("bad port in --listen " + value);
            }
            options.address = host;
        } else if (flag == "--store") {
            options.store = value;
        } else if (flag == "--pay-to") {
            options.pricing.pay_to = value;
        } else if (flag == "--network") {
            options.pricing.network = value;
        } else if (flag == "--asset") {
            asset = value;
        } else if (flag == "--asset-name") {
            options.pricing.asset_name = value;
        } else if (flag == "--asset-version") {
            options.pricing.asset_version = value;
        } else if (flag == "--threads") {
            try {
                options.threads = static_cast<unsigned>(std::stoul(value));
            } catch (const std::exception&) {
                return fail("bad --threads " + value);
            }
            if (options.threads == 0 || options.threads > 64) return fail("--threads must be 1..64");
        } else {
            return fail("unknown option " + std::string(flag));
        }
    }
    if (asset) {
        options.pricing.asset = *asset;
    } else if (options.pricing.network == "eip155:8453") {
        options.pricing.asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";  // USDC on Base
        options.pricing.asset_name = "USD Coin";
    } else if (options.pricing.network != "eip155:84532") {
        return fail("no default USDC asset for network " + options.pricing.network + ": pass --asset");
    }
    return options;
}

/// The session store named by `url`, or nullopt (after printing why).
inline std::optional<x402::session::AnyStore> make_store(const std::string& url) {
    if (url == "memory://" || url == "memory:" || url == "memory")
        return x402::session::AnyStore::make<x402::session::InMemoryStore>();
    if (url.rfind("redis://", 0) == 0) {
        // TODO(redis): construct the Redis store (include/x402/session/redis_store.hpp) here once it lands.
        std::cerr << "agent-server: redis:// stores are not wired into this example yet\n";
        return std::nullopt;
    }
    std::cerr << "agent-server: unknown store URL " << url << " (memory:// or redis://HOST:PORT)\n";
    return std::nullopt;
}

/// Makes the gate for priced tools from the server's session plugin.
using GateFactory = std::function<x402::mcp::PaymentGate(const x402::session::SessionPlugin&)>;

/// The gate of a server without a payment verifier: every paid call is
/// refused with the tool's payment requirements (so clients see the price),
/// and no handler of a paid tool ever runs. This is what the example uses
/// until the x402 hook (include/x402/payment/hook.hpp) is wired in.
inline x402::mcp::PaymentGate refusing_gate(const x402::session::SessionPlugin&) {
    return [](x402::mcp::PaidToolCall call) -> x402::mcp::awaitable<x402::mcp::GateOutcome> {
        json required = call.price;
        required["error"] = call.payment.is_null() ? "payment_required"
                                                   : "this server has no payment verifier configured";
        co_return x402::mcp::GateOutcome::refused(std::move(required));
    };
}

inline x402::mcp::Reply demo_post(x402::mcp::McpEndpoint& endpoint, const json& message,
                                  std::optional<std::string> session) {
    boost::asio::io_context io;
    x402::mcp::Reply reply;
    std::exception_ptr error;
    boost::asio::co_spawn(io, endpoint.post(message.dump(), std::move(session), std::nullopt),
                          [&](std::exception_ptr e, x402::mcp::Reply r) {
                              error = e;
                              reply = std::move(r);
                          });
    io.run();
    if (error) std::rethrow_exception(error);
    return reply;
}

/// Without --serve: the MCP answers of a short session, straight through the
/// endpoint (no sockets), to show what a client sees.
inline int demo(x402::mcp::McpEndpoint& endpoint) {
    auto show = [](std::string_view what, const json& value) { std::cout << what << ": " << value.dump() << '\n'; };
    const json init = {{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "initialize"},
                       {"params", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()},
                                   {"clientInfo", {{"name", "demo"}, {"version", "1"}}}}}};
    const x402::mcp::Reply opened = demo_post(endpoint, init, std::nullopt);
    if (opened.status != 200 || !opened.session_id) return EXIT_FAILURE;
    show("initialize", json::parse(opened.body)["result"]["protocolVersion"]);

    const json list = {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}};
    const json listed = json::parse(demo_post(endpoint, list, opened.session_id).body);
    json names = json::array();
    for (const json& tool : listed["result"]["tools"]) names.push_back(tool["name"]);
    show("tools/list", names);

    const json put = {{"jsonrpc", "2.0"},
                      {"id", 3},
                      {"method", "tools/call"},
                      {"params", {{"name", "put-content"}, {"arguments", {{"key", "color"}, {"value", "blue"}}}}}};
    const json refused = json::parse(demo_post(endpoint, put, opened.session_id).body)["result"];
    show("put-content without payment, isError", refused["isError"]);
    show("payment required", refused["structuredContent"]);
    const bool ok = names == json::array({"put-content", "get-content"}) && refused["isError"] == true &&
                    refused["structuredContent"]["accepts"][0]["amount"] == "10000";
    std::cout << (ok ? "agent-server: demo ok (run with --serve to serve MCP over HTTP)\n"
                     : "agent-server: demo gave unexpected answers\n");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/// The whole program: parse, build the store, tools and gate, then demo or serve.
inline int run(int argc, char** argv, const GateFactory& make_gate) {
    const std::optional<Options> options = parse(argc, argv);
    if (!options) return 2;
    std::optional<x402::session::AnyStore> store = make_store(options->store);
    if (!store) return 2;
    const x402::session::SessionPlugin sessions(std::move(*store));

    boost::asio::io_context io;
    x402::mcp::ServerOptions server_options;
    server_options.address = options->address;
    server_options.port = options->port;
    server_options.endpoint.server_name = "x402-session-agent-server";
    server_options.endpoint.instructions =
        "Stores and retrieves content per x402 signer: put-content ($0.01) and get-content ($0.001).";
    x402::mcp::Server server(io, server_options, sessions);
    add_content_tools(server.tools(), options->pricing);
    server.set_payment_gate(make_gate(sessions));

    if (!options->serve) return demo(server.endpoint());

    boost::asio::ip::tcp::endpoint bound;
    try {
        bound = server.start();
    } catch (const std::exception& error) {
        std::cerr << "agent-server: cannot listen on " << options->address << ':' << options->port << ": "
                  << error.what() << '\n';
        return 1;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&server](const boost::system::error_code& error, int) {
        if (!error) server.stop();
    });
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    std::cout << "agent-server: listening on http://" << host << ':' << bound.port() << "/mcp" << std::endl;

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < options->threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    std::cout << "agent-server: stopped" << std::endl;
    return EXIT_SUCCESS;
}

}  // namespace agent_server
