// Session and SessionPlugin: the 14 upstream index.test.ts cases
// (typescript-original.md §3.2) mapped to this API, then the deliberate
// differences (Δ) from the original.
//
// How the upstream harness maps here: upstream builds an app, installs the
// plugin and a mock payment gateway that returns a fixed payer, then fetches a
// route whose handler calls getSession(). Here the x402 hook's part is
// SessionPlugin::run (a coroutine handler) or SessionPlugin::call (plain
// code) with VerifiedPayer::assume_verified(payer) standing in for the
// verified payment, and std::nullopt / run_without_payer for "no payment".
//
// Payers: upstream uses "0xALICE", which is not an EVM address (an EVM address is
// "0x" + exactly 40 hex digits). Where upstream expects lower-casing (#8,
// #11, #13) these tests use a real EIP-55 checksummed address instead, since
// only EVM addresses are lower-cased here; "0xALICE" itself is
// kept byte for byte (see the delta tests).
#include <x402/session.hpp>

#include "../support.hpp"
#include "test_stores.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using x402::session::AnyStore;
using x402::session::awaitable;
using x402::session::Entry;
using x402::session::get_payer;
using x402::session::get_session;
using x402::session::InMemoryStore;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::Session;
using x402::session::SessionPlugin;
using x402::session::SetOptions;
using x402::session::VerifiedPayer;

namespace {

using Strings = std::vector<std::string>;
using Values = std::vector<std::optional<std::string>>;

/// The upstream tests' payer: not an EVM address, so never lower-cased here.
const std::string upstream_alice = "0xALICE";
/// An EIP-55 checksummed address (from the EIP-55 examples) and its lower-case form.
const std::string checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const std::string lowercase = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
/// A Solana address: base58, case-sensitive.
const std::string solana = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
const std::string solana_lower = "9xqewvg816bux9epjhmat23yvvm2zwbrrpzb9pusvfin";

VerifiedPayer verified(const std::string& payer) { return VerifiedPayer::assume_verified(payer); }

ListResult page(std::vector<Entry> entries) {
    ListResult result;
    result.entries = std::move(entries);
    return result;
}

/// A value read straight from a store, for checking under which payer a
/// session stored it.
std::optional<std::string> stored(const AnyStore& store, const std::string& payer, const std::string& key) {
    return test_support::run(store.get(payer, key));
}

template <class P>
concept HasRoutes = requires(P& plugin) { plugin.routes(); };

/// What a payer's session says, as seen from inside a handler.
struct Seen {
    std::optional<std::string> session_payer;
    std::optional<std::string> payer;
    friend bool operator==(const Seen&, const Seen&) = default;
};

Seen seen_now() {
    Seen seen;
    if (auto session = get_session()) seen.session_payer = session->payer();
    seen.payer = get_payer();
    return seen;
}

Seen nobody() { return Seen(); }
Seen someone(const std::string& payer) {
    Seen seen;
    seen.session_payer = payer;
    seen.payer = payer;
    return seen;
}

}  // namespace

// ---------------------------------------------------------------------------
// The 14 upstream index.test.ts cases.

TEST_CASE("upstream index #1: plugin name is 'session'", "[session][plugin][upstream]") {
    CHECK(SessionPlugin::name == "session");
    SessionPlugin plugin;
    CHECK(plugin.name == "session");
}

TEST_CASE("upstream index #2: does not register any routes (middleware only)", "[session][plugin][upstream]") {
    // Upstream checks that the app has no registered routes. This plugin has
    // no notion of routes at all: it only wraps a handler the server already
    // routed (what upstream's middleware does). What is meaningful here: it
    // has no routes API, and wrapping a handler neither changes its result
    // nor leaves a context behind.
    static_assert(!HasRoutes<SessionPlugin>);
    SessionPlugin plugin;
    CHECK_FALSE(get_session().has_value());

    auto handler = []() -> awaitable<std::string> { co_return "handler result"; };
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)) == "handler result");
    CHECK(test_support::run(plugin.run(std::nullopt, handler)) == "handler result");
    CHECK(test_support::run(plugin.run_without_payer(handler)) == "handler result");
    CHECK(plugin.call(verified(upstream_alice), [] { return 200; }) == 200);
    CHECK(plugin.call(std::nullopt, [] { return 204; }) == 204);
    CHECK_FALSE(get_session().has_value());
}

