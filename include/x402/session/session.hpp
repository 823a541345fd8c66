// Session: one payer's view of a store.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/detail/cursor.hpp>
#include <x402/session/detail/page.hpp>
#include <x402/session/detail/payer.hpp>
#include <x402/session/store.hpp>
#include <x402/session/write_set.hpp>

#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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
    Session(std::string payer, AnyStore store) : state_(make_state(std::move(payer), std::move(store), nullptr)) {}

    /// A session in staging mode when `writes` is not null: `set`, `erase`
    /// and the batch forms stage into `writes` instead of writing (each
    /// validated as it is staged), reads see the staged writes over the
    /// store's entries, and `commit(session)` applies them. Also throws
    /// std::invalid_argument("write set belongs to another payer").
    Session(std::string payer, AnyStore store, std::shared_ptr<WriteSet> writes)
        : state_(make_state(std::move(payer), std::move(store), std::move(writes))) {}

    /// A session in staging mode; throws std::invalid_argument("write set
    /// must not be null") for a null `writes`.
    static Session staged(std::string payer, AnyStore store, std::shared_ptr<WriteSet> writes) {
        if (!writes) throw std::invalid_argument("write set must not be null");
        return Session(std::move(payer), std::move(store), std::move(writes));
    }

    /// The write set of a staging session, else null.
    const std::shared_ptr<WriteSet>& write_set() const noexcept { return state_->writes; }

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

    /// True when a live entry was removed (staging: when the key was live
    /// in the staged view).
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
        std::shared_ptr<WriteSet> writes;  // null: writes go straight to the store
    };

    using StatePtr = std::shared_ptr<const State>;

    static awaitable<std::optional<std::string>> get_in(StatePtr state, std::string key) {
        if (state->writes) {
            if (auto staged = state->writes->lookup(key)) co_return std::move(staged->value);
        }
        co_return co_await state->store.get(state->storage_payer, std::move(key));
    }
    static awaitable<void> set_in(StatePtr state, std::string key, std::string value, SetOptions options) {
        if (state->writes) co_return state->writes->set(std::move(key), std::move(value), options);
        co_await state->store.set(state->storage_payer, std::move(key), std::move(value), options);
    }
    static awaitable<bool> erase_in(StatePtr state, std::string key) {
        if (state->writes) {
            std::vector<std::string> keys;
            keys.push_back(std::move(key));
            co_return (co_await staged_erase_many(state, std::move(keys))) == 1;
        }
        co_return co_await state->store.erase(state->storage_payer, std::move(key));
    }
    static awaitable<ListResult> list_in(StatePtr state, ListOptions options) {
        if (state->writes) co_return co_await staged_list(state, std::move(options));
        co_return co_await state->store.list(state->storage_payer, std::move(options));
    }
    static awaitable<std::vector<std::optional<std::string>>> get_many_in(StatePtr state,
                                                                          std::vector<std::string> keys) {
        if (state->writes) co_return co_await staged_get_many(state, std::move(keys));
        co_return co_await state->store.get_many(state->storage_payer, std::move(keys));
    }
    static awaitable<void> set_many_in(StatePtr state, std::vector<Entry> entries, SetOptions options) {
        if (state->writes) co_return state->writes->set_many(std::move(entries), options);
        co_await state->store.set_many(state->storage_payer, std::move(entries), options);
    }
    static awaitable<std::size_t> erase_many_in(StatePtr state, std::vector<std::string> keys) {
        if (state->writes) co_return co_await staged_erase_many(state, std::move(keys));
        co_return co_await state->store.erase_many(state->storage_payer, std::move(keys));
    }

    // Staging mode: the staged view over the store.

    static awaitable<std::vector<std::optional<std::string>>> staged_get_many(StatePtr state,
                                                                              std::vector<std::string> keys) {
        std::vector<std::optional<std::string>> values(keys.size());
        std::vector<std::size_t> unstaged_slots;
        std::vector<std::string> unstaged;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (auto staged = state->writes->lookup(keys[i])) {
                values[i] = std::move(staged->value);
            } else {
                unstaged_slots.push_back(i);
                unstaged.push_back(keys[i]);
            }
        }
        if (unstaged.empty()) co_return values;
        auto stored = co_await state->store.get_many(state->storage_payer, std::move(unstaged));
        for (std::size_t i = 0; i < unstaged_slots.size() && i < stored.size(); ++i) {
            values[unstaged_slots[i]] = std::move(stored[i]);
        }
        co_return values;
    }

    /// Stages the erases; counts the keys live in the staged view (a key
    /// repeated in `keys` is live at most once).
    static awaitable<std::size_t> staged_erase_many(StatePtr state, std::vector<std::string> keys) {
        auto values = co_await staged_get_many(state, keys);
        std::map<std::string_view, bool> seen;
        std::size_t live = 0;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (seen.emplace(keys[i], true).second && values[i].has_value()) ++live;
        }
        state->writes->erase_many(std::move(keys));
        co_return live;
    }

    /// The store's pages merged with the staged keys, in key order: a staged
    /// key replaces the store's entry or, erased, hides it. The merged page
    /// keeps the store's PageLimits. Requires the store's cursors to be
    /// positions in the codec of detail/cursor.hpp (as InMemoryStore's and
    /// RedisStore's are).
    static awaitable<ListResult> staged_list(StatePtr state, ListOptions options) {
        const std::optional<std::string> after = detail::decode_cursor(options.cursor);
        std::optional<std::string_view> after_view;
        if (after) after_view = *after;
        const std::vector<StagedKey> staged = state->writes->range(options.prefix, after_view);

        detail::PageBuilder merged(state->store.page_limits(), options.limit, options.keys_only);
        ListOptions page_options;
        page_options.prefix = options.prefix;
        page_options.cursor = options.cursor;
        page_options.keys_only = options.keys_only;
        // Full store pages: the write set may hide many of the store's
        // entries, and each page is a round trip.
        page_options.limit = 0;

        std::vector<Entry> page;
        std::size_t in_page = 0;
        bool store_done = false;
        std::size_t next_staged = 0;
        bool full = false;  // stopped before a live entry that did not fit
        while (!full) {
            while (in_page == page.size() && !store_done) {
                ListResult fetched = co_await state->store.list(state->storage_payer, page_options);
                page = std::move(fetched.entries);
                in_page = 0;
                store_done = !fetched.cursor.has_value();
                if (fetched.cursor) page_options.cursor = std::move(*fetched.cursor);
            }
            const Entry* from_store = in_page < page.size() ? &page[in_page] : nullptr;
            const StagedKey* from_staged = next_staged < staged.size() ? &staged[next_staged] : nullptr;
            if (from_store == nullptr && from_staged == nullptr) break;

            if (from_staged != nullptr && (from_store == nullptr || from_staged->key <= from_store->key)) {
                if (!from_staged->value) {  // erased in the write set
                    if (from_store != nullptr && from_staged->key == from_store->key) ++in_page;
                    ++next_staged;
                    continue;
                }
                if (!merged.fits(from_staged->key, from_staged->value->size())) {
                    full = true;
                    continue;
                }
                if (from_store != nullptr && from_staged->key == from_store->key) ++in_page;
                ++next_staged;
                merged.add(from_staged->key, *from_staged->value);
            } else {
                if (!merged.fits(from_store->key, from_store->value.size())) {
                    full = true;
                    continue;
                }
                merged.add(std::move(page[in_page].key), std::move(page[in_page].value));
                ++in_page;
            }
        }
        co_return full ? std::move(merged).finish_with_cursor() : std::move(merged).finish();
    }

    static std::shared_ptr<const State> make_state(std::string payer, AnyStore store,
                                                   std::shared_ptr<WriteSet> writes) {
        if (payer.empty()) throw std::invalid_argument("payer must not be empty");
        std::string storage_payer = detail::normalise_payer(payer);
        if (writes) writes->bind_payer(storage_payer);
        return std::make_shared<const State>(
            State{std::move(payer), std::move(storage_payer), std::move(store), std::move(writes)});
    }

    std::shared_ptr<const State> state_;
};

