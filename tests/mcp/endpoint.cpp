// The JSON-RPC / MCP layer without sockets: what each POST body answers.
// Also the real x402 gates (MCP and plain HTTP routes; the latter over a
// real socket, since the payment travels in HTTP headers).
#include <x402/mcp/endpoint.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#if X402_MCP_TEST_GATE
#include <x402/mcp/x402_gate.hpp>
#include <x402/payment/local_verifier.hpp>

#include <x402/mcp/server.hpp>

#include "../../examples/agent_server/tools.hpp"
#include "http_client.hpp"  // tests/http_client.hpp

#include <cstdint>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>
#endif

using namespace mcp_test;
#if X402_MCP_TEST_GATE
using test_support::HttpClient;
namespace http = boost::beast::http;
#endif

namespace {

void check_error(const mcp::Reply& reply, unsigned status, int code, const json& id = nullptr) {
    CHECK(reply.status == status);
    const json body = body_of(reply);
    CHECK(body["jsonrpc"] == "2.0");
    CHECK(body["id"] == id);
    CHECK(body["error"]["code"] == code);
}

struct Fixture {
    Fixture() { add_test_tools(endpoint.tools()); }
    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
};

}  // namespace

TEST_CASE("jsonrpc: malformed JSON is a parse error", "[mcp][jsonrpc]") {
    Fixture f;
    for (const char* body : {"", "{", "{\"jsonrpc\":\"2.0\",", "not json", "[1,2", "\xff\xfe"}) {
        INFO(body);
        const mcp::Reply reply = post_raw(f.endpoint, body);
        check_error(reply, 400, -32700);
        CHECK(body_of(reply)["error"]["message"] == "Parse error: Invalid JSON");
    }
}

TEST_CASE("jsonrpc: invalid request objects are rejected", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    SECTION("not an object") { check_error(post(f.endpoint, json(42), session), 400, -32600); }
    SECTION("a string") { check_error(post(f.endpoint, json("ping"), session), 400, -32600); }
    SECTION("no jsonrpc member") {
        check_error(post(f.endpoint, {{"id", 1}, {"method", "ping"}}, session), 400, -32600, 1);
    }
    SECTION("wrong jsonrpc version") {
        check_error(post(f.endpoint, {{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}}, session), 400, -32600, 1);
    }
    SECTION("method not a string") {
        check_error(post(f.endpoint, {{"jsonrpc", "2.0"}, {"id", "a"}, {"method", 7}}, session), 400, -32600, "a");
    }
    SECTION("null id") {
        check_error(post(f.endpoint, {{"jsonrpc", "2.0"}, {"id", nullptr}, {"method", "ping"}}, session), 400, -32600);
    }
    SECTION("fractional id") {
        check_error(post(f.endpoint, {{"jsonrpc", "2.0"}, {"id", 1.5}, {"method", "ping"}}, session), 400, -32600);
    }
    SECTION("boolean id") {
        check_error(post(f.endpoint, {{"jsonrpc", "2.0"}, {"id", true}, {"method", "ping"}}, session), 400, -32600);
    }
    SECTION("params a string") {
        const json message = {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "ping"}, {"params", "x"}};
        const mcp::Reply reply = post(f.endpoint, message, session);
        check_error(reply, 400, -32600, 3);
        CHECK(body_of(reply)["error"]["message"] == "Invalid Request: \"params\" must be an object or an array");
    }
    SECTION("neither request nor response") { check_error(post(f.endpoint, {{"jsonrpc", "2.0"}, {"id", 4}}, session), 400, -32600, 4); }
}

TEST_CASE("jsonrpc: initialize negotiates the protocol version", "[mcp][jsonrpc]") {
    Fixture f;
    auto negotiated = [&](std::string asked) {
        const mcp::Reply reply = post(f.endpoint, initialize_request(std::move(asked), "init"));
        REQUIRE(reply.status == 200);
        REQUIRE(reply.session_id);
        const json body = body_of(reply);
        CHECK(body["id"] == "init");
        CHECK(body["result"]["capabilities"] == json{{"tools", {{"listChanged", false}}}, {"logging", json::object()}});
        CHECK(body["result"]["serverInfo"]["name"] == "x402-session-mcp");
        return body["result"]["protocolVersion"].get<std::string>();
    };
    CHECK(negotiated("2025-03-26") == "2025-03-26");
    CHECK(negotiated("2025-06-18") == "2025-06-18");
    CHECK(negotiated("2025-11-25") == "2025-11-25");
    CHECK(negotiated("2024-11-05") == "2025-11-25");
    CHECK(negotiated("2099-01-01") == "2025-11-25");
    CHECK(f.endpoint.session_count() == 5);

    const mcp::Reply first = post(f.endpoint, initialize_request("2025-11-25"));
    const mcp::Reply second = post(f.endpoint, initialize_request("2025-11-25"));
    CHECK(*first.session_id != *second.session_id);
    CHECK(first.session_id->size() == 32);
}

TEST_CASE("jsonrpc: initialize without protocolVersion is invalid params", "[mcp][jsonrpc]") {
    Fixture f;
    const mcp::Reply missing = post(f.endpoint, request(1, "initialize", json::object()));
    check_error(missing, 200, -32602, 1);
    CHECK_FALSE(missing.session_id);
    check_error(post(f.endpoint, request(2, "initialize")), 200, -32602, 2);
    check_error(post(f.endpoint, request(3, "initialize", {{"protocolVersion", 20250618}})), 200, -32602, 3);
    CHECK(f.endpoint.session_count() == 0);
}

