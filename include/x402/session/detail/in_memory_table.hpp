// The synchronous engine behind InMemoryStore: every entry is one heap node
// linked into five intrusive structures, so no operation copies or scans:
//   lookup     hash of (payer, key), SipHash-keyed        get/set/erase O(1) avg
//   recency    one LRU list across all payers             max_entries, max_bytes
//   payer LRU  one list per payer                         max_entries_per_payer
//   key tree   one red-black tree per payer, by key       list page O(log n + limit)
//   expiry     one list per distinct TTL, in expiry order (a refresh moves an
//              entry to the back of its TTL's list), and a tree of those lists
//              by their earliest expiry, so expired entries are found at once.
// Not thread-safe: InMemoryStore serialises calls with a mutex.
#pragma once

#include <x402/session/detail/cursor.hpp>
#include <x402/session/detail/page.hpp>
#include <x402/session/detail/siphash.hpp>
#include <x402/session/store.hpp>

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/intrusive/unordered_set.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace x402::session::detail {

namespace bi = boost::intrusive;

using TimePoint = std::chrono::steady_clock::time_point;

struct RecencyTag;
struct PayerRecencyTag;
struct ExpiryTag;

using RecencyHook = bi::list_base_hook<bi::tag<RecencyTag>>;
using PayerRecencyHook = bi::list_base_hook<bi::tag<PayerRecencyTag>>;
using ExpiryHook = bi::list_base_hook<bi::tag<ExpiryTag>>;
using KeyTreeHook = bi::set_base_hook<bi::optimize_size<true>>;
using LookupHook = bi::unordered_set_base_hook<bi::store_hash<true>>;

struct PayerRecord;
struct ExpiryClass;

/// One entry, allocated together with its key and value bytes, which follow
/// the struct: one allocation per entry and no string headers (the memory
/// benchmark measures the overhead per entry).
struct StoredEntry : RecencyHook, PayerRecencyHook, ExpiryHook, KeyTreeHook, LookupHook {
    PayerRecord* owner = nullptr;
    ExpiryClass* expiry_class = nullptr;  // null: never expires; else its TTL's class
    TimePoint expires_at{};               // meaningful only with an expiry class
    std::size_t key_size = 0;
    std::size_t value_size = 0;

    std::string_view key() const noexcept { return {bytes(), key_size}; }
    std::string_view value() const noexcept { return {bytes() + key_size, value_size}; }

    static StoredEntry* create(std::string_view key, std::string_view value) {
        void* memory = ::operator new(allocation_size(key.size(), value.size()));
        auto* entry = ::new (memory) StoredEntry();
        entry->key_size = key.size();
        entry->value_size = value.size();
        char* tail = reinterpret_cast<char*>(entry + 1);
        if (!key.empty()) std::memcpy(tail, key.data(), key.size());
        if (!value.empty()) std::memcpy(tail + key.size(), value.data(), value.size());
        return entry;
    }

    static void destroy(StoredEntry* entry) noexcept {
        const std::size_t size = allocation_size(entry->key_size, entry->value_size);
        entry->~StoredEntry();
        ::operator delete(static_cast<void*>(entry), size);
    }

private:
    const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }

    static std::size_t allocation_size(std::size_t key_size, std::size_t value_size) {
        if (value_size > std::numeric_limits<std::size_t>::max() - sizeof(StoredEntry) - key_size) {
            throw std::length_error("entry too large");
        }
        return sizeof(StoredEntry) + key_size + value_size;
    }
};

struct EntryDeleter {
    void operator()(StoredEntry* entry) const noexcept { StoredEntry::destroy(entry); }
};

struct KeyOrder {
    bool operator()(const StoredEntry& a, const StoredEntry& b) const noexcept { return a.key() < b.key(); }
    bool operator()(std::string_view a, const StoredEntry& b) const noexcept { return a < b.key(); }
    bool operator()(const StoredEntry& a, std::string_view b) const noexcept { return a.key() < b; }
};

using RecencyList = bi::list<StoredEntry, bi::base_hook<RecencyHook>>;
using PayerRecencyList = bi::list<StoredEntry, bi::base_hook<PayerRecencyHook>>;
using ExpiryList = bi::list<StoredEntry, bi::base_hook<ExpiryHook>>;
using KeyTree = bi::set<StoredEntry, bi::base_hook<KeyTreeHook>, bi::compare<KeyOrder>>;

/// All entries of one payer.
struct PayerRecord {
    std::string payer;
    KeyTree keys;
    PayerRecencyList recency;  // front: this payer's least recently used entry
};

