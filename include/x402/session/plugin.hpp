// SessionPlugin: owns the store and runs handlers inside a payer's context
// (SPEC §7). The x402 hook calls it after verifying a payment.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/context.hpp>
#include <x402/session/in_memory_store.hpp>
#include <x402/session/session.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
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

/// Runs `handler()` as a new coroutine on a ContextExecutor holding `context`
/// and returns its result. The coroutine runs on the caller's strand when the
/// caller already runs on one (its parent is suspended meanwhile), otherwise
/// on a new strand. The caller resumes inside the context it had when it
/// called, never inside the handler's.
template <class Handler>
awaitable<handler_result_t<Handler>> spawn_in_context(std::shared_ptr<const Context> context, Handler handler) {
    namespace asio = boost::asio;
    using IoStrand = asio::strand<asio::io_context::executor_type>;
    using AnyStrand = asio::strand<asio::any_io_executor>;

    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    // The child completes by dispatching to the caller's executor; when that
    // runs inline, this binding makes the caller resume in its own context
    // rather than inside the child's scope.
    auto resume_caller =
        asio::bind_executor(ContextExecutor<asio::any_io_executor>(caller, current_context()), asio::use_awaitable);

    if (auto* wrapped = caller.target<ContextExecutor<IoStrand>>()) {
        co_return co_await asio::co_spawn(ContextExecutor<IoStrand>(wrapped->get_inner_executor(), context),
                                          std::move(handler), resume_caller);
    }
    if (auto* strand = caller.target<IoStrand>()) {
        co_return co_await asio::co_spawn(ContextExecutor<IoStrand>(*strand, context), std::move(handler),
                                          resume_caller);
    }
    if (auto* io = caller.target<asio::io_context::executor_type>()) {
        co_return co_await asio::co_spawn(ContextExecutor<IoStrand>(asio::make_strand(*io), context),
                                          std::move(handler), resume_caller);
    }
    if (auto* wrapped = caller.target<ContextExecutor<AnyStrand>>()) {
        co_return co_await asio::co_spawn(ContextExecutor<AnyStrand>(wrapped->get_inner_executor(), context),
                                          std::move(handler), resume_caller);
    }
    co_return co_await asio::co_spawn(ContextExecutor<AnyStrand>(asio::make_strand(caller), context),
                                      std::move(handler), resume_caller);
}

}  // namespace detail

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

    /// `run` with no payer.
    template <class Handler>
        requires detail::is_awaitable<std::invoke_result_t<Handler&>>::value
    awaitable<detail::handler_result_t<Handler>> run_without_payer(Handler handler) const {
        return detail::spawn_in_context(nullptr, std::move(handler));
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
