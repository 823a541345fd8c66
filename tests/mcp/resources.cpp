// Resources and resource templates: registration, URI template matching,
// resources/list, resources/templates/list, resources/read, subscriptions and
// the capabilities initialize declares.
#include <x402/mcp/resource.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace mcp_test;

namespace {

std::atomic<int> reads{0};

mcp::awaitable<std::vector<mcp::ResourceContents>> read_readme(std::string uri) {
    ++reads;
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    std::vector<mcp::ResourceContents> out;
    out.push_back(mcp::ResourceContents::of_text(uri, "# readme", "text/markdown"));
    co_return out;
}

mcp::awaitable<std::vector<mcp::ResourceContents>> read_logo(std::string uri) {
    std::vector<mcp::ResourceContents> out;
    out.push_back(mcp::ResourceContents::of_bytes(uri, "hi", "image/png"));
    co_return out;
}

mcp::awaitable<std::vector<mcp::ResourceContents>> read_broken(std::string) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    throw std::runtime_error("disk on fire");
}

/// Answers the template's name and the variables, as JSON text.
mcp::awaitable<std::vector<mcp::ResourceContents>> read_variables(std::string uri, std::map<std::string, std::string> variables,
                                                                   std::string which) {
    ++reads;
    std::vector<mcp::ResourceContents> out;
    out.push_back(mcp::ResourceContents::of_text(uri, json{{"template", which}, {"variables", variables}}.dump(),
                                                 "application/json"));
    co_return out;
}

mcp::ResourceTemplateHandler answering(std::string which) {
    return [which](std::string uri, std::map<std::string, std::string> variables) {
        return read_variables(std::move(uri), std::move(variables), which);
    };
}

mcp::Resource readme() {
    mcp::Resource resource;
    resource.uri = "test://static/readme";
    resource.name = "readme";
    resource.title = "Read me";
    resource.description = "The readme";
    resource.mime_type = "text/markdown";
    resource.handler = read_readme;
    return resource;
}

mcp::ResourceTemplate item_template(std::string uri_template, std::string name) {
    mcp::ResourceTemplate out;
    out.uri_template = std::move(uri_template);
    out.name = name;
    out.handler = answering(std::move(name));
    return out;
}

void add_test_resources(mcp::ResourceRegistry& resources) {
    resources.add(readme());
    mcp::Resource logo;
    logo.uri = "test://static/logo";
    logo.name = "logo";
    logo.handler = read_logo;
    resources.add(std::move(logo));
    mcp::Resource broken;
    broken.uri = "test://static/broken";
    broken.name = "broken";
    broken.handler = read_broken;
    resources.add(std::move(broken));
    // Also matched by the first template: the fixed resource wins.
    mcp::Resource fixed;
    fixed.uri = "test://template/fixed/data";
    fixed.name = "fixed";
    fixed.handler = read_readme;
    resources.add(std::move(fixed));

    mcp::ResourceTemplate data = item_template("test://template/{id}/data", "data");
    data.description = "Data by id";
    data.mime_type = "application/json";
    resources.add(std::move(data));
    resources.add(item_template("test://files/{dir}/{name}.{ext}", "files"));
    // Registered after "data" and matching some of its URIs: never reached for them.
    resources.add(item_template("test://template/{any}/{rest}", "later"));
}

