// InMemoryStore: the per-payer quota, the byte budget and the options.
#include <x402/session/in_memory_store.hpp>

#include "in_memory_store_helpers.hpp"

using namespace in_memory_tests;

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
    REQUIRE(store.evictions() == 1);
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
    REQUIRE(store.evictions() == 0);
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

// ---------------------------------------------------------------------------
// The ledger (LedgerWrite): outside the session's TTL, quota and LRU, with
// bounds of its own.
// ---------------------------------------------------------------------------

namespace {

using x402::session::LedgerWrite;
using x402::session::SetWrite;
using x402::session::Write;

void record(InMemoryStore& store, const std::string& payer, std::string key, std::string value,
            std::chrono::milliseconds ttl) {
    std::vector<Write> writes;
    writes.emplace_back(LedgerWrite(std::move(key), std::move(value), ttl));
    run(store.apply(payer, std::move(writes)));
}

Value ledger(InMemoryStore& store, std::string payer, std::string key) {
    return run(store.get_ledger(std::move(payer), std::move(key)));
}

}  // namespace

TEST_CASE("ledger: the session's default ttl, quota and LRU never reach a record", "[in_memory_store][ledger]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(2, 1'000ms, clock);  // two entries in all, 1 s default ttl
    options.max_entries_per_payer = 1;
    options.max_bytes = 64;
    InMemoryStore store(options);
    record(store, "0xALICE", "id", std::string(100, 'r'), 60'000ms);  // larger than max_bytes: not its budget
    // The payer fills its quota and the store its cap, then churns: every
    // eviction takes an entry, never the record.
    for (int i = 0; i < 10; ++i) {
        put(store, "0xALICE", "a" + std::to_string(i), "1");
        put(store, "0xBOB", "b" + std::to_string(i), "2");
    }
    REQUIRE(store.size() == 2);
    REQUIRE(ledger(store, "0xALICE", "id") == std::string(100, 'r'));
    // Past the session default ttl: the entries go, the record stays.
    clock.advance(1'001ms);
    REQUIRE(entries(store, "0xALICE").empty());
    REQUIRE(ledger(store, "0xALICE", "id") == std::string(100, 'r'));
    // An apply for a payer at its quota may carry records beside its one entry.
    std::vector<Write> writes;
    writes.emplace_back(SetWrite("a", "1"));
    writes.emplace_back(LedgerWrite("id2", "r2", 60'000ms));
    run(store.apply("0xALICE", std::move(writes)));
    REQUIRE(entries(store, "0xALICE") == Entries{{"a", "1"}});
    REQUIRE(ledger(store, "0xALICE", "id2") == "r2");
    // Its own expiry, on the store's clock.
    clock.advance(59'000ms);
    REQUIRE(ledger(store, "0xALICE", "id") == std::nullopt);
    REQUIRE(ledger(store, "0xALICE", "id2") == "r2");
    REQUIRE(store.ledger_size() == 1);  // the expired one was dropped, not just hidden
}

TEST_CASE("ledger: its bounds refuse an apply before anything changes", "[in_memory_store][ledger]") {
    ManualClock clock;
    InMemoryStoreOptions options = options_of(100, 0ms, clock);
    options.max_ledger_records = 2;
    options.max_ledger_bytes = 20;
    InMemoryStore store(options);
    record(store, "p", "one", "1", 10'000ms);   // 5 bytes
    record(store, "p", "two", "2", 20'000ms);   // 5 bytes: two records, the cap
    std::vector<Write> third;
    third.emplace_back(SetWrite("k", "v"));
    third.emplace_back(LedgerWrite("three", "3", 10'000ms));
    REQUIRE_THROWS_MATCHES(run(store.apply("p", third)), std::length_error,
                           Message("ledger would hold 3 records, more than max_ledger_records (2)"));
    REQUIRE(entries(store, "p").empty());
    REQUIRE(ledger(store, "p", "three") == std::nullopt);
    // An overwrite is no new record; a value past the byte budget is refused.
    record(store, "p", "one", "uno", 10'000ms);
    REQUIRE(ledger(store, "p", "one") == "uno");
    std::vector<Write> big;
    big.emplace_back(LedgerWrite("two", std::string(16, 'x'), 10'000ms));
    REQUIRE_THROWS_MATCHES(run(store.apply("p", big)), std::length_error,
                           Message("ledger would hold 27 bytes, more than max_ledger_bytes (20)"));
    REQUIRE(ledger(store, "p", "two") == "2");
    // Expired records free their room: the cap counts what is held.
    clock.advance(10'000ms);
    run(store.apply("p", third));
    REQUIRE(ledger(store, "p", "three") == "3");
    REQUIRE(ledger(store, "p", "two") == "2");
    REQUIRE(store.ledger_size() == 2);
    // close() clears the ledger too.
    close_store(store);
    REQUIRE(ledger(store, "p", "two") == std::nullopt);
    REQUIRE(store.ledger_size() == 0);
}

TEST_CASE("ledger: invalid bounds are rejected by the constructor", "[in_memory_store][ledger][options]") {
    REQUIRE_THROWS_MATCHES(construct({.max_ledger_records = 0}), std::invalid_argument,
                           Message("max_ledger_records must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.max_ledger_bytes = -1}), std::invalid_argument,
                           Message("max_ledger_bytes must be >= 1"));
}

TEST_CASE("list: invalid page limits are rejected by the constructor", "[in_memory_store][list][options]") {
    REQUIRE_THROWS_MATCHES(construct({.page_limits = {.max_entries = 0}}), std::invalid_argument,
                           Message("max_page_entries must be >= 1"));
    REQUIRE_THROWS_MATCHES(construct({.page_limits = {.max_bytes = 0}}), std::invalid_argument,
                           Message("max_page_bytes must be >= 1"));
    REQUIRE(InMemoryStore().page_limits() == x402::session::PageLimits{});
}
