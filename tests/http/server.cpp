// x402::http::Server in-process: a real socket on 127.0.0.1, the server on two
// io threads, a blocking Beast client on the test thread.
#include <x402/http/prometheus.hpp>
#include <x402/http/server.hpp>

#include "http_client.hpp"  // tests/http_client.hpp

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <optional>
#include <thread>
#include <vector>

namespace http = x402::http;
namespace bhttp = boost::beast::http;
using test_support::HttpClient;

namespace {

struct RunningServer {
    explicit RunningServer(const std::function<void(http::Router&)>& setup, http::ServerOptions options = {})
        : server(io, with_free_port(std::move(options))) {
        setup(server.router());
        endpoint = server.start();
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~RunningServer() {
        server.stop();
        for (auto& thread : threads) thread.join();
    }
    static http::ServerOptions with_free_port(http::ServerOptions options) {
        options.port = 0;
        return options;
    }

    boost::asio::io_context io;
    http::Server server;
    boost::asio::ip::tcp::endpoint endpoint;
    std::vector<std::thread> threads;
};

http::Route route(std::string method, std::string path, http::Handler handler) {
    return http::Route{std::move(method), std::move(path), std::move(handler)};
}

boost::asio::awaitable<http::Response> echo(http::Request request) {
    http::Response response = http::Response::text(200, request.method + " " + request.path + " [" + request.rest + "] " +
                                                            request.header("x-probe").value_or("-") + " " + request.body);
    response.headers.emplace_back("X-Echo", "1");
    co_return response;
}

boost::asio::awaitable<http::Response> boom(http::Request) {
    throw std::runtime_error("secret internal detail");
    co_return http::Response{};
}

std::string header_of(const HttpClient::Response& response, bhttp::field field) {
    return std::string(response[field]);
}

}  // namespace

TEST_CASE("http router: refuses malformed and overlapping routes", "[http]") {
    http::Router router;
    router.add(route("GET", "/a", echo));
    router.add(route("POST", "/a", echo));
    CHECK_THROWS_AS(router.add(route("GET", "/a", echo)), std::invalid_argument);
    CHECK_THROWS_AS(router.add(route(std::string(http::any_method), "/a", echo)), std::invalid_argument);
    CHECK_THROWS_AS(router.add(route("", "/b", echo)), std::invalid_argument);
    CHECK_THROWS_AS(router.add(route("GET", "relative", echo)), std::invalid_argument);
    CHECK_THROWS_AS(router.add(route("GET", "/x*/y", echo)), std::invalid_argument);
    CHECK_THROWS_AS(router.add(route("GET", "/c", nullptr)), std::invalid_argument);
    router.add(route(std::string(http::any_method), "/any", echo));
    CHECK_THROWS_AS(router.add(route("DELETE", "/any", echo)), std::invalid_argument);
    router.freeze();
    CHECK_THROWS_AS(router.add(route("GET", "/late", echo)), std::logic_error);

    bool path_known = false;
    CHECK(router.find("POST", "/a", path_known) != nullptr);
    CHECK(router.find("PUT", "/a", path_known) == nullptr);
    CHECK(path_known);
    CHECK(router.find("GET", "/nowhere", path_known) == nullptr);
    CHECK_FALSE(path_known);
    CHECK(router.find("PATCH", "/any", path_known) != nullptr);
    CHECK(router.allowed_methods("/a") == "GET, POST");
}

TEST_CASE("http router: a trailing '*' matches a non-empty rest", "[http]") {
    CHECK(http::Router::matches("/items/*", "/items/7"));
    CHECK_FALSE(http::Router::matches("/items/*", "/items/"));
    CHECK_FALSE(http::Router::matches("/items/*", "/other/7"));
    CHECK(http::Router::matches("/exact", "/exact"));
    CHECK_FALSE(http::Router::matches("/exact", "/exact/more"));
    CHECK(http::Router::rest_of("/items/*", "/items/a/b") == "a/b");
    CHECK(http::Router::rest_of("/exact", "/exact").empty());
}

TEST_CASE("http server: routes by method and path, 404 and 405 with Allow", "[http]") {
    RunningServer running([](http::Router& router) {
        router.add(route("GET", "/health", echo));
        router.add(route("POST", "/items/*", echo));
    });
    HttpClient client(running.endpoint);

    const auto health = client.send(bhttp::verb::get, "/health?verbose=1", {}, {{"X-Probe", "p"}});
    CHECK(health.result_int() == 200);
    CHECK(health.body() == "GET /health [] p ");
    CHECK(header_of(health, bhttp::field::content_type) == "text/plain");
    CHECK(health["X-Echo"] == "1");
    CHECK(header_of(health, bhttp::field::server) == "x402-session");

    const auto item = client.send(bhttp::verb::post, "/items/a/b", "payload");
    CHECK(item.result_int() == 200);
    CHECK(item.body() == "POST /items/a/b [a/b] - payload");

    const auto wrong_method = client.send(bhttp::verb::delete_, "/health", {});
    CHECK(wrong_method.result_int() == 405);
    CHECK(header_of(wrong_method, bhttp::field::allow) == "GET");
    CHECK(client.send(bhttp::verb::get, "/missing", {}).result_int() == 404);
    CHECK(client.send(bhttp::verb::post, "/items/", {}).result_int() == 404);
}

TEST_CASE("http server: a throwing handler is a 500 that does not echo the exception", "[http]") {
    RunningServer running([](http::Router& router) { router.add(route("GET", "/boom", boom)); });
    HttpClient client(running.endpoint);
    const auto response = client.send(bhttp::verb::get, "/boom", {});
    CHECK(response.result_int() == 500);
    CHECK(response.body().find("secret") == std::string::npos);
    // The connection survives it.
    CHECK(client.send(bhttp::verb::get, "/boom", {}).result_int() == 500);
}

TEST_CASE("http server: an oversize body is answered 413 and the handler never runs", "[http]") {
    std::atomic<int> runs{0};
    http::ServerOptions options;
    options.max_body_bytes = 16;
    RunningServer running(
        [&](http::Router& router) {
            router.add(route("POST", "/upload", [&](http::Request request) {
                ++runs;
                return echo(std::move(request));
            }));
        },
        options);
    HttpClient client(running.endpoint);
    CHECK(client.send(bhttp::verb::post, "/upload", std::string(16, 'x')).result_int() == 200);
    HttpClient oversize(running.endpoint);
    const auto refused = oversize.send(bhttp::verb::post, "/upload", std::string(17, 'x'));
    CHECK(refused.result_int() == 413);
    CHECK(refused.body().find("16 bytes") != std::string::npos);
    CHECK(oversize.closed_by_server());
    CHECK(runs == 1);
}

TEST_CASE("http server: malformed requests get 400 and a closed connection", "[http]") {
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); });
    HttpClient client(running.endpoint);
    client.write_raw("GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: nope\r\n\r\n");
    const auto refused = client.read();
    CHECK(refused.result_int() == 400);
    CHECK(refused.body() == R"({"error":"malformed_request","reason":"the request is not well-formed HTTP/1.1"})");
    CHECK(client.closed_by_server());
}

