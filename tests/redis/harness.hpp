// The Redis backends of the store conformance suite (tests/session/conformance_suite.hpp),
// each a type for Catch2's TEMPLATE_TEST_CASE so test names say the backend:
//  - RedisStandaloneBackend / RedisClusterBackend: RedisStore on the servers
//    started by redis-servers.sh (URLs from X402_REDIS_URL /
//    X402_REDIS_CLUSTER_URL, or the file named by X402_REDIS_URLS_FILE).
// Each offers `store` (an AnyStore) and `age(payer, keys, ms)`, which makes
// the named entries `ms` older:
//  - in memory: the manual clock advances (every entry ages);
//  - on Redis: each entry's PTTL is lowered by `ms` with PEXPIRE; an entry
//    whose PTTL is at most `ms` gets PEXPIRE 1 and we wait, polling PTTL on
//    the server until it reports -2 (gone), bounded by a 5 s deadline. That is
//    the only wait in these tests: Redis' clock cannot be injected.
// Store operations run through test_support::run on a private io_context,
// while the Redis connections run on the backend's own io threads, so every
// completion crosses executors as in a real server.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/in_memory_store.hpp>
#include <x402/redis/store.hpp>

#include "../session/conformance_backends.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace redis_tests {

using namespace std::chrono_literals;
using x402::session::AnyStore;
using store_conformance::IoThreads;
using x402::redis::RedisStore;
using x402::redis::RedisStoreOptions;

/// The URL named `name` (X402_REDIS_URL, X402_REDIS_CLUSTER_URL): the
/// environment variable, else the line `name=...` of $X402_REDIS_URLS_FILE.
inline std::string server_url(const std::string& name) {
    if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') return value;
    if (const char* file = std::getenv("X402_REDIS_URLS_FILE"); file != nullptr) {
        std::ifstream in(file);
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with(name + "=")) return line.substr(name.size() + 1);
        }
    }
    throw std::runtime_error(name + " is not set: run the redis tests through ctest (its fixture starts the "
                                    "servers) or start them with tests/redis/redis-servers.sh and export it");
}

/// A key prefix of our own, so tests sharing a server never see each other's data.
inline std::string unique_prefix() {
    static thread_local std::mt19937_64 random(std::random_device{}());
    return "x402test:" + std::to_string(random());
}

/// Runs one raw command on the store's client, routed by `routing_key`.
inline x402::redis::Reply raw(RedisStore& store, x402::redis::Command command,
                                       std::string routing_key) {
    auto client = store.client();
    return test_support::run(client->execute(std::move(command), std::move(routing_key)));
}

inline long long pttl(RedisStore& store, const std::string& redis_key) {
    x402::redis::Command command{"PTTL", redis_key};
    return raw(store, std::move(command), redis_key).as_integer();
}

/// Waits (polling the server, at most 5 s) until `redis_key` is gone.
inline void wait_gone(RedisStore& store, const std::string& redis_key) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (pttl(store, redis_key) != -2) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("key did not expire: " + redis_key);
        boost::asio::io_context io;
        boost::asio::steady_timer timer(io, 1ms);
        timer.wait();
    }
}

/// Makes the entries (or, with `ledger`, the ledger records) older by `age`
/// on the Redis side (see the top of the file).
inline void age_on_redis(RedisStore& store, const std::string& payer, const std::vector<std::string>& keys,
                         std::chrono::milliseconds age, bool ledger = false) {
    for (const auto& key : keys) {
        const auto name = ledger ? store.ledger_key(payer, key) : store.value_key(payer, key);
        const auto left = pttl(store, name);
        if (left < 0) continue;  // -1: no expiry, -2: already gone
        if (left > age.count()) {
            x402::redis::Command command{"PEXPIRE", name, std::to_string(left - age.count())};
            raw(store, std::move(command), name);
        } else {
            x402::redis::Command command{"PEXPIRE", name, "1"};
            raw(store, std::move(command), name);
            wait_gone(store, name);
        }
    }
}

template <bool Cluster>
struct RedisBackend {
    static constexpr bool is_redis = true;
    static constexpr bool close_clears = false;

    static std::shared_ptr<RedisStore> make(IoThreads& threads, x402::session::PageLimits page_limits) {
        RedisStoreOptions options;
        options.key_prefix = unique_prefix();
        options.page_limits = page_limits;
        return std::make_shared<RedisStore>(threads.executor(),
                                            server_url(Cluster ? "X402_REDIS_CLUSTER_URL" : "X402_REDIS_URL"),
                                            std::move(options));
    }

    RedisBackend() = default;
    /// A store whose list pages have these caps.
    explicit RedisBackend(x402::session::PageLimits limits) : page_limits(limits) {}

    x402::session::PageLimits page_limits{};
    IoThreads threads;
    std::shared_ptr<RedisStore> redis = make(threads, page_limits);
    AnyStore store{redis};

    void age(const std::string& payer, const std::vector<std::string>& keys, std::chrono::milliseconds by) {
        age_on_redis(*redis, payer, keys, by);
    }
    void age_ledger(const std::string& payer, const std::vector<std::string>& keys, std::chrono::milliseconds by) {
        age_on_redis(*redis, payer, keys, by, true);
    }
};

using RedisStandaloneBackend = RedisBackend<false>;
using RedisClusterBackend = RedisBackend<true>;

}  // namespace redis_tests
