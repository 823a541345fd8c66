// The real PaymentGate: x402 payments through the x402 payment hook
// (include/x402/payment/hook.hpp), for priced tools and priced HTTP routes
// alike. CMake target x402::mcp (x402::http + x402::payment); add a
// verifier's target (x402::payment_local for LocalVerifier,
// x402::payment_facilitator for FacilitatorVerifier).
//
//     auto hook = std::make_shared<x402::payment::PaymentHook<x402::payment::LocalVerifier>>(
//         sessions, x402::payment::LocalVerifier{});
//     auto gate = x402::mcp::make_x402_gate(hook);
//     server.set_payment_gate(gate);        // priced tools
//     server.set_http_payment_gate(gate);   // priced HTTP routes
//
// For each priced call: the price's requirements (parsed at registration),
// the payment from params._meta["x402/payment"] or the X-PAYMENT (v1) /
// PAYMENT-SIGNATURE (v2) header; the handler runs in the verified payer's
// session context (the hook). Served: the SettleResponse goes in
// result._meta["x402/payment-response"] or the X-PAYMENT-RESPONSE /
// PAYMENT-RESPONSE header. Refused (no payment, invalid, replayed, failed
// settlement): the x402 MCP payment-required tool error, or 402 with the v2
// PAYMENT-REQUIRED header (when the refusal is v2) and the PaymentRequired as
// JSON body; its PaymentRequired carries the reason in `error`.
#pragma once

#include <x402/mcp/payment_gate.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/types.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

/// A PaymentGate (a copyable callable) over a shared PaymentHook. The hook is
/// shared so that every copy of the gate uses one replay guard.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard = payment::InMemoryReplayGuard>
class X402PaymentGate {
public:
    using Hook = payment::PaymentHook<Verifier, Guard>;

    explicit X402PaymentGate(std::shared_ptr<Hook> hook) : hook_(std::move(hook)) {
        if (!hook_) throw std::invalid_argument("X402PaymentGate: null hook");
    }

    awaitable<GateDecision> operator()(GateRequest request) const {
        payment::RouteRequirements route = request.price->requirements();
        route.request_fingerprint = request.target + '\n' + request.fingerprint;
        GateInvocation invoke = std::move(request.invoke);
        std::shared_ptr<Hook> hook = hook_;  // keeps the hook alive across the suspension
        auto op = hook->run(std::move(request.payment), std::move(route), std::move(invoke),
                            [](const HandlerRan& ran) { return ran.failed; });
        payment::PaymentOutcome<HandlerRan> outcome = co_await std::move(op);
        if (outcome.refused()) {
            const payment::PaymentRefusal& refusal = outcome.refusal();
            GateDecision decision = GateDecision::refuse(refusal.mcp_structured_content(), refusal.header());
            decision.http_status = refusal.http_status;
            decision.refusal_message = refusal.message;
            if (refusal.settlement && refusal.settlement->success) {
                decision.receipt = payment::to_json(*refusal.settlement);
                decision.receipt_header = payment::HttpHeader{
                    std::string(payment::payment_response_header_name(refusal.payment_required.x402_version)),
                    payment::encode_payment_response_header(*refusal.settlement)};
            }
            co_return decision;
        }
        json receipt = outcome.settlement() ? payment::to_json(*outcome.settlement()) : json(nullptr);
        GateDecision decision = GateDecision::served(std::move(receipt), outcome.response_header());
        decision.replayed = outcome.replayed();
        if (outcome.replayed() && outcome.result().answer) decision.replayed_answer = outcome.result().answer();
        co_return decision;
    }

    Hook& hook() const noexcept { return *hook_; }

private:
    std::shared_ptr<Hook> hook_;
};

/// The PaymentGate of `hook`, for priced tools and priced routes; see the top of this header.
template <payment::PaymentVerifier Verifier, payment::ReplayGuard Guard>
PaymentGate make_x402_gate(std::shared_ptr<payment::PaymentHook<Verifier, Guard>> hook) {
    return PaymentGate(X402PaymentGate<Verifier, Guard>(std::move(hook)));
}

}  // namespace x402::mcp
