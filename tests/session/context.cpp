// The coroutine-local context, resumption by resumption, and where work
// handed to other executors runs (with no payer).
#include <x402/session/context.hpp>
#include <x402/session/plugin.hpp>

#include "../support.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <future>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using x402::session::awaitable;
using x402::session::get_payer;
using x402::session::get_session;
using x402::session::SessionPlugin;
using x402::session::VerifiedPayer;

namespace {

const std::string alice = "0xA11CE00000000000000000000000000000000001";
const std::string bob = "0xB0B0000000000000000000000000000000000002";

VerifiedPayer verified(const std::string& payer) { return VerifiedPayer::assume_verified(payer); }

/// What get_payer() said at each labelled point, in order.
struct Trace {
    std::vector<std::string> seen;
    void note(const std::string& label) { seen.push_back(label + "=" + get_payer().value_or("none")); }
};

awaitable<void> nested_coroutine(Trace& trace) {
    trace.note("nested.start");
    co_await asio::post(asio::use_awaitable);
    trace.note("nested.after_post");
}

awaitable<int> short_wait() {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    co_return 7;
}

/// A third-party asynchronous operation that does its work on a shared plain
/// strand and completes the right way: through the handler's associated executor.
template <class Token>
auto async_shared_work(asio::strand<asio::io_context::executor_type> shared, Token&& token) {
    return asio::async_initiate<Token, void()>(
        [shared](auto handler) {
            asio::post(shared, [handler = std::move(handler)]() mutable {
                auto executor = asio::get_associated_executor(handler);
                asio::dispatch(executor, std::move(handler));
            });
        },
        token);
}

}  // namespace

TEST_CASE("context: a coroutine sees its own payer after every kind of co_await", "[context]") {
    asio::io_context io;
    SessionPlugin plugin;
    auto shared_strand = asio::make_strand(io);
    Trace trace;

    auto handler = [&]() -> awaitable<void> {
        trace.note("start");
        co_await asio::post(asio::use_awaitable);
        trace.note("post");
        co_await asio::dispatch(asio::use_awaitable);
        trace.note("dispatch");
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
        co_await timer.async_wait(asio::use_awaitable);
        trace.note("timer");
        co_await asio::post(shared_strand, asio::use_awaitable);
        trace.note("post_to_shared_strand");
        co_await nested_coroutine(trace);
        trace.note("after_nested");
        asio::steady_timer long_timer(co_await asio::this_coro::executor, std::chrono::seconds(5));
        auto either = co_await (long_timer.async_wait(asio::use_awaitable) || short_wait());
        trace.note(either.index() == 1 ? "or" : "or_wrong_branch");
        auto both = co_await (short_wait() && short_wait());
        trace.note(std::get<0>(both) + std::get<1>(both) == 14 ? "and" : "and_wrong_result");
        co_await async_shared_work(shared_strand, asio::use_awaitable);
        trace.note("third_party_op");
        asio::experimental::channel<void(boost::system::error_code, int)> channel(
            co_await asio::this_coro::executor, 1);
        co_await channel.async_send(boost::system::error_code{}, 1, asio::use_awaitable);
        co_await channel.async_receive(asio::use_awaitable);
        trace.note("channel");
    };
    asio::co_spawn(io, plugin.run(verified(alice), handler), asio::detached);
    test_support::run_io(io);

    std::vector<std::string> expected;
    for (auto label : {"start", "post", "dispatch", "timer", "post_to_shared_strand", "nested.start",
                       "nested.after_post", "after_nested", "or", "and", "third_party_op", "channel"}) {
        expected.push_back(std::string(label) + "=" + alice);
    }
    CHECK(trace.seen == expected);
}

