// The thread-local slot behind get_session(): which context the code now
// running on this thread belongs to. Only ContextScope writes it.
#pragma once

#include <boost/asio/detail/call_stack.hpp>
#include <boost/asio/detail/config.hpp>
#include <boost/asio/detail/strand_executor_service.hpp>
#include <boost/asio/detail/strand_service.hpp>
#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>
#include <boost/asio/detail/tss_ptr.hpp>
#include <boost/version.hpp>

#include <memory>
#include <optional>

// InlineDispatchBarrier reaches Asio's per-thread call stacks through a
// tss_ptr of the same type, which aliases Asio's own only when tss_ptr is the
// compiler's thread-local keyword (g++ and clang on Linux). Elsewhere the
// barrier would silently do nothing, so refuse to build.
#if defined(BOOST_ASIO_HAS_THREADS) && !defined(BOOST_ASIO_HAS_THREAD_KEYWORD_EXTENSION)
#error "x402-session needs Asio's thread-keyword tss_ptr (g++ or clang on Linux) to isolate payer contexts"
#endif
#if BOOST_VERSION < 108100 || BOOST_VERSION >= 109000
#error "x402-session's payer isolation is written against Boost.Asio 1.81 to 1.89 call stacks; check InlineDispatchBarrier"
#endif

namespace x402::session {
class Context;
}

namespace x402::session::detail {

using ContextPtr = std::shared_ptr<const Context>;

inline const ContextPtr*& context_slot() noexcept {
    static thread_local const ContextPtr* slot = nullptr;
    return slot;
}

// Reached only through these non-inlined accessors, so no coroutine body can
// cache the thread-local's address across a suspension and read another
// thread's slot after it resumes elsewhere (clang < 16 may do that).
[[gnu::noinline]] inline const ContextPtr* current_context_slot() noexcept { return context_slot(); }

[[gnu::noinline]] inline const ContextPtr* exchange_context_slot(const ContextPtr* next) noexcept {
    const ContextPtr*& slot = context_slot();
    const ContextPtr* previous = slot;
    slot = next;
    return previous;
}

/// The context installed on this thread now; null outside any scope and in a
/// scope entered with no payer.
inline ContextPtr current_context() {
    const ContextPtr* slot = current_context_slot();
    return slot != nullptr ? *slot : nullptr;
}

/// While alive, no Asio executor runs submitted work inline on this thread.
///
/// Asio runs a function inline, nested inside whatever function is running,
/// when its executor believes it already owns the thread: an io_context or
/// thread_pool executor whose scheduler is on this thread's call stack, or a
/// strand that is (or, when idle, whose inner executor is) running here. That
/// nested function would see the payer slot of the function around it,
/// although it belongs to someone else. The barrier empties the three call
/// stacks those checks read, so every such executor queues the function
/// instead, and it later runs from the scheduler loop under its own
/// executor's scope (or none). The stacks are restored on exit, so the
/// enclosing strand and scheduler carry on as before.
///
/// The schedulers' stack is replaced rather than emptied: by one frame under
/// a key that is no scheduler, carrying this thread's thread_info_base. No
/// scheduler then finds itself running here, yet Asio still recycles handler
/// and coroutine-frame memory through that thread_info_base (with the stack
/// empty it would fall back to the heap on every operation). Only the
/// scheduler-private queues are bypassed: work posted inside the barrier
/// goes through the shared queue.
class InlineDispatchBarrier {
    template <class Key, class Value = unsigned char>
    class Hidden {
        using Frame = typename boost::asio::detail::call_stack<Key, Value>::context;

    public:
        Hidden() noexcept : saved_(top_) { top_ = nullptr; }
        ~Hidden() { top_ = saved_; }
        Hidden(const Hidden&) = delete;
        Hidden& operator=(const Hidden&) = delete;

        /// Puts the hidden stack back until unreveal(`returned`).
        Frame* reveal() noexcept {
            Frame* current = top_;
            top_ = saved_;
            return current;
        }
        void unreveal(Frame* current) noexcept { top_ = current; }

