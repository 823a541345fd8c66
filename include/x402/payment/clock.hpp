// The wall clock the payment layer reads, injectable so tests never sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace x402::payment {

/// Returns "now" as unix seconds.
using UnixClock = std::function<std::uint64_t()>;

/// The system clock as unix seconds (0 if it reads before 1970).
inline std::uint64_t system_unix_seconds() {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return seconds < 0 ? 0 : static_cast<std::uint64_t>(seconds);
}

}  // namespace x402::payment
