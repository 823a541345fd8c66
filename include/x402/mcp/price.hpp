// The price of a priced tool, resource, prompt or HTTP route, parsed once at registration.
#pragma once

#include <x402/mcp/jsonrpc.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/types.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

/// A tool's or route's price, parsed and checked once at registration: a
/// PaymentRequired JSON object (x402Version, resource, accepts; an `error`
/// field is ignored).
class Price {
public:
    /// Throws std::invalid_argument naming the problem.
    explicit Price(json price, payment::Settlement settlement = payment::Settlement::after_handler)
        : json_(std::move(price)), requirements_(parse(json_)) {
        requirements_.settlement = settlement;
    }

    /// The price as registered.
    const json& as_json() const noexcept { return json_; }
    /// The route requirements the x402 hook checks payments against.
    const payment::RouteRequirements& requirements() const noexcept { return requirements_; }

private:
    static payment::RouteRequirements parse(const json& price) {
        // Through text and back, as it would arrive over the wire: a price written
        // in C++ as {"maxTimeoutSeconds", 60} holds a signed integer, which the
        // x402 parser (strictly: a non-negative integer) would refuse.
        auto required = payment::parse_payment_required(json::parse(price.dump()));
        if (!required) throw std::invalid_argument("x402 price: " + required.error().message());
        if (required->accepts.empty()) throw std::invalid_argument("x402 price: accepts is empty");
        payment::RouteRequirements route;
        route.accepts = std::move(required->accepts);
        route.resource = std::move(required->resource);
        route.x402_version = required->x402_version;
        route.extensions = std::move(required->extensions);
        return route;
    }

    json json_;
    payment::RouteRequirements requirements_;
};

/// The parsed price of a tool, resource, template or prompt named `what`
/// ("tool echo"); null for nullopt (free). Throws std::invalid_argument for
/// a null price or one Price refuses.
inline std::shared_ptr<const Price> make_price(const std::optional<json>& price, payment::Settlement settlement,
                                               const std::string& what) {
    if (!price) return nullptr;
    if (price->is_null()) throw std::invalid_argument(what + ": price must not be null (use nullopt for free)");
    return std::make_shared<const Price>(*price, settlement);
}

}  // namespace x402::mcp
