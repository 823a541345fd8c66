// InMemoryLedger: InMemoryStore's ledger (see LedgerWrite), the server's own
// records per payer, kept apart from the session table so that no session
// key, list, TTL, per-payer cap or LRU eviction reaches them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace x402::session::detail {

/// Records keyed (payer, key), each with its own expiry. Not thread-safe
/// (InMemoryStore holds its mutex). Every operation first drops the records
/// that expired, oldest first, so an expired record costs O(log n) once and
/// the ledger never holds more than its limits of live and expired records
/// together.
class InMemoryLedger {
public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        std::size_t max_records = 0;
        /// payer + key + value bytes, across all records.
        std::size_t max_bytes = 0;
    };

    explicit InMemoryLedger(Limits limits) noexcept : limits_(limits) {}

    const Limits& limits() const noexcept { return limits_; }

    static std::size_t record_cost(std::string_view payer, std::string_view key, std::string_view value) noexcept {
        return payer.size() + key.size() + value.size();
    }

    std::optional<std::string> get(const std::string& payer, const std::string& key, Clock::time_point now) {
        purge(now);
        auto it = records_.find(Id(payer, key));
        if (it == records_.end()) return std::nullopt;
        return it->second.value;
    }

    /// How many records and bytes the ledger would hold at `now` after
    /// writing `writes`, (key, value) pairs of `payer` with distinct keys
    /// (an overwrite replaces the old record).
    template <class Records>
    std::pair<std::size_t, std::size_t> after(const std::string& payer, const Records& writes, Clock::time_point now) {
        purge(now);
        std::size_t count = records_.size();
        std::size_t bytes = bytes_;
        for (const auto& [key, value] : writes) {
            auto it = records_.find(Id(payer, std::string(key)));
            if (it != records_.end()) {
                --count;
                bytes -= record_cost(payer, key, it->second.value);
            }
            ++count;
            bytes += record_cost(payer, key, value);
        }
        return {count, bytes};
    }

    /// Inserts or overwrites, expiring `ttl` (> 0) after `now`; the caller
    /// checked the limits with `after`.
    void put(const std::string& payer, std::string key, std::string value, std::chrono::milliseconds ttl,
             Clock::time_point now) {
        const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
        const Clock::time_point expires = ttl >= room ? Clock::time_point::max() : now + ttl;
        Id id(payer, std::move(key));
        auto it = records_.find(id);
        if (it != records_.end()) {
            bytes_ -= record_cost(payer, it->first.second, it->second.value);
            expiry_.erase(it->second.expiry);
            it->second.value = std::move(value);
        } else {
            it = records_.emplace(std::move(id), Record{std::move(value), {}}).first;
        }
        bytes_ += record_cost(payer, it->first.second, it->second.value);
        it->second.expiry = expiry_.emplace(expires, &it->first);
    }

    void clear() noexcept {
        expiry_.clear();
        records_.clear();
        bytes_ = 0;
    }

    /// Records held, expired ones not yet dropped included.
    std::size_t size() const noexcept { return records_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }

private:
    using Id = std::pair<std::string, std::string>;
    using ExpiryIndex = std::multimap<Clock::time_point, const Id*>;

    struct Record {
        std::string value;
        ExpiryIndex::iterator expiry;
    };

    void purge(Clock::time_point now) {
        while (!expiry_.empty() && expiry_.begin()->first <= now) {
            auto it = records_.find(*expiry_.begin()->second);
            bytes_ -= record_cost(it->first.first, it->first.second, it->second.value);
            expiry_.erase(expiry_.begin());
            records_.erase(it);
        }
    }

    Limits limits_;
    std::map<Id, Record> records_;
    ExpiryIndex expiry_;
    std::size_t bytes_ = 0;
};

}  // namespace x402::session::detail
