// RedisReplayGuard (x402::payment_redis) on the servers the redis ctest
// fixture starts: one claim wins, across instances, until it expires.
#include <x402/payment/redis_replay_guard.hpp>

#include "../redis/harness.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace redis_tests;
using Catch::Matchers::Message;
using test_support::run;
using x402::payment::RedisReplayGuard;

TEST_CASE("payment_redis: the replay guard lets exactly one claim win until it expires", "[payment_redis][replay]") {
    for (const auto* url_name : {"X402_REDIS_URL", "X402_REDIS_CLUSTER_URL"}) {
        INFO(url_name);
        IoThreads threads;
        RedisReplayGuard guard(threads.executor(), server_url(url_name), unique_prefix() + ":replay:");
        REQUIRE(run(guard.claim("payment-1", 60s)));
        REQUIRE_FALSE(run(guard.claim("payment-1", 60s)));
        REQUIRE(run(guard.claim("payment-2", 60s)));
        REQUIRE_THROWS_MATCHES(run(guard.claim("payment-3", 0ms)), std::invalid_argument,
                               Message("ttl must be > 0"));
        REQUIRE(run(guard.claim("short", 1ms)));
        bool reclaimed = false;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!reclaimed && std::chrono::steady_clock::now() < deadline) {
            reclaimed = run(guard.claim("short", 60s));  // polls until the 1 ms claim has expired
        }
        REQUIRE(reclaimed);
    }
}

TEST_CASE("payment_redis: the replay guard refuses a replay across instances", "[payment_redis][replay]") {
    IoThreads threads;
    const auto prefix = unique_prefix() + ":replay:";
    RedisReplayGuard first(threads.executor(), server_url("X402_REDIS_URL"), prefix);
    RedisReplayGuard second(threads.executor(), server_url("X402_REDIS_URL"), prefix);
    std::atomic<int> wins{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 8; ++i) {
        racers.emplace_back([&, i] {
            auto& guard = i % 2 == 0 ? first : second;
            if (run(guard.claim("the-payment", 60s))) ++wins;
        });
    }
    for (auto& racer : racers) racer.join();
    REQUIRE(wins.load() == 1);
}

TEST_CASE("payment_redis: the x402 hook's Redis replay guard holds a payment until its validBefore", "[payment_redis][replay]") {
    IoThreads threads;
    const auto prefix = unique_prefix() + ":replay:";
    std::uint64_t now = 1'767'225'000;
    const x402::payment::UnixClock clock = [&now] { return now; };
    RedisReplayGuard first(threads.executor(), server_url("X402_REDIS_URL"), prefix, clock);
    RedisReplayGuard second(threads.executor(), server_url("X402_REDIS_URL"), prefix, clock);
    const x402::payment::ReplayKey key{"eip155:84532", "0xasset", "0xpayer", "0xnonce"};
    const x402::payment::ReplayKey other{"eip155:84532", "0xasset", "0xpayer", "0xother"};
    REQUIRE(run(first.try_claim(key, now + 60)));
    REQUIRE_FALSE(run(second.try_claim(key, now + 60)));  // another instance sees the claim
    REQUIRE(run(second.try_claim(other, now + 60)));
    // Held until validBefore has passed, and no longer.
    CHECK(RedisReplayGuard::claim_lifetime(now + 60, now) == 61s);
    CHECK(RedisReplayGuard::claim_lifetime(now, now) == 1s);
    CHECK(RedisReplayGuard::claim_lifetime(now - 5, now) == 1s);
    CHECK(RedisReplayGuard::claim_lifetime(~std::uint64_t{0}, now) <= std::chrono::hours(24 * 365 * 100));
}
