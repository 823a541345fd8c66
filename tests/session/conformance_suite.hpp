// The Store conformance suite, written once and instantiated for
// InMemoryStore (tests/session/conformance.cpp) and for RedisStore on a
// standalone server and on a 3-master Redis Cluster (tests/redis/conformance.cpp).
// It covers the Store contract except LRU eviction, capacity, quotas and byte
// budgets, which on Redis are maxmemory's job. Each test name ends with its
// backend. Define CONFORMANCE_BACKENDS (a list of backend types) before
// including it; a backend offers `store` (an AnyStore), `age(payer, keys, ms)`
// and `age_ledger(payer, keys, ms)` (the same for ledger records), and the
// flags `is_redis` and `close_clears`.
#pragma once

#include "conformance_backends.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace std::string_literals;
using store_conformance::IoThreads;
using Catch::Matchers::Message;
using test_support::run;
using x402::session::AnyStore;
using x402::session::Entry;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::SetOptions;

namespace {

using Value = std::optional<std::string>;
using Entries = std::vector<Entry>;

Value get(AnyStore& store, std::string payer, std::string key) {
    return run(store.get(std::move(payer), std::move(key)));
}
SetOptions ttl_of(std::chrono::milliseconds ttl) {
    SetOptions options;
    options.ttl = ttl;
    return options;
}
void put(AnyStore& store, std::string payer, std::string key, std::string value, SetOptions options = {}) {
    run(store.set(std::move(payer), std::move(key), std::move(value), options));
}
bool erase(AnyStore& store, std::string payer, std::string key) {
    return run(store.erase(std::move(payer), std::move(key)));
}
ListResult list(AnyStore& store, std::string payer, ListOptions options = ListOptions()) {
    return run(store.list(std::move(payer), std::move(options)));
}
Entries entries(AnyStore& store, std::string payer) { return list(store, std::move(payer)).entries; }
/// `count` keys `letter` + 4 digits ("k0000", "k0001", ...), in ascending order.
std::vector<std::string> numbered_keys(char letter, int count) {
    std::vector<std::string> keys;
    for (int i = 0; i < count; ++i) {
        char key[16];
        std::snprintf(key, sizeof key, "%c%04d", letter, i);
        keys.emplace_back(key);
    }
    return keys;
}
std::vector<std::string> keys_of(const Entries& page) {
    std::vector<std::string> keys;
    for (const auto& entry : page) keys.push_back(entry.key);
    return keys;
}
ListResult page(AnyStore& store, std::string payer, std::size_t limit, std::string cursor = "",
                std::string prefix = "", bool keys_only = false) {
    auto options = ListOptions().with_limit(limit).with_cursor(std::move(cursor)).with_prefix(std::move(prefix))
                       .with_keys_only(keys_only);
    return list(store, std::move(payer), std::move(options));
}
std::vector<Value> get_many(AnyStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.get_many(std::move(payer), std::move(keys)));
}
void put_many(AnyStore& store, std::string payer, Entries batch, SetOptions options = {}) {
    run(store.set_many(std::move(payer), std::move(batch), options));
}
std::size_t erase_many(AnyStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.erase_many(std::move(payer), std::move(keys)));
}

const std::string alice = "0xalice";
const std::string bob = "0xbob";

}  // namespace

#ifndef CONFORMANCE_BACKENDS
#error "define CONFORMANCE_BACKENDS before including conformance_suite.hpp"
#endif
#define BACKENDS CONFORMANCE_BACKENDS

TEMPLATE_TEST_CASE("conformance: get set erase and list basics", "[conformance]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    REQUIRE(get(store, alice, "missing") == std::nullopt);
    put(store, alice, "k", "v");
    REQUIRE(get(store, alice, "k") == "v");
    put(store, alice, "k", "w");
    REQUIRE(get(store, alice, "k") == "w");
    REQUIRE(entries(store, alice) == Entries{{"k", "w"}});
    REQUIRE(erase(store, alice, "k"));
    REQUIRE_FALSE(erase(store, alice, "k"));
    REQUIRE(get(store, alice, "k") == std::nullopt);
    REQUIRE(entries(store, alice).empty());
    REQUIRE(list(store, alice).cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: payers are isolated", "[conformance]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "a");
    put(store, bob, "k", "b");
    REQUIRE(get(store, alice, "k") == "a");
    REQUIRE(get(store, bob, "k") == "b");
    REQUIRE(erase(store, alice, "k"));
    REQUIRE(get(store, bob, "k") == "b");
    REQUIRE(entries(store, alice).empty());
    REQUIRE(entries(store, bob) == Entries{{"k", "b"}});
}

