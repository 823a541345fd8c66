// make_store(executor, url): the store chosen by configuration, not code.
//   memory://                               InMemoryStore (default options)
//   redis://[user:password@]host[:port][/db]  RedisStore on one server
//   redis+cluster://host:port[,host:port...]  RedisStore on a Redis Cluster
// Lives apart from any_store.hpp so the core headers never need hiredis.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/in_memory_store.hpp>
#include <x402/redis/store.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace x402::redis {

/// A store for `url`. `executor` must be a plain executor (it runs the Redis
/// connections). Throws std::invalid_argument for an unknown scheme or a
/// malformed URL.
///
///     auto store = x402::redis::make_store(io.get_executor(), argc > 1 ? argv[1] : "memory://");
inline session::AnyStore make_store(boost::asio::any_io_executor executor, std::string_view url,
                           RedisStoreOptions redis_options = {}) {
    if (url == "memory://" || url == "memory") return session::AnyStore::make<session::InMemoryStore>();
    if (url.starts_with("redis://") || url.starts_with("redis+cluster://")) {
        return session::AnyStore::make<RedisStore>(executor, url, std::move(redis_options));
    }
    throw std::invalid_argument("unsupported store URL (expected memory://, redis:// or redis+cluster://): " +
                                std::string(url));
}

}  // namespace x402::redis
