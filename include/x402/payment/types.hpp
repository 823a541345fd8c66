// x402 protocol types (v1 and v2) and their JSON codecs (reference §1, §2).
//
// Parsers take untrusted JSON and return Result<T>: a wrong type, a missing
// field or a bad value is an Error, never an exception. Encoders produce what
// the official TypeScript code produces (field names, omitted optionals).
#pragma once

#include <x402/payment/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x402::payment {

using json = nlohmann::json;

/// v2's top-level description of the paid resource (v1 keeps these fields in
/// each requirement).
struct ResourceInfo {
    std::string url;
    std::string description;
    std::string mime_type;
};

/// One way to pay for a resource, as advertised by the server.
/// The same struct serves v1 and v2; `to_json(requirements, version)` picks
/// the field names.
struct PaymentRequirements {
    std::string scheme = "exact";
    /// v1 name ("base-sepolia") or v2 CAIP-2 ("eip155:84532").
    std::string network;
    /// Atomic units, decimal string; v1 `maxAmountRequired`, v2 `amount`.
    std::string amount;
    /// Token contract; also the EIP-712 verifyingContract.
    std::string asset;
    /// Recipient address.
    std::string pay_to;
    std::uint64_t max_timeout_seconds = 60;
    /// `name`/`version` = the token's EIP-712 domain; null when absent.
    json extra = nullptr;
    // v1 only (v2 moves them to PaymentRequired::resource); empty = absent.
    std::string resource;
    std::string description;
    std::string mime_type;
    /// v1 `outputSchema`; null when absent.
    json output_schema = nullptr;
};

/// The 402 answer: v1 JSON body, v2 base64 JSON in PAYMENT-REQUIRED.
struct PaymentRequired {
    int x402_version = 2;
    std::string error;
    /// v2 only.
    std::optional<ResourceInfo> resource;
    std::vector<PaymentRequirements> accepts;
    /// v2 `extensions`; null when absent.
    json extensions = nullptr;
};

/// A decoded payment (the X-PAYMENT / PAYMENT-SIGNATURE header or MCP
/// `_meta["x402/payment"]`). The scheme payload is kept as JSON because its
/// shape depends on the scheme and transfer method (EIP-3009, Permit2, ...).
struct PaymentPayload {
    int x402_version = 2;
    /// v1: top-level `scheme`; v2: `accepted.scheme`.
    std::string scheme;
    /// v1: top-level `network`; v2: `accepted.network`.
    std::string network;
    /// v2: the requirement the client chose, as sent (an object); v1: null.
    json accepted = nullptr;
    /// v2 `resource`, if sent.
    std::optional<ResourceInfo> resource;
    /// The scheme payload, e.g. {signature, authorization} (an object).
    json payload = json::object();
    /// v2 `extensions`; null when absent.
    json extensions = nullptr;
};

/// EIP-3009 `transferWithAuthorization` parameters; all strings as sent.
struct ExactEvmAuthorization {
    std::string from;
    std::string to;
    std::string value;
    std::string valid_after;
    std::string valid_before;
    std::string nonce;
};

/// The `exact` EVM EIP-3009 scheme payload.
struct ExactEvmPayload {
    /// "0x" + hex; 65 bytes for an ordinary account.
    std::string signature;
    ExactEvmAuthorization authorization;
};

/// A facilitator's answer to POST /verify.
struct VerifyResponse {
    bool is_valid = false;
    std::optional<std::string> invalid_reason;
    std::optional<std::string> invalid_message;
    /// Set on invalid answers too: read it only when is_valid (reference §2.1).
    std::optional<std::string> payer;
    json extensions = nullptr;

    static VerifyResponse valid(std::string payer) {
        VerifyResponse response;
        response.is_valid = true;
        response.payer = std::move(payer);
        return response;
    }
    static VerifyResponse invalid(const Error& error, std::optional<std::string> payer) {
        VerifyResponse response;
        response.invalid_reason = error.reason();
        response.invalid_message = error.message();
        response.payer = std::move(payer);
        return response;
    }
};

