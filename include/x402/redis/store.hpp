// RedisStore: a Store on Redis (standalone or Redis Cluster), so sessions
// outlive a process and are shared by every server instance.
//
// Needs hiredis (target x402::redis); the umbrella <x402/session.hpp>
// does not include this header.
//
// Data layout, for key prefix P (RedisStoreOptions::key_prefix) and payer p:
//   P:{p<hex of p>}:i        sorted set, the payer's index: members are the raw
//                            keys, all with score 0, so ZRANGEBYLEX orders them
//                            by bytes
//   P:{p<hex of p>}:v:<key>  hash {v: value, t: the entry's own TTL in ms}
//                            with PEXPIRE (none when the TTL is 0)
//   P:{p<hex of p>}:l:<key>  string, the payer's ledger record <key>
//                            (session::LedgerWrite), always with PEXPIRE;
//                            never in the index, so `list` never meets it
// The payer is hex-encoded and the key comes last after a fixed separator, so
// no two (payer, key) pairs share a Redis key; the hash tag `{p<hex>}` puts
// all of a payer's data in one cluster slot (a payer holding `{` or `}`, or
// the empty payer, cannot break it). Every operation is one Lua script
// (EVALSHA, falling back to EVAL on NOSCRIPT), so it is atomic and takes one
// round trip; batches are one script each.
//
// Differences from InMemoryStore, all deliberate:
//  - No max_entries, max_entries_per_payer, max_bytes and no LRU: memory is
//    bounded by Redis' own `maxmemory` and `maxmemory-policy`. An evicting
//    policy (volatile-lru, allkeys-lru) suits session data alone, but then
//    replay claims must live in a Redis of their own, since an evicted claim
//    lets a payment in twice (RedisReplayGuard::require_durable refuses it);
//    likewise the ledger's records (require_durable_ledger).
//    An eviction may drop an entry's hash before its index member: `list`
//    skips and removes such members.
//  - Expiry uses Redis' clock (millisecond PEXPIRE) rather than an injected
//    clock; TTLs above 100 years are clamped to 100 years.
//  - `close()` drops the connections but keeps the data (it is shared with
//    other processes); the store stays usable and reconnects on next use.
//  - Index members of expired entries are removed lazily, by `list`; the
//    index itself expires with the payer's longest-lived entry.
//  - I/O can fail: operations throw redis::RedisConnectionError (no reply:
//    connect failure, lost connection, timeout) or redis::RedisError (an
//    error reply, with the server's message). A failed write may or may not
//    have been applied.
// Same as InMemoryStore: keys in ascending byte order, robust `c:<hex>`
// cursors, negative TTL -> std::invalid_argument("ttl must be >= 0") and a
// malformed cursor -> std::invalid_argument("malformed list cursor"), both
// before any I/O; `erase` is true only for a live entry; batches atomic.
//
// Thread-safety: every operation may be called from any thread and any
// executor at once; each completes through the awaiting coroutine's executor.
//
//     boost::asio::io_context io;
//     x402::redis::RedisStore store(io.get_executor(), "redis://127.0.0.1:6379/0");
//     co_await store.set("0xabc...", "color", "blue", {});
#pragma once

#include <x402/session/context.hpp>
#include <x402/session/detail/cursor.hpp>
#include <x402/redis/client.hpp>
#include <x402/redis/config.hpp>
#include <x402/redis/error.hpp>
#include <x402/redis/eviction.hpp>
#include <x402/redis/reply.hpp>
#include <x402/redis/scripts.hpp>
#include <x402/session/store.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace x402::redis {

template <class T>
using awaitable = session::awaitable<T>;
using session::Entry;
using session::ListOptions;
using session::ListResult;
using session::PageLimits;
using session::SetOptions;

/// Options of a RedisStore; checked in this order by its constructor.
struct RedisStoreOptions {
    /// Default time to live; each `get` hit slides it. `0ms`: never expires.
    /// Must be >= 0 ("ttl must be >= 0").
    std::chrono::milliseconds ttl = std::chrono::hours(1);
    /// Prefix of every Redis key the store writes; must not contain `{` or `}`
    /// ("key_prefix must not contain { or }").
    std::string key_prefix = "x402:session";
    /// How much one `list` page holds (see PageLimits; both must be >= 1).
    PageLimits page_limits{};
};

/// A Store on Redis or Redis Cluster (see the top of this header).
class RedisStore {
public:
    /// The longest TTL Redis is given; longer ones are clamped to it.
    static constexpr std::chrono::milliseconds max_ttl = std::chrono::hours(24 * 365 * 100);