/// Applies the session's staged writes to its store as one atomic
/// `AnyStore::apply`, then forgets them; they stay staged if it throws
/// (std::logic_error("store has no atomic apply") for a store without one,
/// or whatever the store's apply rejects, the store unchanged). Does nothing
/// for an empty write set or a session that is not staging.
inline awaitable<void> commit(Session session) {
    const std::shared_ptr<WriteSet> writes = session.write_set();
    if (!writes) co_return;
    std::vector<Write> staged = writes->writes();
    if (staged.empty()) co_return;
    const std::size_t count = staged.size();
    co_await session.store().apply(session.storage_payer(), std::move(staged));
    writes->discard_first(count);
}

/// As commit(session), with the server's own `records` for the session's
/// payer in the same atomic apply (the staged writes first), so a record
/// exists exactly when the writes it accounts for do. Also for a session
/// that is not staging. Throws std::logic_error("store has no ledger"),
/// changing nothing, when records are given to a store without a ledger.
inline awaitable<void> commit(Session session, std::vector<LedgerWrite> records) {
    if (!records.empty() && !session.store().has_ledger()) throw std::logic_error("store has no ledger");
    const std::shared_ptr<WriteSet> writes = session.write_set();
    std::vector<Write> staged;
    if (writes) staged = writes->writes();
    const std::size_t count = staged.size();
    staged.reserve(count + records.size());
    for (auto& record : records) staged.emplace_back(std::move(record));
    if (staged.empty()) co_return;
    co_await session.store().apply(session.storage_payer(), std::move(staged));
    if (writes) writes->discard_first(count);
}

}  // namespace x402::session
