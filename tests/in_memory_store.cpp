// InMemoryStore: the 29 upstream memory.test.ts cases (reference §3.1), every
// deliberate difference (Δ) of SPEC §2, §4 and §4.1, the per-payer quota and
// the byte budget, option validation, "rejected calls change nothing", and
// thread-safety smoke tests. Time moves only through a ManualClock: no test
// sleeps or measures time.
#include <x402/session/in_memory_store.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using namespace std::string_literals;
using Catch::Matchers::Message;
using test_support::ManualClock;
using test_support::run;
using x402::session::Entry;
using x402::session::InMemoryStore;
using x402::session::InMemoryStoreOptions;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::SetOptions;

namespace {

/// Printable form of a byte string for failure messages: bytes outside
/// printable ASCII (and the backslash) as \xNN.
std::string escaped(const std::string& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0xf]);
        }
    }
    return out + "\"";
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<x402::session::Entry> {
    static std::string convert(const x402::session::Entry& entry) {
        return "{" + escaped(entry.key) + ": " + escaped(entry.value) + "}";
    }
};
}  // namespace Catch

namespace {

using Value = std::optional<std::string>;
using Entries = std::vector<Entry>;

// Plain-function wrappers: every test body runs the store's coroutines to
// completion through test_support::run, so no test writes a co_await.

Value get(InMemoryStore& store, std::string payer, std::string key) {
    return run(store.get(std::move(payer), std::move(key)));
}

void put(InMemoryStore& store, std::string payer, std::string key, std::string value, SetOptions options = {}) {
    run(store.set(std::move(payer), std::move(key), std::move(value), options));
}

SetOptions ttl_of(std::chrono::milliseconds ttl) {
    SetOptions options;
    options.ttl = ttl;
    return options;
}

bool erase(InMemoryStore& store, std::string payer, std::string key) {
    return run(store.erase(std::move(payer), std::move(key)));
}

ListResult list(InMemoryStore& store, std::string payer, ListOptions options = ListOptions()) {
    return run(store.list(std::move(payer), std::move(options)));
}

ListResult list_after(InMemoryStore& store, std::string payer, std::string cursor) {
    ListOptions options;
    options.cursor = std::move(cursor);
    return list(store, std::move(payer), std::move(options));
}

Entries entries(InMemoryStore& store, std::string payer) { return list(store, std::move(payer)).entries; }

std::vector<Value> get_many(InMemoryStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.get_many(std::move(payer), std::move(keys)));
}

void put_many(InMemoryStore& store, std::string payer, Entries batch, SetOptions options = {}) {
    run(store.set_many(std::move(payer), std::move(batch), options));
}

std::size_t erase_many(InMemoryStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.erase_many(std::move(payer), std::move(keys)));
}

void close_store(InMemoryStore& store) { run(store.close()); }

InMemoryStoreOptions options_of(std::int64_t max_entries, std::chrono::milliseconds ttl, const ManualClock& clock) {
    InMemoryStoreOptions options;
    options.max_entries = max_entries;
    options.ttl = ttl;
    options.clock = clock.function();
    return options;
}

void construct(InMemoryStoreOptions options) {
    InMemoryStore store(std::move(options));
    static_cast<void>(store.size());
}

ListResult result_of(Entries page, std::optional<std::string> cursor = std::nullopt) {
    ListResult result;
    result.entries = std::move(page);
    result.cursor = std::move(cursor);
    return result;
}

std::vector<std::string> keys_of(const Entries& page) {
    std::vector<std::string> keys;
    for (const auto& entry : page) keys.push_back(entry.key);
    return keys;
}

bool printable_ascii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

/// The whole observable state of the given payers, without touching recency or TTL.
struct Snapshot {
    std::map<std::string, Entries> lists;
    std::size_t size = 0;
    std::size_t bytes = 0;
};

Snapshot snapshot(InMemoryStore& store, const std::vector<std::string>& payers) {
    Snapshot state;
    for (const auto& payer : payers) state.lists[payer] = entries(store, payer);
    state.size = store.size();
    state.bytes = store.bytes();
    return state;
}

void require_same(const Snapshot& now, const Snapshot& before) {
    for (const auto& [payer, page] : before.lists) {
        INFO("payer " << escaped(payer));
        REQUIRE(now.lists.at(payer) == page);
    }
    REQUIRE(now.size == before.size);
    REQUIRE(now.bytes == before.bytes);
}

/// "payer/key" of every live entry of the given payers.
std::set<std::string> live_addresses(InMemoryStore& store, const std::vector<std::string>& payers) {
    std::set<std::string> addresses;
    for (const auto& payer : payers) {
        for (const auto& entry : entries(store, payer)) addresses.insert(payer + "/" + entry.key);
    }
    return addresses;
}

/// Destructive: the recency order of the store's entries, least recently used
/// first. The store must be at its max_entries cap and hold entries of
/// `payers` only; each insert of a fresh entry of another payer must evict
/// exactly one of them, and which one it is reveals the order.
std::vector<std::string> eviction_order(InMemoryStore& store, const std::vector<std::string>& payers) {
    std::vector<std::string> order;
    auto before = live_addresses(store, payers);
    const std::size_t count = before.size();
    for (std::size_t i = 0; i < count; ++i) {
        put(store, "~probe", "p" + std::to_string(i), "", ttl_of(0ms));
        const auto after = live_addresses(store, payers);
        std::vector<std::string> gone;
        std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(gone));
        REQUIRE(gone.size() == 1);
        order.push_back(gone.front());
        before = after;
    }
    return order;
}

}  // namespace

// ---------------------------------------------------------------------------
// The 29 upstream cases of memory.test.ts (reference §3.1), in order.
// ---------------------------------------------------------------------------

TEST_CASE("upstream memory #1: get returns undefined for unknown key", "[in_memory_store][upstream]") {
    InMemoryStore store;
    REQUIRE(get(store, "0xALICE", "missing") == std::nullopt);
}

TEST_CASE("upstream memory #2: set then get returns the value", "[in_memory_store][upstream]") {
    InMemoryStore store;
    put(store, "0xALICE", "color", "blue");
    REQUIRE(get(store, "0xALICE", "color") == "blue");
}

TEST_CASE("upstream memory #3: delete returns true for existing key and false for missing", "[in_memory_store][upstream]") {
    InMemoryStore store;
    put(store, "0xALICE", "key", "value");
    REQUIRE(erase(store, "0xALICE", "key"));
    REQUIRE_FALSE(erase(store, "0xALICE", "key"));
    REQUIRE_FALSE(erase(store, "0xBOB", "key"));
}

TEST_CASE("upstream memory #4: list returns all entries or empty object", "[in_memory_store][upstream]") {
    InMemoryStore store;
    REQUIRE(list(store, "0xALICE") == ListResult{});
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    REQUIRE(list(store, "0xALICE") == result_of({{"a", "1"}, {"b", "2"}}));
}

TEST_CASE("upstream memory #5: payer isolation", "[in_memory_store][upstream]") {
    InMemoryStore store;
    put(store, "0xALICE", "secret", "alice-data");
    put(store, "0xBOB", "secret", "bob-data");
    REQUIRE(get(store, "0xALICE", "secret") == "alice-data");
    REQUIRE(get(store, "0xBOB", "secret") == "bob-data");
    REQUIRE(list(store, "0xALICE") == result_of({{"secret", "alice-data"}}));
}

TEST_CASE("upstream memory #6: TTL expired entry returns undefined on get", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    put(store, "0xALICE", "key", "val");
    clock.advance(150ms);
    REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
}

TEST_CASE("upstream memory #7: TTL sliding window: get refreshes TTL", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 200ms, clock));
    put(store, "0xALICE", "key", "val");
    clock.advance(100ms);
    REQUIRE(get(store, "0xALICE", "key") == "val");
    clock.advance(150ms);  // 250 ms after the set, 150 ms after the get
    REQUIRE(get(store, "0xALICE", "key") == "val");
    clock.advance(250ms);
    REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
}

TEST_CASE("upstream memory #8: TTL list filters out expired entries", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    clock.advance(150ms);
    REQUIRE(list(store, "0xALICE") == ListResult{});
}

TEST_CASE("upstream memory #9: TTL ttlMs: 0 disables expiry", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    put(store, "0xALICE", "key", "val");
    clock.advance(10ms);
    REQUIRE(get(store, "0xALICE", "key") == "val");
    clock.advance(std::chrono::hours(24 * 365));
    REQUIRE(get(store, "0xALICE", "key") == "val");
}

