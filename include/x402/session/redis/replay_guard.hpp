// RedisReplayGuard: refuses a replayed payment across every server instance
// sharing one Redis (or Redis Cluster): the first claim of a key wins.
#pragma once

#include <x402/session/redis/client.hpp>
#include <x402/session/redis/config.hpp>
#include <x402/session/redis/reply.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace x402::session::redis {

/// The replay-guard backend for the x402 hook: `try_claim(key, ttl)` is
/// `SET <prefix><key> 1 NX PX <ttl>`, so of all instances racing on one
/// payment exactly one gets true, until the claim expires.
///
///     RedisReplayGuard guard(io.get_executor(), "redis://127.0.0.1:6379");
///     if (!co_await guard.try_claim(payment_id, std::chrono::minutes(10))) reject_replay();
///
/// Thread-safe. Throws RedisConnectionError/RedisError when Redis cannot
/// answer: the caller must then refuse the payment (fail closed).
class RedisReplayGuard {
public:
    /// Its own connections, from a URL (see parse_url); a plain executor.
    RedisReplayGuard(boost::asio::any_io_executor executor, std::string_view url,
                     std::string key_prefix = "x402:replay:")
        : RedisReplayGuard(std::make_shared<Client>(std::move(executor), parse_url(url)), std::move(key_prefix)) {}

    /// Shares `client` (e.g. RedisStore::client()).
    explicit RedisReplayGuard(std::shared_ptr<Client> client, std::string key_prefix = "x402:replay:")
        : client_(std::move(client)), prefix_(std::move(key_prefix)) {
        if (!client_) throw std::invalid_argument("RedisReplayGuard needs a client");
    }

    /// True when this call claimed `key` (it was not claimed, or its claim
    /// expired); false when it is already claimed. `ttl` must be > 0
    /// ("ttl must be > 0"), checked before any I/O.
    boost::asio::awaitable<bool> try_claim(std::string key, std::chrono::milliseconds ttl) {
        if (ttl.count() <= 0) throw std::invalid_argument("ttl must be > 0");
        auto client = client_;
        std::string name = prefix_ + key;
        Command command{"SET", name, "1", "NX", "PX", std::to_string(ttl.count())};
        auto reply = co_await client->execute(std::move(command), std::move(name));
        reply.check();
        co_return !reply.is_nil();
    }

private:
    std::shared_ptr<Client> client_;
    std::string prefix_;
};

}  // namespace x402::session::redis