std::string refusal(mcp::ResourceRegistry& registry, mcp::ResourceTemplate resource_template) {
    try {
        registry.add(std::move(resource_template));
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "accepted";
}

std::string refusal(mcp::ResourceRegistry& registry, mcp::Resource resource) {
    try {
        registry.add(std::move(resource));
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "accepted";
}

struct Fixture {
    Fixture() { add_test_resources(endpoint.resources()); }
    explicit Fixture(mcp::EndpointOptions options) : endpoint(std::move(options)) {
        add_test_resources(endpoint.resources());
    }
    xs::SessionPlugin sessions;
    mcp::McpEndpoint endpoint;
};

json read_request(json uri, json id = 1) { return request(std::move(id), "resources/read", {{"uri", std::move(uri)}}); }

json capabilities(mcp::McpEndpoint& endpoint) {
    const mcp::Reply reply = post(endpoint, initialize_request("2025-11-25"));
    REQUIRE(reply.status == 200);
    return body_of(reply)["result"]["capabilities"];
}

}  // namespace

TEST_CASE("resources: registration refusals", "[mcp][resources]") {
    mcp::ResourceRegistry registry;
    registry.add(readme());
    mcp::Resource resource = readme();
    CHECK(refusal(registry, resource) == "duplicate resource URI: test://static/readme");
    resource.uri.clear();
    CHECK(refusal(registry, resource) == "resource URI must not be empty");
    resource.uri = "test://other";
    resource.name.clear();
    CHECK(refusal(registry, resource) == "resource test://other has no name");
    resource.name = "other";
    resource.handler = nullptr;
    CHECK(refusal(registry, resource) == "resource test://other has no handler");
    CHECK(registry.resources().size() == 1);

    registry.add(item_template("test://t/{id}", "t"));
    CHECK(refusal(registry, item_template("test://t/{id}", "again")) == "duplicate resource template: test://t/{id}");
    CHECK(refusal(registry, item_template("", "empty")) == "resource template must not be empty");
    CHECK(refusal(registry, item_template("test://{id", "x")) == "URI template: '{' without '}'");
    CHECK(refusal(registry, item_template("test://id}", "x")) == "URI template: '}' without '{'");
    CHECK(refusal(registry, item_template("test://{}", "x")) == "URI template: empty variable name");
    CHECK(refusal(registry, item_template("test://{a}/{a}", "x")) == "URI template: variable {a} appears twice");
    CHECK(refusal(registry, item_template("test://{a}{b}", "x")) ==
          "URI template: variables {a} and {b} need a literal between them");
    CHECK(refusal(registry, item_template("test://{+path}", "x")) ==
          "URI template: variable {+path}: only level-1 {name} expressions (letters, digits, '_', '.') are supported");
    CHECK(refusal(registry, item_template("test://{?q}", "x")).find("only level-1") != std::string::npos);
    CHECK(refusal(registry, item_template("test://{a,b}", "x")).find("only level-1") != std::string::npos);
    CHECK(refusal(registry, item_template("test://{a{b}}", "x")).find("only level-1") != std::string::npos);
    CHECK(refusal(registry, item_template("test://u/{id}", "")) == "resource template test://u/{id} has no name");
    mcp::ResourceTemplate no_handler = item_template("test://u/{id}", "u");
    no_handler.handler = nullptr;
    CHECK(refusal(registry, no_handler) == "resource template test://u/{id} has no handler");
    mcp::ResourceTemplate stray = item_template("test://u/{id}", "u");
    stray.completers["name"] = [](std::string_view, const mcp::CompletionContext&) { return std::vector<std::string>{}; };
    CHECK(refusal(registry, stray) == "resource template test://u/{id}: completer of unknown variable name");
    mcp::ResourceTemplate empty_completer = item_template("test://u/{id}", "u");
    empty_completer.completers["id"] = nullptr;
    CHECK(refusal(registry, empty_completer) == "resource template test://u/{id}: empty completer of variable id");
    CHECK(registry.templates().size() == 1);
}

TEST_CASE("resources: the registries freeze at the first request", "[mcp][resources]") {
    Fixture f;
    (void)post(f.endpoint, initialize_request("2025-11-25"));
    CHECK(f.endpoint.resources().frozen());
    mcp::Resource late = readme();
    late.uri = "test://late";
    CHECK_THROWS_AS(f.endpoint.resources().add(late), std::logic_error);
    CHECK_THROWS_AS(f.endpoint.resources().add(item_template("test://late/{id}", "late")), std::logic_error);
    CHECK(f.endpoint.resources().resources().size() == 4);
}

TEST_CASE("uri templates: a variable is one or more characters other than '/'", "[mcp][resources]") {
    using mcp::detail::UriTemplate;
    using Values = std::map<std::string, std::string>;
    const UriTemplate data("test://template/{id}/data");
    CHECK(data.variables() == std::set<std::string>{"id"});
    CHECK(data.match("test://template/42/data") == Values{{"id", "42"}});
    CHECK(data.match("test://template/a%2Fb/data") == Values{{"id", "a%2Fb"}});  // not decoded
    CHECK_FALSE(data.match("test://template/42/other"));
    CHECK_FALSE(data.match("test://template//data"));
    CHECK_FALSE(data.match("test://template/4/2/data"));
    CHECK_FALSE(data.match("test://template/42/data/"));
    CHECK_FALSE(data.match("test://template/42"));
    CHECK_FALSE(data.match("other://template/42/data"));

    const UriTemplate files("test://files/{dir}/{name}.{ext}");
    CHECK(files.match("test://files/docs/report.pdf") == Values{{"dir", "docs"}, {"name", "report"}, {"ext", "pdf"}});
    // Every variable but a segment's last takes as few characters as it can.
    CHECK(files.match("test://files/docs/report.tar.gz") == Values{{"dir", "docs"}, {"name", "report"}, {"ext", "tar.gz"}});
    CHECK_FALSE(files.match("test://files/docs/report"));
    CHECK_FALSE(files.match("test://files/docs/.pdf"));
    CHECK_FALSE(files.match("test://files/docs/report."));

    const UriTemplate affixes("x-{a}-y");
    CHECK(affixes.match("x-1-y") == Values{{"a", "1"}});
    CHECK(affixes.match("x--y-y") == Values{{"a", "-y"}});
    CHECK_FALSE(affixes.match("x--y"));
    CHECK_FALSE(affixes.match("x-y"));

    const UriTemplate none("test://plain");
    CHECK(none.match("test://plain") == Values{});
    CHECK_FALSE(none.match("test://plain2"));
}

TEST_CASE("resources/list and resources/templates/list", "[mcp][resources]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);
    const json listed = body_of(post(f.endpoint, request(1, "resources/list"), session));
    REQUIRE(listed["result"]["resources"].size() == 4);
    CHECK(listed["result"]["resources"][0] == json{{"uri", "test://static/readme"},
                                                    {"name", "readme"},
                                                    {"title", "Read me"},
                                                    {"description", "The readme"},
                                                    {"mimeType", "text/markdown"}});
    CHECK(listed["result"]["resources"][1] == json{{"uri", "test://static/logo"}, {"name", "logo"}});

    const json templates = body_of(post(f.endpoint, request(2, "resources/templates/list", json::object()), session));
    CHECK(templates["result"]["resourceTemplates"] ==
          json::array({{{"uriTemplate", "test://template/{id}/data"},
                        {"name", "data"},
                        {"description", "Data by id"},
                        {"mimeType", "application/json"}},
                       {{"uriTemplate", "test://files/{dir}/{name}.{ext}"}, {"name", "files"}},
                       {{"uriTemplate", "test://template/{any}/{rest}"}, {"name", "later"}}}));

    for (const char* method : {"resources/list", "resources/templates/list"}) {
        INFO(method);
        check_rpc_error(post(f.endpoint, request(3, method, {{"cursor", "x"}}), session), -32602,
                    "Invalid params: unknown cursor", 3);
        check_rpc_error(post(f.endpoint, request(4, method, json::array()), session), -32602,
                    "Invalid params: params must be an object", 4);
    }
}

TEST_CASE("resources/read", "[mcp][resources]") {
    Fixture f;
    const std::string session = open_session(f.endpoint);

    SECTION("a fixed resource") {
        const json body = body_of(post(f.endpoint, read_request("test://static/readme"), session));
        CHECK(body["result"] == json::parse(R"({"contents":[{"uri":"test://static/readme","mimeType":"text/markdown","text":"# readme"}]})"));
    }
    SECTION("a binary resource") {
        const json body = body_of(post(f.endpoint, read_request("test://static/logo"), session));
        CHECK(body["result"]["contents"][0] == json{{"uri", "test://static/logo"}, {"mimeType", "image/png"}, {"blob", "aGk="}});
    }
    SECTION("a template's resource, with its variables") {
        const json body = body_of(post(f.endpoint, read_request("test://template/42/data"), session));
        const json text = json::parse(body["result"]["contents"][0]["text"].get<std::string>());
        CHECK(text == json{{"template", "data"}, {"variables", {{"id", "42"}}}});
        CHECK(body["result"]["contents"][0]["uri"] == "test://template/42/data");
    }
    SECTION("several variables") {
        const json body = body_of(post(f.endpoint, read_request("test://files/a/b.c"), session));
        const json text = json::parse(body["result"]["contents"][0]["text"].get<std::string>());
        CHECK(text == json{{"template", "files"}, {"variables", {{"dir", "a"}, {"name", "b"}, {"ext", "c"}}}});
    }
    SECTION("the fixed resource before the templates, then the templates in registration order") {
        const json fixed = body_of(post(f.endpoint, read_request("test://template/fixed/data"), session));
        CHECK(fixed["result"]["contents"][0]["text"] == "# readme");
        const json later = body_of(post(f.endpoint, read_request("test://template/1/other"), session));
        CHECK(json::parse(later["result"]["contents"][0]["text"].get<std::string>())["template"] == "later");
    }
    SECTION("an unknown URI") {
        for (const char* uri : {"test://nothing", "test://template/1/2/data", "test://template//data"}) {
            INFO(uri);
            const mcp::Reply reply = post(f.endpoint, read_request(uri), session);
            check_rpc_error(reply, -32002, "Resource not found");
            CHECK(body_of(reply)["error"]["data"] == json{{"uri", uri}});
        }
    }
    SECTION("bad params run no handler") {
        const int before = reads;
        check_rpc_error(post(f.endpoint, request(1, "resources/read"), session), -32602, "Invalid params: params must be an object");
        check_rpc_error(post(f.endpoint, request(1, "resources/read", json::object()), session), -32602,
                    "Invalid params: resources/read needs params.uri (a string)");
        check_rpc_error(post(f.endpoint, read_request(7), session), -32602,
                    "Invalid params: resources/read needs params.uri (a string)");
        check_rpc_error(post(f.endpoint, request(1, "resources/read", json::array({"test://static/readme"})), session), -32602,
                    "Invalid params: params must be an object");
        CHECK(reads == before);
    }
    SECTION("a handler that throws") {
        check_rpc_error(post(f.endpoint, read_request("test://static/broken"), session), -32603, "Error: disk on fire");
    }
}

TEST_CASE("resources/subscribe and resources/unsubscribe", "[mcp][resources]") {
    mcp::EndpointOptions options;
    options.max_subscriptions = 2;
    options.max_subscription_bytes = 60;
    Fixture f(options);
    const std::string alice_session = open_session(f.endpoint);
    const std::string bob_session = open_session(f.endpoint);
    auto subscribe = [&](const std::string& session, json uri, const char* method = "resources/subscribe") {
        return post(f.endpoint, request(1, method, {{"uri", std::move(uri)}}), session);
    };

    mcp::Reply reply = subscribe(alice_session, "test://static/readme");
    REQUIRE(reply.status == 200);
    CHECK(body_of(reply)["result"] == json::object());
    CHECK(f.endpoint.subscribers("test://static/readme") == std::vector<std::string>{alice_session});
    CHECK(body_of(subscribe(bob_session, "test://static/readme"))["result"] == json::object());
    std::vector<std::string> both = {alice_session, bob_session};
    std::sort(both.begin(), both.end());
    CHECK(f.endpoint.subscribers("test://static/readme") == both);
    CHECK(f.endpoint.subscribers("test://static/logo").empty());

    SECTION("a template's URI") {
        CHECK(body_of(subscribe(alice_session, "test://template/9/data"))["result"] == json::object());
        CHECK(f.endpoint.subscribers("test://template/9/data") == std::vector<std::string>{alice_session});
    }
    SECTION("unsubscribing") {
        CHECK(body_of(subscribe(alice_session, "test://static/readme", "resources/unsubscribe"))["result"] == json::object());
        CHECK(f.endpoint.subscribers("test://static/readme") == std::vector<std::string>{bob_session});
        // Not subscribed (or unknown): still a success.
        CHECK(body_of(subscribe(alice_session, "test://static/readme", "resources/unsubscribe"))["result"] == json::object());
        CHECK(body_of(subscribe(alice_session, "test://nothing", "resources/unsubscribe"))["result"] == json::object());
    }
    SECTION("an ended session is no subscriber") {
        CHECK(f.endpoint.terminate(alice_session).status == 200);
        CHECK(f.endpoint.subscribers("test://static/readme") == std::vector<std::string>{bob_session});
    }
    SECTION("a URI nothing serves") {
        const mcp::Reply unknown = subscribe(alice_session, "test://nothing");
        check_rpc_error(unknown, -32002, "Resource not found");
        CHECK(body_of(unknown)["error"]["data"] == json{{"uri", "test://nothing"}});
    }
    SECTION("bad params") {
        check_rpc_error(subscribe(alice_session, 5), -32602, "Invalid params: resources/subscribe needs params.uri (a string)");
        check_rpc_error(post(f.endpoint, request(1, "resources/unsubscribe"), alice_session), -32602,
                    "Invalid params: params must be an object");
    }
    SECTION("at most max_subscriptions URIs") {
        CHECK(body_of(subscribe(alice_session, "test://static/logo"))["result"] == json::object());
        check_rpc_error(subscribe(alice_session, "test://template/1/data"), -32602,
                    "Invalid params: a session may subscribe to at most 2 resources; unsubscribe from one first");
        // Again the same URI is no new one; another session has its own count.
        CHECK(body_of(subscribe(alice_session, "test://static/logo"))["result"] == json::object());
        CHECK(body_of(subscribe(bob_session, "test://template/1/data"))["result"] == json::object());
        CHECK(body_of(subscribe(alice_session, "test://static/logo", "resources/unsubscribe"))["result"] == json::object());
        CHECK(body_of(subscribe(alice_session, "test://template/1/data"))["result"] == json::object());
    }
    SECTION("at most max_subscription_bytes of URIs") {
        // 20 bytes subscribed; 20 + 41 > 60.
        const std::string long_uri = "test://template/" + std::string(20, 'x') + "/data";
        REQUIRE(long_uri.size() == 41);
        check_rpc_error(subscribe(alice_session, long_uri), -32602,
                    "Invalid params: a session's subscribed URIs may hold at most 60 bytes together; unsubscribe from one "
                    "first");
        CHECK(body_of(subscribe(alice_session, "test://static/readme", "resources/unsubscribe"))["result"] == json::object());
        CHECK(body_of(subscribe(alice_session, long_uri))["result"] == json::object());
    }
}

TEST_CASE("resources: capabilities and methods only when something is registered", "[mcp][resources]") {
    SECTION("nothing: tools only, and the methods are not found") {
        mcp::McpEndpoint endpoint;
        CHECK(capabilities(endpoint) == json{{"tools", {{"listChanged", false}}}, {"logging", json::object()}});
        const std::string session = open_session(endpoint);
        for (const char* method : {"resources/list", "resources/templates/list", "resources/read", "resources/subscribe",
                                   "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete"}) {
            INFO(method);
            check_rpc_error(post(endpoint, request(1, method, {{"uri", "test://static/readme"}}), session), -32601,
                        std::string("Method not found: ") + method);
        }
    }
    SECTION("a fixed resource: resources, no completions") {
        mcp::McpEndpoint endpoint;
        endpoint.resources().add(readme());
        CHECK(capabilities(endpoint) ==
              json{{"tools", {{"listChanged", false}}}, {"logging", json::object()}, {"resources", {{"subscribe", true}, {"listChanged", false}}}});
        const std::string session = open_session(endpoint);
        check_rpc_error(post(endpoint, request(1, "completion/complete", json::object()), session), -32601,
                    "Method not found: completion/complete");
    }
    SECTION("a template: resources and completions") {
        mcp::McpEndpoint endpoint;
        endpoint.resources().add(item_template("test://t/{id}", "t"));
        CHECK(capabilities(endpoint) == json{{"tools", {{"listChanged", false}}}, {"logging", json::object()},
                                             {"resources", {{"subscribe", true}, {"listChanged", false}}},
                                             {"completions", json::object()}});
    }
}
