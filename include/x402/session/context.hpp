// The payer context: get_session() / get_payer() from anywhere inside a
// handler, thread-local for plain code and coroutine-local for Boost.Asio
// coroutines.
//
// How it works: a handler coroutine is spawned on a ContextExecutor, an
// executor that wraps a strand and installs its context around every function
// it runs. Every resumption of the coroutine goes through its executor, so
// after each co_await the thread-local slot again names the coroutine's own
// context, whichever coroutines ran on that thread meanwhile.
//
// What holds: a function runs with the payer of the ContextExecutor it was
// submitted to, and with no payer when it was submitted to any other
// executor, however it is delivered (dispatch, post, defer, co_spawn, a
// completion from inside another payer's handler): while a ContextExecutor
// runs a function, no Asio executor runs other work inline on that thread
// (detail::InlineDispatchBarrier), so foreign work is queued and starts later
// in its own executor's scope. docs/context.md lists every delivery path.
//
// Two rules remain for code that hands work around by hand:
//  - an I/O object created on a ContextExecutor keeps it, so its callbacks run
//    in that payer's context: shared objects (stores, pools, connections) are
//    built on a plain executor; the library's own refuse a context executor
//    (require_plain_executor);
//  - a std::thread started inside a scope inherits nothing.
#pragma once

#include <x402/session/detail/context_slot.hpp>
#include <x402/session/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/strand.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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
/// context. `Inner` is a strand (or an executor that may hold one): Boost
/// 1.81's awaitable operators (`||`, `&&`) are not safe on a bare
/// multi-threaded io_context executor (asio issue #1348). The inner types are
/// a closed set (detail::context_inner_executor) so that
/// is_context_executor() can recognise every ContextExecutor at run time.
/// Copies share the context; comparing compares inner executor and context.
///
/// For a strand of an io_context (the executor SessionPlugin uses) a
/// specialisation below keeps the object at 16 bytes, so that any_io_executor
/// stores it in place: every `co_await` re-wraps the coroutine's executor with
/// new properties, and a larger one would cost two heap allocations each time.
template <class Inner>
class ContextExecutor;

namespace detail {

template <class T>
struct is_io_context_executor : std::false_type {};
template <class Allocator, std::uintptr_t Bits>
struct is_io_context_executor<boost::asio::io_context::basic_executor_type<Allocator, Bits>> : std::true_type {};

template <class T>
struct is_strand_of_io_context : std::false_type {};
template <class Inner>
struct is_strand_of_io_context<boost::asio::strand<Inner>> : is_io_context_executor<Inner> {};

/// The executors a ContextExecutor may wrap: an io_context executor or a
/// strand of one, or a type-erased executor or a strand of one, with any of
/// the blocking / relationship / outstanding-work properties Asio requires.
template <class T>
concept context_inner_executor =
    is_io_context_executor<T>::value || is_strand_of_io_context<T>::value ||
    std::same_as<T, boost::asio::any_io_executor> || std::same_as<T, boost::asio::strand<boost::asio::any_io_executor>>;

/// Whether a ContextExecutor of `context` over `strand` runs a function
/// inline now: only where Asio would (the strand is not blocking.never and
/// runs on this thread, as seen outside the barrier) and only when the code
/// running is already this very context's. Never for a no-payer context:
/// every one is null, and two of them (a run_without_payer child and its
/// parent) are not "the same".
template <class Strand>
bool runs_own_work_inline(const ContextPtr& context, const Strand& strand) noexcept {
    if (!context) return false;
    if (boost::asio::query(strand, boost::asio::execution::blocking) == boost::asio::execution::blocking.never) return false;
    const ContextPtr* running = current_context_slot();
    if (running == nullptr || *running != context) return false;
    return InlineDispatchBarrier::outside_innermost([&strand]() noexcept { return strand.running_in_this_thread(); });
}

/// The strands the 16-byte ContextExecutor handles: of an io_context executor
/// with the default allocator, tracked or not.
template <class T>
struct is_compact_context_strand : std::false_type {};
template <std::uintptr_t Bits>
struct is_compact_context_strand<boost::asio::strand<boost::asio::io_context::basic_executor_type<std::allocator<void>, Bits>>>
    : std::true_type {};

/// What all copies of a strand's ContextExecutor share: the context, and the
/// strand once for each combination of the two properties an io_context
/// executor keeps at run time (blocking.never, relationship.continuation), so
/// that execute() finds the strand it needs without copying one. The strands
/// track no work: each ContextExecutor keeps its own io_context executor,
/// which tracks work exactly as the strand it stands for would.
class StrandContextNode : public boost::intrusive_ref_counter<StrandContextNode, boost::thread_safe_counter> {
public:
    using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

    StrandContextNode(const Strand& plain, ContextPtr shared_context)
        : context(std::move(shared_context)),
          strands_{plain, boost::asio::require(plain, boost::asio::execution::blocking.never),
                   boost::asio::require(plain, boost::asio::execution::relationship.continuation),
                   boost::asio::require(boost::asio::require(plain, boost::asio::execution::relationship.continuation),
                                        boost::asio::execution::blocking.never)} {}

