// The thread-local slot behind get_session(): which context the code now
// running on this thread belongs to. Only ContextScope writes it.
#pragma once

#include <memory>

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

/// Installs `context` on this thread for the scope's lifetime and restores the
/// previous one on exit, exceptions included; scopes nest. `context` (the
/// shared_ptr object itself) must outlive the scope. Never hold one across a
/// co_await: the coroutine may resume on another thread.
class ContextScope {
public:
    explicit ContextScope(const ContextPtr& context) noexcept : previous_(exchange_context_slot(&context)) {}
    ~ContextScope() { exchange_context_slot(previous_); }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    const ContextPtr* previous_;
};

}  // namespace x402::session::detail
