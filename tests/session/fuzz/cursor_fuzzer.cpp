// libFuzzer target for the list cursor codec (session/detail/cursor.hpp): a
// cursor comes back from the client verbatim (list_keys' `cursor`), so its
// decoder sees arbitrary bytes. Built and run by tests/fuzz/run_fuzzer.sh.
//
// Invariants, checked with __builtin_trap() so a violation is a crash:
//  - decode_cursor throws nothing but std::invalid_argument;
//  - a cursor that decodes is the encoding of its key (one spelling per key);
//  - every byte string survives encode + decode, as a key.
#include <x402/session/detail/cursor.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xd = x402::session::detail;

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        const auto key = xd::decode_cursor(input);
        if (key) require(xd::encode_cursor(*key) == input);
        else require(input.empty());
    } catch (const std::invalid_argument&) {
        require(!input.empty());
    } catch (...) {
        __builtin_trap();  // the documented error is std::invalid_argument only
    }
    try {
        // A key never decodes to "from the start": even "" is a position.
        const auto back = xd::decode_cursor(xd::encode_cursor(input));
        require(back.has_value() && *back == input);
    } catch (...) {
        __builtin_trap();
    }
    return 0;
}
