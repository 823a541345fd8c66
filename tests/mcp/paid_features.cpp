// Priced resources and prompts (resources/read, prompts/get through the
// payment gate, error 402 with the PaymentRequired), and payments as clients
// send them: `_meta["x402/payment"]` as an object or a base64 string, and the
// PAYMENT-SIGNATURE / X-PAYMENT headers of a /mcp POST.
#include <x402/mcp/endpoint.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#if X402_MCP_TEST_GATE
#include <x402/mcp/server.hpp>
#include <x402/mcp/x402_gate.hpp>
#include <x402/payment/local_verifier.hpp>

#include "../../examples/agent_server/tools.hpp"
#include "http_client.hpp"  // tests/http_client.hpp

#include <cstdint>
#include <fstream>
#include <thread>
#endif

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace mcp_test;

namespace {

/// memo://{key}: the value of key in the payer's session, and who read it;
/// a missing key is RequestError::resource_not_found.
mcp::awaitable<std::vector<mcp::ResourceContents>> read_memo(std::string uri, std::map<std::string, std::string> variables) {
    auto session = xs::get_session();
    if (!session) throw std::runtime_error("no payer");
    const json before = payer_json();
    const std::optional<std::string> value = co_await session->get(variables.at("key"));
    if (!value) throw mcp::RequestError::resource_not_found(uri);
    std::vector<mcp::ResourceContents> out;
    out.push_back(mcp::ResourceContents::of_text(
        uri, json{{"value", *value}, {"payerBefore", before}, {"payerAfter", payer_json()}}.dump(), "application/json"));
    co_return out;
}

/// free://doc: who reads it (nobody: a free resource runs with no payer).
mcp::awaitable<std::vector<mcp::ResourceContents>> read_free(std::string uri) {
    std::vector<mcp::ResourceContents> out;
    out.push_back(mcp::ResourceContents::of_text(uri, json{{"payer", payer_json()}}.dump(), "application/json"));
    co_return out;
}

/// boom://x: throws.
mcp::awaitable<std::vector<mcp::ResourceContents>> read_boom(std::string) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    throw std::runtime_error("kaput");
}

/// The "briefing" prompt: names its topic and the payer it runs for.
mcp::awaitable<mcp::PromptResult> briefing(std::map<std::string, std::string> arguments) {
    mcp::PromptResult result;
    result.description = "for " + payer_json().dump();
    result.messages.push_back({mcp::PromptMessage::Role::user, mcp::Content("Brief me on " + arguments.at("topic"))});
    co_return result;
}

void add_paid_features(mcp::McpEndpoint& endpoint, std::optional<json> memo_price = test_price()) {
    add_test_tools(endpoint.tools());
    mcp::ResourceTemplate memo;
    memo.uri_template = "memo://{key}";
    memo.name = "memo";
    memo.price = std::move(memo_price);
    memo.handler = read_memo;
    endpoint.resources().add(std::move(memo));

    mcp::Resource free_doc;
    free_doc.uri = "free://doc";
    free_doc.name = "free";
    free_doc.handler = read_free;
    endpoint.resources().add(std::move(free_doc));

    mcp::Resource boom;
    boom.uri = "boom://x";
    boom.name = "boom";
    boom.price = test_price();
    boom.settlement = x402::payment::Settlement::before_handler;
    boom.handler = read_boom;
    endpoint.resources().add(std::move(boom));

    mcp::Prompt prompt;
    prompt.name = "briefing";
    mcp::PromptArgument topic;
    topic.name = "topic";
    topic.required = true;
    prompt.arguments.push_back(std::move(topic));
    prompt.price = test_price();
    prompt.handler = briefing;
    endpoint.prompts().add(std::move(prompt));
}

json read_request(json id, std::string uri, json payment = nullptr) {
    json params = {{"uri", std::move(uri)}};
    if (!payment.is_null()) params["_meta"] = {{"x402/payment", std::move(payment)}};
    return request(std::move(id), "resources/read", std::move(params));
}

json prompt_request(json id, json arguments, json payment = nullptr) {
    json params = {{"name", "briefing"}, {"arguments", std::move(arguments)}};
    if (!payment.is_null()) params["_meta"] = {{"x402/payment", std::move(payment)}};
    return request(std::move(id), "prompts/get", std::move(params));
}

/// The JSON text of a resources/read result's only entry.
json memo_text(const json& result) { return json::parse(result["contents"][0]["text"].get<std::string>()); }