TEMPLATE_TEST_CASE("conformance: composite keys and odd bytes never collide", "[conformance]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, "a", "b:c", "1");
    put(store, "a:b", "c", "2");
    REQUIRE(get(store, "a", "b:c") == "1");
    REQUIRE(get(store, "a:b", "c") == "2");
    REQUIRE(get(store, "a", "b") == std::nullopt);
    // Payers and keys that look like the Redis layout: braces, separators, NUL bytes.
    const std::vector<std::string> payers{"", "{", "}", "{}", "}{x", "p:{x}:v:", "a\0b"s, "\xff\xfe"};
    for (std::size_t i = 0; i < payers.size(); ++i) {
        put(store, payers[i], "", "empty key " + std::to_string(i));
        put(store, payers[i], ":v:x\0y"s, "");
    }
    for (std::size_t i = 0; i < payers.size(); ++i) {
        INFO("payer #" << i);
        REQUIRE(get(store, payers[i], "") == "empty key " + std::to_string(i));
        REQUIRE(get(store, payers[i], ":v:x\0y"s) == "");
        REQUIRE(entries(store, payers[i]) == Entries{{"", "empty key " + std::to_string(i)}, {":v:x\0y"s, ""}});
    }
    // Payers are never folded.
    put(store, "0xAbC", "k", "upper");
    REQUIRE(get(store, "0xabc", "k") == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: a negative ttl is rejected before anything changes", "[conformance][ttl]",
                   BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v");
    REQUIRE_THROWS_MATCHES(put(store, alice, "k", "other", ttl_of(-1ms)), std::invalid_argument,
                           Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(put(store, alice, "new", "x", ttl_of(-1ms)), std::invalid_argument,
                           Message("ttl must be >= 0"));
    REQUIRE_THROWS_MATCHES(put_many(store, alice, Entries{{"k", "x"}, {"n", "y"}}, ttl_of(-5ms)),
                           std::invalid_argument, Message("ttl must be >= 0"));
    REQUIRE(entries(store, alice) == Entries{{"k", "v"}});
}

TEMPLATE_TEST_CASE("conformance: an expired entry is never returned", "[conformance][ttl]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "short", "s", ttl_of(100'000ms));
    put(store, alice, "long", "l", ttl_of(1'000'000ms));
    backend.age(alice, {"short", "long"}, 100'001ms);
    REQUIRE(get(store, alice, "short") == std::nullopt);
    REQUIRE(get(store, alice, "long") == "l");
    REQUIRE(entries(store, alice) == Entries{{"long", "l"}});
    REQUIRE(get_many(store, alice, {"short", "long"}) == std::vector<Value>{std::nullopt, "l"});
    REQUIRE_FALSE(erase(store, alice, "short"));
    REQUIRE(erase_many(store, alice, {"short", "long"}) == 1);
}

TEMPLATE_TEST_CASE("conformance: ttl 0 never expires and a per-key ttl overrides the default", "[conformance][ttl]",
                   BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "eternal", "e", ttl_of(0ms));
    put(store, alice, "short", "s", ttl_of(100'000ms));
    put(store, alice, "default", "d");  // the store default: 1 h
    backend.age(alice, {"eternal", "short", "default"}, 150'000ms);
    REQUIRE(get(store, alice, "short") == std::nullopt);
    REQUIRE(get(store, alice, "default") == "d");
    backend.age(alice, {"eternal", "default"}, std::chrono::hours(24 * 365 * 10));
    REQUIRE(get(store, alice, "default") == std::nullopt);
    REQUIRE(get(store, alice, "eternal") == "e");
    REQUIRE(entries(store, alice) == Entries{{"eternal", "e"}});
}

TEMPLATE_TEST_CASE("conformance: get slides the expiry by the entry's own ttl", "[conformance][ttl]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v", ttl_of(100'000ms));
    put(store, alice, "other", "o", ttl_of(100'000ms));
    backend.age(alice, {"k", "other"}, 60'000ms);
    REQUIRE(get(store, alice, "k") == "v");  // slides k by 100 s, not by the 1 h default
    REQUIRE(get(store, alice, "nothing") == std::nullopt);
    backend.age(alice, {"k", "other"}, 60'000ms);
    REQUIRE(get(store, alice, "other") == std::nullopt);
    REQUIRE(get(store, alice, "k") == "v");  // slid again
    backend.age(alice, {"k"}, 100'001ms);
    REQUIRE(get(store, alice, "k") == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: an overwrite resets the ttl and list touches none", "[conformance][ttl]",
                   BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v", ttl_of(100'000ms));
    put(store, alice, "listed", "l", ttl_of(100'000ms));
    backend.age(alice, {"k", "listed"}, 60'000ms);
    put(store, alice, "k", "w", ttl_of(100'000ms));
    REQUIRE(entries(store, alice).size() == 2);
    REQUIRE(page(store, alice, 1, "", "", true).entries.size() == 1);
    backend.age(alice, {"k", "listed"}, 60'000ms);
    REQUIRE(get(store, alice, "listed") == std::nullopt);
    REQUIRE(get(store, alice, "k") == "w");
    // An overwrite without a ttl takes the store default (1 h).
    put(store, alice, "k", "x");
    backend.age(alice, {"k"}, 200'000ms);
    REQUIRE(get(store, alice, "k") == "x");
}

TEMPLATE_TEST_CASE("conformance: list returns keys in ascending byte order", "[conformance][list]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    const std::vector<std::string> keys{"b", "a", "\x80", "A", "", "a\0b"s, "ab", "\xff", "a", "~", "0"};
    for (const auto& key : keys) put(store, alice, key, "v" + key);
    std::vector<std::string> expected(keys.begin(), keys.end());
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    REQUIRE(keys_of(entries(store, alice)) == expected);
    REQUIRE(entries(store, alice).front() == Entry{"", "v"});
    // The same order page by page.
    std::vector<std::string> paged;
    std::string cursor;
    for (;;) {
        auto result = page(store, alice, 2, cursor);
        for (auto& key : keys_of(result.entries)) paged.push_back(key);
        if (!result.cursor) break;
        cursor = *result.cursor;
    }
    REQUIRE(paged == expected);
}

TEMPLATE_TEST_CASE("conformance: a cursor is returned only when one more matching live entry exists",
                   "[conformance][list]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    for (int i = 0; i < 6; ++i) put(store, alice, "k" + std::to_string(i), std::to_string(i));
    put(store, alice, "z", "outside the prefix");
    auto first = page(store, alice, 3, "", "k");
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"k0", "k1", "k2"});
    REQUIRE(first.cursor);
    auto second = page(store, alice, 3, *first.cursor, "k");
    REQUIRE(keys_of(second.entries) == std::vector<std::string>{"k3", "k4", "k5"});
    REQUIRE(second.cursor == std::nullopt);  // "z" does not match the prefix
    auto all = page(store, alice, 7);
    REQUIRE(all.entries.size() == 7);
    REQUIRE(all.cursor == std::nullopt);
    auto unlimited = page(store, alice, 0);
    REQUIRE(unlimited.entries.size() == 7);
    REQUIRE(unlimited.cursor == std::nullopt);
    // The only further entry expired: no cursor.
    put(store, alice, "k6", "6", ttl_of(100'000ms));
    backend.age(alice, {"k6"}, 100'001ms);
    REQUIRE(page(store, alice, 3, *first.cursor, "k").cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: a page holds at most PageLimits::max_entries", "[conformance][list][security]",
                   BACKENDS) {
    x402::session::PageLimits limits;
    limits.max_entries = 3;
    TestType backend(limits);
    auto& store = backend.store;
    REQUIRE(store.page_limits() == limits);
    for (int i = 0; i < 7; ++i) put(store, alice, "k" + std::to_string(i), "v");
    // 0 asks for a full page; a larger limit is clamped; a smaller one holds.
    auto full = page(store, alice, 0);
    REQUIRE(keys_of(full.entries) == std::vector<std::string>{"k0", "k1", "k2"});
    REQUIRE(full.cursor);
    REQUIRE(keys_of(page(store, alice, 100).entries) == keys_of(full.entries));
    REQUIRE(page(store, alice, 2).entries.size() == 2);
    std::vector<std::string> paged;
    std::string cursor;
    for (int pages = 0;; ++pages) {
        REQUIRE(pages < 3);
        auto result = page(store, alice, 0, cursor);
        for (auto& key : keys_of(result.entries)) paged.push_back(key);
        if (!result.cursor) break;
        cursor = *result.cursor;
    }
    REQUIRE(paged == std::vector<std::string>{"k0", "k1", "k2", "k3", "k4", "k5", "k6"});
}

TEMPLATE_TEST_CASE("conformance: a page ends before its byte cap, but always holds one entry",
                   "[conformance][list][security]", BACKENDS) {
    x402::session::PageLimits limits;
    limits.max_bytes = 10;
    TestType backend(limits);
    auto& store = backend.store;
    put(store, alice, "a", "1234");       // 5 bytes
    put(store, alice, "b", "1234");       // 5: a + b fill the page exactly
    put(store, alice, "c", "12");         // 3: over the cap after a and b
    put(store, alice, "d", std::string(50, 'x'));  // alone above the cap
    put(store, alice, "e", "1");
    auto first = page(store, alice, 0);
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(first.cursor);
    auto second = page(store, alice, 0, *first.cursor);
    REQUIRE(keys_of(second.entries) == std::vector<std::string>{"c"});
    auto third = page(store, alice, 0, *second.cursor);
    REQUIRE(third.entries == Entries{{"d", std::string(50, 'x')}});
    REQUIRE(third.cursor);
    auto fourth = page(store, alice, 0, *third.cursor);
    REQUIRE(keys_of(fourth.entries) == std::vector<std::string>{"e"});
    REQUIRE(fourth.cursor == std::nullopt);
    // keys_only counts the keys alone: every key fits.
    auto keys = page(store, alice, 0, "", "", true);
    REQUIRE(keys_of(keys.entries) == std::vector<std::string>{"a", "b", "c", "d", "e"});
    REQUIRE(keys.cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: pages that fill at a Redis script's read boundary, and no entry cap",
                   "[conformance][list]", BACKENDS) {
    x402::session::PageLimits limits;
    limits.max_entries = std::numeric_limits<std::size_t>::max();  // "no cap" must not overflow
    TestType backend(limits);
    auto& store = backend.store;
    std::vector<Entry> batch;
    for (const auto& key : numbered_keys('k', 300)) batch.emplace_back(key, "v");
    run(store.set_many(alice, std::move(batch), {}));
    auto all = page(store, alice, 0);
    REQUIRE(all.entries.size() == 300);
    REQUIRE(all.cursor == std::nullopt);
    // A page as long as one script call reads (256): full, with a cursor to the rest.
    auto first = page(store, alice, 256);
    REQUIRE(first.entries.size() == 256);
    REQUIRE(first.entries.back().key == "k0255");
    REQUIRE(first.cursor);
    auto rest = page(store, alice, 0, *first.cursor);
    REQUIRE(rest.entries.size() == 44);
    REQUIRE(rest.entries.front().key == "k0256");
    REQUIRE(rest.cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: a page skips many expired entries to the live ones behind them",
                   "[conformance][list]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    // More expired entries than one Redis list script call reads.
    const std::vector<std::string> expired = numbered_keys('a', 300);
    std::vector<Entry> batch;
    for (const auto& key : expired) batch.emplace_back(key, "old");
    run(store.set_many(alice, std::move(batch), ttl_of(100'000ms)));
    put(store, alice, "b", "live");
    put(store, alice, "c", "live");
    backend.age(alice, expired, 100'001ms);
    auto first = page(store, alice, 1);
    REQUIRE(first.entries == Entries{{"b", "live"}});
    REQUIRE(first.cursor);
    auto rest = page(store, alice, 0);
    REQUIRE(keys_of(rest.entries) == std::vector<std::string>{"b", "c"});
    REQUIRE(rest.cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: prefix limit keys_only and cursor combine", "[conformance][list]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    for (const auto* key : {"chat:1", "chat:2", "chat:3", "cha", "chat", "chau", "note:1"}) put(store, alice, key, key);
    auto first = page(store, alice, 2, "", "chat:", true);
    REQUIRE(first.entries == Entries{{"chat:1", ""}, {"chat:2", ""}});
    REQUIRE(first.cursor);
    auto second = page(store, alice, 2, *first.cursor, "chat:", true);
    REQUIRE(second.entries == Entries{{"chat:3", ""}});
    REQUIRE(second.cursor == std::nullopt);
    REQUIRE(page(store, alice, 0, "", "chat").entries ==
            Entries{{"chat", "chat"}, {"chat:1", "chat:1"}, {"chat:2", "chat:2"}, {"chat:3", "chat:3"}});
    REQUIRE(page(store, alice, 0, "", "nothing").entries.empty());
    // A cursor from before the prefix starts at the prefix.
    auto before = page(store, alice, 1, "", "");
    REQUIRE(page(store, alice, 0, *before.cursor, "note").entries == Entries{{"note:1", "note:1"}});
    // A cursor past the prefix block gives nothing.
    auto past = page(store, alice, 0, x402::session::detail::encode_cursor("note:1"), "chat");
    REQUIRE(past.entries.empty());
}

TEMPLATE_TEST_CASE("conformance: a cursor continues after its position when that entry was erased or expired",
                   "[conformance][cursor]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    for (const auto* key : {"a", "b", "c", "d"}) put(store, alice, key, key, ttl_of(100'000ms));
    put(store, alice, "e", "e", ttl_of(1'000'000ms));
    auto first = page(store, alice, 2);
    REQUIRE(keys_of(first.entries) == std::vector<std::string>{"a", "b"});
    REQUIRE(erase(store, alice, "b"));
    auto second = page(store, alice, 2, *first.cursor);
    REQUIRE(keys_of(second.entries) == std::vector<std::string>{"c", "d"});
    backend.age(alice, {"d"}, 100'001ms);
    put(store, alice, "cc", "added before the position");
    put(store, alice, "dd", "added after the position");
    auto third = page(store, alice, 2, *second.cursor);
    REQUIRE(keys_of(third.entries) == std::vector<std::string>{"dd", "e"});
    REQUIRE(third.cursor == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: every key live through a pagination is returned exactly once",
                   "[conformance][cursor]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    std::set<std::string> stable;
    for (int i = 0; i < 60; ++i) {
        const auto key = "k" + std::to_string(i * 7 % 60);
        put(store, alice, key, "v");
        if (i % 3 != 0) stable.insert(key);
    }
    std::vector<std::string> seen;
    std::string cursor;
    int churn = 0;
    for (;;) {
        auto result = page(store, alice, 7, cursor);
        for (auto& key : keys_of(result.entries)) seen.push_back(key);
        // Meanwhile: erase some unstable keys, add new ones.
        for (int i = 0; i < 3; ++i, ++churn) {
            const auto key = "k" + std::to_string(churn * 3 % 60 * 7 % 60);
            if (!stable.contains(key)) erase(store, alice, key);
            put(store, alice, "n" + std::to_string(churn), "new");
        }
        if (!result.cursor) break;
        cursor = *result.cursor;
    }
    std::set<std::string> unique(seen.begin(), seen.end());
    REQUIRE(unique.size() == seen.size());
    for (const auto& key : stable) REQUIRE(unique.contains(key));
}

TEMPLATE_TEST_CASE("conformance: malformed cursors are rejected even for a payer with no entries",
                   "[conformance][cursor]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    for (const auto& bad : {"\0"s, "\xff\xfe"s, "not a cursor\n"s, "c:0"s, "c:zz"s, "C:61"s, "c:6G"s}) {
        INFO("cursor " << bad);
        REQUIRE_THROWS_MATCHES(page(store, "nobody", 1, bad), std::invalid_argument, Message("malformed list cursor"));
    }
    put(store, alice, "a", "1");
    REQUIRE_THROWS_MATCHES(page(store, alice, 1, "garbage"), std::invalid_argument, Message("malformed list cursor"));
    // The empty cursor means from the start; a cursor is printable ASCII without the raw key.
    put(store, alice, "secret key", "2");
    auto first = page(store, alice, 1, "");
    REQUIRE(first.entries == Entries{{"a", "1"}});
    REQUIRE(first.cursor);
    REQUIRE(first.cursor->find("a") == std::string::npos);
    REQUIRE(std::all_of(first.cursor->begin(), first.cursor->end(), [](char c) { return c >= 0x20 && c <= 0x7e; }));
}

TEMPLATE_TEST_CASE("conformance: batch operations", "[conformance][batch]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    REQUIRE(get_many(store, alice, {}).empty());
    put_many(store, alice, {});
    REQUIRE(erase_many(store, alice, {}) == 0);
    put_many(store, alice, Entries{{"a", "1"}, {"b", "2"}, {"a", "3"}});  // in order: the last "a" wins
    REQUIRE(get_many(store, alice, {"a", "missing", "b", "a"}) == std::vector<Value>{"3", std::nullopt, "2", "3"});
    put_many(store, alice, Entries{{"short", "s"}, {"short2", "t"}}, ttl_of(100'000ms));
    backend.age(alice, {"short", "short2"}, 100'001ms);
    REQUIRE(get_many(store, alice, {"short", "short2", "b"}) == std::vector<Value>{std::nullopt, std::nullopt, "2"});
    // Counts live entries removed only: a duplicate, a missing and an expired key count nothing.
    REQUIRE(erase_many(store, alice, {"a", "a", "missing", "short", "b"}) == 2);
    REQUIRE(entries(store, alice).empty());
    // Isolated from other payers.
    put_many(store, bob, Entries{{"a", "bob"}});
    REQUIRE(erase_many(store, alice, {"a"}) == 0);
    REQUIRE(get(store, bob, "a") == "bob");
}

TEMPLATE_TEST_CASE("conformance: apply runs its writes in order as one step", "[conformance][apply]", BACKENDS) {
    using x402::session::EraseWrite;
    using x402::session::SetWrite;
    using x402::session::Write;
    TestType backend;
    auto& store = backend.store;
    REQUIRE(store.has_apply());
    put(store, alice, "old", "1");
    put(store, bob, "a", "bob");
    std::vector<Write> writes;
    writes.emplace_back(SetWrite("a", "1"));
    writes.emplace_back(SetWrite("b", "2", ttl_of(100'000ms)));
    writes.emplace_back(EraseWrite("old"));
    writes.emplace_back(SetWrite("a", "3"));  // in order: the last "a" wins
    writes.emplace_back(SetWrite("gone", "x"));
    writes.emplace_back(EraseWrite("gone"));
    writes.emplace_back(EraseWrite("missing"));
    writes.emplace_back(SetWrite("eternal", "e", ttl_of(0ms)));
    run(store.apply(alice, writes));
    REQUIRE(entries(store, alice) == Entries{{"a", "3"}, {"b", "2"}, {"eternal", "e"}});
    REQUIRE(entries(store, bob) == Entries{{"a", "bob"}});
    // Each set keeps its own ttl.
    backend.age(alice, {"a", "b", "eternal"}, 100'001ms);
    REQUIRE(entries(store, alice) == Entries{{"a", "3"}, {"eternal", "e"}});
    run(store.apply(alice, {}));
    REQUIRE(entries(store, alice) == Entries{{"a", "3"}, {"eternal", "e"}});
}

TEMPLATE_TEST_CASE("conformance: an apply with a negative ttl changes nothing", "[conformance][apply][ttl]",
                   BACKENDS) {
    using x402::session::SetWrite;
    using x402::session::Write;
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v");
    std::vector<Write> writes;
    writes.emplace_back(SetWrite("k", "changed"));
    writes.emplace_back(SetWrite("n", "new", ttl_of(-1ms)));
    REQUIRE_THROWS_MATCHES(run(store.apply(alice, writes)), std::invalid_argument, Message("ttl must be >= 0"));
    REQUIRE(entries(store, alice) == Entries{{"k", "v"}});
}

namespace {

Value ledger(AnyStore& store, std::string payer, std::string key) {
    return run(store.get_ledger(std::move(payer), std::move(key)));
}

}  // namespace

TEMPLATE_TEST_CASE("conformance: the ledger is a space no session operation reaches", "[conformance][ledger]",
                   BACKENDS) {
    using x402::session::LedgerWrite;
    using x402::session::Write;
    TestType backend;
    auto& store = backend.store;
    REQUIRE(store.has_ledger());
    put(store, alice, "k", "session value");
    std::vector<Write> writes;
    writes.emplace_back(LedgerWrite("k", "ledger value", 60'000ms));  // the same bytes as a session key
    writes.emplace_back(LedgerWrite("only-in-ledger", "r", 60'000ms));
    run(store.apply(alice, writes));

    REQUIRE(ledger(store, alice, "k") == "ledger value");
    REQUIRE(ledger(store, alice, "only-in-ledger") == "r");
    // Every session operation sees only session entries.
    REQUIRE(get(store, alice, "k") == "session value");
    REQUIRE(get(store, alice, "only-in-ledger") == std::nullopt);
    REQUIRE(get_many(store, alice, {"k", "only-in-ledger"}) == std::vector<Value>{"session value", std::nullopt});
    REQUIRE(entries(store, alice) == Entries{{"k", "session value"}});
    REQUIRE_FALSE(erase(store, alice, "only-in-ledger"));
    REQUIRE(erase(store, alice, "k"));
    REQUIRE(erase_many(store, alice, {"k", "only-in-ledger"}) == 0);
    put(store, alice, "only-in-ledger", "a session write");
    REQUIRE(entries(store, alice) == Entries{{"only-in-ledger", "a session write"}});
    // ... and leaves the ledger as it was.
    REQUIRE(ledger(store, alice, "k") == "ledger value");
    REQUIRE(ledger(store, alice, "only-in-ledger") == "r");
    // The ledger has payers too, and session writes never reach it.
    REQUIRE(ledger(store, bob, "k") == std::nullopt);
    put(store, bob, "k", "bob's");
    REQUIRE(ledger(store, bob, "k") == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: a ledger record keeps its own expiry", "[conformance][ledger][ttl]", BACKENDS) {
    using x402::session::LedgerWrite;
    using x402::session::SetWrite;
    using x402::session::Write;
    TestType backend;
    auto& store = backend.store;
    std::vector<Write> writes;
    writes.emplace_back(SetWrite("k", "never expires", ttl_of(0ms)));
    writes.emplace_back(LedgerWrite("short", "1", 10'000ms));
    writes.emplace_back(LedgerWrite("long", "2", 100'000ms));
    run(store.apply(alice, writes));
    backend.age_ledger(alice, {"short", "long"}, 10'001ms);
    REQUIRE(ledger(store, alice, "short") == std::nullopt);
    REQUIRE(ledger(store, alice, "long") == "2");
    // Reading it does not slide it (unlike a session get).
    backend.age_ledger(alice, {"long"}, 89'999ms);
    REQUIRE(ledger(store, alice, "long") == std::nullopt);
    REQUIRE(get(store, alice, "k") == "never expires");
    // An overwrite replaces the value and the expiry.
    std::vector<Write> again;
    again.emplace_back(LedgerWrite("long", "3", 5'000ms));
    run(store.apply(alice, again));
    REQUIRE(ledger(store, alice, "long") == "3");
}

TEMPLATE_TEST_CASE("conformance: a bad ledger write rejects the whole apply", "[conformance][ledger][apply]",
                   BACKENDS) {
    using x402::session::LedgerWrite;
    using x402::session::SetWrite;
    using x402::session::Write;
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v");
    for (const auto ttl : {0ms, -1ms}) {
        std::vector<Write> writes;
        writes.emplace_back(SetWrite("k", "changed"));
        writes.emplace_back(LedgerWrite("good", "1", 1'000ms));
        writes.emplace_back(LedgerWrite("bad", "2", ttl));
        REQUIRE_THROWS_MATCHES(run(store.apply(alice, writes)), std::invalid_argument,
                               Message("ledger ttl must be > 0"));
        REQUIRE(entries(store, alice) == Entries{{"k", "v"}});
        REQUIRE(ledger(store, alice, "good") == std::nullopt);
    }
    // And a bad session write keeps the ledger write out.
    std::vector<Write> writes;
    writes.emplace_back(LedgerWrite("good", "1", 1'000ms));
    writes.emplace_back(SetWrite("n", "new", ttl_of(-1ms)));
    REQUIRE_THROWS_MATCHES(run(store.apply(alice, writes)), std::invalid_argument, Message("ttl must be >= 0"));
    REQUIRE(ledger(store, alice, "good") == std::nullopt);
}

TEMPLATE_TEST_CASE("conformance: close keeps the store usable", "[conformance]", BACKENDS) {
    TestType backend;
    auto& store = backend.store;
    put(store, alice, "k", "v");
    run(store.close());
    if constexpr (TestType::close_clears) {
        REQUIRE(get(store, alice, "k") == std::nullopt);
    } else {
        REQUIRE(get(store, alice, "k") == "v");  // Redis keeps the data: it is shared
    }
    put(store, alice, "after", "close");
    REQUIRE(get(store, alice, "after") == "close");
    run(store.close());
    run(store.close());
    REQUIRE(get(store, alice, "after") == (TestType::close_clears ? std::nullopt : Value("close")));
    put(store, alice, "last", "one");
    REQUIRE(get(store, alice, "last") == "one");
}

namespace {

// One payer's worth of work for the concurrency test; failures are counted,
// not asserted (Catch2 v2 is not thread-safe).
struct Progress {
    explicit Progress(int total) : left(total) {}
    std::atomic<int> failures{0};
    std::atomic<int> left;
    std::promise<void> all_done;
};

x402::session::awaitable<void> worker(AnyStore store, std::string payer, std::shared_ptr<Progress> progress) {
    auto* failures = &progress->failures;
    try {
        for (int i = 0; i < 5; ++i) {
            co_await store.set(payer, "k" + std::to_string(i), payer + ":" + std::to_string(i), {});
        }
        auto value = co_await store.get(payer, "k3");
        if (value != payer + ":3") ++*failures;
        auto all = co_await store.list(payer, ListOptions());
        if (all.entries.size() != 5) ++*failures;
        for (const auto& entry : all.entries) {
            if (!entry.value.starts_with(payer + ":")) ++*failures;
        }
        std::vector<std::string> doomed{"k0", "k1"};
        if (co_await store.erase_many(payer, std::move(doomed)) != 2) ++*failures;
    } catch (const std::exception&) {
        ++*failures;
    }
    // Drop our share of the store before the test may destroy its backend.
    { auto released = std::move(store); }
    if (--progress->left == 0) progress->all_done.set_value();
}

}  // namespace

TEMPLATE_TEST_CASE("conformance: concurrent operations of many payers stay isolated", "[conformance][threads]",
                   BACKENDS) {
    IoThreads clients(4);  // destroyed last: the store's threads post completions to it
    TestType backend;
    constexpr int payers = 200;
    auto progress = std::make_shared<Progress>(payers);
    auto finished = progress->all_done.get_future();
    for (int i = 0; i < payers; ++i) {
        boost::asio::co_spawn(boost::asio::make_strand(clients.io()),
                              worker(backend.store, "0xpayer" + std::to_string(i), progress), boost::asio::detached);
    }
    REQUIRE(finished.wait_for(60s) == std::future_status::ready);
    REQUIRE(progress->failures.load() == 0);
}
