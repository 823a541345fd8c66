// Whether a Redis may evict keys. Records that must outlive memory pressure
// (replay claims: an evicted claim lets the same payment run its handler a
// second time) may only live in a Redis that never evicts: maxmemory 0 (no
// limit) or maxmemory-policy noeviction, on every master of a cluster.
// Checked once, when called (at start): a later CONFIG SET, or a failover to
// a replica configured otherwise, is the operator's to prevent.
#pragma once

#include <x402/redis/client.hpp>
#include <x402/redis/reply.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::redis {

/// Refused: the Redis may evict keys, or would not say (CONFIG GET refused).
/// what() names the server setting or the refusal and the way out.
class EvictionRiskError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What to do when a server refuses CONFIG GET (a managed Redis often does):
/// refuse, or take the operator's word that it never evicts.
enum class WhenConfigHidden { refuse, operator_guarantees_noeviction };

namespace detail {

// The value of `name` in a CONFIG GET reply ([name, value, ...]); nullopt when
// it is an error or does not hold the name.
inline std::optional<std::string> config_value(const Reply& reply, std::string_view name) {
    if (reply.type != Reply::Type::array) return std::nullopt;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        if (reply.elements[i].str == name) return reply.elements[i + 1].str;
    }
    return std::nullopt;
}

}  // namespace detail

/// Completes when no master of `client` can evict a key; throws
/// EvictionRiskError otherwise, e.g. "replay claims: redis 1 of 1 may evict
/// keys (maxmemory 67108864, maxmemory-policy volatile-lru): use
/// maxmemory-policy noeviction or maxmemory 0". `what` names the records.
/// Throws RedisConnectionError when a master cannot be reached.
inline boost::asio::awaitable<void> require_no_eviction(std::shared_ptr<Client> client, std::string what,
                                                        WhenConfigHidden when_hidden = WhenConfigHidden::refuse) {
    if (!client) throw std::invalid_argument("require_no_eviction needs a client");
    // One command per master, so both settings come from the same node even
    // if the slot map changes meanwhile ("maxmemory*" matches both). Built
    // outside the co_await: g++ 12 miscompiles a braced list of string
    // literals there ("array used as initializer").
    Command get_settings{std::string("CONFIG"), std::string("GET"), std::string("maxmemory*")};
    const auto settings = co_await client->execute_on_every_master(std::move(get_settings));
    const std::size_t masters = settings.size();
    if (masters == 0) throw EvictionRiskError(what + ": redis reported no master to check");
    for (std::size_t i = 0; i < masters; ++i) {
        const std::string which = "redis " + std::to_string(i + 1) + " of " + std::to_string(masters);
        const auto limit = detail::config_value(settings[i], "maxmemory");
        const auto policy = detail::config_value(settings[i], "maxmemory-policy");
        if (!limit || !policy) {
            if (when_hidden == WhenConfigHidden::operator_guarantees_noeviction) continue;
            const Reply& refused = settings[i];
            throw EvictionRiskError(what + ": " + which + " refused CONFIG GET maxmemory" +
                                    (refused.is_error() ? " (" + refused.str + ")" : std::string()) +
                                    ", so it may evict them: allow CONFIG GET, or state that it never evicts");
        }
        if (*limit != "0" && *policy != "noeviction") {
            throw EvictionRiskError(what + ": " + which + " may evict keys (maxmemory " + *limit +
                                    ", maxmemory-policy " + *policy +
                                    "): use maxmemory-policy noeviction or maxmemory 0");
        }
    }
}

}  // namespace x402::redis