void check_payment_required(const json& body, const std::string& reason) {
    CHECK(body["error"]["code"] == 402);
    CHECK(body["error"]["message"].get<std::string>().rfind("Payment required (" + reason + ")", 0) == 0);
    const json& required = body["error"]["data"];
    CHECK(required["error"] == reason);
    CHECK(required["x402Version"] == 2);
    CHECK(required["accepts"] == test_price()["accepts"]);
    CHECK(required["resource"] == test_price()["resource"]);
    CHECK_FALSE(body.contains("result"));
}

/// A gate that counts its calls and hands them to the trusting double.
struct CountingGate {
    explicit CountingGate(xs::SessionPlugin sessions) : inner(std::move(sessions)) {}
    mcp::PaymentGate gate() {
        return [this](mcp::GateRequest request) {
            ++calls;
            return inner(std::move(request));
        };
    }
    mcp::testing::TrustingPaymentGateDouble inner;
    std::atomic<int> calls{0};
};

struct Fixture {
    Fixture() {
        add_paid_features(endpoint);
        endpoint.set_payment_gate(counting.gate());
        session = open_session(endpoint);
    }
    json send(const json& message) { return body_of(post(endpoint, message, session)); }
    std::optional<std::string> stored(const std::string& payer, std::string key) {
        auto get = [key] { return xs::get_session()->get(key); };
        return test_support::run(sessions.run(xs::VerifiedPayer::assume_verified(payer), get));
    }
    void store(const std::string& payer, std::string key, std::string value) {
        auto set = [key, value] { return xs::get_session()->set(key, value); };
        test_support::run(sessions.run(xs::VerifiedPayer::assume_verified(payer), set));
    }
    xs::SessionPlugin sessions;
    CountingGate counting{sessions};
    mcp::McpEndpoint endpoint;
    std::string session;
};

}  // namespace

TEST_CASE("paid features: prices are parsed when resources and prompts are added", "[mcp][paid]") {
    mcp::ResourceRegistry resources;
    mcp::Resource null_price;
    null_price.uri = "a://b";
    null_price.name = "b";
    null_price.handler = read_free;
    null_price.price = json(nullptr);
    CHECK_THROWS_WITH(resources.add(null_price), "resource a://b: price must not be null (use nullopt for free)");
    mcp::ResourceTemplate bad;
    bad.uri_template = "a://{x}";
    bad.name = "x";
    bad.handler = read_memo;
    bad.price = json{{"accepts", 1}};
    CHECK_THROWS_AS(resources.add(bad), std::invalid_argument);
    mcp::Resource priced = null_price;
    priced.uri = "a://c";
    priced.price = test_price();
    resources.add(priced);
    REQUIRE(resources.price("a://c"));
    CHECK(resources.price("a://c")->as_json() == test_price());
    CHECK_FALSE(resources.price("a://none"));

    mcp::PromptRegistry prompts;
    mcp::Prompt no_accepts;
    no_accepts.name = "p";
    no_accepts.handler = briefing;
    no_accepts.price = json{{"x402Version", 2}, {"accepts", json::array()}};
    CHECK_THROWS_WITH(prompts.add(no_accepts), "x402 price: accepts is empty");
    mcp::Prompt before = no_accepts;
    before.name = "q";
    before.price = test_price();
    before.settlement = x402::payment::Settlement::before_handler;
    prompts.add(before);
    REQUIRE(prompts.price("q"));
    CHECK(prompts.price("q")->requirements().settlement == x402::payment::Settlement::before_handler);
}

TEST_CASE("paid features: an unpaid priced read or prompt is error 402 with the PaymentRequired", "[mcp][paid]") {
    Fixture f;
    const json read = f.send(read_request(1, "memo://color"));
    CHECK(read["id"] == 1);
    check_payment_required(read, "payment_required");
    check_payment_required(f.send(prompt_request(2, {{"topic", "tea"}})), "payment_required");
    CHECK(f.counting.calls == 2);
}