TEST_CASE("http server: each request runs on a strand of its own", "[http]") {
    // Two requests on two connections, each waiting for the other: they can
    // both finish only if the server runs them concurrently.
    std::atomic<int> arrived{0};
    RunningServer running([&](http::Router& router) {
        router.add(route("GET", "/rendezvous", [&](http::Request) -> boost::asio::awaitable<http::Response> {
            ++arrived;
            auto executor = co_await boost::asio::this_coro::executor;
            for (int spins = 0; arrived < 2 && spins < 100000; ++spins)
                co_await boost::asio::post(executor, boost::asio::use_awaitable);
            co_return http::Response::text(200, arrived >= 2 ? "met" : "alone");
        }));
    });
    std::string first;
    std::thread other([&] { first = HttpClient(running.endpoint).send(bhttp::verb::get, "/rendezvous", {}).body(); });
    const std::string second = HttpClient(running.endpoint).send(bhttp::verb::get, "/rendezvous", {}).body();
    other.join();
    CHECK(first == "met");
    CHECK(second == "met");
}

TEST_CASE("http: is_valid_utf8 accepts well-formed UTF-8 only", "[http]") {
    CHECK(http::is_valid_utf8(""));
    CHECK(http::is_valid_utf8("plain"));
    CHECK(http::is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK_FALSE(http::is_valid_utf8("\xff"));
    CHECK_FALSE(http::is_valid_utf8("\xc3"));              // truncated
    CHECK_FALSE(http::is_valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(http::is_valid_utf8("\xed\xa0\x80"));      // a surrogate
    CHECK_FALSE(http::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(http::is_valid_utf8("a\x80" "b"));          // a lone continuation byte
}

TEST_CASE("http server: drain lets the request being answered finish, then closes", "[http]") {
    // The handler waits until the test releases it, so the drain surely
    // starts while it runs.
    std::atomic<bool> started{false};
    std::atomic<bool> released{false};
    RunningServer running([&](http::Router& router) {
        router.add(route("GET", "/slow", [&](http::Request) -> boost::asio::awaitable<http::Response> {
            started = true;
            auto executor = co_await boost::asio::this_coro::executor;
            while (!released) co_await boost::asio::post(executor, boost::asio::use_awaitable);
            co_return http::Response::text(200, "finished");
        }));
        router.add(route("GET", "/fast", echo));
    });
    HttpClient idle(running.endpoint);
    CHECK(idle.send(bhttp::verb::get, "/fast", {}).result_int() == 200);  // now idle, kept alive
    std::optional<HttpClient::Response> slow_answer;
    std::thread slow([&] { slow_answer = HttpClient(running.endpoint).send(bhttp::verb::get, "/slow", {}); });
    while (!started) std::this_thread::yield();
    CHECK(running.server.in_flight() == 1);
    running.server.drain();
    CHECK(idle.closed_by_server());  // the idle connection takes no new request
    released = true;
    slow.join();
    REQUIRE(slow_answer);
    CHECK(slow_answer->result_int() == 200);
    CHECK(slow_answer->body() == "finished");
    CHECK_FALSE(slow_answer->keep_alive());
    // The handler's frame is gone before its answer is written.
    CHECK(running.server.in_flight() == 0);
}

TEST_CASE("http server: a connection beyond max_connections is answered 503 and closed", "[http][security]") {
    http::ServerOptions options;
    options.max_connections = 2;
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); }, options);
    HttpClient first(running.endpoint);
    HttpClient second(running.endpoint);
    CHECK(first.send(bhttp::verb::get, "/health", "").result_int() == 200);  // both held open, idle
    CHECK(second.send(bhttp::verb::get, "/health", "").result_int() == 200);
    HttpClient third(running.endpoint);
    const auto refused = third.read();
    CHECK(refused.result_int() == 503);
    CHECK(refused.body() == "Service Unavailable: too many connections (2)\n");
    CHECK(third.closed_by_server());
    CHECK(first.send(bhttp::verb::get, "/health", "").result_int() == 200);  // the open ones are served
    // A client that sends its request before reading still gets the 503.
    HttpClient eager(running.endpoint);
    const auto busy = eager.send(bhttp::verb::get, "/health", "");
    CHECK(busy.result_int() == 503);
}