/// The entries that share one TTL, in the order their expiry was last set,
/// which is expiry order as long as the clock does not go backwards.
struct ExpiryClass : bi::set_base_hook<> {
    explicit ExpiryClass(std::chrono::milliseconds class_ttl) : ttl(class_ttl) {}
    std::chrono::milliseconds ttl;
    ExpiryList entries;
};

struct EarliestExpiryOrder {
    bool operator()(const ExpiryClass& a, const ExpiryClass& b) const noexcept {
        return a.entries.front().expires_at < b.entries.front().expires_at;
    }
};

using ExpiryClassTree = bi::multiset<ExpiryClass, bi::compare<EarliestExpiryOrder>>;

/// The lookup key: one payer's one key.
struct EntryAddress {
    std::string_view payer;
    std::string_view key;
};

class InMemoryTable {
public:
    struct Limits {
        std::size_t max_entries = 10'000;
        std::chrono::milliseconds default_ttl = std::chrono::hours(1);
        std::optional<std::size_t> max_entries_per_payer;
        std::optional<std::size_t> max_bytes;
    };

    explicit InMemoryTable(Limits limits)
        : limits_(limits),
          hash_key_(SipHasher::random_key()),
          buckets_(initial_bucket_count),
          lookup_(LookupSet::bucket_traits(buckets_.data(), buckets_.size()),
                  AddressHash{hash_key_}, AddressEqual{}) {}

    InMemoryTable(const InMemoryTable&) = delete;
    InMemoryTable& operator=(const InMemoryTable&) = delete;
    ~InMemoryTable() { clear(); }

    std::optional<std::string> get(std::string_view payer, std::string_view key, TimePoint now) {
        reclaim_expired(now);
        StoredEntry* entry = find(payer, key);
        if (entry == nullptr) return std::nullopt;
        if (is_expired(*entry, now)) {  // only reachable if the clock went backwards
            remove(*entry);
            return std::nullopt;
        }
        touch(*entry, now);
        return std::string(entry->value());
    }

    /// `ttl` is the validated effective TTL; the caller has checked `entry_cost`.
    void set(std::string_view payer, std::string_view key, std::string_view value,
             std::chrono::milliseconds ttl, TimePoint now) {
        reclaim_expired(now);
        // An overwrite frees its own slot and bytes first, so it never evicts for the count cap.
        if (StoredEntry* old = find(payer, key)) remove(*old);

        if (limits_.max_entries_per_payer) {
            PayerRecord* record = find_payer(payer);
            if (record != nullptr && record->recency.size() >= *limits_.max_entries_per_payer) {
                evict(record->recency.front());
            }
        }
        while (recency_.size() >= limits_.max_entries) evict(recency_.front());
        const std::size_t cost = entry_cost(payer, key, value);
        if (limits_.max_bytes) {
            while (bytes_ + cost > *limits_.max_bytes) evict(recency_.front());
        }
        insert(payer, key, value, ttl, now);
    }

    /// True only when a live entry was removed.
    bool erase(std::string_view payer, std::string_view key, TimePoint now) {
        reclaim_expired(now);
        StoredEntry* entry = find(payer, key);
        if (entry == nullptr) return false;
        const bool live = !is_expired(*entry, now);
        remove(*entry);
        return live;
    }

    /// True when the payer has a live entry under `key`; touches neither
    /// recency nor expiry (only reclaims what has expired).
    bool contains(std::string_view payer, std::string_view key, TimePoint now) {
        reclaim_expired(now);
        StoredEntry* entry = find(payer, key);
        return entry != nullptr && !is_expired(*entry, now);
    }

    /// Removes up to `count` of the payer's least recently used entries whose
    /// key `keep(key)` does not hold: what an apply frees under the per-payer
    /// cap, as `set` does, but never an entry the apply itself touches.
    template <class Keep>
    void evict_own_least_recent(std::string_view payer, std::size_t count, const Keep& keep) {
        PayerRecord* record = find_payer(payer);
        if (record == nullptr) return;
        auto it = record->recency.begin();
        while (count > 0 && it != record->recency.end()) {
            StoredEntry& entry = *it;
            ++it;
            if (keep(entry.key())) continue;
            const bool last = record->recency.size() == 1;  // removing it removes the record
            evict(entry);
            --count;
            if (last) return;
        }
    }

    /// How many entries the payer holds once expired ones are reclaimed.
    std::size_t payer_size(std::string_view payer, TimePoint now) {
        reclaim_expired(now);
        PayerRecord* record = find_payer(payer);
        return record == nullptr ? 0 : record->recency.size();
    }

