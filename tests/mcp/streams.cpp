// What a handler says while it runs (RequestContext): log and progress
// messages, which turn its answer into an SSE stream; requests to the client
// (elicitation, sampling), whose answers come back to the waiting handler on
// its strand and in its payer's context; who may answer them; the bounds;
// and the session's GET stream.
#include <x402/mcp/endpoint.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#if X402_MCP_TEST_GATE
#include <x402/mcp/x402_gate.hpp>
#include <x402/payment/local_verifier.hpp>
#endif

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using namespace mcp_test;

namespace {

/// The store's key for `payer` (EVM addresses lower-cased, as Session stores them).
std::string stored(const std::string& payer) { return xs::detail::normalise_payer(payer); }

/// An io_context running on a thread of its own, so that a test body can
/// post, read a stream and answer while handlers wait.
struct Loop {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] { io.run(); }};

    Loop() = default;
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    ~Loop() {
        guard.reset();
        io.stop();
        thread.join();
    }

    template <class T>
    T run(mcp::awaitable<T> operation) {
        auto done = boost::asio::co_spawn(boost::asio::make_strand(io), std::move(operation), boost::asio::use_future);
        if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
            throw std::runtime_error("Loop::run: the operation did not complete");
        return done.get();
    }
};

/// Reads SSE events off a stream, one JSON-RPC message at a time.
class EventReader {
public:
    EventReader(Loop& loop, std::shared_ptr<x402::http::ResponseStream> stream) : loop_(loop), stream_(std::move(stream)) {}

    /// The next message; nullopt once the stream has ended.
    std::optional<json> next() {
        for (;;) {
            const std::size_t end = buffer_.find("\n\n");
            if (end != std::string::npos) {
                const std::string event = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                if (event.rfind(":", 0) == 0) continue;  // a comment (heartbeat)
                REQUIRE(event.rfind("event: message\ndata: ", 0) == 0);
                return json::parse(event.substr(std::string("event: message\ndata: ").size()));
            }
            std::optional<std::string> chunk = loop_.run(stream_->next());
            if (!chunk) {
                CHECK(buffer_.empty());
                return std::nullopt;
            }
            buffer_ += *chunk;
        }
    }

    /// Every message until the stream ends.
    std::vector<json> rest() {
        std::vector<json> out;
        while (std::optional<json> message = next()) out.push_back(std::move(*message));
        return out;
    }

private:
    Loop& loop_;
    std::shared_ptr<x402::http::ResponseStream> stream_;
    std::string buffer_;
};

/// Free: logs at three levels, reports progress twice, and answers what was sent.
mcp::awaitable<mcp::ToolResult> chatty(json, mcp::RequestContext call) {
    json sent = json::array();
    sent.push_back(call.log(mcp::LogLevel::debug, "debug detail"));
    sent.push_back(call.log(mcp::LogLevel::info, {{"step", "started"}}, "chatty"));
    sent.push_back(call.log(mcp::LogLevel::warning, "careful"));
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    sent.push_back(call.progress(1, 2, "half"));
    sent.push_back(call.progress(2, 2));
    co_return mcp::ToolResult::object({{"sent", std::move(sent)}});
}

/// Free: logs `count` messages of 100 bytes and answers how many were sent.
mcp::awaitable<mcp::ToolResult> flood(json arguments, mcp::RequestContext call) {
    int sent = 0;
    for (int i = 0; i < arguments["count"].get<int>(); ++i) sent += call.log(mcp::LogLevel::info, std::string(100, 'x'));
    co_return mcp::ToolResult::object({{"sent", sent}});
}