TEST_CASE("jsonrpc: requests need a known session", "[mcp][jsonrpc]") {
    Fixture f;
    const mcp::Reply missing = post(f.endpoint, request(1, "ping"));
    check_error(missing, 400, -32000);
    CHECK(body_of(missing)["error"]["message"] == "Bad Request: Mcp-Session-Id header is required");
    const mcp::Reply unknown = post(f.endpoint, request(1, "ping"), std::string("0123"));
    check_error(unknown, 404, -32001);
    CHECK(body_of(unknown)["error"]["message"] == "Session not found");

    const std::string session = open_session(f.endpoint);
    CHECK(post(f.endpoint, request(1, "ping"), session).status == 200);
    CHECK(f.endpoint.terminate(session).status == 200);
    check_error(post(f.endpoint, request(1, "ping"), session), 404, -32001);
    check_error(f.endpoint.terminate(session), 404, -32001);
    check_error(f.endpoint.terminate(std::nullopt), 400, -32000);
}

TEST_CASE("jsonrpc: the oldest session is forgotten beyond max_sessions", "[mcp][jsonrpc]") {
    mcp::EndpointOptions options;
    options.max_sessions = 2;
    mcp::McpEndpoint endpoint(options);
    const std::string first = open_session(endpoint);
    const std::string second = open_session(endpoint);
    const std::string third = open_session(endpoint);
    CHECK(endpoint.session_count() == 2);
    check_error(post(endpoint, request(1, "ping"), first), 404, -32001);
    CHECK(post(endpoint, request(1, "ping"), second).status == 200);
    CHECK(post(endpoint, request(1, "ping"), third).status == 200);
}

TEST_CASE("jsonrpc: a session that paid is not dropped for a new one until idle; all in use, initialize is 503",
          "[mcp][jsonrpc][security]") {
    test_support::ManualClock clock;
    mcp::EndpointOptions options;
    options.max_sessions = 2;
    options.clock = clock.function();
    mcp::McpEndpoint endpoint(options);
    add_test_tools(endpoint.tools());
    xs::SessionPlugin sessions;
    endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(sessions));
    const std::string paying = open_session(endpoint);
    CHECK(post(endpoint, call_request(1, "remember", {{"value", "x"}}, pay_as(alice)), paying).status == 200);
    // Anonymous initializes churn only the sessions that have not paid.
    for (int i = 0; i < 10; ++i) open_session(endpoint);
    CHECK(endpoint.session_count() == 2);
    CHECK(post(endpoint, request(1, "ping"), paying).status == 200);
    // An unpaid call (refused) does not protect a session; a paid one does.
    const std::string second = open_session(endpoint);
    CHECK(post(endpoint, call_request(2, "remember", {{"value", "y"}}), second).status == 200);
    open_session(endpoint);
    check_error(post(endpoint, request(1, "ping"), second), 404, -32001);
    const std::string third = open_session(endpoint);
    CHECK(post(endpoint, call_request(3, "remember", {{"value", "z"}}, pay_as(bob)), third).status == 200);
    const mcp::Reply busy = post(endpoint, initialize_request("2025-11-25", 7));
    check_error(busy, 503, -32000, 7);
    CHECK(body_of(busy)["error"]["message"] ==
          "Service Unavailable: the server holds its most MCP sessions (2), all of paying clients in use; try again "
          "later");
    CHECK_FALSE(busy.session_id);
    CHECK(post(endpoint, request(1, "ping"), paying).status == 200);
    // A session that ends frees its place.
    CHECK(endpoint.terminate(third).status == 200);
    const std::string fourth = open_session(endpoint);
    CHECK(post(endpoint, call_request(4, "remember", {{"value", "w"}}, pay_as(bob)), fourth).status == 200);
    check_error(post(endpoint, initialize_request("2025-11-25", 8)), 503, -32000, 8);
    // A paid session idle past paid_session_idle may be replaced; one in use may not.
    clock.advance(options.paid_session_idle);
    CHECK(post(endpoint, request(1, "ping"), fourth).status == 200);
    const std::string fifth = open_session(endpoint);
    check_error(post(endpoint, request(1, "ping"), paying), 404, -32001);
    CHECK(post(endpoint, request(1, "ping"), fourth).status == 200);
    CHECK(post(endpoint, request(1, "ping"), fifth).status == 200);
}

TEST_CASE("jsonrpc: bytes that are not UTF-8 in a header or a result still get an answer", "[mcp][jsonrpc][security]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const mcp::Reply reply = post(f.endpoint, request(1, "ping"), session, std::string("\xff\xfe"));
    check_error(reply, 400, -32000);
    CHECK(body_of(reply)["error"]["message"] ==
          "Bad Request: Unsupported protocol version: \xef\xbf\xbd\xef\xbf\xbd (supported versions: 2025-11-25, "
          "2025-06-18, 2025-03-26)");
    const mcp::HttpResponse route = mcp::json_response(mcp::json{{"value", std::string("a\xff")}});
    CHECK(mcp::json::parse(route.body)["value"] == "a\xef\xbf\xbd");
}

