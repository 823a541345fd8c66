// The Streamable HTTP server in-process: a real socket on 127.0.0.1, the
// server on two io threads, blocking Beast clients on the test thread.
#include <x402/mcp/server.hpp>

#include "harness.hpp"
#include "http_client.hpp"  // tests/http_client.hpp

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <thread>
#include <vector>

using namespace mcp_test;
using test_support::HttpClient;
namespace http = boost::beast::http;

namespace {

struct RunningServer {
    explicit RunningServer(mcp::ServerOptions options = make_options(),
                           const std::function<void(mcp::Server&)>& setup = {})
        : server(io, std::move(options)) {
        add_test_tools(server.tools());
        server.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(sessions));
        if (setup) setup(server);
        endpoint = server.start();
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~RunningServer() {
        server.stop();
        for (auto& thread : threads) thread.join();
    }

    static mcp::ServerOptions make_options() {
        mcp::ServerOptions options;
        options.port = 0;
        options.allowed_origins = {"http://localhost:6274"};
        return options;
    }

    HttpClient client() const { return HttpClient(endpoint); }

    xs::SessionPlugin sessions;
    boost::asio::io_context io;
    mcp::Server server;
    boost::asio::ip::tcp::endpoint endpoint;
    std::vector<std::thread> threads;
};

json body_of(const HttpClient::Response& response) { return json::parse(response.body()); }

std::string initialize(HttpClient& client, const std::string& version = "2025-11-25") {
    const auto response = client.post(initialize_request(version).dump());
    REQUIRE(response.result_int() == 200);
    REQUIRE(response.count("Mcp-Session-Id") == 1);
    const std::string session(response["Mcp-Session-Id"]);
    const auto initialized = client.post(notification("notifications/initialized").dump(), session);
    REQUIRE(initialized.result_int() == 202);
    return session;
}

json call(HttpClient& client, const std::string& session, const std::string& tool, json arguments,
          json payment = nullptr) {
    const auto response = client.post(call_request(1, tool, std::move(arguments), std::move(payment)).dump(), session);
    REQUIRE(response.result_int() == 200);
    return body_of(response)["result"];
}

}  // namespace

TEST_CASE("http: initialize tools/list and tools/call on one keep-alive connection", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();

    const auto init = client.post(initialize_request("2025-11-25").dump());
    CHECK(init.result_int() == 200);
    CHECK(init[http::field::content_type] == "application/json");
    CHECK(init.keep_alive());
    const json init_body = body_of(init);
    CHECK(init_body["result"]["protocolVersion"] == "2025-11-25");
    const std::string session(init["Mcp-Session-Id"]);
    CHECK(session.size() == 32);

    const auto initialized = client.post(notification("notifications/initialized").dump(), session);
    CHECK(initialized.result_int() == 202);
    CHECK(initialized.body().empty());

    const auto list = client.post(request(2, "tools/list").dump(), session,
                                  {{"MCP-Protocol-Version", "2025-11-25"}});
    CHECK(list.result_int() == 200);
    const json tools = body_of(list)["result"]["tools"];
    REQUIRE(tools.size() == 3);
    CHECK(tools[0]["name"] == "echo");
    CHECK(tools[2]["name"] == "remember");

    const json echoed = call(client, session, "echo", {{"text", "hello"}});
    CHECK(echoed["structuredContent"]["text"] == "hello");
    CHECK(echoed["content"][0]["type"] == "text");

    const json paid = call(client, session, "remember", {{"value", "blue"}}, pay_as(alice));
    CHECK(paid["structuredContent"]["success"] == true);
    CHECK(paid["_meta"]["x402/payment-response"]["success"] == true);
}