TEST_CASE("http server: a client that stalls before or inside its headers is closed at its deadline",
          "[http][security]") {
    // The deadline under test is 200 ms, the others 60 s: the test client
    // gives up after 30 s, so only the deadline of that phase can close it.
    // The client waits for the server to close, with no sleep of its own.
    http::ServerOptions options;
    options.idle_timeout = std::chrono::seconds(60);
    options.header_timeout = std::chrono::seconds(60);
    options.body_timeout = std::chrono::seconds(60);
    std::string sent;
    SECTION("nothing sent: the idle deadline") {
        options.idle_timeout = std::chrono::milliseconds(200);
    }
    SECTION("headers begun, never finished: the header deadline") {
        options.header_timeout = std::chrono::milliseconds(200);
        sent = "POST /a HTTP/1.1\r\nHost: x\r\n";
    }
    SECTION("a body shorter than its Content-Length: the body deadline") {
        options.body_timeout = std::chrono::milliseconds(200);
        sent = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    }
    RunningServer running([](http::Router& router) { router.add(route("POST", "/a", echo)); }, options);
    HttpClient client(running.endpoint);
    if (!sent.empty()) client.write_raw(sent);
    CHECK(client.closed_by_server());
}

TEST_CASE("http server: metrics count connections, requests, answers by class and malformed requests", "[http]") {
    RunningServer running([](http::Router& router) {
        router.add(route("GET", "/health", echo));
        router.add(route("GET", "/boom", boom));
    });
    {
        HttpClient client(running.endpoint);
        CHECK(client.send(bhttp::verb::get, "/health", {}).result_int() == 200);
        CHECK(client.send(bhttp::verb::get, "/health", {}).result_int() == 200);
        CHECK(client.send(bhttp::verb::get, "/missing", {}).result_int() == 404);
        CHECK(client.send(bhttp::verb::get, "/boom", {}).result_int() == 500);
    }
    HttpClient malformed(running.endpoint);
    malformed.write_raw("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
    CHECK(malformed.read().result_int() == 400);
    CHECK(malformed.closed_by_server());

    const http::ServerMetrics& metrics = running.server.metrics();
    CHECK(metrics.connections_accepted == 2);
    CHECK(metrics.connections_refused == 0);
    CHECK(metrics.requests == 4);
    CHECK(metrics.requests_malformed == 1);
    CHECK(metrics.responses_by_class[2] == 2);
    CHECK(metrics.responses_by_class[4] == 2);
    CHECK(metrics.responses_by_class[5] == 1);
}

TEST_CASE("prometheus text: HELP and TYPE per family, escaped label values", "[http]") {
    http::PrometheusText page;
    page.counter("x_total", "Things\\done.\nTwice", 3)
        .gauge("x_open", "Open now.", 0)
        .counter("x_refusals_total", "By reason.", "reason", {{"plain", 1}, {"a\"b\\c\nd", 2}});
    CHECK(page.str() ==
          "# HELP x_total Things\\\\done.\\nTwice\n# TYPE x_total counter\nx_total 3\n"
          "# HELP x_open Open now.\n# TYPE x_open gauge\nx_open 0\n"
          "# HELP x_refusals_total By reason.\n# TYPE x_refusals_total counter\n"
          "x_refusals_total{reason=\"plain\"} 1\nx_refusals_total{reason=\"a\\\"b\\\\c\\nd\"} 2\n");
    CHECK(http::PrometheusText::content_type == "text/plain; version=0.0.4; charset=utf-8");
}

namespace {

// The raw answer to one raw request on a fresh connection.
HttpClient::Response raw_request(const boost::asio::ip::tcp::endpoint& endpoint, const std::string& bytes) {
    HttpClient client(endpoint);
    client.write_raw(bytes);
    return client.read();
}

std::string get_with_host(std::string_view host, std::string_view extra = "") {
    return "GET /health HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extra) + "\r\n";
}

// The {"error": ..., "reason": ...} of a refusal, checked for its shape.
std::string error_of(const HttpClient::Response& response) {
    CHECK(header_of(response, bhttp::field::content_type) == "application/json");
    const std::string& body = response.body();
    CHECK(body.find("\"reason\":\"") != std::string::npos);
    const std::string key = "{\"error\":\"";
    if (body.rfind(key, 0) != 0) return "not a JSON error: " + body;
    return body.substr(key.size(), body.find('"', key.size()) - key.size());
}

}  // namespace

TEST_CASE("http server: on loopback, only loopback Host names are served (DNS rebinding)", "[http][security]") {
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); });
    const std::string port = std::to_string(running.endpoint.port());
    for (const std::string& host : std::vector<std::string>{"localhost", "127.0.0.1", "[::1]", "localhost:" + port, "127.0.0.1:" + port,
                                   "[::1]:" + port, "LocalHost:" + port}) {
        INFO(host);
        CHECK(raw_request(running.endpoint, get_with_host(host)).result_int() == 200);
    }
    for (const std::string& host : std::vector<std::string>{"evil.example.com", "evil.example.com:" + port, "localhost.evil.example",
                                   "localhost:1", "127.0.0.2", "[::2]:" + port, "localhost:" + port + "0"}) {
        INFO(host);
        const auto refused = raw_request(running.endpoint, get_with_host(host));
        CHECK(refused.result_int() == 421);
        CHECK(error_of(refused) == "host_not_allowed");
    }
    // A foreign Host is refused before routing: an unknown path is no different.
    const auto unrouted = raw_request(running.endpoint, "GET /nowhere HTTP/1.1\r\nHost: evil.example\r\n\r\n");
    CHECK(unrouted.result_int() == 421);
    const auto defaults = running.server.policy().allowed_hosts();
    CHECK(std::find(defaults.begin(), defaults.end(), "[::1]:" + port) != defaults.end());
}