TEST_CASE("jsonrpc: an unsupported MCP-Protocol-Version header is a bad request", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    for (const char* version : {"2024-11-05", "not-a-version", "2099-01-01"}) {
        INFO(version);
        const mcp::Reply reply = post(f.endpoint, request(1, "ping"), session, std::string(version));
        check_error(reply, 400, -32000);
        CHECK(body_of(reply)["error"]["message"] ==
              "Bad Request: Unsupported protocol version: " + std::string(version) +
                  " (supported versions: 2025-11-25, 2025-06-18, 2025-03-26)");
    }
    CHECK(post(f.endpoint, request(1, "ping"), session, std::string("2025-06-18")).status == 200);
    // initialize is exempt: the version is not negotiated yet.
    CHECK(post(f.endpoint, initialize_request("2025-11-25"), std::nullopt, std::string("bogus")).status == 200);
}

TEST_CASE("jsonrpc: notifications and responses get 202 with no body", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    for (const json& message : {notification("notifications/initialized"), notification("notifications/cancelled"),
                                notification("no/such/notification"),
                                json{{"jsonrpc", "2.0"}, {"id", 9}, {"result", json::object()}},
                                json{{"jsonrpc", "2.0"}, {"id", 9}, {"error", {{"code", 1}, {"message", "x"}}}}}) {
        INFO(message.dump());
        const mcp::Reply reply = post(f.endpoint, message, session);
        CHECK(reply.status == 202);
        CHECK(reply.body.empty());
    }
}

TEST_CASE("jsonrpc: an unknown method is method not found", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const mcp::Reply reply = post(f.endpoint, request(5, "resources/list"), session);
    check_error(reply, 200, -32601, 5);
    CHECK(body_of(reply)["error"]["message"] == "Method not found: resources/list");
}

TEST_CASE("jsonrpc: ping answers an empty result", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const mcp::Reply reply = post(f.endpoint, request("p", "ping"), session);
    CHECK(reply.status == 200);
    CHECK(body_of(reply) == json{{"jsonrpc", "2.0"}, {"id", "p"}, {"result", json::object()}});
}

TEST_CASE("jsonrpc: tools/list lists name description and schema", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const json tools = body_of(post(f.endpoint, request(1, "tools/list"), session))["result"]["tools"];
    REQUIRE(tools.size() == 3);
    CHECK(tools[0]["name"] == "echo");
    CHECK(tools[0]["description"] == "Echoes its text");
    CHECK(tools[0]["inputSchema"]["required"] == json::array({"text"}));
    CHECK(tools[1]["name"] == "boom");
    CHECK(tools[1]["inputSchema"] == json{{"type", "object"}});
    CHECK(tools[2]["name"] == "remember");
    CHECK_FALSE(tools[2].contains("price"));

    check_error(post(f.endpoint, request(2, "tools/list", {{"cursor", "x"}}), session), 200, -32602, 2);
    check_error(post(f.endpoint, request(3, "tools/list", json::array()), session), 200, -32602, 3);
}

TEST_CASE("jsonrpc: tools/call of an unknown tool is invalid params", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const mcp::Reply reply = post(f.endpoint, call_request(1, "nope", json::object()), session);
    check_error(reply, 200, -32602, 1);
    CHECK(body_of(reply)["error"]["message"] == "Unknown tool: nope");
}

TEST_CASE("jsonrpc: tools/call with malformed params is invalid params", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    SECTION("no params") { check_error(post(f.endpoint, request(1, "tools/call"), session), 200, -32602, 1); }
    SECTION("no name") {
        check_error(post(f.endpoint, request(1, "tools/call", {{"arguments", json::object()}}), session), 200, -32602, 1);
    }
    SECTION("arguments not an object") {
        const json message = request(1, "tools/call", {{"name", "echo"}, {"arguments", "text"}});
        check_error(post(f.endpoint, message, session), 200, -32602, 1);
    }
    SECTION("_meta not an object") {
        const json message = request(1, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "x"}}}, {"_meta", 1}});
        check_error(post(f.endpoint, message, session), 200, -32602, 1);
    }
}

TEST_CASE("jsonrpc: arguments failing the input schema depend on the version", "[mcp][jsonrpc]") {
    Fixture f;
    SECTION("2025-06-18: a -32602 protocol error") {
        const std::string session = open_session(f.endpoint, "2025-06-18");
        const mcp::Reply reply = post(f.endpoint, call_request(1, "echo", {{"text", 5}}), session);
        check_error(reply, 200, -32602, 1);
        CHECK(body_of(reply)["error"]["message"] ==
              "Invalid arguments for tool echo: arguments/text: expected string, got integer (type)");
        const mcp::Reply missing = post(f.endpoint, call_request(2, "echo", json::object()), session);
        CHECK(body_of(missing)["error"]["message"] ==
              "Invalid arguments for tool echo: arguments: missing required property \"text\" (required)");
        const mcp::Reply extra = post(f.endpoint, call_request(3, "echo", {{"text", "a"}, {"x", 1}}), session);
        CHECK(body_of(extra)["error"]["message"] ==
              "Invalid arguments for tool echo: arguments: unexpected property \"x\" (additionalProperties)");
    }
    SECTION("2025-11-25: a tool execution error") {
        const std::string session = open_session(f.endpoint, "2025-11-25");
        const mcp::Reply reply = post(f.endpoint, call_request(1, "echo", {{"text", 5}}), session);
        CHECK(reply.status == 200);
        const json result = body_of(reply)["result"];
        CHECK(result["isError"] == true);
        CHECK(result["content"][0]["text"] ==
              "Invalid arguments for tool echo: arguments/text: expected string, got integer (type)");
    }
}