/// A facilitator's answer to POST /settle; also the X-PAYMENT-RESPONSE /
/// PAYMENT-RESPONSE receipt.
struct SettleResponse {
    bool success = false;
    std::optional<std::string> error_reason;
    std::optional<std::string> error_message;
    std::optional<std::string> payer;
    /// Transaction hash; "" when nothing was broadcast.
    std::string transaction;
    std::string network;
    std::optional<std::string> amount;
    json extensions = nullptr;
};

namespace detail {

inline const std::string* string_field(const json& object, std::string_view key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
}

inline bool has_field(const json& object, std::string_view key) { return object.find(key) != object.end(); }

inline std::optional<std::string> optional_string(const json& object, std::string_view key) {
    if (const std::string* s = string_field(object, key)) return *s;
    return std::nullopt;
}

inline json optional_json(const json& object, std::string_view key) {
    auto it = object.find(key);
    return it == object.end() ? json(nullptr) : *it;
}

inline Result<ResourceInfo> parse_resource_info(const json& j, std::string_view reason_code) {
    if (!j.is_object()) return Error(reason_code, "resource: not an object");
    const std::string* url = string_field(j, "url");
    if (url == nullptr) return Error(reason_code, "resource.url: missing or not a string");
    ResourceInfo info;
    info.url = *url;
    if (const std::string* s = string_field(j, "description")) info.description = *s;
    if (const std::string* s = string_field(j, "mimeType")) info.mime_type = *s;
    return info;
}

inline json resource_info_json(const ResourceInfo& info) {
    return json{{"url", info.url}, {"description", info.description}, {"mimeType", info.mime_type}};
}

}  // namespace detail

/// The JSON of `requirements` in protocol `version` (1 or 2), field order as
/// the official code: v1 with maxAmountRequired and the resource fields, v2
/// with amount.
inline json to_json(const PaymentRequirements& requirements, int version) {
    json j = json::object();
    j["scheme"] = requirements.scheme;
    j["network"] = requirements.network;
    if (version == 1) {
        j["maxAmountRequired"] = requirements.amount;
        j["resource"] = requirements.resource;
        j["description"] = requirements.description;
        j["mimeType"] = requirements.mime_type;
        if (!requirements.output_schema.is_null()) j["outputSchema"] = requirements.output_schema;
    } else {
        j["amount"] = requirements.amount;
    }
    j["asset"] = requirements.asset;
    j["payTo"] = requirements.pay_to;
    j["maxTimeoutSeconds"] = requirements.max_timeout_seconds;
    if (!requirements.extra.is_null()) j["extra"] = requirements.extra;
    return j;
}

/// Parses one advertised requirement. `version` 1 reads maxAmountRequired, 2
/// reads amount, 0 takes whichever is present. Errors: reason
/// invalid_payment_requirements, message "requirements: <field>: ...".
inline Result<PaymentRequirements> parse_payment_requirements(const json& j, int version = 0) {
    const auto fail = [](std::string message) {
        return Error(reason::invalid_payment_requirements, "requirements: " + std::move(message));
    };
    if (!j.is_object()) return fail("not an object");
    if (version == 0) version = detail::has_field(j, "maxAmountRequired") ? 1 : 2;
    PaymentRequirements r;
    const std::string* scheme = detail::string_field(j, "scheme");
    const std::string* network = detail::string_field(j, "network");
    const std::string* amount = detail::string_field(j, version == 1 ? "maxAmountRequired" : "amount");
    const std::string* asset = detail::string_field(j, "asset");
    const std::string* pay_to = detail::string_field(j, "payTo");
    if (scheme == nullptr) return fail("scheme: missing or not a string");
    if (network == nullptr) return fail("network: missing or not a string");
    if (amount == nullptr) return fail(version == 1 ? "maxAmountRequired: missing or not a string" : "amount: missing or not a string");
    if (asset == nullptr) return fail("asset: missing or not a string");
    if (pay_to == nullptr) return fail("payTo: missing or not a string");
    r.scheme = *scheme;
    r.network = *network;
    r.amount = *amount;
    r.asset = *asset;
    r.pay_to = *pay_to;
    auto timeout = j.find("maxTimeoutSeconds");
    if (timeout == j.end() || !timeout->is_number_unsigned())
        return fail("maxTimeoutSeconds: missing or not a non-negative integer");
    r.max_timeout_seconds = timeout->get<std::uint64_t>();
    r.extra = detail::optional_json(j, "extra");
    if (!r.extra.is_null() && !r.extra.is_object()) return fail("extra: not an object");
    if (version == 1) {
        if (const std::string* s = detail::string_field(j, "resource")) r.resource = *s;
        if (const std::string* s = detail::string_field(j, "description")) r.description = *s;
        if (const std::string* s = detail::string_field(j, "mimeType")) r.mime_type = *s;
        r.output_schema = detail::optional_json(j, "outputSchema");
    }
    return r;
}

