// What the HTTP server refuses before any route sees a request: bytes that are
// not UTF-8 where text is read, a missing Host, and the DNS-rebinding
// protection of the MCP security guidance (a Host or Origin the server was not
// told to serve). One check for every route; see ServerOptions::allowed_hosts
// and ServerOptions::allowed_origins.
#pragma once

#include <x402/http/message.hpp>
#include <x402/http/server_options.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/fields.hpp>

#include <algorithm>
#include <iterator>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

/// Why a request was refused: the status, a stable `error` code and a
/// one-line `reason` (fixed text: nothing the client sent is echoed).
struct Refusal {
    unsigned status;
    std::string error;
    std::string reason;

    /// The answer: {"error": ..., "reason": ...} as JSON.
    Response response() const {
        Response out;
        out.status = status;
        // Both are ASCII literals of this file without quotes or backslashes.
        out.body = "{\"error\":\"" + error + "\",\"reason\":\"" + reason + "\"}";
        return out;
    }
};

/// The Host and Origin lists in force for one bound server, and the check.
class RequestPolicy {
public:
    /// The names a loopback server answers to by default.
    static constexpr std::string_view loopback_names[] = {"localhost", "127.0.0.1", "[::1]"};

    RequestPolicy() = default;

    /// The policy of a server bound to `bound`:`port` with `options`.
    /// An empty allowed_hosts on a loopback address becomes the loopback
    /// names (and the bound address), each bare and with `port`; on another
    /// address, no Host check. An empty allowed_origins on loopback admits
    /// every loopback Origin (http or https, any port); elsewhere, none.
    RequestPolicy(const ServerOptions& options, const boost::asio::ip::address& bound, unsigned short port)
        : hosts_(options.allowed_hosts), origins_(options.allowed_origins), text_headers_(options.text_headers) {
        const bool loopback = is_loopback_address(bound);
        if (hosts_.empty() && loopback) {
            std::vector<std::string> names(std::begin(loopback_names), std::end(loopback_names));
            const std::string literal = bound.is_v6() ? "[" + bound.to_string() + "]" : bound.to_string();
            if (std::find(names.begin(), names.end(), literal) == names.end()) names.push_back(literal);
            for (const auto& name : names) {
                hosts_.push_back(name);
                hosts_.push_back(name + ":" + std::to_string(port));
            }
        }
        check_hosts_ = !hosts_.empty();
        loopback_origins_ = origins_.empty() && loopback;
    }

    /// The Host values accepted (empty: any).
    const std::vector<std::string>& allowed_hosts() const noexcept { return hosts_; }

    /// Whether `origin` (an Origin header value) may call this server.
    bool origin_allowed(std::string_view origin) const {
        if (loopback_origins_) return is_loopback_origin(origin);
        for (const auto& allowed : origins_)
            if (boost::beast::iequals(allowed, origin)) return true;
        return false;
    }

    /// Whether `host` (a Host header value) names this server.
    bool host_allowed(std::string_view host) const {
        if (!check_hosts_) return true;
        for (const auto& allowed : hosts_)
            if (boost::beast::iequals(allowed, host)) return true;
        return false;
    }

    /// 127.0.0.0/8, ::1, and ::ffff:127.x.y.z (a v4-mapped loopback address
    /// is loopback too, though address_v6::is_loopback says no).
    static bool is_loopback_address(const boost::asio::ip::address& address) {
        if (address.is_loopback()) return true;
        if (!address.is_v6()) return false;
        const auto v6 = address.to_v6();
        return v6.is_v4_mapped() && boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
    }

    /// "scheme://host[:port]" with scheme http or https and a loopback name.
    static bool is_loopback_origin(std::string_view origin) {
        std::string_view rest;
        if (starts_with_nocase(origin, "http://")) rest = origin.substr(7);
        else if (starts_with_nocase(origin, "https://")) rest = origin.substr(8);
        else return false;
        for (std::string_view name : loopback_names) {
            if (!starts_with_nocase(rest, name)) continue;
            const std::string_view port = rest.substr(name.size());
            if (port.empty()) return true;
            if (port.front() != ':' || port.size() < 2 || port.size() > 6) return false;
            for (char c : port.substr(1))
                if (c < '0' || c > '9') return false;
            return true;
        }
        return false;
    }

    /// The refusal of a request, or nullopt: `version` 11 for HTTP/1.1,
    /// `target` as sent, `fields` its header. In order: a target that is not UTF-8
    /// or not a path (400), Host missing on HTTP/1.1 (or whenever Host is checked) or sent
    /// twice (400), a header this server reads as text that is not UTF-8
    /// (400), a Host not allowed (421), an Origin not allowed (403).
    std::optional<Refusal> check(unsigned version, std::string_view target,
                                 const boost::beast::http::fields& fields) const {
        if (!is_valid_utf8(target))
            return Refusal{400, "invalid_utf8", "the request target is not valid UTF-8"};
        // Only origin-form ("/path?query"): an absolute-form target names its
        // own authority, which would stand in for the Host checked below.
        if (target.empty() || target.front() != '/')
            return Refusal{400, "bad_target", "the request target must be a path starting with /"};
        std::optional<std::string_view> host;
        int hosts = 0;
        for (const auto& field : fields) {
            const std::string_view name = field.name_string(), value = field.value();
            const bool is_host = boost::beast::iequals(name, "Host");
            if (is_host) {
                ++hosts;
                host = value;
            }
            if ((is_host || boost::beast::iequals(name, "Origin") || reads_as_text(name)) && !is_valid_utf8(value))
                return Refusal{400, "invalid_utf8", "a header field the server reads is not valid UTF-8"};
        }
        if (hosts > 1) return Refusal{400, "bad_host", "more than one Host header"};
        if (!host && (version >= 11 || check_hosts_)) return Refusal{400, "missing_host", "the request has no Host header"};
        if (host && !host_allowed(*host))
            return Refusal{421, "host_not_allowed", "this server does not answer to that Host (DNS-rebinding protection)"};
        for (const auto& field : fields)
            if (boost::beast::iequals(field.name_string(), "Origin") && !origin_allowed(field.value()))
                return Refusal{403, "origin_not_allowed", "requests from that Origin are not allowed"};
        return std::nullopt;
    }

private:
    static bool starts_with_nocase(std::string_view text, std::string_view prefix) {
        return text.size() >= prefix.size() && boost::beast::iequals(text.substr(0, prefix.size()), prefix);
    }
    bool reads_as_text(std::string_view name) const {
        for (const auto& header : text_headers_)
            if (boost::beast::iequals(header, name)) return true;
        return false;
    }

    std::vector<std::string> hosts_;
    std::vector<std::string> origins_;
    std::vector<std::string> text_headers_;
    bool check_hosts_ = false;
    bool loopback_origins_ = false;
};

}  // namespace x402::http