TEST_CASE("upstream index #3: getSession returns Session with correct payer when payment is present",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<int> {
        auto session = get_session();
        REQUIRE(session.has_value());
        CHECK(session->payer() == upstream_alice);  // the original case
        co_return 200;
    };
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)) == 200);
}

TEST_CASE("upstream index #4: session.get/set/list/delete work within middleware context",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<void> {
        auto session = get_session();
        REQUIRE(session.has_value());
        co_await session->set("color", "blue");
        co_await session->set("food", "pizza");
        const auto color = co_await session->get("color");
        CHECK(color == "blue");
        ListResult both = co_await session->list();
        CHECK(both == page({Entry("color", "blue"), Entry("food", "pizza")}));
        CHECK_FALSE(both.cursor.has_value());
        const bool erased = co_await session->erase("food");
        CHECK(erased);
        ListResult one = co_await session->list();
        CHECK(one == page({Entry("color", "blue")}));
    };
    test_support::run(plugin.run(verified(upstream_alice), handler));
}

TEST_CASE("upstream index #5: getSession returns undefined when no payer (free route)",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<Seen> { co_return seen_now(); };
    CHECK(test_support::run(plugin.run(std::nullopt, handler)) == nobody());
    CHECK(test_support::run(plugin.run_without_payer(handler)) == nobody());
    CHECK(plugin.call(std::nullopt, seen_now) == nobody());
    CHECK(seen_now() == nobody());  // outside any context
}

TEST_CASE("upstream index #6: unpaid internal fetch from a paid handler does not inherit the outer session "
          "(ALS isolation)",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    std::vector<Seen> seen;
    auto free_route = [&]() -> awaitable<void> {
        seen.push_back(seen_now());
        co_await boost::asio::post(boost::asio::use_awaitable);
        seen.push_back(seen_now());
    };
    auto paid_handler = [&]() -> awaitable<void> {
        seen.push_back(seen_now());
        co_await plugin.run(std::nullopt, free_route);
        seen.push_back(seen_now());
        co_await plugin.run_without_payer(free_route);
        seen.push_back(seen_now());
        seen.push_back(plugin.call(std::nullopt, seen_now));
        seen.push_back(seen_now());
    };
    test_support::run(plugin.run(verified(upstream_alice), paid_handler));
    const Seen alice = someone(upstream_alice);
    CHECK(seen == std::vector<Seen>{alice, nobody(), nobody(), alice, nobody(), nobody(), alice, nobody(), alice});
}

TEST_CASE("upstream index #7: getPayer returns the payer address", "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<std::optional<std::string>> { co_return get_payer(); };
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)) == upstream_alice);
    CHECK(test_support::run(plugin.run(verified(checksummed), handler)) == checksummed);  // not lower-cased
}

TEST_CASE("upstream index #8: custom store is used by middleware", "[session][plugin][upstream]") {
    // Upstream's payer "0xALICE" is recorded as "0xalice"; here only EVM
    // addresses are lower-cased, so the payer is an EIP-55 address.
    auto recording = std::make_shared<test_stores::RecordingStore>();
    SessionPlugin plugin{AnyStore(recording)};
    auto handler = []() -> awaitable<void> {
        auto session = get_session();
        REQUIRE(session.has_value());
        co_await session->set("k", "v");
        const auto value = co_await session->get("k");
        CHECK(value == "v");
        const bool erased = co_await session->erase("k");
        CHECK(erased);
        ListResult listed = co_await session->list();
        CHECK(listed.entries.empty());
    };
    test_support::run(plugin.run(verified(checksummed), handler));
    CHECK(recording->calls ==
          Strings{"set:" + lowercase + ":k:v", "get:" + lowercase + ":k", "erase:" + lowercase + ":k",
                  "list:" + lowercase});
}