    /// Connects lazily to the server(s) of `url` (redis://... or
    /// redis+cluster://..., see redis::parse_url). `executor` must be a plain
    /// executor (e.g. io_context::get_executor()), never a payer's
    /// ContextExecutor: the connections are shared by all payers (refused at
    /// compile time, and at run time for an any_io_executor holding one).
    /// Throws std::invalid_argument for a bad URL or option.
    template <session::plain_executor Executor>
    RedisStore(const Executor& executor, std::string_view url, RedisStoreOptions options = {})
        : RedisStore(boost::asio::any_io_executor(executor), redis::parse_url(url), std::move(options)) {}

    /// As above, from a parsed (and possibly adjusted) configuration.
    template <session::plain_executor Executor>
    RedisStore(const Executor& executor, redis::Config config, RedisStoreOptions options = {})
        : default_ttl_(checked_ttl(options.ttl)),
          prefix_(checked_prefix(std::move(options.key_prefix))),
          page_limits_(session::checked_page_limits(options.page_limits)),
          client_(make_client(boost::asio::any_io_executor(executor), std::move(config))) {}

    RedisStore(const RedisStore&) = delete;
    RedisStore& operator=(const RedisStore&) = delete;

    /// Pending operations fail with RedisConnectionError(closed).
    ~RedisStore() { client_->shutdown(); }

    /// The live value, or nullopt; a hit slides the entry's expiry by its own TTL.
    awaitable<std::optional<std::string>> get(std::string payer, std::string key) {
        std::vector<std::string> keys{index_key(payer), value_key(payer, key)};
        std::vector<std::string> args;
        auto reply = co_await eval(redis::detail::get_script(), std::move(keys), std::move(args));
        if (reply.elements.size() != 1) throw redis::RedisError("unexpected reply to the get script");
        co_return reply.elements.front().as_optional_string();
    }

    /// Inserts or overwrites, with the given TTL or the store default.
    /// Throws std::invalid_argument("ttl must be >= 0") before any I/O.
    awaitable<void> set(std::string payer, std::string key, std::string value, SetOptions options) {
        const auto ttl = effective_ttl(options);
        std::vector<std::string> keys{index_key(payer), value_key(payer, key)};
        std::vector<std::string> args{std::to_string(ttl.count()), std::move(key), std::move(value)};
        co_await eval(redis::detail::set_script(), std::move(keys), std::move(args));
    }

    /// True only when a live entry was removed.
    awaitable<bool> erase(std::string payer, std::string key) {
        std::vector<std::string> keys{index_key(payer), value_key(payer, key)};
        std::vector<std::string> args{std::move(key)};
        auto reply = co_await eval(redis::detail::erase_script(), std::move(keys), std::move(args));
        co_return reply.as_integer() > 0;
    }

    /// One page of the payer's live entries in ascending byte order of key,
    /// within page_limits(). Touches no TTL. Throws
    /// std::invalid_argument("malformed list cursor") before any I/O. Each
    /// script call reads at most list_scan index members, so a page may take
    /// a few round trips but never blocks Redis on a large index.
    awaitable<ListResult> list(std::string payer, ListOptions options) {
        const auto after = session::detail::decode_cursor(options.cursor);
        std::string low = "-";
        if (after && *after >= options.prefix) {
            low = "(" + *after;
        } else if (!options.prefix.empty()) {
            low = "[" + options.prefix;
        }
        std::size_t room = options.limit == 0 ? page_limits_.max_entries
                                              : std::min(options.limit, page_limits_.max_entries);
        std::size_t bytes = page_limits_.max_bytes;
        const std::string index = index_key(payer);
        const std::string entries_prefix = entry_prefix(payer);
        ListResult result;
        for (;;) {
            std::vector<std::string> keys{index};
            std::vector<std::string> args{entries_prefix,
                                          options.prefix,
                                          std::move(low),
                                          std::to_string(room),
                                          std::to_string(bytes),
                                          result.entries.empty() ? "1" : "0",
                                          options.keys_only ? "1" : "0",
                                          std::to_string(list_scan)};
            auto reply = co_await eval(redis::detail::list_script(), std::move(keys), std::move(args));
            auto& items = reply.elements;
            if (items.size() < 2 || items.size() % 2 != 0) throw redis::RedisError("unexpected reply to the list script");
            for (std::size_t i = 2; i < items.size(); i += 2) {
                std::string value = options.keys_only ? std::string() : std::move(items[i + 1].str);
                const std::size_t cost = items[i].str.size() + value.size();
                bytes -= std::min(cost, bytes);
                room -= std::min<std::size_t>(1, room);
                result.entries.emplace_back(std::move(items[i].str), std::move(value));
            }
            const std::string& status = items[0].str;
            if (status == "full") {
                result.cursor = session::detail::encode_cursor(result.entries.back().key);
                co_return result;
            }
            if (status != "more") co_return result;
            low = std::move(items[1].str);
        }
    }

