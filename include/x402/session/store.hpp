// The Store concept: what a session backend must offer, and the
// option and result types every store shares.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace x402::session {

template <class T>
using awaitable = boost::asio::awaitable<T>;

/// Options of one write. An aggregate of trivially copyable members, so
/// `set(k, v, {.ttl = 5s})` is safe inside co_await also on g++ 12.
struct SetOptions {
    /// Time to live of the written entries. Unset: the store's default;
    /// `0ms`: never expires; negative: rejected with `std::invalid_argument`.
    std::optional<std::chrono::milliseconds> ttl{};
};
static_assert(std::is_trivially_copyable_v<SetOptions>, "see the comment at ListOptions");

/// Options of one `list` call.
///
///     co_await session.list(ListOptions().with_prefix("chat:").with_limit(10));
///
/// Not an aggregate on purpose: g++ 12 miscompiles a braced aggregate
/// temporary with string members inside a co_await expression (it copies the
/// strings bitwise and frees them twice), so `list({.limit = 10})` must not
/// compile. `list({})`, a named ListOptions and the setters below are safe.
struct ListOptions {
    ListOptions() noexcept {}

    /// Only keys that start with these bytes (empty: every key).
    std::string prefix;
    /// Where the previous page ended (`ListResult::cursor`); empty: from the start.
    std::string cursor;
    /// Most entries in the page; 0: a full page. Clamped to the store's
    /// PageLimits::max_entries, and a page also stops at its byte cap.
    std::size_t limit = 0;
    /// Return the keys with empty values.
    bool keys_only = false;

    ListOptions& with_prefix(std::string value) & { prefix = std::move(value); return *this; }
    ListOptions& with_cursor(std::string value) & { cursor = std::move(value); return *this; }
    ListOptions& with_limit(std::size_t value) & noexcept { limit = value; return *this; }
    ListOptions& with_keys_only(bool value = true) & noexcept { keys_only = value; return *this; }
    ListOptions&& with_prefix(std::string value) && { return std::move(with_prefix(std::move(value))); }
    ListOptions&& with_cursor(std::string value) && { return std::move(with_cursor(std::move(value))); }
    ListOptions&& with_limit(std::size_t value) && noexcept { return std::move(with_limit(value)); }
    ListOptions&& with_keys_only(bool value = true) && noexcept { return std::move(with_keys_only(value)); }
};

/// One key and its value. Not an aggregate, for the g++ 12 reason given at
/// ListOptions: `set_many({{"a", "1"}, {"b", "2"}})` is safe inside co_await.
struct Entry {
    Entry() noexcept {}
    Entry(std::string entry_key, std::string entry_value) noexcept
        : key(std::move(entry_key)), value(std::move(entry_value)) {}

    std::string key;
    std::string value;

    friend bool operator==(const Entry&, const Entry&) = default;
};

/// One page of a payer's entries.
struct ListResult {
    /// The page, in ascending byte order of key.
    std::vector<Entry> entries;
    /// Set only when at least one more matching live entry exists: pass it as
    /// `ListOptions::cursor` to get the next page.
    std::optional<std::string> cursor;

    friend bool operator==(const ListResult&, const ListResult&) = default;
};

/// How much one `list` page may hold, so that no listing makes a server hold
/// more than a bounded answer however much a payer has stored. A page ends
/// after `max_entries` entries (a larger ListOptions::limit is clamped, 0
/// asks for this many), or before the entry that would take its key + value
/// bytes past `max_bytes`; the first entry always comes, even alone above
/// the byte cap, so paging always advances. The cursor gives the rest.
/// Stores that have `page_limits()` (StoreWithPageLimits) apply their own;
/// AnyStore clamps the limit of any other store to PageLimits{}.max_entries.
struct PageLimits {
    /// Must be >= 1 ("max_page_entries must be >= 1").
    std::size_t max_entries = 1000;
    /// Key + value bytes (key bytes only with keys_only). Must be >= 1
    /// ("max_page_bytes must be >= 1").
    std::size_t max_bytes = 1024 * 1024;

    friend bool operator==(const PageLimits&, const PageLimits&) = default;
};

/// Throws std::invalid_argument unless both limits are >= 1.
inline PageLimits checked_page_limits(PageLimits limits) {
    if (limits.max_entries == 0) throw std::invalid_argument("max_page_entries must be >= 1");
    if (limits.max_bytes == 0) throw std::invalid_argument("max_page_bytes must be >= 1");
    return limits;
}

/// One staged write of a write set (write_set.hpp): store `value` under `key`.
/// Not an aggregate, for the g++ 12 reason given at ListOptions.
struct SetWrite {
    SetWrite() noexcept {}
    SetWrite(std::string write_key, std::string write_value, SetOptions write_options = {}) noexcept
        : key(std::move(write_key)), value(std::move(write_value)), options(write_options) {}

    std::string key;
    std::string value;
    SetOptions options;

    friend bool operator==(const SetWrite& a, const SetWrite& b) {
        return a.key == b.key && a.value == b.value && a.options.ttl == b.options.ttl;
    }
};

/// One staged write: remove `key` (a no-op when it is not live).
struct EraseWrite {
    EraseWrite() noexcept {}
    explicit EraseWrite(std::string write_key) noexcept : key(std::move(write_key)) {}

    std::string key;

    friend bool operator==(const EraseWrite&, const EraseWrite&) = default;
};