TEST_CASE("upstream memory #10: LRU evicts oldest entry when maxEntries is reached", "[in_memory_store][upstream][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "c", "3");
    put(store, "0xALICE", "d", "4");
    REQUIRE(get(store, "0xALICE", "a") == std::nullopt);
    REQUIRE(get(store, "0xALICE", "b") == "2");
    REQUIRE(get(store, "0xALICE", "d") == "4");
}

TEST_CASE("upstream memory #11: LRU get promotes entry in LRU order", "[in_memory_store][upstream][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "c", "3");
    REQUIRE(get(store, "0xALICE", "a") == "1");
    put(store, "0xALICE", "d", "4");
    REQUIRE(get(store, "0xALICE", "a") == "1");
    REQUIRE(get(store, "0xALICE", "b") == std::nullopt);
}

TEST_CASE("upstream memory #12: LRU overwrite refreshes LRU position", "[in_memory_store][upstream][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "c", "3");
    put(store, "0xALICE", "a", "updated");
    put(store, "0xALICE", "d", "4");
    REQUIRE(get(store, "0xALICE", "a") == "updated");
    REQUIRE(get(store, "0xALICE", "b") == std::nullopt);
}

TEST_CASE("upstream memory #13: LRU eviction works across payers", "[in_memory_store][upstream][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(2, 0ms, clock));
    put(store, "0xALICE", "key", "alice");
    put(store, "0xBOB", "key", "bob");
    put(store, "0xCHARLIE", "key", "charlie");
    REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
    REQUIRE(get(store, "0xBOB", "key") == "bob");
    REQUIRE(get(store, "0xCHARLIE", "key") == "charlie");
}

TEST_CASE("upstream memory #14: LRU payer index is cleaned up after all entries evicted", "[in_memory_store][upstream][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(2, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xBOB", "x", "1");
    put(store, "0xBOB", "y", "2");
    REQUIRE(list(store, "0xALICE") == ListResult{});
    REQUIRE(list(store, "0xBOB") == result_of({{"x", "1"}, {"y", "2"}}));
}

TEST_CASE("upstream memory #15: per-key TTL per-key ttlMs overrides store default", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    put(store, "0xALICE", "short", "s", ttl_of(100ms));
    put(store, "0xALICE", "long", "l");
    clock.advance(150ms);
    REQUIRE(get(store, "0xALICE", "short") == std::nullopt);
    REQUIRE(get(store, "0xALICE", "long") == "l");
}

TEST_CASE("upstream memory #16: per-key TTL ttlMs: 0 disables expiry even when store has default", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    put(store, "0xALICE", "forever", "val", ttl_of(0ms));
    clock.advance(150ms);
    REQUIRE(get(store, "0xALICE", "forever") == "val");
}

TEST_CASE("upstream memory #17: per-key TTL get() refreshes using per-key TTL and not store default", "[in_memory_store][upstream][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    put(store, "0xALICE", "key", "val", ttl_of(150ms));
    clock.advance(100ms);
    REQUIRE(get(store, "0xALICE", "key") == "val");
    clock.advance(100ms);
    REQUIRE(get(store, "0xALICE", "key") == "val");
    clock.advance(200ms);
    REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
}

TEST_CASE("upstream memory #18: list options prefix filters keys", "[in_memory_store][upstream][list]") {
    InMemoryStore store;
    put(store, "0xALICE", "chat:1", "hello");
    put(store, "0xALICE", "chat:2", "world");
    put(store, "0xALICE", "pref:theme", "dark");
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("chat:")) ==
            result_of({{"chat:1", "hello"}, {"chat:2", "world"}}));
}

TEST_CASE("upstream memory #19: list options limit and cursor paginate results", "[in_memory_store][upstream][list]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "c", "3");
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(first.entries.size() == 2);
    REQUIRE(first.cursor.has_value());
    const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
    REQUIRE(second.entries.size() == 1);
    REQUIRE_FALSE(second.cursor.has_value());
    // Ours is also exact about which keys: ascending order.
    REQUIRE(first.entries == Entries{{"a", "1"}, {"b", "2"}});
    REQUIRE(second.entries == Entries{{"c", "3"}});
}

TEST_CASE("upstream memory #20: list options limit: 0 returns all entries", "[in_memory_store][upstream][list]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(0)) == result_of({{"a", "1"}, {"b", "2"}}));
}

TEST_CASE("upstream memory #21: list options keysOnly returns empty strings", "[in_memory_store][upstream][list]") {
    InMemoryStore store;
    put(store, "0xALICE", "key", "value");
    REQUIRE(list(store, "0xALICE", ListOptions().with_keys_only()) == result_of({{"key", ""}}));
    REQUIRE(get(store, "0xALICE", "key") == "value");
}

TEST_CASE("upstream memory #22: batch getMany returns values / undefined", "[in_memory_store][upstream][batch]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    REQUIRE(get_many(store, "0xALICE", {"a", "b", "c"}) == std::vector<Value>{"1", "2", std::nullopt});
}

TEST_CASE("upstream memory #23: batch setMany sets multiple keys", "[in_memory_store][upstream][batch]") {
    InMemoryStore store;
    put_many(store, "0xALICE", {{"x", "10"}, {"y", "20"}});
    REQUIRE(get(store, "0xALICE", "x") == "10");
    REQUIRE(get(store, "0xALICE", "y") == "20");
}

TEST_CASE("upstream memory #24: batch setMany respects per-key TTL", "[in_memory_store][upstream][batch][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    put_many(store, "0xALICE", {{"x", "10"}, {"y", "20"}}, ttl_of(100ms));
    clock.advance(150ms);
    REQUIRE(get(store, "0xALICE", "x") == std::nullopt);
    REQUIRE(get(store, "0xALICE", "y") == std::nullopt);
}

TEST_CASE("upstream memory #25: batch deleteMany returns count of deleted keys", "[in_memory_store][upstream][batch]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    REQUIRE(erase_many(store, "0xALICE", {"a", "b", "c"}) == 2);
    REQUIRE(get(store, "0xALICE", "a") == std::nullopt);
}