/// The JSON of a 402 answer in its own version. v1 requirements without their
/// own resource fields take them from `resource`, if set.
inline json to_json(const PaymentRequired& required) {
    json j = json::object();
    j["x402Version"] = required.x402_version;
    j["error"] = required.error;
    if (required.x402_version != 1 && required.resource) j["resource"] = detail::resource_info_json(*required.resource);
    json accepts = json::array();
    for (PaymentRequirements r : required.accepts) {
        if (required.x402_version == 1 && required.resource) {
            if (r.resource.empty()) r.resource = required.resource->url;
            if (r.description.empty()) r.description = required.resource->description;
            if (r.mime_type.empty()) r.mime_type = required.resource->mime_type;
        }
        accepts.push_back(to_json(r, required.x402_version));
    }
    j["accepts"] = std::move(accepts);
    if (required.x402_version != 1 && !required.extensions.is_null()) j["extensions"] = required.extensions;
    return j;
}

/// Parses a 402 answer (v1 body or decoded v2 header). Errors: reason
/// invalid_payment_requirements.
inline Result<PaymentRequired> parse_payment_required(const json& j) {
    const auto fail = [](std::string message) {
        return Error(reason::invalid_payment_requirements, "payment required: " + std::move(message));
    };
    if (!j.is_object()) return fail("not an object");
    auto version = j.find("x402Version");
    if (version == j.end() || !version->is_number_integer() || (*version != 1 && *version != 2))
        return fail("x402Version: not 1 or 2");
    PaymentRequired required;
    required.x402_version = version->get<int>();
    if (const std::string* s = detail::string_field(j, "error")) required.error = *s;
    if (auto resource = j.find("resource"); resource != j.end() && required.x402_version == 2) {
        auto info = detail::parse_resource_info(*resource, reason::invalid_payment_requirements);
        if (!info) return info.error();
        required.resource = std::move(*info);
    }
    auto accepts = j.find("accepts");
    if (accepts == j.end() || !accepts->is_array()) return fail("accepts: missing or not an array");
    for (const json& entry : *accepts) {
        auto r = parse_payment_requirements(entry, required.x402_version);
        if (!r) return r.error();
        required.accepts.push_back(std::move(*r));
    }
    if (required.x402_version == 2) required.extensions = detail::optional_json(j, "extensions");
    return required;
}

/// The JSON of a payment, as the official clients send it.
inline json to_json(const PaymentPayload& payment) {
    json j = json::object();
    j["x402Version"] = payment.x402_version;
    if (payment.x402_version == 1) {
        j["scheme"] = payment.scheme;
        j["network"] = payment.network;
        j["payload"] = payment.payload;
        return j;
    }
    j["payload"] = payment.payload;
    if (payment.resource) j["resource"] = detail::resource_info_json(*payment.resource);
    j["accepted"] = payment.accepted;
    if (!payment.extensions.is_null()) j["extensions"] = payment.extensions;
    return j;
}

