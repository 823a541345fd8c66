// The x402 `payment-identifier` extension: a client-chosen id in the payment
// (`extensions["payment-identifier"].info.id`) that makes a retry
// idempotent. What the extension defines (the npm package
// @x402/extensions/payment-identifier): the server declares it in the 402's
// `extensions` as {info: {required}, schema}; an id is 16 to 128 characters
// of A-Z, a-z, 0-9, `-` and `_`. What the hook does with it: hook.hpp.
#pragma once

#include <x402/payment/error.hpp>
#include <x402/payment/types.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace x402::payment {

/// The extension's key in `extensions`.
inline constexpr std::string_view payment_identifier_extension = "payment-identifier";
inline constexpr std::size_t payment_identifier_min_length = 16;
inline constexpr std::size_t payment_identifier_max_length = 128;

namespace reason {
/// A route that requires a payment identifier got a payment without one (HTTP 400).
inline constexpr std::string_view payment_identifier_required = "payment_identifier_required";
/// The payment's identifier is not 16-128 characters of [A-Za-z0-9_-], or not a string (HTTP 400).
inline constexpr std::string_view invalid_payment_identifier = "invalid_payment_identifier";
/// The identifier was already used by this payer for another request, or
/// its first request is still running (HTTP 409).
inline constexpr std::string_view payment_identifier_conflict = "payment_identifier_conflict";
}  // namespace reason

/// Whether a route takes payment identifiers.
enum class PaymentIdentifierUse {
    /// Not declared; an id sent anyway is ignored (each payment is its own request).
    off,
    /// Declared with required: false; a payment with an id is idempotent.
    optional,
    /// Declared with required: true; a payment without an id is refused (400).
    required,
};

/// The extension's declaration for a 402's `extensions`.
inline json payment_identifier_declaration(bool required) {
    json schema = {
        {"$schema", "https://json-schema.org/draft/2020-12/schema"},
        {"type", "object"},
        {"properties",
         {{"required", {{"type", "boolean"}}},
          {"id",
           {{"type", "string"},
            {"minLength", payment_identifier_min_length},
            {"maxLength", payment_identifier_max_length},
            {"pattern", "^[a-zA-Z0-9_-]+$"}}}}},
        {"required", json::array({"required"})},
    };
    return json{{"info", {{"required", required}}}, {"schema", std::move(schema)}};
}

/// Whether `id` is 16-128 characters of [A-Za-z0-9_-].
inline bool is_valid_payment_identifier(std::string_view id) noexcept {
    if (id.size() < payment_identifier_min_length || id.size() > payment_identifier_max_length) return false;
    for (const char c : id) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                             c == '_';
        if (!allowed) return false;
    }
    return true;
}

/// The payment's identifier: nullopt when the payment has none (no
/// extension, or one without `info.id`), an Error
/// (reason::invalid_payment_identifier) when it is malformed.
inline Result<std::optional<std::string>> payment_identifier_of(const PaymentPayload& payment) {
    if (!payment.extensions.is_object()) return std::optional<std::string>();
    const auto extension = payment.extensions.find(std::string(payment_identifier_extension));
    if (extension == payment.extensions.end()) return std::optional<std::string>();
    const Error malformed(reason::invalid_payment_identifier,
                          "payment-identifier: info.id must be 16 to 128 characters of A-Z, a-z, 0-9, - and _");
    if (!extension->is_object()) return malformed;
    const auto info = extension->find("info");
    if (info == extension->end() || !info->is_object()) return malformed;
    const auto id = info->find("id");
    if (id == info->end()) return std::optional<std::string>();
    if (!id->is_string() || !is_valid_payment_identifier(id->get_ref<const std::string&>())) return malformed;
    return std::optional<std::string>(id->get<std::string>());
}

}  // namespace x402::payment
