// Session: one payer's view of a store (SPEC §5).
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/detail/payer.hpp>
#include <x402/session/store.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace x402::session {

/// A small copyable handle bound to one payer and one store. Every operation
/// forwards to the store under the normalised payer: an EVM address
/// (`0x` + 40 hex digits) is lower-cased, so its checksummed and lower-case
/// forms share one session; any other payer format is kept byte for byte.
///
/// A Session keeps its store alive, also while one of its operations runs.
/// Thread-safe as far as the store is.
///
///     if (auto session = x402::session::get_session()) {
///         co_await session->set("color", "blue");
///     }
class Session {
public:
    /// Throws std::invalid_argument("payer must not be empty"): no session
    /// can exist for nobody.
    Session(std::string payer, AnyStore store) : state_(make_state(std::move(payer), std::move(store))) {}

    /// The payer as given (for display), e.g. an EIP-55 checksummed address.
    const std::string& payer() const noexcept { return state_->payer; }

    /// The payer the store sees.
    const std::string& storage_payer() const noexcept { return state_->storage_payer; }

    const AnyStore& store() const noexcept { return state_->store; }

    awaitable<std::optional<std::string>> get(std::string key) const {
        auto state = state_;
        co_return co_await state->store.get(state->storage_payer, std::move(key));
    }

    /// Throws std::invalid_argument for a negative TTL (and whatever else the store rejects).
    awaitable<void> set(std::string key, std::string value, SetOptions options = {}) const {
        auto state = state_;
        co_await state->store.set(state->storage_payer, std::move(key), std::move(value), options);
    }

    /// True when a live entry was removed.
    awaitable<bool> erase(std::string key) const {
        auto state = state_;
        co_return co_await state->store.erase(state->storage_payer, std::move(key));
    }

    awaitable<ListResult> list(ListOptions options = {}) const {
        auto state = state_;
        co_return co_await state->store.list(state->storage_payer, std::move(options));
    }

    /// One slot per key, in order; the store's own batch or a get per key.
    awaitable<std::vector<std::optional<std::string>>> get_many(std::vector<std::string> keys) const {
        auto state = state_;
        co_return co_await state->store.get_many(state->storage_payer, std::move(keys));
    }

    awaitable<void> set_many(std::vector<Entry> entries, SetOptions options = {}) const {
        auto state = state_;
        co_await state->store.set_many(state->storage_payer, std::move(entries), options);
    }

    /// How many live entries were removed.
    awaitable<std::size_t> erase_many(std::vector<std::string> keys) const {
        auto state = state_;
        co_return co_await state->store.erase_many(state->storage_payer, std::move(keys));
    }

private:
    struct State {
        std::string payer;
        std::string storage_payer;
        AnyStore store;
    };

    static std::shared_ptr<const State> make_state(std::string payer, AnyStore store) {
        if (payer.empty()) throw std::invalid_argument("payer must not be empty");
        std::string storage_payer = detail::normalise_payer(payer);
        return std::make_shared<const State>(State{std::move(payer), std::move(storage_payer), std::move(store)});
    }

    std::shared_ptr<const State> state_;
};

}  // namespace x402::session