TEST_CASE("paid features: a priced template reads the payer's own session; payers are isolated",
          "[mcp][paid][security]") {
    Fixture f;
    f.store(alice, "color", "blue");
    f.store(bob, "color", "green");

    const json for_alice = f.send(read_request(1, "memo://color", pay_as(alice)));
    REQUIRE(for_alice.contains("result"));
    CHECK(memo_text(for_alice["result"])["value"] == "blue");
    CHECK(memo_text(for_alice["result"])["payerBefore"] == alice);
    CHECK(memo_text(for_alice["result"])["payerAfter"] == alice);
    CHECK(for_alice["result"]["contents"][0]["uri"] == "memo://color");
    CHECK(for_alice["result"]["_meta"]["x402/payment-response"]["payer"] == alice);

    const json for_bob = f.send(read_request(2, "memo://color", pay_as(bob)));
    REQUIRE(for_bob.contains("result"));
    CHECK(memo_text(for_bob["result"])["value"] == "green");
    CHECK(memo_text(for_bob["result"])["payerAfter"] == bob);

    // What bob wrote is not alice's: alice has no "pet", bob has.
    f.store(bob, "pet", "cat");
    const json missing = f.send(read_request(3, "memo://pet", pay_as(alice)));
    CHECK(missing["error"]["code"] == -32002);
    CHECK(missing["error"]["message"] == "Resource not found");
    // (The trusting double serves every call, so it attaches its fake
    // receipt here; the real gate charges nothing: see the [x402gate] case.)
    CHECK(missing["error"]["data"]["uri"] == "memo://pet");
    CHECK(memo_text(f.send(read_request(4, "memo://pet", pay_as(bob)))["result"])["value"] == "cat");
}

TEST_CASE("paid features: a priced prompt runs in the payer's session; a free resource with none",
          "[mcp][paid]") {
    Fixture f;
    const json got = f.send(prompt_request(1, {{"topic", "tea"}}, pay_as(alice)));
    REQUIRE(got.contains("result"));
    CHECK(got["result"]["description"] == "for \"" + alice + "\"");
    CHECK(got["result"]["messages"][0]["content"]["text"] == "Brief me on tea");
    CHECK(got["result"]["_meta"]["x402/payment-response"]["payer"] == alice);

    const json free = f.send(read_request(2, "free://doc", pay_as(alice)));
    REQUIRE(free.contains("result"));
    CHECK(memo_text(free["result"])["payer"] == nullptr);
    CHECK_FALSE(free["result"].contains("_meta"));
    CHECK(f.counting.calls == 1);
}

TEST_CASE("paid features: bad params are refused before the gate runs", "[mcp][paid][security]") {
    Fixture f;
    const json no_uri = f.send(request(1, "resources/read", {{"_meta", {{"x402/payment", pay_as(alice)}}}}));
    CHECK(no_uri["error"]["code"] == -32602);
    CHECK(no_uri["error"]["message"] == "Invalid params: resources/read needs params.uri (a string)");
    const json unknown_uri = f.send(read_request(2, "nothing://here", pay_as(alice)));
    CHECK(unknown_uri["error"]["code"] == -32002);
    json unknown_prompt = prompt_request(3, {{"topic", "tea"}}, pay_as(alice));
    unknown_prompt["params"]["name"] = "nope";
    CHECK(f.send(unknown_prompt)["error"]["message"] == "Unknown prompt: nope");
    const json missing_argument = f.send(prompt_request(4, json::object(), pay_as(alice)));
    CHECK(missing_argument["error"]["message"] == "Invalid params: prompt briefing needs argument topic");
    json bad_meta = read_request(5, "memo://color");
    bad_meta["params"]["_meta"] = "x";
    CHECK(f.send(bad_meta)["error"]["message"] == "Invalid params: params._meta must be an object");
    CHECK(f.counting.calls == 0);
}

TEST_CASE("paid features: a priced read with no gate runs nothing", "[mcp][paid]") {
    mcp::McpEndpoint endpoint;
    add_paid_features(endpoint);
    const std::string session = open_session(endpoint);
    const json body = body_of(post(endpoint, read_request(1, "memo://color", pay_as(alice)), session));
    CHECK(body["error"]["code"] == -32603);
    CHECK(body["error"]["message"] == "memo://color requires payment, and this server has no payment verifier");
}

