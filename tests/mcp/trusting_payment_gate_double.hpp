// TEST DOUBLE, NEVER SHIP: a PaymentGate that believes whichever payer the
// request names. Only the endpoint/HTTP unit tests use it, to run paid tools
// in a chosen payer's session without signing payments; the real gate
// (x402/mcp/x402_gate.hpp) is tested with signed payments ([x402gate] tests,
// mcp.interop.official_clients). Anyone can claim any payer through it: it
// lives in tests/ only, on purpose.
//
// The "payment" it reads is `params._meta["x402/payment"] = {"testPayer": "0x…"}`.
// With no payment (or no testPayer) it answers the x402 MCP payment-required
// tool error, built from the tool's price; on success it attaches a fake
// receipt as `result._meta["x402/payment-response"]`.
#pragma once

#include <x402/mcp/payment_gate.hpp>
#include <x402/session/plugin.hpp>

#include <optional>
#include <string>
#include <utility>

namespace x402::mcp::testing {

class TrustingPaymentGateDouble {
public:
    /// The field of `_meta["x402/payment"]` naming the payer.
    static constexpr const char* payer_field = "testPayer";

    explicit TrustingPaymentGateDouble(session::SessionPlugin sessions) : sessions_(std::move(sessions)) {}

    awaitable<GateDecision> operator()(GateRequest call) const {
        const json payment = call.payment.mcp_meta().value_or(nullptr);
        const json* payer = nullptr;
        if (payment.is_object()) {
            const auto found = payment.find(payer_field);
            if (found != payment.end() && found->is_string() && !found->get<std::string>().empty())
                payer = &*found;
        }
        if (payer == nullptr) co_return GateDecision::refuse(payment_required(call, "payment_required"));

        const std::string who = payer->get<std::string>();
        std::optional<session::VerifiedPayer> verified = session::VerifiedPayer::assume_verified(who);
        auto op = sessions_.run(std::move(verified), call.invoke);
        co_await std::move(op);
        json receipt = {{"success", true}, {"transaction", "0xtest-double"}, {"network", "test-double"}, {"payer", who}};
        co_return GateDecision::served(std::move(receipt));
    }

    /// The PaymentRequired answer: the price with `error` set.
    static json payment_required(const GateRequest& call, std::string error) {
        const json& price = call.price->as_json();
        json required = price.is_object() ? price : json{{"accepts", json::array({price})}};
        if (!required.contains("x402Version")) required["x402Version"] = 2;
        required["error"] = std::move(error);
        return required;
    }

private:
    session::SessionPlugin sessions_;
};

}  // namespace x402::mcp::testing