/// Paid: asks the user for a value and stores it in the payer's session; its
/// answer says whose context it saw before and after the wait.
mcp::awaitable<mcp::ToolResult> ask(json, mcp::RequestContext call) {
    const json before = payer_json();
    json schema = {{"type", "object"}, {"properties", {{"value", {{"type", "string"}}}}}, {"required", {"value"}}};
    auto op = call.elicit("Which value?", std::move(schema));
    const mcp::ElicitResult answer = co_await std::move(op);
    const json after = payer_json();
    auto session = xs::get_session();
    if (answer.action == "accept") co_await session->set("value", answer.content["value"].get<std::string>());
    co_return mcp::ToolResult::object({{"action", answer.action},
                                       {"content", answer.content},
                                       {"payerBefore", before},
                                       {"payerAfter", after},
                                       {"sessionPayer", session ? json(session->payer()) : json(nullptr)}});
}

void add_streaming_tools(mcp::ToolRegistry& tools, std::optional<json> ask_price = test_price()) {
    mcp::Tool chatty_tool;
    chatty_tool.name = "chatty";
    chatty_tool.description = "Logs and reports progress";
    chatty_tool.handler = chatty;
    tools.add(std::move(chatty_tool));

    mcp::Tool flood_tool;
    flood_tool.name = "flood";
    flood_tool.description = "Logs many messages";
    flood_tool.input_schema = {{"type", "object"}, {"properties", {{"count", {{"type", "integer"}}}}}, {"required", {"count"}}};
    flood_tool.handler = flood;
    tools.add(std::move(flood_tool));

    mcp::Tool ask_tool;
    ask_tool.name = "ask";
    ask_tool.description = "Asks the user for a value and remembers it";
    ask_tool.price = std::move(ask_price);
    ask_tool.handler = ask;
    tools.add(std::move(ask_tool));
}

json capabilities_all() { return {{"elicitation", json::object()}, {"sampling", json::object()}}; }

json initialize_with(json capabilities) {
    return request(0, "initialize",
                   {{"protocolVersion", "2025-11-25"},
                    {"capabilities", std::move(capabilities)},
                    {"clientInfo", {{"name", "catch2"}, {"version", "1"}}}});
}

struct StreamFixture {
    explicit StreamFixture(mcp::EndpointOptions options = {}) : endpoint(std::move(options)) {
        add_streaming_tools(endpoint.tools());
        endpoint.set_payment_gate(mcp::testing::TrustingPaymentGateDouble(sessions));
    }

    std::string open(json capabilities = capabilities_all()) {
        const mcp::Reply reply = send(initialize_with(std::move(capabilities)), std::nullopt);
        REQUIRE(reply.session_id);
        REQUIRE(send(notification("notifications/initialized"), *reply.session_id).status == 202);
        return *reply.session_id;
    }

    /// Posts `message` as a client that accepts text/event-stream (or not).
    mcp::Reply send(const json& message, std::optional<std::string> session, bool event_stream = true) {
        return loop.run(endpoint.post(message.dump(), std::move(session), std::nullopt, event_stream));
    }

    static json answer_to(const json& request, json result) {
        return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", std::move(result)}};
    }

    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
    Loop loop;  // last: stopped before the endpoint goes
};

json with_progress(json call, json token) {
    call["params"]["_meta"]["progressToken"] = std::move(token);
    return call;
}

}  // namespace

TEST_CASE("streams: a handler's messages make its answer an SSE stream, the answer last", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const mcp::Reply reply = f.send(with_progress(call_request(1, "chatty", json::object()), "tok-1"), session);
    REQUIRE(reply.stream);
    CHECK(reply.status == 200);
    CHECK(reply.body.empty());
    const std::vector<json> messages = EventReader(f.loop, reply.stream).rest();
    REQUIRE(messages.size() == 5);
    // Below the default level (info) nothing is sent.
    CHECK(messages[0] == json{{"jsonrpc", "2.0"},
                              {"method", "notifications/message"},
                              {"params", {{"level", "info"}, {"data", {{"step", "started"}}}, {"logger", "chatty"}}}});
    CHECK(messages[1]["params"] == json{{"level", "warning"}, {"data", "careful"}});
    CHECK(messages[2] == json{{"jsonrpc", "2.0"},
                              {"method", "notifications/progress"},
                              {"params", {{"progressToken", "tok-1"}, {"progress", 1.0}, {"total", 2.0}, {"message", "half"}}}});
    CHECK(messages[3]["params"] == json{{"progressToken", "tok-1"}, {"progress", 2.0}, {"total", 2.0}});
    CHECK(messages[4]["id"] == 1);
    CHECK(messages[4]["result"]["structuredContent"]["sent"] == json{false, true, true, true, true});
}

