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

    // Each operation copies the shared state *now*, before returning: an
    // awaitable starts only when awaited, and by then the Session it came
    // from may be gone (e.g. `auto op = get_session()->get("k"); co_await op;`).

    awaitable<std::optional<std::string>> get(std::string key) const { return get_in(state_, std::move(key)); }

    /// Throws std::invalid_argument for a negative TTL (and whatever else the store rejects).
    awaitable<void> set(std::string key, std::string value, SetOptions options = {}) const {
        return set_in(state_, std::move(key), std::move(value), options);
    }

    /// True when a live entry was removed.
    awaitable<bool> erase(std::string key) const { return erase_in(state_, std::move(key)); }

    awaitable<ListResult> list(ListOptions options = {}) const { return list_in(state_, std::move(options)); }

    /// One slot per key, in order; the store's own batch or a get per key.
    awaitable<std::vector<std::optional<std::string>>> get_many(std::vector<std::string> keys) const {
        return get_many_in(state_, std::move(keys));
    }

    awaitable<void> set_many(std::vector<Entry> entries, SetOptions options = {}) const {
        return set_many_in(state_, std::move(entries), options);
    }

    /// How many live entries were removed.
    awaitable<std::size_t> erase_many(std::vector<std::string> keys) const {
        return erase_many_in(state_, std::move(keys));
    }

private:
    struct State {
        std::string payer;
        std::string storage_payer;
        AnyStore store;
    };

    using StatePtr = std::shared_ptr<const State>;

    static awaitable<std::optional<std::string>> get_in(StatePtr state, std::string key) {
        co_return co_await state->store.get(state->storage_payer, std::move(key));
    }
    static awaitable<void> set_in(StatePtr state, std::string key, std::string value, SetOptions options) {
        co_await state->store.set(state->storage_payer, std::move(key), std::move(value), options);
    }
    static awaitable<bool> erase_in(StatePtr state, std::string key) {
        co_return co_await state->store.erase(state->storage_payer, std::move(key));
    }
    static awaitable<ListResult> list_in(StatePtr state, ListOptions options) {
        co_return co_await state->store.list(state->storage_payer, std::move(options));
    }
    static awaitable<std::vector<std::optional<std::string>>> get_many_in(StatePtr state,
                                                                          std::vector<std::string> keys) {
        co_return co_await state->store.get_many(state->storage_payer, std::move(keys));
    }
    static awaitable<void> set_many_in(StatePtr state, std::vector<Entry> entries, SetOptions options) {
        co_await state->store.set_many(state->storage_payer, std::move(entries), options);
    }
    static awaitable<std::size_t> erase_many_in(StatePtr state, std::vector<std::string> keys) {
        co_return co_await state->store.erase_many(state->storage_payer, std::move(keys));
    }

    static std::shared_ptr<const State> make_state(std::string payer, AnyStore store) {
        if (payer.empty()) throw std::invalid_argument("payer must not be empty");
        std::string storage_payer = detail::normalise_payer(payer);
        return std::make_shared<const State>(State{std::move(payer), std::move(storage_payer), std::move(store)});
    }

    std::shared_ptr<const State> state_;
};

}  // namespace x402::session