/// Parses a decoded payment. Errors, with the message prefix "payment: ":
/// invalid_x402_version when x402Version is not the integer 1 or 2, otherwise
/// invalid_payload (not an object, a required field missing or of the wrong
/// type: v1 scheme/network/payload, v2 accepted{scheme,network}/payload).
inline Result<PaymentPayload> parse_payment_payload(const json& j) {
    const auto fail = [](std::string message) { return Error(reason::invalid_payload, "payment: " + std::move(message)); };
    if (!j.is_object()) return fail("not a JSON object");
    auto version = j.find("x402Version");
    if (version == j.end() || !version->is_number_integer() || (*version != 1 && *version != 2))
        return Error(reason::invalid_x402_version, "payment: x402Version is not 1 or 2");
    PaymentPayload payment;
    payment.x402_version = version->get<int>();
    auto payload = j.find("payload");
    if (payload == j.end() || !payload->is_object()) return fail("payload: missing or not an object");
    payment.payload = *payload;
    if (payment.x402_version == 1) {
        const std::string* scheme = detail::string_field(j, "scheme");
        const std::string* network = detail::string_field(j, "network");
        if (scheme == nullptr) return fail("scheme: missing or not a string");
        if (network == nullptr) return fail("network: missing or not a string");
        payment.scheme = *scheme;
        payment.network = *network;
        return payment;
    }
    auto accepted = j.find("accepted");
    if (accepted == j.end() || !accepted->is_object()) return fail("accepted: missing or not an object");
    const std::string* scheme = detail::string_field(*accepted, "scheme");
    const std::string* network = detail::string_field(*accepted, "network");
    if (scheme == nullptr) return fail("accepted.scheme: missing or not a string");
    if (network == nullptr) return fail("accepted.network: missing or not a string");
    payment.scheme = *scheme;
    payment.network = *network;
    payment.accepted = *accepted;
    if (auto resource = j.find("resource"); resource != j.end()) {
        auto info = detail::parse_resource_info(*resource, reason::invalid_payload);
        if (!info) return fail(info.error().message());
        payment.resource = std::move(*info);
    }
    payment.extensions = detail::optional_json(j, "extensions");
    return payment;
}

/// `authorization.from` if the payload carries it as a string: the payer a
/// facilitator reports, also on invalid answers.
inline std::optional<std::string> claimed_payer(const PaymentPayload& payment) {
    auto authorization = payment.payload.find("authorization");
    if (authorization == payment.payload.end() || !authorization->is_object()) return std::nullopt;
    return detail::optional_string(*authorization, "from");
}

/// True when the scheme payload is an EIP-3009 authorization (rather than
/// Permit2, ERC-7710 or something unknown).
inline bool is_eip3009_payload(const PaymentPayload& payment) {
    return payment.payload.contains("authorization") && payment.payload.contains("signature");
}

/// Reads the EIP-3009 payload: every field a string, no syntax checks beyond
/// that (the verifier checks syntax). Errors: reason invalid_payload,
/// message "payload.<field>: missing or not a string".
inline Result<ExactEvmPayload> parse_exact_evm_payload(const json& payload) {
    const auto fail = [](std::string_view field) {
        return Error(reason::invalid_payload, "payload." + std::string(field) + ": missing or not a string");
    };
    if (!payload.is_object()) return Error(reason::invalid_payload, "payload: not an object");
    ExactEvmPayload parsed;
    const std::string* signature = detail::string_field(payload, "signature");
    if (signature == nullptr) return fail("signature");
    parsed.signature = *signature;
    auto authorization = payload.find("authorization");
    if (authorization == payload.end() || !authorization->is_object())
        return Error(reason::invalid_payload, "payload.authorization: missing or not an object");
    struct Field {
        std::string_view name;
        std::string* target;
    };
    ExactEvmAuthorization& a = parsed.authorization;
    for (const Field& field : {Field{"from", &a.from}, Field{"to", &a.to}, Field{"value", &a.value},
                               Field{"validAfter", &a.valid_after}, Field{"validBefore", &a.valid_before},
                               Field{"nonce", &a.nonce}}) {
        const std::string* s = detail::string_field(*authorization, field.name);
        if (s == nullptr) return fail("authorization." + std::string(field.name));
        *field.target = *s;
    }
    return parsed;
}