    /// Throws std::invalid_argument for a malformed cursor, before anything changes.
    ListResult list(std::string_view payer, const ListOptions& options, const PageLimits& page_limits,
                    TimePoint now) {
        const std::optional<std::string> after = decode_cursor(options.cursor);
        reclaim_expired(now);
        PageBuilder page(page_limits, options.limit, options.keys_only);
        PayerRecord* record = find_payer(payer);
        if (record == nullptr) return std::move(page).finish();

        const std::string_view prefix = options.prefix;
        auto it = (after && std::string_view(*after) >= prefix)
                      ? record->keys.upper_bound(std::string_view(*after), KeyOrder{})
                      : record->keys.lower_bound(prefix, KeyOrder{});
        for (; it != record->keys.end() && it->key().starts_with(prefix); ++it) {
            if (is_expired(*it, now)) continue;
            if (!page.fits(it->key(), it->value().size())) return std::move(page).finish_with_cursor();
            page.add(std::string(it->key()), options.keys_only ? std::string() : std::string(it->value()));
        }
        return std::move(page).finish();
    }

    void clear() noexcept {
        while (!recency_.empty()) remove(recency_.front());
    }

    static std::size_t entry_cost(std::string_view payer, std::string_view key,
                                  std::string_view value) noexcept {
        return payer.size() + key.size() + value.size();
    }

    std::size_t size() const noexcept { return recency_.size(); }
    /// Live entries removed so far to make room (not expired, not erased).
    std::uint64_t evictions() const noexcept { return evictions_; }
    std::size_t bytes() const noexcept { return bytes_; }
    const Limits& limits() const noexcept { return limits_; }

private:
    static constexpr std::size_t initial_bucket_count = 64;

    struct AddressHash {
        SipHasher::Key key;
        std::size_t operator()(EntryAddress address) const noexcept {
            SipHasher hasher(key);
            const std::uint64_t payer_size = address.payer.size();
            char length[8];
            for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(payer_size >> (8 * i));
            hasher.update(std::string_view(length, sizeof length));  // ("a","bc") != ("ab","c")
            hasher.update(address.payer);
            hasher.update(address.key);
            return static_cast<std::size_t>(hasher.finish());
        }
        std::size_t operator()(const StoredEntry& entry) const noexcept {
            return (*this)(EntryAddress{entry.owner->payer, entry.key()});
        }
    };

    struct AddressEqual {
        static bool same(EntryAddress a, EntryAddress b) noexcept {
            return a.payer == b.payer && a.key == b.key;
        }
        static EntryAddress address(const StoredEntry& e) noexcept { return {e.owner->payer, e.key()}; }
        bool operator()(const StoredEntry& a, const StoredEntry& b) const noexcept {
            return same(address(a), address(b));
        }
        bool operator()(EntryAddress a, const StoredEntry& b) const noexcept { return same(a, address(b)); }
        bool operator()(const StoredEntry& a, EntryAddress b) const noexcept { return same(address(a), b); }
    };

    using LookupSet = bi::unordered_set<StoredEntry, bi::base_hook<LookupHook>, bi::hash<AddressHash>,
                                        bi::equal<AddressEqual>, bi::power_2_buckets<true>>;

    struct PayerHash {
        using is_transparent = void;
        SipHasher::Key key;
        std::size_t operator()(std::string_view payer) const noexcept {
            SipHasher hasher(key);
            hasher.update(payer);
            return static_cast<std::size_t>(hasher.finish());
        }
    };

    static bool is_expired(const StoredEntry& entry, TimePoint now) noexcept {
        return entry.expiry_class != nullptr && now > entry.expires_at;  // alive at exactly expires_at
    }

    static TimePoint expiry_after(TimePoint now, std::chrono::milliseconds ttl) noexcept {
        // Saturate: a huge TTL must mean "very late", never overflow into the past.
        const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(TimePoint::max() - now);
        return ttl >= room ? TimePoint::max() : now + ttl;
    }

    StoredEntry* find(std::string_view payer, std::string_view key) {
        auto it = lookup_.find(EntryAddress{payer, key}, lookup_.hash_function(), lookup_.key_eq());
        return it == lookup_.end() ? nullptr : &*it;
    }

    PayerRecord* find_payer(std::string_view payer) {
        auto it = payers_.find(payer);
        return it == payers_.end() ? nullptr : it->second.get();
    }