TEST_CASE("http server: Host is required on HTTP/1.1 and must be single", "[http][security]") {
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); });
    const auto missing = raw_request(running.endpoint, "GET /health HTTP/1.1\r\n\r\n");
    CHECK(missing.result_int() == 400);
    CHECK(error_of(missing) == "missing_host");
    const auto twice = raw_request(running.endpoint, get_with_host("localhost", "Host: evil.example\r\n"));
    CHECK(twice.result_int() == 400);
    CHECK(error_of(twice) == "bad_host");
    // On loopback the Host is checked, so HTTP/1.0 must send one too.
    CHECK(raw_request(running.endpoint, "GET /health HTTP/1.0\r\n\r\n").result_int() == 400);
    CHECK(raw_request(running.endpoint, "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n").result_int() == 200);
}

TEST_CASE("http server: a foreign Origin is 403 on every route, a loopback one is served", "[http][security]") {
    RunningServer running([](http::Router& router) {
        router.add(route("GET", "/health", echo));
        router.add(route("POST", "/items/*", echo));
    });
    for (const std::string& origin : std::vector<std::string>{"http://localhost:6274", "http://127.0.0.1", "https://[::1]:8443",
                                     "HTTP://LOCALHOST:1"}) {
        INFO(origin);
        CHECK(raw_request(running.endpoint, get_with_host("localhost", "Origin: " + origin + "\r\n")).result_int() == 200);
    }
    for (const std::string& origin : std::vector<std::string>{"http://evil.example", "null", "http://localhost.evil.example",
                                     "http://localhost:80x", "file://localhost", "http://127.0.0.1:1234/"}) {
        INFO(origin);
        const auto refused = raw_request(running.endpoint, get_with_host("localhost", "Origin: " + origin + "\r\n"));
        CHECK(refused.result_int() == 403);
        CHECK(error_of(refused) == "origin_not_allowed");
    }
    const auto post = raw_request(running.endpoint,
                                  "POST /items/a HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n"
                                  "Content-Length: 2\r\n\r\nhi");
    CHECK(post.result_int() == 403);
    // One foreign Origin among several is enough.
    const auto two = raw_request(running.endpoint,
                                 get_with_host("localhost", "Origin: http://localhost\r\nOrigin: http://evil.example\r\n"));
    CHECK(two.result_int() == 403);
}

