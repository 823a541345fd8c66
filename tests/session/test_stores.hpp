// User-written stores for the tests of the Store concept, AnyStore, Session
// and SessionPlugin (store_concept.cpp, session.cpp):
//  - MinimalStore: only the four required operations, its own std::map;
//  - RecordingStore: only the four required operations, recording every call
//    as a string ("set:0xalice:k:v", as the upstream tests do), data kept in
//    an InMemoryStore;
//  - NativeBatchStore: a RecordingStore that also has every optional
//    operation, recording "get_many:...", "set_many:...", "erase_many:...",
//    "close".
// Everything is inline in namespace test_stores, so the header can be
// included by several translation units of one executable.
#pragma once

#include <x402/session/in_memory_store.hpp>
#include <x402/session/store.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace test_stores {

using x402::session::awaitable;
using x402::session::Entry;
using x402::session::ListOptions;
using x402::session::ListResult;
using x402::session::SetOptions;

/// A store as a user would write it: the four required operations and no
/// more. Entries never expire (the TTL is checked and otherwise ignored);
/// `list` honours prefix, keys_only, limit and cursor (the cursor is the last
/// key returned, which is good enough for a test double).
class MinimalStore {
public:
    awaitable<std::optional<std::string>> get(std::string payer, std::string key) {
        auto it = entries_.find({payer, key});
        if (it == entries_.end()) co_return std::nullopt;
        co_return it->second;
    }

    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) {
        if (options.ttl && options.ttl->count() < 0) throw std::invalid_argument("ttl must be >= 0");
        entries_[{std::move(payer), std::move(key)}] = std::move(value);
        co_return;
    }

    awaitable<bool> erase(std::string payer, std::string key) {
        co_return entries_.erase({payer, key}) == 1;
    }

    awaitable<ListResult> list(std::string payer, ListOptions options) {
        ListResult result;
        auto it = entries_.upper_bound({payer, options.cursor});
        if (options.cursor.empty()) it = entries_.lower_bound({payer, std::string()});
        for (; it != entries_.end() && it->first.first == payer; ++it) {
            const std::string& key = it->first.second;
            if (key.compare(0, options.prefix.size(), options.prefix) != 0) continue;
            if (options.limit != 0 && result.entries.size() == options.limit) {
                result.cursor = result.entries.back().key;
                break;
            }
            result.entries.emplace_back(key, options.keys_only ? std::string() : it->second);
        }
        co_return result;
    }

    std::size_t size() const noexcept { return entries_.size(); }

private:
    std::map<std::pair<std::string, std::string>, std::string> entries_;
};

/// The four required operations, each recorded before it runs on an
/// InMemoryStore with default options.
class RecordingStore {
public:
    /// Every call in order: "get:P:K", "set:P:K:V", "erase:P:K", "list:P".
    std::vector<std::string> calls;

    awaitable<std::optional<std::string>> get(std::string payer, std::string key) {
        calls.push_back("get:" + payer + ":" + key);
        co_return co_await data_.get(std::move(payer), std::move(key));
    }

    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) {
        calls.push_back("set:" + payer + ":" + key + ":" + value);
        co_await data_.set(std::move(payer), std::move(key), std::move(value), options);
    }

    awaitable<bool> erase(std::string payer, std::string key) {
        calls.push_back("erase:" + payer + ":" + key);
        co_return co_await data_.erase(std::move(payer), std::move(key));
    }

    awaitable<ListResult> list(std::string payer, ListOptions options) {
        calls.push_back("list:" + payer);
        co_return co_await data_.list(std::move(payer), std::move(options));
    }

protected:
    x402::session::InMemoryStore data_;
};

/// A RecordingStore with every optional operation, each recorded as one call
/// ("get_many:P:K1,K2", "set_many:P:K1=V1,K2=V2", "erase_many:P:K1,K2",
/// "close"), so a test sees whether the native operation or a fallback ran.
class NativeBatchStore : public RecordingStore {
public:
    awaitable<std::vector<std::optional<std::string>>> get_many(std::string payer, std::vector<std::string> keys) {
        calls.push_back("get_many:" + payer + ":" + joined(keys));
        co_return co_await data_.get_many(std::move(payer), std::move(keys));
    }

    awaitable<void> set_many(std::string payer, std::vector<Entry> entries, SetOptions options) {
        std::string text;
        for (const auto& entry : entries) text += (text.empty() ? "" : ",") + entry.key + "=" + entry.value;
        calls.push_back("set_many:" + payer + ":" + text);
        co_await data_.set_many(std::move(payer), std::move(entries), options);
    }

    awaitable<std::size_t> erase_many(std::string payer, std::vector<std::string> keys) {
        calls.push_back("erase_many:" + payer + ":" + joined(keys));
        co_return co_await data_.erase_many(std::move(payer), std::move(keys));
    }

    awaitable<void> close() {
        calls.push_back("close");
        co_await data_.close();
    }

private:
    static std::string joined(const std::vector<std::string>& keys) {
        std::string text;
        for (const auto& key : keys) text += (text.empty() ? "" : ",") + key;
        return text;
    }
};

}  // namespace test_stores
