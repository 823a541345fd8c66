// InMemoryStore: the data model, expiry, sliding TTL and expired-before-live eviction.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

// ---------------------------------------------------------------------------
// The data model: payer and key are separate parts of an address.
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
// InMemoryStore semantics beyond the upstream cases.
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
