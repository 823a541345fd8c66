// Transactional session writes (issue 12 item 1): WriteSet, Store::apply,
// AnyStore::apply / apply_sequentially, Session in staging mode and commit.
#include <x402/session.hpp>
#include <x402/session/write_set.hpp>

#include "../support.hpp"
#include "test_stores.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using x402::session::AnyStore;
using x402::session::awaitable;
using x402::session::EraseWrite;
using x402::session::Entry;
using x402::session::InMemoryStore;
using x402::session::InMemoryStoreOptions;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::Session;
using x402::session::SetOptions;
using x402::session::SetWrite;
using x402::session::StagedKey;
using x402::session::Write;
using x402::session::WriteSet;
using x402::session::WriteSetLimits;
using test_support::run;

namespace {

using Strings = std::vector<std::string>;
using Values = std::vector<std::optional<std::string>>;

const std::string alice = "0xalice";
const std::string bob = "0xbob";

/// Every entry of every given payer, through `list` with no limit.
std::map<std::string, std::vector<Entry>> snapshot(const AnyStore& store, const Strings& payers = {alice, bob}) {
    std::map<std::string, std::vector<Entry>> all;
    for (const auto& payer : payers) {
        ListResult page = run(store.list(payer, ListOptions()));
        REQUIRE_FALSE(page.cursor);
        all[payer] = std::move(page.entries);
    }
    return all;
}

/// Pages through `list` with `options` until no cursor is returned.
std::vector<std::vector<Entry>> pages(const Session& session, ListOptions options) {
    std::vector<std::vector<Entry>> result;
    for (int guard = 0; guard < 1000; ++guard) {
        ListResult page = run(session.list(options));
        result.push_back(page.entries);
        if (!page.cursor) return result;
        REQUIRE_FALSE(page.entries.empty());
        options.cursor = *page.cursor;
    }
    FAIL("list did not end");
    return result;
}

Strings keys_of(const std::vector<Entry>& entries) {
    Strings keys;
    for (const auto& entry : entries) keys.push_back(entry.key);
    return keys;
}

}  // namespace

// Not in the anonymous namespace: the coroutine frames that AnyStore builds
// for it must not have internal linkage (-Wsubobject-linkage).
namespace write_set_test {

/// An InMemoryStore that counts the calls of `apply`; with WithLedger false
/// it has no get_ledger, so it is a store with apply but no ledger.
template <bool WithLedger>
class CountingApplyStoreOf {
public:
    int applies = 0;

    awaitable<std::optional<std::string>> get(std::string payer, std::string key) {
        return data_.get(std::move(payer), std::move(key));
    }
    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) {
        return data_.set(std::move(payer), std::move(key), std::move(value), options);
    }
    awaitable<bool> erase(std::string payer, std::string key) { return data_.erase(std::move(payer), std::move(key)); }
    awaitable<ListResult> list(std::string payer, ListOptions options) {
        return data_.list(std::move(payer), std::move(options));
    }
    awaitable<void> apply(std::string payer, std::vector<Write> writes) {
        ++applies;
        return data_.apply(std::move(payer), std::move(writes));
    }
    awaitable<std::optional<std::string>> get_ledger(std::string payer, std::string key)
        requires WithLedger
    {
        return data_.get_ledger(std::move(payer), std::move(key));
    }

private:
    InMemoryStore data_{InMemoryStoreOptions{.ttl = 0ms}};
};
using CountingApplyStore = CountingApplyStoreOf<true>;

}  // namespace write_set_test

namespace {

using write_set_test::CountingApplyStore;
using ApplyWithoutLedgerStore = write_set_test::CountingApplyStoreOf<false>;
static_assert(x402::session::StoreWithApply<CountingApplyStore>);
static_assert(x402::session::StoreWithLedger<CountingApplyStore>);
static_assert(x402::session::StoreWithApply<ApplyWithoutLedgerStore>);
static_assert(!x402::session::StoreWithLedger<ApplyWithoutLedgerStore>);
static_assert(!x402::session::StoreWithApply<test_stores::MinimalStore>);

AnyStore seeded_store(InMemoryStoreOptions options = {}) {
    auto store = AnyStore::make<InMemoryStore>(std::move(options));
    for (const auto& key : Strings{"a1", "a2", "a3", "b1", "b2"}) run(store.set(alice, key, "v-" + key, {}));
    run(store.set(bob, "a1", "bob's", {}));
    return store;
}

}  // namespace

