// Payer isolation under every way Asio delivers a function: no code ever sees
// a context that is not its own, however a completion reaches it (inline
// dispatch, post, defer, co_spawn's first step, a strand running queued work,
// channels, timers), on one thread and on several.
#include <x402/session/context.hpp>
#include <x402/session/plugin.hpp>

#include "../support.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using x402::session::awaitable;
using x402::session::get_payer;
using x402::session::SessionPlugin;
using x402::session::VerifiedPayer;

namespace {

const std::string alice = "0xA11CE00000000000000000000000000000000001";
const std::string bob = "0xB0B0000000000000000000000000000000000002";
const std::string carol = "0xCA401000000000000000000000000000000000003";

VerifiedPayer verified(const std::string& payer) { return VerifiedPayer::assume_verified(payer); }

std::string payer_now() { return get_payer().value_or("none"); }

/// What get_payer() said at each labelled point; thread-safe.
class Seen {
public:
    void note(const std::string& label) {
        std::lock_guard lock(mutex_);
        seen_[label].push_back(payer_now());
    }
    std::vector<std::string> at(const std::string& label) const {
        std::lock_guard lock(mutex_);
        auto it = seen_.find(label);
        return it == seen_.end() ? std::vector<std::string>{} : it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> seen_;
};

enum class Delivery { dispatch, post, defer };

const char* name_of(Delivery delivery) {
    switch (delivery) {
        case Delivery::dispatch: return "dispatch";
        case Delivery::post: return "post";
        case Delivery::defer: return "defer";
    }
    return "?";
}

/// An operation that someone else completes: the waiter's handler is parked
/// until `complete` delivers it through its associated executor, the way
/// every well-behaved asynchronous operation does.
class Parked {
public:
    template <class Token>
    auto async_wait(Token&& token) {
        return asio::async_initiate<Token, void()>(
            [this](auto handler) {
                auto held = std::make_shared<decltype(handler)>(std::move(handler));
                std::lock_guard lock(mutex_);
                complete_ = [held](Delivery delivery) { deliver(delivery, std::move(*held)); };
            },
            token);
    }

    bool waiting() const {
        std::lock_guard lock(mutex_);
        return static_cast<bool>(complete_);
    }

    void complete(Delivery delivery) {
        std::function<void(Delivery)> complete;
        {
            std::lock_guard lock(mutex_);
            complete.swap(complete_);
        }
        if (complete) complete(delivery);  // else someone else completed it first
    }

