// RedisStore get/set throughput on one local Redis, at a given number of
// operations in flight (all pipelined on the store's one connection), for
// comparison with redis-benchmark at the same pipelining depth (-c 1 -P N).
// Prints JSON for bench/report.mjs.
//
//   x402_session_bench_redis redis://127.0.0.1:PORT DEPTH OPERATIONS
#include "workload.hpp"

#include <x402/redis/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace xs = x402::session;

namespace {

enum class Op { set, get };

/// One of `depth` workers: operations first, first + depth, ... below `count`.
xs::awaitable<void> worker(x402::redis::RedisStore& store, Op op, std::size_t first, std::size_t depth, std::size_t count) {
    const auto& w = bench::workload();
    for (std::size_t i = first; i < count; i += depth) {
        if (op == Op::set) {
            co_await store.set(w.payer_of(i), w.key_of(i), w.value_of(i), {});
        } else if (!(co_await store.get(w.payer_of(i), w.key_of(i)))) {
            throw std::runtime_error("redis_bench: a get missed");
        }
    }
}

double measure(const std::string& url, Op op, std::size_t depth, std::size_t count) {
    boost::asio::io_context io;
    x402::redis::RedisStoreOptions options;
    options.key_prefix = "x402:bench";
    x402::redis::RedisStore store(io.get_executor(), url, options);
    std::exception_ptr error;
    std::size_t running = depth;
    auto end = std::chrono::steady_clock::now();
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t first = 0; first < depth; ++first) {
        boost::asio::co_spawn(io, worker(store, op, first, depth, count), [&](std::exception_ptr e) {
            if (e) error = e;
            if (--running == 0) {
                end = std::chrono::steady_clock::now();
                io.stop();  // the store's connection would keep run() going
            }
        });
    }
    io.run();
    const double seconds = std::chrono::duration<double>(end - start).count();
    if (error) std::rethrow_exception(error);
    return static_cast<double>(count) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: x402_session_bench_redis redis://HOST:PORT DEPTH OPERATIONS\n");
        return 2;
    }
    const std::string url = argv[1];
    const std::size_t depth = std::strtoul(argv[2], nullptr, 10);
    const std::size_t count = std::strtoul(argv[3], nullptr, 10);
    const double set_rate = measure(url, Op::set, depth, count);  // also fills the keys the gets read
    const double get_rate = measure(url, Op::get, depth, count);
    std::printf("{\"depth\": %zu, \"set_ops_per_second\": %.0f, \"get_ops_per_second\": %.0f}\n", depth, set_rate,
                get_rate);
}