TEST_CASE("upstream index #9: session data persists across requests for same payer", "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto write = []() -> awaitable<void> {
        auto session = get_session();
        REQUIRE(session.has_value());
        co_await session->set("note", "remember me");
    };
    auto read = []() -> awaitable<std::optional<std::string>> {
        auto session = get_session();
        if (!session) co_return std::nullopt;
        co_return co_await session->get("note");
    };
    test_support::run(plugin.run(verified(upstream_alice), write));  // "POST /write"
    CHECK(test_support::run(plugin.run(verified(upstream_alice), read)) == "remember me");  // "GET /read"
    // Another payer does not see it.
    CHECK_FALSE(test_support::run(plugin.run(verified(checksummed), read)).has_value());
}

TEST_CASE("upstream index #10: uses InMemorySessionStore by default", "[session][plugin][upstream]") {
    SessionPlugin plugin;
    CHECK(plugin.store().target<InMemoryStore>() != nullptr);
    CHECK(plugin.store().target<test_stores::MinimalStore>() == nullptr);
}

TEST_CASE("upstream index #11: checksummed and lowercase payer address share the same session",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto write = []() -> awaitable<void> {
        auto session = get_session();
        REQUIRE(session.has_value());
        co_await session->set("shared", "yes");
    };
    auto read = []() -> awaitable<std::optional<std::string>> {
        auto session = get_session();
        if (!session) co_return std::nullopt;
        co_return co_await session->get("shared");
    };
    test_support::run(plugin.run(verified(checksummed), write));
    CHECK(stored(plugin.store(), lowercase, "shared") == "yes");
    CHECK_FALSE(stored(plugin.store(), checksummed, "shared").has_value());  // the store never folds
    CHECK(test_support::run(plugin.run(verified(lowercase), read)) == "yes");
    CHECK(test_support::run(plugin.run(verified(checksummed), read)) == "yes");
}

TEST_CASE("upstream index #12: runWithPayer: getSession returns a session scoped to the given payer",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<Seen> { co_return seen_now(); };
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)) == someone(upstream_alice));
    CHECK(plugin.call(verified(upstream_alice), seen_now) == someone(upstream_alice));
    CHECK(plugin.call(verified(checksummed), seen_now) == someone(checksummed));
}

TEST_CASE("upstream index #13: runWithPayer: normalizes payer address for storage", "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<std::string> {
        auto session = get_session();
        REQUIRE(session.has_value());
        co_await session->set("k", "v");
        co_return session->storage_payer();
    };
    CHECK(test_support::run(plugin.run(verified(checksummed), handler)) == lowercase);
    CHECK(stored(plugin.store(), lowercase, "k") == "v");

    // The same through the synchronous call: the session it sees is the same.
    const std::optional<Session> session = plugin.call(verified(checksummed), [] { return get_session(); });
    REQUIRE(session.has_value());
    CHECK(session->payer() == checksummed);
    CHECK(session->storage_payer() == lowercase);
    CHECK(test_support::run(session->get("k")) == "v");
}