TEST_CASE("upstream memory #26: constructor throws when maxEntries < 1", "[in_memory_store][upstream][options]") {
    REQUIRE_THROWS_MATCHES(construct({.max_entries = 0}), std::invalid_argument, Message("max_entries must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.max_entries = -1}), std::invalid_argument, Message("max_entries must be >= 1"));
}

TEST_CASE("upstream memory #27: constructor throws when ttlMs < 0", "[in_memory_store][upstream][options]") {
    REQUIRE_THROWS_MATCHES(construct({.ttl = -1ms}), std::invalid_argument, Message("ttl must be >= 0"));
}

TEST_CASE("upstream memory #28: constructor accepts valid options", "[in_memory_store][upstream][options]") {
    REQUIRE_NOTHROW(construct({.max_entries = 1, .ttl = 0ms}));
}

TEST_CASE("upstream memory #29: close close clears all data", "[in_memory_store][upstream]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xBOB", "b", "2");
    close_store(store);
    REQUIRE(get(store, "0xALICE", "a") == std::nullopt);
    REQUIRE(list(store, "0xALICE") == ListResult{});
    REQUIRE(list(store, "0xBOB") == ListResult{});
}

// ---------------------------------------------------------------------------
// SPEC §2: data model.
// ---------------------------------------------------------------------------

TEST_CASE("delta: payer a with key b:c and payer a:b with key c are different entries", "[in_memory_store][delta]") {
    InMemoryStore store;
    put(store, "a", "b:c", "first");
    put(store, "a:b", "c", "second");
    REQUIRE(store.size() == 2);
    REQUIRE(get(store, "a", "b:c") == "first");
    REQUIRE(get(store, "a:b", "c") == "second");
    REQUIRE(entries(store, "a") == Entries{{"b:c", "first"}});
    REQUIRE(entries(store, "a:b") == Entries{{"c", "second"}});
    // The same with the split moved across other separators and lengths.
    put(store, "ab", "c", "third");
    put(store, "a", "bc", "fourth");
    REQUIRE(get(store, "ab", "c") == "third");
    REQUIRE(get(store, "a", "bc") == "fourth");
    REQUIRE(erase(store, "a", "b:c"));
    REQUIRE(get(store, "a:b", "c") == "second");
    REQUIRE(get(store, "a", "b:c") == std::nullopt);
    REQUIRE(store.size() == 3);
}

TEST_CASE("delta: a negative per-call ttl is rejected and the store is unchanged", "[in_memory_store][delta][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    put(store, "0xALICE", "key", "old");
    const Snapshot before = snapshot(store, {"0xALICE"});
    clock.advance(60ms);
    REQUIRE_THROWS_MATCHES(put(store, "0xALICE", "key", "new", ttl_of(-1ms)), std::invalid_argument,
                           Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(put(store, "0xALICE", "other", "new", ttl_of(-1ms)), std::invalid_argument,
                           Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(put(store, "0xALICE", "other", "new", ttl_of(std::chrono::milliseconds::min())),
                           std::invalid_argument, Message("ttl must be >= 0"));
    require_same(snapshot(store, {"0xALICE"}), before);
    // The old entry's TTL was not reset by the rejected overwrite: it still
    // expires 100 ms after the original set.
    clock.advance(40ms);
    REQUIRE(entries(store, "0xALICE") == Entries{{"key", "old"}});
    clock.advance(1ms);
    REQUIRE(entries(store, "0xALICE").empty());
}

// ---------------------------------------------------------------------------
// SPEC §4: InMemoryStore.
// ---------------------------------------------------------------------------

TEST_CASE("delta: the default-constructed store reads its own steady clock and works", "[in_memory_store][delta]") {
    const InMemoryStoreOptions defaults;
    REQUIRE(defaults.max_entries == 10'000);
    REQUIRE(defaults.ttl == std::chrono::milliseconds(std::chrono::hours(1)));
    REQUIRE_FALSE(defaults.max_entries_per_payer.has_value());
    REQUIRE_FALSE(defaults.max_bytes.has_value());
    REQUIRE_FALSE(static_cast<bool>(defaults.clock));

    InMemoryStore store;
    put(store, "0xALICE", "default ttl", "1");
    put(store, "0xALICE", "no expiry", "2", ttl_of(0ms));
    put(store, "0xALICE", "one day", "3", ttl_of(std::chrono::hours(24)));
    REQUIRE(get(store, "0xALICE", "default ttl") == "1");
    REQUIRE(entries(store, "0xALICE") == Entries{{"default ttl", "1"}, {"no expiry", "2"}, {"one day", "3"}});
    REQUIRE(erase(store, "0xALICE", "no expiry"));

    // The default cap is 10'000 entries across all payers.
    Entries batch;
    for (int i = 0; i < 10'000; ++i) batch.emplace_back("k" + std::to_string(i), "v");
    put_many(store, "0xBOB", std::move(batch));
    REQUIRE(store.size() == 10'000);
    REQUIRE(get(store, "0xALICE", "default ttl") == std::nullopt);  // the LRU ones went first
    REQUIRE(get(store, "0xALICE", "one day") == std::nullopt);
    REQUIRE(get(store, "0xBOB", "k0") == "v");
    REQUIRE(get(store, "0xBOB", "k9999") == "v");
}

TEST_CASE("delta: expired entries are reclaimed before a live entry is evicted at the cap", "[in_memory_store][delta][lru][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 0ms, clock));
    put(store, "0xALICE", "lru", "live");               // least recently used, never expires
    put(store, "0xBOB", "short", "x", ttl_of(100ms));   // expires
    put(store, "0xALICE", "mru", "live");
    clock.advance(101ms);
    put(store, "0xCAROL", "new", "y");
    REQUIRE(get(store, "0xALICE", "lru") == "live");
    REQUIRE(get(store, "0xALICE", "mru") == "live");
    REQUIRE(get(store, "0xCAROL", "new") == "y");
    REQUIRE(store.size() == 3);
}

TEST_CASE("delta: several expired entries are all reclaimed before any live entry is evicted", "[in_memory_store][delta][lru][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 0ms, clock));
    put(store, "0xALICE", "live", "1");  // the least recently used
    put(store, "0xBOB", "s1", "x", ttl_of(50ms));
    put(store, "0xBOB", "s2", "x", ttl_of(60ms));
    clock.advance(61ms);
    put(store, "0xCAROL", "a", "1");
    put(store, "0xCAROL", "b", "2");
    REQUIRE(entries(store, "0xALICE") == Entries{{"live", "1"}});
    REQUIRE(entries(store, "0xCAROL") == Entries{{"a", "1"}, {"b", "2"}});
    REQUIRE(entries(store, "0xBOB").empty());
    REQUIRE(store.size() == 3);
    // With nothing expired, the least recently used live entry goes.
    put(store, "0xCAROL", "c", "3");
    REQUIRE(entries(store, "0xALICE").empty());
}

TEST_CASE("delta: erase returns false for an expired entry", "[in_memory_store][delta][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    put(store, "0xALICE", "key", "val");
    put(store, "0xALICE", "edge", "val");
    clock.advance(100ms);
    REQUIRE(erase(store, "0xALICE", "edge"));  // alive at exactly its expiry
    clock.advance(1ms);
    REQUIRE_FALSE(erase(store, "0xALICE", "key"));
    REQUIRE(store.size() == 0);
    REQUIRE(store.bytes() == 0);
}

TEST_CASE("delta: an entry is alive exactly at its expiry and gone 1 ms later", "[in_memory_store][delta][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 100ms, clock));
    SECTION("seen through list, which does not refresh") {
        put(store, "0xALICE", "key", "val");
        clock.advance(100ms);
        REQUIRE(entries(store, "0xALICE") == Entries{{"key", "val"}});
        clock.advance(1ms);
        REQUIRE(entries(store, "0xALICE").empty());
        REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
    }
    SECTION("seen through get, which slides the expiry from the moment of the hit") {
        put(store, "0xALICE", "key", "val");
        clock.advance(100ms);
        REQUIRE(get(store, "0xALICE", "key") == "val");
        clock.advance(100ms);
        REQUIRE(get(store, "0xALICE", "key") == "val");
        clock.advance(101ms);
        REQUIRE(get(store, "0xALICE", "key") == std::nullopt);
    }
    SECTION("seen through get_many") {
        put(store, "0xALICE", "key", "val", ttl_of(1ms));
        clock.advance(1ms);
        REQUIRE(get_many(store, "0xALICE", {"key"}) == std::vector<Value>{"val"});
        clock.advance(2ms);
        REQUIRE(get_many(store, "0xALICE", {"key"}) == std::vector<Value>{std::nullopt});
    }
}

TEST_CASE("delta: get slides the expiry by the entry's own ttl", "[in_memory_store][delta][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    put(store, "0xALICE", "short", "s", ttl_of(100ms));
    put(store, "0xALICE", "default", "d");
    clock.advance(100ms);
    REQUIRE(get(store, "0xALICE", "short") == "s");    // now expires 100 ms from here
    REQUIRE(get(store, "0xALICE", "default") == "d");  // now expires 1000 ms from here
    clock.advance(100ms);
    REQUIRE(keys_of(entries(store, "0xALICE")) == std::vector<std::string>{"default", "short"});
    clock.advance(1ms);
    REQUIRE(keys_of(entries(store, "0xALICE")) == std::vector<std::string>{"default"});
    clock.advance(899ms);
    REQUIRE(keys_of(entries(store, "0xALICE")) == std::vector<std::string>{"default"});
    clock.advance(1ms);
    REQUIRE(entries(store, "0xALICE").empty());
}

TEST_CASE("delta: an overwrite without ttl resets the entry to the store default ttl", "[in_memory_store][delta][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    SECTION("from no expiry") {
        put(store, "0xALICE", "key", "v1", ttl_of(0ms));
        clock.advance(5000ms);
        put(store, "0xALICE", "key", "v2");
    }
    SECTION("from a shorter ttl") {
        put(store, "0xALICE", "key", "v1", ttl_of(100ms));
        clock.advance(50ms);
        put(store, "0xALICE", "key", "v2");
    }
    SECTION("from a longer ttl") {
        put(store, "0xALICE", "key", "v1", ttl_of(100'000ms));
        clock.advance(50ms);
        put(store, "0xALICE", "key", "v2");
    }
    clock.advance(1000ms);
    REQUIRE(entries(store, "0xALICE") == Entries{{"key", "v2"}});
    clock.advance(1ms);
    REQUIRE(entries(store, "0xALICE").empty());
}

TEST_CASE("edge: an overwrite with a ttl replaces the old ttl and a huge ttl never overflows", "[in_memory_store][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 1000ms, clock));
    put(store, "0xALICE", "key", "v1");
    put(store, "0xALICE", "key", "v2", ttl_of(10ms));
    clock.advance(11ms);
    REQUIRE(get(store, "0xALICE", "key") == std::nullopt);

    put(store, "0xALICE", "huge", "v", ttl_of(std::chrono::milliseconds::max()));
    clock.advance(std::chrono::hours(24 * 365 * 100));
    REQUIRE(get(store, "0xALICE", "huge") == "v");  // the hit slides the saturated expiry again
    REQUIRE(get(store, "0xALICE", "huge") == "v");
}

TEST_CASE("delta: list returns keys in ascending byte order", "[in_memory_store][delta][list]") {
    InMemoryStore store;
    // Inserted in a scrambled order; bytes >= 0x80 sort after ASCII, an
    // embedded NUL sorts right after the shorter prefix.
    const std::vector<std::string> scrambled = {"b",  "\xff", "a\0b"s, "",     "\x80", "A",
                                                "ab", "a\0"s, "a",     "\x7f", "\xc3\xa9", "a\xff"};
    for (const auto& key : scrambled) put(store, "0xALICE", key, "v:" + key);
    const std::vector<std::string> ascending = {"",       "A", "a",    "a\0"s, "a\0b"s,    "ab",
                                                "a\xff", "b", "\x7f", "\x80",  "\xc3\xa9", "\xff"};
    Entries expected;
    for (const auto& key : ascending) expected.emplace_back(key, "v:" + key);
    REQUIRE(entries(store, "0xALICE") == expected);

    // The same order one page at a time, through the cursor of each key,
    // including the empty key and the keys with NUL and high bytes.
    Entries paged;
    ListOptions options;
    options.limit = 1;
    for (int page_count = 0;; ++page_count) {
        REQUIRE(page_count <= static_cast<int>(ascending.size()));
        const ListResult page = list(store, "0xALICE", options);
        REQUIRE(page.entries.size() == 1);
        paged.push_back(page.entries.front());
        if (!page.cursor) break;
        options.cursor = *page.cursor;
    }
    REQUIRE(paged == expected);

    // A prefix of a NUL byte and of a high byte.
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("a\0"s)).entries) ==
            std::vector<std::string>{"a\0"s, "a\0b"s});
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("\xc3")).entries) ==
            std::vector<std::string>{"\xc3\xa9"});
}

TEST_CASE("list: a cursor is returned only when one more matching live entry exists", "[in_memory_store][list]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    put(store, "0xALICE", "b1", "3");
    // The page is exactly full and nothing else matches the prefix.
    REQUIRE_FALSE(list(store, "0xALICE", ListOptions().with_prefix("a").with_limit(2)).cursor.has_value());
    // A limit larger than the matches.
    REQUIRE_FALSE(list(store, "0xALICE", ListOptions().with_limit(10)).cursor.has_value());
    // One more matches.
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2)).cursor.has_value());
    // The only further entry has expired.
    put(store, "0xALICE", "c1", "4", ttl_of(10ms));
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(3)).cursor.has_value());
    clock.advance(11ms);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(3)) == result_of({{"a1", "1"}, {"a2", "2"}, {"b1", "3"}}));
    // A payer with no entries, a prefix that matches nothing.
    REQUIRE(list(store, "0xNOBODY", ListOptions().with_limit(1)) == ListResult{});
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("zzz").with_limit(1)) == ListResult{});
}

