// SharedReplayGuard: the x402 hook's ReplayGuard on Redis, so every server
// instance sharing one Redis (or Redis Cluster) refuses a replayed payment
// together. Needs the targets x402::payment and x402::session_redis.
#pragma once

#include <x402/payment/clock.hpp>
#include <x402/payment/replay_guard.hpp>
#include <x402/session/redis/replay_guard.hpp>

#include <chrono>
#include <cstdint>
#include <utility>

namespace x402::payment {

/// Claims a payment's ReplayKey in Redis (`SET NX PX`) for as long as the
/// payment can still verify: until its validBefore has passed, like
/// InMemoryReplayGuard, then Redis forgets it by itself.
///
///     x402::payment::SharedReplayGuard guard(
///         x402::session::redis::RedisReplayGuard(io.get_executor(), "redis://127.0.0.1:6379"));
///     x402::payment::PaymentHook<LocalVerifier, SharedReplayGuard> hook(sessions, verifier, guard);
///
/// When Redis cannot answer, try_claim throws and the hook refuses the
/// payment (fail closed). Copies share the connection.
class SharedReplayGuard {
public:
    explicit SharedReplayGuard(session::redis::RedisReplayGuard backend, UnixClock clock = system_unix_seconds)
        : backend_(std::move(backend)), clock_(std::move(clock)) {}

    awaitable<bool> try_claim(ReplayKey key, std::uint64_t valid_before) {
        co_return co_await backend_.try_claim(key.to_string(), claim_lifetime(valid_before, clock_()));
    }

    /// Held while now <= valid_before, i.e. until valid_before + 1 s; at
    /// least 1 s, so even a claim at the very end of the window is recorded.
    static std::chrono::milliseconds claim_lifetime(std::uint64_t valid_before, std::uint64_t now) {
        constexpr std::uint64_t max_seconds = 100ULL * 365 * 24 * 3600;  // Redis PX must fit 64 bits
        const std::uint64_t seconds = valid_before >= now ? valid_before - now + 1 : 1;
        return std::chrono::seconds(static_cast<std::int64_t>(seconds < max_seconds ? seconds : max_seconds));
    }

private:
    session::redis::RedisReplayGuard backend_;
    UnixClock clock_;
};

static_assert(ReplayGuard<SharedReplayGuard>);

}  // namespace x402::payment