TEST_CASE("http server: configured Host and Origin lists replace the loopback defaults", "[http][security]") {
    http::ServerOptions options;
    options.allowed_hosts = {"mcp.example.com", "mcp.example.com:8443"};
    options.allowed_origins = {"https://app.example.com"};
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); }, options);
    CHECK(raw_request(running.endpoint, get_with_host("MCP.example.com")).result_int() == 200);
    CHECK(raw_request(running.endpoint, get_with_host("mcp.example.com:8443")).result_int() == 200);
    CHECK(raw_request(running.endpoint, get_with_host("mcp.example.com:1")).result_int() == 421);
    CHECK(raw_request(running.endpoint, get_with_host("localhost")).result_int() == 421);
    const std::string origin = "Origin: https://app.example.com\r\n";
    CHECK(raw_request(running.endpoint, get_with_host("mcp.example.com", origin)).result_int() == 200);
    CHECK(raw_request(running.endpoint, get_with_host("mcp.example.com", "Origin: http://localhost\r\n"))
              .result_int() == 403);
}

TEST_CASE("http server: policy defaults off loopback: any Host, no Origin", "[http][security]") {
    http::ServerOptions options;
    const http::RequestPolicy wildcard(options, boost::asio::ip::make_address("0.0.0.0"), 8402);
    CHECK(wildcard.allowed_hosts().empty());
    CHECK(wildcard.host_allowed("anything.example:8402"));
    CHECK_FALSE(wildcard.origin_allowed("http://localhost:8402"));
    const http::RequestPolicy v6(options, boost::asio::ip::make_address("::1"), 9000);
    CHECK(v6.host_allowed("[::1]:9000"));
    CHECK(v6.host_allowed("localhost"));
    CHECK_FALSE(v6.host_allowed("[::1]:9001"));
    CHECK(v6.origin_allowed("http://[::1]:6274"));
    const http::RequestPolicy other_loopback(options, boost::asio::ip::make_address("127.0.0.5"), 80);
    CHECK(other_loopback.host_allowed("127.0.0.5:80"));
    // A v4-mapped loopback address is loopback: Host is checked.
    const http::RequestPolicy mapped(options, boost::asio::ip::make_address("::ffff:127.0.0.1"), 8402);
    CHECK(mapped.host_allowed("localhost:8402"));
    CHECK_FALSE(mapped.host_allowed("evil.example:8402"));
    CHECK(mapped.origin_allowed("http://127.0.0.1:6274"));
}