    private:
        // Aliases call_stack<Key, Value>::top_: every keyword tss_ptr<T> reads
        // and writes one static thread-local per T.
        boost::asio::detail::tss_ptr<Frame> top_;
        Frame* saved_;
    };

    class StandInScheduler {
        using Stack = boost::asio::detail::call_stack<boost::asio::detail::thread_context,
                                                      boost::asio::detail::thread_info_base>;

    public:
        StandInScheduler() noexcept {
            if (info_ != nullptr) frame_.emplace(&no_scheduler(), *info_);
        }
        StandInScheduler(const StandInScheduler&) = delete;
        StandInScheduler& operator=(const StandInScheduler&) = delete;

        Hidden<boost::asio::detail::thread_context, boost::asio::detail::thread_info_base>& hidden() noexcept {
            return hidden_;
        }

    private:
        // A key no scheduler has: contains(scheduler) fails for every one.
        static boost::asio::detail::thread_context& no_scheduler() noexcept {
            static boost::asio::detail::thread_context key;
            return key;
        }

        // In declaration order: read the top's memory, empty the stack, push
        // the stand-in (so it has no frame below it). Destroyed in reverse:
        // the stand-in pops to empty, then the stack is restored.
        boost::asio::detail::thread_info_base* info_ = Stack::top();
        Hidden<boost::asio::detail::thread_context, boost::asio::detail::thread_info_base> hidden_;
        std::optional<Stack::context> frame_;
    };

    StandInScheduler schedulers_;
    Hidden<boost::asio::detail::strand_executor_service::strand_impl> strands_;
    Hidden<boost::asio::detail::strand_service::strand_impl> io_context_strands_;

    InlineDispatchBarrier* outer_;

    // The slot itself, read and written only through the non-inlined
    // accessors below (for the same reason as the context slot's above).
    static InlineDispatchBarrier*& innermost_slot() noexcept {
        static thread_local InlineDispatchBarrier* innermost = nullptr;
        return innermost;
    }
    [[gnu::noinline]] static InlineDispatchBarrier* exchange_innermost(InlineDispatchBarrier* next) noexcept {
        InlineDispatchBarrier*& innermost = innermost_slot();
        InlineDispatchBarrier* previous = innermost;
        innermost = next;
        return previous;
    }
    [[gnu::noinline]] static InlineDispatchBarrier* current_innermost() noexcept { return innermost_slot(); }

public:
    InlineDispatchBarrier() noexcept : outer_(exchange_innermost(this)) {}
    ~InlineDispatchBarrier() { exchange_innermost(outer_); }
    InlineDispatchBarrier(const InlineDispatchBarrier&) = delete;
    InlineDispatchBarrier& operator=(const InlineDispatchBarrier&) = delete;

    /// `check()` (noexcept) with this thread's call stacks as they were
    /// outside the innermost barrier: what Asio would see there. For a
    /// context's own executor to tell whether its inner executor runs here.
    template <class Check>
    static bool outside_innermost(Check check) noexcept {
        InlineDispatchBarrier* barrier = current_innermost();
        if (barrier == nullptr) return check();
        auto* schedulers = barrier->schedulers_.hidden().reveal();
        auto* strands = barrier->strands_.reveal();
        auto* io_context_strands = barrier->io_context_strands_.reveal();
        const bool result = check();
        barrier->io_context_strands_.unreveal(io_context_strands);
        barrier->strands_.unreveal(strands);
        barrier->schedulers_.hidden().unreveal(schedulers);
        return result;
    }
};

/// Installs `context` on this thread for the scope's lifetime and restores the
/// previous one on exit, exceptions included; scopes nest. Inside it no Asio
/// executor runs other work inline (InlineDispatchBarrier), so nothing but
/// the scope's own function ever sees `context`. `context` (the shared_ptr
/// object itself) must outlive the scope. Never hold one across a co_await:
/// the coroutine may resume on another thread.
class ContextScope {
public:
    explicit ContextScope(const ContextPtr& context) noexcept : previous_(exchange_context_slot(&context)) {}
    ~ContextScope() { exchange_context_slot(previous_); }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    InlineDispatchBarrier barrier_;
    const ContextPtr* previous_;
};

}  // namespace x402::session::detail
