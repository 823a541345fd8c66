// Instructions per co_await resumption, plain strand versus a payer's
// ContextExecutor around one. Wall-clock timings of a 250 ns operation are
// noisy on a shared machine; under valgrind --tool=callgrind the instruction
// count is exact. scripts/run-bench.sh runs each mode for two loop lengths
// and divides the difference by the extra iterations, which cancels set-up.
//
//   x402_session_bench_resume plain|context <iterations>
#include <x402/session/plugin.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace asio = boost::asio;
namespace xs = x402::session;

namespace {

asio::awaitable<void> post_loop(long iterations) {
    const auto executor = co_await asio::this_coro::executor;
    for (long i = 0; i < iterations; ++i) co_await asio::post(executor, asio::use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    const long iterations = argc > 2 ? std::atol(argv[2]) : 0;
    if ((mode != "plain" && mode != "context") || iterations <= 0) {
        std::fprintf(stderr, "usage: x402_session_bench_resume plain|context <iterations>\n");
        return 2;
    }
    asio::io_context io;
    if (mode == "plain") {
        asio::co_spawn(asio::make_strand(io), post_loop(iterations), asio::detached);
    } else {
        auto context = std::make_shared<const xs::Context>(
            xs::Session("0xa11ce00000000000000000000000000000000001", xs::AnyStore::make<xs::InMemoryStore>()));
        asio::co_spawn(xs::ContextExecutor(asio::make_strand(io), std::move(context)), post_loop(iterations),
                       asio::detached);
    }
    io.run();
}
