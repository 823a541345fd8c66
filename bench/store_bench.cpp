// Benchmarks of the in-memory store and the session layer (Google Benchmark).
// The names are read by bench/report.mjs, which puts them beside the Node
// reference: keep them in step with bench/node/store_bench.mjs.
//
//   Store/<op>     the awaited Store API of InMemoryStore, cycling over all
//                  100 payers x 100 keys
//   Session/<op>   the Session facade from get_session() inside a payer's
//                  context; each batch of 100 operations enters one payer's
//                  context once (as a tool call would), then works on that
//                  payer's 100 keys
#include "reference_store.hpp"
#include "workload.hpp"

#include <x402/session.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace xs = x402::session;
using xs::awaitable;

namespace {

/// Runs `operation` to completion on a fresh io_context in this thread.
void run(awaitable<void> operation) {
    asio::io_context io;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(operation), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
}

template <class Executor>
void run_on(Executor executor, asio::io_context& io, awaitable<void> operation) {
    std::exception_ptr error;
    asio::co_spawn(executor, std::move(operation), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
}

enum class Op { set_empty, set_overwrite, set_evict, get_hit, get_miss, list_all, list_keys_only, list_page_10 };

/// One operation of the workload, number `i`, through the Store API.
awaitable<void> store_op(xs::InMemoryStore& store, Op op, std::size_t i) {
    const auto& w = bench::workload();
    const std::string& payer = w.payer_of(i);
    switch (op) {
        case Op::set_empty:
        case Op::set_overwrite: co_await store.set(payer, w.key_of(i), w.value_of(i + 1), {}); break;
        case Op::set_evict: {
            // Alternates between two key sets of 10'000 entries: every set is a new key.
            const bool other = (i / bench::entry_count) % 2 == 0;
            co_await store.set(payer, other ? w.other_key_of(i) : w.key_of(i), w.value_of(i), {});
            break;
        }
        case Op::get_hit: benchmark::DoNotOptimize(co_await store.get(payer, w.key_of(i))); break;
        case Op::get_miss: benchmark::DoNotOptimize(co_await store.get(payer, w.other_key_of(i))); break;
        case Op::list_all: benchmark::DoNotOptimize(co_await store.list(payer, xs::ListOptions())); break;
        case Op::list_keys_only:
            benchmark::DoNotOptimize(co_await store.list(payer, xs::ListOptions().with_keys_only()));
            break;
        case Op::list_page_10:
            benchmark::DoNotOptimize(co_await store.list(payer, xs::ListOptions().with_limit(10)));
            break;
    }
}

/// The same operation through the Session facade of the current context.
awaitable<void> session_op(Op op, std::size_t i) {
    const auto& w = bench::workload();
    const auto session = xs::get_session();
    switch (op) {
        case Op::set_empty:
        case Op::set_overwrite: co_await session->set(w.key_of(i), w.value_of(i + 1)); break;
        case Op::set_evict: {
            const bool other = (i / bench::entry_count) % 2 == 0;
            co_await session->set(other ? w.other_key_of(i) : w.key_of(i), w.value_of(i));
            break;
        }
        case Op::get_hit: benchmark::DoNotOptimize(co_await session->get(w.key_of(i))); break;
        case Op::get_miss: benchmark::DoNotOptimize(co_await session->get(w.other_key_of(i))); break;
        case Op::list_all: benchmark::DoNotOptimize(co_await session->list()); break;
        case Op::list_keys_only: benchmark::DoNotOptimize(co_await session->list(xs::ListOptions().with_keys_only())); break;
        case Op::list_page_10: benchmark::DoNotOptimize(co_await session->list(xs::ListOptions().with_limit(10))); break;
    }
}

bool starts_empty(Op op) { return op == Op::set_empty; }

awaitable<void> store_loop(benchmark::State& state, xs::InMemoryStore& store, Op op) {
    std::size_t i = 0;
    for (auto _ : state) {
        if (starts_empty(op) && i == bench::entry_count) {
            state.PauseTiming();
            co_await store.close();
            state.ResumeTiming();
            i = 0;
        }
        co_await store_op(store, op, i++);
    }
}

void store_benchmark(benchmark::State& state, Op op) {
    auto store = bench::make_reference_store();
    if (!starts_empty(op)) run(bench::fill(*store));
    run(store_loop(state, *store, op));
    state.SetItemsProcessed(state.iterations());
}

/// 100 operations on one payer's keys, inside that payer's context.
awaitable<void> session_batch(Op op, std::size_t first) {
    for (std::size_t i = first; i < first + bench::keys_per_payer; ++i) co_await session_op(op, i);
}

awaitable<void> session_loop(benchmark::State& state, xs::SessionPlugin& sessions, Op op) {
    const auto& w = bench::workload();
    std::size_t i = 0;
    while (state.KeepRunningBatch(bench::keys_per_payer)) {
        if (starts_empty(op) && i == bench::entry_count) {
            state.PauseTiming();
            co_await sessions.store().close();
            state.ResumeTiming();
            i = 0;
        }
        const std::size_t first = i;
        auto batch = [op, first] { return session_batch(op, first); };
        co_await sessions.run(xs::VerifiedPayer::assume_verified(w.payer_of(first)), batch);
        i += bench::keys_per_payer;
    }
}

void session_benchmark(benchmark::State& state, Op op) {
    auto store = bench::make_reference_store();
    if (!starts_empty(op)) run(bench::fill(*store));
    xs::SessionPlugin sessions{xs::AnyStore(store)};
    run(session_loop(state, sessions, op));
    state.SetItemsProcessed(state.iterations());
}

#define X402_WORKLOAD_BENCHMARK(op)                                    \
    BENCHMARK_CAPTURE(store_benchmark, op, Op::op)->Name("Store/" #op); \
    BENCHMARK_CAPTURE(session_benchmark, op, Op::op)->Name("Session/" #op)

X402_WORKLOAD_BENCHMARK(set_empty);
X402_WORKLOAD_BENCHMARK(set_overwrite);
X402_WORKLOAD_BENCHMARK(set_evict);
X402_WORKLOAD_BENCHMARK(get_hit);
X402_WORKLOAD_BENCHMARK(get_miss);
X402_WORKLOAD_BENCHMARK(list_all);
X402_WORKLOAD_BENCHMARK(list_keys_only);
X402_WORKLOAD_BENCHMARK(list_page_10);

// ---- Two threads hammering one store: get throughput and p99 latency ------

awaitable<void> timed_gets(benchmark::State& state, xs::InMemoryStore& store, std::vector<double>& latencies_ns) {
    const auto& w = bench::workload();
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 4999;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(co_await store.get(w.payer_of(i), w.key_of(i)));
        latencies_ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
        ++i;
    }
}

void contended_get(benchmark::State& state) {
    // One store for all threads; Google Benchmark starts them together.
    static std::shared_ptr<xs::InMemoryStore> store;
    if (state.thread_index() == 0) {
        store = bench::make_reference_store();
        run(bench::fill(*store));
    }
    std::vector<double> latencies_ns;
    latencies_ns.reserve(1 << 22);
    run(timed_gets(state, *store, latencies_ns));
    state.SetItemsProcessed(state.iterations());
    if (!latencies_ns.empty()) {
        const auto p99 = latencies_ns.begin() + static_cast<std::ptrdiff_t>(latencies_ns.size() * 99 / 100);
        std::nth_element(latencies_ns.begin(), p99, latencies_ns.end());
        state.counters["p99_ns"] = benchmark::Counter(*p99, benchmark::Counter::kAvgThreads);
    }
}
BENCHMARK(contended_get)->Name("Contended/get_hit")->Threads(1)->Threads(2)->UseRealTime();

// ---- The floor: an awaited call that does no work but return a value ------

awaitable<std::optional<std::string>> return_value(std::string payer, std::string key) {
    benchmark::DoNotOptimize(payer.data());
    benchmark::DoNotOptimize(key.data());
    co_return bench::workload().values[0];
}

awaitable<void> floor_loop(benchmark::State& state) {
    const auto& w = bench::workload();
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(co_await return_value(w.payer_of(i), w.key_of(i)));
        ++i;
    }
}

/// What every awaited get pays before the store does anything: the coroutine
/// frame, copying payer and key into it, and the returned 32-byte string.
void awaited_call_floor(benchmark::State& state) {
    run(floor_loop(state));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(awaited_call_floor)->Name("Floor/awaited_call");

// ---- Context overhead per co_await resumption -----------------------------

awaitable<void> post_loop(benchmark::State& state) {
    const auto executor = co_await asio::this_coro::executor;
    for (auto _ : state) co_await asio::post(executor, asio::use_awaitable);
}

void resume_plain_strand(benchmark::State& state) {
    asio::io_context io;
    run_on(asio::make_strand(io), io, post_loop(state));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(resume_plain_strand)->Name("Resume/plain_strand");

void resume_context_strand(benchmark::State& state) {
    asio::io_context io;
    xs::SessionPlugin sessions;
    const auto context = std::make_shared<const xs::Context>(
        sessions.session_for(xs::VerifiedPayer::assume_verified(bench::workload().payers[0])));
    run_on(xs::ContextExecutor(asio::make_strand(io), context), io, post_loop(state));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(resume_context_strand)->Name("Resume/context_strand");

// ---- Session facade overhead versus the raw store (same payer, same keys) --

enum class Path { in_memory_store, any_store, session, get_session };

awaitable<void> facade_loop(benchmark::State& state, Path path, std::shared_ptr<xs::InMemoryStore> store) {
    const auto& w = bench::workload();
    const std::string& payer = w.payers[0];
    const xs::AnyStore any(store);
    const xs::Session session(payer, any);
    std::size_t i = 0;
    for (auto _ : state) {
        const std::string& key = w.key_of(i++);
        switch (path) {
            case Path::in_memory_store: benchmark::DoNotOptimize(co_await store->get(payer, key)); break;
            case Path::any_store: benchmark::DoNotOptimize(co_await any.get(payer, key)); break;
            case Path::session: benchmark::DoNotOptimize(co_await session.get(key)); break;
            case Path::get_session: benchmark::DoNotOptimize(co_await xs::get_session()->get(key)); break;
        }
    }
}

void facade_get(benchmark::State& state, Path path) {
    auto store = bench::make_reference_store();
    run(bench::fill(*store));
    xs::SessionPlugin sessions{xs::AnyStore(store)};
    auto loop = [&state, path, store] { return facade_loop(state, path, store); };
    run(sessions.run(xs::VerifiedPayer::assume_verified(bench::workload().payers[0]), loop));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(facade_get, in_memory_store, Path::in_memory_store)->Name("Facade/get_hit/InMemoryStore");
BENCHMARK_CAPTURE(facade_get, any_store, Path::any_store)->Name("Facade/get_hit/AnyStore");
BENCHMARK_CAPTURE(facade_get, session, Path::session)->Name("Facade/get_hit/Session");
BENCHMARK_CAPTURE(facade_get, get_session, Path::get_session)->Name("Facade/get_hit/get_session");

}  // namespace

BENCHMARK_MAIN();
