// PaymentMetrics: what a PaymentHook has done, as counters an operator reads
// (PaymentHook::metrics()) or serves, e.g. in the Prometheus text format
// (x402/http/prometheus.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace x402::payment {

/// Counters of one PaymentHook (and its copies), each only ever increasing.
/// Thread-safe; reading them never blocks a request for long.
class PaymentMetrics {
public:
    /// Requests to priced routes, whatever became of them.
    std::atomic<std::uint64_t> paid_requests{0};
    /// Served: the handler ran and its payment settled (replays not included).
    std::atomic<std::uint64_t> served{0};
    /// Served again from a payment identifier's record, without running.
    std::atomic<std::uint64_t> replayed{0};
    /// The handler ran, its result failed, nothing was charged.
    std::atomic<std::uint64_t> not_charged{0};
    /// Requests that ended in an exception (a handler's, or the store's
    /// before settlement) rather than an outcome.
    std::atomic<std::uint64_t> errors{0};
    /// Calls to the verifier, and those that did not find the payment valid.
    std::atomic<std::uint64_t> verifications{0};
    std::atomic<std::uint64_t> verifications_failed{0};
    /// Calls to the settler, and those that did not settle.
    std::atomic<std::uint64_t> settlements{0};
    std::atomic<std::uint64_t> settlements_failed{0};
    /// Paid requests whose writes (and records) went to the store, one commit
    /// each, and those of them the store refused (even without the records).
    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> commits_failed{0};

    /// Most distinct reasons kept; later new ones count under "other". A
    /// verifier's reasons are strings from outside: only names of the x402
    /// reason form (at most 64 of [A-Za-z0-9_]) are kept as they are, so no
    /// facilitator can grow the table, or break a scrape with odd bytes.
    static constexpr std::size_t max_reasons = 64;

    /// Counts one refusal under its reason (an x402 error reason).
    void count_refusal(std::string_view reason) {
        if (!is_reason_name(reason)) reason = "other";
        std::scoped_lock lock(mutex_);
        auto found = refusals_.find(reason);
        if (found == refusals_.end()) {
            if (refusals_.size() >= max_reasons) reason = "other";
            found = refusals_.try_emplace(std::string(reason), 0).first;
        }
        ++found->second;
    }

    /// Refusals so far, by reason.
    std::map<std::string, std::uint64_t, std::less<>> refusals() const {
        std::scoped_lock lock(mutex_);
        return refusals_;
    }

private:
    static bool is_reason_name(std::string_view reason) noexcept {
        if (reason.empty() || reason.size() > 64) return false;
        for (const char c : reason) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            if (!ok) return false;
        }
        return true;
    }

    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t, std::less<>> refusals_;
};

}  // namespace x402::payment
