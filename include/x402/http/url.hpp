// The facilitator URL: http(s)://host[:port][/base/path], parsed strictly
// (no user info, query or fragment) so that nothing from it can end up as
// an unintended request target or header.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace x402::http {

struct HttpUrl {
    bool tls = false;
    /// Host name or IP literal, without the brackets of an IPv6 literal.
    std::string host;
    /// Decimal port; the scheme's default when the URL names none.
    std::string port;
    /// "" or "/a/b" (never a trailing '/'); endpoints are appended to it.
    std::string base_path;
    /// True when `host` is an IPv4 or (bracketed in the URL) IPv6 literal:
    /// no SNI is sent and the certificate must name the IP address.
    bool host_is_ip = false;

    /// The Host header: host, brackets for IPv6, ":port" unless the default.
    std::string host_header() const {
        std::string value = host_is_ip && host.find(':') != std::string::npos ? "[" + host + "]" : host;
        if (port != (tls ? "443" : "80")) value += ":" + port;
        return value;
    }
    /// scheme://authority/base_path, for messages.
    std::string to_string() const { return std::string(tls ? "https://" : "http://") + host_header() + base_path; }
};

namespace http_url_detail {
constexpr bool is_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool is_ipv4(std::string_view s) {
    int parts = 0;
    std::size_t i = 0;
    while (i <= s.size()) {
        std::size_t j = i;
        unsigned value = 0;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9' && j - i < 3) value = value * 10 + unsigned(s[j++] - '0');
        if (j == i || value > 255) return false;
        ++parts;
        if (j == s.size()) break;
        if (s[j] != '.') return false;
        i = j + 1;
    }
    return parts == 4;
}
}  // namespace http_url_detail

/// Parses a facilitator URL; throws std::invalid_argument("facilitator URL: ...").
inline HttpUrl parse_http_url(std::string_view url) {
    using namespace http_url_detail;
    const auto fail = [&](const char* why) {
        return std::invalid_argument("facilitator URL: " + std::string(why) + " (" + std::string(url) + ")");
    };
    HttpUrl out;
    std::string scheme;
    const std::size_t colon = url.find("://");
    if (colon == std::string_view::npos) throw fail("no scheme");
    for (char c : url.substr(0, colon)) scheme += lower(c);
    if (scheme == "https") out.tls = true;
    else if (scheme != "http") throw fail("scheme is not http or https");
    std::string_view rest = url.substr(colon + 3);
    const std::size_t authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view path = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) throw fail("user info is not supported");
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) throw fail("unclosed [");
        out.host = std::string(authority.substr(1, close - 1));
        for (char c : out.host)
            if (!(c == ':' || c == '.' || is_alnum(c))) throw fail("bad IPv6 literal");
        if (out.host.find(':') == std::string::npos) throw fail("bad IPv6 literal");
        out.host_is_ip = true;
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw fail("junk after ]");
            port = after.substr(1);
            if (port.empty()) throw fail("empty port");
        }
    } else {
        const std::size_t port_colon = authority.rfind(':');
        std::string_view host = authority.substr(0, port_colon);
        if (port_colon != std::string_view::npos) {
            port = authority.substr(port_colon + 1);
            if (port.empty()) throw fail("empty port");
        }
        for (char c : host)
            if (!(is_alnum(c) || c == '-' || c == '.' || c == '_')) throw fail("bad host name");
        for (char c : host) out.host += lower(c);
        out.host_is_ip = is_ipv4(out.host);
    }
    if (out.host.empty()) throw fail("no host");
    if (port.empty()) {
        out.port = out.tls ? "443" : "80";
    } else {
        if (port.size() > 5) throw fail("bad port");
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9') throw fail("bad port");
            value = value * 10 + unsigned(c - '0');
        }
        if (value == 0 || value > 65535) throw fail("bad port");
        out.port = std::to_string(value);
    }
    if (path.find_first_of("?#") != std::string_view::npos) throw fail("query and fragment are not supported");
    for (char c : path)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) throw fail("bad path character");
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.base_path = std::string(path);
    return out;
}

}  // namespace x402::http
