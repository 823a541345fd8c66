// Backends for the store conformance suite (conformance_suite.hpp) that need
// no server: InMemoryStore with a ManualClock. IoThreads is shared with the
// Redis backends (tests/redis/harness.hpp).
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/in_memory_store.hpp>

#include "../support.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace store_conformance {

using x402::session::AnyStore;

/// An io_context run by `count` threads until destruction.
class IoThreads {
public:
    explicit IoThreads(int count = 2) {
        for (int i = 0; i < count; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~IoThreads() {
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) thread.join();
    }
    boost::asio::io_context& io() noexcept { return io_; }
    boost::asio::io_context::executor_type executor() noexcept { return io_.get_executor(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::vector<std::thread> threads_;
};

struct InMemoryBackend {
    static constexpr bool is_redis = false;
    static constexpr bool close_clears = true;

    static x402::session::InMemoryStoreOptions options(const test_support::ManualClock& clock,
                                                       x402::session::PageLimits page_limits) {
        x402::session::InMemoryStoreOptions options;
        options.max_entries = 1'000'000;
        options.page_limits = page_limits;
        options.clock = clock.function();
        return options;
    }

    InMemoryBackend() = default;
    /// A store whose list pages have these caps.
    explicit InMemoryBackend(x402::session::PageLimits limits) : page_limits(limits) {}

    x402::session::PageLimits page_limits{};
    test_support::ManualClock clock;
    AnyStore store = AnyStore::make<x402::session::InMemoryStore>(options(clock, page_limits));

    void age(const std::string&, const std::vector<std::string>&, std::chrono::milliseconds by) { clock.advance(by); }
    void age_ledger(const std::string&, const std::vector<std::string>&, std::chrono::milliseconds by) {
        clock.advance(by);
    }
};

}  // namespace store_conformance
