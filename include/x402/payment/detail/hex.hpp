// Hex strings and 256-bit unsigned decimals as EVM payloads spell them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x402::payment::detail {

using Bytes32 = std::array<std::uint8_t, 32>;
using Address = std::array<std::uint8_t, 20>;

constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// "0x" followed by an even number of hex digits (any case), decoded; else nullopt.
inline std::optional<std::vector<std::uint8_t>> parse_hex_bytes(std::string_view text) {
    if (text.size() < 2 || text[0] != '0' || text[1] != 'x' || text.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve((text.size() - 2) / 2);
    for (std::size_t i = 2; i < text.size(); i += 2) {
        const int hi = hex_digit_value(text[i]), lo = hex_digit_value(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

/// "0x" + exactly 2*N hex digits, decoded into N bytes; else nullopt.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> parse_hex_fixed(std::string_view text) {
    if (text.size() != 2 + 2 * N) return std::nullopt;
    auto bytes = parse_hex_bytes(text);
    if (!bytes) return std::nullopt;
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
    return out;
}

/// Lower-case "0x…" hex of `bytes`.
template <class Range>
std::string to_hex(const Range& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "0x";
    for (std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

/// ASCII lower-casing (addresses, nonces).
inline std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

/// An unsigned decimal (digits only, at least one, leading zeros allowed as
/// BigInt does) below 2^256, as 32 big-endian bytes; else nullopt.
/// Big-endian fixed width makes std::array's < compare numerically.
inline std::optional<Bytes32> parse_uint256_decimal(std::string_view text) {
    if (text.empty() || text.size() > 100) return std::nullopt;
    Bytes32 value{};
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        // value = value * 10 + digit, most significant byte first.
        unsigned carry = static_cast<unsigned>(c - '0');
        for (std::size_t i = value.size(); i-- > 0;) {
            const unsigned product = value[i] * 10u + carry;
            value[i] = static_cast<std::uint8_t>(product & 0xFF);
            carry = product >> 8;
        }
        if (carry != 0) return std::nullopt;  // overflowed 2^256
    }
    return value;
}

/// `n` as a uint256.
inline Bytes32 uint256_from(std::uint64_t n) noexcept {
    Bytes32 value{};
    for (std::size_t i = 0; i < 8; ++i) value[31 - i] = static_cast<std::uint8_t>(n >> (8 * i));
    return value;
}

/// a + b, or UINT64_MAX when that does not fit (for clocks and expiries).
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/// The value if it fits 64 bits, else UINT64_MAX (for clocks and expiries).
inline std::uint64_t saturate_to_u64(const Bytes32& value) noexcept {
    for (std::size_t i = 0; i < 24; ++i)
        if (value[i] != 0) return UINT64_MAX;
    std::uint64_t n = 0;
    for (std::size_t i = 24; i < 32; ++i) n = (n << 8) | value[i];
    return n;
}

}  // namespace x402::payment::detail