TEST_CASE("streams: a client that takes no event stream gets JSON, and the messages are not sent", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const mcp::Reply reply = f.send(with_progress(call_request(1, "chatty", json::object()), 7), session, false);
    CHECK_FALSE(reply.stream);
    const json body = json::parse(reply.body);
    CHECK(body["result"]["structuredContent"]["sent"] == json{false, false, false, false, false});
}

TEST_CASE("streams: logging/setLevel sets the least severe level sent, and refuses unknown levels", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    CHECK(json::parse(f.send(request(1, "logging/setLevel", {{"level", "debug"}}), session).body)["result"] == json::object());
    {
        const mcp::Reply reply = f.send(call_request(2, "chatty", json::object()), session);
        REQUIRE(reply.stream);
        const std::vector<json> messages = EventReader(f.loop, reply.stream).rest();
        REQUIRE(messages.size() == 4);  // three logs (no progress token), then the answer
        CHECK(messages[0]["params"]["level"] == "debug");
    }
    // At "error" nothing is sent before the answer: it stays JSON.
    CHECK(json::parse(f.send(request(3, "logging/setLevel", {{"level", "error"}}), session).body)["result"] == json::object());
    const mcp::Reply quiet = f.send(call_request(4, "chatty", json::object()), session);
    REQUIRE_FALSE(quiet.stream);
    CHECK(json::parse(quiet.body)["result"]["structuredContent"]["sent"] == json{false, false, false, false, false});

    for (const json& params : {json{{"level", "loud"}}, json{{"level", 3}}, json::object()}) {
        INFO(params.dump());
        const json refused = json::parse(f.send(request(5, "logging/setLevel", params), session).body);
        CHECK(refused["error"]["code"] == -32602);
    }
    // The refused calls left the level at "error".
    CHECK_FALSE(f.send(call_request(6, "chatty", json::object()), session).stream);
}

TEST_CASE("streams: an elicitation's answer resumes the handler in its payer's context", "[mcp][streams][security]") {
    StreamFixture f;
    const std::string alice_session = f.open();
    const std::string bob_session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), alice_session);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    const json asked = *events.next();
    CHECK(asked["method"] == "elicitation/create");
    CHECK(asked["params"]["message"] == "Which value?");
    REQUIRE(asked["id"].is_string());

    // Answers that are not this session's, not an id we issued, or not the
    // id's type, are taken (202) and dropped.
    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "bob's"}}}}), bob_session)
              .status == 202);
    json wrong_id = StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "forged"}}}});
    wrong_id["id"] = asked["id"].get<std::string>() + "0";
    CHECK(f.send(wrong_id, alice_session).status == 202);
    json number_id = wrong_id;
    number_id["id"] = 1;
    CHECK(f.send(number_id, alice_session).status == 202);

    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "alice's"}}}}), alice_session)
              .status == 202);
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    const json seen = rest[0]["result"]["structuredContent"];
    CHECK(seen["action"] == "accept");
    CHECK(seen["content"] == json{{"value", "alice's"}});
    CHECK(seen["payerBefore"] == alice);
    CHECK(seen["payerAfter"] == alice);
    CHECK(seen["sessionPayer"] == alice);
    CHECK(rest[0]["result"]["_meta"].contains("x402/payment-response"));
    CHECK(test_support::run(f.sessions.store().get(stored(alice), "value")) == "alice's");
    CHECK_FALSE(test_support::run(f.sessions.store().get(stored(bob), "value")));

    // A second answer to the same id finds nobody waiting.
    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "again"}}}}), alice_session)
              .status == 202);
    CHECK(test_support::run(f.sessions.store().get(stored(alice), "value")) == "alice's");
}