    /// Delivers `handler` through its associated executor, as `delivery` says.
    template <class Handler>
    static void deliver(Delivery delivery, Handler handler) {
        auto executor = asio::get_associated_executor(handler);
        switch (delivery) {
            case Delivery::dispatch: asio::dispatch(executor, std::move(handler)); break;
            case Delivery::post: asio::post(executor, std::move(handler)); break;
            case Delivery::defer: asio::defer(executor, std::move(handler)); break;
        }
    }

private:
    mutable std::mutex mutex_;
    std::function<void(Delivery)> complete_;
};

awaitable<void> until_waiting(const Parked& parked) {
    while (!parked.waiting()) co_await asio::post(asio::use_awaitable);
}

}  // namespace

TEST_CASE("isolation: inside a scope no Asio executor runs other work inline", "[context][isolation]") {
    asio::io_context io;
    SessionPlugin plugin;
    auto plain_strand = asio::make_strand(io);
    std::vector<std::string> order;

    auto handler = [&]() -> awaitable<void> {
        CHECK_FALSE(io.get_executor().running_in_this_thread());
        asio::dispatch(io.get_executor(), [&] { order.push_back("io:" + payer_now()); });
        asio::dispatch(plain_strand, [&] { order.push_back("strand:" + payer_now()); });
        order.push_back("handler:" + payer_now());
        co_return;
    };
    asio::co_spawn(io, plugin.run(verified(alice), handler), asio::detached);
    test_support::run_io(io);
    CHECK(order == std::vector<std::string>{"handler:" + alice, "io:none", "strand:none"});

    // The synchronous scope too.
    order.clear();
    io.restart();
    asio::post(io, [&] {
        plugin.call(verified(bob), [&] {
            asio::dispatch(io.get_executor(), [&] { order.push_back("io:" + payer_now()); });
            order.push_back("call:" + payer_now());
        });
    });
    test_support::run_io(io);
    CHECK(order == std::vector<std::string>{"call:" + bob, "io:none"});
}

TEST_CASE("isolation: a plain coroutine resumed from a paid handler runs with no payer", "[context][isolation]") {
    const int threads = GENERATE(1, 4);
    const Delivery delivery = GENERATE(Delivery::dispatch, Delivery::post, Delivery::defer);
    CAPTURE(threads, name_of(delivery));
    asio::io_context io;
    SessionPlugin plugin;
    Parked parked;
    Seen seen;

    // A plain coroutine on the io_context executor and one on a plain strand.
    auto plain = [&](std::string name) {
        return [&, name]() -> awaitable<void> {
            seen.note(name + ".before");
            co_await parked.async_wait(asio::use_awaitable);
            seen.note(name + ".resumed");
            // A plugin.run it makes now restores its own context (none), not
            // the context of whoever resumed it.
            auto nested = [&]() -> awaitable<void> {
                seen.note("nested");
                co_return;
            };
            co_await plugin.run(verified(carol), nested);
            seen.note(name + ".after_nested");
        };
    };
    auto alice_completes = [&]() -> awaitable<void> {
        co_await until_waiting(parked);
        parked.complete(delivery);
        seen.note("alice.after_complete");
    };
    SECTION("on the io_context executor") {
        asio::co_spawn(io.get_executor(), plain("plain"), asio::detached);
    }
    SECTION("on a plain strand") {
        asio::co_spawn(asio::make_strand(io), plain("plain"), asio::detached);
    }
    asio::co_spawn(io, plugin.run(verified(alice), alice_completes), asio::detached);
    test_support::run_io(io, threads);

    CHECK(seen.at("plain.before") == std::vector<std::string>{"none"});
    CHECK(seen.at("plain.resumed") == std::vector<std::string>{"none"});
    CHECK(seen.at("nested") == std::vector<std::string>{carol});
    CHECK(seen.at("plain.after_nested") == std::vector<std::string>{"none"});
    CHECK(seen.at("alice.after_complete") == std::vector<std::string>{alice});
}

TEST_CASE("isolation: co_spawn on a plain executor from a paid handler starts with no payer",
          "[context][isolation]") {
    const int threads = GENERATE(1, 4);
    CAPTURE(threads);
    asio::io_context io;
    SessionPlugin plugin;
    Seen seen;

    auto probe = [&](std::string name) {
        return [&, name]() -> awaitable<int> {
            seen.note(name + ".start");
            co_await asio::post(asio::use_awaitable);
            seen.note(name + ".after_post");
            co_return 1;
        };
    };
    auto handler = [&]() -> awaitable<void> {
        asio::co_spawn(io.get_executor(), probe("detached"), asio::detached);
        asio::co_spawn(asio::make_strand(io), probe("detached_strand"), asio::detached);
        auto awaited_probe = probe("awaited");
        const int awaited = co_await asio::co_spawn(io.get_executor(), awaited_probe, asio::use_awaitable);
        seen.note("alice.after_awaited");
        auto strand_probe = probe("awaited_strand");
        const int on_strand = co_await asio::co_spawn(asio::make_strand(io), strand_probe, asio::use_awaitable);
        seen.note(awaited + on_strand == 2 ? "alice.end" : "alice.wrong_result");
    };
    asio::co_spawn(io, plugin.run(verified(alice), handler), asio::detached);
    test_support::run_io(io, threads);

    for (const char* name : {"detached", "detached_strand", "awaited", "awaited_strand"}) {
        CAPTURE(name);
        CHECK(seen.at(std::string(name) + ".start") == std::vector<std::string>{"none"});
        CHECK(seen.at(std::string(name) + ".after_post") == std::vector<std::string>{"none"});
    }
    CHECK(seen.at("alice.after_awaited") == std::vector<std::string>{alice});
    CHECK(seen.at("alice.end") == std::vector<std::string>{alice});
}

TEST_CASE("isolation: a paid handler bound to a plain strand never sees the payer who completes it",
          "[context][isolation]") {
    const int threads = GENERATE(1, 4);
    const Delivery delivery = GENERATE(Delivery::dispatch, Delivery::post, Delivery::defer);
    CAPTURE(threads, name_of(delivery));
    asio::io_context io;
    SessionPlugin plugin;
    auto plain_strand = asio::make_strand(io);
    Parked parked;
    Seen seen;

    auto bob_handler = [&]() -> awaitable<void> {
        co_await parked.async_wait(asio::bind_executor(plain_strand, asio::use_awaitable));
        // Resumed by the plain strand: the function was submitted to it, so
        // no payer, and above all never Alice.
        seen.note("bob.on_plain_strand");
        auto nested = [&]() -> awaitable<void> {
            seen.note("bob.nested");
            co_return;
        };
        co_await plugin.run(verified(carol), nested);
        co_await asio::post(asio::use_awaitable);
        seen.note("bob.after_own_post");
    };
    auto alice_handler = [&]() -> awaitable<void> {
        co_await until_waiting(parked);
        parked.complete(delivery);
        seen.note("alice.after_complete");
    };
    asio::co_spawn(io, plugin.run(verified(bob), bob_handler), asio::detached);
    asio::co_spawn(io, plugin.run(verified(alice), alice_handler), asio::detached);
    test_support::run_io(io, threads);

    CHECK(seen.at("bob.on_plain_strand") == std::vector<std::string>{"none"});
    CHECK(seen.at("bob.nested") == std::vector<std::string>{carol});
    CHECK(seen.at("bob.after_own_post") == std::vector<std::string>{bob});
    CHECK(seen.at("alice.after_complete") == std::vector<std::string>{alice});
}

TEST_CASE("isolation: channels and timers completed from another payer's handler", "[context][isolation]") {
    const int threads = GENERATE(1, 4);
    CAPTURE(threads);
    asio::io_context io;
    SessionPlugin plugin;
    auto plain_strand = asio::make_strand(io);
    using Channel = asio::experimental::channel<void(boost::system::error_code, int)>;
    Channel to_plain(io, 0), to_bob(io, 0), to_bob_strand(io, 0);
    asio::steady_timer plain_timer(io, std::chrono::hours(1));
    asio::steady_timer bob_timer(io, std::chrono::hours(1));
    Seen seen;
    std::atomic<int> waiting{0};

    auto plain_receiver = [&]() -> awaitable<void> {
        ++waiting;
        co_await to_plain.async_receive(asio::use_awaitable);
        seen.note("plain.channel");
        ++waiting;
        boost::system::error_code ec;
        co_await plain_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        seen.note(ec == asio::error::operation_aborted ? "plain.timer" : "plain.timer_not_cancelled");
    };
    auto bob_handler = [&]() -> awaitable<void> {
        ++waiting;
        co_await to_bob.async_receive(asio::use_awaitable);
        seen.note("bob.channel");
        ++waiting;
        co_await to_bob_strand.async_receive(asio::bind_executor(plain_strand, asio::use_awaitable));
        seen.note("bob.channel_on_plain_strand");
        co_await asio::post(asio::use_awaitable);
        seen.note("bob.after_own_post");
        ++waiting;
        boost::system::error_code ec;
        co_await bob_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        seen.note("bob.timer");
    };
    auto wait_for = [&](int count) -> awaitable<void> {
        while (waiting.load() < count) co_await asio::post(asio::use_awaitable);
        // Let the receiver reach its wait after counting.
        for (int i = 0; i < 8; ++i) co_await asio::post(asio::use_awaitable);
    };
    auto alice_handler = [&]() -> awaitable<void> {
        co_await wait_for(2);  // both receivers are at their first channel
        co_await to_plain.async_send(boost::system::error_code{}, 1, asio::use_awaitable);
        seen.note("alice.sent_plain");
        co_await to_bob.async_send(boost::system::error_code{}, 2, asio::use_awaitable);
        co_await wait_for(4);
        co_await to_bob_strand.async_send(boost::system::error_code{}, 3, asio::use_awaitable);
        plain_timer.cancel();
        co_await wait_for(5);
        bob_timer.cancel();
        seen.note("alice.end");
    };
    asio::co_spawn(io, plain_receiver(), asio::detached);
    asio::co_spawn(io, plugin.run(verified(bob), bob_handler), asio::detached);
    asio::co_spawn(io, plugin.run(verified(alice), alice_handler), asio::detached);
    test_support::run_io(io, threads);

    CHECK(seen.at("plain.channel") == std::vector<std::string>{"none"});
    CHECK(seen.at("plain.timer") == std::vector<std::string>{"none"});
    CHECK(seen.at("bob.channel") == std::vector<std::string>{bob});
    CHECK(seen.at("bob.channel_on_plain_strand") == std::vector<std::string>{"none"});
    CHECK(seen.at("bob.after_own_post") == std::vector<std::string>{bob});
    CHECK(seen.at("bob.timer") == std::vector<std::string>{bob});
    CHECK(seen.at("alice.sent_plain") == std::vector<std::string>{alice});
    CHECK(seen.at("alice.end") == std::vector<std::string>{alice});
}

TEST_CASE("isolation: plugin.run nested under && twice completes with the right payers", "[context][isolation]") {
    // Boost 1.81 frees an awaitable operator's state early when a child
    // completes inline into it; plugin.run never completes inline (its child
    // finishes inside its own scope), so nesting it under && is safe.
    const int threads = GENERATE(1, 2);
    CAPTURE(threads);
    asio::io_context io;
    SessionPlugin plugin;
    std::atomic<int> wrong{0};

    auto leaf = [&](const std::string& payer) {
        return plugin.run(verified(payer), [&, payer]() -> awaitable<int> {
            co_await asio::dispatch(asio::use_awaitable);
            if (get_payer() != payer) ++wrong;
            co_return 1;
        });
    };
    auto inner = [&](const std::string& payer) {
        return plugin.run(verified(payer), [&, payer]() -> awaitable<int> {
            auto [a, b] = co_await (leaf(alice) && leaf(bob));
            if (get_payer() != payer) ++wrong;
            co_return a + b;
        });
    };
    int total = 0;
    auto outer = [&]() -> awaitable<void> {
        for (int round = 0; round < 50; ++round) {
            auto [x, y] = co_await (inner(carol) && inner(bob));
            total += x + y;
        }
    };
    asio::co_spawn(io, outer(), asio::detached);
    test_support::run_io(io, threads);
    CHECK(total == 50 * 4);
    CHECK(wrong == 0);
}

TEST_CASE("isolation: a storm of mixed deliveries never shows a foreign payer", "[context][isolation][stress]") {
    constexpr int thread_count = 4;
    constexpr int payer_count = 6;
    constexpr int steps = 150;
    asio::io_context io;
    SessionPlugin plugin;
    std::vector<std::string> payers;
    for (int i = 0; i < payer_count; ++i) payers.push_back("0xP" + std::to_string(i));
    std::vector<std::unique_ptr<Parked>> parked;
    for (int i = 0; i < payer_count; ++i) parked.push_back(std::make_unique<Parked>());
    auto plain_strand = asio::make_strand(io);
    std::atomic<std::uint64_t> checks{0}, wrong{0}, foreign_plain{0};
    std::atomic<int> finished{0};

    // Checks after every resumption that the code sees `expected` (or none).
    auto expect = [&](const std::optional<std::string>& expected) {
        ++checks;
        if (get_payer() != expected) ++wrong;
    };
    auto plain_probe = [&]() -> awaitable<void> {
        ++checks;
        if (get_payer()) ++foreign_plain;
        co_await asio::post(asio::use_awaitable);
        ++checks;
        if (get_payer()) ++foreign_plain;
    };
    auto worker = [&](int index) {
        return [&, index]() -> awaitable<void> {
            const std::string& me = payers[index];
            std::mt19937 random(static_cast<unsigned>(index) * 7919u + 1u);
            for (int step = 0; step < steps; ++step) {
                switch (random() % 8) {
                    case 0: co_await asio::post(asio::use_awaitable); break;
                    case 1: co_await asio::dispatch(asio::use_awaitable); break;
                    case 2: co_await asio::defer(asio::use_awaitable); break;
                    case 3: {
                        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(0));
                        co_await timer.async_wait(asio::use_awaitable);
                        break;
                    }
                    case 4: {
                        // Complete another payer's parked operation, if any.
                        auto& other = *parked[random() % payer_count];
                        if (other.waiting()) other.complete(static_cast<Delivery>(random() % 3));
                        break;
                    }
                    case 5: asio::co_spawn(io.get_executor(), plain_probe(), asio::detached); break;
                    case 6: {
                        const std::string& nested = payers[random() % payer_count];
                        auto nested_handler = [&]() -> awaitable<void> {
                            expect(nested);
                            co_await asio::post(asio::use_awaitable);
                            expect(nested);
                        };
                        co_await plugin.run(verified(nested), nested_handler);
                        break;
                    }
                    case 7: {
                        // Park until someone completes us, with a plain strand as
                        // the completion's executor half of the time; a timer
                        // rescues the last waiters.
                        const bool on_plain = random() % 2 == 0;
                        auto& mine = *parked[index];
                        auto resumed = std::make_shared<std::atomic<bool>>(false);
                        auto rescuer = [&mine, resumed]() -> awaitable<void> {
                            asio::steady_timer timer(co_await asio::this_coro::executor);
                            while (!*resumed) {
                                timer.expires_after(std::chrono::milliseconds(1));
                                co_await timer.async_wait(asio::use_awaitable);
                                if (!*resumed) mine.complete(Delivery::post);
                            }
                        };
                        asio::co_spawn(io.get_executor(), rescuer, asio::detached);
                        if (on_plain) {
                            co_await mine.async_wait(asio::bind_executor(plain_strand, asio::use_awaitable));
                            *resumed = true;
                            expect(std::nullopt);
                            co_await asio::post(asio::use_awaitable);
                        } else {
                            co_await mine.async_wait(asio::use_awaitable);
                            *resumed = true;
                        }
                        break;
                    }
                }
                expect(me);
            }
            ++finished;
        };
    };
    for (int i = 0; i < payer_count; ++i) {
        asio::co_spawn(io, plugin.run(verified(payers[i]), worker(i)), asio::detached);
    }
    test_support::run_io(io, thread_count, std::chrono::seconds(120));