/// Checks that the payload has exactly one scheme shape, the only one this
/// library verifies and guards against replay: EIP-3009, `{signature,
/// authorization}` with `authorization` holding exactly from, to, value,
/// validAfter, validBefore and nonce. A Permit2 payload
/// (`permit2Authorization`) is unsupported_payload_type; any other key, or
/// keys of two shapes at once, is invalid_payload. A payload whose replay key
/// were read from other fields than the verifier checks could run a handler
/// once per decoy key.
inline std::optional<Error> check_payload_shape(const PaymentPayload& payment) {
    if (!payment.payload.is_object()) return Error(reason::invalid_payload, "payload: not an object");
    // Two shapes in one payload: the verifier and the replay guard could read
    // different ones (a decoy authorization beside a Permit2 one).
    if (payment.payload.contains("permit2Authorization") && payment.payload.contains("authorization"))
        return Error(reason::invalid_payload, "payload: carries both an EIP-3009 and a Permit2 authorization");
    if (payment.payload.contains("permit2Authorization"))
        return Error(reason::unsupported_payload_type, "payload: Permit2 payments are not supported");
    for (const auto& [key, value] : payment.payload.items()) {
        (void)value;
        if (key != "signature" && key != "authorization")
            return Error(reason::invalid_payload, "payload: unexpected field " + key);
    }
    const auto authorization = payment.payload.find("authorization");
    if (authorization == payment.payload.end() || !authorization->is_object())
        return Error(reason::invalid_payload, "payload.authorization: missing or not an object");
    for (const auto& [key, value] : authorization->items()) {
        (void)value;
        if (key != "from" && key != "to" && key != "value" && key != "validAfter" && key != "validBefore" &&
            key != "nonce")
            return Error(reason::invalid_payload, "payload.authorization: unexpected field " + key);
    }
    if (auto parsed = parse_exact_evm_payload(payment.payload); !parsed) return parsed.error();
    return std::nullopt;
}

inline json to_json(const VerifyResponse& response) {
    json j{{"isValid", response.is_valid}};
    if (response.invalid_reason) j["invalidReason"] = *response.invalid_reason;
    if (response.invalid_message) j["invalidMessage"] = *response.invalid_message;
    if (response.payer) j["payer"] = *response.payer;
    if (!response.extensions.is_null()) j["extensions"] = response.extensions;
    return j;
}

/// Errors: reason unexpected_verify_error, message "verify response: ...".
inline Result<VerifyResponse> parse_verify_response(const json& j) {
    if (!j.is_object()) return Error(reason::unexpected_verify_error, "verify response: not an object");
    auto valid = j.find("isValid");
    if (valid == j.end() || !valid->is_boolean())
        return Error(reason::unexpected_verify_error, "verify response: isValid missing or not a boolean");
    VerifyResponse response;
    response.is_valid = valid->get<bool>();
    response.invalid_reason = detail::optional_string(j, "invalidReason");
    response.invalid_message = detail::optional_string(j, "invalidMessage");
    response.payer = detail::optional_string(j, "payer");
    response.extensions = detail::optional_json(j, "extensions");
    return response;
}

inline json to_json(const SettleResponse& response) {
    json j{{"success", response.success}};
    if (response.error_reason) j["errorReason"] = *response.error_reason;
    if (response.error_message) j["errorMessage"] = *response.error_message;
    if (response.payer) j["payer"] = *response.payer;
    j["transaction"] = response.transaction;
    j["network"] = response.network;
    if (response.amount) j["amount"] = *response.amount;
    if (!response.extensions.is_null()) j["extensions"] = response.extensions;
    return j;
}

/// Errors: reason unexpected_settle_error, message "settle response: ...".
inline Result<SettleResponse> parse_settle_response(const json& j) {
    if (!j.is_object()) return Error(reason::unexpected_settle_error, "settle response: not an object");
    auto success = j.find("success");
    if (success == j.end() || !success->is_boolean())
        return Error(reason::unexpected_settle_error, "settle response: success missing or not a boolean");
    SettleResponse response;
    response.success = success->get<bool>();
    response.error_reason = detail::optional_string(j, "errorReason");
    response.error_message = detail::optional_string(j, "errorMessage");
    response.payer = detail::optional_string(j, "payer");
    if (const std::string* s = detail::string_field(j, "transaction")) response.transaction = *s;
    if (const std::string* s = detail::string_field(j, "network")) response.network = *s;
    response.amount = detail::optional_string(j, "amount");
    response.extensions = detail::optional_json(j, "extensions");
    return response;
}

}  // namespace x402::payment
