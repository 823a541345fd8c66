// Which advertised requirement a payment pays for, as the official server
// decides it (reference §2.2, x402ResourceServer.findMatchingRequirements).
#pragma once

#include <x402/payment/types.hpp>

#include <cstddef>
#include <optional>
#include <span>

namespace x402::payment {

/// True when `accepted` (a v2 payment's `accepted` object) pays for
/// `advertised`: every field but `extra` equal (same keys, equal JSON values)
/// and each key of the advertised `extra` present in `accepted.extra` with an
/// equal value (@x402/core 2.27.0 paymentRequirementsMatchAccepted).
inline bool accepted_matches(const json& accepted, const PaymentRequirements& advertised) {
    if (!accepted.is_object()) return false;
    const json expected = to_json(advertised, 2);
    for (const auto& [key, value] : expected.items()) {
        if (key == "extra") continue;
        auto it = accepted.find(key);
        if (it == accepted.end() || *it != value) return false;
    }
    for (const auto& [key, value] : accepted.items()) {
        if (key != "extra" && !expected.contains(key)) return false;
    }
    if (advertised.extra.is_null()) return true;
    auto extra = accepted.find("extra");
    if (extra == accepted.end() || !extra->is_object()) return advertised.extra.empty();
    for (const auto& [key, value] : advertised.extra.items()) {
        auto it = extra->find(key);
        if (it == extra->end() || *it != value) return false;
    }
    return true;
}

/// The index of the first advertised requirement `payment` pays for, or
/// nullopt. v1: same scheme and network, nothing else compared (the amount,
/// recipient and asset are the verifier's business); v2: accepted_matches.
inline std::optional<std::size_t> find_matching_requirements(std::span<const PaymentRequirements> advertised,
                                                             const PaymentPayload& payment) {
    for (std::size_t i = 0; i < advertised.size(); ++i) {
        const PaymentRequirements& r = advertised[i];
        if (payment.x402_version == 1) {
            if (r.scheme == payment.scheme && r.network == payment.network) return i;
        } else if (accepted_matches(payment.accepted, r)) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace x402::payment
