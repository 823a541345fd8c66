// WriteSet: one request's staged writes for one payer, which reach the store
// only on commit, as one atomic `apply` (issue 12 item 1).
#pragma once

#include <x402/session/store.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace x402::session {

/// The staged state of one key: its value, or nullopt when its last staged
/// write erases it.
struct StagedKey {
    StagedKey() noexcept {}
    StagedKey(std::string staged_key, std::optional<std::string> staged_value) noexcept
        : key(std::move(staged_key)), value(std::move(staged_value)) {}

    std::string key;
    std::optional<std::string> value;

    friend bool operator==(const StagedKey&, const StagedKey&) = default;
};

/// Bounds on what one write set may hold; 0: no bound.
struct WriteSetLimits {
    /// Most staged writes (each set and each erase counts once).
    std::size_t max_writes = 0;
    /// Most staged bytes: key + value of every set, key of every erase.
    std::size_t max_bytes = 0;
};

/// A request's staged writes for one payer. Keeps every write in the order
/// it was made (the commit applies that sequence) and, per key in key order,
/// the result of the last one (what reads in the same request see).
///
/// Each write is validated when it is staged, so that a commit fails only for
/// what the store alone knows (its quota and budget) or I/O: a negative TTL
/// throws std::invalid_argument("ttl must be >= 0"); going past the limits
/// throws std::length_error. A failed staging call stages nothing, also for
/// the batch forms.
///
/// Thread-safe: every member takes one mutex.
///
///     auto writes = std::make_shared<x402::session::WriteSet>();
///     auto session = x402::session::Session::staged(payer, store, writes);
///     co_await session.set("color", "blue");     // staged, read back by get/list
///     co_await x402::session::commit(session);   // one store.apply
class WriteSet {
public:
    WriteSet() = default;
    explicit WriteSet(WriteSetLimits limits) noexcept : limits_(limits) {}

    WriteSet(const WriteSet&) = delete;
    WriteSet& operator=(const WriteSet&) = delete;

    void set(std::string key, std::string value, SetOptions options = {}) {
        std::vector<Write> one;
        one.emplace_back(SetWrite(std::move(key), std::move(value), options));
        stage(std::move(one));
    }

    void erase(std::string key) {
        std::vector<Write> one;
        one.emplace_back(EraseWrite(std::move(key)));
        stage(std::move(one));
    }

    /// All or none of the entries, in order.
    void set_many(std::vector<Entry> entries, SetOptions options = {}) {
        std::vector<Write> batch;
        batch.reserve(entries.size());
        for (auto& entry : entries) batch.emplace_back(SetWrite(std::move(entry.key), std::move(entry.value), options));
        stage(std::move(batch));
    }

    void erase_many(std::vector<std::string> keys) {
        std::vector<Write> batch;
        batch.reserve(keys.size());
        for (auto& key : keys) batch.emplace_back(EraseWrite(std::move(key)));
        stage(std::move(batch));
    }

    /// The staged state of `key`; nullopt when no write is staged for it
    /// (the store decides).
    std::optional<StagedKey> lookup(std::string_view key) const {
        std::scoped_lock lock(mutex_);
        auto it = view_.find(key);
        if (it == view_.end()) return std::nullopt;
        return StagedKey(it->first, it->second);
    }

    /// The staged keys that start with `prefix` and sort after `after` (all
    /// of them when `after` is nullopt), in ascending byte order of key.
    std::vector<StagedKey> range(std::string_view prefix, std::optional<std::string_view> after = {}) const {
        std::scoped_lock lock(mutex_);
        auto it = (after && *after >= prefix) ? view_.upper_bound(*after) : view_.lower_bound(prefix);
        std::vector<StagedKey> keys;
        for (; it != view_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
            keys.emplace_back(it->first, it->second);
        }
        return keys;
    }

    /// A copy of the staged sequence, in the order the writes were made.
    std::vector<Write> writes() const {
        std::scoped_lock lock(mutex_);
        return writes_;
    }

    /// Forgets the first `count` staged writes (those a commit has applied),
    /// keeping any staged after them.
    void discard_first(std::size_t count) {
        std::scoped_lock lock(mutex_);
        if (count >= writes_.size()) {
            writes_.clear();
            view_.clear();
            bytes_ = 0;
            return;
        }
        writes_.erase(writes_.begin(), writes_.begin() + static_cast<std::ptrdiff_t>(count));
        view_.clear();
        bytes_ = 0;
        for (const auto& write : writes_) {
            bytes_ += cost(write);
            record(write);
        }
    }

    void clear() { discard_first(static_cast<std::size_t>(-1)); }

    bool empty() const {
        std::scoped_lock lock(mutex_);
        return writes_.empty();
    }

    /// How many writes are staged.
    std::size_t size() const {
        std::scoped_lock lock(mutex_);
        return writes_.size();
    }

    /// Staged bytes, as WriteSetLimits::max_bytes counts them.
    std::size_t bytes() const {
        std::scoped_lock lock(mutex_);
        return bytes_;
    }

    const WriteSetLimits& limits() const noexcept { return limits_; }

    /// The storage payer this write set belongs to, once a Session bound it.
    std::optional<std::string> payer() const {
        std::scoped_lock lock(mutex_);
        return payer_;
    }

    /// Binds the write set to `storage_payer` (Session does this); throws
    /// std::invalid_argument("write set belongs to another payer") if it is
    /// bound to a different one.
    void bind_payer(const std::string& storage_payer) {
        std::scoped_lock lock(mutex_);
        if (payer_ && *payer_ != storage_payer) throw std::invalid_argument("write set belongs to another payer");
        payer_ = storage_payer;
    }

private:
    static std::size_t cost(const Write& write) noexcept {
        if (const auto* set = std::get_if<SetWrite>(&write)) return set->key.size() + set->value.size();
        return std::get<EraseWrite>(write).key.size();
    }

    static void validate(const Write& write) {
        const auto* set = std::get_if<SetWrite>(&write);
        if (set != nullptr && set->options.ttl && set->options.ttl->count() < 0) {
            throw std::invalid_argument("ttl must be >= 0");
        }
    }

    void record(const Write& write) {
        if (const auto* set = std::get_if<SetWrite>(&write)) {
            view_.insert_or_assign(set->key, std::optional<std::string>(set->value));
        } else {
            view_.insert_or_assign(std::get<EraseWrite>(write).key, std::nullopt);
        }
    }

    void stage(std::vector<Write> batch) {
        std::size_t batch_bytes = 0;
        for (const auto& write : batch) {
            validate(write);
            batch_bytes += cost(write);
        }
        std::scoped_lock lock(mutex_);
        if (limits_.max_writes != 0 && batch.size() > limits_.max_writes - std::min(writes_.size(), limits_.max_writes)) {
            throw std::length_error("write set exceeds max_writes (" + std::to_string(limits_.max_writes) + ")");
        }
        if (limits_.max_bytes != 0 && batch_bytes > limits_.max_bytes - std::min(bytes_, limits_.max_bytes)) {
            throw std::length_error("write set exceeds max_bytes (" + std::to_string(limits_.max_bytes) + ")");
        }
        writes_.reserve(writes_.size() + batch.size());  // so nothing below throws but the view's allocations
        for (auto& write : batch) {
            record(write);
            writes_.push_back(std::move(write));
        }
        bytes_ += batch_bytes;
    }

    WriteSetLimits limits_{};
    mutable std::mutex mutex_;
    std::optional<std::string> payer_;
    std::vector<Write> writes_;
    std::size_t bytes_ = 0;
    std::map<std::string, std::optional<std::string>, std::less<>> view_;
};

}  // namespace x402::session