TEST_CASE("WriteSet: keeps the sequence, the last write per key wins for reads", "[write_set]") {
    WriteSet writes;
    writes.set("b", "1");
    writes.set("a", "2", {.ttl = 5s});
    writes.erase("b");
    writes.set_many({Entry("c", "3"), Entry("a", "4")});
    writes.erase_many({"c"});

    REQUIRE(writes.size() == 6);
    const std::vector<Write> expected{SetWrite("b", "1"),         SetWrite("a", "2", {.ttl = 5s}), EraseWrite("b"),
                                      SetWrite("c", "3"),         SetWrite("a", "4"),              EraseWrite("c")};
    REQUIRE(writes.writes() == expected);
    REQUIRE(writes.bytes() == 2 + 2 + 1 + 2 + 2 + 1);
    REQUIRE(writes.lookup("a") == StagedKey("a", "4"));
    REQUIRE(writes.lookup("b") == StagedKey("b", std::nullopt));
    REQUIRE_FALSE(writes.lookup("z"));
    REQUIRE(writes.range("") == std::vector<StagedKey>{StagedKey("a", "4"), StagedKey("b", std::nullopt),
                                                       StagedKey("c", std::nullopt)});
    REQUIRE(writes.range("", std::string_view("a")) ==
            std::vector<StagedKey>{StagedKey("b", std::nullopt), StagedKey("c", std::nullopt)});

    writes.discard_first(4);
    REQUIRE(writes.writes() == std::vector<Write>{SetWrite("a", "4"), EraseWrite("c")});
    REQUIRE(writes.bytes() == 3);
    REQUIRE_FALSE(writes.lookup("b"));
    writes.clear();
    REQUIRE(writes.empty());
    REQUIRE(writes.bytes() == 0);
}

