// SessionPlugin: owns the store and runs handlers inside a payer's context.
// The x402 hook calls it after verifying a payment.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/context.hpp>
#include <x402/session/in_memory_store.hpp>
#include <x402/session/session.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <concepts>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace x402::session {

/// A payer whose payment was verified. The only way to make one is
/// `assume_verified`, named so that a grep finds every place that vouches
/// for a payer: the x402 verification hook, and tests.
class VerifiedPayer {
public:
    /// Vouches that `payer` signed a payment that was verified. Never call it
    /// with a payer taken from a request without verification: whoever
    /// controls that string reads and writes that payer's session.
    /// Throws std::invalid_argument("payer must not be empty").
    static VerifiedPayer assume_verified(std::string payer) {
        if (payer.empty()) throw std::invalid_argument("payer must not be empty");
        return VerifiedPayer(std::move(payer));
    }

    const std::string& value() const noexcept { return payer_; }

private:
    explicit VerifiedPayer(std::string payer) noexcept : payer_(std::move(payer)) {}
    std::string payer_;
};

namespace detail {

template <class Handler>
using handler_result_t = typename std::invoke_result_t<Handler&>::value_type;

template <class T>
struct is_awaitable : std::false_type {};
template <class T, class Executor>
struct is_awaitable<boost::asio::awaitable<T, Executor>> : std::true_type {};

/// Clears a cancellation slot when the coroutine that assigned it ends.
struct ClearSlotOnExit {
    boost::asio::cancellation_slot slot;
    ~ClearSlotOnExit() {
        if (slot.is_connected()) slot.clear();
    }
};

/// Runs `handler()` as a coroutine on `ContextExecutor<Strand>(strand, context)`.
///
/// A cancellation of the caller (e.g. the losing side of `||`) reaches the
/// handler through a signal kept alive until it has been delivered: Boost
/// 1.81's co_spawn forwards it with a raw pointer to a signal living in the
/// caller's slot, dispatched to the child's executor. That dispatch is queued
/// inside a scope (nothing runs inline there), and by the time it runs the
/// caller's slot may have been freed. Here the signal is shared, and a no-op
/// posted behind the emission on the child's strand releases it only after
/// the emission has run.
template <class Strand, class Handler>
awaitable<handler_result_t<Handler>> spawn_on(Strand strand, std::shared_ptr<const Context> context, Handler handler) {
    namespace asio = boost::asio;
    const ContextExecutor<Strand> executor(std::move(strand), std::move(context));
    const asio::cancellation_state caller_state = co_await asio::this_coro::cancellation_state;
    asio::cancellation_slot caller_slot = caller_state.slot();
    if (!caller_slot.is_connected()) co_return co_await asio::co_spawn(executor, std::move(handler), asio::use_awaitable);

    auto forward = std::make_shared<asio::cancellation_signal>();
    caller_slot.assign([forward, executor](asio::cancellation_type type) {
        forward->emit(type);
        asio::post(executor, [forward] {});
    });
    const ClearSlotOnExit clear{caller_slot};
    co_return co_await asio::co_spawn(executor, std::move(handler),
                                      asio::bind_cancellation_slot(forward->slot(), asio::use_awaitable));
}

/// Runs `handler()` as a new coroutine on a ContextExecutor holding `context`
/// and returns its result. The coroutine runs on the caller's strand when the
/// caller already runs on one (its parent is suspended meanwhile), otherwise
/// on a new strand. The caller resumes in its own context, never inside the
/// handler's: the child completes from inside its own scope, where nothing
/// runs inline (ContextScope), so the caller's resumption is queued and
/// starts under the caller's own executor. For the same reason the child
/// never completes inline into an awaitable operator (`&&`, `||`) waiting on
/// it, the pattern that is a use-after-free in Boost 1.81.
template <class Handler>
awaitable<handler_result_t<Handler>> spawn_in_context(std::shared_ptr<const Context> context, Handler handler) {
    namespace asio = boost::asio;
    using IoStrand = asio::strand<asio::io_context::executor_type>;
    using AnyStrand = asio::strand<asio::any_io_executor>;

    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    std::optional<IoStrand> io_strand;
    std::optional<AnyStrand> any_strand;
    const bool in_context = visit_context_executor(caller, [&]<class Inner>(const ContextExecutor<Inner>& wrapped) {
        if constexpr (std::same_as<Inner, IoStrand>) io_strand = wrapped.get_inner_executor();
        else if constexpr (std::same_as<Inner, AnyStrand>) any_strand = wrapped.get_inner_executor();
        else any_strand = asio::make_strand(asio::any_io_executor(wrapped.get_inner_executor()));
    });
    if (!in_context) {
        if (const auto* strand = caller.target<IoStrand>()) io_strand = *strand;
        else if (const auto* io = caller.target<asio::io_context::executor_type>()) io_strand = asio::make_strand(*io);
        else any_strand = asio::make_strand(caller);
    }
    if (io_strand) co_return co_await spawn_on(std::move(*io_strand), std::move(context), std::move(handler));
    co_return co_await spawn_on(std::move(*any_strand), std::move(context), std::move(handler));
}

}  // namespace detail

