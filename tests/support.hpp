// Test support: run an awaitable to completion from a plain test body, and a
// manual clock to inject into stores so no test sleeps.
#pragma once

#include <x402/session/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace test_support {

/// Runs `operation` on a private io_context and returns its result or rethrows
/// its exception. Fails (throws) instead of hanging if it has not completed
/// within `timeout`.
template <class T>
T run(x402::session::awaitable<T> operation, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    boost::asio::io_context io;
    std::exception_ptr error;
    std::optional<T> result;
    bool done = false;
    boost::asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) result.emplace(std::move(value));
        done = true;
    });
    io.run_for(timeout);
    if (!done) throw std::runtime_error("test_support::run: operation did not complete in time");
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

inline void run(x402::session::awaitable<void> operation, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    boost::asio::io_context io;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    io.run_for(timeout);
    if (!done) throw std::runtime_error("test_support::run: operation did not complete in time");
    if (error) std::rethrow_exception(error);
}

/// Runs `io` on `threads` threads until it runs out of work. Throws instead of
/// hanging if work is still pending after `timeout`.
inline void run_io(boost::asio::io_context& io, int threads = 1,
                   std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io, timeout] { io.run_for(timeout); });
    io.run_for(timeout);
    for (auto& thread : pool) thread.join();
    if (!io.stopped()) throw std::runtime_error("test_support::run_io: work still pending after the timeout");
}

/// A steady clock that moves only when told to; copies share the time.
class ManualClock {
public:
    using time_point = std::chrono::steady_clock::time_point;

    void advance(std::chrono::milliseconds step) { now_->fetch_add(step.count()); }
    time_point now() const { return time_point(std::chrono::milliseconds(now_->load())); }

    /// For InMemoryStoreOptions::clock.
    std::function<time_point()> function() const {
        return [now = now_] { return time_point(std::chrono::milliseconds(now->load())); };
    }

private:
    // Starts well away from the epoch so that "now - ttl" never underflows.
    std::shared_ptr<std::atomic<std::int64_t>> now_ = std::make_shared<std::atomic<std::int64_t>>(1'000'000'000);
};

}  // namespace test_support
