// RedisReplayGuard: the x402 hook's ReplayGuard on Redis, so every server
// instance sharing one Redis (or Redis Cluster) refuses a replayed payment
// together. Target x402::payment_redis (x402::payment + x402::redis).
#pragma once

#include <x402/payment/clock.hpp>
#include <x402/payment/replay_guard.hpp>
#include <x402/redis/client.hpp>
#include <x402/redis/config.hpp>
#include <x402/redis/eviction.hpp>
#include <x402/redis/reply.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace x402::payment {

/// Claims a payment's ReplayKey in Redis (`SET <prefix><key> 1 NX PX <ttl>`)
/// for as long as the payment can still verify: until its validBefore has
/// passed, like InMemoryReplayGuard; then Redis forgets it by itself. Of all
/// instances racing on one payment exactly one wins.
///
///     x402::payment::RedisReplayGuard guard(io.get_executor(), "redis://127.0.0.1:6379");
///     x402::payment::PaymentHook<LocalVerifier, RedisReplayGuard> hook(sessions, verifier, guard);
///
/// Thread-safe; copies share the connection. When Redis cannot answer,
/// try_claim throws RedisConnectionError / RedisError and the hook refuses
/// the payment (fail closed).
///
/// A claim Redis evicts under memory pressure lets the same payment in again,
/// so before serving, `co_await guard.require_durable()`: it refuses a Redis
/// that may evict (redis::require_no_eviction). Give the claims a Redis of
/// their own when the sessions' Redis evicts.
class RedisReplayGuard {
public:
    /// Its own connections, from a URL (see redis::parse_url); a plain executor.
    RedisReplayGuard(boost::asio::any_io_executor executor, std::string_view url,
                     std::string key_prefix = "x402:replay:", UnixClock clock = system_unix_seconds)
        : RedisReplayGuard(std::make_shared<redis::Client>(std::move(executor), redis::parse_url(url)),
                           std::move(key_prefix), std::move(clock)) {}

    /// Shares `client` (e.g. RedisStore::client()). Throws
    /// std::invalid_argument for a null client.
    explicit RedisReplayGuard(std::shared_ptr<redis::Client> client, std::string key_prefix = "x402:replay:",
                              UnixClock clock = system_unix_seconds)
        : client_(std::move(client)), prefix_(std::move(key_prefix)), clock_(std::move(clock)) {
        if (!client_) throw std::invalid_argument("RedisReplayGuard needs a client");
    }

    /// Completes when no master of this guard's Redis can evict a claim;
    /// throws redis::EvictionRiskError otherwise (see require_no_eviction).
    awaitable<void> require_durable(redis::WhenConfigHidden when_hidden = redis::WhenConfigHidden::refuse) const {
        co_await redis::require_no_eviction(client_, "replay claims", when_hidden);
    }

    /// The ReplayGuard operation: true when this call claimed `key`, held
    /// until `valid_before` has passed (see claim_lifetime).
    awaitable<bool> try_claim(ReplayKey key, std::uint64_t valid_before) {
        auto op = claim(key.to_string(), claim_lifetime(valid_before, clock_()));
        co_return co_await std::move(op);
    }

    /// True when this call claimed `key` for `ttl` (it was not claimed, or
    /// its claim expired); false when it is already claimed. `ttl` must be
    /// > 0 ("ttl must be > 0"), checked before any I/O.
    awaitable<bool> claim(std::string key, std::chrono::milliseconds ttl) {
        if (ttl.count() <= 0) throw std::invalid_argument("ttl must be > 0");
        auto client = client_;
        std::string name = prefix_ + key;
        redis::Command command{"SET", name, "1", "NX", "PX", std::to_string(ttl.count())};
        auto reply = co_await client->execute(std::move(command), std::move(name));
        reply.check();
        co_return !reply.is_nil();
    }

    /// Held while now <= valid_before, i.e. until valid_before + 1 s; at
    /// least 1 s, so even a claim at the very end of the window is recorded.
    static std::chrono::milliseconds claim_lifetime(std::uint64_t valid_before, std::uint64_t now) {
        constexpr std::uint64_t max_seconds = 100ULL * 365 * 24 * 3600;  // Redis PX must fit 64 bits
        const std::uint64_t seconds = valid_before >= now ? valid_before - now + 1 : 1;
        return std::chrono::seconds(static_cast<std::int64_t>(seconds < max_seconds ? seconds : max_seconds));
    }

private:
    std::shared_ptr<redis::Client> client_;
    std::string prefix_;
    UnixClock clock_;
};

static_assert(ReplayGuard<RedisReplayGuard>);

}  // namespace x402::payment