TEST_CASE("http: a paid handler sees exactly its payer and two payers are isolated", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string session = initialize(client);

    const json unpaid = call(client, session, "remember", {{"value", "x"}});
    CHECK(unpaid["isError"] == true);
    CHECK(unpaid["structuredContent"]["error"] == "payment_required");
    CHECK(unpaid["structuredContent"]["accepts"][0]["amount"] == "1000");

    const json alice_put = call(client, session, "remember", {{"value", "alice-secret"}}, pay_as(alice));
    CHECK(alice_put["structuredContent"]["payerBefore"] == alice);
    CHECK(alice_put["structuredContent"]["payerMiddle"] == alice);
    CHECK(alice_put["structuredContent"]["payerAfter"] == alice);
    CHECK(alice_put["structuredContent"]["previous"] == nullptr);

    // Bob, on his own connection and MCP session, sees nothing of Alice's.
    HttpClient bob_client = running.client();
    const std::string bob_session = initialize(bob_client);
    const json bob_get = call(bob_client, bob_session, "remember", json::object(), pay_as(bob));
    CHECK(bob_get["structuredContent"]["payerAfter"] == bob);
    CHECK(bob_get["structuredContent"]["previous"] == nullptr);

    // The MCP session does not carry the payer: the payment does.
    const json bob_on_alice_session = call(client, session, "remember", json::object(), pay_as(bob));
    CHECK(bob_on_alice_session["structuredContent"]["previous"] == nullptr);
    const json alice_from_bob_connection = call(bob_client, bob_session, "remember", json::object(), pay_as(alice));
    CHECK(alice_from_bob_connection["structuredContent"]["previous"] == "alice-secret");
}

TEST_CASE("http: a free tool gets no session", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string session = initialize(client);
    const json echoed = call(client, session, "echo", {{"text", "t"}}, pay_as(alice));
    CHECK(echoed["structuredContent"]["payerBefore"] == nullptr);
    CHECK(echoed["structuredContent"]["payerAfter"] == nullptr);
    CHECK_FALSE(echoed.contains("_meta"));
}

TEST_CASE("http: an oversize body is answered with 413", "[mcp][http]") {
    mcp::ServerOptions options = RunningServer::make_options();
    options.max_body_bytes = 4096;
    RunningServer running(options);
    HttpClient client = running.client();
    const std::string session = initialize(client);

    SECTION("declared by Content-Length") {
        const std::string big = call_request(1, "echo", {{"text", std::string(8192, 'x')}}).dump();
        const auto response = client.post(big, session);
        CHECK(response.result_int() == 413);
        CHECK(body_of(response)["error"]["code"] == -32000);
        CHECK_FALSE(response.keep_alive());
        CHECK(client.closed_by_server());
    }
    SECTION("chunked") {
        const std::string chunk(3000, ' ');
        std::string raw =
            "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 3; ++i) raw += "bb8\r\n" + chunk + "\r\n";
        raw += "0\r\n\r\n";
        client.write_raw(raw);
        CHECK(client.read().result_int() == 413);
    }
    SECTION("just under the limit is served") {
        const std::string fits = call_request(1, "echo", {{"text", std::string(3000, 'y')}}).dump();
        CHECK(client.post(fits, session).result_int() == 200);
    }
}

