// InMemoryStore: the default store, one process's memory, with one LRU across
// all payers, a sliding-window TTL and optional per-payer and byte limits.
#pragma once

#include <x402/session/detail/in_memory_ledger.hpp>
#include <x402/session/detail/in_memory_table.hpp>
#include <x402/session/store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace x402::session {

/// Options of an InMemoryStore; checked in this order by its constructor,
/// which reports the first violation as std::invalid_argument.
struct InMemoryStoreOptions {
    /// Hard cap on live entries across all payers. Must be >= 1
    /// ("max_entries must be >= 1").
    std::int64_t max_entries = 10'000;
    /// Default time to live; each `get` hit slides it. `0ms`: never expires.
    /// Must be >= 0 ("ttl must be >= 0").
    std::chrono::milliseconds ttl = std::chrono::hours(1);
    /// Cap on one payer's live entries; a payer at its cap evicts its own least
    /// recently used entry, never another payer's. Unset: no cap. Must be >= 1
    /// ("max_entries_per_payer must be >= 1").
    std::optional<std::int64_t> max_entries_per_payer{};
    /// Budget of payer + key + value bytes across all entries, inclusive.
    /// Unset: no budget. Must be >= 1 ("max_bytes must be >= 1").
    std::optional<std::int64_t> max_bytes{};
    /// The ledger (LedgerWrite), apart from the limits above: most records
    /// across all payers, expired ones not yet dropped included. Must be >= 1
    /// ("max_ledger_records must be >= 1").
    std::int64_t max_ledger_records = 100'000;
    /// The ledger's budget of payer + key + value bytes. Must be >= 1
    /// ("max_ledger_bytes must be >= 1").
    std::int64_t max_ledger_bytes = 64 * 1024 * 1024;
    /// How much one `list` page holds (see PageLimits; both must be >= 1).
    PageLimits page_limits{};
    /// Where the store reads the time; empty: std::chrono::steady_clock.
    /// Must never go backwards (tests inject a manual clock here).
    std::function<std::chrono::steady_clock::time_point()> clock{};
};

/// A thread-safe in-memory Store.
///
/// Every operation takes one mutex and completes without suspending, so the
/// returned awaitables never wait for I/O. Cost: get and erase O(1) average;
/// set O(1) average plus O(log m) to index the key among the payer's m keys;
/// a list page O(log m + limit). No operation scans the store.
///
///     x402::session::InMemoryStore store({.max_entries = 1000});
///     co_await store.set("0xabc...", "color", "blue", {});
///     auto page = co_await store.list("0xabc...", ListOptions().with_limit(10));
class InMemoryStore {
public:
    /// Throws std::invalid_argument naming the first invalid option.
    explicit InMemoryStore(InMemoryStoreOptions options = {})
        : clock_(std::move(options.clock)),
          table_(checked_limits(options)),
          ledger_(checked_ledger_limits(options)),
          page_limits_(checked_page_limits(options.page_limits)) {}

    InMemoryStore(const InMemoryStore&) = delete;
    InMemoryStore& operator=(const InMemoryStore&) = delete;

    /// The live value, or nullopt. A hit makes the entry the most recently
    /// used and slides its expiry by the entry's own TTL.
    awaitable<std::optional<std::string>> get(std::string payer, std::string key) {
        std::scoped_lock lock(mutex_);
        co_return table_.get(payer, key, now());
    }