/// Runs `handler()`, a callable returning `awaitable<T>`, as a coroutine with
/// no payer: get_session() inside it is nullopt, even when the caller is a
/// paid handler (unpaid work nested in a paid handler inherits nothing).
/// Returns the handler's result and rethrows its exception; the caller's own
/// context is untouched. Needs no store.
template <class Handler>
    requires detail::is_awaitable<std::invoke_result_t<Handler&>>::value
awaitable<detail::handler_result_t<Handler>> run_without_payer(Handler handler) {
    return detail::spawn_in_context(nullptr, std::move(handler));
}

/// The session plugin of a server: its store (the in-memory store unless the
/// user supplies one) and the calls that run handlers in a payer's context.
///
///     x402::session::SessionPlugin sessions;              // InMemoryStore
///     auto payer = x402::session::VerifiedPayer::assume_verified(verified.payer);
///     auto reply = co_await sessions.run(payer, [] { return my_tool(); });
///
/// Thread-safe; copies share the store.
class SessionPlugin {
public:
    static constexpr std::string_view name = "session";

    /// An InMemoryStore with the default options.
    SessionPlugin() : store_(AnyStore::make<InMemoryStore>()) {}

    explicit SessionPlugin(AnyStore store) : store_(std::move(store)) {}

    const AnyStore& store() const noexcept { return store_; }

    /// The session of `payer` in this plugin's store.
    Session session_for(const VerifiedPayer& payer) const { return Session(payer.value(), store_); }

    /// Runs `handler()`, a callable returning `awaitable<T>`, as a coroutine in
    /// `payer`'s context: get_session() inside it, after every co_await and
    /// in every function it calls, returns that payer's session. With
    /// nullopt, the handler runs in no context: unpaid work nested inside a
    /// paid handler inherits nothing. Returns the handler's result and
    /// rethrows its exception; the caller's own context is untouched.
    template <class Handler>
        requires detail::is_awaitable<std::invoke_result_t<Handler&>>::value
    awaitable<detail::handler_result_t<Handler>> run(std::optional<VerifiedPayer> payer, Handler handler) const {
        return detail::spawn_in_context(context_for(payer), std::move(handler));
    }

    /// The staging session of `payer` over `writes` (Session::staged): what
    /// `run_staged` runs the handler in, and what `commit` takes afterwards.
    Session staged_session_for(const VerifiedPayer& payer, std::shared_ptr<WriteSet> writes) const {
        return Session::staged(payer.value(), store_, std::move(writes));
    }

    /// `run` in staging mode: the handler's session (get_session()) stages its
    /// writes into `writes` and reads them back; nothing reaches the store
    /// until the caller commits, e.g. `co_await commit(staged_session_for(payer,
    /// writes))` once the payment has settled.
    template <class Handler>
        requires detail::is_awaitable<std::invoke_result_t<Handler&>>::value
    awaitable<detail::handler_result_t<Handler>> run_staged(const VerifiedPayer& payer, std::shared_ptr<WriteSet> writes,
                                                            Handler handler) const {
        auto context = std::make_shared<const Context>(staged_session_for(payer, std::move(writes)));
        return detail::spawn_in_context(std::move(context), std::move(handler));
    }

    /// `run` with no payer: the free function x402::session::run_without_payer.
    template <class Handler>
        requires detail::is_awaitable<std::invoke_result_t<Handler&>>::value
    awaitable<detail::handler_result_t<Handler>> run_without_payer(Handler handler) const {
        return session::run_without_payer(std::move(handler));
    }

    /// Calls `function()`, plain synchronous code, on this thread inside
    /// `payer`'s context (none for nullopt), restoring the previous context
    /// afterwards, exceptions included. Not for coroutines: use `run`.
    template <class Function>
        requires(!detail::is_awaitable<std::invoke_result_t<Function&>>::value)
    std::invoke_result_t<Function&> call(std::optional<VerifiedPayer> payer, Function&& function) const {
        const std::shared_ptr<const Context> context = context_for(payer);
        detail::ContextScope scope(context);
        return function();
    }

private:
    std::shared_ptr<const Context> context_for(const std::optional<VerifiedPayer>& payer) const {
        if (!payer) return nullptr;
        return std::make_shared<const Context>(session_for(*payer));
    }

    AnyStore store_;
};

}  // namespace x402::session
