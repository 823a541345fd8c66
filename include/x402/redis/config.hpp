// Where and how to reach Redis: the parsed form of a store URL
//   redis://[user:password@]host[:port][/db]
//   redis+cluster://[user:password@]host:port[,host:port...]
// and the connection settings (timeouts, reconnect backoff).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace x402::redis {

/// One server address.
struct Endpoint {
    std::string host;
    std::uint16_t port = 6379;

    std::string to_string() const {
        return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                                   : host + ":" + std::to_string(port);
    }
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// How to reach Redis. Usually parsed from a URL by parse_url().
struct Config {
    /// The server (standalone) or the seed nodes (cluster); at least one.
    std::vector<Endpoint> nodes;
    /// Redis Cluster: discover the topology from the seeds and route by slot.
    bool cluster = false;
    /// AUTH user; empty: `AUTH password` (the default user). No AUTH when both are empty.
    std::string user;
    /// AUTH password.
    std::string password;
    /// SELECT database after connecting (standalone only; a cluster has only 0).
    int database = 0;
    /// Longest wait for the reply of one command, connecting included.
    std::chrono::milliseconds operation_timeout = std::chrono::seconds(5);
    /// First delay before reconnecting after a failed connect; doubles per failure.
    std::chrono::milliseconds reconnect_backoff_min = std::chrono::milliseconds(25);
    /// Longest delay between reconnect attempts.
    std::chrono::milliseconds reconnect_backoff_max = std::chrono::seconds(1);
    /// Most MOVED/ASK/TRYAGAIN redirects of one cluster command.
    int max_redirects = 8;
};

namespace detail {

inline std::string percent_decode(std::string_view text) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        const int high = i + 1 < text.size() ? hex(text[i + 1]) : -1;
        const int low = i + 2 < text.size() ? hex(text[i + 2]) : -1;
        if (high < 0 || low < 0) throw std::invalid_argument("invalid percent escape in redis URL");
        out.push_back(static_cast<char>((high << 4) | low));
        i += 2;
    }
    return out;
}

inline std::uint16_t parse_port(std::string_view text, std::string_view url) {
    if (text.empty() || text.size() > 5) throw std::invalid_argument("invalid port in redis URL: " + std::string(url));
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') throw std::invalid_argument("invalid port in redis URL: " + std::string(url));
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) throw std::invalid_argument("invalid port in redis URL: " + std::string(url));
    return static_cast<std::uint16_t>(value);
}

inline Endpoint parse_endpoint(std::string_view text, std::string_view url) {
    Endpoint endpoint;
    std::string_view port;
    if (text.starts_with('[')) {  // [v6]:port
        const auto close = text.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("invalid host in redis URL: " + std::string(url));
        endpoint.host = std::string(text.substr(1, close - 1));
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':')) throw std::invalid_argument("invalid host in redis URL: " + std::string(url));
            port = rest.substr(1);
        }
    } else {
        const auto colon = text.rfind(':');
        endpoint.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) port = text.substr(colon + 1);
    }
    if (endpoint.host.empty()) throw std::invalid_argument("missing host in redis URL: " + std::string(url));
    if (!port.empty() || text.ends_with(':')) endpoint.port = parse_port(port, url);
    return endpoint;
}

}  // namespace detail

/// Parses `redis://[user:password@]host[:port][/db]` or
/// `redis+cluster://[user:password@]host:port[,host:port...]` (user and
/// password may be percent-encoded; port defaults to 6379, db to 0).
/// Throws std::invalid_argument saying what is wrong.
///
///     auto config = x402::redis::parse_url("redis://:secret@127.0.0.1:6379/2");
inline Config parse_url(std::string_view url) {
    Config config;
    std::string_view rest;
    if (url.starts_with("redis://")) {
        rest = url.substr(8);
    } else if (url.starts_with("redis+cluster://")) {
        rest = url.substr(16);
        config.cluster = true;
    } else {
        throw std::invalid_argument("unsupported redis URL scheme (expected redis:// or redis+cluster://): " +
                                    std::string(url));
    }
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            config.password = detail::percent_decode(userinfo);  // redis://password@host, as redis-cli accepts
        } else {
            config.user = detail::percent_decode(userinfo.substr(0, colon));
            config.password = detail::percent_decode(userinfo.substr(colon + 1));
        }
    }
    std::string_view hosts = rest;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        hosts = rest.substr(0, slash);
        const auto db = rest.substr(slash + 1);
        if (!db.empty()) {
            int value = 0;
            for (char c : db) {
                if (c < '0' || c > '9' || value > 100000) {
                    throw std::invalid_argument("invalid database in redis URL: " + std::string(url));
                }
                value = value * 10 + (c - '0');
            }
            config.database = value;
        }
    }
    if (config.cluster && config.database != 0) {
        throw std::invalid_argument("redis cluster has only database 0: " + std::string(url));
    }
    std::size_t start = 0;
    while (start <= hosts.size()) {
        const auto comma = hosts.find(',', start);
        const auto part = hosts.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        config.nodes.push_back(detail::parse_endpoint(part, url));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (!config.cluster && config.nodes.size() != 1) {
        throw std::invalid_argument("redis:// takes one host (use redis+cluster:// for several): " + std::string(url));
    }
    return config;
}

}  // namespace x402::redis