TEST_CASE("jsonrpc: batches in 2025-03-26", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint, "2025-03-26");
    SECTION("requests notifications and invalid elements") {
        const json batch = json::array({request(1, "ping"), notification("notifications/initialized"), json(7),
                                        call_request("c", "echo", {{"text", "hi"}}), request(2, "nope")});
        const mcp::Reply reply = post(f.endpoint, batch, session);
        REQUIRE(reply.status == 200);
        const json answers = body_of(reply);
        REQUIRE(answers.size() == 4);
        CHECK(answers[0] == json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}});
        CHECK(answers[1]["error"]["code"] == -32600);
        CHECK(answers[1]["id"] == nullptr);
        CHECK(answers[2]["id"] == "c");
        CHECK(answers[2]["result"]["structuredContent"]["text"] == "hi");
        CHECK(answers[3]["error"]["code"] == -32601);
    }
    SECTION("only notifications: 202") {
        const json batch = json::array({notification("notifications/initialized"), notification("x/y")});
        const mcp::Reply reply = post(f.endpoint, batch, session);
        CHECK(reply.status == 202);
        CHECK(reply.body.empty());
    }
    SECTION("empty: invalid request") { check_error(post(f.endpoint, json::array(), session), 400, -32600); }
    SECTION("initialize inside: an element error") {
        const json batch = json::array({initialize_request("2025-03-26", 1), request(2, "ping")});
        const json answers = body_of(post(f.endpoint, batch, session));
        REQUIRE(answers.size() == 2);
        CHECK(answers[0]["error"]["code"] == -32600);
        CHECK(answers[0]["error"]["message"] == "Invalid Request: initialize must not be part of a batch");
        CHECK(answers[1]["result"] == json::object());
    }
    SECTION("over max_batch: invalid request") {
        json batch = json::array();
        for (int i = 0; i < 101; ++i) batch.push_back(request(i, "ping"));
        check_error(post(f.endpoint, batch, session), 400, -32600);
    }
}

TEST_CASE("jsonrpc: a batch runs no more requests once its answers reach max_batch_answer_bytes",
          "[mcp][jsonrpc][security]") {
    xs::SessionPlugin sessions;
    mcp::EndpointOptions options;
    options.max_batch_answer_bytes = 200;
    mcp::McpEndpoint endpoint(options);
    add_test_tools(endpoint.tools());
    endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(sessions));
    const std::string session = open_session(endpoint, "2025-03-26");

    // Each answer of remember is over 200 bytes: the first runs, the others
    // are answered -32000 and do not run (their writes never happen).
    const json batch = json::array({call_request(1, "remember", {{"value", "first"}}, pay_as(alice)),
                                    call_request(2, "remember", {{"value", "second"}}, pay_as(alice)),
                                    request(3, "ping"), notification("notifications/initialized")});
    const mcp::Reply reply = post(endpoint, batch, session);
    REQUIRE(reply.status == 200);
    const json answers = body_of(reply);
    REQUIRE(answers.size() == 3);
    CHECK(answers[0]["result"]["structuredContent"]["success"] == true);
    for (int i : {1, 2}) {
        CHECK(answers[i]["id"] == i + 1);
        CHECK(answers[i]["error"]["code"] == -32000);
        CHECK(answers[i]["error"]["message"] ==
              "Batch answer too large: the answers before this request reached 200 bytes, so it was not run; "
              "send it again in another batch");
    }
    const json again = body_of(post(endpoint, call_request(4, "remember", json::object(), pay_as(alice)), session));
    CHECK(again["result"]["structuredContent"]["previous"] == "first");
}

TEST_CASE("jsonrpc: batches are refused from 2025-06-18 on", "[mcp][jsonrpc]") {
    Fixture f;
    for (const char* version : {"2025-06-18", "2025-11-25"}) {
        INFO(version);
        const std::string session = open_session(f.endpoint, version);
        const mcp::Reply reply = post(f.endpoint, json::array({request(1, "ping")}), session);
        check_error(reply, 400, -32600);
        CHECK(body_of(reply)["error"]["message"] ==
              "Invalid Request: batch requests are not supported in protocol version " + std::string(version));
    }
}

TEST_CASE("tools: a throwing handler becomes a tool error", "[mcp][tools]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const json result = body_of(post(f.endpoint, call_request(1, "boom", json::object()), session))["result"];
    CHECK(result == json{{"content", json::array({{{"type", "text"}, {"text", "Error: kaput"}}})}, {"isError", true}});
}

TEST_CASE("gate: a paid tool without a payment gate never runs", "[mcp][gate]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const json result =
        body_of(post(f.endpoint, call_request(1, "remember", {{"value", "x"}}, pay_as(alice)), session))["result"];
    CHECK(result["isError"] == true);
    CHECK(result["content"][0]["text"] == "Tool remember requires payment, and this server has no payment verifier");
    CHECK_FALSE(result.contains("_meta"));
}