    CHECK(finished == payer_count);
    CHECK(wrong == 0);
    CHECK(foreign_plain == 0);
    CHECK(checks >= std::uint64_t{payer_count} * steps);
}

TEST_CASE("isolation: a payer's executor is recognised however it is wrapped", "[context][isolation]") {
    asio::io_context io;
    SessionPlugin plugin;
    using x402::session::is_context_executor;
    using x402::session::require_plain_executor;
    CHECK_FALSE(is_context_executor(io.get_executor()));
    CHECK_FALSE(is_context_executor(asio::make_strand(io)));
    static_assert(x402::session::is_context_executor_v<
                  x402::session::ContextExecutor<asio::strand<asio::io_context::executor_type>>>);
    static_assert(!x402::session::is_context_executor_v<asio::any_io_executor>);

    // Inside a handler: the executor a handler can reach, type-erased, and
    // with the properties Asio itself requires or prefers.
    std::vector<bool> seen;
    std::string refusal;
    auto handler = [&]() -> awaitable<void> {
        const asio::any_io_executor executor = co_await asio::this_coro::executor;
        seen.push_back(is_context_executor(executor));
        seen.push_back(is_context_executor(asio::prefer(executor, asio::execution::outstanding_work.tracked)));
        seen.push_back(is_context_executor(asio::require(executor, asio::execution::blocking.never)));
        seen.push_back(is_context_executor(
            asio::prefer(executor, asio::execution::relationship.continuation, asio::execution::blocking.possibly)));
        try {
            require_plain_executor(executor, "SharedThing");
        } catch (const std::invalid_argument& error) {
            refusal = error.what();
        }
    };
    asio::co_spawn(io, plugin.run(verified(alice), handler), asio::detached);
    test_support::run_io(io);
    CHECK(seen == std::vector<bool>{true, true, true, true});
    CHECK(refusal == "SharedThing must be built on a plain executor, not a payer's context executor");
    CHECK_NOTHROW(require_plain_executor(io.get_executor(), "SharedThing"));
}

