// Counts the heap in use, for the memory-per-entry benchmark: this header
// replaces the global operator new/delete of the program that includes it
// (include it in one translation unit only).
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace bench {

struct AllocationSnapshot {
    long long heap_bytes;  // usable bytes of live blocks plus malloc's 8-byte header each
    long long live_allocations;
};

namespace detail {
inline std::atomic<long long> heap_bytes{0};
inline std::atomic<long long> live_allocations{0};
inline constexpr long long malloc_header = 8;  // glibc's per-chunk size field

inline void* allocate(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    // Relaxed counters: a few nanoseconds per allocation, the same in every
    // benchmark of the program, so comparisons stay fair.
    heap_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)) + malloc_header, std::memory_order_relaxed);
    live_allocations.fetch_add(1, std::memory_order_relaxed);
    return p;
}

inline void release(void* p) noexcept {
    if (p == nullptr) return;
    heap_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)) + malloc_header, std::memory_order_relaxed);
    live_allocations.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
}
}  // namespace detail

inline AllocationSnapshot allocation_snapshot() {
    return {detail::heap_bytes.load(), detail::live_allocations.load()};
}

}  // namespace bench

void* operator new(std::size_t size) { return bench::detail::allocate(size); }
void* operator new[](std::size_t size) { return bench::detail::allocate(size); }
void operator delete(void* p) noexcept { bench::detail::release(p); }
void operator delete[](void* p) noexcept { bench::detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { bench::detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { bench::detail::release(p); }