    void touch(StoredEntry& entry, TimePoint now) {
        recency_.splice(recency_.end(), recency_, recency_.iterator_to(entry));
        auto& own = entry.owner->recency;
        own.splice(own.end(), own, own.iterator_to(entry));
        if (entry.expiry_class != nullptr) {
            // Slide the expiry: the entry moves to the back of its TTL's list.
            ExpiryClass& cls = *entry.expiry_class;
            const bool was_front = &cls.entries.front() == &entry;
            if (was_front) earliest_.erase(earliest_.iterator_to(cls));
            cls.entries.erase(cls.entries.iterator_to(entry));
            entry.expires_at = expiry_after(now, cls.ttl);
            cls.entries.push_back(entry);
            if (was_front) earliest_.insert(cls);
        }
    }

    void insert(std::string_view payer, std::string_view key, std::string_view value,
                std::chrono::milliseconds ttl, TimePoint now) {
        // Everything that can throw comes first, so a failed insert changes nothing.
        grow_lookup_if_full();
        std::unique_ptr<StoredEntry, EntryDeleter> node(StoredEntry::create(key, value));
        ExpiryClass* cls = nullptr;
        if (ttl.count() > 0) cls = &expiry_classes_.try_emplace(ttl.count(), ttl).first->second;
        PayerRecord* owner = find_payer(payer);
        if (owner == nullptr) {
            auto record = std::make_unique<PayerRecord>();
            record->payer.assign(payer);
            owner = record.get();
            payers_.emplace(std::string(payer), std::move(record));
        }

        StoredEntry& entry = *node.release();
        if (cls != nullptr) entry.expires_at = expiry_after(now, ttl);
        entry.owner = owner;
        lookup_.insert(entry);
        recency_.push_back(entry);
        owner->recency.push_back(entry);
        owner->keys.insert(entry);
        if (cls != nullptr) link_expiry(entry, *cls);
        bytes_ += entry_cost(payer, key, value);
    }

    void evict(StoredEntry& entry) noexcept {
        ++evictions_;
        remove(entry);
    }

    void remove(StoredEntry& entry) noexcept {
        PayerRecord* owner = entry.owner;
        bytes_ -= entry_cost(owner->payer, entry.key(), entry.value());
        if (entry.expiry_class != nullptr) unlink_expiry(entry);
        lookup_.erase(lookup_.iterator_to(entry));
        recency_.erase(recency_.iterator_to(entry));
        owner->recency.erase(owner->recency.iterator_to(entry));
        owner->keys.erase(owner->keys.iterator_to(entry));
        StoredEntry::destroy(&entry);
        if (owner->recency.empty()) payers_.erase(payers_.find(std::string_view(owner->payer)));
    }

    void link_expiry(StoredEntry& entry, ExpiryClass& cls) noexcept {
        entry.expiry_class = &cls;
        const bool was_empty = cls.entries.empty();
        cls.entries.push_back(entry);
        if (was_empty) earliest_.insert(cls);
    }

    void unlink_expiry(StoredEntry& entry) noexcept {
        ExpiryClass& cls = *entry.expiry_class;
        const bool was_front = &cls.entries.front() == &entry;
        if (was_front) earliest_.erase(earliest_.iterator_to(cls));
        cls.entries.erase(cls.entries.iterator_to(entry));
        entry.expiry_class = nullptr;
        if (cls.entries.empty()) {
            expiry_classes_.erase(cls.ttl.count());
        } else if (was_front) {
            earliest_.insert(cls);
        }
    }

    /// Removes every entry that expired before `now`; each entry is reclaimed
    /// once, so the cost is amortised O(1) per entry ever written.
    void reclaim_expired(TimePoint now) noexcept {
        while (!earliest_.empty()) {
            StoredEntry& oldest = earliest_.begin()->entries.front();
            if (!is_expired(oldest, now)) break;
            remove(oldest);
        }
    }

    void grow_lookup_if_full() {
        if (lookup_.size() < buckets_.size()) return;
        std::vector<LookupSet::bucket_type> bigger(buckets_.size() * 2);
        lookup_.rehash(LookupSet::bucket_traits(bigger.data(), bigger.size()));
        buckets_.swap(bigger);
    }

    Limits limits_;
    std::uint64_t evictions_ = 0;
    SipHasher::Key hash_key_;
    std::vector<LookupSet::bucket_type> buckets_;  // declared before lookup_, which points into it
    LookupSet lookup_;
    RecencyList recency_;  // front: least recently used across all payers
    std::unordered_map<std::string, std::unique_ptr<PayerRecord>, PayerHash, std::equal_to<>> payers_{
        0, PayerHash{hash_key_}};
    std::map<std::int64_t, ExpiryClass> expiry_classes_;  // by TTL in ms; a tree, so TTLs cannot flood it
    ExpiryClassTree earliest_;                            // by each class's earliest expiry
    std::size_t bytes_ = 0;
};

}  // namespace x402::session::detail
