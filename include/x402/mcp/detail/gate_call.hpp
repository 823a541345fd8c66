// The free / priced / no-gate / failed branches of one call, written once for
// tools, resources and prompts (endpoint.hpp) and plain HTTP routes
// (detail/server.hpp).
#pragma once

#include <x402/http/message.hpp>
#include <x402/mcp/payment_gate.hpp>
#include <x402/mcp/tool.hpp>
#include <x402/payment/detail/hex.hpp>
#include <x402/session/plugin.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp::detail {

/// How one call went; the transport renders it.
template <class Result>
struct GateCall {
    /// The handler's result (free, or paid and served).
    std::optional<Result> result;
    /// The gate's decision (priced calls only).
    GateDecision decision;
    /// Priced, but the server has no gate.
    bool no_gate = false;
    /// What the handler or the gate threw.
    std::optional<std::string> failure;
};

/// A `resources/read` or `prompts/get` answer: the JSON-RPC `result`, or the
/// `error` object of the RequestError its handler threw.
struct RpcResult {
    json result = nullptr;
    json error = nullptr;
};

/// Whether a handler's result is a failure the payment must not be charged for.
inline bool failed_result(const ToolResult& result) noexcept { return result.is_error; }
inline bool failed_result(const http::Response& response) noexcept { return response.status >= 400; }
inline bool failed_result(const RpcResult& result) noexcept { return !result.error.is_null(); }

// A result as a payment identifier's record holds it (HandlerRan::answer),
// and back. An HTTP body may be any bytes, so it is kept as hex.
inline json answer_of(const ToolResult& result) { return result.to_json(); }
inline json answer_of(const http::Response& response) {
    return json{{"status", response.status}, {"contentType", response.content_type}, {"headers", response.headers},
                {"body", payment::detail::to_hex(response.body)}};
}
inline json answer_of(const RpcResult& result) { return json{{"result", result.result}, {"error", result.error}}; }
inline void answer_from(const json& answer, RpcResult& result) {
    result.result = answer.at("result");
    result.error = answer.at("error");
}
inline void answer_from(const json& answer, ToolResult& result) {
    for (const json& item : answer.at("content")) result.content.push_back(Content::from_json(item));
    result.structured_content = answer.value("structuredContent", json(nullptr));
    result.is_error = answer.value("isError", false);
}
inline void answer_from(const json& answer, http::Response& response) {
    response.status = answer.at("status").get<unsigned>();
    response.content_type = answer.at("contentType").get<std::string>();
    response.headers = answer.at("headers").get<std::vector<std::pair<std::string, std::string>>>();
    const auto body = payment::detail::parse_hex_bytes(answer.at("body").get<std::string>());
    if (!body) throw std::invalid_argument("payment identifier record: malformed body");
    response.body.assign(body->begin(), body->end());
}

template <class Result>
awaitable<HandlerRan> run_into(std::function<awaitable<Result>()> handler, std::shared_ptr<std::optional<Result>> slot) {
    *slot = co_await handler();
    HandlerRan ran;
    ran.failed = failed_result(**slot);
    ran.answer = [slot] { return answer_of(**slot); };
    co_return ran;
}

/// Runs `handler`: with no payer when `price` is null, else through `gate`.
template <class Result>
awaitable<GateCall<Result>> call_through_gate(const PaymentGate& gate,
                                              std::string target, std::shared_ptr<const Price> price,
                                              payment::PaymentInput payment,
                                              std::function<awaitable<Result>()> handler, std::string fingerprint) {
    GateCall<Result> call;
    try {
        if (!price) {
            auto op = session::run_without_payer(std::move(handler));
            call.result = co_await std::move(op);
        } else if (!gate) {
            call.no_gate = true;
        } else {
            auto slot = std::make_shared<std::optional<Result>>();
            GateInvocation invoke = [handler = std::move(handler), slot]() { return run_into<Result>(handler, slot); };
            GateRequest request(std::move(target), std::move(price), std::move(payment), std::move(invoke));
            request.fingerprint = std::move(fingerprint);
            auto op = gate(std::move(request));
            call.decision = co_await std::move(op);
            if (!call.decision.replayed_answer.is_null()) {
                Result replayed;
                answer_from(call.decision.replayed_answer, replayed);
                call.result = std::move(replayed);
            } else if (!call.decision.refused()) {
                if (!*slot) throw std::logic_error("the payment gate served the call without running its handler");
                call.result = std::move(**slot);
            }
        }
    } catch (const std::exception& error) {
        call.failure = error.what();
    } catch (...) {
        call.failure = "unknown exception";
    }
    co_return call;
}

}  // namespace x402::mcp::detail
