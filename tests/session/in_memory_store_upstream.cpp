// The 29 cases of the TypeScript original's memory.test.ts, in order.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

// ---------------------------------------------------------------------------
// The 29 upstream cases of the original memory.test.ts, in order.
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