TEST_CASE("upstream index #14: runWithPayer: does not leak session context after returning",
          "[session][plugin][upstream]") {
    SessionPlugin plugin;
    auto handler = []() -> awaitable<bool> {
        co_await boost::asio::post(boost::asio::use_awaitable);
        co_return get_session().has_value();
    };
    // From a plain caller.
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)));
    CHECK_FALSE(get_session().has_value());
    CHECK(plugin.call(verified(upstream_alice), [] { return get_session().has_value(); }));
    CHECK_FALSE(get_session().has_value());
    CHECK_FALSE(get_payer().has_value());

    // From a caller coroutine that has no payer itself.
    std::vector<Seen> seen;
    auto caller = [&]() -> awaitable<void> {
        const bool inside = co_await plugin.run(verified(upstream_alice), handler);
        CHECK(inside);
        seen.push_back(seen_now());
        co_await boost::asio::post(boost::asio::use_awaitable);
        seen.push_back(seen_now());
    };
    test_support::run(caller());
    CHECK(seen == std::vector<Seen>{nobody(), nobody()});

    // Also when the handler throws.
    auto failing = []() -> awaitable<void> {
        co_await boost::asio::post(boost::asio::use_awaitable);
        throw std::runtime_error("handler failed");
    };
    CHECK_THROWS_WITH(test_support::run(plugin.run(verified(upstream_alice), failing)), "handler failed");
    CHECK_FALSE(get_session().has_value());
    CHECK_THROWS_AS(plugin.call(verified(upstream_alice), []() -> int { throw std::runtime_error("x"); }),
                    std::runtime_error);
    CHECK_FALSE(get_session().has_value());
}

// ---------------------------------------------------------------------------
// Deliberate differences from the original (SPEC Δ).

TEST_CASE("delta: a non-EVM payer is not case-folded", "[session][delta]") {
    // The original lower-cased every payer; Solana base58 is case-sensitive,
    // so two casings are two payers.
    auto store = AnyStore::make<InMemoryStore>();
    Session upper(solana, store);
    Session lower(solana_lower, store);
    CHECK(upper.storage_payer() == solana);
    CHECK(lower.storage_payer() == solana_lower);
    test_support::run(upper.set("k", "upper"));
    CHECK_FALSE(test_support::run(lower.get("k")).has_value());
    test_support::run(lower.set("k", "lower"));
    CHECK(test_support::run(upper.get("k")) == "upper");
    CHECK(test_support::run(lower.get("k")) == "lower");
    CHECK(stored(store, solana, "k") == "upper");

    // Upstream's "0xALICE" is not an EVM address either: stored as given
    // (upstream index #8 recorded "0xalice").
    auto recording = std::make_shared<test_stores::RecordingStore>();
    SessionPlugin plugin{AnyStore(recording)};
    auto handler = []() -> awaitable<void> { co_await get_session()->set("k", "v"); };
    test_support::run(plugin.run(verified(upstream_alice), handler));
    CHECK(recording->calls == Strings{"set:0xALICE:k:v"});
}

TEST_CASE("delta: only 0x and exactly 40 hex digits is an EVM address and lower-cased", "[session][delta]") {
    auto store = AnyStore::make<InMemoryStore>();
    auto storage_payer = [&](const std::string& payer) { return Session(payer, store).storage_payer(); };

    const std::string hex40 = "5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED";
    const std::string hex40_lower = "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
    // EVM addresses: folded.
    CHECK(storage_payer("0x" + hex40) == "0x" + hex40_lower);
    CHECK(storage_payer(checksummed) == lowercase);
    CHECK(storage_payer(lowercase) == lowercase);
    CHECK(storage_payer("0xABCDEF0000000000000000000000000000000000") == "0xabcdef0000000000000000000000000000000000");
    // Not EVM addresses: kept byte for byte.
    for (const std::string& payer : Strings{
             "0X" + hex40,                              // upper-case X
             "0x" + hex40.substr(0, 39),                // 39 hex digits
             "0x" + hex40 + "A",                        // 41 hex digits
             "0x" + hex40.substr(0, 39) + "G",          // a non-hex digit
             "0x" + hex40.substr(0, 20) + " " + hex40.substr(21),  // a space
             hex40,                                      // no prefix
             "1x" + hex40,                              // wrong prefix
             " 0x" + hex40.substr(0, 39),               // leading space, 42 bytes
             "0xALICE",
             "ALICE",
         }) {
        CAPTURE(payer);
        CHECK(storage_payer(payer) == payer);
    }

    // Two casings of a non-address are two sessions; of an address, one.
    const std::string not_address = "0X" + hex40;
    const std::string not_address_lower = "0X" + hex40_lower;
    test_support::run(Session(not_address, store).set("k", "upper"));
    CHECK_FALSE(test_support::run(Session(not_address_lower, store).get("k")).has_value());
    test_support::run(Session("0x" + hex40, store).set("k", "address"));
    CHECK(test_support::run(Session("0x" + hex40_lower, store).get("k")) == "address");
}