TEST_CASE("isolation: a context's own dispatch runs inline, another context's on the same strand never does",
          "[isolation]") {
    // The one inline path the barrier leaves: work submitted to the very
    // ContextExecutor whose function is running (a coroutine resuming itself).
    asio::io_context io;
    auto strand = asio::make_strand(io);
    SessionPlugin sessions;
    const auto context_of = [&](const std::string& payer) {
        return std::make_shared<const x402::session::Context>(sessions.session_for(verified(payer)));
    };
    const x402::session::ContextExecutor alice_executor(strand, context_of(alice));
    const x402::session::ContextExecutor bob_executor(strand, context_of(bob));
    const x402::session::ContextExecutor no_payer_executor(strand, std::shared_ptr<const x402::session::Context>());
    std::vector<std::string> order;
    asio::post(alice_executor, [&] {
        order.push_back("alice:" + payer_now());
        asio::dispatch(alice_executor, [&] { order.push_back("alice-own:" + payer_now()); });
        asio::dispatch(bob_executor, [&] { order.push_back("bob:" + payer_now()); });
        asio::dispatch(strand, [&] { order.push_back("plain:" + payer_now()); });
        order.push_back("alice-after:" + payer_now());
    });
    // No payer is nobody's own context: two no-payer scopes are not "the same".
    asio::post(no_payer_executor, [&] {
        asio::dispatch(no_payer_executor, [&] { order.push_back("no-payer-inner:" + payer_now()); });
        order.push_back("no-payer-after:" + payer_now());
    });
    io.run();
    // The strand's queue, in order: the second post, then what alice's
    // function queued, then what the no-payer function queued.
    CHECK(order == std::vector<std::string>{"alice:" + alice, "alice-own:" + alice, "alice-after:" + alice,
                                            "no-payer-after:none", "bob:" + bob, "plain:none",
                                            "no-payer-inner:none"});
}