TEST_CASE("list: prefix limit keys_only and cursor combine", "[in_memory_store][list]") {
    InMemoryStore store;
    for (const char* key : {"a", "chat:5", "chat:1", "chat:3", "chat:2", "chat:4", "chat", "chau", "z"}) {
        put(store, "0xALICE", key, std::string("v-") + key);
    }
    ListOptions options;
    options.prefix = "chat:";
    options.limit = 2;
    options.keys_only = true;
    std::vector<Entries> pages;
    for (;;) {
        REQUIRE(pages.size() < 5);
        const ListResult page = list(store, "0xALICE", options);
        pages.push_back(page.entries);
        if (!page.cursor) break;
        options.cursor = *page.cursor;
    }
    REQUIRE(pages == std::vector<Entries>{{{"chat:1", ""}, {"chat:2", ""}},
                                          {{"chat:3", ""}, {"chat:4", ""}},
                                          {{"chat:5", ""}}});
    // A cursor from an unfiltered listing used with a prefix: the prefix
    // still filters, and the position still counts.
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(1));
    REQUIRE(first.entries == Entries{{"a", "v-a"}});
    REQUIRE(keys_of(list(store, "0xALICE", ListOptions().with_prefix("chat:").with_cursor(*first.cursor)).entries) ==
            std::vector<std::string>{"chat:1", "chat:2", "chat:3", "chat:4", "chat:5"});
    const ListResult up_to_chat3 = list(store, "0xALICE", ListOptions().with_prefix("chat").with_limit(4));
    REQUIRE(keys_of(up_to_chat3.entries) == std::vector<std::string>{"chat", "chat:1", "chat:2", "chat:3"});
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("cha").with_cursor(*up_to_chat3.cursor)) ==
            result_of({{"chat:4", "v-chat:4"}, {"chat:5", "v-chat:5"}, {"chau", "v-chau"}}));
    // A cursor past every key with the prefix.
    const ListResult up_to_chau = list(store, "0xALICE", ListOptions().with_limit(8));
    REQUIRE(up_to_chau.entries.back().key == "chau");
    REQUIRE(up_to_chau.cursor.has_value());
    REQUIRE(list(store, "0xALICE", ListOptions().with_prefix("chat:").with_cursor(*up_to_chau.cursor)) == ListResult{});
    const ListResult only = list(store, "0xALICE", ListOptions().with_prefix("chau").with_limit(1));
    REQUIRE(only.entries == Entries{{"chau", "v-chau"}});
    REQUIRE_FALSE(only.cursor.has_value());
}

TEST_CASE("delta: a cursor continues after its position when that entry was erased", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    for (const char* key : {"a", "b", "c", "d", "e"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(first.cursor.has_value());
    SECTION("the last returned entry") {
        REQUIRE(erase(store, "0xALICE", "b"));
        const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
        REQUIRE(keys_of(second.entries) == std::vector<std::string>{"c", "d"});
        REQUIRE(second.cursor.has_value());
    }
    SECTION("the last returned entry and the next one") {
        REQUIRE(erase_many(store, "0xALICE", {"b", "c"}) == 2);
        const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
        REQUIRE(second == result_of({{"d", "d"}, {"e", "e"}}));
    }
    SECTION("every entry of the payer") {
        REQUIRE(erase_many(store, "0xALICE", {"a", "b", "c", "d", "e"}) == 5);
        REQUIRE(list_after(store, "0xALICE", *first.cursor) == ListResult{});
    }
}

TEST_CASE("delta: a cursor continues after its position when that entry expired", "[in_memory_store][delta][cursor][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2", ttl_of(100ms));
    put(store, "0xALICE", "c", "3");
    put(store, "0xALICE", "d", "4");
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(first.entries == Entries{{"a", "1"}, {"b", "2"}});
    REQUIRE(first.cursor.has_value());
    clock.advance(101ms);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor)) ==
            result_of({{"c", "3"}, {"d", "4"}}));
}

TEST_CASE("delta: a cursor continues after its position when that entry was evicted", "[in_memory_store][delta][cursor][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(4, 0ms, clock));
    for (const char* key : {"a", "b", "c", "d"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(get(store, "0xALICE", "a") == "a");  // "b" becomes the least recently used
    put(store, "0xBOB", "x", "x");               // evicts "b"
    REQUIRE(get(store, "0xALICE", "b") == std::nullopt);
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor)) ==
            result_of({{"c", "c"}, {"d", "d"}}));
}

TEST_CASE("delta: a key added during pagination appears only if it sorts after the position", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    for (const char* key : {"b", "d", "f"}) put(store, "0xALICE", key, key);
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(2));
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"b", "d"});
    put(store, "0xALICE", "a", "a");   // before the position
    put(store, "0xALICE", "c", "c");   // before the position
    put(store, "0xALICE", "d", "d2");  // the position itself, overwritten
    put(store, "0xALICE", "e", "e");   // after the position
    put(store, "0xALICE", "d\0"s, "x");  // right after the position
    const ListResult second = list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*first.cursor));
    REQUIRE(second.entries == Entries{{"d\0"s, "x"}, {"e", "e"}});
    REQUIRE(second.cursor.has_value());
    REQUIRE(list(store, "0xALICE", ListOptions().with_limit(2).with_cursor(*second.cursor)) == result_of({{"f", "f"}}));
}