TEST_CASE("http: GET needs text/event-stream and a session, PUT is 405, other paths are 404", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    CHECK(client.send(http::verb::get, "/mcp", {}, {{"Accept", "text/event-stream"}}).result_int() == 400);
    CHECK(client.send(http::verb::get, "/mcp", {}, {{"Accept", "application/json"}}).result_int() == 406);
    CHECK(client.send(http::verb::get, "/mcp", {}, {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", "nope"}})
              .result_int() == 404);
    const auto put = client.send(http::verb::put, "/mcp", {});
    CHECK(put.result_int() == 405);
    CHECK(put[http::field::allow] == "GET, POST, DELETE");
    CHECK(client.send(http::verb::post, "/other", "{}").result_int() == 404);
    CHECK(client.send(http::verb::get, "/", {}).result_int() == 404);
    // Query strings do not change the endpoint.
    const auto init = client.send(http::verb::post, "/mcp?x=1", initialize_request("2025-06-18").dump(),
                                  {{"Content-Type", "application/json"}});
    CHECK(init.result_int() == 200);
}

TEST_CASE("http: notifications are 202 with an empty body", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string session = initialize(client, "2025-03-26");
    const auto single = client.post(notification("notifications/cancelled").dump(), session);
    CHECK(single.result_int() == 202);
    CHECK(single.body().empty());
    const auto batch = client.post(json::array({notification("a/b"), notification("c/d")}).dump(), session);
    CHECK(batch.result_int() == 202);
    const auto mixed = client.post(json::array({notification("a/b"), request(7, "ping")}).dump(), session);
    CHECK(mixed.result_int() == 200);
    CHECK(body_of(mixed) == json::array({{{"jsonrpc", "2.0"}, {"id", 7}, {"result", json::object()}}}));
}

TEST_CASE("http: wrong content type is 415 and a foreign Origin is 403", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string body = initialize_request("2025-11-25").dump();
    CHECK(client.send(http::verb::post, "/mcp", body, {{"Content-Type", "text/plain"}}).result_int() == 415);
    CHECK(client.send(http::verb::post, "/mcp", body, {}).result_int() == 415);
    CHECK(client.post(body, std::nullopt, {{"Content-Type", "application/json; charset=utf-8"}}).result_int() == 200);
    CHECK(client.post(body, std::nullopt, {{"Accept", "text/html"}}).result_int() == 406);
    CHECK(client.post(body, std::nullopt, {{"Origin", "http://evil.example"}}).result_int() == 403);
    CHECK(client.post(body, std::nullopt, {{"Origin", "http://localhost:6274"}}).result_int() == 200);
}

TEST_CASE("http: malformed JSON is a 400 parse error", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const auto response = client.post("{\"jsonrpc\":");
    CHECK(response.result_int() == 400);
    CHECK(body_of(response) == json{{"jsonrpc", "2.0"},
                                    {"id", nullptr},
                                    {"error", {{"code", -32700}, {"message", "Parse error: Invalid JSON"}}}});
    // The connection stays usable.
    CHECK(client.post(initialize_request("2025-11-25").dump()).result_int() == 200);
}

TEST_CASE("http: a malformed HTTP request is 400 and closes the connection", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    client.write_raw("NOT HTTP AT ALL\r\n\r\n");
    CHECK(client.read().result_int() == 400);
    CHECK(client.closed_by_server());
}

TEST_CASE("http: DELETE ends the session", "[mcp][http]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string session = initialize(client);
    CHECK(client.send(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}}).result_int() == 200);
    CHECK(client.post(request(1, "ping").dump(), session).result_int() == 404);
    CHECK(client.send(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}}).result_int() == 404);
    CHECK(client.post(request(1, "ping").dump()).result_int() == 400);
}

TEST_CASE("http: concurrent clients keep their payers apart", "[mcp][http]") {
    RunningServer running;
    constexpr int clients = 6;
    constexpr int calls = 15;
    std::atomic<int> wrong{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            try {
                HttpClient client = running.client();
                const auto init = client.post(initialize_request("2025-11-25").dump());
                const std::string session(init["Mcp-Session-Id"]);
                char suffix[8];
                std::snprintf(suffix, sizeof suffix, "%02d", c);
                const std::string payer = "0x" + std::string(38, 'c') + suffix;
                for (int i = 0; i < calls; ++i) {
                    const std::string value = "v" + std::to_string(i);
                    const auto response =
                        client.post(call_request(i, "remember", {{"value", value}}, pay_as(payer)).dump(), session);
                    const json result = json::parse(response.body())["result"]["structuredContent"];
                    const json expected_previous = i == 0 ? json(nullptr) : json("v" + std::to_string(i - 1));
                    if (result["payerBefore"] != payer || result["payerMiddle"] != payer ||
                        result["payerAfter"] != payer || result["previous"] != expected_previous)
                        ++wrong;
                }
            } catch (...) {
                ++failed;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failed == 0);
    CHECK(wrong == 0);
}

namespace {

/// A plain route: echoes what it was sent and the payer it sees.
mcp::awaitable<mcp::HttpResponse> echo_route(mcp::HttpRequest request) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    mcp::HttpResponse response = mcp::json_response({{"method", request.method},
                                                               {"path", request.path},
                                                               {"rest", request.rest},
                                                               {"body", request.body},
                                                               {"header", request.header("x-test").value_or("")},
                                                               {"payer", payer_json()},
                                                               {"session", xs::get_session().has_value()}});
    response.headers.emplace_back("X-Route", "echo");
    co_return response;
}

mcp::awaitable<mcp::HttpResponse> throwing_route(mcp::HttpRequest) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    throw std::runtime_error("kaput");
}

