// Payer isolation under load: 10'000 paid requests with random payers on a
// 4-thread io_context, each suspending at random points (posts, timers,
// strands, nested coroutines, awaitable operators, nested requests of other
// payers), checked after every resumption; plain observers must never see a
// payer; data written under one payer must never be visible to another.
#include <x402/session/context.hpp>
#include <x402/session/plugin.hpp>

#include "../support.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using x402::session::awaitable;
using x402::session::get_payer;
using x402::session::get_session;
using x402::session::SessionPlugin;
using x402::session::VerifiedPayer;

namespace {

constexpr int request_count = 10'000;
constexpr int steps_per_request = 20;
constexpr int payer_count = 300;
constexpr int thread_count = 4;

// Catch2 v2 assertions are not thread-safe: the io threads only count.
struct Counters {
    std::atomic<std::uint64_t> checks{0};
    std::atomic<std::uint64_t> wrong_payer{0};
    std::atomic<std::uint64_t> foreign_data{0};
    std::atomic<std::uint64_t> observer_checks{0};
    std::atomic<std::uint64_t> observer_saw_payer{0};
    std::atomic<int> finished{0};
    std::atomic<int> failed_requests{0};
};

std::string payer_name(int index) {
    // Mixed-case EVM addresses: the session stores them lower-cased.
    char buffer[43];
    std::snprintf(buffer, sizeof buffer, "0xAbCd%036d", index);
    return buffer;
}

class Request {
public:
    Request(SessionPlugin& plugin, asio::strand<asio::io_context::executor_type> shared_strand, Counters& counters,
            int payer_index, std::uint32_t seed)
        : plugin_(plugin), shared_strand_(shared_strand), counters_(counters), payer_(payer_name(payer_index)),
          random_(seed) {}

    awaitable<void> body() {
        check();
        for (int step = 0; step < steps_per_request; ++step) co_await random_step(0);
        co_await check_data();
    }

private:
    void check() {
        ++counters_.checks;
        if (get_payer() != payer_) ++counters_.wrong_payer;
    }

    int draw(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }

    awaitable<void> wait_a_little() {
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::microseconds(draw(500)));
        co_await timer.async_wait(asio::use_awaitable);
        check();
    }

    awaitable<void> sub(int depth) {
        check();
        co_await random_step(depth + 1);
        check();
    }

    awaitable<void> write_and_read() {
        auto session = get_session();
        const std::string key = "k" + std::to_string(draw(8));
        co_await session->set(key, payer_);
        check();
        auto value = co_await session->get(key);
        check();
        // The entry may have been overwritten by another request of the same
        // payer, never by anyone else.
        if (value && *value != payer_) ++counters_.foreign_data;
    }

    awaitable<void> check_data() {
        auto page = co_await get_session()->list({});
        check();
        for (const auto& entry : page.entries) {
            if (entry.value != payer_) ++counters_.foreign_data;
        }
    }

    awaitable<void> random_step(int depth) {
        switch (draw(depth < 2 ? 10 : 5)) {
        case 0:
            co_await asio::post(asio::use_awaitable);
            break;
        case 1:
            co_await wait_a_little();
            break;
        case 2:
            co_await asio::post(shared_strand_, asio::use_awaitable);
            break;
        case 3:
            co_await asio::dispatch(shared_strand_, asio::use_awaitable);
            break;
        case 4:
            co_await write_and_read();
            break;
        case 5:
            co_await sub(depth);
            break;
        case 6: {
            asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::microseconds(draw(300)));
            co_await (timer.async_wait(asio::use_awaitable) || sub(depth));
            break;
        }
        case 7:
            co_await (sub(depth) && wait_a_little());
            break;
        case 8: {
            // A nested request of another payer: it sees only its own payer,
            // and this one sees its own again afterwards.
            const std::string other = payer_name(draw(payer_count));
            // Named first: g++ 12 destroys the captures of a lambda written
            // inside a co_await expression twice (GCC bug 100611).
            auto nested = [this, other]() -> awaitable<void> {
                ++counters_.checks;
                if (get_payer() != other) ++counters_.wrong_payer;
                co_await asio::post(asio::use_awaitable);
                ++counters_.checks;
                if (get_payer() != other) ++counters_.wrong_payer;
            };
            co_await plugin_.run(VerifiedPayer::assume_verified(other), std::move(nested));
            break;
        }
        case 9:
            co_await plugin_.run_without_payer([this]() -> awaitable<void> {
                co_await asio::post(asio::use_awaitable);
                ++counters_.checks;
                if (get_payer().has_value()) ++counters_.wrong_payer;
            });
            break;
        }
        check();
    }

    SessionPlugin& plugin_;
    asio::strand<asio::io_context::executor_type> shared_strand_;
    Counters& counters_;
    std::string payer_;
    std::mt19937 random_;
};

awaitable<void> observer(Counters& counters) {
    while (counters.finished.load() < request_count) {
        co_await asio::post(asio::use_awaitable);
        ++counters.observer_checks;
        if (get_session().has_value()) ++counters.observer_saw_payer;
    }
}

}  // namespace

TEST_CASE("context stress: 10'000 requests with random payers on 4 threads never see another payer",
          "[context][stress]") {
    asio::io_context io(thread_count);
    SessionPlugin plugin;
    Counters counters;
    auto shared_strand = asio::make_strand(io);
    std::mt19937 seeds(20261124);

    std::vector<std::unique_ptr<Request>> requests;
    requests.reserve(request_count);
    for (int i = 0; i < request_count; ++i) {
        const int payer_index = std::uniform_int_distribution<int>(0, payer_count - 1)(seeds);
        requests.push_back(std::make_unique<Request>(plugin, shared_strand, counters, payer_index, seeds()));
        auto payer = VerifiedPayer::assume_verified(payer_name(payer_index));
        asio::co_spawn(io, plugin.run(payer, [request = requests.back().get()] { return request->body(); }),
                       [&counters](std::exception_ptr error) {
                           if (error) ++counters.failed_requests;
                           ++counters.finished;
                       });
    }
    for (int i = 0; i < thread_count; ++i) asio::co_spawn(io, observer(counters), asio::detached);

    std::vector<std::thread> threads;
    for (int i = 0; i < thread_count; ++i) threads.emplace_back([&io] { io.run(); });
    for (auto& thread : threads) thread.join();

    CHECK(counters.finished == request_count);
    CHECK(counters.failed_requests == 0);
    CHECK(counters.wrong_payer == 0);
    CHECK(counters.foreign_data == 0);
    CHECK(counters.observer_saw_payer == 0);
    // Each request checks after every resumption: at least one per step.
    CHECK(counters.checks >= std::uint64_t{request_count} * steps_per_request);
    CHECK(counters.observer_checks > 0);
}