TEST_CASE("streams: a client's error answer fails the request, and nothing is stored", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    const json asked = *events.next();
    const json refusal = {{"jsonrpc", "2.0"}, {"id", asked["id"]}, {"error", {{"code", -1}, {"message", "User rejected"}}}};
    CHECK(f.send(refusal, session).status == 202);
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0]["result"]["isError"] == true);
    CHECK(rest[0]["result"]["content"][0]["text"] == "Error: the client answered error -1: User rejected");
    CHECK_FALSE(test_support::run(f.sessions.store().get(stored(alice), "value")));
}

TEST_CASE("streams: a client is asked only what it can answer", "[mcp][streams]") {
    StreamFixture f;
    SECTION("no elicitation capability") {
        const std::string session = f.open(json::object());
        const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
        REQUIRE_FALSE(reply.stream);
        const json result = json::parse(reply.body)["result"];
        CHECK(result["isError"] == true);
        CHECK(result["content"][0]["text"] == "Error: the client did not declare the elicitation capability");
    }
    SECTION("no event stream") {
        const std::string session = f.open();
        const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session, false);
        REQUIRE_FALSE(reply.stream);
        const std::string text = json::parse(reply.body)["result"]["content"][0]["text"];
        CHECK(text.find("takes no event stream") != std::string::npos);
    }
    CHECK_FALSE(test_support::run(f.sessions.store().get(stored(alice), "value")));
}

TEST_CASE("streams: the session ending fails the request its handler waits on", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    CHECK((*events.next())["method"] == "elicitation/create");
    CHECK(f.endpoint.terminate(session).status == 200);
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0]["result"]["content"][0]["text"] == "Error: no answer to elicitation/create: the MCP session ended");
}

TEST_CASE("streams: a client that does not answer in time is told the server gave up", "[mcp][streams]") {
    mcp::EndpointOptions options;
    options.client_request_timeout = std::chrono::milliseconds(1);
    StreamFixture f(options);
    const std::string session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
    REQUIRE(reply.stream);
    const std::vector<json> messages = EventReader(f.loop, reply.stream).rest();
    REQUIRE(messages.size() == 3);
    CHECK(messages[0]["method"] == "elicitation/create");
    CHECK(messages[1]["method"] == "notifications/cancelled");
    CHECK(messages[1]["params"]["requestId"] == messages[0]["id"]);
    CHECK(messages[2]["result"]["content"][0]["text"] == "Error: the client did not answer elicitation/create within 1 ms");
    // Too late: nobody waits for it any more.
    CHECK(f.send(StreamFixture::answer_to(messages[0], {{"action", "accept"}, {"content", {{"value", "late"}}}}), session)
              .status == 202);
    CHECK_FALSE(test_support::run(f.sessions.store().get(stored(alice), "value")));
}

TEST_CASE("streams: a session waits on at most max_pending_client_requests answers", "[mcp][streams][security]") {
    mcp::EndpointOptions options;
    options.max_pending_client_requests = 1;
    StreamFixture f(options);
    const std::string session = f.open();
    const mcp::Reply first = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
    REQUIRE(first.stream);
    EventReader events(f.loop, first.stream);
    const json asked = *events.next();
    const mcp::Reply second = f.send(call_request(2, "ask", json::object(), pay_as(alice)), session);
    REQUIRE_FALSE(second.stream);
    CHECK(json::parse(second.body)["result"]["content"][0]["text"] ==
          "Error: cannot ask elicitation/create: the MCP session has ended, the server is draining, or "
          "max_pending_client_requests answers are awaited");
    // Once answered, the slot is free again.
    f.send(StreamFixture::answer_to(asked, {{"action", "decline"}}), session);
    CHECK(events.rest().size() == 1);
    const mcp::Reply third = f.send(call_request(3, "ask", json::object(), pay_as(alice)), session);
    CHECK(third.stream);
    f.endpoint.terminate(session);
    EventReader(f.loop, third.stream).rest();
}

