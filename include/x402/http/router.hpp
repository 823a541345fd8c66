// The routes of an HTTP server (server.hpp): method and path to handler.
//
//     x402::http::Route route;
//     route.method = "GET";                 // or http::any_method
//     route.path = "/content/*";            // a trailing '*' matches any non-empty rest
//     route.handler = [](x402::http::Request request) -> boost::asio::awaitable<x402::http::Response> { ... };
//     server.router().add(std::move(route));
#pragma once

#include <x402/http/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

/// A route handler. It runs on a strand of its own, one per request; what it
/// throws is answered 500.
using Handler = std::function<boost::asio::awaitable<Response>(Request request)>;

/// A Route::method that accepts every method (the handler answers 405 itself).
inline constexpr std::string_view any_method = "*";

/// One route.
struct Route {
    /// The request method, e.g. "GET" (compared exactly), or any_method.
    std::string method = "GET";
    /// The path: exact ("/health"), or a prefix ending in '*' ("/content/*",
    /// matching "/content/<anything non-empty>").
    std::string path;
    /// Must be set. Whatever it captures must outlive the server.
    Handler handler;
};

/// The routes of one server. Register them before the server starts; then
/// `add` throws std::logic_error.
class Router {
public:
    /// Throws std::invalid_argument for an empty method, a path not starting
    /// with '/', a '*' that is not last, a missing handler, or a route whose
    /// path and method (any_method overlaps every method) are already taken.
    void add(Route route) {
        if (frozen_.load(std::memory_order_acquire))
            throw std::logic_error("x402::http::Router: routes must be registered before the server serves");
        check_route(route.method, route.path, static_cast<bool>(route.handler));
        for (const auto& existing : routes_)
            if (existing->path == route.path &&
                (existing->method == route.method || existing->method == any_method || route.method == any_method))
                throw std::invalid_argument("duplicate HTTP route: " + route.method + " " + route.path);
        routes_.push_back(std::make_shared<const Route>(std::move(route)));
    }

    /// The checks of `add` on one route, for layers that register routes
    /// later (x402::mcp::HttpRouteRegistry): throws std::invalid_argument for
    /// an empty method, a path not starting with '/', a '*' that is not last,
    /// or no handler.
    static void check_route(const std::string& method, const std::string& path, bool has_handler) {
        if (method.empty()) throw std::invalid_argument("HTTP route " + path + ": empty method");
        if (path.empty() || path.front() != '/') throw std::invalid_argument("HTTP route path must start with '/': " + path);
        if (const auto star = path.find('*'); star != std::string::npos && star != path.size() - 1)
            throw std::invalid_argument("HTTP route " + path + ": '*' only at the end");
        if (!has_handler) throw std::invalid_argument("HTTP route " + path + " has no handler");
    }

    /// The first route matching `path` and `method`, or null; `path_known`
    /// tells whether some route matches the path with another method.
    const Route* find(std::string_view method, std::string_view path, bool& path_known) const {
        path_known = false;
        for (const auto& route : routes_) {
            if (!matches(route->path, path)) continue;
            path_known = true;
            if (route->method == method || route->method == any_method) return route.get();
        }
        return nullptr;
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

    bool empty() const noexcept { return routes_.empty(); }
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }

private:
    std::vector<std::shared_ptr<const Route>> routes_;
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::http
