// Prompts and completion: registration, prompts/list, prompts/get and
// completion/complete for prompt arguments and template variables.
#include <x402/mcp/prompt.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace mcp_test;

namespace {

std::atomic<int> gets{0};

mcp::awaitable<mcp::PromptResult> review(std::map<std::string, std::string> arguments) {
    ++gets;
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    mcp::PromptResult result;
    result.description = "Review in " + arguments["language"];
    result.messages.push_back({mcp::PromptMessage::Role::user, "Review this " + arguments["language"] + ": " + arguments["code"]});
    result.messages.push_back({mcp::PromptMessage::Role::assistant, mcp::Content::image("aGk=", "image/png")});
    if (arguments.count("extra") != 0) result.messages.push_back({mcp::PromptMessage::Role::user, arguments["extra"]});
    co_return result;
}

mcp::awaitable<mcp::PromptResult> plain(std::map<std::string, std::string>) {
    mcp::PromptResult result;
    result.messages.push_back({mcp::PromptMessage::Role::user, "hello"});
    co_return result;
}

mcp::awaitable<mcp::PromptResult> broken(std::map<std::string, std::string>) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    throw std::runtime_error("no inspiration");
}

mcp::awaitable<std::vector<mcp::ResourceContents>> read_nothing(std::string, std::map<std::string, std::string>) {
    co_return std::vector<mcp::ResourceContents>();
}

const std::vector<std::string> languages = {"c", "c++", "go", "python", "rust"};

std::vector<std::string> starting_with(std::string_view typed, const mcp::CompletionContext&) {
    std::vector<std::string> out;
    for (const std::string& language : languages)
        if (language.rfind(typed, 0) == 0) out.push_back(language);
    return out;
}

mcp::Prompt review_prompt() {
    mcp::Prompt prompt;
    prompt.name = "code-review";
    prompt.title = "Code review";
    prompt.description = "Reviews code";
    prompt.arguments.push_back({"code", "The code", true, nullptr});
    prompt.arguments.push_back({"language", "Its language", false, starting_with});
    prompt.handler = review;
    return prompt;
}

void add_test_prompts(mcp::McpEndpoint& endpoint) {
    endpoint.prompts().add(review_prompt());
    mcp::Prompt hello;
    hello.name = "hello";
    hello.handler = plain;
    endpoint.prompts().add(std::move(hello));
    mcp::Prompt failing;
    failing.name = "broken";
    failing.handler = broken;
    endpoint.prompts().add(std::move(failing));

    mcp::ResourceTemplate files;
    files.uri_template = "test://files/{dir}/{name}";
    files.name = "files";
    files.handler = read_nothing;
    // Names in the directory the context names; many, to pass the page limit.
    files.completers["name"] = [](std::string_view typed, const mcp::CompletionContext& context) {
        std::vector<std::string> out;
        const auto dir = context.find("dir");
        for (int i = 0; i < 150; ++i) out.push_back((dir == context.end() ? "" : dir->second + "-") + std::string(typed) + std::to_string(i));
        return out;
    };
    files.completers["dir"] = [](std::string_view, const mcp::CompletionContext&) -> std::vector<std::string> {
        throw std::runtime_error("no directory listing");
    };
    endpoint.resources().add(std::move(files));
    mcp::Resource fixed;
    fixed.uri = "test://fixed";
    fixed.name = "fixed";
    fixed.handler = [](std::string uri) { return read_nothing(std::move(uri), {}); };
    endpoint.resources().add(std::move(fixed));
}

struct Fixture {
    Fixture() { add_test_prompts(endpoint); }
    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
};

std::string refusal(mcp::PromptRegistry& registry, mcp::Prompt prompt) {
    try {
        registry.add(std::move(prompt));
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "accepted";
}

json get_request(json name, json arguments = nullptr) {
    json params = {{"name", std::move(name)}};
    if (!arguments.is_null()) params["arguments"] = std::move(arguments);
    return request(1, "prompts/get", std::move(params));
}

json complete_request(json ref, std::string argument, std::string value, json context = nullptr) {
    json params = {{"ref", std::move(ref)}, {"argument", {{"name", std::move(argument)}, {"value", std::move(value)}}}};
    if (!context.is_null()) params["context"] = {{"arguments", std::move(context)}};
    return request(1, "completion/complete", std::move(params));
}

json prompt_ref(std::string name) { return {{"type", "ref/prompt"}, {"name", std::move(name)}}; }
json resource_ref(std::string uri) { return {{"type", "ref/resource"}, {"uri", std::move(uri)}}; }

}  // namespace