TEST_CASE("streams: a client that reads slowly loses messages, never the answer", "[mcp][streams][security]") {
    mcp::EndpointOptions options;
    options.max_stream_buffer_bytes = 2000;
    StreamFixture f(options);
    const std::string session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "flood", {{"count", 200}}), session);
    REQUIRE(reply.stream);
    // Nothing is read until the handler is done: only what fits is queued.
    const std::vector<json> messages = EventReader(f.loop, reply.stream).rest();
    REQUIRE(messages.size() >= 2);
    const int sent = messages.back()["result"]["structuredContent"]["sent"].get<int>();
    CHECK(sent > 0);
    CHECK(sent < 200);
    CHECK(messages.size() == static_cast<std::size_t>(sent) + 1);
}

TEST_CASE("streams: one GET stream per session carries what the server sends outside requests", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const json update = {{"jsonrpc", "2.0"}, {"method", "notifications/resources/updated"}, {"params", {{"uri", "test://a"}}}};
    CHECK_FALSE(f.endpoint.notify_session(session, update));  // none open yet

    const mcp::Reply opened = f.endpoint.open_stream(session, std::nullopt);
    REQUIRE(opened.stream);
    CHECK(f.endpoint.open_stream(session, std::nullopt).status == 409);
    CHECK(f.endpoint.open_stream(std::nullopt, std::nullopt).status == 400);
    CHECK(f.endpoint.open_stream("no-such-session", std::nullopt).status == 404);
    CHECK(f.endpoint.open_stream(session, "1999-01-01").status == 400);
    CHECK_FALSE(f.endpoint.notify_session("no-such-session", update));

    CHECK(f.endpoint.notify_session(session, update));
    EventReader events(f.loop, opened.stream);
    CHECK(*events.next() == update);
    // Its client went away: a new stream may be opened.
    opened.stream->abandon();
    CHECK_FALSE(events.next());
    const mcp::Reply again = f.endpoint.open_stream(session, std::nullopt);
    REQUIRE(again.stream);
    // The session ends: so does its stream.
    f.endpoint.terminate(session);
    CHECK_FALSE(EventReader(f.loop, again.stream).next());
}

#if X402_MCP_TEST_GATE
TEST_CASE("streams: with the real x402 gate, only the paying session's answer resumes the paid handler",
          "[mcp][streams][x402gate][security]") {
    const json valid = vector_named("v2-valid");
    const std::uint64_t now = valid["verifyAt"].get<std::uint64_t>();
    const std::string payer = valid["expected"]["payer"].get<std::string>();

    StreamFixture f;
    const auto hook = local_hook(f.sessions, now);
    f.endpoint.set_payment_gate(mcp::make_x402_gate(hook));

    const std::string payer_session = f.open();
    const std::string attacker_session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), valid["decodedPayload"]), payer_session);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    const json asked = *events.next();
    REQUIRE(asked["method"] == "elicitation/create");
    // The attacker knows (or guesses) the id: its answer on its own session is dropped.
    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "attacker"}}}}),
                 attacker_session)
              .status == 202);
    // The same payment again, while the first call waits: refused, its handler never runs.
    const mcp::Reply replay = f.send(call_request(2, "ask", json::object(), valid["decodedPayload"]), attacker_session);
    REQUIRE_FALSE(replay.stream);
    CHECK(json::parse(replay.body)["result"]["isError"] == true);

    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "mine"}}}}), payer_session)
              .status == 202);
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    const json seen = rest[0]["result"]["structuredContent"];
    CHECK(seen["content"] == json{{"value", "mine"}});
    CHECK(seen["payerAfter"] == seen["payerBefore"]);
    CHECK(seen["sessionPayer"] == seen["payerBefore"]);
    CHECK(rest[0]["result"]["_meta"].contains("x402/payment-response"));
    const std::string session_payer = seen["sessionPayer"].get<std::string>();
    CHECK(session_payer == payer);
    CHECK(test_support::run(f.sessions.store().get(stored(session_payer), "value")) == "mine");
    CHECK(hook->metrics().served.load() == 1);
}
#endif

