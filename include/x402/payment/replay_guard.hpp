// Replay guard: refuses a payment that was already accepted until its
// validBefore has passed (reference §5.2: verify is stateless, so a copied
// header would otherwise buy a second run of the handler in the victim's
// session).
#pragma once

#include <x402/payment/clock.hpp>
#include <x402/payment/detail/hex.hpp>
#include <x402/payment/networks.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>

#include <algorithm>
#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace x402::payment {

/// What identifies one payment on chain: an EIP-3009 nonce is single-use per
/// (token contract, from) on one chain. All parts lower-case.
struct ReplayKey {
    /// "eip155:<chainId>", the same for v1 names and v2 identifiers of one chain.
    std::string network;
    std::string asset;
    std::string from;
    std::string nonce;

    /// "<network>/<asset>/<from>/<nonce>": one string for key-value backends.
    std::string to_string() const { return network + '/' + asset + '/' + from + '/' + nonce; }

    friend bool operator==(const ReplayKey&, const ReplayKey&) = default;
};

/// Remembers accepted payments. `try_claim(key, valid_before)` completes with
/// true when `key` was not claimed (and claims it until the unix second
/// `valid_before` has passed), false when it is still claimed. Must be atomic
/// across every server instance that shares it (e.g. Redis SET NX PX).
template <class G>
concept ReplayGuard = requires(G& guard, ReplayKey key, std::uint64_t valid_before) {
    { guard.try_claim(key, valid_before) } -> std::same_as<awaitable<bool>>;
};

/// The replay key and validBefore (saturated to 64 bits) of an EIP-3009
/// payment for `requirements`; nullopt when the payload is not EIP-3009 or its
/// fields do not parse (a verifier would have refused it).
inline std::optional<std::pair<ReplayKey, std::uint64_t>> eip3009_replay_claim(const PaymentPayload& payment,
                                                                               const PaymentRequirements& requirements) {
    if (!is_eip3009_payload(payment)) return std::nullopt;
    auto parsed = parse_exact_evm_payload(payment.payload);
    if (!parsed) return std::nullopt;
    const ExactEvmAuthorization& a = parsed->authorization;
    const auto valid_before = detail::parse_uint256_decimal(a.valid_before);
    if (!valid_before || !detail::parse_hex_fixed<20>(a.from) || !detail::parse_hex_fixed<32>(a.nonce)) return std::nullopt;
    ReplayKey key;
    const auto chain_id = evm_chain_id(requirements.network);
    key.network = chain_id ? "eip155:" + std::to_string(*chain_id) : requirements.network;
    key.asset = detail::ascii_lower(requirements.asset);
    key.from = detail::ascii_lower(a.from);
    key.nonce = detail::ascii_lower(a.nonce);
    return std::pair{std::move(key), detail::saturate_to_u64(*valid_before)};
}

struct InMemoryReplayGuardOptions {
    /// "Now" in unix seconds; the system clock unless injected.
    UnixClock clock = system_unix_seconds;
};

/// A ReplayGuard for one process. Memory is bounded by the payments accepted
/// within their validity windows: every claim purges the expired ones (each
/// claim is a verified, signed payment, so nobody fills it for free, and
/// PaymentHook refuses a validBefore beyond its horizon). The purge is
/// amortised O(1) per claim: claims sit in a ring of one-second buckets by
/// validBefore, and a purge visits only the seconds passed since the last
/// one (at most the ring's size).
/// Thread-safe; copies share the claims.
class InMemoryReplayGuard {
public:
    explicit InMemoryReplayGuard(InMemoryReplayGuardOptions options = {})
        : state_(std::make_shared<State>(std::move(options))) {}

    /// Synchronous try_claim.
    bool try_claim_now(const ReplayKey& key, std::uint64_t valid_before) {
        std::lock_guard lock(state_->mutex);
        const std::uint64_t now = state_->options.clock();
        purge_locked(now);
        // Held while now <= valid_before, and at least for this second: a
        // payment already past its window (a verifier with a late clock may
        // accept one) still runs once, not once per concurrent copy.
        const std::uint64_t held_until = std::max(valid_before, now);
        std::vector<Expiry>& bucket = state_->wheel[held_until % wheel_size];
        bucket.reserve(bucket.size() + 1);  // so nothing below throws once the claim is in
        auto [it, inserted] = state_->claims.try_emplace(key.to_string(), held_until);
        if (!inserted) return false;  // still held: purge_locked removed the expired ones
        bucket.push_back({held_until, &it->first});
        return true;
    }

    awaitable<bool> try_claim(ReplayKey key, std::uint64_t valid_before) {
        return detail::ready(try_claim_now(key, valid_before));
    }

    /// Drops every claim whose validBefore has passed.
    void purge_expired() {
        std::lock_guard lock(state_->mutex);
        purge_locked(state_->options.clock());
    }

    /// Claims held, expired ones included until the next purge.
    std::size_t size() const {
        std::lock_guard lock(state_->mutex);
        return state_->claims.size();
    }

private:
    static constexpr std::size_t wheel_size = 1024;  // seconds; a power of two

    // A claim in its bucket; `key` points at the claims map's own key, which
    // no rehash moves.
    struct Expiry {
        std::uint64_t valid_before;
        const std::string* key;
    };

    struct State {
        explicit State(InMemoryReplayGuardOptions o) : options(std::move(o)), wheel(wheel_size) {}
        InMemoryReplayGuardOptions options;
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::uint64_t> claims;
        // Bucket s % wheel_size holds the claims whose validBefore is s, or s
        // plus a multiple of wheel_size (those stay until their own second).
        std::vector<std::vector<Expiry>> wheel;
        std::uint64_t next_second = 0;  // every earlier second has been purged
    };

    // Removes the claims with valid_before < now from the buckets of the
    // seconds [next_second, now): every claim that has expired since the last
    // purge is in one of them (all buckets when more than a ring has passed).
    void purge_locked(std::uint64_t now) {
        State& state = *state_;
        if (now < state.next_second) {
            // The clock went back: revisit from here (visiting a second twice is
            // harmless), or no purge would run until it caught up again.
            state.next_second = now;
            return;
        }
        if (now == state.next_second) return;
        const std::uint64_t due = std::min<std::uint64_t>(now - state.next_second, wheel_size);
        for (std::uint64_t i = 0; i < due; ++i) {
            std::vector<Expiry>& bucket = state.wheel[(state.next_second + i) % wheel_size];
            for (std::size_t j = 0; j < bucket.size();) {
                if (bucket[j].valid_before >= now) {
                    ++j;
                    continue;
                }
                const auto claim = state.claims.find(*bucket[j].key);
                assert(claim != state.claims.end());  // each claim has exactly one bucket entry
                state.claims.erase(claim);
                bucket[j] = bucket.back();
                bucket.pop_back();
            }
        }
        state.next_second = now;
    }

    std::shared_ptr<State> state_;
};

static_assert(ReplayGuard<InMemoryReplayGuard>);

}  // namespace x402::payment
