// The optional Store operations, called natively when the store has them and
// otherwise built from the required single-key ones. The native
// overloads forward the store's own awaitable, adding no coroutine frame.
#pragma once

#include <x402/session/store.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace x402::session::detail {

template <StoreWithGetMany S>
awaitable<std::vector<std::optional<std::string>>> get_many(S& store, std::string payer,
                                                            std::vector<std::string> keys) {
    return store.get_many(std::move(payer), std::move(keys));
}

template <Store S>
awaitable<std::vector<std::optional<std::string>>> get_many(S& store, std::string payer,
                                                            std::vector<std::string> keys) {
    std::vector<std::optional<std::string>> values;
    values.reserve(keys.size());
    for (auto& key : keys) values.push_back(co_await store.get(payer, std::move(key)));
    co_return values;
}

template <StoreWithSetMany S>
awaitable<void> set_many(S& store, std::string payer, std::vector<Entry> entries, SetOptions options) {
    return store.set_many(std::move(payer), std::move(entries), options);
}

template <Store S>
awaitable<void> set_many(S& store, std::string payer, std::vector<Entry> entries, SetOptions options) {
    // Reject bad options before the first write, as a native batch would.
    if (options.ttl && options.ttl->count() < 0) throw std::invalid_argument("ttl must be >= 0");
    for (auto& entry : entries) {
        co_await store.set(payer, std::move(entry.key), std::move(entry.value), options);
    }
}

template <StoreWithEraseMany S>
awaitable<std::size_t> erase_many(S& store, std::string payer, std::vector<std::string> keys) {
    return store.erase_many(std::move(payer), std::move(keys));
}

template <Store S>
awaitable<std::size_t> erase_many(S& store, std::string payer, std::vector<std::string> keys) {
    std::size_t removed = 0;
    for (auto& key : keys) removed += (co_await store.erase(payer, std::move(key))) ? 1 : 0;
    co_return removed;
}

template <StoreWithClose S>
awaitable<void> close(S& store) {
    return store.close();
}

template <Store S>
awaitable<void> close(S&) {
    co_return;
}

}  // namespace x402::session::detail