    /// The caps on every `list` page.
    const PageLimits& page_limits() const noexcept { return page_limits_; }

    /// Most index members one list script call reads (always this many, so
    /// that skipping expired members takes few round trips whatever the limit;
    /// the script stops reading values once the page is full).
    static constexpr std::size_t list_scan = 256;

    /// `get` for each key in order, atomically in one round trip; one slot
    /// per requested key, duplicates included.
    awaitable<std::vector<std::optional<std::string>>> get_many(std::string payer, std::vector<std::string> keys) {
        std::vector<std::optional<std::string>> values;
        if (keys.empty()) co_return values;
        std::vector<std::string> script_keys;
        script_keys.reserve(keys.size() + 1);
        script_keys.push_back(index_key(payer));
        for (const auto& key : keys) script_keys.push_back(value_key(payer, key));
        std::vector<std::string> args;
        auto reply = co_await eval(redis::detail::get_script(), std::move(script_keys), std::move(args));
        if (reply.elements.size() != keys.size()) throw redis::RedisError("unexpected reply to the get script");
        values.reserve(keys.size());
        for (const auto& element : reply.elements) values.push_back(element.as_optional_string());
        co_return values;
    }

    /// `set` for each entry in order, atomically in one round trip. Throws
    /// std::invalid_argument("ttl must be >= 0") before any I/O.
    awaitable<void> set_many(std::string payer, std::vector<Entry> entries, SetOptions options) {
        const auto ttl = effective_ttl(options);
        if (entries.empty()) co_return;
        std::vector<std::string> keys;
        keys.reserve(entries.size() + 1);
        keys.push_back(index_key(payer));
        std::vector<std::string> args;
        args.reserve(2 * entries.size() + 1);
        args.push_back(std::to_string(ttl.count()));
        for (auto& entry : entries) {
            keys.push_back(value_key(payer, entry.key));
            args.push_back(std::move(entry.key));
            args.push_back(std::move(entry.value));
        }
        co_await eval(redis::detail::set_script(), std::move(keys), std::move(args));
    }

    /// `erase` for each key, atomically in one round trip; returns how many
    /// live entries were removed (a duplicate key counts once).
    awaitable<std::size_t> erase_many(std::string payer, std::vector<std::string> keys) {
        if (keys.empty()) co_return 0;
        std::vector<std::string> script_keys;
        script_keys.reserve(keys.size() + 1);
        script_keys.push_back(index_key(payer));
        for (const auto& key : keys) script_keys.push_back(value_key(payer, key));
        auto reply = co_await eval(redis::detail::erase_script(), std::move(script_keys), std::move(keys));
        co_return static_cast<std::size_t>(reply.as_integer());
    }

    /// The writes, in order, as one script: Redis runs a script alone, so
    /// other clients see all of it or none of it (a payer's keys, ledger
    /// included, share one hash tag, hence one cluster slot). Throws
    /// std::invalid_argument("ttl must be >= 0" or "ledger ttl must be > 0")
    /// before any I/O. Redis does not roll a script back: only a server
    /// failing midway (out of memory) could leave a part applied.
    awaitable<void> apply(std::string payer, std::vector<session::Write> writes) {
        for (const auto& write : writes) {
            if (const auto* record = std::get_if<session::LedgerWrite>(&write)) session::check_ledger_write(*record);
        }
        std::vector<std::string> keys;
        keys.reserve(writes.size() + 1);
        keys.push_back(index_key(payer));
        std::vector<std::string> args;
        args.reserve(4 * writes.size());
        for (auto& write : writes) {
            if (auto* record = std::get_if<session::LedgerWrite>(&write)) {
                keys.push_back(ledger_key(payer, record->key));
                args.push_back("l");
                args.push_back(std::move(record->key));
                args.push_back(std::move(record->value));
                args.push_back(std::to_string(std::min(record->ttl, max_ttl).count()));
            } else if (auto* set = std::get_if<session::SetWrite>(&write)) {
                const auto ttl = effective_ttl(set->options);
                keys.push_back(value_key(payer, set->key));
                args.push_back("s");
                args.push_back(std::move(set->key));
                args.push_back(std::move(set->value));
                args.push_back(std::to_string(ttl.count()));
            } else {
                auto& erase = std::get<session::EraseWrite>(write);
                keys.push_back(value_key(payer, erase.key));
                args.push_back("e");
                args.push_back(std::move(erase.key));
                args.push_back({});
                args.push_back("0");
            }
        }
        if (writes.empty()) co_return;
        co_await eval(redis::detail::apply_script(), std::move(keys), std::move(args));
    }

