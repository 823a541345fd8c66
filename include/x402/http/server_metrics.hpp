// ServerMetrics: what an x402::http::Server has done, as counters an operator
// reads (Server::metrics()) or serves (x402/http/prometheus.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace x402::http {

/// Counters of one Server, each only ever increasing; thread-safe.
struct ServerMetrics {
    /// Connections taken, and those refused beyond max_connections (503 or closed).
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_refused{0};
    /// Connections closed by a deadline (idle, header, body or write).
    std::atomic<std::uint64_t> connections_timed_out{0};
    /// Requests read whole, and requests refused unread (malformed, too large).
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> requests_malformed{0};
    /// Answers by status class: [1] 1xx ... [5] 5xx ([0] unused).
    std::array<std::atomic<std::uint64_t>, 6> responses_by_class{};

    void count_response(unsigned status) noexcept {
        const unsigned cls = status / 100;
        if (cls >= 1 && cls <= 5) ++responses_by_class[cls];
    }
};

/// Counts one running handler in `count` for as long as it lives (the
/// in-flight gauges a drain waits on).
class RunningHandler {
public:
    explicit RunningHandler(std::atomic<std::size_t>& count) noexcept : count_(count) { ++count_; }
    ~RunningHandler() { --count_; }
    RunningHandler(const RunningHandler&) = delete;
    RunningHandler& operator=(const RunningHandler&) = delete;

private:
    std::atomic<std::size_t>& count_;
};

}  // namespace x402::http