/// One staged write to the payer's ledger: the server's own record `key`
/// (a payment identifier's answer; later credits, entitlements, sign-in
/// nonces) holding `value`, which expires `ttl` after the write.
///
/// The ledger is a space of its own beside the payer's session entries: no
/// Session operation reaches it (WriteSet stages only SetWrite and
/// EraseWrite), `list` never shows it, a ledger key never collides with a
/// session key of the same bytes, and the store's default TTL, per-payer cap
/// and LRU do not apply to it. Only `apply` writes it, so a record and the
/// handler's writes commit together; `get_ledger` (StoreWithLedger) reads it.
/// A ttl <= 0 is rejected with std::invalid_argument("ledger ttl must be >
/// 0"): every record expires. Not an aggregate, for the g++ 12 reason given
/// at ListOptions.
struct LedgerWrite {
    LedgerWrite() noexcept {}
    LedgerWrite(std::string record_key, std::string record_value, std::chrono::milliseconds record_ttl) noexcept
        : key(std::move(record_key)), value(std::move(record_value)), ttl(record_ttl) {}

    std::string key;
    std::string value;
    std::chrono::milliseconds ttl{};

    friend bool operator==(const LedgerWrite&, const LedgerWrite&) = default;
};

/// One write of an atomic `apply`. The extension point for conditional writes
/// (a counter with a floor, a compare-and-set): each becomes one more
/// alternative here, evaluated by `apply` against the state the earlier writes
/// of the same call leave, and a failed condition makes the whole call throw
/// before anything changes. Every visitor of a Write is exhaustive, so a new
/// alternative does not compile until every store and the write set handle it.
using Write = std::variant<SetWrite, EraseWrite, LedgerWrite>;

/// The key a write is about: a session key, or a ledger key for a
/// LedgerWrite (the two spaces are separate; see is_ledger_write).
inline const std::string& write_key(const Write& write) noexcept {
    return std::visit([](const auto& w) -> const std::string& { return w.key; }, write);
}

/// True for a write to the payer's ledger rather than to its session entries.
inline bool is_ledger_write(const Write& write) noexcept { return std::holds_alternative<LedgerWrite>(write); }

/// Throws std::invalid_argument("ledger ttl must be > 0") unless `write`'s
/// ttl is positive; every store checks it before changing anything.
inline void check_ledger_write(const LedgerWrite& write) {
    if (write.ttl.count() <= 0) throw std::invalid_argument("ledger ttl must be > 0");
}

/// A session backend: `(payer, key) -> value` with the four required
/// operations. Every operation is a coroutine; strings are taken by value so
/// that no argument can dangle across a suspension.
///
///     static_assert(x402::session::Store<MyRedisStore>);
template <class S>
concept Store = requires(S& store, std::string payer, std::string key, std::string value,
                         SetOptions set_options, ListOptions list_options) {
    { store.get(payer, key) } -> std::same_as<awaitable<std::optional<std::string>>>;
    { store.set(payer, key, value, set_options) } -> std::same_as<awaitable<void>>;
    { store.erase(payer, key) } -> std::same_as<awaitable<bool>>;
    { store.list(payer, list_options) } -> std::same_as<awaitable<ListResult>>;
};

/// The optional `get_many`: one slot per requested key, in request order.
template <class S>
concept StoreWithGetMany = Store<S> && requires(S& store, std::string payer,
                                                std::vector<std::string> keys) {
    { store.get_many(payer, keys) } -> std::same_as<awaitable<std::vector<std::optional<std::string>>>>;
};

/// The optional `set_many`: the entries are written in the given order.
template <class S>
concept StoreWithSetMany = Store<S> && requires(S& store, std::string payer,
                                                std::vector<Entry> entries, SetOptions options) {
    { store.set_many(payer, entries, options) } -> std::same_as<awaitable<void>>;
};

/// The optional `erase_many`: returns how many live entries were removed.
template <class S>
concept StoreWithEraseMany = Store<S> && requires(S& store, std::string payer,
                                                  std::vector<std::string> keys) {
    { store.erase_many(payer, keys) } -> std::same_as<awaitable<std::size_t>>;
};

/// The optional `apply`: the writes, in order, as one atomic step, all or
/// nothing; visible to other callers at once. Throws (changing nothing) when
/// any write would be rejected or, later, when a condition fails.
template <class S>
concept StoreWithApply = Store<S> && requires(S& store, std::string payer, std::vector<Write> writes) {
    { store.apply(payer, writes) } -> std::same_as<awaitable<void>>;
};

/// The optional ledger (see LedgerWrite): `apply` writes its records and
/// `get_ledger` reads one, the live value or nullopt. Stores without it may
/// still be used for sessions; a server feature that keeps records (payment
/// identifiers) needs it.
template <class S>
concept StoreWithLedger = StoreWithApply<S> && requires(S& store, std::string payer, std::string key) {
    { store.get_ledger(payer, key) } -> std::same_as<awaitable<std::optional<std::string>>>;
};

/// The optional `page_limits()`: the caps the store puts on every page.
template <class S>
concept StoreWithPageLimits = Store<S> && requires(const S& store) {
    { store.page_limits() } -> std::convertible_to<PageLimits>;
};

/// The optional `close`: releases what the store holds (connections, data).
template <class S>
concept StoreWithClose = Store<S> && requires(S& store) {
    { store.close() } -> std::same_as<awaitable<void>>;
};

}  // namespace x402::session
