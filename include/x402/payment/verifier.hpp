// The PaymentVerifier concept: what the payment hook needs from a verifier
// (LocalVerifier here; a facilitator client over HTTP implements it too).
#pragma once

#include <x402/payment/types.hpp>
#include <x402/session/store.hpp>

#include <concepts>

namespace x402::payment {

using session::awaitable;

/// Verifies and settles payments against one advertised requirement, like a
/// facilitator's POST /verify and POST /settle (reference §2).
///
///  - `verify(payment, requirements)`: is_valid only for a payment that pays
///    exactly `requirements`; `payer` = who signed it (for EIP-3009
///    authorization.from as sent). Invalid answers carry an x402 reason code.
///  - `settle(payment, requirements)`: executes the payment; success only when
///    the funds moved (or, for verifiers that cannot move funds, as documented
///    by the verifier).
///
/// Both may throw (transport errors); the hook turns exceptions into
/// unexpected_verify_error / unexpected_settle_error. The arguments live until
/// the returned awaitable completes when it is co_awaited at once, which is
/// how the hook calls them.
template <class V>
concept PaymentVerifier = requires(V& verifier, const PaymentPayload& payment, const PaymentRequirements& requirements) {
    { verifier.verify(payment, requirements) } -> std::same_as<awaitable<VerifyResponse>>;
    { verifier.settle(payment, requirements) } -> std::same_as<awaitable<SettleResponse>>;
};

namespace detail {
/// An awaitable that completes at once with `value` (by value: coroutine parameter).
template <class T>
awaitable<T> ready(T value) {
    co_return value;
}
}  // namespace detail

}  // namespace x402::payment
