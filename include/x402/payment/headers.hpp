// x402 HTTP header names and the base64(JSON) header codecs (reference §1.1),
// plus the MCP `_meta` keys (reference §1.2).
#pragma once

#include <x402/payment/base64.hpp>
#include <x402/payment/error.hpp>
#include <x402/payment/types.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::payment {

/// Header names as the official code spells them. HTTP header names are
/// case-insensitive: compare with header_name_equals.
namespace header {
/// v1 payment (client → server); carries v1 only.
inline constexpr std::string_view x_payment = "X-PAYMENT";
/// v2 payment (client → server); the official v2 server accepts v1 and v2 here.
inline constexpr std::string_view payment_signature = "PAYMENT-SIGNATURE";
/// v2 402 answer (server → client).
inline constexpr std::string_view payment_required = "PAYMENT-REQUIRED";
/// v1 settlement receipt (server → client).
inline constexpr std::string_view x_payment_response = "X-PAYMENT-RESPONSE";
/// v2 settlement receipt (server → client).
inline constexpr std::string_view payment_response = "PAYMENT-RESPONSE";
}  // namespace header

/// MCP `_meta` keys.
namespace mcp_meta {
inline constexpr std::string_view payment = "x402/payment";
inline constexpr std::string_view payment_response = "x402/payment-response";
}  // namespace mcp_meta

/// The receipt header of protocol `version`: X-PAYMENT-RESPONSE for 1, PAYMENT-RESPONSE otherwise.
constexpr std::string_view payment_response_header_name(int version) noexcept {
    return version == 1 ? header::x_payment_response : header::payment_response;
}

/// ASCII case-insensitive comparison, as HTTP compares header names.
constexpr bool header_name_equals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
        if (x != y) return false;
    }
    return true;
}

/// The deepest JSON nesting a decoded header may have. Payments nest 3 deep;
/// the limit keeps recursive JSON code (comparison, printing) off deep stacks.
inline constexpr std::size_t max_json_depth = 16;

namespace detail {

/// The maximum nesting depth of JSON text, ignoring brackets inside strings.
inline std::size_t json_nesting_depth(std::string_view text) noexcept {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
        else if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return deepest;
}

/// The maximum nesting depth of a parsed JSON value, without recursion
/// (stops counting past `limit`).
inline std::size_t json_nesting_depth(const json& root, std::size_t limit) {
    std::vector<std::pair<const json*, std::size_t>> pending{{&root, 0}};
    std::size_t deepest = 0;
    while (!pending.empty()) {
        auto [node, depth] = pending.back();
        pending.pop_back();
        if (!node->is_structured()) continue;
        deepest = std::max(deepest, depth + 1);
        if (deepest > limit) return deepest;
        for (const json& child : *node) pending.emplace_back(&child, depth + 1);
    }
    return deepest;
}

}  // namespace detail

/// Parses JSON text from a client into an object. Errors (reason invalid_payload):
/// "json: nested deeper than 16 levels", "json: not valid JSON", "json: not an object".
inline Result<json> parse_json_object(std::string_view text) {
    if (detail::json_nesting_depth(text) > max_json_depth)
        return Error(reason::invalid_payload, "json: nested deeper than 16 levels");
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Error(reason::invalid_payload, "json: not valid JSON");
    if (!j.is_object()) return Error(reason::invalid_payload, "json: not an object");
    return j;
}

/// Decodes a base64(JSON object) header value; errors as base64_decode and parse_json_object.
inline Result<json> decode_header_json(std::string_view value) {
    auto text = base64_decode(value);
    if (!text) return text.error();
    return parse_json_object(*text);
}

/// JSON text as JSON.stringify writes it; never throws (invalid UTF-8 in a
/// string is replaced by U+FFFD).
inline std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Decodes the payment sent in header `name` (X-PAYMENT or PAYMENT-SIGNATURE,
/// any case). X-PAYMENT must carry v1 (the legacy server reads only v1 there);
/// PAYMENT-SIGNATURE may carry v1 or v2 (as the official v2 server).
/// Errors: those of decode_header_json and parse_payment_payload, plus
/// invalid_payload "payment: X is not a payment header" and
/// invalid_x402_version "payment: X-PAYMENT carries x402Version 1 only".
inline Result<PaymentPayload> decode_payment_header(std::string_view name, std::string_view value) {
    const bool legacy = header_name_equals(name, header::x_payment);
    if (!legacy && !header_name_equals(name, header::payment_signature))
        return Error(reason::invalid_payload, "payment: " + std::string(name) + " is not a payment header");
    auto j = decode_header_json(value);
    if (!j) return j.error();
    auto payment = parse_payment_payload(*j);
    if (!payment) return payment.error();
    if (legacy && payment->x402_version != 1)
        return Error(reason::invalid_x402_version, "payment: X-PAYMENT carries x402Version 1 only");
    return payment;
}

/// Decodes MCP `params._meta["x402/payment"]` (a JSON object, not base64);
/// errors as parse_payment_payload, and the same nesting limit as headers.
inline Result<PaymentPayload> decode_mcp_payment(const json& meta_payment) {
    if (detail::json_nesting_depth(meta_payment, max_json_depth) > max_json_depth)
        return Error(reason::invalid_payload, "json: nested deeper than 16 levels");
    return parse_payment_payload(meta_payment);
}

/// base64(JSON) of a payment: the X-PAYMENT / PAYMENT-SIGNATURE value.
inline std::string encode_payment_header(const PaymentPayload& payment) { return base64_encode(dump_json(to_json(payment))); }

/// base64(JSON) of a 402 answer: the PAYMENT-REQUIRED value.
inline std::string encode_payment_required_header(const PaymentRequired& required) {
    return base64_encode(dump_json(to_json(required)));
}

/// Decodes a PAYMENT-REQUIRED value (client side and tests).
inline Result<PaymentRequired> decode_payment_required_header(std::string_view value) {
    auto j = decode_header_json(value);
    if (!j) return j.error();
    return parse_payment_required(*j);
}

/// base64(JSON) of a settlement: the X-PAYMENT-RESPONSE / PAYMENT-RESPONSE value.
inline std::string encode_payment_response_header(const SettleResponse& settlement) {
    return base64_encode(dump_json(to_json(settlement)));
}

/// Decodes an X-PAYMENT-RESPONSE / PAYMENT-RESPONSE value.
inline Result<SettleResponse> decode_payment_response_header(std::string_view value) {
    auto j = decode_header_json(value);
    if (!j) return j.error();
    return parse_settle_response(*j);
}

}  // namespace x402::payment
