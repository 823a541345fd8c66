// Property test: InMemoryStore against a deliberately simple model (a sorted
// map scanned in full for every decision) over random operation sequences,
// time steps included, under several limit combinations.
#include <x402/session/in_memory_store.hpp>

#include "../support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using x402::session::Entry;
using x402::session::InMemoryStore;
using x402::session::InMemoryStoreOptions;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::SetOptions;
using test_support::run;

namespace {

/// The in-memory store's rules (global LRU, sliding TTL, quotas), written the obvious way: O(n) everywhere.
class ModelStore {
public:
    struct Limits {
        std::size_t max_entries;
        std::chrono::milliseconds ttl;
        std::optional<std::size_t> per_payer;
        std::optional<std::size_t> max_bytes;
    };

    explicit ModelStore(Limits limits) : limits_(limits) {}

    std::optional<std::string> get(const std::string& payer, const std::string& key, std::int64_t now) {
        reclaim(now);
        auto it = entries_.find({payer, key});
        if (it == entries_.end()) return std::nullopt;
        it->second.last_use = ++clock_;
        if (it->second.ttl > 0) it->second.expires_at = now + it->second.ttl;
        return it->second.value;
    }

    void set(const std::string& payer, const std::string& key, const std::string& value,
             std::optional<std::int64_t> ttl, std::int64_t now) {
        reclaim(now);
        entries_.erase({payer, key});
        if (limits_.per_payer && count_of(payer) >= *limits_.per_payer) remove_lru(&payer);
        while (entries_.size() >= limits_.max_entries) remove_lru(nullptr);
        const std::size_t cost = payer.size() + key.size() + value.size();
        if (limits_.max_bytes) {
            while (bytes() + cost > *limits_.max_bytes) remove_lru(nullptr);
        }
        const std::int64_t effective = ttl.value_or(limits_.ttl.count());
        entries_[{payer, key}] = {value, effective, effective > 0 ? now + effective : 0, ++clock_};
    }

    bool erase(const std::string& payer, const std::string& key, std::int64_t now) {
        reclaim(now);
        return entries_.erase({payer, key}) > 0;
    }

    /// The page after `after` (a key, or nullopt for the start); `more` tells
    /// whether a cursor is due.
    std::pair<std::vector<Entry>, bool> list(const std::string& payer, const std::optional<std::string>& after,
                                             const std::string& prefix, std::size_t limit, bool keys_only,
                                             std::int64_t now) {
        reclaim(now);
        std::vector<Entry> page;
        for (const auto& [address, entry] : entries_) {
            if (address.first != payer || !address.second.starts_with(prefix)) continue;
            if (after && address.second <= *after) continue;
            if (limit != 0 && page.size() == limit) return {page, true};
            page.emplace_back(address.second, keys_only ? std::string() : entry.value);
        }
        return {page, false};
    }

    std::size_t size() const { return entries_.size(); }

    std::size_t bytes() const {
        std::size_t total = 0;
        for (const auto& [address, entry] : entries_) {
            total += address.first.size() + address.second.size() + entry.value.size();
        }
        return total;
    }

private:
    struct ModelEntry {
        std::string value;
        std::int64_t ttl = 0;
        std::int64_t expires_at = 0;
        std::uint64_t last_use = 0;
    };

    void reclaim(std::int64_t now) {
        std::erase_if(entries_, [now](const auto& item) {
            return item.second.ttl > 0 && now > item.second.expires_at;
        });
    }

    std::size_t count_of(const std::string& payer) const {
        return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(),
                                                      [&](const auto& item) { return item.first.first == payer; }));
    }

    void remove_lru(const std::string* payer) {
        auto victim = entries_.end();
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (payer != nullptr && it->first.first != *payer) continue;
            if (victim == entries_.end() || it->second.last_use < victim->second.last_use) victim = it;
        }
        entries_.erase(victim);
    }

    Limits limits_;
    std::map<std::pair<std::string, std::string>, ModelEntry> entries_;
    std::uint64_t clock_ = 0;
};

struct Scenario {
    const char* name;
    ModelStore::Limits limits;
};

}  // namespace