TEST_CASE("paid features: a header payment must pay for exactly one priced call", "[mcp][paid][security]") {
    Fixture f;
    const auto header = x402::payment::PaymentInput::from_headers(
        std::map<std::string, std::string>{{"PAYMENT-SIGNATURE", "eyJ4NDAyVmVyc2lvbiI6Mn0="}});
    auto post_paid = [&](const json& message) {
        return test_support::run(f.endpoint.post(message.dump(), f.session, std::nullopt, false, nullptr, header));
    };
    const std::string head = "Invalid Request: a PAYMENT-SIGNATURE or X-PAYMENT header pays for exactly one priced call "
                             "(tools/call, resources/read or prompts/get of a priced one)";
    SECTION("a request that is not a priced call") {
        for (const json& message : {request(1, "tools/list"), call_request(1, "echo", {{"text", "hi"}}),
                                    read_request(1, "free://doc"), request(1, "ping")}) {
            INFO(message.dump());
            const mcp::Reply reply = post_paid(message);
            CHECK(reply.status == 400);
            CHECK(body_of(reply)["id"] == 1);
            CHECK(body_of(reply)["error"]["code"] == -32600);
            CHECK(body_of(reply)["error"]["message"] == head + ", and this request is not one");
        }
    }
    SECTION("a batch with two priced calls, or none") {
        const std::string batch_session = open_session(f.endpoint, "2025-03-26");
        auto post_batch = [&](const json& batch) {
            return test_support::run(
                f.endpoint.post(batch.dump(), batch_session, std::nullopt, false, nullptr, header));
        };
        const json two = json::array({read_request(1, "memo://color"), call_request(2, "remember", {{"value", "red"}})});
        const mcp::Reply refused = post_batch(two);
        CHECK(refused.status == 400);
        CHECK(body_of(refused)["id"] == nullptr);
        CHECK(body_of(refused)["error"]["message"] == head + ", and this batch has 2");
        const mcp::Reply none = post_batch(json::array({request(1, "ping"), request(2, "tools/list")}));
        CHECK(body_of(none)["error"]["message"] == head + ", and this batch has 0");
        CHECK_FALSE(f.stored(alice, "value"));
    }
    SECTION("a priced call that also carries a _meta payment") {
        const mcp::Reply reply = post_paid(read_request(7, "memo://color", pay_as(alice)));
        CHECK(reply.status == 400);
        CHECK(body_of(reply)["id"] == 7);
        CHECK(body_of(reply)["error"]["message"] ==
              "Invalid Request: a payment in a header and another in params._meta[\"x402/payment\"]: send one");
    }
    CHECK(f.counting.calls == 0);
}

#if X402_MCP_TEST_GATE
// The real gate (make_x402_gate, LocalVerifier) on payments signed by the
// official x402 clients (tests/payment/vectors.json, made for test_price()).
namespace {

/// A vector's PaymentRequired without `error`: a price it pays.
json price_of(const std::string& id) {
    json price = vector_named(id)["paymentRequired"];
    price.erase("error");
    return price;
}

struct GateFixture {
    explicit GateFixture(const json& vector, std::optional<json> memo_price = test_price())
        : payer(vector["expected"]["payer"].get<std::string>()) {
        add_paid_features(endpoint, std::move(memo_price));
        endpoint.set_payment_gate(mcp::make_x402_gate(local_hook(sessions, vector["verifyAt"].get<std::uint64_t>())));
        session = open_session(endpoint);
    }
    json send(const json& message, x402::payment::PaymentInput header = {}, std::string version_session = {}) {
        const std::string& to = version_session.empty() ? session : version_session;
        return body_of(test_support::run(endpoint.post(message.dump(), to, std::nullopt, false, nullptr, std::move(header))));
    }
    std::optional<std::string> stored(std::string key) {
        auto get = [key] { return xs::get_session()->get(key); };
        return test_support::run(sessions.run(xs::VerifiedPayer::assume_verified(payer), get));
    }
    void store(std::string key, std::string value) {
        auto set = [key, value] { return xs::get_session()->set(key, value); };
        test_support::run(sessions.run(xs::VerifiedPayer::assume_verified(payer), set));
    }
    std::string payer;
    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
    std::string session;
};

x402::payment::PaymentInput signature_header(const json& vector) {
    return x402::payment::PaymentInput::from_headers(
        std::map<std::string, std::string>{{"PAYMENT-SIGNATURE", vector["headerValue"].get<std::string>()}});
}

void check_paid_by(const json& result, const std::string& payer) {
    const json receipt = result["_meta"]["x402/payment-response"];
    CHECK(receipt["success"] == true);
    CHECK(receipt["payer"] == payer);
}

}  // namespace