mcp::HttpRoute make_route(std::string method, std::string path, mcp::HttpHandler handler = echo_route,
                          std::optional<json> price = std::nullopt) {
    mcp::HttpRoute route;
    route.method = std::move(method);
    route.path = std::move(path);
    route.handler = std::move(handler);
    route.price = std::move(price);
    return route;
}

void add_plain_routes(mcp::Server& server) {
    server.http_routes().add(make_route("GET", "/health"));
    server.http_routes().add(make_route("POST", "/items/*"));
    server.http_routes().add(make_route("GET", "/boom", throwing_route));
    server.http_routes().add(make_route("GET", "/paid", echo_route, test_price()));  // no HTTP gate set
}

}  // namespace

TEST_CASE("http routes: a route colliding with the MCP path is rejected", "[mcp][http][routes]") {
    xs::SessionPlugin sessions;
    boost::asio::io_context io;
    mcp::Server server(io, RunningServer::make_options());
    CHECK_THROWS_AS(server.http_routes().add(make_route("GET", "/mcp")), std::invalid_argument);
    CHECK_THROWS_AS(server.http_routes().add(make_route("POST", "/mc*")), std::invalid_argument);
    CHECK_THROWS_AS(server.http_routes().add(make_route("GET", "/*")), std::invalid_argument);
    CHECK_THROWS_AS(server.http_routes().add(make_route("GET", "relative")), std::invalid_argument);
    CHECK_THROWS_AS(server.http_routes().add(make_route("GET", "/x", nullptr)), std::invalid_argument);
    server.http_routes().add(make_route("GET", "/mcp/other"));
    CHECK_THROWS_AS(server.http_routes().add(make_route("GET", "/mcp/other")), std::invalid_argument);
}

TEST_CASE("http routes: free routes run with no session next to the MCP endpoint", "[mcp][http][routes]") {
    RunningServer running(RunningServer::make_options(), add_plain_routes);
    HttpClient client = running.client();

    const auto health = client.send(http::verb::get, "/health?probe=1", "", {{"X-Test", "yes"}});
    REQUIRE(health.result_int() == 200);
    CHECK(health[http::field::content_type] == "application/json");
    CHECK(health["X-Route"] == "echo");
    const json seen = json::parse(health.body());
    CHECK(seen["method"] == "GET");
    CHECK(seen["path"] == "/health");
    CHECK(seen["header"] == "yes");
    CHECK(seen["payer"] == nullptr);
    CHECK(seen["session"] == false);

    const auto posted = client.send(http::verb::post, "/items/a/b", "hello");
    REQUIRE(posted.result_int() == 200);
    CHECK(json::parse(posted.body())["rest"] == "a/b");
    CHECK(json::parse(posted.body())["body"] == "hello");

    // The MCP endpoint still answers on the same connection.
    CHECK(client.post(initialize_request("2025-11-25").dump()).result_int() == 200);

    CHECK(client.send(http::verb::get, "/nowhere", "").result_int() == 404);
    CHECK(client.send(http::verb::get, "/items/", "").result_int() == 404);
    const auto wrong_method = client.send(http::verb::get, "/items/a", "");
    CHECK(wrong_method.result_int() == 405);
    CHECK(wrong_method[http::field::allow] == "POST");
    const auto boom = client.send(http::verb::get, "/boom", "");
    CHECK(boom.result_int() == 500);
    CHECK(json::parse(boom.body())["error"] == "Error: kaput");
    // Priced, but the server has no HTTP payment gate: the handler never runs.
    const auto paid = client.send(http::verb::get, "/paid", "");
    CHECK(paid.result_int() == 500);
    CHECK_FALSE(json::parse(paid.body()).contains("path"));
}

