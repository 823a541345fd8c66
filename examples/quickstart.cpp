// Quick start: two payers, their isolation, TTL and list paging.
//
// In a server, the x402 hook verifies each payment and runs the tool handler
// in the payer's context; here we play that part with assume_verified. The
// store gets a manual clock so the TTL part runs instantly. The program checks
// what it shows and exits non-zero if the library misbehaves.
#include <x402/session.hpp>
#ifdef X402_SESSION_EXAMPLE_WITH_REDIS
#include <x402/redis/store_url.hpp>
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace xs = x402::session;
using namespace std::chrono_literals;
using xs::awaitable;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::cout << (ok ? "  ok    " : "  FAIL  ") << what << '\n';
    if (!ok) ++failures;
}

std::string show(const std::optional<std::string>& value) { return value ? '"' + *value + '"' : "(none)"; }

// A tool handler: it finds the caller's session itself, with no payer parameter.
awaitable<void> remember(std::string key, std::string value) {
    auto session = xs::get_session();
    if (!session) throw std::runtime_error("no authenticated signer");
    co_await session->set(std::move(key), std::move(value));
}

awaitable<std::optional<std::string>> recall(std::string key) {
    auto session = xs::get_session();
    if (!session) throw std::runtime_error("no authenticated signer");
    co_return co_await session->get(std::move(key));
}

awaitable<bool> has_no_session() { co_return !xs::get_session().has_value(); }

awaitable<void> remember_token() {
    auto session = xs::get_session();
    if (!session) throw std::runtime_error("no authenticated signer");
    const xs::SetOptions one_minute{std::chrono::milliseconds(60'000)};
    co_await session->set("token", "t-1", one_minute);
}

// Writes five notes in random order and pages through them two at a time;
// returns the number of pages, or -1 if the keys did not come back in order.
awaitable<int> fill_and_page() {
    auto session = xs::get_session();
    if (!session) throw std::runtime_error("no authenticated signer");
    const std::array<std::string, 6> keys{"note:3", "note:1", "note:5", "note:2", "note:4", "other"};
    for (const auto& key : keys) co_await session->set(key, "text of " + key);

    int pages = 0;
    std::string seen;
    std::optional<std::string> cursor;
    do {
        auto options = xs::ListOptions().with_prefix("note:").with_limit(2).with_keys_only();
        if (cursor) options.with_cursor(*cursor);
        const xs::ListResult page = co_await session->list(std::move(options));
        std::cout << "   page " << ++pages << ':';
        for (const auto& entry : page.entries) {
            std::cout << ' ' << entry.key;
            seen += entry.key + ' ';
        }
        std::cout << '\n';
        cursor = page.cursor;
    } while (cursor);
    co_return seen == "note:1 note:2 note:3 note:4 note:5 " ? pages : -1;
}

awaitable<std::size_t> count_notes() {
    const xs::ListResult all = co_await xs::get_session()->list(xs::ListOptions().with_prefix("note:"));
    co_return all.entries.size();
}

/// `clock_ms` moves the store's clock; null when the store keeps its own time (Redis).
awaitable<void> demo(xs::SessionPlugin& sessions, std::atomic<std::int64_t>* clock_ms) {
    const auto alice = xs::VerifiedPayer::assume_verified("0xA11CE0000000000000000000000000000000A11C");
    const auto bob = xs::VerifiedPayer::assume_verified("0xB0B0000000000000000000000000000000000B0B");

    std::cout << "1. Two payers write the same key\n";
    // Handlers are named before co_await (g++ 12 mishandles capturing
    // lambdas written inside a co_await expression; these capture nothing).
    auto alice_writes = [] { return remember("color", "blue"); };
    auto bob_writes = [] { return remember("color", "red"); };
    co_await sessions.run(alice, alice_writes);
    co_await sessions.run(bob, bob_writes);

    std::cout << "2. Each reads only their own value\n";
    auto read_color = [] { return recall("color"); };
    const auto alice_color = co_await sessions.run(alice, read_color);
    const auto bob_color = co_await sessions.run(bob, read_color);
    check(alice_color == "blue", "alice reads " + show(alice_color));
    check(bob_color == "red", "bob reads " + show(bob_color));
    check(co_await sessions.run_without_payer(has_no_session), "an unpaid call has no session");

    std::cout << "3. TTL: an entry lives for its TTL after the last read\n";
    if (clock_ms != nullptr) {
        auto read_token = [] { return recall("token"); };
        co_await sessions.run(alice, remember_token);
        *clock_ms += 59'000;
        check(co_await sessions.run(alice, read_token) == "t-1", "59 s later the token is there (the read slides it)");
        *clock_ms += 60'000;
        check(co_await sessions.run(alice, read_token) == "t-1", "60 s after that read it is still there");
        *clock_ms += 60'001;
        check(!(co_await sessions.run(alice, read_token)).has_value(), "60.001 s without a read it has expired");
    } else {
        std::cout << "   (shown with the in-memory store, whose clock this demo can move)\n";
    }

    std::cout << "4. List paging: ascending keys, two per page\n";
    check(co_await sessions.run(bob, fill_and_page) == 3, "bob's five notes come in three pages, in order");
    check(co_await sessions.run(alice, count_notes) == 0, "alice sees none of bob's notes");
}

}  // namespace

int main(int argc, char** argv) {
    // memory:// (default): an InMemoryStore with a manual clock for the TTL
    // demo; a server keeps the default steady clock. Also redis://host:port
    // or redis+cluster://host:port,... when built with RedisStore.
    const std::string url = argc > 1 ? argv[1] : "memory://";
    asio::io_context io;
    auto clock_ms = std::make_shared<std::atomic<std::int64_t>>(0);
    std::optional<xs::AnyStore> store;
    if (url == "memory://") {
        xs::InMemoryStoreOptions options;
        options.clock = [clock_ms] {
            return std::chrono::steady_clock::time_point(std::chrono::milliseconds(clock_ms->load()));
        };
        store = xs::AnyStore::make<xs::InMemoryStore>(options);
    } else {
#ifdef X402_SESSION_EXAMPLE_WITH_REDIS
        store = x402::redis::make_store(io.get_executor(), url);
#else
        std::cerr << "quickstart: built without RedisStore; only memory:// is available\n";
        return 2;
#endif
    }
    std::cout << "Store: " << url << '\n';
    xs::SessionPlugin sessions(*store);

    std::exception_ptr error;
    auto run_demo = [&]() -> awaitable<void> {
        co_await demo(sessions, url == "memory://" ? clock_ms.get() : nullptr);
        if (url != "memory://") {
            // Start clean next time, and close the connections so io.run() returns.
            for (const char* payer : {"0xa11ce0000000000000000000000000000000a11c", "0xb0b0000000000000000000000000000000000b0b"}) {
                const xs::ListResult all = co_await store->list(payer, xs::ListOptions().with_keys_only());
                std::vector<std::string> keys;
                for (const auto& entry : all.entries) keys.push_back(entry.key);
                co_await store->erase_many(payer, std::move(keys));
            }
            co_await store->close();
        }
    };
    asio::co_spawn(io, run_demo(), [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::cout << "error: " << e.what() << '\n';
            return 2;
        }
    }
    std::cout << (failures == 0 ? "All checks passed.\n" : "Some checks FAILED.\n");
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