TEST_CASE("x402 gate: a priced resource paid with a _meta object runs as its signer", "[mcp][paid][x402gate]") {
    const json valid = vector_named("v2-valid");
    GateFixture f(valid);
    f.store("color", "blue");
    const json read = f.send(read_request(1, "memo://color", valid["decodedPayload"]));
    REQUIRE(read.contains("result"));
    const json seen = memo_text(read["result"]);
    CHECK(seen["value"] == "blue");
    CHECK(xs::detail::normalise_payer(seen["payerBefore"].get<std::string>()) == xs::detail::normalise_payer(f.payer));
    CHECK(seen["payerAfter"] == seen["payerBefore"]);
    check_paid_by(read["result"], f.payer);

    // The same payment again: 402 with the verifier's reason, nothing read.
    check_payment_required(f.send(read_request(2, "memo://color", valid["decodedPayload"])),
                           "invalid_exact_evm_nonce_already_used");
}

TEST_CASE("x402 gate: _meta may carry the payment as the base64 PAYMENT-SIGNATURE value", "[mcp][paid][x402gate]") {
    const json valid = vector_named("v2-valid");
    SECTION("prompts/get") {
        GateFixture f(valid);
        const json got = f.send(prompt_request(1, {{"topic", "tea"}}, valid["headerValue"]));
        REQUIRE(got.contains("result"));
        CHECK(got["result"]["messages"][0]["content"]["text"] == "Brief me on tea");
        check_paid_by(got["result"], f.payer);
    }
    SECTION("tools/call") {
        GateFixture f(valid);
        const json called = f.send(call_request(1, "remember", {{"value", "blue"}}, valid["headerValue"]));
        REQUIRE(called.contains("result"));
        CHECK_FALSE(called["result"].contains("isError"));
        check_paid_by(called["result"], f.payer);
        CHECK(f.stored("value") == std::optional<std::string>("blue"));
    }
    SECTION("a string that is not base64 JSON is refused as an invalid payload") {
        GateFixture f(valid);
        check_payment_required(f.send(read_request(1, "memo://color", "not base64!")), "invalid_payload");
    }
}

TEST_CASE("x402 gate: an invalid payment on a priced read is 402 with the reason", "[mcp][paid][x402gate]") {
    const json bad = vector_named("v2-bad-signature");
    GateFixture f(bad);
    f.store("color", "blue");
    check_payment_required(f.send(read_request(1, "memo://color", bad["decodedPayload"])), "invalid_exact_evm_signature");
}

TEST_CASE("x402 gate: a missing key is -32002 and charged nothing", "[mcp][paid][x402gate]") {
    const json valid = vector_named("v2-valid");
    GateFixture f(valid);
    const json missing = f.send(read_request(1, "memo://nothing", valid["decodedPayload"]));
    CHECK(missing["error"]["code"] == -32002);
    CHECK(missing["error"]["data"] == json{{"uri", "memo://nothing"}});
    CHECK_FALSE(missing["error"]["data"].contains("_meta"));
}

TEST_CASE("x402 gate: a before_handler resource that throws after settling answers the receipt",
          "[mcp][paid][x402gate]") {
    const json valid = vector_named("v2-valid");
    GateFixture f(valid);
    const json failed = f.send(read_request(1, "boom://x", valid["decodedPayload"]));
    CHECK(failed["error"]["code"] == -32603);
    const std::string message = failed["error"]["message"].get<std::string>();
    CHECK(message.find("the payment settled, but the call did not complete") != std::string::npos);
    CHECK(failed["error"]["data"]["_meta"]["x402/payment-response"]["success"] == true);
}