TEST_CASE("delta: every key live through a whole pagination is returned exactly once", "[in_memory_store][delta][cursor]") {
    ManualClock clock;
    InMemoryStore store(options_of(10'000, 0ms, clock));
    const std::string payer = "0xALICE";
    std::vector<std::string> stable;
    for (int i = 10; i < 50; ++i) stable.push_back("s" + std::to_string(i));
    for (const auto& key : stable) put(store, payer, key, "stable");

    const std::uint32_t seed = GENERATE(1u, 2u, 3u);
    const std::size_t limit = GENERATE(1u, 3u, 7u);
    INFO("seed " << seed << " limit " << limit);
    std::mt19937 random(seed);
    auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };

    std::vector<std::string> churn;           // keys added meanwhile and maybe still live
    std::set<std::string> added_before;       // added while sorting before the position
    std::map<std::string, int> seen;
    ListOptions options;
    options.limit = limit;
    int pages = 0;
    int added = 0;
    for (;;) {
        REQUIRE(++pages < 500);
        const ListResult page = list(store, payer, options);
        REQUIRE(page.entries.size() <= limit);
        for (const auto& entry : page.entries) ++seen[entry.key];
        if (!page.cursor) break;
        const std::string position = page.entries.back().key;
        // Churn between pages: new keys interleaved with the stable ones
        // (some expire), churn keys erased, stable keys overwritten and read.
        for (int n = draw(4); n > 0; --n) {
            const std::string key = stable[static_cast<std::size_t>(draw(40))] + "-" + std::to_string(++added);
            if (key < position) added_before.insert(key);
            put(store, payer, key, "churn", draw(3) == 0 ? ttl_of(std::chrono::milliseconds(1 + draw(20))) : SetOptions{});
            churn.push_back(key);
        }
        if (!churn.empty() && draw(2) == 0) {
            erase(store, payer, churn[static_cast<std::size_t>(draw(static_cast<int>(churn.size())))]);
        }
        put(store, payer, stable[static_cast<std::size_t>(draw(40))], "overwritten");
        static_cast<void>(get(store, payer, stable[static_cast<std::size_t>(draw(40))]));
        clock.advance(std::chrono::milliseconds(draw(10)));
        options.cursor = *page.cursor;
    }
    for (const auto& key : stable) {
        INFO("stable key " << key);
        REQUIRE(seen[key] == 1);
    }
    for (const auto& [key, count] : seen) {
        INFO("key " << key);
        REQUIRE(count == 1);
        REQUIRE(added_before.count(key) == 0);
    }
}

TEST_CASE("delta: a malformed cursor is rejected even for a payer with no entries", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    const std::string malformed = GENERATE(as<std::string>{}, "\0"s, "\xff\xfe", "not a cursor\n");
    const std::string payer = GENERATE(as<std::string>{}, "0xALICE", "0xNOBODY", "");
    INFO("cursor " << escaped(malformed) << " payer " << escaped(payer));
    ListOptions options;
    options.cursor = malformed;
    REQUIRE_THROWS_MATCHES(list(store, payer, options), std::invalid_argument, Message("malformed list cursor"));
    options.limit = 1;
    options.keys_only = true;
    options.prefix = "a";
    REQUIRE_THROWS_MATCHES(list(store, payer, options), std::invalid_argument, Message("malformed list cursor"));
    REQUIRE(entries(store, "0xALICE") == Entries{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("delta: an empty cursor means from the start", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "a", "1");
    REQUIRE(list_after(store, "0xALICE", "") == result_of({{"a", "1"}, {"b", "2"}}));
    REQUIRE(list_after(store, "0xNOBODY", "") == ListResult{});
    const ListResult first = list(store, "0xALICE", ListOptions().with_limit(1).with_cursor(""));
    REQUIRE(first.entries == Entries{{"a", "1"}});
    REQUIRE(first.cursor.has_value());
}

TEST_CASE("delta: a cursor is printable ASCII and does not contain the raw key", "[in_memory_store][delta][cursor]") {
    InMemoryStore store;
    const std::vector<std::string> keys = {"", "a\0b"s, "password-of-alice", "secret/key with spaces",
                                           "\x01\x02\x7f", "\x80\xfe\xff", "\xff", "\xc3\xa9t\xc3\xa9", "zz"};
    for (const auto& key : keys) put(store, "0xALICE", key, "v");
    ListOptions options;
    options.limit = 1;
    std::vector<std::string> returned;
    for (;;) {
        REQUIRE(returned.size() < keys.size());
        const ListResult page = list(store, "0xALICE", options);
        REQUIRE(page.entries.size() == 1);
        const std::string& key = page.entries.front().key;
        returned.push_back(key);
        if (!page.cursor) break;
        INFO("key " << escaped(key) << " cursor " << escaped(*page.cursor));
        REQUIRE_FALSE(page.cursor->empty());
        REQUIRE(printable_ascii(*page.cursor));
        if (key.size() >= 2) REQUIRE(page.cursor->find(key) == std::string::npos);
        options.cursor = *page.cursor;
    }
    REQUIRE(returned.size() == keys.size());
    REQUIRE(std::is_sorted(returned.begin(), returned.end()));
}

TEST_CASE("delta: set_many with one oversized entry is rejected whole", "[in_memory_store][delta][batch][bytes]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(10, 1000ms, clock);
    options.max_bytes = 40;
    InMemoryStore store(options);
    put(store, "A", "kept", "old");
    const Snapshot before = snapshot(store, {"A"});
    Entries batch = {{"kept", "new"}, {"x", "1"}, {"big", std::string(37, 'x')}, {"y", "2"}};
    REQUIRE_THROWS_MATCHES(put_many(store, "A", batch), std::invalid_argument,
                           Message("entry of 41 bytes exceeds max_bytes (40)"));
    require_same(snapshot(store, {"A"}), before);
    REQUIRE(get(store, "A", "x") == std::nullopt);
    // One byte less fits: the batch goes in as single sets in order would,
    // "big" (exactly the budget) evicting everything before it, "y" then
    // evicting "big".
    batch[2].value.pop_back();
    put_many(store, "A", batch);
    REQUIRE(entries(store, "A") == Entries{{"y", "2"}});
    REQUIRE(store.bytes() == 3);
}

TEST_CASE("delta: set_many with a negative ttl is rejected whole", "[in_memory_store][delta][batch][ttl]") {
    ManualClock clock;
    InMemoryStore store(options_of(10, 1000ms, clock));
    put(store, "A", "kept", "old");
    const Snapshot before = snapshot(store, {"A", "B"});
    const Entries batch = {{"kept", "new"}, {"x", "1"}};
    REQUIRE_THROWS_MATCHES(put_many(store, "A", batch, ttl_of(-1ms)), std::invalid_argument, Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(put_many(store, "B", batch, ttl_of(-1ms)), std::invalid_argument, Message("ttl must be >= 0"));
    require_same(snapshot(store, {"A", "B"}), before);
    // Even an empty batch with a negative ttl is rejected.
    REQUIRE_THROWS_MATCHES(put_many(store, "A", Entries{}, ttl_of(-5ms)), std::invalid_argument,
                           Message("ttl must be >= 0"));
}

TEST_CASE("delta: set_many applies its entries in order", "[in_memory_store][delta][batch]") {
    ManualClock clock;
    InMemoryStore store(options_of(2, 0ms, clock));
    put_many(store, "A", {{"k", "1"}, {"x", "x"}, {"k", "2"}});
    REQUIRE(entries(store, "A") == Entries{{"k", "2"}, {"x", "x"}});
    // At the cap, the batch's own earlier entries are the LRU ones.
    put_many(store, "A", {{"a", "a"}, {"b", "b"}, {"c", "c"}});
    REQUIRE(entries(store, "A") == Entries{{"b", "b"}, {"c", "c"}});
}

TEST_CASE("delta: a concurrent get_many never sees a half-applied set_many or erase_many", "[in_memory_store][delta][batch][threads]") {
    InMemoryStore store;
    std::vector<std::string> keys;
    for (int i = 0; i < 8; ++i) keys.push_back("k" + std::to_string(i));
    std::vector<std::string> reversed(keys.rbegin(), keys.rend());
    constexpr int generations = 3000;

    std::atomic<bool> reader_started{false};
    std::atomic<bool> writer_done{false};
    std::atomic<int> torn{0};
    std::atomic<int> backwards{0};
    std::atomic<int> reads{0};
    std::atomic<int> complete_reads{0};
    std::atomic<int> errors{0};

    std::thread writer([&] {
        try {
            while (!reader_started.load()) std::this_thread::yield();
            for (int generation = 1; generation <= generations; ++generation) {
                Entries batch;
                for (const auto& key : keys) batch.emplace_back(key, std::to_string(generation));
                put_many(store, "0xWRITER", std::move(batch));
                if (generation % 3 == 0) erase_many(store, "0xWRITER", keys);
            }
        } catch (...) {
            ++errors;
        }
        writer_done = true;
    });
    std::thread reader([&] {
        try {
            int last = 0;
            reader_started = true;
            while (!writer_done.load() || reads.load() < 100) {
                const auto values = get_many(store, "0xWRITER", reversed);
                ++reads;
                const bool all_equal = std::all_of(values.begin(), values.end(),
                                                   [&](const Value& value) { return value == values.front(); });
                if (!all_equal) {
                    ++torn;
                } else if (values.front()) {
                    ++complete_reads;
                    const int generation = std::stoi(*values.front());
                    if (generation < last) ++backwards;
                    last = generation;
                }
            }
        } catch (...) {
            ++errors;
        }
    });
    writer.join();
    reader.join();
    INFO("reads " << reads.load() << " of which complete " << complete_reads.load());
    REQUIRE(errors.load() == 0);
    REQUIRE(torn.load() == 0);
    REQUIRE(backwards.load() == 0);
    REQUIRE(reads.load() >= 100);
    REQUIRE(get_many(store, "0xWRITER", keys) == std::vector<Value>(keys.size(), std::nullopt));  // 3000 % 3 == 0
}

TEST_CASE("delta: list touches neither recency nor ttl", "[in_memory_store][delta][list]") {
    ManualClock clock;
    InMemoryStore store(options_of(3, 100ms, clock));
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xALICE", "c", "3");
    clock.advance(50ms);
    for (int i = 0; i < 3; ++i) {
        static_cast<void>(list(store, "0xALICE"));
        static_cast<void>(list(store, "0xALICE", ListOptions().with_prefix("a").with_limit(1)));
        static_cast<void>(list(store, "0xALICE", ListOptions().with_keys_only()));
    }
    SECTION("recency") {
        put(store, "0xBOB", "d", "4");
        REQUIRE(keys_of(entries(store, "0xALICE")) == std::vector<std::string>{"b", "c"});
    }
    SECTION("ttl") {
        clock.advance(50ms);
        REQUIRE(keys_of(entries(store, "0xALICE")) == std::vector<std::string>{"a", "b", "c"});
        clock.advance(1ms);
        REQUIRE(entries(store, "0xALICE").empty());
    }
}

TEST_CASE("delta: close clears everything and the store stays usable", "[in_memory_store][delta]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(2, 100ms, clock);
    options.max_bytes = 50;
    options.max_entries_per_payer = 1;
    InMemoryStore store(options);
    put(store, "0xALICE", "a", "1");
    put(store, "0xBOB", "b", "2");
    close_store(store);
    REQUIRE(store.size() == 0);
    REQUIRE(store.bytes() == 0);
    REQUIRE(entries(store, "0xALICE").empty());
    REQUIRE(get(store, "0xBOB", "b") == std::nullopt);
    REQUIRE_FALSE(erase(store, "0xALICE", "a"));
    close_store(store);  // twice is fine

    // Usable with all its limits afterwards.
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "a2", "2");  // quota 1: evicts "a"
    REQUIRE(entries(store, "0xALICE") == Entries{{"a2", "2"}});
    put(store, "0xBOB", "b", "2");
    put(store, "0xCAROL", "c", "3");  // cap 2: evicts ALICE's "a2"
    REQUIRE(entries(store, "0xALICE").empty());
    REQUIRE(store.size() == 2);
    REQUIRE(store.bytes() == 16);
    REQUIRE_THROWS_AS(put(store, "0xALICE", "big", std::string(50, 'x')), std::invalid_argument);
    clock.advance(101ms);
    REQUIRE(get(store, "0xBOB", "b") == std::nullopt);
}

// ---------------------------------------------------------------------------
// The per-payer quota (max_entries_per_payer).
// ---------------------------------------------------------------------------

TEST_CASE("quota: a payer at its quota evicts its own least recently used entry", "[in_memory_store][quota]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_entries_per_payer = 2;
    InMemoryStore store(options);
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    put(store, "0xALICE", "a3", "3");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a2", "2"}, {"a3", "3"}});
    REQUIRE(store.size() == 2);
}

TEST_CASE("quota: never evicts another payer's entry even when it is globally older", "[in_memory_store][quota]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_entries_per_payer = 2;
    SECTION("store far from its cap") {}
    SECTION("store at its cap") { options.max_entries = 3; }
    InMemoryStore store(options);
    put(store, "0xBOB", "b1", "globally oldest");
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    put(store, "0xALICE", "a3", "3");
    REQUIRE(entries(store, "0xBOB") == Entries{{"b1", "globally oldest"}});
    REQUIRE(entries(store, "0xALICE") == Entries{{"a2", "2"}, {"a3", "3"}});
    REQUIRE(store.size() == 3);
}

TEST_CASE("quota: an overwrite at the quota evicts nothing", "[in_memory_store][quota]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_entries_per_payer = 2;
    InMemoryStore store(options);
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    put(store, "0xALICE", "a1", "one");
    put(store, "0xALICE", "a2", "two");
    put_many(store, "0xALICE", {{"a1", "uno"}, {"a2", "dos"}});
    REQUIRE(entries(store, "0xALICE") == Entries{{"a1", "uno"}, {"a2", "dos"}});
    // The overwrite refreshed a1 then a2: a1 is the payer's LRU now.
    put(store, "0xALICE", "a3", "3");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a2", "dos"}, {"a3", "3"}});
}

TEST_CASE("quota: get promotes an entry within the payer's quota order", "[in_memory_store][quota]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_entries_per_payer = 2;
    InMemoryStore store(options);
    put(store, "0xALICE", "a1", "1");
    put(store, "0xALICE", "a2", "2");
    REQUIRE(get(store, "0xALICE", "a1") == "1");
    put(store, "0xALICE", "a3", "3");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a1", "1"}, {"a3", "3"}});
    // get_many promotes too, in request order.
    REQUIRE(get_many(store, "0xALICE", {"a3", "a1"}) == std::vector<Value>{"3", "1"});
    put(store, "0xALICE", "a4", "4");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a1", "1"}, {"a4", "4"}});
    // list does not.
    static_cast<void>(list(store, "0xALICE"));
    put(store, "0xALICE", "a5", "5");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a4", "4"}, {"a5", "5"}});
}

TEST_CASE("quota: counts only live entries", "[in_memory_store][quota][ttl]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_entries_per_payer = 2;
    InMemoryStore store(options);
    put(store, "0xALICE", "a1", "1", ttl_of(10ms));
    put(store, "0xALICE", "a2", "2");
    clock.advance(11ms);
    put(store, "0xALICE", "a3", "3");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a2", "2"}, {"a3", "3"}});
    REQUIRE(erase(store, "0xALICE", "a2"));
    put(store, "0xALICE", "a4", "4");
    REQUIRE(entries(store, "0xALICE") == Entries{{"a3", "3"}, {"a4", "4"}});
}

// ---------------------------------------------------------------------------
// The byte budget (max_bytes).
// ---------------------------------------------------------------------------

TEST_CASE("bytes: an entry costs payer plus key plus value and the budget is inclusive", "[in_memory_store][bytes]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_bytes = 20;
    InMemoryStore store(options);
    put(store, "pp", "kk", "123456");  // 10
    REQUIRE(store.bytes() == 10);
    put(store, "pp", "k2", "12345");   // 9
    REQUIRE(store.bytes() == 19);
    put(store, "p", "", "");           // 1: exactly the budget
    REQUIRE(store.bytes() == 20);
    REQUIRE(store.size() == 3);
    put(store, "p", "x", "");          // 2: the LRU entry (10 bytes) must go
    REQUIRE(store.bytes() == 12);
    REQUIRE(get(store, "pp", "kk") == std::nullopt);
    REQUIRE(get(store, "pp", "k2") == "12345");
    REQUIRE(get(store, "p", "") == "");

    // An entry of exactly max_bytes fits, alone.
    put(store, "payer", "key", std::string(12, 'v'));
    REQUIRE(store.bytes() == 20);
    REQUIRE(store.size() == 1);
}

TEST_CASE("bytes: an entry larger than max_bytes throws with its cost and changes nothing", "[in_memory_store][bytes]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(3, 1000ms, clock);
    options.max_bytes = 30;
    InMemoryStore store(options);
    put(store, "A", "a1", "v");
    put(store, "B", "b1", "v");
    put(store, "A", "a2", "v");
    const std::vector<std::string> payers = {"A", "B"};
    const Snapshot before = snapshot(store, payers);
    REQUIRE(before.bytes == 12);

    REQUIRE_THROWS_MATCHES(put(store, "A", "big", std::string(27, 'x')), std::invalid_argument,
                           Message("entry of 31 bytes exceeds max_bytes (30)"));
    REQUIRE_THROWS_MATCHES(put(store, "A", "a1", std::string(28, 'x')), std::invalid_argument,
                           Message("entry of 31 bytes exceeds max_bytes (30)"));
    REQUIRE_THROWS_MATCHES(put(store, "", "", std::string(1000, 'x')), std::invalid_argument,
                           Message("entry of 1000 bytes exceeds max_bytes (30)"));
    REQUIRE_THROWS_MATCHES(put(store, std::string(31, 'p'), "", ""), std::invalid_argument,
                           Message("entry of 31 bytes exceeds max_bytes (30)"));
    require_same(snapshot(store, payers), before);
    REQUIRE(eviction_order(store, payers) == std::vector<std::string>{"A/a1", "B/b1", "A/a2"});
}

TEST_CASE("bytes: an overwrite with a larger value evicts least recently used entries for bytes", "[in_memory_store][bytes]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_bytes = 30;
    InMemoryStore store(options);
    put(store, "A", "a", "1111");  // 6
    put(store, "A", "b", "2222");  // 6
    put(store, "A", "c", "3333");  // 6
    REQUIRE(store.bytes() == 18);
    put(store, "A", "c", std::string(16, 'c'));  // 18: frees its own 6 first, 30 in all
    REQUIRE(store.bytes() == 30);
    REQUIRE(store.size() == 3);
    put(store, "A", "c", std::string(17, 'c'));  // 19: 31 would not fit, "a" goes
    REQUIRE(store.bytes() == 25);
    REQUIRE(keys_of(entries(store, "A")) == std::vector<std::string>{"b", "c"});
    put(store, "A", "b", std::string(23, 'b'));  // 25: "c" (19) must go, never "b" itself
    REQUIRE(store.bytes() == 25);
    REQUIRE(entries(store, "A") == Entries{{"b", std::string(23, 'b')}});
    put(store, "A", "b", "");  // a smaller value frees bytes
    REQUIRE(store.bytes() == 2);
}

TEST_CASE("bytes: bytes() tracks set overwrite erase expiry eviction and close", "[in_memory_store][bytes]") {
    ManualClock clock;
    InMemoryStore store(options_of(4, 0ms, clock));
    REQUIRE(store.bytes() == 0);
    put(store, "0xA", "key", "value");  // 3 + 3 + 5
    REQUIRE(store.bytes() == 11);
    put(store, "0xA", "key", "v");
    REQUIRE(store.bytes() == 7);
    put(store, "0xB", "k", "", ttl_of(10ms));  // 4
    REQUIRE(store.bytes() == 11);
    put_many(store, "", {{"", ""}, {"x", "yz"}});  // 0 + 3
    REQUIRE(store.bytes() == 14);
    put(store, "0xC", "c", "c");  // cap 4: evicts "0xA/key" (LRU)
    REQUIRE(store.bytes() == 12);
    REQUIRE(get(store, "0xA", "key") == std::nullopt);
    clock.advance(11ms);
    REQUIRE(get(store, "0xB", "k") == std::nullopt);  // reclaimed
    REQUIRE(store.bytes() == 8);
    REQUIRE(erase(store, "", "x"));
    REQUIRE(store.bytes() == 5);
    REQUIRE(erase_many(store, "", {"", "", "nothing"}) == 1);
    REQUIRE(store.bytes() == 5);
    close_store(store);
    REQUIRE(store.bytes() == 0);
    REQUIRE(store.size() == 0);
}

// ---------------------------------------------------------------------------
// Options.
// ---------------------------------------------------------------------------

TEST_CASE("options: each invalid option is rejected with its exact message", "[in_memory_store][options]") {
    for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min()}) {
        INFO("value " << bad);
        REQUIRE_THROWS_MATCHES(construct({.max_entries = bad}), std::invalid_argument,
                               Message("max_entries must be >= 1"));
        REQUIRE_THROWS_MATCHES(construct({.max_entries_per_payer = bad}), std::invalid_argument,
                               Message("max_entries_per_payer must be >= 1"));
        REQUIRE_THROWS_MATCHES(construct({.max_bytes = bad}), std::invalid_argument, Message("max_bytes must be >= 1"));
    }
    for (auto bad : {-1ms, -3'600'000ms, std::chrono::milliseconds::min()}) {
        INFO("ttl " << bad.count());
        REQUIRE_THROWS_MATCHES(construct({.ttl = bad}), std::invalid_argument, Message("ttl must be >= 0"));
    }
}

TEST_CASE("options: the first invalid option in declaration order is reported", "[in_memory_store][options]") {
    REQUIRE_THROWS_MATCHES(construct({.max_entries = 0, .ttl = -1ms, .max_entries_per_payer = 0, .max_bytes = 0}),
                           std::invalid_argument, Message("max_entries must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.max_entries = 0, .ttl = -1ms}), std::invalid_argument,
                           Message("max_entries must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.ttl = -1ms, .max_entries_per_payer = 0, .max_bytes = 0}), std::invalid_argument,
                           Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(construct({.max_entries_per_payer = 0, .max_bytes = 0}), std::invalid_argument,
                           Message("max_entries_per_payer must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.max_bytes = 0}), std::invalid_argument, Message("max_bytes must be >= 1"));
}

TEST_CASE("options: the smallest valid values are accepted and enforced", "[in_memory_store][options]") {
    ManualClock clock;
    InMemoryStore store({.max_entries = 1, .ttl = 0ms, .max_entries_per_payer = 1, .max_bytes = 1,
                         .clock = clock.function()});
    put(store, "", "", "");   // costs 0
    put(store, "p", "", "");  // costs 1: the budget; evicts the other (cap 1)
    REQUIRE(store.size() == 1);
    REQUIRE(store.bytes() == 1);
    REQUIRE(get(store, "p", "") == "");
    REQUIRE_THROWS_MATCHES(put(store, "p", "k", ""), std::invalid_argument, Message("entry of 2 bytes exceeds max_bytes (1)"));
    clock.advance(std::chrono::hours(1000));
    REQUIRE(get(store, "p", "") == "");
}

// ---------------------------------------------------------------------------
// Rejected calls change nothing (SPEC §4.1).
// ---------------------------------------------------------------------------

TEST_CASE("rejected calls change nothing: no entry added removed promoted or refreshed", "[in_memory_store][rejected]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(4, 1000ms, clock);
    options.max_bytes = 64;
    InMemoryStore store(options);
    put(store, "A", "a1", "one", ttl_of(100ms));  // the least recently used, the first to expire
    put(store, "B", "b1", "two");
    put(store, "A", "a2", "three");
    put(store, "B", "b2", "four");
    clock.advance(50ms);
    const std::vector<std::string> payers = {"A", "B", "C", ""};
    const Snapshot before = snapshot(store, payers);
    REQUIRE(before.size == 4);
    REQUIRE(before.bytes == 27);

    const std::string oversized(64, 'x');
    const Entries bad_entry_batch = {{"a1", "x"}, {"new", "y"}, {"big", oversized}, {"b1", "z"}};
    const Entries good_batch = {{"a1", "x"}, {"new", "y"}};
    const int call = GENERATE(range(0, 11));
    INFO("rejected call #" << call);
    switch (call) {
    case 0:
        REQUIRE_THROWS_MATCHES(put(store, "A", "a1", "new", ttl_of(-1ms)), std::invalid_argument, Message("ttl must be >= 0"));
        break;
    case 1:
        REQUIRE_THROWS_MATCHES(put(store, "A", "new", "v", ttl_of(-1ms)), std::invalid_argument, Message("ttl must be >= 0"));
        break;
    case 2:
        REQUIRE_THROWS_MATCHES(put(store, "C", "k", "v", ttl_of(-100ms)), std::invalid_argument, Message("ttl must be >= 0"));
        break;
    case 3:
        REQUIRE_THROWS_MATCHES(put(store, "A", "a1", oversized), std::invalid_argument,
                               Message("entry of 67 bytes exceeds max_bytes (64)"));
        break;
    case 4:
        REQUIRE_THROWS_MATCHES(put(store, "A", "new", oversized), std::invalid_argument,
                               Message("entry of 68 bytes exceeds max_bytes (64)"));
        break;
    case 5:
        REQUIRE_THROWS_MATCHES(list_after(store, "A", "\xff\xfe"), std::invalid_argument, Message("malformed list cursor"));
        break;
    case 6:
        REQUIRE_THROWS_MATCHES(list_after(store, "B", "not a cursor\n"), std::invalid_argument,
                               Message("malformed list cursor"));
        break;
    case 7:
        REQUIRE_THROWS_MATCHES(list_after(store, "C", "\0"s), std::invalid_argument, Message("malformed list cursor"));
        break;
    case 8:
        REQUIRE_THROWS_MATCHES(put_many(store, "A", bad_entry_batch), std::invalid_argument,
                               Message("entry of 68 bytes exceeds max_bytes (64)"));
        break;
    case 9:
        REQUIRE_THROWS_MATCHES(put_many(store, "A", good_batch, ttl_of(-1ms)), std::invalid_argument,
                               Message("ttl must be >= 0"));
        break;
    case 10:
        REQUIRE_THROWS_AS(put_many(store, "C", bad_entry_batch, ttl_of(-1ms)), std::invalid_argument);
        break;
    }
    require_same(snapshot(store, payers), before);

    SECTION("recency is unchanged") {
        REQUIRE(eviction_order(store, payers) == std::vector<std::string>{"A/a1", "B/b1", "A/a2", "B/b2"});
    }
    SECTION("expiry is unchanged") {
        clock.advance(50ms);  // exactly a1's expiry
        REQUIRE(keys_of(entries(store, "A")) == std::vector<std::string>{"a1", "a2"});
        clock.advance(1ms);
        REQUIRE(entries(store, "A") == Entries{{"a2", "three"}});
        REQUIRE(entries(store, "B") == Entries{{"b1", "two"}, {"b2", "four"}});
    }
}

// ---------------------------------------------------------------------------
// Batches, empty strings, payers as given.
// ---------------------------------------------------------------------------

TEST_CASE("batch: get_many returns one slot per requested key including duplicates", "[in_memory_store][batch]") {
    InMemoryStore store;
    put(store, "0xALICE", "a", "1");
    put(store, "0xALICE", "b", "2");
    put(store, "0xBOB", "x", "bob");
    REQUIRE(get_many(store, "0xALICE", {"a", "x", "a", "b", "a", "", "x"}) ==
            std::vector<Value>{"1", std::nullopt, "1", "2", "1", std::nullopt, std::nullopt});
    REQUIRE(get_many(store, "0xALICE", {}).empty());
    REQUIRE(get_many(store, "0xNOBODY", {"a", "a"}) == std::vector<Value>{std::nullopt, std::nullopt});
}

TEST_CASE("batch: get_many touches recency in request order and misses touch nothing", "[in_memory_store][batch][lru]") {
    ManualClock clock;
    InMemoryStore store(options_of(4, 0ms, clock));
    put(store, "A", "a", "1");
    put(store, "A", "b", "2");
    put(store, "A", "c", "3");
    put(store, "A", "d", "4");
    REQUIRE(get_many(store, "A", {"b", "missing", "a", "b"}) == std::vector<Value>{"2", std::nullopt, "1", "2"});
    // Order now, LRU first: c, d, a, b.
    REQUIRE(eviction_order(store, {"A"}) == std::vector<std::string>{"A/c", "A/d", "A/a", "A/b"});
}

TEST_CASE("batch: erase_many counts only live entries removed", "[in_memory_store][batch]") {
    ManualClock clock;
    InMemoryStore store(options_of(100, 0ms, clock));
    put(store, "A", "live", "1");
    put(store, "A", "expired", "2", ttl_of(10ms));
    put(store, "A", "other", "3");
    put(store, "B", "live", "bob");
    clock.advance(11ms);
    REQUIRE(erase_many(store, "A", {"live", "live", "expired", "missing"}) == 1);
    REQUIRE(erase_many(store, "A", {}) == 0);
    REQUIRE(entries(store, "A") == Entries{{"other", "3"}});
    REQUIRE(entries(store, "B") == Entries{{"live", "bob"}});
    REQUIRE(erase_many(store, "A", {"other", "other"}) == 1);
    REQUIRE(store.size() == 1);
}

TEST_CASE("store: the empty payer and empty keys and values are accepted", "[in_memory_store]") {
    InMemoryStore store;
    put(store, "", "", "");
    put(store, "", "k", "v");
    put(store, "x", "", "empty-key");
    REQUIRE(get(store, "", "") == "");
    REQUIRE(get(store, "", "k") == "v");
    REQUIRE(get(store, "x", "") == "empty-key");
    REQUIRE(entries(store, "") == Entries{{"", ""}, {"k", "v"}});
    REQUIRE(entries(store, "x") == Entries{{"", "empty-key"}});
    REQUIRE(store.bytes() == 0 + 2 + 10);
    REQUIRE(get_many(store, "", {"", "k"}) == std::vector<Value>{"", "v"});
    REQUIRE(erase(store, "", ""));
    REQUIRE(get(store, "", "") == std::nullopt);
    REQUIRE(erase_many(store, "", {"k"}) == 1);
    REQUIRE(entries(store, "").empty());
    REQUIRE(entries(store, "x") == Entries{{"", "empty-key"}});
}

TEST_CASE("store: payers are never folded", "[in_memory_store]") {
    InMemoryStore store;
    const std::string checksummed = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
    const std::string lower = "0xabcdef0123456789abcdef0123456789abcdef01";
    const std::string upper = "0XABCDEF0123456789ABCDEF0123456789ABCDEF01";
    put(store, checksummed, "k", "checksummed");
    put(store, lower, "k", "lower");
    put(store, upper, "k", "upper");
    REQUIRE(store.size() == 3);
    REQUIRE(get(store, checksummed, "k") == "checksummed");
    REQUIRE(get(store, lower, "k") == "lower");
    REQUIRE(get(store, upper, "k") == "upper");
    REQUIRE(entries(store, lower) == Entries{{"k", "lower"}});
    REQUIRE(erase(store, lower, "k"));
    REQUIRE(get(store, checksummed, "k") == "checksummed");
    // Keys are not folded either.
    put(store, lower, "Key", "1");
    put(store, lower, "key", "2");
    REQUIRE(entries(store, lower) == Entries{{"Key", "1"}, {"key", "2"}});
}

// ---------------------------------------------------------------------------
// Threads.
// ---------------------------------------------------------------------------

TEST_CASE("threads: concurrent operations of different payers keep each payer's data its own", "[in_memory_store][threads]") {
    InMemoryStore store;  // real steady clock; nothing expires within an hour
    constexpr int thread_count = 4;
    constexpr int operations = 1500;
    std::vector<std::map<std::string, std::string>> models(thread_count);
    std::atomic<int> mismatches{0};
    std::atomic<int> foreign{0};
    std::atomic<int> errors{0};
    std::atomic<int> writers_done{0};

    auto payer_of = [](int t) { return "0xpayer" + std::to_string(t); };
    auto worker = [&](int t) {
        try {
            const std::string payer = payer_of(t);
            auto& model = models[static_cast<std::size_t>(t)];
            std::mt19937 random(static_cast<std::uint32_t>(t + 1));
            auto draw = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
            for (int op = 0; op < operations; ++op) {
                const std::string key = "k" + std::to_string(draw(16));  // the same key names for every payer
                switch (draw(6)) {
                case 0:
                case 1: {
                    const std::string value = payer + "/" + key + "/" + std::to_string(op);
                    put(store, payer, key, value);
                    model[key] = value;
                    break;
                }
                case 2: {
                    const auto found = model.find(key);
                    const Value expected = found == model.end() ? Value() : Value(found->second);
                    if (get(store, payer, key) != expected) ++mismatches;
                    break;
                }
                case 3:
                    if (erase(store, payer, key) != (model.erase(key) == 1)) ++mismatches;
                    break;
                case 4: {
                    Entries expected;
                    for (const auto& [k, v] : model) expected.emplace_back(k, v);
                    if (entries(store, payer) != expected) ++mismatches;
                    break;
                }
                case 5: {
                    const std::vector<std::string> batch = {key, "k0", key};
                    std::vector<Value> expected;
                    for (const auto& k : batch) {
                        const auto found = model.find(k);
                        expected.push_back(found == model.end() ? Value() : Value(found->second));
                    }
                    if (get_many(store, payer, batch) != expected) ++mismatches;
                    break;
                }
                }
            }
        } catch (...) {
            ++errors;
        }
        ++writers_done;
    };
    // One more thread only reads every payer and checks that each value it
    // sees belongs to that payer.
    auto observer = [&] {
        try {
            do {
                for (int t = 0; t < thread_count; ++t) {
                    const std::string payer = payer_of(t);
                    for (const auto& entry : entries(store, payer)) {
                        if (entry.value.rfind(payer + "/" + entry.key + "/", 0) != 0) ++foreign;
                    }
                }
            } while (writers_done.load() < thread_count);
        } catch (...) {
            ++errors;
        }
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) threads.emplace_back(worker, t);
    threads.emplace_back(observer);
    for (auto& thread : threads) thread.join();

    REQUIRE(errors.load() == 0);
    REQUIRE(mismatches.load() == 0);
    REQUIRE(foreign.load() == 0);
    std::size_t total = 0;
    for (int t = 0; t < thread_count; ++t) {
        Entries expected;
        for (const auto& [k, v] : models[static_cast<std::size_t>(t)]) expected.emplace_back(k, v);
        INFO("payer " << payer_of(t));
        REQUIRE(entries(store, payer_of(t)) == expected);
        total += expected.size();
    }
    REQUIRE(store.size() == total);
}