    /// Inserts or overwrites. Throws std::invalid_argument, changing nothing,
    /// for a negative TTL or an entry larger than `max_bytes`.
    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) {
        const auto ttl = effective_ttl(options);
        check_cost(payer, key, value);
        std::scoped_lock lock(mutex_);
        table_.set(payer, key, value, ttl, now());
        co_return;
    }

    /// True only when a live entry was removed.
    awaitable<bool> erase(std::string payer, std::string key) {
        std::scoped_lock lock(mutex_);
        co_return table_.erase(payer, key, now());
    }

    /// The caps on every `list` page.
    const PageLimits& page_limits() const noexcept { return page_limits_; }

    /// One page of the payer's live entries in ascending key order; touches
    /// neither recency nor expiry. Throws std::invalid_argument("malformed
    /// list cursor") for a cursor this store cannot have returned.
    awaitable<ListResult> list(std::string payer, ListOptions options) {
        std::scoped_lock lock(mutex_);
        co_return table_.list(payer, options, page_limits_, now());
    }

    /// `get` for each key, in order, as one atomic step.
    awaitable<std::vector<std::optional<std::string>>> get_many(std::string payer,
                                                                std::vector<std::string> keys) {
        std::vector<std::optional<std::string>> values;
        values.reserve(keys.size());
        std::scoped_lock lock(mutex_);
        const auto at = now();
        for (const auto& key : keys) values.push_back(table_.get(payer, key, at));
        co_return values;
    }

    /// `set` for each entry, in order, as one atomic step; if the options or
    /// any entry would be rejected, throws before anything changes.
    awaitable<void> set_many(std::string payer, std::vector<Entry> entries, SetOptions options) {
        const auto ttl = effective_ttl(options);
        for (const auto& entry : entries) check_cost(payer, entry.key, entry.value);
        std::scoped_lock lock(mutex_);
        const auto at = now();
        for (const auto& entry : entries) table_.set(payer, entry.key, entry.value, ttl, at);
        co_return;
    }

    /// `erase` for each key, as one atomic step; returns how many live entries went.
    awaitable<std::size_t> erase_many(std::string payer, std::vector<std::string> keys) {
        std::scoped_lock lock(mutex_);
        const auto at = now();
        std::size_t removed = 0;
        for (const auto& key : keys) removed += table_.erase(payer, key, at) ? 1 : 0;
        co_return removed;
    }

    /// The ledger record `key` of `payer` (LedgerWrite), or nullopt once it
    /// expired; reading it changes nothing.
    awaitable<std::optional<std::string>> get_ledger(std::string payer, std::string key) {
        std::scoped_lock lock(mutex_);
        co_return ledger_.get(payer, key, now());
    }

    /// The writes as one atomic step under the store's lock: all or nothing.
    /// Before anything changes it throws what `set` would for any write
    /// (std::invalid_argument: negative TTL, an entry larger than
    /// `max_bytes`) and std::length_error when the payer's entries after the
    /// write set's own entries alone would exceed `max_entries_per_payer`,
    /// `max_entries` or `max_bytes`. Under the per-payer cap the payer's own
    /// least recently used entries that the writes do not touch make room,
    /// as for `set` (a paid write must not fail after its payment settled
    /// for want of room its payer could make); for the global limits the
    /// least recently used entries (of any payer) are evicted exactly as by
    /// `set`. The applied entries themselves never are.
    /// Ledger writes: std::invalid_argument("ledger ttl must be > 0") and
    /// std::length_error when the ledger would pass max_ledger_records or
    /// max_ledger_bytes (nothing of the ledger is ever evicted).
    awaitable<void> apply(std::string payer, std::vector<Write> writes) {
        apply_now(payer, writes);
        co_return;
    }

    /// Removes every entry; the store stays usable.
    awaitable<void> close() {
        std::scoped_lock lock(mutex_);
        table_.clear();
        ledger_.clear();
        co_return;
    }

    /// Live and not yet reclaimed entries (for monitoring; expired entries
    /// are reclaimed by the next operation).
    std::size_t size() const {
        std::scoped_lock lock(mutex_);
        return table_.size();
    }

    /// Payer + key + value bytes held.
    std::size_t bytes() const {
        std::scoped_lock lock(mutex_);
        return table_.bytes();
    }

    /// Live entries evicted so far to make room under max_entries,
    /// max_entries_per_payer or max_bytes (for monitoring).
    std::uint64_t evictions() const {
        std::scoped_lock lock(mutex_);
        return table_.evictions();
    }

    /// Ledger records held, expired ones not yet dropped included.
    std::size_t ledger_size() const {
        std::scoped_lock lock(mutex_);
        return ledger_.size();
    }