TEST_CASE("prompts: registration refusals", "[mcp][prompts]") {
    mcp::PromptRegistry registry;
    registry.add(review_prompt());
    CHECK(refusal(registry, review_prompt()) == "duplicate prompt name: code-review");
    mcp::Prompt prompt = review_prompt();
    prompt.name.clear();
    CHECK(refusal(registry, prompt) == "prompt name must not be empty");
    prompt.name = "other";
    prompt.handler = nullptr;
    CHECK(refusal(registry, prompt) == "prompt other has no handler");
    prompt.handler = plain;
    prompt.arguments.push_back({"code", "again", false, nullptr});
    CHECK(refusal(registry, prompt) == "prompt other: duplicate argument code");
    prompt.arguments.back().name.clear();
    CHECK(refusal(registry, prompt) == "prompt other: empty argument name");
    CHECK(registry.prompts().size() == 1);
    registry.freeze();
    prompt.arguments.pop_back();
    CHECK_THROWS_AS(registry.add(prompt), std::logic_error);
}

TEST_CASE("prompts: the registry freezes at the first request", "[mcp][prompts]") {
    Fixture f;
    (void)post(f.endpoint, initialize_request("2025-11-25"));
    mcp::Prompt late = review_prompt();
    late.name = "late";
    CHECK_THROWS_AS(f.endpoint.prompts().add(late), std::logic_error);
}

TEST_CASE("prompts/list", "[mcp][prompts]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const json body = body_of(post(f.endpoint, request(1, "prompts/list"), session));
    CHECK(body["result"]["prompts"] == json::parse(R"([
        {"name":"code-review","title":"Code review","description":"Reviews code","arguments":[
            {"name":"code","description":"The code","required":true},
            {"name":"language","description":"Its language","required":false}]},
        {"name":"hello"},
        {"name":"broken"}])"));
    check_rpc_error(post(f.endpoint, request(1, "prompts/list", {{"cursor", "next"}}), session), -32602,
                "Invalid params: unknown cursor");
}

TEST_CASE("prompts/get", "[mcp][prompts]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);

    SECTION("the handler's messages") {
        const json body = body_of(post(f.endpoint, get_request("code-review", {{"code", "x++"}, {"language", "c"}}), session));
        CHECK(body["result"] == json::parse(R"({"description":"Review in c","messages":[
            {"role":"user","content":{"type":"text","text":"Review this c: x++"}},
            {"role":"assistant","content":{"type":"image","data":"aGk=","mimeType":"image/png"}}]})"));
    }
    SECTION("undeclared arguments are passed on; arguments may be left out when none is required") {
        const json body =
            body_of(post(f.endpoint, get_request("code-review", {{"code", "x"}, {"extra", "more"}}), session));
        CHECK(body["result"]["messages"][2]["content"]["text"] == "more");
        const json hello = body_of(post(f.endpoint, get_request("hello"), session));
        CHECK(hello["result"] == json::parse(R"({"messages":[{"role":"user","content":{"type":"text","text":"hello"}}]})"));
    }
    SECTION("refusals run no handler") {
        const int before = gets;
        check_rpc_error(post(f.endpoint, get_request("nope"), session), -32602, "Unknown prompt: nope");
        check_rpc_error(post(f.endpoint, request(1, "prompts/get", json::object()), session), -32602,
                    "Invalid params: prompts/get needs params.name (a string)");
        check_rpc_error(post(f.endpoint, get_request(3), session), -32602,
                    "Invalid params: prompts/get needs params.name (a string)");
        check_rpc_error(post(f.endpoint, request(1, "prompts/get"), session), -32602, "Invalid params: params must be an object");
        check_rpc_error(post(f.endpoint, get_request("code-review", {{"language", "c"}}), session), -32602,
                    "Invalid params: prompt code-review needs argument code");
        check_rpc_error(post(f.endpoint, get_request("code-review", json::array({"x"})), session), -32602,
                    "Invalid params: params.arguments must be an object");
        check_rpc_error(post(f.endpoint, get_request("code-review", {{"code", 1}}), session), -32602,
                    "Invalid params: params.arguments.code must be a string");
        CHECK(gets == before);
    }
    SECTION("a handler that throws") {
        check_rpc_error(post(f.endpoint, get_request("broken"), session), -32603, "Error: no inspiration");
    }
}

