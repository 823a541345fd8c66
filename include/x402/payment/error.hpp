// Typed errors of the x402 payment layer: an x402 reason code plus a message,
// and Result<T>, which holds either a value or such an error.
//
// Decoders and verifiers return errors instead of throwing, so that malformed
// input from a client can never unwind into a server loop.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace x402::payment {

/// The x402 `invalidReason` / `errorReason` codes this library emits
/// (reference §3.4). Reasons are strings, not an enum, because a facilitator
/// may answer with codes this library does not know.
namespace reason {
// Decoding and shape (legacy v1 names, still used by the official servers).
inline constexpr std::string_view invalid_payload = "invalid_payload";
inline constexpr std::string_view invalid_x402_version = "invalid_x402_version";
inline constexpr std::string_view invalid_payment_requirements = "invalid_payment_requirements";
inline constexpr std::string_view unsupported_payload_type = "unsupported_payload_type";
// Scheme `exact` on EVM (@x402/evm 2.27.0 names).
inline constexpr std::string_view invalid_exact_evm_scheme = "invalid_exact_evm_scheme";
inline constexpr std::string_view invalid_exact_evm_network_mismatch = "invalid_exact_evm_network_mismatch";
inline constexpr std::string_view invalid_exact_evm_missing_eip712_domain = "invalid_exact_evm_missing_eip712_domain";
inline constexpr std::string_view invalid_exact_evm_signature = "invalid_exact_evm_signature";
inline constexpr std::string_view invalid_exact_evm_recipient_mismatch = "invalid_exact_evm_recipient_mismatch";
inline constexpr std::string_view invalid_exact_evm_payload_authorization_valid_before =
    "invalid_exact_evm_payload_authorization_valid_before";
inline constexpr std::string_view invalid_exact_evm_payload_authorization_valid_after =
    "invalid_exact_evm_payload_authorization_valid_after";
/// v1 amount mismatch.
inline constexpr std::string_view invalid_exact_evm_authorization_value = "invalid_exact_evm_authorization_value";
/// v2 amount mismatch (2.27.0 name; the repo still says ..._authorization_value).
inline constexpr std::string_view invalid_exact_evm_payload_authorization_value_mismatch =
    "invalid_exact_evm_payload_authorization_value_mismatch";
/// Also what the replay guard answers: the nonce was already accepted here.
inline constexpr std::string_view invalid_exact_evm_nonce_already_used = "invalid_exact_evm_nonce_already_used";
// A verifier or settler that failed (threw, transport error).
inline constexpr std::string_view unexpected_verify_error = "unexpected_verify_error";
inline constexpr std::string_view unexpected_settle_error = "unexpected_settle_error";
// Resource-server level, not facilitator codes (this library's names).
/// A paid route received no payment.
inline constexpr std::string_view payment_required = "payment_required";
/// The payment matches none of the route's requirements (the official server
/// answers "No matching payment requirements").
inline constexpr std::string_view no_matching_requirements = "no_matching_requirements";
/// The payment is for another resource than the one it was sent to.
inline constexpr std::string_view resource_mismatch = "resource_mismatch";
/// The payment settled, but the store failed to commit the handler's session
/// writes: the payer was charged and the writes are lost. The refusal
/// carries the settlement receipt.
inline constexpr std::string_view session_commit_failed = "session_commit_failed";
/// A before_handler route's handler threw after its payment settled: the
/// payer was charged; the refusal carries the settlement receipt.
inline constexpr std::string_view handler_failed_after_settlement = "handler_failed_after_settlement";
}  // namespace reason

/// An x402 failure: `reason()` is the machine-readable code, `message()` a
/// stable English sentence for logs and humans.
class Error {
public:
    Error(std::string_view reason, std::string message) : reason_(reason), message_(std::move(message)) {}

    const std::string& reason() const noexcept { return reason_; }
    const std::string& message() const noexcept { return message_; }

    friend bool operator==(const Error&, const Error&) = default;

private:
    std::string reason_;
    std::string message_;
};

/// Either a T or an Error; a minimal std::expected for C++20.
template <class T>
class Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

    bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value; throws std::invalid_argument(error().message()) when this
    /// holds an error.
    T& value() & { check(); return std::get<0>(state_); }
    const T& value() const& { check(); return std::get<0>(state_); }
    T&& value() && { check(); return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; throws std::logic_error when this holds a value.
    const Error& error() const {
        if (has_value()) throw std::logic_error("x402::payment::Result holds a value, not an error");
        return std::get<1>(state_);
    }

private:
    void check() const {
        if (!has_value()) throw std::invalid_argument(std::get<1>(state_).message());
    }

    std::variant<T, Error> state_;
};

}  // namespace x402::payment
