// The errors of the Redis layer: RedisError for an error reply of the server
// (its message verbatim), RedisConnectionError for everything that kept a
// command from getting a reply (connect failure, lost connection, timeout,
// a closed client, a malformed reply stream, endless cluster redirects).
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace x402::redis {

/// Why a command got no reply; the category of RedisConnectionError::code().
enum class ConnectionErrc {
    connect_failed = 1,   ///< resolving, connecting or the AUTH/SELECT handshake failed
    connection_lost,      ///< the connection broke while the command was pending
    timeout,              ///< no reply within the operation timeout
    closed,               ///< the client was closed (close() or destruction)
    protocol_error,       ///< the server sent bytes that are not RESP
    too_many_redirects,   ///< a cluster command was redirected (MOVED/ASK/TRYAGAIN) too often
};

class ConnectionCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "x402.session.redis"; }
    std::string message(int value) const override {
        switch (static_cast<ConnectionErrc>(value)) {
        case ConnectionErrc::connect_failed: return "cannot connect to redis";
        case ConnectionErrc::connection_lost: return "connection to redis lost";
        case ConnectionErrc::timeout: return "redis operation timed out";
        case ConnectionErrc::closed: return "redis client closed";
        case ConnectionErrc::protocol_error: return "redis protocol error";
        case ConnectionErrc::too_many_redirects: return "too many redis cluster redirects";
        }
        return "unknown redis connection error";
    }
};

inline const std::error_category& connection_category() noexcept {
    static const ConnectionCategory category;
    return category;
}

inline std::error_code make_error_code(ConnectionErrc value) noexcept {
    return {static_cast<int>(value), connection_category()};
}

/// The server answered with an error reply; what() is the server's message,
/// e.g. "WRONGPASS invalid username-password pair or user is disabled.".
class RedisError : public std::runtime_error {
public:
    explicit RedisError(const std::string& server_message) : std::runtime_error(server_message) {}
};

/// A command got no reply. code() says why (ConnectionErrc); what() adds the
/// details, e.g. "cannot connect to redis: 127.0.0.1:6379: Connection refused".
class RedisConnectionError : public std::system_error {
public:
    RedisConnectionError(ConnectionErrc reason, const std::string& detail)
        : std::system_error(make_error_code(reason), detail), detail_(detail) {}
    ConnectionErrc reason() const noexcept { return static_cast<ConnectionErrc>(code().value()); }
    /// The details alone, without the reason's message.
    const std::string& detail() const noexcept { return detail_; }

private:
    std::string detail_;
};

}  // namespace x402::redis

template <>
struct std::is_error_code_enum<x402::redis::ConnectionErrc> : std::true_type {};