TEST_CASE("payment identifier: a recorded answer comes back byte for byte", "[mcp][payment_identifier]") {
    // An HTTP answer may be any bytes; the record keeps it exactly.
    mcp::HttpResponse response;
    response.status = 201;
    response.content_type = "application/octet-stream";
    for (int byte = 0; byte < 256; ++byte) response.body.push_back(static_cast<char>(byte));
    response.headers = {{"X-One", "1"}, {"X-Two", "two words"}};
    mcp::HttpResponse back;
    mcp::detail::answer_from(mcp::detail::answer_of(response), back);
    CHECK(back.status == 201);
    CHECK(back.content_type == response.content_type);
    CHECK(back.body == response.body);
    CHECK(back.headers == response.headers);

    mcp::ToolResult result = mcp::ToolResult::object({{"ok", true}});
    result.content.push_back("second item");
    result.is_error = true;
    mcp::ToolResult tool_back;
    mcp::detail::answer_from(mcp::detail::answer_of(result), tool_back);
    CHECK(tool_back.to_json() == result.to_json());

    // Through HandlerRan's JSON form, as the hook stores and reads it.
    mcp::HandlerRan ran;
    ran.answer = [&result] { return mcp::detail::answer_of(result); };
    const mcp::HandlerRan stored = mcp::json(ran).get<mcp::HandlerRan>();
    CHECK(stored.answer() == result.to_json());
}

TEST_CASE("payment identifier: a refusal paying again cannot cure keeps its status", "[mcp][payment_identifier]") {
    mcp::detail::GateCall<mcp::HttpResponse> call;
    call.decision = mcp::GateDecision::refuse(mcp::json{{"error", "payment_identifier_conflict"}});
    call.decision.http_status = 409;
    const mcp::HttpResponse rendered = mcp::detail::render_route(std::move(call));
    CHECK(rendered.status == 409);
    CHECK(mcp::json::parse(rendered.body).at("error") == "payment_identifier_conflict");
}

TEST_CASE("http: Host and Origin are checked on every route, the MCP endpoint and plain ones", "[mcp][http][security]") {
    // mcp::ServerOptions::allowed_hosts / allowed_origins reach the HTTP
    // server's single check; the plain routes get it too.
    RunningServer running(RunningServer::make_options(), add_plain_routes);
    HttpClient client = running.client();
    const std::string body = initialize_request("2025-11-25").dump();
    CHECK(client.post(body, std::nullopt, {{"Host", "evil.example.com"}}).result_int() == 421);
    CHECK(client.send(http::verb::get, "/health", "", {{"Host", "evil.example.com"}}).result_int() == 421);
    const auto origin = client.send(http::verb::get, "/health", "", {{"Origin", "http://evil.example"}});
    CHECK(origin.result_int() == 403);
    CHECK(body_of(origin) == json{{"error", "origin_not_allowed"}, {"reason", "requests from that Origin are not allowed"}});
    CHECK(client.send(http::verb::get, "/health", "", {{"Origin", "http://localhost:6274"}}).result_int() == 200);
    const std::string port = std::to_string(running.endpoint.port());
    CHECK(client.post(body, std::nullopt, {{"Host", "localhost:" + port}}).result_int() == 200);
}

TEST_CASE("http: an MCP or payment header that is not UTF-8 is 400 JSON before the endpoint", "[mcp][http][security]") {
    RunningServer running(RunningServer::make_options(), add_plain_routes);
    HttpClient client = running.client();
    const std::string body = initialize_request("2025-11-25").dump();
    for (const char* name : {"Mcp-Session-Id", "MCP-Protocol-Version", "PAYMENT-SIGNATURE", "X-PAYMENT"}) {
        INFO(name);
        const auto refused = client.post(body, std::nullopt, {{name, "bad\xff"}});
        CHECK(refused.result_int() == 400);
        CHECK(body_of(refused)["error"] == "invalid_utf8");
    }
    const auto paid = client.send(http::verb::get, "/paid", "", {{"PAYMENT-SIGNATURE", "\xc3"}});
    CHECK(paid.result_int() == 400);
}