TEST_CASE("context: interleaved coroutines of two payers on one thread each keep their own", "[context]") {
    asio::io_context io;
    SessionPlugin plugin;
    Trace alice_trace, bob_trace, observer_trace;

    auto worker = [](Trace& trace) {
        return [&trace]() -> awaitable<void> {
            for (int i = 0; i < 20; ++i) {
                co_await asio::post(asio::use_awaitable);
                trace.note("step");
            }
        };
    };
    auto observer = [&]() -> awaitable<void> {
        for (int i = 0; i < 20; ++i) {
            co_await asio::post(asio::use_awaitable);
            observer_trace.note("step");
        }
    };
    asio::co_spawn(io, plugin.run(verified(alice), worker(alice_trace)), asio::detached);
    asio::co_spawn(io, plugin.run(verified(bob), worker(bob_trace)), asio::detached);
    asio::co_spawn(io, observer(), asio::detached);
    test_support::run_io(io);

    CHECK(alice_trace.seen == std::vector<std::string>(20, "step=" + alice));
    CHECK(bob_trace.seen == std::vector<std::string>(20, "step=" + bob));
    CHECK(observer_trace.seen == std::vector<std::string>(20, "step=none"));
}

TEST_CASE("context: nested run of another payer and of no payer and then back", "[context]") {
    asio::io_context io;
    SessionPlugin plugin;
    Trace trace;

    auto inner_bob = [&]() -> awaitable<void> {
        trace.note("bob.start");
        co_await asio::post(asio::use_awaitable);
        trace.note("bob.after_post");
    };
    auto inner_unpaid = [&]() -> awaitable<void> {
        trace.note("unpaid.start");
        co_await asio::post(asio::use_awaitable);
        trace.note("unpaid.after_post");
    };
    auto outer = [&]() -> awaitable<void> {
        trace.note("alice.start");
        co_await plugin.run(verified(bob), inner_bob);
        trace.note("alice.after_bob");
        co_await plugin.run_without_payer(inner_unpaid);
        trace.note("alice.after_unpaid");
        co_await plugin.run(std::nullopt, inner_unpaid);
        trace.note("alice.after_nullopt");
    };
    asio::co_spawn(io, plugin.run(verified(alice), outer), asio::detached);
    test_support::run_io(io);

    CHECK(trace.seen == std::vector<std::string>{
                            "alice.start=" + alice, "bob.start=" + bob, "bob.after_post=" + bob,
                            "alice.after_bob=" + alice, "unpaid.start=none", "unpaid.after_post=none",
                            "alice.after_unpaid=" + alice, "unpaid.start=none", "unpaid.after_post=none",
                            "alice.after_nullopt=" + alice});
}

TEST_CASE("context: a plain caller resumes with no payer after a paid handler completes", "[context]") {
    // The handler completes by dispatching to the caller's executor, which runs
    // the caller inline from inside the handler's resumption: without care the
    // caller would go on inside the handler's context.
    asio::io_context io;
    SessionPlugin plugin;
    Trace trace;
    auto handler = []() -> awaitable<int> {
        co_await asio::post(asio::use_awaitable);
        co_return 42;
    };
    auto server_loop = [&]() -> awaitable<void> {
        trace.note("before");
        int answer = co_await plugin.run(verified(alice), handler);
        trace.note(answer == 42 ? "after" : "after_wrong_result");
        co_await asio::post(asio::use_awaitable);
        trace.note("later");
    };
    asio::co_spawn(io, server_loop(), asio::detached);
    test_support::run_io(io);
    CHECK(trace.seen == std::vector<std::string>{"before=none", "after=none", "later=none"});
}

TEST_CASE("context: a handler's exception reaches the caller and both contexts are restored", "[context]") {
    asio::io_context io;
    SessionPlugin plugin;
    Trace trace;
    auto failing = []() -> awaitable<void> {
        co_await asio::post(asio::use_awaitable);
        throw std::runtime_error("tool failed");
    };
    auto outer = [&]() -> awaitable<void> {
        try {
            co_await plugin.run(verified(bob), failing);
            trace.note("no_exception");
        } catch (const std::runtime_error& error) {
            trace.note(std::string("caught:") + error.what());
        }
    };
    asio::co_spawn(io, plugin.run(verified(alice), outer), asio::detached);
    test_support::run_io(io);
    CHECK(trace.seen == std::vector<std::string>{"caught:tool failed=" + alice});
    CHECK_FALSE(get_payer().has_value());
}

