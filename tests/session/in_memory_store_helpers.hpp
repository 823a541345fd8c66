// Helpers shared by the InMemoryStore test files (in_memory_store_*.cpp):
// plain-function wrappers that run the store's coroutines through the bounded
// test_support::run, option builders, snapshots and the eviction-order probe.
#pragma once

#include <x402/session/in_memory_store.hpp>

#include "../support.hpp"

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

namespace in_memory_tests {

/// Printable form of a byte string for failure messages: bytes outside
/// printable ASCII (and the backslash) as \xNN.
inline std::string escaped(const std::string& bytes) {
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

}  // namespace in_memory_tests

namespace Catch {
template <>
struct StringMaker<x402::session::Entry> {
    static std::string convert(const x402::session::Entry& entry) {
        return "{" + in_memory_tests::escaped(entry.key) + ": " + in_memory_tests::escaped(entry.value) + "}";
    }
};
}  // namespace Catch

namespace in_memory_tests {

using Value = std::optional<std::string>;
using Entries = std::vector<Entry>;

// Plain-function wrappers: every test body runs the store's coroutines to
// completion through test_support::run, so no test writes a co_await.

inline Value get(InMemoryStore& store, std::string payer, std::string key) {
    return run(store.get(std::move(payer), std::move(key)));
}

inline void put(InMemoryStore& store, std::string payer, std::string key, std::string value, SetOptions options = {}) {
    run(store.set(std::move(payer), std::move(key), std::move(value), options));
}

inline SetOptions ttl_of(std::chrono::milliseconds ttl) {
    SetOptions options;
    options.ttl = ttl;
    return options;
}

inline bool erase(InMemoryStore& store, std::string payer, std::string key) {
    return run(store.erase(std::move(payer), std::move(key)));
}

inline ListResult list(InMemoryStore& store, std::string payer, ListOptions options = ListOptions()) {
    return run(store.list(std::move(payer), std::move(options)));
}

inline ListResult list_after(InMemoryStore& store, std::string payer, std::string cursor) {
    ListOptions options;
    options.cursor = std::move(cursor);
    return list(store, std::move(payer), std::move(options));
}

inline Entries entries(InMemoryStore& store, std::string payer) { return list(store, std::move(payer)).entries; }

inline std::vector<Value> get_many(InMemoryStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.get_many(std::move(payer), std::move(keys)));
}

inline void put_many(InMemoryStore& store, std::string payer, Entries batch, SetOptions options = {}) {
    run(store.set_many(std::move(payer), std::move(batch), options));
}

inline std::size_t erase_many(InMemoryStore& store, std::string payer, std::vector<std::string> keys) {
    return run(store.erase_many(std::move(payer), std::move(keys)));
}

inline void close_store(InMemoryStore& store) { run(store.close()); }

inline InMemoryStoreOptions options_of(std::int64_t max_entries, std::chrono::milliseconds ttl, const ManualClock& clock) {
    InMemoryStoreOptions options;
    options.max_entries = max_entries;
    options.ttl = ttl;
    options.clock = clock.function();
    return options;
}

inline void construct(InMemoryStoreOptions options) {
    InMemoryStore store(std::move(options));
    static_cast<void>(store.size());
}

inline ListResult result_of(Entries page, std::optional<std::string> cursor = std::nullopt) {
    ListResult result;
    result.entries = std::move(page);
    result.cursor = std::move(cursor);
    return result;
}

inline std::vector<std::string> keys_of(const Entries& page) {
    std::vector<std::string> keys;
    for (const auto& entry : page) keys.push_back(entry.key);
    return keys;
}

inline bool printable_ascii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

/// The whole observable state of the given payers, without touching recency or TTL.
struct Snapshot {
    std::map<std::string, Entries> lists;
    std::size_t size = 0;
    std::size_t bytes = 0;
};

inline Snapshot snapshot(InMemoryStore& store, const std::vector<std::string>& payers) {
    Snapshot state;
    for (const auto& payer : payers) state.lists[payer] = entries(store, payer);
    state.size = store.size();
    state.bytes = store.bytes();
    return state;
}

inline void require_same(const Snapshot& now, const Snapshot& before) {
    for (const auto& [payer, page] : before.lists) {
        INFO("payer " << escaped(payer));
        REQUIRE(now.lists.at(payer) == page);
    }
    REQUIRE(now.size == before.size);
    REQUIRE(now.bytes == before.bytes);
}

/// "payer/key" of every live entry of the given payers.
inline std::set<std::string> live_addresses(InMemoryStore& store, const std::vector<std::string>& payers) {
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
inline std::vector<std::string> eviction_order(InMemoryStore& store, const std::vector<std::string>& payers) {
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

}  // namespace in_memory_tests
