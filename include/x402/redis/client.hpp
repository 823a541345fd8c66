// The Redis client of RedisStore and RedisReplayGuard: one pipelined
// connection to a standalone server, or one per Redis Cluster master with
// routing by hash slot, MOVED/ASK/TRYAGAIN handling and topology refresh.
#pragma once

#include <x402/redis/config.hpp>
#include <x402/redis/connection.hpp>
#include <x402/redis/error.hpp>
#include <x402/redis/reply.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::redis {

/// CRC16-XMODEM (polynomial 0x1021, initial value 0), the checksum of Redis Cluster.
constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
    std::uint16_t crc = 0;
    for (unsigned char byte : bytes) {
        crc = static_cast<std::uint16_t>(crc ^ (static_cast<std::uint16_t>(byte) << 8));
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                      : static_cast<std::uint16_t>(crc << 1);
        }
    }
    return crc;
}

/// The number of cluster hash slots.
inline constexpr std::uint16_t slot_count = 16384;

/// The hash slot of `key`, as Redis computes it: when the key holds a `{`
/// followed later by a `}` with at least one byte between them, only the bytes
/// between the first `{` and the next `}` are hashed.
constexpr std::uint16_t key_slot(std::string_view key) noexcept {
    // Searching the rest as its own view, not find('}', open + 1): the same
    // bytes, and g++ 12 -O2 warns a false stringop-overread on the latter.
    if (const auto open = key.find('{'); open != std::string_view::npos) {
        const std::string_view rest = key.substr(open + 1);
        const auto close = rest.find('}');
        if (close != std::string_view::npos && close != 0) key = rest.substr(0, close);
    }
    return static_cast<std::uint16_t>(crc16(key) % slot_count);
}

static_assert(crc16("123456789") == 0x31c3, "CRC16-XMODEM check value");
static_assert(key_slot("foo") == 12182 && key_slot("{user1000}.following") == key_slot("{user1000}.followers"));

/// Sends commands to Redis. Thread-safe; build it on a plain executor.
/// Keep it in a shared_ptr (its operations keep it alive while they run).
class Client : public std::enable_shared_from_this<Client> {
public:
    Client(boost::asio::any_io_executor executor, Config config)
        : executor_(std::move(executor)), config_(std::move(config)) {
        if (config_.nodes.empty()) throw std::invalid_argument("redis config has no node");
        if (config_.operation_timeout.count() <= 0) throw std::invalid_argument("operation_timeout must be > 0");
    }

    ~Client() { shutdown(); }

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const Config& config() const noexcept { return config_; }

    /// Runs `command`, routed (in a cluster) by the slot of `routing_key`.
    /// Returns the reply, error replies included (Reply::check() throws
    /// them); throws RedisConnectionError when no reply came.
    boost::asio::awaitable<Reply> execute(Command command, std::string routing_key) {
        auto self = shared_from_this();
        if (!config_.cluster) {
            std::vector<Command> commands;
            commands.push_back(std::move(command));
            auto replies = co_await connection_to(config_.nodes.front())->execute(commands);
            co_return std::move(replies.front());
        }
        co_return co_await self->execute_in_cluster(std::move(command), key_slot(routing_key));
    }

    /// Runs `command` on the server, or in a cluster on every master of a
    /// freshly read slot map, in that map's order: for commands about a
    /// server rather than a key (CONFIG GET, INFO). Replies as execute().
    boost::asio::awaitable<std::vector<Reply>> execute_on_every_master(Command command) {
        auto self = shared_from_this();
        std::vector<Endpoint> targets;
        if (!config_.cluster) {
            targets.push_back(config_.nodes.front());
        } else {
            co_await self->refresh_topology(true);
            std::scoped_lock lock(mutex_);
            targets = masters_;
        }
        std::vector<Reply> replies;
        for (const Endpoint& target : targets) {
            std::vector<Command> commands{command};
            auto reply = co_await self->connection_to(target)->execute(commands);
            replies.push_back(std::move(reply.front()));
        }
        co_return replies;
    }

    /// Drops every connection; pending commands fail with
    /// RedisConnectionError(closed); later commands connect again.
    void reset() {
        std::scoped_lock lock(mutex_);
        for (auto& [name, connection] : connections_) connection->reset();
        connections_.clear();
        topology_known_ = false;
    }