TEST_CASE("x402 gate: PAYMENT-SIGNATURE on a /mcp POST pays for its one priced call", "[mcp][paid][x402gate]") {
    const json valid = vector_named("v2-valid");
    GateFixture f(valid);
    f.store("color", "blue");
    SECTION("resources/read") {
        const json read = f.send(read_request(1, "memo://color"), signature_header(valid));
        REQUIRE(read.contains("result"));
        CHECK(memo_text(read["result"])["value"] == "blue");
        check_paid_by(read["result"], f.payer);
    }
    SECTION("refused on a batch of two priced calls, then the same payment buys one") {
        const std::string batch_session = open_session(f.endpoint, "2025-03-26");
        const json batch = json::array({read_request(1, "memo://color"), call_request(2, "remember", {{"value", "red"}})});
        const json refused = f.send(batch, signature_header(valid), batch_session);
        CHECK(refused["error"]["code"] == -32600);
        CHECK_FALSE(f.stored("value"));
        const json called = f.send(call_request(3, "remember", {{"value", "red"}}), signature_header(valid));
        REQUIRE(called.contains("result"));
        CHECK_FALSE(called["result"].contains("isError"));
        check_paid_by(called["result"], f.payer);
        CHECK(f.stored("value") == std::optional<std::string>("red"));
    }
    SECTION("a batch of one priced call and free ones: the header pays for that one") {
        const std::string batch_session = open_session(f.endpoint, "2025-03-26");
        const json batch =
            json::array({request(1, "ping"), prompt_request(2, {{"topic", "tea"}}), read_request(3, "free://doc")});
        const json answers = f.send(batch, signature_header(valid), batch_session);
        REQUIRE(answers.is_array());
        REQUIRE(answers.size() == 3);
        check_paid_by(answers[1]["result"], f.payer);
        CHECK_FALSE(answers[2]["result"].contains("_meta"));
    }
    SECTION("refused alongside a _meta payment, then the same payment buys the read") {
        const json refused = f.send(read_request(1, "memo://color", valid["decodedPayload"]), signature_header(valid));
        CHECK(refused["error"]["code"] == -32600);
        const json read = f.send(read_request(2, "memo://color", valid["decodedPayload"]));
        check_paid_by(read["result"], f.payer);
    }
    SECTION("refused on a free tool, then the same payment buys the read") {
        const json refused = f.send(call_request(1, "echo", {{"text", "hi"}}), signature_header(valid));
        CHECK(refused["error"]["code"] == -32600);
        check_paid_by(f.send(read_request(2, "memo://color"), signature_header(valid))["result"], f.payer);
    }
}

TEST_CASE("x402 gate: X-PAYMENT (v1) on a /mcp POST pays for a priced read", "[mcp][paid][x402gate]") {
    const json legacy = vector_named("v1-valid-legacy-client");
    GateFixture f(legacy, price_of("v1-valid-legacy-client"));
    f.store("color", "blue");
    const auto header = x402::payment::PaymentInput::from_headers(
        std::map<std::string, std::string>{{"X-PAYMENT", legacy["headerValue"].get<std::string>()}});
    const json read = f.send(read_request(1, "memo://color"), header);
    REQUIRE(read.contains("result"));
    CHECK(memo_text(read["result"])["value"] == "blue");
    check_paid_by(read["result"], f.payer);
}

// Over a socket: mcp::Server hands the POST's payment headers to the endpoint,
// and the agent server's content://{key} template reads the payer's own key.
TEST_CASE("x402 gate: the agent server's content://{key}, paid with PAYMENT-SIGNATURE over HTTP",
          "[mcp][paid][x402gate][http]") {
    const json valid = vector_named("v2-valid");
    const std::string payer = valid["expected"]["payer"].get<std::string>();
    xs::SessionPlugin sessions;
    boost::asio::io_context io;
    mcp::ServerOptions options;
    options.port = 0;
    mcp::Server server(io, options);
    // The vector pays test_price(): the template at that price, read as in the agent server.
    mcp::ResourceTemplate content;
    content.uri_template = "content://{key}";
    content.name = "content";
    content.price = test_price();
    content.handler = agent_server::read_content;
    server.endpoint().resources().add(std::move(content));
    server.set_payment_gate(mcp::make_x402_gate(local_hook(sessions, valid["verifyAt"].get<std::uint64_t>())));
    auto set = [] { return xs::get_session()->set("color", "blue"); };
    test_support::run(sessions.run(xs::VerifiedPayer::assume_verified(payer), set));
    const auto endpoint = server.start();
    std::thread thread([&io] { io.run(); });

    test_support::HttpClient client(endpoint);
    const auto initialized = client.post(initialize_request("2025-11-25").dump());
    const std::string session(initialized["Mcp-Session-Id"]);
    client.post(notification("notifications/initialized").dump(), session);
    const std::map<std::string, std::string> paid{{"PAYMENT-SIGNATURE", valid["headerValue"].get<std::string>()}};

    const auto on_list = client.post(request(1, "resources/templates/list").dump(), session, paid);
    const auto read = client.post(read_request(2, "content://color").dump(), session, paid);
    server.stop();
    thread.join();

    // Refused, and not used up by it: the same payment then buys the read.
    CHECK(on_list.result_int() == 400);
    CHECK(json::parse(on_list.body())["error"]["code"] == -32600);
    REQUIRE(read.result_int() == 200);
    const json answer = json::parse(read.body());
    CHECK(answer["result"]["contents"][0]["text"] == "blue");
    check_paid_by(answer["result"], payer);
}
#endif