TEST_CASE("context: the handler runs on a strand also when spawned from a multi-threaded pool", "[context]") {
    // Each request gets its own strand (awaitable operators need one, asio
    // #1348); a request spawned from a strand reuses it.
    asio::thread_pool pool(2);
    SessionPlugin plugin;
    std::atomic<int> on_strand{0};
    auto handler = [&]() -> awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        using Wrapped = x402::session::ContextExecutor<asio::strand<asio::any_io_executor>>;
        // The strand itself does not report running_in_this_thread() inside a
        // scope (nothing may run inline there), so check the executor type.
        if (executor.target<Wrapped>() != nullptr) ++on_strand;
        co_return;
    };
    std::promise<void> done;
    asio::co_spawn(pool, plugin.run(verified(alice), handler), [&](std::exception_ptr) { done.set_value(); });
    REQUIRE(done.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    pool.join();
    CHECK(on_strand == 1);
}

TEST_CASE("context: what is handed to another executor runs with no payer", "[context][isolation]") {
    asio::io_context io;
    SessionPlugin plugin;
    Trace trace;
    auto plain_strand = asio::make_strand(io);
    std::optional<asio::steady_timer> sticky_timer;

    auto handler = [&]() -> awaitable<void> {
        // Work posted to a plain executor runs in that executor's context: none.
        asio::post(io.get_executor(), [&] { trace.note("posted_to_plain"); });
        // A callback bound to a plain strand: none.
        asio::post(asio::bind_executor(plain_strand, [&] { trace.note("bound_to_plain_strand"); }));
        // A std::thread inherits nothing.
        std::thread([&] { trace.note("std_thread"); }).join();
        // A synchronous call inside the handler sees the handler's payer.
        [&] { trace.note("plain_call"); }();
        // An I/O object built on the handler's executor keeps that context for
        // every callback, even one registered later from outside: build shared
        // objects on a plain executor instead.
        sticky_timer.emplace(co_await asio::this_coro::executor);
        co_await asio::post(asio::use_awaitable);
        trace.note("handler_end");
    };
    asio::co_spawn(io, plugin.run(verified(alice), handler), asio::detached);
    test_support::run_io(io);
    io.restart();
    sticky_timer->expires_after(std::chrono::milliseconds(0));
    sticky_timer->async_wait([&](boost::system::error_code) { trace.note("sticky_timer_callback"); });
    test_support::run_io(io);

    CHECK(trace.seen == std::vector<std::string>{"std_thread=none", "plain_call=" + alice,
                                                 "posted_to_plain=none", "bound_to_plain_strand=none",
                                                 "handler_end=" + alice, "sticky_timer_callback=" + alice});
}