TEST_CASE("gate: a free tool runs with no session and no payer", "[mcp][gate]") {
    Fixture f;
    f.endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(f.sessions));
    const std::string session = open_session(f.endpoint);
    SECTION("even with a payment attached") {
        const json result =
            body_of(post(f.endpoint, call_request(1, "echo", {{"text", "a"}}, pay_as(alice)), session))["result"];
        CHECK(result["structuredContent"] == json{{"text", "a"}, {"payerBefore", nullptr}, {"payerAfter", nullptr}});
        CHECK_FALSE(result.contains("_meta"));
    }
    SECTION("even when the request itself runs inside a payer's context") {
        const std::string body = call_request(1, "echo", {{"text", "b"}}).dump();
        auto inside_alice = [&] { return f.endpoint.post(body, session, std::nullopt); };
        const mcp::Reply reply = test_support::run(
            f.sessions.run(xs::VerifiedPayer::assume_verified(alice), inside_alice));
        CHECK(body_of(reply)["result"]["structuredContent"]["payerBefore"] == nullptr);
        CHECK(body_of(reply)["result"]["structuredContent"]["payerAfter"] == nullptr);
    }
}

TEST_CASE("gate: the gate gets the parsed price and the payment and its receipt is attached", "[mcp][gate]") {
    Fixture f;
    auto seen = std::make_shared<std::vector<json>>();
    mcp::PaymentGate recording = [seen, sessions = f.sessions](mcp::GateRequest call) -> mcp::awaitable<mcp::GateDecision> {
        seen->push_back(
            {{"tool", call.target}, {"price", call.price->as_json()}, {"payment", call.payment.mcp_meta().value_or(nullptr)}});
        if (call.payment.empty()) co_return mcp::GateDecision::refuse({{"x402Version", 2}, {"error", "payment_required"}});
        auto op = sessions.run_without_payer(call.invoke);
        co_await std::move(op);
        co_return mcp::GateDecision::served({{"success", true}, {"transaction", "0xabc"}});
    };
    f.endpoint.set_payment_gate(recording);
    const std::string session = open_session(f.endpoint);

    const json unpaid = body_of(post(f.endpoint, call_request(1, "remember", json::object()), session))["result"];
    const json required = {{"x402Version", 2}, {"error", "payment_required"}};
    CHECK(unpaid == json{{"content", json::array({{{"type", "text"}, {"text", required.dump()}}})},
                         {"structuredContent", required},
                         {"isError", true}});

    const json payment = {{"x402Version", 2}, {"payload", {{"signature", "0x01"}}}};
    const json paid = body_of(post(f.endpoint, call_request(2, "remember", json::object(), payment), session))["result"];
    CHECK(paid["_meta"] == json{{"x402/payment-response", {{"success", true}, {"transaction", "0xabc"}}}});
    CHECK(paid["structuredContent"]["error"] == "No authenticated signer in context");

    REQUIRE(seen->size() == 2);
    CHECK((*seen)[0] == json{{"tool", "remember"}, {"price", test_price()}, {"payment", nullptr}});
    CHECK((*seen)[1]["payment"] == payment);
}

TEST_CASE("gate: the trusting gate double runs the handler as the named payer", "[mcp][gate]") {
    Fixture f;
    f.endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(f.sessions));
    const std::string session = open_session(f.endpoint);

    const json refused = body_of(post(f.endpoint, call_request(1, "remember", {{"value", "v"}}), session))["result"];
    CHECK(refused["isError"] == true);
    CHECK(refused["structuredContent"]["error"] == "payment_required");
    CHECK(refused["structuredContent"]["accepts"] == test_price()["accepts"]);
    CHECK(json::parse(refused["content"][0]["text"].get<std::string>()) == refused["structuredContent"]);

    const json first = body_of(post(f.endpoint, call_request(2, "remember", {{"value", "blue"}}, pay_as(alice)), session))["result"];
    CHECK(first["structuredContent"]["previous"] == nullptr);
    CHECK(first["structuredContent"]["payerBefore"] == alice);
    CHECK(first["structuredContent"]["payerMiddle"] == alice);
    CHECK(first["structuredContent"]["payerAfter"] == alice);
    CHECK(first["_meta"]["x402/payment-response"]["payer"] == alice);

    const json other = body_of(post(f.endpoint, call_request(3, "remember", json::object(), pay_as(bob)), session))["result"];
    CHECK(other["structuredContent"]["previous"] == nullptr);
    CHECK(other["structuredContent"]["sessionPayer"] == bob);

    const json again = body_of(post(f.endpoint, call_request(4, "remember", json::object(), pay_as(alice)), session))["result"];
    CHECK(again["structuredContent"]["previous"] == "blue");
}

