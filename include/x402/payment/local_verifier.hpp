// LocalVerifier: offline verification of `exact` EVM payments signed by
// ordinary accounts (EOAs) with EIP-3009 (reference §5.1, steps 1–5 and 7–11
// of §3.1 plus the canonical-signature rules of §3.2).
//
// It proves who signed and for what; it cannot see balances, used nonces or
// smart-wallet code, and it cannot settle. In production use a facilitator,
// or this as a pre-filter in front of one. Needs libsecp256k1 and Crypto++
// (CMake target x402::payment_local); not part of the x402/payment.hpp umbrella.
#pragma once

#include <x402/payment/clock.hpp>
#include <x402/payment/detail/eip712.hpp>
#include <x402/payment/detail/hex.hpp>
#include <x402/payment/detail/secp256k1.hpp>
#include <x402/payment/error.hpp>
#include <x402/payment/networks.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace x402::payment {

struct LocalVerifierOptions {
    /// "Now" in unix seconds; the system clock unless injected.
    UnixClock clock = system_unix_seconds;
    /// validBefore must be at least this far beyond now (the facilitator's
    /// allowance for block time).
    std::uint64_t valid_before_margin_seconds = 6;
};

/// Offline verifier for EIP-3009 `exact` payments from EOAs; a PaymentVerifier.
///
///     x402::payment::LocalVerifier verifier;
///     VerifyResponse verdict = verifier.verify_now(payment, requirements);
///     if (verdict.is_valid) use(*verdict.payer);   // authorization.from as sent
///
/// Refuses with unsupported_payload_type what it cannot decide offline:
/// Permit2 / ERC-7710 payloads and signatures longer than 65 bytes (ERC-1271,
/// ERC-6492 smart wallets). Thread-safe (const; the clock must be too).
class LocalVerifier {
public:
    /// settle() moves no funds: see there.
    static constexpr bool settles_on_chain = false;

    explicit LocalVerifier(LocalVerifierOptions options = {}) : options_(std::move(options)) {}

    /// The verdict for `payment` against the advertised `requirements`, at the
    /// clock's now. `payer` is authorization.from as sent whenever the payload
    /// has one, also on invalid verdicts (as the facilitator); the first
    /// failing check gives the reason, in the facilitator's order.
    VerifyResponse verify_now(const PaymentPayload& payment, const PaymentRequirements& requirements) const {
        std::optional<std::string> payer = claimed_payer(payment);
        if (auto error = check(payment, requirements)) return VerifyResponse::invalid(*error, std::move(payer));
        return VerifyResponse::valid(std::move(*payer));
    }

    awaitable<VerifyResponse> verify(const PaymentPayload& payment, const PaymentRequirements& requirements) const {
        return detail::ready(verify_now(payment, requirements));
    }

