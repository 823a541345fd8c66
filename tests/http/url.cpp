// x402::http URL parsing (the HTTP client's base URL).
#include <x402/http/url.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using Catch::Matchers::Contains;
using Catch::Matchers::Message;
using x402::http::parse_http_url;

TEST_CASE("http url: scheme, host, default port and base path", "[http][url]") {
    const auto plain = parse_http_url("http://Example.COM/api/");
    CHECK_FALSE(plain.tls);
    CHECK(plain.host == "example.com");
    CHECK(plain.port == "80");
    CHECK(plain.base_path == "/api");
    CHECK_FALSE(plain.host_is_ip);
    CHECK(plain.host_header() == "example.com");

    const auto tls = parse_http_url("HTTPS://127.0.0.1:8443");
    CHECK(tls.tls);
    CHECK(tls.port == "8443");
    CHECK(tls.host_is_ip);
    CHECK(tls.host_header() == "127.0.0.1:8443");
    CHECK(tls.to_string() == "https://127.0.0.1:8443");
}

TEST_CASE("http url: IPv6 literals keep their brackets in the Host header", "[http][url]") {
    const auto url = parse_http_url("http://[::1]:8080/x");
    CHECK(url.host == "::1");
    CHECK(url.host_is_ip);
    CHECK(url.host_header() == "[::1]:8080");
}

TEST_CASE("http url: malformed URLs are refused with the reason", "[http][url]") {
    CHECK_THROWS_MATCHES(parse_http_url("example.com"), std::invalid_argument, Message("facilitator URL: no scheme (example.com)"));
    CHECK_THROWS_MATCHES(parse_http_url("ftp://x"), std::invalid_argument, Message("facilitator URL: scheme is not http or https (ftp://x)"));
    CHECK_THROWS_WITH(parse_http_url("http://user@x"), Contains("user info is not supported"));
    CHECK_THROWS_WITH(parse_http_url("http://x:0"), Contains("bad port"));
    CHECK_THROWS_WITH(parse_http_url("http://x:65536"), Contains("bad port"));
    CHECK_THROWS_WITH(parse_http_url("http://x:"), Contains("empty port"));
    CHECK_THROWS_WITH(parse_http_url("http://[::1"), Contains("unclosed ["));
    CHECK_THROWS_WITH(parse_http_url("http://x/a?b"), Contains("query and fragment are not supported"));
    CHECK_THROWS_WITH(parse_http_url("http:///a"), Contains("no host"));
}
