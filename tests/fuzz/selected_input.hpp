// The libFuzzer entry of the targets whose first input byte selects what the
// rest is fed to: fuzz(selector, rest) reports every error as a value, so
// anything it throws is a defect, and traps like a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace x402_fuzz {

template <class Fuzz>
int run_selected(const std::uint8_t* data, std::size_t size, Fuzz fuzz) {
    if (size == 0) return 0;
    try {
        fuzz(data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    } catch (...) {
        __builtin_trap();
    }
    return 0;
}

}  // namespace x402_fuzz
