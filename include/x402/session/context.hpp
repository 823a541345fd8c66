// The payer context: get_session() / get_payer() from anywhere inside a
// handler, thread-local for plain code and coroutine-local for Boost.Asio
// coroutines (SPEC §6).
//
// How the coroutine-local part works: a handler coroutine is spawned on a
// ContextExecutor, an executor that wraps another (a strand) and installs its
// context around every function it runs. Every resumption of the coroutine
// goes through its executor, so after each co_await the thread-local slot
// again names the coroutine's own context, whichever coroutines ran on that
// thread meanwhile.
//
// What escapes it (each edge is pinned by a test):
//  - work handed to another executor (asio::post(plain_executor, fn), a
//    handler bound with asio::bind_executor to a plain executor or strand)
//    runs with that executor's context: none;
//  - a std::thread started inside a scope inherits nothing;
//  - an I/O object created on a ContextExecutor keeps it, so callbacks of that
//    object run in that payer's context: build shared objects (stores, pools,
//    connections) on a plain executor, and pass the payer to them explicitly;
//  - a third-party async operation that invokes a pending handler directly
//    instead of through its associated executor runs it in the caller's
//    context: complete handlers with asio::dispatch(get_associated_executor(h)).
#pragma once

#include <x402/session/detail/context_slot.hpp>
#include <x402/session/session.hpp>

#include <boost/asio/execution.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/require.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace x402::session {

/// What a context scope holds: the session of one verified payer, or none.
class Context {
public:
    explicit Context(std::optional<Session> session) noexcept : session_(std::move(session)) {}
    const std::optional<Session>& session() const noexcept { return session_; }

private:
    std::optional<Session> session_;
};

/// The current payer's session; nullopt outside any context, in a context
/// entered with no payer (a free route, an unpaid request) or when the
/// payment named no payer.
inline std::optional<Session> get_session() {
    const detail::ContextPtr* slot = detail::current_context_slot();
    if (slot == nullptr || *slot == nullptr) return std::nullopt;
    return (*slot)->session();
}

/// The current payer as given by the verification (e.g. EIP-55 checksummed),
/// or nullopt; shorthand for get_session()->payer().
inline std::optional<std::string> get_payer() {
    if (auto session = get_session()) return session->payer();
    return std::nullopt;
}

/// An executor that runs everything through `Inner` inside one context.
///
/// Spawn a coroutine on it and every resumption of that coroutine sees the
/// context (see the top of this header for what escapes it). Use a strand as
/// `Inner`: Boost 1.81's awaitable operators (`||`, `&&`) are not safe on a
/// bare multi-threaded io_context executor (asio issue #1348).
/// Copies share the context; comparing compares inner executor and context.
template <class Inner>
class ContextExecutor {
public:
    using inner_executor_type = Inner;

    ContextExecutor(Inner inner, std::shared_ptr<const Context> context) noexcept
        : inner_(std::move(inner)), context_(std::move(context)) {}

    const Inner& get_inner_executor() const noexcept { return inner_; }
    const std::shared_ptr<const Context>& context() const noexcept { return context_; }

    template <class Function>
    void execute(Function&& function) const {
        inner_.execute(Installer<std::decay_t<Function>>{context_, std::forward<Function>(function)});
    }

    template <class Property>
    auto query(const Property& property) const
        noexcept(noexcept(boost::asio::query(std::declval<const Inner&>(), property)))
            -> decltype(boost::asio::query(std::declval<const Inner&>(), property)) {
        return boost::asio::query(inner_, property);
    }

    template <class Property>
    auto require(const Property& property) const
        -> ContextExecutor<std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(), property))>> {
        return {boost::asio::require(inner_, property), context_};
    }

    template <class Property>
    auto prefer(const Property& property) const
        -> ContextExecutor<std::decay_t<decltype(boost::asio::prefer(std::declval<const Inner&>(), property))>> {
        return {boost::asio::prefer(inner_, property), context_};
    }

    friend bool operator==(const ContextExecutor& a, const ContextExecutor& b) noexcept {
        return a.context_ == b.context_ && a.inner_ == b.inner_;
    }
    friend bool operator!=(const ContextExecutor& a, const ContextExecutor& b) noexcept { return !(a == b); }

private:
    template <class Function>
    struct Installer {
        std::shared_ptr<const Context> context;
        Function function;

        void operator()() {
            detail::ContextScope scope(context);
            std::move(function)();
        }
    };

    Inner inner_;
    std::shared_ptr<const Context> context_;
};

}  // namespace x402::session