    /// Drops every connection for good: later commands fail with RedisConnectionError(closed).
    void shutdown() {
        std::scoped_lock lock(mutex_);
        shut_ = true;
        for (auto& [name, connection] : connections_) connection->shutdown();
        connections_.clear();
    }

    /// How often cluster commands were redirected, and the slot map rebuilt.
    struct Stats {
        std::size_t moved = 0;
        std::size_t ask = 0;
        std::size_t tryagain = 0;
        std::size_t refreshes = 0;
    };
    Stats stats() const {
        std::scoped_lock lock(mutex_);
        return stats_;
    }

    /// The master serving `slot` as last learnt (cluster only), for tests and diagnostics.
    std::optional<Endpoint> slot_owner(std::uint16_t slot) const {
        std::scoped_lock lock(mutex_);
        if (!topology_known_ || slots_[slot] < 0) return std::nullopt;
        return masters_[static_cast<std::size_t>(slots_[slot])];
    }

private:
    std::shared_ptr<detail::Connection> connection_to(const Endpoint& endpoint) {
        std::scoped_lock lock(mutex_);
        auto& connection = connections_[endpoint.to_string()];
        if (!connection) {
            connection = std::make_shared<detail::Connection>(executor_, endpoint, config_);
            if (shut_) connection->shutdown();
        }
        return connection;
    }

    std::optional<Endpoint> route(std::uint16_t slot) {
        std::scoped_lock lock(mutex_);
        if (!topology_known_ || slots_[slot] < 0) return std::nullopt;
        return masters_[static_cast<std::size_t>(slots_[slot])];
    }

