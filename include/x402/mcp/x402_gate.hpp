// The real PaymentGate: x402 payments over MCP through the x402 payment hook
// (include/x402/payment/hook.hpp). CMake target x402::mcp_x402 (x402::mcp +
// x402::payment); add a verifier's target (x402::payment_local for
// LocalVerifier, x402::payment_facilitator for FacilitatorVerifier).
//
//     auto hook = std::make_shared<x402::payment::PaymentHook<x402::payment::LocalVerifier>>(
//         sessions, x402::payment::LocalVerifier{});
//     server.set_payment_gate(x402::mcp::make_x402_gate(hook));
//
// For each call of a priced tool:
//   Tool::price (a PaymentRequired JSON without `error`)  → RouteRequirements
//   params._meta["x402/payment"]                          → PaymentInput::from_mcp_meta
//   the handler runs in the verified payer's session context (the hook);
//   the SettleResponse goes in result._meta["x402/payment-response"];
//   a refusal (no payment, invalid, replayed, failed settlement) becomes the
//   x402 MCP payment-required tool error, its PaymentRequired carrying the
//   reason in `error`.
//
// The same hook also serves plain HTTP routes (http_route.hpp) with the
// payment in the X-PAYMENT (v1) / PAYMENT-SIGNATURE (v2) header:
//
//     server.set_http_payment_gate(x402::mcp::make_x402_http_gate(hook));
//
//   verified → the handler's response + X-PAYMENT-RESPONSE / PAYMENT-RESPONSE;
//   refused  → 402, the v2 PAYMENT-REQUIRED header (when the refusal is v2)
//              and the PaymentRequired as JSON body (the v1 form).
#pragma once

#include <x402/mcp/http_route.hpp>
#include <x402/mcp/payment_gate.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/types.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

/// The route requirements of a tool price: a PaymentRequired JSON object
/// (x402Version, resource, accepts; an `error` field is ignored). Throws
/// std::invalid_argument naming the problem. Call it at start-up on every
/// price to fail early (see check_x402_price).
inline payment::RouteRequirements x402_route_requirements(const json& price) {
    // Through text and back, as it would arrive over the wire: a price written
    // in C++ as {"maxTimeoutSeconds", 60} holds a signed integer, which the
    // x402 parser (strictly: a non-negative integer) would refuse.
    auto required = payment::parse_payment_required(json::parse(price.dump()));
    if (!required) throw std::invalid_argument("x402 tool price: " + required.error().message());
    if (required->accepts.empty()) throw std::invalid_argument("x402 tool price: accepts is empty");
    payment::RouteRequirements route;
    route.accepts = std::move(required->accepts);
    route.resource = std::move(required->resource);
    route.x402_version = required->x402_version;
    route.extensions = std::move(required->extensions);
    return route;
}

/// Throws std::invalid_argument unless `price` is a usable x402 tool price.
inline void check_x402_price(const json& price) { (void)x402_route_requirements(price); }

/// A PaymentGate (a copyable callable) over a shared PaymentHook. The hook is
/// shared so that every copy of the gate uses one replay guard.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard = payment::InMemoryReplayGuard>
class X402PaymentGate {
public:
    using Hook = payment::PaymentHook<Verifier, Guard>;

    explicit X402PaymentGate(std::shared_ptr<Hook> hook) : hook_(std::move(hook)) {
        if (!hook_) throw std::invalid_argument("X402PaymentGate: null hook");
    }

    awaitable<GateOutcome> operator()(PaidToolCall call) const {
        payment::RouteRequirements route = x402_route_requirements(call.price);
        payment::PaymentInput input = payment::PaymentInput::from_mcp_meta(std::move(call.payment));
        ToolInvocation invoke = std::move(call.invoke);
        std::shared_ptr<Hook> hook = hook_;  // keeps the hook alive across the suspension
        auto op = hook->run(std::move(input), std::move(route), std::move(invoke));
        payment::PaymentOutcome<ToolResult> outcome = co_await std::move(op);
        if (outcome.refused()) co_return GateOutcome::refused(outcome.refusal().mcp_structured_content());
        json receipt = payment::to_json(*outcome.settlement());
        co_return GateOutcome::settled(std::move(outcome.result()), std::move(receipt));
    }

    Hook& hook() const noexcept { return *hook_; }

private:
    std::shared_ptr<Hook> hook_;
};

/// The PaymentGate of `hook`; see the top of this header.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard>
PaymentGate make_x402_gate(std::shared_ptr<payment::PaymentHook<Verifier, Guard>> hook) {
    return PaymentGate(X402PaymentGate<Verifier, Guard>(std::move(hook)));
}

/// An HttpPaymentGate (a copyable callable) over a shared PaymentHook; see
/// the top of this header. Share the hook with the MCP gate so that both use
/// one replay guard.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard = payment::InMemoryReplayGuard>
class X402HttpPaymentGate {
public:
    using Hook = payment::PaymentHook<Verifier, Guard>;

    explicit X402HttpPaymentGate(std::shared_ptr<Hook> hook) : hook_(std::move(hook)) {
        if (!hook_) throw std::invalid_argument("X402HttpPaymentGate: null hook");
    }

    awaitable<HttpResponse> operator()(PaidHttpRequest request) const {
        payment::RouteRequirements route = x402_route_requirements(request.price);
        payment::PaymentInput input = payment::PaymentInput::from_headers(request.header);
        HttpInvocation invoke = std::move(request.invoke);
        std::shared_ptr<Hook> hook = hook_;  // keeps the hook alive across the suspension
        auto op = hook->run(std::move(input), std::move(route), std::move(invoke));
        payment::PaymentOutcome<HttpResponse> outcome = co_await std::move(op);
        if (outcome.refused()) {
            const payment::PaymentRefusal& refusal = outcome.refusal();
            HttpResponse refused;
            refused.status = 402;
            refused.content_type = "application/json";
            refused.body = refusal.body();
            if (auto header = refusal.header()) refused.headers.emplace_back(header->name, header->value);
            co_return refused;
        }
        HttpResponse response = std::move(outcome.result());
        if (auto receipt = outcome.response_header()) response.headers.emplace_back(receipt->name, receipt->value);
        co_return response;
    }

    Hook& hook() const noexcept { return *hook_; }

private:
    std::shared_ptr<Hook> hook_;
};

/// The HttpPaymentGate of `hook`; see the top of this header.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard>
HttpPaymentGate make_x402_http_gate(std::shared_ptr<payment::PaymentHook<Verifier, Guard>> hook) {
    return HttpPaymentGate(X402HttpPaymentGate<Verifier, Guard>(std::move(hook)));
}

}  // namespace x402::mcp
