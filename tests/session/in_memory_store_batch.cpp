// InMemoryStore: batches, close, rejected calls that change nothing, empty strings.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

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

// Rejected calls change nothing.
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