namespace {

mcp::awaitable<std::vector<mcp::ResourceContents>> watched_text(std::string uri) {
    co_return std::vector<mcp::ResourceContents>{mcp::ResourceContents::of_text(std::move(uri), "v1")};
}

}  // namespace

TEST_CASE("streams: resource_updated reaches the subscribed sessions' GET streams only", "[mcp][streams]") {
    StreamFixture f;
    mcp::Resource watched;
    watched.uri = "test://watched";
    watched.name = "watched";
    watched.handler = watched_text;
    f.endpoint.resources().add(std::move(watched));
    const std::string subscribed = f.open();
    const std::string unsubscribed = f.open();
    const std::string streamless = f.open();
    CHECK(json::parse(f.send(request(1, "resources/subscribe", {{"uri", "test://watched"}}), subscribed).body)["result"] ==
          json::object());
    CHECK(json::parse(f.send(request(2, "resources/subscribe", {{"uri", "test://watched"}}), streamless).body)["result"] ==
          json::object());
    const mcp::Reply first = f.endpoint.open_stream(subscribed, std::nullopt);
    const mcp::Reply second = f.endpoint.open_stream(unsubscribed, std::nullopt);
    REQUIRE(first.stream);
    REQUIRE(second.stream);

    CHECK(f.endpoint.resource_updated("test://watched") == 1);  // the streamless subscriber misses it
    CHECK(f.endpoint.resource_updated("test://other") == 0);
    EventReader events(f.loop, first.stream);
    CHECK(*events.next() == json{{"jsonrpc", "2.0"},
                                 {"method", "notifications/resources/updated"},
                                 {"params", {{"uri", "test://watched"}}}});
    CHECK(json::parse(f.send(request(3, "resources/unsubscribe", {{"uri", "test://watched"}}), subscribed).body)["result"] ==
          json::object());
    CHECK(f.endpoint.resource_updated("test://watched") == 0);
    f.endpoint.terminate(subscribed);
    f.endpoint.terminate(unsubscribed);
    CHECK_FALSE(events.next());
    CHECK_FALSE(EventReader(f.loop, second.stream).next());
}

TEST_CASE("streams: GET streams are capped across sessions, so free sessions cannot hold every connection",
          "[mcp][streams][security]") {
    // A GET stream has no idle deadline and sessions cost nothing: without a
    // cap, one client opens a session and a stream per connection until the
    // server's connection cap is reached, and everyone else gets 503.
    mcp::EndpointOptions options;
    options.max_get_streams = 2;
    StreamFixture f(options);
    const std::string a = f.open();
    const std::string b = f.open();
    const std::string c = f.open();
    const mcp::Reply first = f.endpoint.open_stream(a, std::nullopt);
    const mcp::Reply second = f.endpoint.open_stream(b, std::nullopt);
    REQUIRE(first.stream);
    REQUIRE(second.stream);
    const mcp::Reply refused = f.endpoint.open_stream(c, std::nullopt);
    CHECK_FALSE(refused.stream);
    CHECK(refused.status == 503);
    CHECK(json::parse(refused.body)["error"]["code"] == -32000);
    // A stream that ends frees its slot.
    first.stream->abandon();
    const mcp::Reply third = f.endpoint.open_stream(c, std::nullopt);
    REQUIRE(third.stream);
    // A session's second stream is still a 409, not a slot taken.
    CHECK(f.endpoint.open_stream(c, std::nullopt).status == 409);
    f.endpoint.terminate(b);
    CHECK(f.endpoint.open_stream(a, std::nullopt).stream);
    f.endpoint.terminate(a);
    f.endpoint.terminate(c);
}

