// Plain HTTP routes served next to the MCP endpoint by the same server
// (server.hpp; each becomes a route of its x402::http router): free routes run with no session, priced routes go through the
// same PaymentGate as priced tools (payment_gate.hpp; the x402 one takes the
// payment from the X-PAYMENT / PAYMENT-SIGNATURE header).
//
//     HttpRoute route;
//     route.method = "GET";
//     route.path = "/content/*";             // a trailing '*' matches any rest
//     route.price = price_json;              // same format as Tool::price; nullopt: free
//     route.handler = [](HttpRequest request) -> awaitable<HttpResponse> { ... };  // json_response(...)
//     server.http_routes().add(std::move(route));
#pragma once

#include <x402/mcp/payment_gate.hpp>
#include <x402/payment/headers.hpp>
#include <x402/mcp/tool.hpp>

#include <x402/http/message.hpp>
#include <x402/http/router.hpp>

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

/// A plain HTTP request and answer: the http module's (x402/http/message.hpp).
using HttpRequest = http::Request;
using HttpResponse = http::Response;

/// An answer with a JSON body (bytes that are not UTF-8 become U+FFFD:
/// payment::dump_json, as every answer the server writes).
inline HttpResponse json_response(const json& value, unsigned status = 200) {
    HttpResponse response;
    response.status = status;
    response.body = payment::dump_json(value);
    return response;
}

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
    /// A priced route: when its payment settles (see Tool::settlement); with
    /// after_handler a status >= 400 is charged nothing.
    payment::Settlement settlement = payment::Settlement::after_handler;
    /// Optional: what can be checked without the payment (the route's own
    /// parameters, e.g. that `rest` is valid UTF-8). A response it returns is
    /// sent as it is, before the payment is looked at, so a request refused
    /// for such a reason never uses up its payment.
    std::function<std::optional<HttpResponse>(const HttpRequest& request)> check;
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
        http::Router::check_route(route.method, route.path, static_cast<bool>(route.handler));
        if (http::Router::matches(route.path, mcp_path_) || route.path == mcp_path_)
            throw std::invalid_argument("HTTP route " + route.path + " collides with the MCP path " + mcp_path_);
        if (route.price && route.price->is_null())
            throw std::invalid_argument("HTTP route " + route.path + ": price must not be null (use nullopt for free)");
        for (const auto& existing : routes_)
            if (existing->method == route.method && existing->path == route.path)
                throw std::invalid_argument("duplicate HTTP route: " + route.method + " " + route.path);
        std::shared_ptr<const Price> price;
        if (route.price) price = std::make_shared<const Price>(*route.price, route.settlement);
        routes_.push_back(std::make_shared<const HttpRoute>(std::move(route)));
        prices_.push_back(std::move(price));
    }

    /// The route's price as parsed at registration (null: free), by index into routes().
    const std::shared_ptr<const Price>& price(std::size_t index) const { return prices_.at(index); }

    const std::vector<std::shared_ptr<const HttpRoute>>& routes() const noexcept { return routes_; }
    bool empty() const noexcept { return routes_.empty(); }
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }

private:
    std::string mcp_path_;
    std::vector<std::shared_ptr<const HttpRoute>> routes_;
    std::vector<std::shared_ptr<const Price>> prices_;  // parallel to routes_; null: free
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::mcp