TEST_CASE("model: InMemoryStore matches the model over random operation sequences", "[in_memory_store][model]") {
    const Scenario scenario = GENERATE(
        Scenario{"defaults-like, short ttl", {8, 1000ms, std::nullopt, std::nullopt}},
        Scenario{"no expiry, tiny cap", {3, 0ms, std::nullopt, std::nullopt}},
        Scenario{"per-payer quota", {10, 1500ms, 3, std::nullopt}},
        Scenario{"byte budget", {12, 2000ms, std::nullopt, 64}},
        Scenario{"all limits", {6, 700ms, 2, 48}});
    const std::uint32_t seed = GENERATE(1u, 2u, 3u, 4u);
    INFO("scenario " << scenario.name << ", seed " << seed);

    test_support::ManualClock clock;
    InMemoryStoreOptions options;
    options.max_entries = static_cast<std::int64_t>(scenario.limits.max_entries);
    options.ttl = scenario.limits.ttl;
    if (scenario.limits.per_payer) options.max_entries_per_payer = static_cast<std::int64_t>(*scenario.limits.per_payer);
    if (scenario.limits.max_bytes) options.max_bytes = static_cast<std::int64_t>(*scenario.limits.max_bytes);
    options.clock = clock.function();
    InMemoryStore store(options);
    ModelStore model(scenario.limits);
    const std::int64_t epoch = clock.now().time_since_epoch() / 1ms;
    auto now = [&] { return clock.now().time_since_epoch() / 1ms - epoch; };

    std::mt19937 random(seed);
    auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
    const std::vector<std::string> payers = {"0xaa", "0xbb", "p:c"};
    const std::vector<std::string> keys = {"a", "b", "b:c", "ab", "c", "chat:1", "chat:2", "z", "", "\xff"};
    auto any_payer = [&] { return payers[static_cast<std::size_t>(draw(3))]; };
    auto any_key = [&] { return keys[static_cast<std::size_t>(draw(static_cast<int>(keys.size())))]; };
    auto any_value = [&] { return std::string(static_cast<std::size_t>(draw(12)), static_cast<char>('a' + draw(26))); };
    auto any_ttl = [&]() -> std::optional<std::int64_t> {
        switch (draw(4)) {
        case 0: return std::nullopt;
        case 1: return 0;
        default: return 50 + draw(2000);
        }
    };
    // One pagination in progress per payer: the store's cursor and the model's position.
    std::map<std::string, std::pair<std::string, std::string>> paging;

    for (int step = 0; step < 1500; ++step) {
        INFO("step " << step);
        const std::string payer = any_payer();
        switch (draw(9)) {
        case 0:
            clock.advance(std::chrono::milliseconds(draw(800)));
            break;
        case 1: {
            const std::string key = any_key();
            REQUIRE(run(store.get(payer, key)) == model.get(payer, key, now()));
            break;
        }
        case 2:
        case 3: {
            const std::string key = any_key();
            const std::string value = any_value();
            const auto ttl = any_ttl();
            SetOptions set_options;
            if (ttl) set_options.ttl = std::chrono::milliseconds(*ttl);
            const std::size_t cost = payer.size() + key.size() + value.size();
            if (scenario.limits.max_bytes && cost > *scenario.limits.max_bytes) {
                REQUIRE_THROWS_AS(run(store.set(payer, key, value, set_options)), std::invalid_argument);
            } else {
                run(store.set(payer, key, value, set_options));
                model.set(payer, key, value, ttl, now());
            }
            break;
        }
        case 4: {
            const std::string key = any_key();
            REQUIRE(run(store.erase(payer, key)) == model.erase(payer, key, now()));
            break;
        }
        case 5: {
            // get_many with duplicates: touches recency in request order.
            std::vector<std::string> batch = {any_key(), any_key(), any_key()};
            std::vector<std::optional<std::string>> expected;
            for (const auto& key : batch) expected.push_back(model.get(payer, key, now()));
            REQUIRE(run(store.get_many(payer, batch)) == expected);
            break;
        }
        case 6: {
            std::vector<std::string> batch = {any_key(), any_key()};
            std::size_t expected = 0;
            for (const auto& key : batch) expected += model.erase(payer, key, now()) ? 1 : 0;
            REQUIRE(run(store.erase_many(payer, batch)) == expected);
            break;
        }
        case 7:
        case 8: {
            // Start a pagination, or continue the one in progress.
            ListOptions list_options;
            std::optional<std::string> after;
            auto paged = paging.find(payer);
            if (paged != paging.end() && draw(3) != 0) {
                list_options.cursor = paged->second.first;
                after = paged->second.second;
            }
            list_options.limit = static_cast<std::size_t>(draw(4));
            list_options.prefix = draw(4) == 0 ? "chat:" : "";
            list_options.keys_only = draw(5) == 0;
            const ListResult page = run(store.list(payer, list_options));
            const auto [expected, more] =
                model.list(payer, after, list_options.prefix, list_options.limit, list_options.keys_only, now());
            REQUIRE(page.entries == expected);
            REQUIRE(page.cursor.has_value() == more);
            if (page.cursor) {
                paging[payer] = {*page.cursor, page.entries.back().key};
            } else {
                paging.erase(payer);
            }
            break;
        }
        }
        REQUIRE(store.size() == model.size());
        REQUIRE(store.bytes() == model.bytes());
    }
}