TEST_CASE("tools: the registry rejects bad registrations", "[mcp][tools]") {
    mcp::ToolRegistry tools;
    auto make = [](std::string name) {
        mcp::Tool tool;
        tool.name = std::move(name);
        tool.handler = echo;
        return tool;
    };
    tools.add(make("a"));
    CHECK_THROWS_WITH(tools.add(make("")), "tool name must not be empty");
    CHECK_THROWS_WITH(tools.add(make("a")), "duplicate tool name: a");
    mcp::Tool no_handler = make("b");
    no_handler.handler = nullptr;
    CHECK_THROWS_WITH(tools.add(std::move(no_handler)), "tool b has no handler");
    mcp::Tool bad_schema = make("c");
    bad_schema.input_schema = {{"type", "string"}};
    CHECK_THROWS_WITH(tools.add(std::move(bad_schema)), "tool c: input schema must be an object schema");
    mcp::Tool null_price = make("d");
    null_price.price = json(nullptr);
    CHECK_THROWS_AS(tools.add(std::move(null_price)), std::invalid_argument);
    // Prices are parsed once, here: one that is no x402 PaymentRequired never registers.
    mcp::Tool bad_price = make("f");
    bad_price.price = json{{"amount", 1}};
    CHECK_THROWS_AS(tools.add(std::move(bad_price)), std::invalid_argument);
    CHECK(tools.price("a") == nullptr);
    tools.freeze();
    CHECK_THROWS_AS(tools.add(make("e")), std::logic_error);
    CHECK(tools.tools().size() == 1);
    CHECK(tools.find("a") != nullptr);
    CHECK(tools.find("zzz") == nullptr);
}

TEST_CASE("jsonrpc: deeply nested JSON is refused before parsing", "[mcp][jsonrpc]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    const mcp::Reply reply = post_raw(f.endpoint, deep, session);
    check_error(reply, 400, -32600);
    CHECK(body_of(reply)["error"]["message"] == "Invalid Request: JSON nested deeper than 64 levels");
    // Brackets inside strings do not count.
    const json text_with_brackets = call_request(1, "echo", {{"text", std::string(1000, '[') + "\"\\\"{"}});
    CHECK(body_of(post(f.endpoint, text_with_brackets, session))["result"]["structuredContent"]["text"] ==
          std::string(1000, '[') + "\"\\\"{");
    CHECK(mcp::detail::json_depth("{\"a\":[{}]}") == 3);
}

#if X402_MCP_TEST_GATE
// The real gate: x402::mcp::make_x402_gate over a PaymentHook with the offline
// LocalVerifier, on payments signed by the official x402 client libraries
// (tests/payment/vectors.json, made for exactly the requirements of test_price()).
// The end-to-end version, with fresh payments, is mcp.interop.official_clients.
namespace {

struct GateFixture {
    explicit GateFixture(std::uint64_t now) {
        add_test_tools(endpoint.tools());
        endpoint.set_payment_gate(mcp::make_x402_gate(local_hook(sessions, now)));
        session = open_session(endpoint);
    }
    json call(int id, json payment) {
        return body_of(post(endpoint, call_request(id, "remember", {{"value", "blue"}}, std::move(payment)), session))["result"];
    }
    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
    std::string session;
};

void check_refused(const json& result, const std::string& reason) {
    CHECK(result["isError"] == true);
    CHECK(result["structuredContent"]["error"] == reason);
    CHECK(result["structuredContent"]["x402Version"] == 2);
    CHECK(result["structuredContent"]["accepts"] == test_price()["accepts"]);
    CHECK(result["structuredContent"]["resource"] == test_price()["resource"]);
    CHECK(json::parse(result["content"][0]["text"].get<std::string>()) == result["structuredContent"]);
    CHECK_FALSE(result.contains("_meta"));
}

}  // namespace

TEST_CASE("x402 gate: a verified payment runs the tool as its payer and attaches the receipt", "[mcp][x402gate]") {
    const json valid = vector_named("v2-valid");
    GateFixture f(valid["verifyAt"].get<std::uint64_t>());
    const std::string payer = valid["expected"]["payer"].get<std::string>();

    const json paid = f.call(1, valid["decodedPayload"]);
    REQUIRE_FALSE(paid.contains("isError"));
    const json seen = paid["structuredContent"];
    CHECK(seen["success"] == true);
    CHECK(seen["previous"] == nullptr);
    const std::string session_payer = seen["sessionPayer"].get<std::string>();
    CHECK(xs::detail::normalise_payer(session_payer) == xs::detail::normalise_payer(payer));
    CHECK(seen["payerBefore"] == session_payer);
    CHECK(seen["payerMiddle"] == session_payer);
    CHECK(seen["payerAfter"] == session_payer);
    const json receipt = paid["_meta"]["x402/payment-response"];
    CHECK(receipt["success"] == true);
    CHECK(receipt["payer"] == payer);
    CHECK(receipt["network"] == "eip155:84532");

    SECTION("the same payment again is refused and the tool does not run") {
        check_refused(f.call(2, valid["decodedPayload"]), "invalid_exact_evm_nonce_already_used");
        auto stored = [] { return xs::get_session()->get("value"); };
        const std::optional<std::string> value =
            test_support::run(f.sessions.run(xs::VerifiedPayer::assume_verified(payer), stored));
        CHECK(value == std::optional<std::string>("blue"));
    }
}

TEST_CASE("x402 gate: no payment is refused with the payment requirements", "[mcp][x402gate]") {
    GateFixture f(vector_named("v2-valid")["verifyAt"].get<std::uint64_t>());
    check_refused(f.call(1, nullptr), "payment_required");
}