TEST_CASE("WriteSet: validates each write when it is staged; a failed batch stages nothing", "[write_set]") {
    WriteSet writes(WriteSetLimits{.max_writes = 3, .max_bytes = 10});
    REQUIRE_THROWS_MATCHES(writes.set("k", "v", {.ttl = -1ms}), std::invalid_argument,
                           Catch::Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(writes.set_many({Entry("a", "1"), Entry("b", "2")}, {.ttl = -1ms}), std::invalid_argument,
                           Catch::Message("ttl must be >= 0"));
    REQUIRE(writes.empty());

    writes.set("a", "1234");  // 5 bytes
    REQUIRE_THROWS_MATCHES(writes.set_many({Entry("b", "1"), Entry("c", "1234")}), std::length_error,
                           Catch::Message("write set exceeds max_bytes (10)"));
    REQUIRE(writes.size() == 1);
    writes.erase_many({"b", "c"});
    REQUIRE_THROWS_MATCHES(writes.erase("d"), std::length_error, Catch::Message("write set exceeds max_writes (3)"));
    REQUIRE(writes.size() == 3);
    REQUIRE(writes.bytes() == 7);
}

TEST_CASE("staging: the store is unchanged until commit, which applies every write", "[write_set]") {
    auto store = seeded_store();
    const auto before = snapshot(store);
    const std::size_t bytes_before = store.target<InMemoryStore>()->bytes();

    auto writes = std::make_shared<WriteSet>();
    const Session session = Session::staged(alice, store, writes);
    REQUIRE(session.write_set() == writes);
    REQUIRE(Session(alice, store).write_set() == nullptr);

    run(session.set("a1", "new"));
    run(session.set("c1", "added", {.ttl = 0ms}));
    REQUIRE(run(session.erase("a2")));
    REQUIRE_FALSE(run(session.erase("zz")));
    run(session.set_many({Entry("c2", "x"), Entry("c3", "y")}));
    REQUIRE(run(session.erase_many({"b1", "c3", "b1", "nope"})) == 2);
    run(session.set("d1", "tmp"));
    run(session.erase("d1"));

    REQUIRE(snapshot(store) == before);
    REQUIRE(store.target<InMemoryStore>()->bytes() == bytes_before);
    REQUIRE(writes->size() == 12);

    run(commit(session));
    REQUIRE(writes->empty());
    auto expected = before;
    expected[alice] = {Entry("a1", "new"), Entry("a3", "v-a3"), Entry("b2", "v-b2"), Entry("c1", "added"),
                       Entry("c2", "x")};
    REQUIRE(snapshot(store) == expected);
}

TEST_CASE("staging: get and get_many read the staged writes over the store", "[write_set]") {
    auto store = seeded_store();
    const Session session = Session::staged(alice, store, std::make_shared<WriteSet>());
    run(session.set("a1", "staged"));
    run(session.erase("a2"));
    run(session.set("new", "n"));

    REQUIRE(run(session.get("a1")) == "staged");
    REQUIRE(run(session.get("a2")) == std::nullopt);
    REQUIRE(run(session.get("a3")) == "v-a3");
    REQUIRE(run(session.get("new")) == "n");
    REQUIRE(run(session.get("none")) == std::nullopt);
    REQUIRE(run(session.get_many({"new", "a2", "a3", "a1", "none", "a3"})) ==
            Values{"n", std::nullopt, "v-a3", "staged", std::nullopt, "v-a3"});
    REQUIRE(run(session.get_many({"new", "a1"})) == Values{"n", "staged"});
    REQUIRE(run(session.get_many({})) == Values{});

    // Another payer's session over the same store sees none of it.
    REQUIRE(run(Session(bob, store).get("a1")) == "bob's");
    REQUIRE(run(Session(alice, store).get("a1")) == "v-a1");
}

TEST_CASE("staging: list merges staged writes in key order with prefix, limit, keys_only and cursor",
          "[write_set]") {
    auto store = seeded_store();
    const Session session = Session::staged(alice, store, std::make_shared<WriteSet>());
    run(session.set("a2", "staged-a2"));
    run(session.set("a0", "staged-a0"));
    run(session.erase("a3"));
    run(session.set("b9", "staged-b9"));
    run(session.erase("nothing"));

    const std::vector<Entry> merged{Entry("a0", "staged-a0"), Entry("a1", "v-a1"), Entry("a2", "staged-a2"),
                                    Entry("b1", "v-b1"),      Entry("b2", "v-b2"), Entry("b9", "staged-b9")};
    REQUIRE(run(session.list()) == ListResult{merged, std::nullopt});

    SECTION("prefix") {
        auto page = run(session.list(ListOptions().with_prefix("a")));
        REQUIRE(page.entries == std::vector<Entry>(merged.begin(), merged.begin() + 3));
        REQUIRE_FALSE(page.cursor);
        REQUIRE(run(session.list(ListOptions().with_prefix("b9"))).entries == std::vector<Entry>{merged[5]});
        REQUIRE(run(session.list(ListOptions().with_prefix("a3"))).entries.empty());
    }
    SECTION("limit and cursor page across store and staged entries") {
        auto all = pages(session, ListOptions().with_limit(2));
        REQUIRE(all.size() == 3);
        REQUIRE(all[0] == std::vector<Entry>{merged[0], merged[1]});
        REQUIRE(all[1] == std::vector<Entry>{merged[2], merged[3]});
        REQUIRE(all[2] == std::vector<Entry>{merged[4], merged[5]});

        auto first = run(session.list(ListOptions().with_limit(2)));
        REQUIRE(first.cursor == x402::session::detail::encode_cursor("a1"));
    }
    SECTION("a cursor only when more matching entries exist") {
        auto page = run(session.list(ListOptions().with_prefix("a").with_limit(3)));
        REQUIRE(page.entries.size() == 3);
        REQUIRE_FALSE(page.cursor);
        page = run(session.list(ListOptions().with_prefix("b").with_limit(2)));
        REQUIRE(page.cursor);
        page = run(session.list(ListOptions().with_prefix("b").with_limit(2).with_cursor(*page.cursor)));
        REQUIRE(page == ListResult{{merged[5]}, std::nullopt});
    }
    SECTION("keys_only") {
        auto page = run(session.list(ListOptions().with_keys_only().with_limit(3)));
        REQUIRE(page.entries == std::vector<Entry>{Entry("a0", ""), Entry("a1", ""), Entry("a2", "")});
    }
    SECTION("a malformed cursor") {
        REQUIRE_THROWS_MATCHES(run(session.list(ListOptions().with_cursor("zz"))), std::invalid_argument,
                               Catch::Message("malformed list cursor"));
    }
}

TEST_CASE("staging: list fills pages that staged erases thin out", "[write_set]") {
    auto store = AnyStore::make<InMemoryStore>();
    for (int i = 10; i < 30; ++i) run(store.set(alice, "k" + std::to_string(i), "v", {}));
    const Session session = Session::staged(alice, store, std::make_shared<WriteSet>());
    for (int i = 11; i < 28; ++i) run(session.erase("k" + std::to_string(i)));  // leaves k10, k28, k29

    auto page = run(session.list(ListOptions().with_limit(2).with_keys_only()));
    REQUIRE(keys_of(page.entries) == Strings{"k10", "k28"});
    REQUIRE(page.cursor);
    page = run(session.list(ListOptions().with_limit(2).with_keys_only().with_cursor(*page.cursor)));
    REQUIRE(keys_of(page.entries) == Strings{"k29"});
    REQUIRE_FALSE(page.cursor);

    // Everything erased: an empty page and no cursor.
    run(session.erase_many({"k10", "k28", "k29"}));
    REQUIRE(run(session.list(ListOptions().with_limit(1))) == ListResult{});
}

TEST_CASE("staging: the merged page keeps the store's page limits", "[write_set][security]") {
    InMemoryStoreOptions options;
    options.page_limits.max_entries = 2;
    options.page_limits.max_bytes = 20;
    auto store = AnyStore::make<InMemoryStore>(options);
    run(store.set(alice, "a", "1", {}));
    run(store.set(alice, "c", "3", {}));
    run(store.set(alice, "e", "5", {}));
    const Session session = Session::staged(alice, store, std::make_shared<WriteSet>());
    run(session.set("b", "2"));
    run(session.set("d", std::string(40, 'd')));  // alone above the byte cap
    run(session.erase("e"));
    run(session.set("f", "6"));

    auto all = pages(session, ListOptions());
    REQUIRE(all.size() == 4);
    REQUIRE(all[0] == std::vector<Entry>{Entry("a", "1"), Entry("b", "2")});
    REQUIRE(all[1] == std::vector<Entry>{Entry("c", "3")});
    REQUIRE(all[2] == std::vector<Entry>{Entry("d", std::string(40, 'd'))});
    REQUIRE(all[3] == std::vector<Entry>{Entry("f", "6")});
    // A larger limit is clamped to the store's max_entries.
    REQUIRE(run(session.list(ListOptions().with_limit(50).with_keys_only())).entries.size() == 2);
}

TEST_CASE("commit: past the store's quota the payer's own oldest untouched entries make room", "[write_set]") {
    auto store = seeded_store(InMemoryStoreOptions{.max_entries_per_payer = 6});
    auto writes = std::make_shared<WriteSet>();
    const Session session = Session::staged(alice, store, writes);
    run(session.set("a1", "overwrite"));  // no new entry (and touched: never evicted)
    run(session.erase("b1"));
    run(session.set_many({Entry("n1", "1"), Entry("n2", "2"), Entry("n3", "3")}));  // 5 - 1 + 3 = 7
    run(commit(session));
    // a2, the oldest entry the commit does not touch, went; bob's entry stays.
    REQUIRE(keys_of(snapshot(store)[alice]) == Strings{"a1", "a3", "b2", "n1", "n2", "n3"});
    REQUIRE(keys_of(snapshot(store)[bob]) == Strings{"a1"});
    REQUIRE(run(store.get(alice, "a1")) == "overwrite");

    // A write set whose own entries exceed the quota cannot fit: it throws and changes nothing.
    const auto before = snapshot(store);
    std::vector<Entry> seven;
    for (int i = 0; i < 7; ++i) seven.emplace_back("m" + std::to_string(i), "x");
    run(session.set_many(std::move(seven)));
    REQUIRE_THROWS_MATCHES(run(commit(session)), std::length_error,
                           Catch::Message("write set of 7 entries exceeds max_entries_per_payer (6)"));
    REQUIRE(snapshot(store) == before);
    REQUIRE(writes->size() == 7);  // kept, so the caller decides
}

TEST_CASE("InMemoryStore::apply: every write is validated before anything changes", "[write_set]") {
    auto store = seeded_store(InMemoryStoreOptions{.max_bytes = 200});
    const auto before = snapshot(store);
    auto* memory = store.target<InMemoryStore>();
    std::vector<Write> bad_ttl{SetWrite("x", "1"), EraseWrite("a1"), SetWrite("y", "2", {.ttl = -5ms})};
    REQUIRE_THROWS_MATCHES(run(memory->apply(alice, bad_ttl)), std::invalid_argument,
                           Catch::Message("ttl must be >= 0"));
    std::vector<Write> too_big{EraseWrite("a1"), SetWrite("x", std::string(300, 'v'))};
    REQUIRE_THROWS_MATCHES(run(memory->apply(alice, too_big)), std::invalid_argument,
                           Catch::Message("entry of 308 bytes exceeds max_bytes (200)"));
    std::vector<Write> over_budget{SetWrite("x", std::string(150, 'v')), SetWrite("y", std::string(150, 'v'))};
    REQUIRE_THROWS_MATCHES(run(memory->apply(alice, over_budget)), std::length_error,
                           Catch::Message("write set of 316 bytes exceeds max_bytes (200)"));
    REQUIRE(snapshot(store) == before);

    // Set then erase of one key, erase then set of another: the last write wins.
    std::vector<Write> ok{SetWrite("x", "1"), EraseWrite("x"), EraseWrite("a1"), SetWrite("a1", "again")};
    run(memory->apply(alice, ok));
    REQUIRE(run(store.get(alice, "x")) == std::nullopt);
    REQUIRE(run(store.get(alice, "a1")) == "again");
}

TEST_CASE("commit: a store without apply refuses; apply_sequentially is the opt-in by name", "[write_set]") {
    auto minimal = std::make_shared<test_stores::MinimalStore>();
    const AnyStore store(minimal);
    REQUIRE_FALSE(store.has_apply());
    REQUIRE(AnyStore::make<InMemoryStore>().has_apply());
    run(store.set(alice, "a", "1", {}));

    auto writes = std::make_shared<WriteSet>();
    const Session session = Session::staged(alice, store, writes);
    run(session.set("b", "2"));
    run(session.erase("a"));
    REQUIRE_THROWS_MATCHES(run(commit(session)), std::logic_error, Catch::Message("store has no atomic apply"));
    REQUIRE_THROWS_MATCHES(run(store.apply(alice, writes->writes())), std::logic_error,
                           Catch::Message("store has no atomic apply"));
    REQUIRE(minimal->size() == 1);
    REQUIRE(run(store.get(alice, "a")) == "1");

    std::vector<Write> bad{SetWrite("c", "3"), SetWrite("d", "4", {.ttl = -1ms})};
    REQUIRE_THROWS_MATCHES(run(store.apply_sequentially(alice, bad)), std::invalid_argument,
                           Catch::Message("ttl must be >= 0"));
    REQUIRE(minimal->size() == 1);

    run(store.apply_sequentially(alice, writes->writes()));
    REQUIRE(run(store.get(alice, "a")) == std::nullopt);
    REQUIRE(run(store.get(alice, "b")) == "2");
}

TEST_CASE("commit: an empty write set or a direct session makes no store call", "[write_set]") {
    auto counting = std::make_shared<CountingApplyStore>();
    const AnyStore store(counting);
    REQUIRE(store.has_apply());
    const Session session = Session::staged(alice, store, std::make_shared<WriteSet>());
    run(commit(session));
    run(commit(Session(alice, store)));
    REQUIRE(counting->applies == 0);

    run(session.set("k", "v"));
    run(commit(session));
    run(commit(session));
    REQUIRE(counting->applies == 1);
    REQUIRE(run(store.get(alice, "k")) == "v");
}

TEST_CASE("commit: server records go in the same apply as the staged writes, to a store with a ledger only",
          "[write_set][ledger]") {
    using x402::session::LedgerWrite;
    const std::string payer = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01";
    const std::string storage_payer = "0xabcdef0123456789abcdef0123456789abcdef01";
    auto counting = std::make_shared<CountingApplyStore>();
    const AnyStore store(counting);
    REQUIRE(store.has_ledger());
    auto writes = std::make_shared<WriteSet>();
    const Session session = Session::staged(payer, store, writes);
    run(session.set("k", "v"));
    std::vector<LedgerWrite> records{LedgerWrite("id", "answer", 60'000ms)};
    run(commit(session, records));
    REQUIRE(counting->applies == 1);
    REQUIRE(writes->empty());
    REQUIRE(run(store.get(storage_payer, "k")) == "v");
    REQUIRE(run(store.get_ledger(storage_payer, "id")) == "answer");
    REQUIRE(run(session.get("id")) == std::nullopt);  // a Session never reads the ledger
    // Records alone, also from a session that is not staging; nothing at all: no call.
    std::vector<LedgerWrite> alone{LedgerWrite("id2", "x", 1'000ms)};
    run(commit(Session(payer, store), alone));
    run(commit(session, {}));
    REQUIRE(counting->applies == 2);
    REQUIRE(run(store.get_ledger(storage_payer, "id2")) == "x");

    // A store with apply but no ledger refuses records, changing nothing.
    auto plain = std::make_shared<ApplyWithoutLedgerStore>();
    const AnyStore plain_store(plain);
    REQUIRE_FALSE(plain_store.has_ledger());
    auto plain_writes = std::make_shared<WriteSet>();
    const Session plain_session = Session::staged(payer, plain_store, plain_writes);
    run(plain_session.set("k", "v"));
    REQUIRE_THROWS_MATCHES(run(commit(plain_session, records)), std::logic_error,
                           Catch::Message("store has no ledger"));
    REQUIRE(plain->applies == 0);
    REQUIRE(plain_writes->size() == 1);
    REQUIRE_THROWS_MATCHES(run(plain_store.get_ledger(storage_payer, "id")), std::logic_error,
                           Catch::Message("store has no ledger"));
    // Without apply, a record cannot go one write at a time either.
    auto minimal = std::make_shared<test_stores::MinimalStore>();
    const AnyStore minimal_store(minimal);
    std::vector<Write> mixed{SetWrite("c", "3"), LedgerWrite("id", "r", 1'000ms)};
    REQUIRE_THROWS_MATCHES(run(minimal_store.apply_sequentially(alice, mixed)), std::logic_error,
                           Catch::Message("a ledger write needs an atomic apply"));
    REQUIRE(minimal->size() == 0);
}

TEST_CASE("staging: a write set belongs to one payer; a null write set is refused", "[write_set]") {
    auto store = AnyStore::make<InMemoryStore>();
    auto writes = std::make_shared<WriteSet>();
    const Session session = Session::staged("0xAbCdEf0123456789aBcDeF0123456789ABCDEF01", store, writes);
    REQUIRE(writes->payer() == "0xabcdef0123456789abcdef0123456789abcdef01");
    REQUIRE_NOTHROW(Session::staged("0xabcdef0123456789abcdef0123456789abcdef01", store, writes));
    REQUIRE_THROWS_MATCHES(Session::staged(bob, store, writes), std::invalid_argument,
                           Catch::Message("write set belongs to another payer"));
    REQUIRE_THROWS_MATCHES(Session::staged(alice, store, nullptr), std::invalid_argument,
                           Catch::Message("write set must not be null"));
    REQUIRE_THROWS_MATCHES(run(session.set("k", "v", {.ttl = -1ms})), std::invalid_argument,
                           Catch::Message("ttl must be >= 0"));
    REQUIRE(writes->empty());
}

TEST_CASE("model: a staged session and its commit match the same operations applied directly",
          "[write_set][model]") {
    const auto seed = GENERATE(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u);
    std::mt19937 random(seed);
    auto pick = [&random](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
    const Strings key_pool{"a", "a0", "a1", "ab", "b", "b0", "b1", "c", "c00", "c01", "d"};
    const Strings prefixes{"", "a", "b", "c0", "x"};
    auto key = [&] { return key_pool[pick(key_pool.size())]; };

    InMemoryStoreOptions options{.ttl = 0ms};
    auto staged_store = AnyStore::make<InMemoryStore>(options);
    auto direct_store = AnyStore::make<InMemoryStore>(options);
    for (int i = 0; i < 6; ++i) {
        const std::string k = key();
        const std::string v = "seed" + std::to_string(i);
        run(staged_store.set(alice, k, v, {}));
        run(direct_store.set(alice, k, v, {}));
    }
    run(staged_store.set(bob, "a", "bob", {}));
    run(direct_store.set(bob, "a", "bob", {}));

    auto writes = std::make_shared<WriteSet>();
    const Session staged = Session::staged(alice, staged_store, writes);
    const Session direct(alice, direct_store);
    auto committed = snapshot(staged_store);

    for (int step = 0; step < 300; ++step) {
        INFO("seed " << seed << " step " << step);
        switch (pick(9)) {
        case 0:
        case 1: {
            const std::string k = key();
            const std::string v = "v" + std::to_string(step);
            run(staged.set(k, v));
            run(direct.set(k, v));
            break;
        }
        case 2: {
            const std::string k = key();
            REQUIRE(run(staged.erase(k)) == run(direct.erase(k)));
            break;
        }
        case 3: {
            std::vector<Entry> entries;
            for (std::size_t i = pick(4); i > 0; --i) entries.emplace_back(key(), "m" + std::to_string(step));
            run(staged.set_many(entries));
            run(direct.set_many(entries));
            break;
        }
        case 4: {
            Strings keys;
            for (std::size_t i = pick(4); i > 0; --i) keys.push_back(key());
            REQUIRE(run(staged.erase_many(keys)) == run(direct.erase_many(keys)));
            break;
        }
        case 5: {
            const std::string k = key();
            REQUIRE(run(staged.get(k)) == run(direct.get(k)));
            Strings keys;
            for (std::size_t i = pick(5); i > 0; --i) keys.push_back(key());
            REQUIRE(run(staged.get_many(keys)) == run(direct.get_many(keys)));
            break;
        }
        case 6:
        case 7: {
            ListOptions list_options;
            list_options.prefix = prefixes[pick(prefixes.size())];
            list_options.limit = pick(4);
            list_options.keys_only = pick(2) == 1;
            REQUIRE(pages(staged, list_options) == pages(direct, list_options));
            break;
        }
        case 8: {
            // Before a commit the staged store still holds what the last commit left.
            REQUIRE(snapshot(staged_store) == committed);
            if (pick(3) == 0) {
                run(commit(staged));
                REQUIRE(writes->empty());
                committed = snapshot(staged_store);
                REQUIRE(committed == snapshot(direct_store));
            }
            break;
        }
        }
    }
    REQUIRE(snapshot(staged_store) == committed);
    run(commit(staged));
    REQUIRE(snapshot(staged_store) == snapshot(direct_store));
}