    static std::optional<std::pair<std::uint16_t, Endpoint>> parse_redirect(const std::string& error) {
        // "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381"
        const auto first = error.find(' ');
        const auto second = first == std::string::npos ? std::string::npos : error.find(' ', first + 1);
        if (second == std::string::npos) return std::nullopt;
        try {
            const auto slot = std::stoul(error.substr(first + 1, second - first - 1));
            auto endpoint = detail::parse_endpoint(error.substr(second + 1), error);
            if (slot >= slot_count) return std::nullopt;
            return std::make_pair(static_cast<std::uint16_t>(slot), std::move(endpoint));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    boost::asio::awaitable<Reply> execute_in_cluster(Command command, std::uint16_t slot) {
        std::optional<Endpoint> target;
        bool asking = false;
        try {
            co_await refresh_if_stale();
        } catch (const std::exception&) {
            // Keep routing with the old map; a failing node reports itself below.
        }
        for (int attempt = 0; attempt <= config_.max_redirects; ++attempt) {
            if (!target) {
                target = route(slot);
                if (!target) {
                    co_await refresh_topology(true);
                    target = route(slot);
                    if (!target) {
                        throw RedisConnectionError(ConnectionErrc::connect_failed,
                                                   "redis cluster: no node serves slot " + std::to_string(slot));
                    }
                }
            }
            std::vector<Command> commands;
            if (asking) commands.push_back(Command{"ASKING"});
            commands.push_back(command);
            std::vector<Reply> replies;
            try {
                replies = co_await connection_to(*target)->execute(commands);
            } catch (const RedisConnectionError&) {
                mark_topology_stale();
                throw;
            }
            Reply reply = std::move(replies.back());
            asking = false;
            if (!reply.is_error()) co_return reply;
            const std::string& message = reply.str;
            if (message.starts_with("MOVED ")) {
                auto redirect = parse_redirect(message);
                if (!redirect) co_return reply;
                learn_slot(redirect->first, redirect->second);
                count(&Stats::moved);
                target = redirect->second;
                continue;
            }
            if (message.starts_with("ASK ")) {
                auto redirect = parse_redirect(message);
                if (!redirect) co_return reply;
                target = redirect->second;
                asking = true;
                count(&Stats::ask);
                continue;
            }
            if (message.starts_with("TRYAGAIN") || message.starts_with("CLUSTERDOWN")) {
                // A slot is being migrated or the cluster is healing: retry shortly.
                count(&Stats::tryagain);
                boost::asio::steady_timer timer(executor_, std::chrono::milliseconds(10 << std::min(attempt, 5)));
                co_await timer.async_wait(boost::asio::use_awaitable);
                mark_topology_stale();
                target.reset();
                continue;
            }
            co_return reply;
        }
        throw RedisConnectionError(ConnectionErrc::too_many_redirects,
                                   "redis cluster: more than " + std::to_string(config_.max_redirects) +
                                       " redirects for slot " + std::to_string(slot));
    }

    void learn_slot(std::uint16_t slot, const Endpoint& owner) {
        std::scoped_lock lock(mutex_);
        // The map is stale: use the new owner for this slot now and rebuild
        // the whole map (CLUSTER SLOTS) before the next routed command.
        std::size_t index = 0;
        while (index < masters_.size() && !(masters_[index] == owner)) ++index;
        if (index == masters_.size()) masters_.push_back(owner);
        slots_[slot] = static_cast<int>(index);
        stale_ = true;
    }

    void count(std::size_t Stats::*counter) {
        std::scoped_lock lock(mutex_);
        ++(stats_.*counter);
    }

    void mark_topology_stale() {
        std::scoped_lock lock(mutex_);
        stale_ = true;
    }

    /// Rebuilds the slot map from CLUSTER SLOTS of the first node that answers
    /// (known masters first, then the seeds). Unless `force` (no usable map),
    /// only one caller refreshes at a time; the others keep routing with the
    /// old map (a MOVED corrects them).
    boost::asio::awaitable<void> refresh_topology(bool force) {
        std::vector<Endpoint> candidates;
        {
            std::scoped_lock lock(mutex_);
            if (refreshing_ && !force) co_return;
            refreshing_ = true;
            candidates = masters_;
        }
        for (const auto& seed : config_.nodes) candidates.push_back(seed);
        std::exception_ptr last_error;
        for (const auto& candidate : candidates) {
            try {
                std::vector<Command> commands{Command{"CLUSTER", "SLOTS"}};
                auto replies = co_await connection_to(candidate)->execute(commands);
                const Reply& reply = replies.front();
                reply.check();
                std::vector<Endpoint> masters;
                std::vector<int> slots(slot_count, -1);
                for (const auto& range : reply.elements) {
                    if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) continue;
                    const auto& node = range.elements[2];
                    Endpoint endpoint;
                    endpoint.host = node.elements[0].str.empty() ? candidate.host : node.elements[0].str;
                    endpoint.port = static_cast<std::uint16_t>(node.elements[1].integer);
                    std::size_t index = 0;
                    while (index < masters.size() && !(masters[index] == endpoint)) ++index;
                    if (index == masters.size()) masters.push_back(endpoint);
                    const auto first = std::max<long long>(0, range.elements[0].integer);
                    const auto last = std::min<long long>(slot_count - 1, range.elements[1].integer);
                    for (auto slot = first; slot <= last; ++slot) slots[static_cast<std::size_t>(slot)] = static_cast<int>(index);
                }
                std::scoped_lock lock(mutex_);
                masters_ = std::move(masters);
                slots_ = std::move(slots);
                topology_known_ = true;
                stale_ = false;
                ++stats_.refreshes;
                refreshing_ = false;
                co_return;
            } catch (const std::exception&) {
                last_error = std::current_exception();
            }
        }
        {
            std::scoped_lock lock(mutex_);
            refreshing_ = false;
        }
        if (last_error) std::rethrow_exception(last_error);
    }

public:
    /// In a cluster, refreshes the slot map if a redirect or a failure made it
    /// stale; a no-op otherwise. RedisStore calls it before routing.
    boost::asio::awaitable<void> refresh_if_stale() {
        bool needed = false;
        {
            std::scoped_lock lock(mutex_);
            needed = config_.cluster && (stale_ || !topology_known_) && !refreshing_;
        }
        if (needed) co_await refresh_topology(false);
    }

private:
    boost::asio::any_io_executor executor_;
    Config config_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<detail::Connection>> connections_;
    std::vector<Endpoint> masters_;
    std::vector<int> slots_ = std::vector<int>(slot_count, -1);
    bool topology_known_ = false;
    bool stale_ = false;
    bool refreshing_ = false;
    bool shut_ = false;
    Stats stats_;
};

}  // namespace x402::redis
