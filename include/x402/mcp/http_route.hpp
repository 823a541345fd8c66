// Plain HTTP routes served next to the MCP endpoint by the same server
// (server.hpp): free routes run with no session, priced routes go through the
// same PaymentGate as priced tools (payment_gate.hpp; the x402 one takes the
// payment from the X-PAYMENT / PAYMENT-SIGNATURE header).
//
//     HttpRoute route;
//     route.method = "GET";
//     route.path = "/content/*";             // a trailing '*' matches any rest
//     route.price = price_json;              // same format as Tool::price; nullopt: free
//     route.handler = [](HttpRequest request) -> awaitable<HttpResponse> { ... };
//     server.http_routes().add(std::move(route));
#pragma once

#include <x402/mcp/payment_gate.hpp>
#include <x402/mcp/tool.hpp>

#include <boost/beast/core/string.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::mcp {

/// Returns the value of a request header (name compared case-insensitively), or nullopt.
using HttpHeaderLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// One plain HTTP request as a route handler sees it (a copy: it may be kept
/// across suspensions).
struct HttpRequest {
    /// "GET", "POST", ...
    std::string method;
    /// The request target as sent (path and query).
    std::string target;
    /// The target without its query.
    std::string path;
    /// For a route path ending in '*': what the '*' matched; else empty.
    std::string rest;
    std::string body;
    /// Every header field as sent, in order.
    std::vector<std::pair<std::string, std::string>> headers;

    /// The first header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [field, value] : headers)
            if (boost::beast::iequals(field, name)) return value;
        return std::nullopt;
    }
};

/// What a route handler answers.
struct HttpResponse {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    /// Extra header fields to send (e.g. the x402 receipt).
    std::vector<std::pair<std::string, std::string>> headers;

    /// A JSON body.
    static HttpResponse json_body(const json& value, unsigned status = 200) {
        HttpResponse response;
        response.status = status;
        response.body = value.dump();
        return response;
    }
};

/// A route's handler. A paid route's runs in the verified payer's context
/// (get_session()), a free route's in none. Exceptions become a 500.
using HttpHandler = std::function<awaitable<HttpResponse>(HttpRequest request)>;

/// One plain HTTP route.
struct HttpRoute {
    /// The request method, e.g. "GET" (compared exactly).
    std::string method = "GET";
    /// The path: exact ("/health"), or a prefix ending in '*' ("/content/*",
    /// matching "/content/<anything non-empty>").
    std::string path;
    /// nullopt: free. Otherwise the PaymentRequired template the
    /// PaymentGate checks payments against (same format as Tool::price),
    /// parsed when the route is added.
    std::optional<json> price;
    /// The handler; must be set. Whatever it captures must outlive the server.
    HttpHandler handler;
};

/// The plain HTTP routes of a server. Register them before the server starts;
/// then `add` throws std::logic_error.
class HttpRouteRegistry {
public:
    explicit HttpRouteRegistry(std::string mcp_path) : mcp_path_(std::move(mcp_path)) {}

    /// Throws std::invalid_argument for an empty method, a path not starting
    /// with '/', a path that matches the MCP endpoint's path, a duplicate
    /// (method, path), a missing handler, a null price or a price that is
    /// not a usable x402 PaymentRequired.
    void add(HttpRoute route) {
        if (frozen_.load(std::memory_order_acquire))
            throw std::logic_error("x402::mcp::HttpRouteRegistry: routes must be registered before the server serves");
        if (route.method.empty()) throw std::invalid_argument("HTTP route " + route.path + ": empty method");
        if (route.path.empty() || route.path.front() != '/')
            throw std::invalid_argument("HTTP route path must start with '/': " + route.path);
        if (route.path.find('*') != std::string::npos && route.path.find('*') != route.path.size() - 1)
            throw std::invalid_argument("HTTP route " + route.path + ": '*' only at the end");
        if (matches(route.path, mcp_path_) || route.path == mcp_path_)
            throw std::invalid_argument("HTTP route " + route.path + " collides with the MCP path " + mcp_path_);
        if (!route.handler) throw std::invalid_argument("HTTP route " + route.path + " has no handler");
        if (route.price && route.price->is_null())
            throw std::invalid_argument("HTTP route " + route.path + ": price must not be null (use nullopt for free)");
        for (const auto& existing : routes_)
            if (existing->method == route.method && existing->path == route.path)
                throw std::invalid_argument("duplicate HTTP route: " + route.method + " " + route.path);
        std::shared_ptr<const Price> price;
        if (route.price) price = std::make_shared<const Price>(*route.price);
        routes_.push_back(std::make_shared<const HttpRoute>(std::move(route)));
        prices_.push_back(std::move(price));
    }

    /// The first route matching `path` with `method`; `path_known` tells
    /// whether some route matches the path with another method.
    std::shared_ptr<const HttpRoute> find(std::string_view method, std::string_view path, bool& path_known) const {
        const std::size_t index = find_index(method, path, path_known);
        return index < routes_.size() ? routes_[index] : nullptr;
    }

    /// As find, with the route's price as parsed at registration (null: free).
    std::pair<std::shared_ptr<const HttpRoute>, std::shared_ptr<const Price>> find_priced(std::string_view method,
                                                                                         std::string_view path,
                                                                                         bool& path_known) const {
        const std::size_t index = find_index(method, path, path_known);
        if (index >= routes_.size()) return {};
        return {routes_[index], prices_[index]};
    }

    /// The methods of the routes matching `path`, comma-separated (for Allow).
    std::string allowed_methods(std::string_view path) const {
        std::string out;
        for (const auto& route : routes_)
            if (matches(route->path, path)) out += (out.empty() ? "" : ", ") + route->method;
        return out;
    }

    /// What a trailing '*' of `pattern` matched in `path` (empty for an exact pattern).
    static std::string rest_of(std::string_view pattern, std::string_view path) {
        if (pattern.empty() || pattern.back() != '*') return {};
        return std::string(path.substr(pattern.size() - 1));
    }

    /// Whether `pattern` matches `path`: equal, or a '*' pattern whose prefix
    /// `path` extends by at least one character.
    static bool matches(std::string_view pattern, std::string_view path) {
        if (pattern.empty() || pattern.back() != '*') return pattern == path;
        const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
        return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix;
    }

    const std::vector<std::shared_ptr<const HttpRoute>>& routes() const noexcept { return routes_; }
    bool empty() const noexcept { return routes_.empty(); }
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }

private:
    std::size_t find_index(std::string_view method, std::string_view path, bool& path_known) const {
        path_known = false;
        for (std::size_t i = 0; i < routes_.size(); ++i) {
            if (!matches(routes_[i]->path, path)) continue;
            path_known = true;
            if (routes_[i]->method == method) return i;
        }
        return routes_.size();
    }

    std::string mcp_path_;
    std::vector<std::shared_ptr<const HttpRoute>> routes_;
    std::vector<std::shared_ptr<const Price>> prices_;  // parallel to routes_; null: free
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::mcp
