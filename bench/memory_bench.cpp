// Heap bytes per entry of InMemoryStore beyond the payload (payer + key +
// value bytes), on the reference workload. A program of its own because it
// replaces operator new to count, which would slow the timing benchmarks.
// Prints JSON for bench/report.mjs.
#include "allocation_counter.hpp"
#include "reference_store.hpp"
#include "workload.hpp"

#include <x402/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <exception>
#include <memory>

namespace xs = x402::session;

int main() {
    const auto& w = bench::workload();
    std::size_t payload = 0;
    for (std::size_t i = 0; i < bench::entry_count; ++i) {
        payload += w.payer_of(i).size() + w.key_of(i).size() + w.value_of(i).size();
    }

    boost::asio::io_context io;
    const bench::AllocationSnapshot before = bench::allocation_snapshot();
    auto store = bench::make_reference_store();
    std::exception_ptr error;
    boost::asio::co_spawn(io, bench::fill(*store), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) std::rethrow_exception(error);
    const bench::AllocationSnapshot after = bench::allocation_snapshot();
    if (store->size() != bench::entry_count) return 1;

    const double entries = static_cast<double>(bench::entry_count);
    std::printf("{\"entries\": %zu, \"payload_B\": %.1f, \"overhead_B\": %.1f, \"allocations_per_entry\": %.3f}\n",
                bench::entry_count, static_cast<double>(payload) / entries,
                (static_cast<double>(after.heap_bytes - before.heap_bytes) - static_cast<double>(payload)) / entries,
                static_cast<double>(after.live_allocations - before.live_allocations) / entries);
}
