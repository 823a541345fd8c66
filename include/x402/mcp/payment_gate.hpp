// The seam between the MCP server and x402 payments: for a priced tool the
// server hands the call to a PaymentGate, which verifies the payment in
// `params._meta["x402/payment"]`, runs the handler in the verified payer's
// session context, settles, and answers with the handler's result plus
// `result._meta["x402/payment-response"]`, or with a payment-required tool
// error (x402 MCP transport, x402-protocol.md §1.2).
#pragma once

#include <x402/mcp/tool.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace x402::mcp {

/// `params._meta` key of the payment (a PaymentPayload JSON object).
inline constexpr std::string_view payment_meta_key = "x402/payment";
/// `result._meta` key of the settlement receipt (a SettleResponse JSON object).
inline constexpr std::string_view payment_response_meta_key = "x402/payment-response";

/// Runs the tool's handler. Call it at most once, and only inside the
/// verified payer's context, e.g. `co_await sessions.run(payer, call.invoke)`.
using ToolInvocation = std::function<awaitable<ToolResult>()>;

/// One call of a priced tool, as the server hands it to the gate. Not an
/// aggregate (g++ 12 miscompiles braced aggregates with strings inside
/// co_await): build it with the constructor.
struct PaidToolCall {
    PaidToolCall(std::string tool_name, json tool_price, json tool_payment, ToolInvocation tool_invoke)
        : tool(std::move(tool_name)),
          price(std::move(tool_price)),
          payment(std::move(tool_payment)),
          invoke(std::move(tool_invoke)) {}

    /// The tool's name (e.g. for the resource URL "mcp://tool/<name>").
    std::string tool;
    /// Tool::price as registered.
    json price;
    /// `params._meta["x402/payment"]` of the request; null when absent.
    json payment;
    /// Runs the handler; see ToolInvocation.
    ToolInvocation invoke;
};

/// What the gate answers.
struct GateOutcome {
    /// The handler's result, or a payment-required / payment-invalid /
    /// settlement-failed tool error (see payment_required_result).
    ToolResult result;
    /// Merged into `result._meta`; null for none. A paid, settled call puts
    /// `{"x402/payment-response": SettleResponse}` here (see settled()).
    json result_meta = nullptr;

    /// The handler's result with the settlement receipt.
    static GateOutcome settled(ToolResult result, json settle_response) {
        GateOutcome outcome;
        outcome.result = std::move(result);
        outcome.result_meta = json::object();
        outcome.result_meta[std::string(payment_response_meta_key)] = std::move(settle_response);
        return outcome;
    }

    /// A refusal: see payment_required_result.
    static GateOutcome refused(json payment_required) {
        GateOutcome outcome;
        outcome.result = payment_required_result(std::move(payment_required));
        return outcome;
    }

    /// The x402 MCP form of "payment required" (and of invalid payments and
    /// failed settlements): `isError: true`, `structuredContent` = the
    /// PaymentRequired object, `content[0].text` = the same JSON as a string.
    static ToolResult payment_required_result(json payment_required) {
        ToolResult result;
        result.content.push_back(payment_required.dump());
        result.structured_content = std::move(payment_required);
        result.is_error = true;
        return result;
    }
};

/// The gate the server calls for every priced tool; free tools never reach
/// it (they run with no session). It must not let the handler see a payer
/// that was not verified. Called concurrently from several requests.
///
/// The x402 hook plugs in here (include/x402/payment/hook.hpp): use
/// x402::mcp::make_x402_gate (include/x402/mcp/x402_gate.hpp, target
/// x402::mcp_x402). With the agent server's price format (a PaymentRequired
/// without `error`) it does, roughly:
///
///     PaymentGate gate = [&hook](PaidToolCall call) -> awaitable<GateOutcome> {
///         auto required = x402::payment::parse_payment_required(call.price);  // checked at start-up
///         x402::payment::RouteRequirements route;
///         route.accepts = required->accepts;
///         route.resource = required->resource;
///         auto input = x402::payment::PaymentInput::from_mcp_meta(call.payment);
///         auto op = hook.run(std::move(input), std::move(route), call.invoke);
///         auto outcome = co_await std::move(op);
///         if (outcome.refused()) co_return GateOutcome::refused(outcome.refusal().mcp_structured_content());
///         co_return GateOutcome::settled(std::move(outcome.result()), to_json(*outcome.settlement()));
///     };
///
/// Exceptions it throws become an `isError` result "Error: <what()>".
using PaymentGate = std::function<awaitable<GateOutcome>(PaidToolCall call)>;

}  // namespace x402::mcp