TEST_CASE("prompts: capabilities", "[mcp][prompts]") {
    mcp::McpEndpoint endpoint;
    mcp::Prompt hello;
    hello.name = "hello";
    hello.handler = plain;
    endpoint.prompts().add(std::move(hello));
    const mcp::Reply reply = post(endpoint, initialize_request("2025-06-18"));
    CHECK(body_of(reply)["result"]["capabilities"] ==
          json{{"tools", {{"listChanged", false}}}, {"logging", json::object()}, {"prompts", {{"listChanged", false}}}, {"completions", json::object()}});
    // No resources registered: their methods are not found.
    const std::string session = open_session(endpoint);
    check_rpc_error(post(endpoint, request(1, "resources/list"), session), -32601, "Method not found: resources/list");
}

TEST_CASE("completion/complete", "[mcp][prompts][completion]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    auto completion = [&](const json& message) {
        const mcp::Reply reply = post(f.endpoint, message, session);
        REQUIRE(reply.status == 200);
        const json body = body_of(reply);
        INFO(body.dump());
        REQUIRE(body.contains("result"));
        return body["result"]["completion"];
    };

    SECTION("a prompt argument's completer") {
        CHECK(completion(complete_request(prompt_ref("code-review"), "language", "c")) ==
              json{{"values", {"c", "c++"}}, {"total", 2}, {"hasMore", false}});
        CHECK(completion(complete_request(prompt_ref("code-review"), "language", "")) ==
              json{{"values", languages}, {"total", 5}, {"hasMore", false}});
    }
    SECTION("no completer, or an argument the prompt does not have: no values") {
        const json empty = {{"values", json::array()}, {"total", 0}, {"hasMore", false}};
        CHECK(completion(complete_request(prompt_ref("code-review"), "code", "x")) == empty);
        CHECK(completion(complete_request(prompt_ref("code-review"), "nope", "x")) == empty);
        CHECK(completion(complete_request(resource_ref("test://fixed"), "x", "")) == empty);
    }
    SECTION("a template variable's completer, with the context, at most 100 values") {
        const json answer = completion(complete_request(resource_ref("test://files/{dir}/{name}"), "name", "f", {{"dir", "docs"}}));
        REQUIRE(answer["values"].size() == 100);
        CHECK(answer["values"][0] == "docs-f0");
        CHECK(answer["values"][99] == "docs-f99");
        CHECK(answer["total"] == 150);
        CHECK(answer["hasMore"] == true);
    }
    SECTION("refusals") {
        check_rpc_error(post(f.endpoint, complete_request(prompt_ref("nope"), "a", ""), session), -32602, "Unknown prompt: nope");
        check_rpc_error(post(f.endpoint, complete_request(resource_ref("test://files/{x}"), "x", ""), session), -32602,
                    "Unknown resource template: test://files/{x}");
        check_rpc_error(post(f.endpoint, complete_request({{"type", "ref/tool"}, {"name", "x"}}, "a", ""), session), -32602,
                    "Invalid params: params.ref.type must be ref/prompt or ref/resource");
        check_rpc_error(post(f.endpoint, complete_request({{"type", "ref/prompt"}}, "a", ""), session), -32602,
                    "Invalid params: params.ref.name must be a string");
        check_rpc_error(post(f.endpoint, complete_request({{"type", "ref/resource"}, {"uri", 1}}, "a", ""), session), -32602,
                    "Invalid params: params.ref.uri must be a string");
        check_rpc_error(post(f.endpoint, request(1, "completion/complete", {{"argument", {{"name", "a"}, {"value", ""}}}}), session),
                    -32602, "Invalid params: completion/complete needs params.ref (an object with a string type)");
        check_rpc_error(post(f.endpoint, request(1, "completion/complete", {{"ref", prompt_ref("hello")}, {"argument", {{"name", "a"}}}}),
                         session),
                    -32602, "Invalid params: completion/complete needs params.argument {name, value} (strings)");
        check_rpc_error(post(f.endpoint, complete_request(prompt_ref("code-review"), "language", "c", {{"code", 5}}), session), -32602,
                    "Invalid params: params.context.arguments.code must be a string");
        json bad_context = complete_request(prompt_ref("code-review"), "language", "c");
        bad_context["params"]["context"] = "x";
        check_rpc_error(post(f.endpoint, bad_context, session), -32602, "Invalid params: params.context must be an object");
        check_rpc_error(post(f.endpoint, request(1, "completion/complete", json::array()), session), -32602,
                    "Invalid params: params must be an object");
    }
    SECTION("a completer that throws") {
        check_rpc_error(post(f.endpoint, complete_request(resource_ref("test://files/{dir}/{name}"), "dir", ""), session), -32603,
                    "Error: no directory listing");
    }
}