TEST_CASE("x402 gate: invalid payments are refused with the verifier's reason", "[mcp][x402gate]") {
    SECTION("a bad signature") {
        const json bad = vector_named("v2-bad-signature");
        GateFixture f(bad["verifyAt"].get<std::uint64_t>());
        check_refused(f.call(1, bad["decodedPayload"]), "invalid_exact_evm_signature");
    }
    SECTION("an expired authorization") {
        const json valid = vector_named("v2-valid");
        GateFixture f(valid["verifyAt"].get<std::uint64_t>() + 3600);
        check_refused(f.call(1, valid["decodedPayload"]), "invalid_exact_evm_payload_authorization_valid_before");
    }
    SECTION("a payment that is not an object") {
        GateFixture f(vector_named("v2-valid")["verifyAt"].get<std::uint64_t>());
        const json result = f.call(1, "not a payment");
        CHECK(result["isError"] == true);
        CHECK(result["structuredContent"]["error"].get<std::string>().rfind("invalid_", 0) == 0);
    }
}

// Plain HTTP routes behind the real x402 gate (make_x402_gate, the same as for tools), the
// payment in the X-PAYMENT / PAYMENT-SIGNATURE header, over a real socket.
namespace {

/// A vector's PaymentRequired without `error`: a route price.
json price_of(const std::string& id) {
    json price = vector_named(id)["paymentRequired"];
    price.erase("error");
    return price;
}

/// Answers the payer it sees before and after a suspension, and its session's.
mcp::awaitable<mcp::HttpResponse> who_pays(mcp::HttpRequest request) {
    const json before = payer_json();
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    auto session = xs::get_session();
    co_return mcp::json_response({{"payerBefore", before},
                                            {"payerAfter", payer_json()},
                                            {"sessionPayer", session ? json(session->payer()) : json(nullptr)},
                                            {"rest", request.rest}});
}

struct HttpGateServer {
    explicit HttpGateServer(std::uint64_t now) : server(io, make_options()) {
        server.set_http_payment_gate(mcp::make_x402_gate(local_hook(sessions, now)));
        add_route("/v2/*", price_of("v2-valid"));
        add_route("/v1", price_of("v1-valid-legacy-client"));
        add_route("/free", std::nullopt);
        add_route("/checked/*", price_of("v2-valid"));
        agent_server::add_content_routes(server.http_routes(), agent_server::Pricing{});
        endpoint = server.start();
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~HttpGateServer() {
        server.stop();
        for (auto& thread : threads) thread.join();
    }
    static mcp::ServerOptions make_options() {
        mcp::ServerOptions options;
        options.port = 0;
        return options;
    }
    void add_route(std::string path, std::optional<json> price) {
        mcp::HttpRoute route;
        route.method = "GET";
        route.path = std::move(path);
        route.price = std::move(price);
        route.handler = who_pays;
        if (route.path == "/checked/*")
            // A rule of the route's own (bytes that are not UTF-8 never reach
            // it: the HTTP server refuses them first).
            route.check = [](const mcp::HttpRequest& request) -> std::optional<mcp::HttpResponse> {
                if (request.rest.front() != '-') return std::nullopt;
                return mcp::json_response(json{{"error", "bad key"}}, 400);
            };
        server.http_routes().add(std::move(route));
    }

    xs::SessionPlugin sessions;
    boost::asio::io_context io;
    mcp::Server server;
    boost::asio::ip::tcp::endpoint endpoint;
    std::vector<std::thread> threads;
};

std::string header_value(const HttpClient::Response& response, const std::string& name) {
    const auto found = response.find(name);
    return found == response.end() ? std::string() : std::string(found->value().data(), found->value().size());
}

void check_http_refused(const HttpClient::Response& response, const std::string& reason, const json& price) {
    CHECK(response.result_int() == 402);
    REQUIRE(response.count("PAYMENT-REQUIRED") == 1);
    const auto required = x402::payment::decode_payment_required_header(header_value(response, "PAYMENT-REQUIRED"));
    REQUIRE(required);
    const json from_header = x402::payment::to_json(*required);
    CHECK(from_header["x402Version"] == 2);
    CHECK(from_header["error"] == reason);
    CHECK(from_header["accepts"] == price["accepts"]);
    CHECK(from_header["resource"] == price["resource"]);
    CHECK(header_value(response, "Content-Type") == "application/json");
    CHECK(json::parse(response.body()) == from_header);
}

}  // namespace

TEST_CASE("x402 http gate: no payment is 402 with PAYMENT-REQUIRED and a JSON body", "[mcp][x402gate][http]") {
    HttpGateServer running(vector_named("v2-valid")["verifyAt"].get<std::uint64_t>());
    HttpClient client(running.endpoint);
    check_http_refused(client.send(http::verb::get, "/v2/color", ""), "payment_required", price_of("v2-valid"));
}

TEST_CASE("x402 http gate: PAYMENT-SIGNATURE runs the route as its signer once", "[mcp][x402gate][http]") {
    const json valid = vector_named("v2-valid");
    HttpGateServer running(valid["verifyAt"].get<std::uint64_t>());
    HttpClient client(running.endpoint);
    const std::string payer = valid["expected"]["payer"].get<std::string>();
    const std::map<std::string, std::string> headers = {{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}};

    const auto paid = client.send(http::verb::get, "/v2/color?x=1", "", headers);
    REQUIRE(paid.result_int() == 200);
    const json seen = json::parse(paid.body());
    const std::string session_payer = seen["sessionPayer"].get<std::string>();
    CHECK(xs::detail::normalise_payer(session_payer) == xs::detail::normalise_payer(payer));
    CHECK(seen["payerBefore"] == session_payer);
    CHECK(seen["payerAfter"] == session_payer);
    CHECK(seen["rest"] == "color");
    CHECK(paid.count("X-PAYMENT-RESPONSE") == 0);
    const auto receipt = x402::payment::decode_payment_response_header(header_value(paid, "PAYMENT-RESPONSE"));
    REQUIRE(receipt);
    CHECK(receipt->success);
    CHECK(receipt->payer == std::optional<std::string>(payer));

    // The same payment again: refused, and the handler does not run.
    check_http_refused(client.send(http::verb::get, "/v2/color", "", headers), "invalid_exact_evm_nonce_already_used",
                       price_of("v2-valid"));
}

TEST_CASE("x402 http gate: X-PAYMENT (v1) runs the route as its signer with X-PAYMENT-RESPONSE", "[mcp][x402gate][http]") {
    const json valid = vector_named("v1-valid-legacy-client");
    HttpGateServer running(valid["verifyAt"].get<std::uint64_t>());
    HttpClient client(running.endpoint);
    const std::map<std::string, std::string> headers = {{"X-PAYMENT", valid["headerValue"].get<std::string>()}};

    const auto paid = client.send(http::verb::get, "/v1", "", headers);
    REQUIRE(paid.result_int() == 200);
    const json seen = json::parse(paid.body());
    CHECK(xs::detail::normalise_payer(seen["sessionPayer"].get<std::string>()) ==
          xs::detail::normalise_payer(valid["expected"]["payer"].get<std::string>()));
    CHECK(seen["payerAfter"] == seen["sessionPayer"]);
    const auto receipt = x402::payment::decode_payment_response_header(header_value(paid, "X-PAYMENT-RESPONSE"));
    REQUIRE(receipt);
    CHECK(receipt->success);

    const auto replayed = client.send(http::verb::get, "/v1", "", headers);
    CHECK(replayed.result_int() == 402);
    CHECK(json::parse(replayed.body())["error"] == "invalid_exact_evm_nonce_already_used");
    CHECK(json::parse(replayed.body())["x402Version"] == 1);
}

TEST_CASE("x402 http gate: a free route runs with no session and ignores payments", "[mcp][x402gate][http]") {
    const json valid = vector_named("v2-valid");
    HttpGateServer running(valid["verifyAt"].get<std::uint64_t>());
    HttpClient client(running.endpoint);
    const auto answered = client.send(http::verb::get, "/free", "",
                                  {{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}});
    REQUIRE(answered.result_int() == 200);
    const json seen = json::parse(answered.body());
    CHECK(seen["payerBefore"] == nullptr);
    CHECK(seen["payerAfter"] == nullptr);
    CHECK(seen["sessionPayer"] == nullptr);
    CHECK(answered.count("PAYMENT-RESPONSE") == 0);
}

TEST_CASE("x402 http gate: a request its route's check refuses never uses up the payment",
          "[mcp][x402gate][http][security]") {
    const json valid = vector_named("v2-valid");
    HttpGateServer running(valid["verifyAt"].get<std::uint64_t>());
    HttpClient client(running.endpoint);
    const std::map<std::string, std::string> paid{{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}};
    const auto refused = client.send(http::verb::get, "/checked/-color", "", paid);
    CHECK(refused.result_int() == 400);
    CHECK(json::parse(refused.body())["error"] == "bad key");
    CHECK(refused.count("PAYMENT-RESPONSE") == 0);
    const auto not_utf8 = client.send(http::verb::get, "/checked/\xff\xfe", "", paid);
    CHECK(not_utf8.result_int() == 400);
    CHECK(json::parse(not_utf8.body())["error"] == "invalid_utf8");
    CHECK(not_utf8.count("PAYMENT-RESPONSE") == 0);
    const auto served = client.send(http::verb::get, "/checked/color", "", paid);
    CHECK(served.result_int() == 200);
    CHECK(served.count("PAYMENT-RESPONSE") == 1);
}

TEST_CASE("x402 http gate: a payment made for another resource does not buy GET /content/<key>",
          "[mcp][x402gate][http][security]") {
    const json valid = vector_named("v2-valid");
    const std::string payer = valid["expected"]["payer"].get<std::string>();
    HttpGateServer running(valid["verifyAt"].get<std::uint64_t>());
    // The vector pays the agent server's default get-content price, but was
    // made for the resource https://agent.example.com/mcp/tools/remember.
    HttpClient client(running.endpoint);
    const auto refused = client.send(http::verb::get, "/content/color", "");
    CHECK(refused.result_int() == 402);
    CHECK(json::parse(refused.body())["accepts"][0]["amount"] == "1000");

    auto store = [] { return xs::get_session()->set("color", "blue"); };
    test_support::run(running.sessions.run(xs::VerifiedPayer::assume_verified(payer), store));
    const auto paid = client.send(http::verb::get, "/content/color", "",
                                  {{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}});
    REQUIRE(paid.result_int() == 402);
    CHECK(json::parse(paid.body())["error"] == "resource_mismatch");
    CHECK(paid.count("PAYMENT-RESPONSE") == 0);
    // Not consumed: it still buys what it was made for.
    const auto elsewhere = client.send(http::verb::get, "/v2/color", "",
                                       {{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}});
    CHECK(elsewhere.result_int() == 200);
}
#endif