TEST_CASE("context: a pending handler completed from another payer's code runs as its own payer",
          "[context][isolation]") {
    // Bob's pending handler, completed from inside Alice's handler through its
    // associated executor (dispatch, post or defer), resumes Bob's coroutine
    // in Bob's context, never in Alice's.
    asio::io_context io;
    SessionPlugin plugin;
    Trace trace;
    enum class Delivery { dispatch, post, defer };
    std::vector<std::function<void(Delivery)>> pending;

    auto park = [&](auto token) {
        return asio::async_initiate<decltype(token), void()>(
            [&](auto handler) {
                auto held = std::make_shared<decltype(handler)>(std::move(handler));
                pending.emplace_back([held](Delivery delivery) {
                    auto executor = asio::get_associated_executor(*held);
                    switch (delivery) {
                        case Delivery::dispatch: asio::dispatch(executor, std::move(*held)); break;
                        case Delivery::post: asio::post(executor, std::move(*held)); break;
                        case Delivery::defer: asio::defer(executor, std::move(*held)); break;
                    }
                });
            },
            token);
    };
    auto bob_waits = [&](std::string label) {
        return [&, label]() -> awaitable<void> {
            co_await park(asio::use_awaitable);
            trace.note(label);
        };
    };
    auto alice_completes = [&](Delivery delivery) {
        return [&, delivery]() -> awaitable<void> {
            auto complete = std::move(pending.back());
            pending.pop_back();
            complete(delivery);
            trace.note("alice_after_completing");
            co_return;
        };
    };
    auto driver = [&]() -> awaitable<void> {
        for (auto [delivery, label] : {std::pair{Delivery::dispatch, "bob_dispatched"},
                                       std::pair{Delivery::post, "bob_posted"},
                                       std::pair{Delivery::defer, "bob_deferred"}}) {
            asio::co_spawn(io, plugin.run(verified(bob), bob_waits(label)), asio::detached);
            while (pending.empty()) co_await asio::post(asio::use_awaitable);
            co_await plugin.run(verified(alice), alice_completes(delivery));
            for (int i = 0; i < 4; ++i) co_await asio::post(asio::use_awaitable);
        }
    };
    asio::co_spawn(io, driver(), asio::detached);
    test_support::run_io(io);

    CHECK(trace.seen == std::vector<std::string>{"alice_after_completing=" + alice, "bob_dispatched=" + bob,
                                                 "alice_after_completing=" + alice, "bob_posted=" + bob,
                                                 "alice_after_completing=" + alice, "bob_deferred=" + bob});
}

TEST_CASE("context: SessionPlugin::call scopes synchronous code and nests", "[context]") {
    SessionPlugin plugin;
    CHECK_FALSE(get_session().has_value());
    std::vector<std::string> seen;
    auto note = [&](const std::string& label) { seen.push_back(label + "=" + get_payer().value_or("none")); };
    plugin.call(verified(alice), [&] {
        note("alice");
        plugin.call(verified(bob), [&] { note("bob"); });
        note("alice_again");
        plugin.call(std::nullopt, [&] { note("unpaid"); });
        try {
            plugin.call(verified(bob), [&]() -> int { throw std::runtime_error("x"); });
        } catch (const std::runtime_error&) {
            note("after_throw");
        }
    });
    note("outside");
    CHECK(seen == std::vector<std::string>{"alice=" + alice, "bob=" + bob, "alice_again=" + alice,
                                           "unpaid=none", "after_throw=" + alice, "outside=none"});
}

TEST_CASE("context: ContextExecutor is a standard executor usable as any_io_executor", "[context]") {
    asio::io_context io;
    using Wrapped = x402::session::ContextExecutor<asio::strand<asio::io_context::executor_type>>;
    static_assert(asio::execution::is_executor<Wrapped>::value);
    static_assert(std::is_convertible_v<Wrapped, asio::any_io_executor>);

    auto context = std::make_shared<const x402::session::Context>(
        x402::session::Session(alice, x402::session::AnyStore::make<x402::session::InMemoryStore>()));
    Wrapped a(asio::make_strand(io), context);
    Wrapped same = a;
    Wrapped other_context(a.get_inner_executor(), nullptr);
    CHECK(a == same);
    CHECK(a != other_context);
    CHECK(&asio::query(a, asio::execution::context) == &io);

    auto never = asio::require(a, asio::execution::blocking.never);
    CHECK(never.context() == context);
    CHECK(asio::query(never, asio::execution::blocking) == asio::execution::blocking.never);

    std::optional<std::string> seen;
    asio::post(a, [&] { seen = get_payer(); });
    test_support::run_io(io);
    CHECK(seen == alice);
    CHECK_FALSE(get_payer().has_value());
}