    /// NOT a settlement: verifies again (the clock has moved since verify, as
    /// the facilitator re-verifies before broadcasting) and, if still valid,
    /// answers success with an empty `transaction` without touching any chain.
    /// The payee is not paid: for development and test networks only.
    awaitable<SettleResponse> settle(const PaymentPayload& payment, const PaymentRequirements& requirements) const {
        const VerifyResponse verdict = verify_now(payment, requirements);
        SettleResponse settlement;
        settlement.success = verdict.is_valid;
        settlement.payer = verdict.payer;
        settlement.network = requirements.network;
        settlement.transaction = "";
        if (!verdict.is_valid) {
            settlement.error_reason = verdict.invalid_reason;
            settlement.error_message = verdict.invalid_message;
        }
        return detail::ready(std::move(settlement));
    }

private:
    std::optional<Error> check(const PaymentPayload& payment, const PaymentRequirements& r) const {
        using namespace detail;
        const auto fail = [](std::string_view code, std::string message) { return Error(code, std::move(message)); };

        // 1. scheme
        if (payment.scheme != "exact" || r.scheme != "exact")
            return fail(reason::invalid_exact_evm_scheme, "scheme: only \"exact\" is supported");
        // 2. v1 network names
        if (payment.x402_version == 1 && !v1_evm_chain_id(payment.network))
            return fail(reason::invalid_exact_evm_network_mismatch, "network: not a known v1 EVM network");
        // 3. EIP-712 domain from the advertised requirements
        const std::string* domain_name = r.extra.is_object() ? detail::string_field(r.extra, "name") : nullptr;
        const std::string* domain_version = r.extra.is_object() ? detail::string_field(r.extra, "version") : nullptr;
        if (domain_name == nullptr || domain_version == nullptr)
            return fail(reason::invalid_exact_evm_missing_eip712_domain,
                        "requirements: extra.name and extra.version (the token's EIP-712 domain) are required");
        // 4. network
        if (payment.network != r.network)
            return fail(reason::invalid_exact_evm_network_mismatch, "network: payment and requirements differ");
        const std::optional<std::uint64_t> chain_id =
            payment.x402_version == 1 ? v1_evm_chain_id(r.network) : caip2_evm_chain_id(r.network);
        if (!chain_id)
            return fail(reason::invalid_exact_evm_network_mismatch, "network: not an EVM network (eip155:<chainId>)");

        // What cannot be decided offline.
        if (r.extra.is_object()) {
            const std::string* method = detail::string_field(r.extra, "assetTransferMethod");
            if (method != nullptr && *method != "eip3009")
                return fail(reason::unsupported_payload_type,
                            "payload: only EIP-3009 can be verified offline (requirements ask for " + *method + ")");
        }
        if (!is_eip3009_payload(payment))
            return fail(reason::unsupported_payload_type,
                        "payload: only EIP-3009 authorizations can be verified offline");

        // Field syntax.
        auto parsed = parse_exact_evm_payload(payment.payload);
        if (!parsed) return parsed.error();
        const ExactEvmAuthorization& a = parsed->authorization;
        const auto from = parse_address_syntax(a.from);
        const auto to = parse_address_syntax(a.to);
        if (!from) return fail(reason::invalid_payload, "payload.authorization.from: not an address");
        if (!to) return fail(reason::invalid_payload, "payload.authorization.to: not an address");
        const auto value = parse_uint256_decimal(a.value);
        const auto valid_after = parse_uint256_decimal(a.valid_after);
        const auto valid_before = parse_uint256_decimal(a.valid_before);
        if (!value) return fail(reason::invalid_payload, "payload.authorization.value: not a uint256 decimal");
        if (!valid_after) return fail(reason::invalid_payload, "payload.authorization.validAfter: not a uint256 decimal");
        if (!valid_before)
            return fail(reason::invalid_payload, "payload.authorization.validBefore: not a uint256 decimal");
        const auto nonce = parse_hex_fixed<32>(a.nonce);
        if (!nonce) return fail(reason::invalid_payload, "payload.authorization.nonce: not 32 bytes of hex");
        const auto signature = parse_hex_bytes(parsed->signature);
        if (!signature) return fail(reason::invalid_payload, "payload.signature: not hex");
        const auto asset = parse_address_syntax(r.asset);
        const auto pay_to = parse_address_syntax(r.pay_to);
        const auto amount = parse_uint256_decimal(r.amount);
        if (!asset) return fail(reason::invalid_payment_requirements, "requirements: asset is not an address");
        if (!pay_to) return fail(reason::invalid_payment_requirements, "requirements: payTo is not an address");
        if (!amount) return fail(reason::invalid_payment_requirements, "requirements: amount is not a uint256 decimal");

        // 7. signature (EOA: exactly 65 bytes r ‖ s ‖ v)
        if (signature->size() > 65)
            return fail(reason::unsupported_payload_type,
                        "payload.signature: longer than 65 bytes (smart wallet); needs a facilitator");
        if (signature->size() < 65)
            return fail(reason::invalid_exact_evm_signature, "payload.signature: not 65 bytes");
        if (!passes_eip55(a.from, *from))
            return fail(reason::invalid_exact_evm_signature, "payload.authorization.from: bad EIP-55 checksum");
        if (!passes_eip55(a.to, *to))
            return fail(reason::invalid_exact_evm_signature, "payload.authorization.to: bad EIP-55 checksum");
        if (*from == Address{})
            return fail(reason::invalid_exact_evm_signature, "payload.authorization.from: the zero address");
        const std::uint8_t v = (*signature)[64];
        if (v != 27 && v != 28) return fail(reason::invalid_exact_evm_signature, "payload.signature: v is not 27 or 28");
        std::array<std::uint8_t, 64> r_s{};
        Bytes32 s{};
        for (std::size_t i = 0; i < 64; ++i) r_s[i] = (*signature)[i];
        for (std::size_t i = 0; i < 32; ++i) s[i] = (*signature)[32 + i];
        if (secp256k1_half_order < s)
            return fail(reason::invalid_exact_evm_signature, "payload.signature: s is not canonical (high s)");
        Eip712Domain domain{*domain_name, *domain_version, *chain_id, *asset};
        TransferWithAuthorization message{*from, *to, *value, *valid_after, *valid_before, *nonce};
        const Bytes32 digest = eip712_digest(domain_separator(domain), struct_hash(message));
        const auto public_key = recover_public_key(digest, r_s, v - 27);
        if (!public_key || address_of_public_key(*public_key) != *from)
            return fail(reason::invalid_exact_evm_signature, "payload.signature: not signed by authorization.from");

        // 8. recipient
        if (*to != *pay_to)
            return fail(reason::invalid_exact_evm_recipient_mismatch, "payload.authorization.to: not the payTo address");
        // 9, 10. time window
        const std::uint64_t now = options_.clock();
        const std::uint64_t margin = options_.valid_before_margin_seconds;
        const std::uint64_t earliest_valid_before = detail::saturating_add(now, margin);
        if (*valid_before < uint256_from(earliest_valid_before))
            return fail(reason::invalid_exact_evm_payload_authorization_valid_before,
                        "payload.authorization.validBefore: expired or expiring within the margin");
        if (uint256_from(now) < *valid_after)
            return fail(reason::invalid_exact_evm_payload_authorization_valid_after,
                        "payload.authorization.validAfter: not yet valid");
        // 11. exact amount
        if (*value != *amount)
            return fail(payment.x402_version == 1 ? reason::invalid_exact_evm_authorization_value
                                                  : reason::invalid_exact_evm_payload_authorization_value_mismatch,
                        "payload.authorization.value: not the required amount");
        return std::nullopt;
    }

    LocalVerifierOptions options_;
};

static_assert(PaymentVerifier<LocalVerifier>);

}  // namespace x402::payment