TEST_CASE("streams: a new session does not replace one whose handler waits on its client's answer",
          "[mcp][streams][security]") {
    // Sessions that have not paid yet are replaced, oldest first, by free
    // initializes; one in the middle of a paid call that asks its user is not
    // idle: replacing it would fail that call for whoever floods initialize.
    mcp::EndpointOptions options;
    options.max_sessions = 2;
    StreamFixture f(options);
    const std::string asking = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), asking);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    const json asked = *events.next();
    REQUIRE(asked["method"] == "elicitation/create");
    const std::string idle = f.open();
    const std::string newcomer = f.open();  // replaces `idle`, not `asking`
    CHECK(f.endpoint.session_count() == 2);
    CHECK(f.send(request(2, "ping", json::object()), idle).status == 404);
    CHECK(f.send(StreamFixture::answer_to(asked, {{"action", "accept"}, {"content", {{"value", "kept"}}}}), asking)
              .status == 202);
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0]["result"]["structuredContent"]["content"] == json{{"value", "kept"}});
    CHECK(test_support::run(f.sessions.store().get(stored(alice), "value")) == "kept");
    CHECK(f.send(request(3, "ping", json::object()), newcomer).status == 200);
}

namespace {

mcp::awaitable<std::vector<mcp::ResourceContents>> budget_text(std::string uri) {
    co_return std::vector<mcp::ResourceContents>{mcp::ResourceContents::of_text(std::move(uri), "v")};
}

}  // namespace

TEST_CASE("streams: subscriptions are bounded over all sessions, not only per session", "[mcp][streams][security]") {
    mcp::EndpointOptions options;
    options.max_total_subscription_bytes = 20;  // "test://watched" is 14
    StreamFixture f(options);
    mcp::Resource watched;
    watched.uri = "test://watched";
    watched.name = "watched";
    watched.handler = budget_text;
    f.endpoint.resources().add(std::move(watched));
    const std::string first = f.open();
    const std::string second = f.open();
    const json subscribe = request(1, "resources/subscribe", {{"uri", "test://watched"}});
    CHECK(json::parse(f.send(subscribe, first).body)["result"] == json::object());
    const json refused = json::parse(f.send(subscribe, second).body);
    CHECK(refused["error"]["code"] == -32000);
    // Unsubscribing, or the session ending, gives the bytes back.
    CHECK(json::parse(f.send(request(2, "resources/unsubscribe", {{"uri", "test://watched"}}), first).body)["result"] ==
          json::object());
    CHECK(json::parse(f.send(subscribe, second).body)["result"] == json::object());
    CHECK(json::parse(f.send(subscribe, first).body)["error"]["code"] == -32000);
    f.endpoint.terminate(second);
    CHECK(json::parse(f.send(subscribe, first).body)["result"] == json::object());
    CHECK(f.endpoint.subscribers("test://watched") == std::vector<std::string>{first});
}

TEST_CASE("streams: a drain fails the requests handlers wait on, and sends no new ones", "[mcp][streams]") {
    StreamFixture f;
    const std::string session = f.open();
    const mcp::Reply reply = f.send(call_request(1, "ask", json::object(), pay_as(alice)), session);
    REQUIRE(reply.stream);
    EventReader events(f.loop, reply.stream);
    CHECK((*events.next())["method"] == "elicitation/create");
    f.endpoint.stop_client_requests();
    const std::vector<json> rest = events.rest();
    REQUIRE(rest.size() == 1);
    CHECK(rest[0]["result"]["content"][0]["text"] == "Error: no answer to elicitation/create: the server is shutting down");
    const mcp::Reply later = f.send(call_request(2, "ask", json::object(), pay_as(alice)), session);
    REQUIRE_FALSE(later.stream);
    CHECK(json::parse(later.body)["result"]["content"][0]["text"].get<std::string>().find("the server is draining") !=
          std::string::npos);
    CHECK_FALSE(test_support::run(f.sessions.store().get(stored(alice), "value")));
}