TEST_CASE("http server: an absolute-form target is 400, whatever its Host", "[http][security]") {
    RunningServer running([](http::Router& router) { router.add(route("GET", "/health", echo)); });
    const std::string port = std::to_string(running.endpoint.port());
    for (const std::string& target : {std::string("http://evil.example/health"), "http://127.0.0.1:" + port + "/health"}) {
        INFO(target);
        const auto refused =
            raw_request(running.endpoint, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
        CHECK(refused.result_int() == 400);
        CHECK(refused.body() == R"({"error":"bad_target","reason":"the request target must be a path starting with /"})");
    }
}

TEST_CASE("http server: bytes that are not UTF-8 in the target or a header read as text are 400 JSON",
          "[http][security]") {
    std::atomic<int> runs{0};
    http::ServerOptions options;
    options.text_headers = {"X-Probe"};
    RunningServer running(
        [&](http::Router& router) {
            router.add(route("GET", "/items/*", [&](http::Request request) {
                ++runs;
                return echo(std::move(request));
            }));
        },
        options);
    for (const std::string& request : std::vector<std::string>{std::string("GET /items/bad\xff HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                                      std::string("GET /items/a?q=\xc3 HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                                      get_with_host("localhost", "X-Probe: caf\xe9\r\n"),
                                      get_with_host("local\xffhost"),
                                      get_with_host("localhost", "Origin: http://\xc0\xaf\r\n")}) {
        const auto refused = raw_request(running.endpoint, request);
        CHECK(refused.result_int() == 400);
        CHECK(error_of(refused) == "invalid_utf8");
    }
    CHECK(runs == 0);
    // A header no route reads as text stays bytes; well-formed UTF-8 passes.
    CHECK(raw_request(running.endpoint, "GET /items/caf\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\nX-Other: \xff\r\n\r\n")
              .result_int() == 200);
    CHECK(runs == 1);
}

TEST_CASE("http server: an empty write never ends a chunked body early (no premature last-chunk)",
          "[http][streams][security]") {
    // The ResponseStream is shared with the route so the test writes the rest
    // after the server has taken the empty chunk.
    auto shared = std::make_shared<std::shared_ptr<http::ResponseStream>>();
    std::atomic<bool> answered{false};
    RunningServer running([&](http::Router& router) {
        router.add(route("GET", "/stream", [&, shared](http::Request) -> boost::asio::awaitable<http::Response> {
            auto stream = std::make_shared<http::ResponseStream>();
            stream->write("");
            *shared = stream;
            answered = true;
            http::Response response;
            response.content_type = "text/plain";
            response.stream = stream;
            co_return response;
        }));
        router.add(route("GET", "/fast", echo));
    });
    HttpClient client(running.endpoint);
    std::optional<HttpClient::Response> streamed;
    std::thread reader([&] { streamed = client.send(bhttp::verb::get, "/stream", {}); });
    while (!answered) std::this_thread::yield();
    // Whether the empty chunk went out alone or with these, the body is these.
    (*shared)->write("smuggled");
    (*shared)->close();
    reader.join();
    REQUIRE(streamed);
    CHECK(streamed->result_int() == 200);
    CHECK(streamed->body() == "smuggled");
    // The connection is still in step: the next answer is the next request's.
    const auto next = client.send(bhttp::verb::get, "/fast", {});
    CHECK(next.result_int() == 200);
    CHECK(next.body().rfind("GET /fast", 0) == 0);
}

namespace {

/// Every chunk `stream` hands out until it ends.
boost::asio::awaitable<void> read_all(std::shared_ptr<http::ResponseStream> stream, std::vector<std::string>* chunks) {
    while (std::optional<std::string> chunk = co_await stream->next()) chunks->push_back(*chunk);
}

}  // namespace

TEST_CASE("response stream: an empty write is never handed out as a chunk (it would be the last-chunk)",
          "[http][streams][security]") {
    // make_chunk of zero bytes is "0\r\n\r\n": the end of a chunked body. What
    // the producer writes after it would be read as the next response.
    boost::asio::io_context io;
    auto stream = std::make_shared<http::ResponseStream>();
    CHECK(stream->write(""));
    CHECK(stream->write("x"));
    stream->close();
    std::vector<std::string> chunks;
    boost::asio::co_spawn(
        io,
        read_all(stream, &chunks),
        boost::asio::detached);
    io.run();
    CHECK(chunks == std::vector<std::string>{"x"});

    boost::asio::io_context io2;
    auto lone = std::make_shared<http::ResponseStream>();
    CHECK(lone->write(""));
    lone->close();
    chunks.clear();
    boost::asio::co_spawn(
        io2,
        read_all(lone, &chunks),
        boost::asio::detached);
    io2.run();
    CHECK(chunks.empty());
}
