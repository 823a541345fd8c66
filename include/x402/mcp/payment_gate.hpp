// The one payment seam of the MCP server: a priced tool and a priced plain
// HTTP route both hand their call to a PaymentGate. The gate verifies the
// payment, runs the handler in the verified payer's session context, settles,
// and answers served (with a receipt) or refused (with a PaymentRequired).
// Prices are parsed and checked once, when the tool or route is registered.
// The transports only render the decision: MCP as the result's `_meta` or the
// x402 payment-required tool error, HTTP as headers or a 402.
#pragma once

#include <x402/mcp/price.hpp>
#include <x402/mcp/tool.hpp>
#include <x402/payment/headers.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/types.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace x402::mcp {

/// `params._meta` key of the payment: a PaymentPayload JSON object, or the
/// base64 string a PAYMENT-SIGNATURE header would carry.
inline constexpr std::string_view payment_meta_key = "x402/payment";
/// `result._meta` key of the settlement receipt (a SettleResponse JSON object).
inline constexpr std::string_view payment_response_meta_key = "x402/payment-response";

/// What a GateInvocation returns: the handler ran (its result stays with the
/// server), and whether its result is a failure (an `isError` tool result, an
/// HTTP status >= 400), which an after_handler gate must not charge for.
struct HandlerRan {
    bool failed = false;
    /// The call's answer as JSON (a CallToolResult, an HTTP response), made
    /// only when the hook records it for a payment identifier.
    std::function<json()> answer;
};

/// The record form of HandlerRan (payment::RecordableResult): a retry with
/// the same payment identifier gets the recorded answer back.
inline void to_json(json& out, const HandlerRan& ran) {
    out = json{{"failed", ran.failed}, {"answer", ran.answer ? ran.answer() : json(nullptr)}};
}
inline void from_json(const json& in, HandlerRan& ran) {
    ran.failed = in.at("failed").get<bool>();
    ran.answer = [answer = in.at("answer")] { return answer; };
}

/// Runs the tool's or route's handler. Call it at most once, and only inside
/// the verified payer's context, e.g. `co_await sessions.run(payer, request.invoke)`.
using GateInvocation = std::function<awaitable<HandlerRan>()>;

/// One priced call, of a tool or of a route, as the server hands it to the
/// gate. Not an aggregate (g++ 12 miscompiles braced aggregates with strings
/// inside co_await): build it with the constructor. Later per-request policy
/// (when to settle, which session keys the handler may write) belongs here.
struct GateRequest {
    GateRequest(std::string call_target, std::shared_ptr<const Price> call_price, payment::PaymentInput call_payment,
                GateInvocation call_invoke)
        : target(std::move(call_target)),
          price(std::move(call_price)),
          payment(std::move(call_payment)),
          invoke(std::move(call_invoke)) {}

    /// The tool's name or the route's path.
    std::string target;
    /// The price as parsed at registration; never null.
    std::shared_ptr<const Price> price;
    /// The payment: `params._meta["x402/payment"]` or the payment headers.
    payment::PaymentInput payment;
    /// Runs the handler; see GateInvocation.
    GateInvocation invoke;
    /// What else makes this call itself, beside its target: the tool's
    /// arguments, the route's method, query and body. A retry with a payment
    /// identifier must repeat it exactly.
    std::string fingerprint;
};

/// The gate's answer: served (the handler ran; a receipt) or refused.
struct GateDecision {
    /// Refused: the PaymentRequired to answer with (its `error` the reason);
    /// null when served.
    json payment_required = nullptr;
    /// Refused, HTTP: the v2 PAYMENT-REQUIRED header.
    std::optional<payment::HttpHeader> refusal_header;
    /// Served: the SettleResponse JSON, for MCP `result._meta`; null for none
    /// (a free call, or a failed result nothing was charged for). Also set
    /// on a refusal when the payment did settle.
    json receipt = nullptr;
    /// Served, HTTP: the X-PAYMENT-RESPONSE / PAYMENT-RESPONSE header. Also
    /// set on a refusal when the payment did settle (session_commit_failed).
    std::optional<payment::HttpHeader> receipt_header;
    /// Served from a payment identifier's record: the first call's answer
    /// (as HandlerRan::answer made it), sent instead of running the handler
    /// again; null otherwise.
    json replayed_answer = nullptr;
    /// Served from a payment identifier's record: nothing was paid now.
    bool replayed = false;
    /// Refused: 402, or 400 / 409 when paying again would not help (a
    /// payment identifier missing, malformed or in conflict), which MCP
    /// answers as a plain tool error with `refusal_message`.
    unsigned http_status = 402;
    std::string refusal_message;

    bool refused() const noexcept { return !payment_required.is_null(); }

    /// The handler ran and the payment settled.
    static GateDecision served(json receipt, std::optional<payment::HttpHeader> header = std::nullopt) {
        GateDecision decision;
        decision.receipt = std::move(receipt);
        decision.receipt_header = std::move(header);
        return decision;
    }
    /// No payment, an invalid or replayed one, or a failed settlement.
    /// `payment_required` must be a JSON object.
    static GateDecision refuse(json payment_required, std::optional<payment::HttpHeader> header = std::nullopt) {
        if (!payment_required.is_object()) throw std::invalid_argument("GateDecision::refuse needs a PaymentRequired object");
        GateDecision decision;
        decision.payment_required = std::move(payment_required);
        decision.refusal_header = std::move(header);
        return decision;
    }
};

/// The gate the server calls for every priced tool and every priced route;
/// free ones never reach it (they run with no session). It must not let the
/// handler see a payer that was not verified. Called concurrently. Exceptions
/// it throws become an `isError` result / a 500 "Error: <what()>". The x402
/// one: make_x402_gate (x402_gate.hpp).
using PaymentGate = std::function<awaitable<GateDecision>(GateRequest request)>;

/// The x402 MCP form of "payment required" (and of invalid payments and
/// failed settlements): `isError: true`, `structuredContent` = the
/// PaymentRequired object, `content[0].text` = the same JSON as a string.
inline ToolResult payment_required_result(json payment_required) {
    ToolResult result;
    result.content.push_back(payment_required.dump());
    result.structured_content = std::move(payment_required);
    result.is_error = true;
    return result;
}

}  // namespace x402::mcp