    /// The strand whose executor has the run-time properties of `executor`.
    template <std::uintptr_t Bits>
    const Strand& strand_for(const boost::asio::io_context::basic_executor_type<std::allocator<void>, Bits>& executor) const noexcept {
        namespace execution = boost::asio::execution;
        const bool never = boost::asio::query(executor, execution::blocking) == execution::blocking.never;
        const bool continuation =
            boost::asio::query(executor, execution::relationship) == execution::relationship.continuation;
        return strands_[(never ? 1U : 0U) | (continuation ? 2U : 0U)];
    }

    const Strand& plain_strand() const noexcept { return strands_[0]; }

    const ContextPtr context;

private:
    std::array<Strand, 4> strands_;
};

}  // namespace detail

template <class Inner>
class ContextExecutor {
    static_assert(detail::context_inner_executor<Inner>,
                  "ContextExecutor wraps an io_context executor, a strand, or any_io_executor");

public:
    using inner_executor_type = Inner;

    ContextExecutor(Inner inner, std::shared_ptr<const Context> context) noexcept
        : inner_(std::move(inner)), context_(std::move(context)) {}

    const Inner& get_inner_executor() const noexcept { return inner_; }
    const std::shared_ptr<const Context>& context() const noexcept { return context_; }

    /// Runs `function` in this executor's payer context, on the inner
    /// executor. Inline only where Asio would run it inline and the code
    /// running now is already this very context's (its own dispatch, e.g. a
    /// coroutine resuming itself): foreign work is never run inline here.
    template <class Function>
    void execute(Function&& function) const {
        if (runs_own_work_inline()) {
            std::decay_t<Function> own(std::forward<Function>(function));
            std::move(own)();
            return;
        }
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
    // Strands only: an io_context executor's own inline path catches what
    // the function throws and rethrows it from run(), which this would not.
    bool runs_own_work_inline() const noexcept {
        if constexpr (detail::is_strand_of_io_context<Inner>::value ||
                      std::same_as<Inner, boost::asio::strand<boost::asio::any_io_executor>>) {
            return detail::runs_own_work_inline(context_, inner_);
        } else {
            return false;
        }
    }

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

/// The ContextExecutor of a strand of an io_context, in 16 bytes: this copy's
/// io_context executor (its tracked-work bit and run-time properties) and a
/// pointer to the strand and context all copies share. Behaves exactly as
/// the general one; only the layout differs.
template <std::uintptr_t Bits>
class ContextExecutor<boost::asio::strand<boost::asio::io_context::basic_executor_type<std::allocator<void>, Bits>>> {
    using IoExecutor = boost::asio::io_context::basic_executor_type<std::allocator<void>, Bits>;
    using Node = detail::StrandContextNode;
    static constexpr bool tracks_work =
        std::same_as<IoExecutor, std::decay_t<decltype(boost::asio::require(std::declval<boost::asio::io_context::executor_type>(),
                                                                            boost::asio::execution::outstanding_work.tracked))>>;

public:
    using inner_executor_type = boost::asio::strand<IoExecutor>;

    ContextExecutor(const inner_executor_type& inner, std::shared_ptr<const Context> context)
        : executor_(inner.get_inner_executor()), node_(new Node(plain(inner), std::move(context))) {}

    // Asio wants executors nothrow-copyable; boost::intrusive_ptr's copy does
    // not say noexcept, though it only increments a counter.
    ContextExecutor(const ContextExecutor&) noexcept = default;
    ContextExecutor(ContextExecutor&&) noexcept = default;
    ContextExecutor& operator=(const ContextExecutor&) noexcept = default;
    ContextExecutor& operator=(ContextExecutor&&) noexcept = default;
    ~ContextExecutor() = default;

    /// The strand with this executor's properties (a copy: it is not stored).
    inner_executor_type get_inner_executor() const noexcept {
        if constexpr (tracks_work) {
            return boost::asio::require(node_->strand_for(executor_), boost::asio::execution::outstanding_work.tracked);
        } else {
            return node_->strand_for(executor_);
        }
    }
    const std::shared_ptr<const Context>& context() const noexcept { return node_->context; }

    /// As the general ContextExecutor::execute.
    template <class Function>
    void execute(Function&& function) const {
        const auto& strand = node_->strand_for(executor_);
        if (detail::runs_own_work_inline(node_->context, strand)) {
            std::decay_t<Function> own(std::forward<Function>(function));
            std::move(own)();
            return;
        }
        strand.execute(Installer<std::decay_t<Function>>{node_, std::forward<Function>(function)});
    }

    // A strand forwards every query to its inner executor, and so does this.
    template <class Property>
    auto query(const Property& property) const
        noexcept(noexcept(boost::asio::query(std::declval<const IoExecutor&>(), property)))
            -> decltype(boost::asio::query(std::declval<const IoExecutor&>(), property)) {
        return boost::asio::query(executor_, property);
    }

    template <class Property>
    auto require(const Property& property) const
        -> ContextExecutor<std::decay_t<decltype(boost::asio::require(std::declval<const inner_executor_type&>(), property))>> {
        using Result = std::decay_t<decltype(boost::asio::require(std::declval<const inner_executor_type&>(), property))>;
        if constexpr (detail::is_compact_context_strand<Result>::value) {
            return ContextExecutor<Result>(boost::asio::require(executor_, property), node_);
        } else {
            return {boost::asio::require(get_inner_executor(), property), node_->context};
        }
    }

    template <class Property>
    auto prefer(const Property& property) const
        -> ContextExecutor<std::decay_t<decltype(boost::asio::prefer(std::declval<const inner_executor_type&>(), property))>> {
        using Result = std::decay_t<decltype(boost::asio::prefer(std::declval<const inner_executor_type&>(), property))>;
        if constexpr (detail::is_compact_context_strand<Result>::value) {
            return ContextExecutor<Result>(boost::asio::prefer(executor_, property), node_);
        } else {
            return {boost::asio::prefer(get_inner_executor(), property), node_->context};
        }
    }

    // Strands compare equal when they are one strand, whatever their
    // properties; so do these, when they also share the context.
    friend bool operator==(const ContextExecutor& a, const ContextExecutor& b) noexcept {
        return a.node_ == b.node_ ||
               (a.node_->context == b.node_->context && a.node_->plain_strand() == b.node_->plain_strand());
    }
    friend bool operator!=(const ContextExecutor& a, const ContextExecutor& b) noexcept { return !(a == b); }

private:
    template <class>
    friend class ContextExecutor;

    ContextExecutor(IoExecutor executor, boost::intrusive_ptr<const Node> node) noexcept
        : executor_(std::move(executor)), node_(std::move(node)) {}

    // The same strand with no tracked work and no run-time properties.
    static Node::Strand plain(const inner_executor_type& inner) {
        namespace execution = boost::asio::execution;
        return boost::asio::require(boost::asio::require(boost::asio::require(inner, execution::outstanding_work.untracked),
                                                         execution::blocking.possibly),
                                    execution::relationship.fork);
    }

    template <class Function>
    struct Installer {
        boost::intrusive_ptr<const Node> node;
        Function function;

        void operator()() {
            detail::ContextScope scope(node->context);
            std::move(function)();
        }
    };

    IoExecutor executor_;
    boost::intrusive_ptr<const Node> node_;
};

// Held in place by any_io_executor (its small-object buffer), see above.
static_assert(sizeof(ContextExecutor<boost::asio::strand<boost::asio::io_context::executor_type>>) <=
              sizeof(std::shared_ptr<void>) + sizeof(void*));

/// True for ContextExecutor types: the executors of a payer's context.
template <class Executor>
struct is_context_executor_type : std::false_type {};
template <class Inner>
struct is_context_executor_type<ContextExecutor<Inner>> : std::true_type {};
template <class Executor>
inline constexpr bool is_context_executor_v = is_context_executor_type<std::decay_t<Executor>>::value;

namespace detail {

/// Calls `visit(context_executor)` with the ContextExecutor held by `executor`
/// and returns true, or returns false when it holds none. Covers every inner
/// type the closed set allows, tracking work or not: of an io_context
/// executor's properties only outstanding_work is part of its type (blocking
/// and relationship are kept at run time).
template <class Visitor>
bool visit_context_executor(const boost::asio::any_io_executor& executor, Visitor&& visit) {
    namespace asio = boost::asio;
    using Untracked = asio::io_context::executor_type;
    using Tracked = std::decay_t<decltype(asio::require(std::declval<Untracked>(), asio::execution::outstanding_work.tracked))>;
    auto try_type = [&]<class Inner>(std::type_identity<Inner>) {
        if (const auto* held = executor.target<ContextExecutor<Inner>>()) {
            visit(*held);
            return true;
        }
        return false;
    };
    return try_type(std::type_identity<asio::strand<Untracked>>{}) || try_type(std::type_identity<asio::strand<Tracked>>{}) ||
           try_type(std::type_identity<Untracked>{}) || try_type(std::type_identity<Tracked>{}) ||
           try_type(std::type_identity<asio::strand<asio::any_io_executor>>{}) ||
           try_type(std::type_identity<asio::any_io_executor>{});
}

}  // namespace detail

/// Whether `executor` is a payer's context executor (any ContextExecutor,
/// however type-erased), e.g. the one `co_await this_coro::executor` gives
/// inside a handler.
inline bool is_context_executor(const boost::asio::any_io_executor& executor) {
    return detail::visit_context_executor(executor, [](const auto&) {});
}

/// Refuses to build a shared object on a payer's context executor: its I/O
/// callbacks would run in that payer's context. `what` names the object.
/// Throws std::invalid_argument("<what> must be built on a plain executor, not
/// a payer's context executor").
inline void require_plain_executor(const boost::asio::any_io_executor& executor, std::string_view what) {
    if (is_context_executor(executor)) {
        throw std::invalid_argument(std::string(what) + " must be built on a plain executor, not a payer's context executor");
    }
}

/// The compile-time form of require_plain_executor, for constructors taking a
/// concrete executor type: `requires plain_executor<Executor>`.
template <class Executor>
concept plain_executor = !is_context_executor_v<Executor>;

}  // namespace x402::session