    /// The ledger record `key` of `payer` (session::LedgerWrite), or nullopt
    /// once it expired; one GET, which changes nothing. Ledger records expire
    /// by Redis' clock; a Redis that evicts could drop one early, so a server
    /// keeping records calls require_durable_ledger() first.
    awaitable<std::optional<std::string>> get_ledger(std::string payer, std::string key) {
        auto client = client_;  // the store may go while this runs
        std::string name = ledger_key(payer, key);
        redis::Command command;
        command.push_back("GET");
        command.push_back(name);
        auto reply = co_await client->execute(std::move(command), std::move(name));
        reply.check();
        co_return reply.as_optional_string();
    }

    /// Throws EvictionRiskError unless no master of this store's Redis may
    /// evict keys (maxmemory unset, or policy noeviction): an evicted ledger
    /// record (a payment identifier's answer) lets a retry run the handler
    /// again. `hidden` says what to do when CONFIG GET is refused.
    awaitable<void> require_durable_ledger(WhenConfigHidden hidden = WhenConfigHidden::refuse) {
        co_await require_no_eviction(client_, "the session ledger", hidden);
    }

    /// Drops the connections; the data stays in Redis. Pending operations
    /// fail with RedisConnectionError(closed); the next operation reconnects.
    awaitable<void> close() {
        client_->reset();
        co_return;
    }

    /// The Redis key of the payer's index (see the layout above).
    std::string index_key(std::string_view payer) const { return tag_prefix(payer) + ":i"; }
    /// The Redis key of the entry (payer, key).
    std::string value_key(std::string_view payer, std::string_view key) const {
        std::string name = entry_prefix(payer);
        name.append(key);
        return name;
    }
    /// The Redis key of the payer's ledger record `key`.
    std::string ledger_key(std::string_view payer, std::string_view key) const {
        std::string name = tag_prefix(payer) + ":l:";
        name.append(key);
        return name;
    }
    /// The client, shared with e.g. a RedisReplayGuard or tests.
    const std::shared_ptr<redis::Client>& client() const noexcept { return client_; }

private:
    static std::chrono::milliseconds checked_ttl(std::chrono::milliseconds ttl) {
        if (ttl.count() < 0) throw std::invalid_argument("ttl must be >= 0");
        return std::min(ttl, max_ttl);
    }

    static std::shared_ptr<redis::Client> make_client(boost::asio::any_io_executor executor, redis::Config config) {
        session::require_plain_executor(executor, "RedisStore");
        return std::make_shared<redis::Client>(std::move(executor), std::move(config));
    }

    static std::string checked_prefix(std::string prefix) {
        if (prefix.find_first_of("{}") != std::string::npos) {
            throw std::invalid_argument("key_prefix must not contain { or }");
        }
        return prefix;
    }

    std::chrono::milliseconds effective_ttl(const SetOptions& options) const {
        if (!options.ttl) return default_ttl_;
        return checked_ttl(*options.ttl);
    }

    std::string tag_prefix(std::string_view payer) const {
        static constexpr char digits[] = "0123456789abcdef";
        std::string name = prefix_;
        name.reserve(prefix_.size() + 2 * payer.size() + 8);
        name += ":{p";
        for (unsigned char byte : payer) {
            name.push_back(digits[byte >> 4]);
            name.push_back(digits[byte & 0xf]);
        }
        name += "}";
        return name;
    }

    std::string entry_prefix(std::string_view payer) const { return tag_prefix(payer) + ":v:"; }

    /// EVALSHA, then EVAL when the server does not know the script yet.
    /// Throws RedisError for an error reply.
    awaitable<redis::Reply> eval(const redis::detail::Script& script, std::vector<std::string> keys,
                                 std::vector<std::string> args) {
        auto client = client_;  // the store may go while this runs
        redis::Command command;
        command.reserve(3 + keys.size() + args.size());
        command.push_back("EVALSHA");
        command.push_back(script.sha1);
        command.push_back(std::to_string(keys.size()));
        for (auto& key : keys) command.push_back(std::move(key));
        for (auto& arg : args) command.push_back(std::move(arg));
        std::string routing = command[3];
        redis::Command attempt = command;
        auto reply = co_await client->execute(std::move(attempt), routing);
        if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
            command[0] = "EVAL";
            command[1] = script.source;
            reply = co_await client->execute(std::move(command), std::move(routing));
        }
        reply.check();
        co_return reply;
    }

    std::chrono::milliseconds default_ttl_;
    std::string prefix_;
    PageLimits page_limits_;
    std::shared_ptr<redis::Client> client_;
};

static_assert(session::StoreWithGetMany<RedisStore> && session::StoreWithSetMany<RedisStore> &&
              session::StoreWithEraseMany<RedisStore> && session::StoreWithApply<RedisStore> &&
              session::StoreWithClose<RedisStore> && session::StoreWithLedger<RedisStore> &&
              session::StoreWithPageLimits<RedisStore>);

}  // namespace x402::redis