TEST_CASE("delta: an empty payer is rejected and the handler never runs", "[session][delta]") {
    auto store = AnyStore::make<InMemoryStore>();
    CHECK_THROWS_AS(Session("", store), std::invalid_argument);
    CHECK_THROWS_WITH(Session("", store), "payer must not be empty");
    CHECK_THROWS_AS(VerifiedPayer::assume_verified(""), std::invalid_argument);
    CHECK_THROWS_WITH(VerifiedPayer::assume_verified(""), "payer must not be empty");

    SessionPlugin plugin;
    bool ran = false;
    auto handler = [&]() -> awaitable<void> {
        ran = true;
        co_return;
    };
    CHECK_THROWS_AS(test_support::run(plugin.run(VerifiedPayer::assume_verified(""), handler)),
                    std::invalid_argument);
    CHECK_THROWS_AS(plugin.call(VerifiedPayer::assume_verified(""), [&] { ran = true; }), std::invalid_argument);
    CHECK_FALSE(ran);
    CHECK(plugin.store().target<InMemoryStore>()->size() == 0);
    // A single space is a payer (only the empty string is nobody).
    CHECK(Session(" ", store).storage_payer() == " ");
}

TEST_CASE("delta: payer() is the payer as given and storage_payer() is normalised", "[session][delta]") {
    auto store = AnyStore::make<InMemoryStore>();
    Session session(checksummed, store);
    CHECK(session.payer() == checksummed);
    CHECK(session.storage_payer() == lowercase);
    CHECK(session.store().target<InMemoryStore>() == store.target<InMemoryStore>());
    Session copy = session;
    CHECK(copy.payer() == checksummed);
    CHECK(copy.storage_payer() == lowercase);

    SessionPlugin plugin(store);
    const Session from_plugin = plugin.session_for(verified(checksummed));
    CHECK(from_plugin.payer() == checksummed);
    CHECK(from_plugin.storage_payer() == lowercase);
    auto handler = []() -> awaitable<Strings> {
        co_return Strings{get_session()->payer(), get_session()->storage_payer(), get_payer().value_or("none")};
    };
    CHECK(test_support::run(plugin.run(verified(checksummed), handler)) ==
          Strings{checksummed, lowercase, checksummed});
}

namespace {

/// What the batch script below observed.
struct BatchOutcome {
    Values got;
    std::size_t removed = 0;
    ListResult listed;
    bool negative_ttl_rejected = false;
    friend bool operator==(const BatchOutcome&, const BatchOutcome&) = default;
};

awaitable<BatchOutcome> batch_script(Session session) {
    BatchOutcome outcome;
    std::vector<Entry> entries{Entry("b", "2"), Entry("a", "1"), Entry("c", "3"), Entry("a", "one")};
    co_await session.set_many(std::move(entries));
    Strings keys{"a", "missing", "c", "a"};
    outcome.got = co_await session.get_many(std::move(keys));
    Strings to_erase{"c", "missing", "c"};
    outcome.removed = co_await session.erase_many(std::move(to_erase));
    outcome.listed = co_await session.list();
    SetOptions negative;
    negative.ttl = std::chrono::milliseconds(-5);
    try {
        std::vector<Entry> rejected{Entry("x", "never")};
        co_await session.set_many(std::move(rejected), negative);
    } catch (const std::invalid_argument&) {
        outcome.negative_ttl_rejected = true;
    }
    co_return outcome;
}

}  // namespace