// The strand's ContextExecutor is stored in 16 bytes (an io_context executor
// and a shared node): each copy must still behave as the strand it stands for.
TEST_CASE("context: a strand's ContextExecutor keeps every property and the work it tracks", "[context]") {
    namespace execution = asio::execution;
    asio::io_context io;
    using Wrapped = x402::session::ContextExecutor<asio::strand<asio::io_context::executor_type>>;
    static_assert(sizeof(Wrapped) <= sizeof(std::shared_ptr<void>) + sizeof(void*), "kept in place by any_io_executor");

    auto context = std::make_shared<const x402::session::Context>(
        x402::session::Session(alice, x402::session::AnyStore::make<x402::session::InMemoryStore>()));
    const auto strand = asio::make_strand(io);
    const Wrapped a(strand, context);

    SECTION("run-time properties are kept per copy and reach the inner strand") {
        const auto never = asio::require(a, execution::blocking.never);
        const auto continuation = asio::prefer(never, execution::relationship.continuation);
        CHECK(asio::query(a, execution::blocking) == execution::blocking.possibly);
        CHECK(asio::query(never, execution::blocking) == execution::blocking.never);
        CHECK(asio::query(continuation, execution::blocking) == execution::blocking.never);
        CHECK(asio::query(continuation, execution::relationship) == execution::relationship.continuation);
        CHECK(asio::query(never.get_inner_executor(), execution::blocking) == execution::blocking.never);
        CHECK(asio::query(continuation.get_inner_executor(), execution::relationship) ==
              execution::relationship.continuation);
        const auto back = asio::require(continuation, execution::blocking.possibly);
        CHECK(asio::query(back, execution::blocking) == execution::blocking.possibly);
        CHECK(asio::query(back, execution::relationship) == execution::relationship.continuation);
        // One strand and one context, whatever the properties.
        CHECK(never == a);
        CHECK(continuation == a);
        CHECK(a.get_inner_executor() == strand);
        CHECK(continuation.context() == context);
    }

    SECTION("equal only for the same strand and the same context") {
        CHECK(a == Wrapped(strand, context));
        CHECK(a != Wrapped(strand, nullptr));
        CHECK(a != Wrapped(asio::make_strand(io), context));
    }

    SECTION("a tracked copy keeps the io_context running until it is gone, an untracked one does not") {
        std::optional<decltype(asio::require(a, execution::outstanding_work.tracked))> tracked;
        tracked.emplace(asio::require(a, execution::outstanding_work.tracked));
        CHECK(asio::query(*tracked, execution::outstanding_work) == execution::outstanding_work.tracked);
        CHECK(asio::query(tracked->get_inner_executor(), execution::outstanding_work) ==
              execution::outstanding_work.tracked);
        CHECK(tracked->context() == context);
        // With work outstanding, running out of handlers does not stop the io_context.
        io.poll();
        CHECK_FALSE(io.stopped());
        const auto untracked = asio::require(*tracked, execution::outstanding_work.untracked);
        tracked.reset();
        io.poll();
        CHECK(io.stopped());
        CHECK(asio::query(untracked, execution::outstanding_work) == execution::outstanding_work.untracked);
    }

    SECTION("each property's copy runs its function in the context, through the strand") {
        std::vector<std::string> seen;
        auto note = [&](std::string label) {
            // Inside a scope the strand's own check is hidden (InlineDispatchBarrier).
            return [&seen, label, strand] {
                const bool on_strand = x402::session::detail::InlineDispatchBarrier::outside_innermost(
                    [&strand]() noexcept { return strand.running_in_this_thread(); });
                seen.push_back(label + "=" + get_payer().value_or("none") + (on_strand ? "" : " off the strand"));
            };
        };
        asio::execution::execute(a, note("possibly"));
        asio::execution::execute(asio::require(a, execution::blocking.never), note("never"));
        asio::execution::execute(asio::prefer(a, execution::relationship.continuation), note("continuation"));
        asio::execution::execute(asio::require(a, execution::outstanding_work.tracked), note("tracked"));
        asio::post(asio::any_io_executor(a), note("type_erased"));
        test_support::run_io(io);
        CHECK(seen == std::vector<std::string>{"possibly=" + alice, "never=" + alice, "continuation=" + alice,
                                               "tracked=" + alice, "type_erased=" + alice});
        CHECK_FALSE(get_payer().has_value());
    }
}