namespace {

/// Reports progress twice (when asked for it), then answers.
mcp::awaitable<mcp::ToolResult> stepwise(json, mcp::RequestContext call) {
    call.progress(1, 2);
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    call.progress(2, 2);
    co_return mcp::ToolResult::text("done");
}

void add_stepwise(mcp::Server& server) {
    mcp::Tool tool;
    tool.name = "stepwise";
    tool.description = "Reports progress";
    tool.handler = stepwise;
    server.tools().add(std::move(tool));
}

/// The JSON-RPC messages of an SSE body.
std::vector<json> sse_messages(const std::string& body) {
    std::vector<json> out;
    std::size_t at = 0;
    for (std::size_t end; (end = body.find("\n\n", at)) != std::string::npos; at = end + 2) {
        const std::string event = body.substr(at, end - at);
        if (event.rfind(":", 0) == 0) continue;
        const std::size_t data = event.find("data: ");
        REQUIRE(data != std::string::npos);
        out.push_back(json::parse(event.substr(data + 6)));
    }
    CHECK(at == body.size());
    return out;
}

}  // namespace

TEST_CASE("http: a call that sends progress is answered as chunked SSE, and the connection stays usable",
          "[mcp][http][streams]") {
    RunningServer running(RunningServer::make_options(), add_stepwise);
    HttpClient client = running.client();
    const std::string session = initialize(client);
    json call = call_request(1, "stepwise", json::object());
    call["params"]["_meta"]["progressToken"] = "p";
    const auto response = client.post(call.dump(), session);
    CHECK(response.result_int() == 200);
    CHECK(response[http::field::content_type] == "text/event-stream");
    CHECK(response[http::field::cache_control] == "no-cache");
    CHECK(response.chunked());
    const std::vector<json> messages = sse_messages(response.body());
    REQUIRE(messages.size() == 3);
    CHECK(messages[0]["params"] == json{{"progressToken", "p"}, {"progress", 1.0}, {"total", 2.0}});
    CHECK(messages[1]["params"]["progress"] == 2.0);
    CHECK(messages[2]["result"]["content"][0]["text"] == "done");

    // Without a progress token nothing goes before the answer: plain JSON.
    const auto plain = client.post(call_request(2, "stepwise", json::object()).dump(), session);
    CHECK(plain[http::field::content_type] == "application/json");
    CHECK(body_of(plain)["result"]["content"][0]["text"] == "done");
    // A client that does not accept text/event-stream gets JSON even with a token.
    call["id"] = 3;
    const auto json_only = client.post(call.dump(), session, {{"Accept", "application/json"}});
    CHECK(json_only[http::field::content_type] == "application/json");
    CHECK(body_of(json_only)["id"] == 3);
}

TEST_CASE("http: the GET stream carries what the server sends the session, one per session, and ends with it",
          "[mcp][http][streams]") {
    RunningServer running;
    HttpClient client = running.client();
    const std::string session = initialize(client);
    std::promise<HttpClient::Response> streamed;
    std::thread reader([&] {
        HttpClient listener = running.client();
        streamed.set_value(listener.send(http::verb::get, "/mcp", {},
                                         {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}}));
    });
    // Once the stream is open, what the server sends the session goes on it.
    const json hello = {{"jsonrpc", "2.0"}, {"method", "notifications/message"}, {"params", {{"level", "info"}, {"data", "hi"}}}};
    bool delivered = false;
    for (int attempt = 0; attempt < 100000 && !delivered; ++attempt) {
        delivered = running.server.endpoint().notify_session(session, hello);
        if (!delivered) std::this_thread::yield();
    }
    REQUIRE(delivered);
    HttpClient other = running.client();
    CHECK(other.send(http::verb::get, "/mcp", {}, {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}})
              .result_int() == 409);
    CHECK(client.send(http::verb::delete_, "/mcp", {}, {{"Mcp-Session-Id", session}}).result_int() == 200);
    const auto response = streamed.get_future().get();
    reader.join();
    CHECK(response.result_int() == 200);
    CHECK(response[http::field::content_type] == "text/event-stream");
    CHECK(sse_messages(response.body()) == std::vector<json>{hello});
}