TEST_CASE("delta: Session batch operations give the same results with fallback and native batches",
          "[session][delta]") {
    // The original Session had no batch operations; here they forward to the
    // store's own batch, or loop its single-key operations.
    BatchOutcome expected;
    expected.got = Values{"one", std::nullopt, "3", "one"};
    expected.removed = 1;
    expected.listed = page({Entry("a", "one"), Entry("b", "2")});
    expected.negative_ttl_rejected = true;

    auto minimal = std::make_shared<test_stores::MinimalStore>();
    CHECK(test_support::run(batch_script(Session(checksummed, AnyStore(minimal)))) == expected);
    CHECK(minimal->size() == 2);

    auto memory = std::make_shared<InMemoryStore>();
    CHECK(test_support::run(batch_script(Session(checksummed, AnyStore(memory)))) == expected);
    CHECK(memory->size() == 2);

    // Which path ran, under the normalised payer.
    const std::string p = lowercase;
    auto recording = std::make_shared<test_stores::RecordingStore>();
    CHECK(test_support::run(batch_script(Session(checksummed, AnyStore(recording)))) == expected);
    CHECK(recording->calls == Strings{"set:" + p + ":b:2", "set:" + p + ":a:1", "set:" + p + ":c:3",
                                      "set:" + p + ":a:one", "get:" + p + ":a", "get:" + p + ":missing",
                                      "get:" + p + ":c", "get:" + p + ":a", "erase:" + p + ":c",
                                      "erase:" + p + ":missing", "erase:" + p + ":c", "list:" + p});

    auto native = std::make_shared<test_stores::NativeBatchStore>();
    CHECK(test_support::run(batch_script(Session(checksummed, AnyStore(native)))) == expected);
    CHECK(native->calls == Strings{"set_many:" + p + ":b=2,a=1,c=3,a=one", "get_many:" + p + ":a,missing,c,a",
                                   "erase_many:" + p + ":c,missing,c", "list:" + p, "set_many:" + p + ":x=never"});
}

TEST_CASE("delta: Session rejects a negative ttl and keeps the store alive", "[session][delta]") {
    Session session(lowercase, AnyStore::make<InMemoryStore>());
    SetOptions negative;
    negative.ttl = std::chrono::milliseconds(-1);
    CHECK_THROWS_AS(test_support::run(session.set("k", "v", negative)), std::invalid_argument);
    CHECK_FALSE(test_support::run(session.get("k")).has_value());

    // The session owns its store: the handle outlives every other owner.
    std::optional<Session> only_owner;
    {
        auto store = std::make_shared<test_stores::MinimalStore>();
        only_owner.emplace(upstream_alice, AnyStore(store));
    }
    test_support::run(only_owner->set("k", "v"));
    CHECK(test_support::run(only_owner->get("k")) == "v");
    // A temporary Session lives until the end of the full expression, which
    // includes the co_await: the common `co_await get_session()->get(k)`.
    auto read_through_temporary = [&]() -> awaitable<std::optional<std::string>> {
        co_return co_await Session(upstream_alice, only_owner->store()).get("k");
    };
    CHECK(test_support::run(read_through_temporary()) == "v");
}

// Each Session operation copies the shared state before returning its
// awaitable, which starts only when awaited: an operation kept past the end of
// its Session must still work (it crashed when the copy happened lazily).
TEST_CASE("an operation outlives the Session it was started from", "[session]") {
    auto store = AnyStore::make<InMemoryStore>();
    auto operation = Session(upstream_alice, store).set("k", "v");  // the Session is gone here
    test_support::run(std::move(operation));
    CHECK(stored(store, upstream_alice, "k") == "v");

    SessionPlugin plugin(store);
    auto handler = []() -> awaitable<std::optional<std::string>> {
        auto pending = get_session()->get("k");  // the optional<Session> temporary is gone here
        co_return co_await std::move(pending);
    };
    CHECK(test_support::run(plugin.run(verified(upstream_alice), handler)) == "v");
}
