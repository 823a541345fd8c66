// The store of the reference workload, shared by the benchmark programs: an
// InMemoryStore sized to hold every entry, and the awaited writes that fill it.
#pragma once

#include "workload.hpp"

#include <x402/session/in_memory_store.hpp>

#include <cstdint>
#include <memory>

namespace bench {

inline std::shared_ptr<x402::session::InMemoryStore> make_reference_store() {
    x402::session::InMemoryStoreOptions options;
    options.max_entries = static_cast<std::int64_t>(entry_count);
    return std::make_shared<x402::session::InMemoryStore>(options);
}

/// Writes every (payer, key) of the workload, in order.
inline x402::session::awaitable<void> fill(x402::session::InMemoryStore& store) {
    const Workload& w = workload();
    for (std::size_t i = 0; i < entry_count; ++i) {
        co_await store.set(w.payer_of(i), w.key_of(i), w.value_of(i), {});
    }
}

}  // namespace bench