private:
    /// The net effect of a write set on one key.
    struct NetWrite {
        const Write* last = nullptr;
        std::size_t order = 0;
        std::chrono::milliseconds ttl{};
    };

    // Not in the coroutine itself: g++ 12 crashes mangling a local struct in a coroutine frame.
    void apply_now(const std::string& payer, const std::vector<Write>& writes) {
        // The final state of each touched key: its last write wins, so the net
        // writes are applied erases first, then sets in the order of their last write.
        using Net = NetWrite;
        std::unordered_map<std::string_view, Net> net;
        // The ledger's net writes: the last value per key (its own key space).
        std::map<std::string_view, const LedgerWrite*> records;
        for (std::size_t i = 0; i < writes.size(); ++i) {
            if (const auto* record = std::get_if<LedgerWrite>(&writes[i])) {
                check_ledger_write(*record);
                records[record->key] = record;
                continue;
            }
            Net& slot = net[std::string_view(write_key(writes[i]))];
            slot.last = &writes[i];
            slot.order = i;
            if (const auto* set = std::get_if<SetWrite>(&writes[i])) {
                slot.ttl = effective_ttl(set->options);
                check_cost(payer, set->key, set->value);
            }
        }
        std::vector<const Net*> sets;
        std::vector<std::string_view> erases;
        std::size_t set_bytes = 0;
        for (const auto& [key, slot] : net) {
            if (const auto* set = std::get_if<SetWrite>(slot.last)) {
                sets.push_back(&slot);
                set_bytes += detail::InMemoryTable::entry_cost(payer, set->key, set->value);
            } else {
                erases.push_back(key);
            }
        }
        std::sort(sets.begin(), sets.end(), [](const Net* a, const Net* b) { return a->order < b->order; });

        const auto& limits = table_.limits();
        if (sets.size() > limits.max_entries) {
            throw std::length_error("write set of " + std::to_string(sets.size()) +
                                    " entries exceeds max_entries (" + std::to_string(limits.max_entries) + ")");
        }
        if (limits.max_bytes && set_bytes > *limits.max_bytes) {
            throw std::length_error("write set of " + std::to_string(set_bytes) + " bytes exceeds max_bytes (" +
                                    std::to_string(*limits.max_bytes) + ")");
        }

        std::scoped_lock lock(mutex_);
        const auto at = now();
        std::size_t evict_own = 0;
        if (limits.max_entries_per_payer) {
            std::size_t count = table_.payer_size(payer, at);
            for (const auto& [key, slot] : net) {
                const bool live = table_.contains(payer, key, at);
                const bool set = std::holds_alternative<SetWrite>(*slot.last);
                if (set && !live) ++count;
                if (!set && live) --count;
            }
            if (sets.size() > *limits.max_entries_per_payer) {
                throw std::length_error("write set of " + std::to_string(sets.size()) +
                                        " entries exceeds max_entries_per_payer (" +
                                        std::to_string(*limits.max_entries_per_payer) + ")");
            }
            if (count > *limits.max_entries_per_payer) evict_own = count - *limits.max_entries_per_payer;
        }
        if (!records.empty()) {
            std::vector<std::pair<std::string_view, std::string_view>> sizes;
            sizes.reserve(records.size());
            for (const auto& [key, record] : records) sizes.emplace_back(key, record->value);
            const auto [count, bytes] = ledger_.after(payer, sizes, at);
            const auto& ledger_limits = ledger_.limits();
            if (count > ledger_limits.max_records) {
                throw std::length_error("ledger would hold " + std::to_string(count) +
                                        " records, more than max_ledger_records (" +
                                        std::to_string(ledger_limits.max_records) + ")");
            }
            if (bytes > ledger_limits.max_bytes) {
                throw std::length_error("ledger would hold " + std::to_string(bytes) +
                                        " bytes, more than max_ledger_bytes (" +
                                        std::to_string(ledger_limits.max_bytes) + ")");
            }
        }
        for (const auto key : erases) table_.erase(payer, key, at);
        if (evict_own != 0) {
            table_.evict_own_least_recent(payer, evict_own, [&net](std::string_view key) { return net.contains(key); });
        }
        for (const Net* slot : sets) {
            const auto& set = std::get<SetWrite>(*slot->last);
            table_.set(payer, set.key, set.value, slot->ttl, at);
        }
        for (const auto& [key, record] : records) ledger_.put(payer, record->key, record->value, record->ttl, at);
    }

    static detail::InMemoryTable::Limits checked_limits(const InMemoryStoreOptions& options) {
        if (options.max_entries < 1) throw std::invalid_argument("max_entries must be >= 1");
        if (options.ttl.count() < 0) throw std::invalid_argument("ttl must be >= 0");
        if (options.max_entries_per_payer && *options.max_entries_per_payer < 1) {
            throw std::invalid_argument("max_entries_per_payer must be >= 1");
        }
        if (options.max_bytes && *options.max_bytes < 1) {
            throw std::invalid_argument("max_bytes must be >= 1");
        }
        detail::InMemoryTable::Limits limits;
        limits.max_entries = static_cast<std::size_t>(options.max_entries);
        limits.default_ttl = options.ttl;
        if (options.max_entries_per_payer) {
            limits.max_entries_per_payer = static_cast<std::size_t>(*options.max_entries_per_payer);
        }
        if (options.max_bytes) limits.max_bytes = static_cast<std::size_t>(*options.max_bytes);
        return limits;
    }

    static detail::InMemoryLedger::Limits checked_ledger_limits(const InMemoryStoreOptions& options) {
        if (options.max_ledger_records < 1) throw std::invalid_argument("max_ledger_records must be >= 1");
        if (options.max_ledger_bytes < 1) throw std::invalid_argument("max_ledger_bytes must be >= 1");
        detail::InMemoryLedger::Limits limits;
        limits.max_records = static_cast<std::size_t>(options.max_ledger_records);
        limits.max_bytes = static_cast<std::size_t>(options.max_ledger_bytes);
        return limits;
    }

    std::chrono::milliseconds effective_ttl(const SetOptions& options) const {
        if (!options.ttl) return table_.limits().default_ttl;
        if (options.ttl->count() < 0) throw std::invalid_argument("ttl must be >= 0");
        return *options.ttl;
    }

    void check_cost(const std::string& payer, const std::string& key, const std::string& value) const {
        const auto& budget = table_.limits().max_bytes;
        const std::size_t cost = detail::InMemoryTable::entry_cost(payer, key, value);
        if (budget && cost > *budget) {
            throw std::invalid_argument("entry of " + std::to_string(cost) + " bytes exceeds max_bytes (" +
                                        std::to_string(*budget) + ")");
        }
    }

    std::chrono::steady_clock::time_point now() const {
        return clock_ ? clock_() : std::chrono::steady_clock::now();
    }

    std::function<std::chrono::steady_clock::time_point()> clock_;
    mutable std::mutex mutex_;
    detail::InMemoryTable table_;
    detail::InMemoryLedger ledger_;
    PageLimits page_limits_;
};

static_assert(StoreWithGetMany<InMemoryStore> && StoreWithSetMany<InMemoryStore> &&
              StoreWithEraseMany<InMemoryStore> && StoreWithClose<InMemoryStore> &&
              StoreWithApply<InMemoryStore> && StoreWithLedger<InMemoryStore> &&
              StoreWithPageLimits<InMemoryStore>);

}  // namespace x402::session
