// Strict standard base64 (RFC 4648 §4, alphabet `+/`, `=` padding), the
// encoding of every x402 HTTP header.
//
// The decoder accepts exactly what the official encoder produces: no
// whitespace, no base64url, padding required and canonical (unused bits zero),
// and no value longer than max_header_value_size.
#pragma once

#include <x402/payment/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace x402::payment {

/// The longest header value the decoders accept, in bytes. A v2 EIP-3009
/// payment is about 1.3 KiB; 16 KiB leaves room for smart-wallet signatures and
/// extensions and matches Node's default limit for all headers together.
inline constexpr std::size_t max_header_value_size = 16 * 1024;

/// Standard base64 with padding.
inline std::string base64_encode(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                                (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

namespace detail {
/// 0..63 for the standard alphabet, -1 otherwise.
constexpr int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace detail

/// Decodes canonical standard base64. Errors (reason invalid_payload), with
/// these exact messages:
///  "base64: value longer than 16384 bytes", "base64: length is not a multiple of 4",
///  "base64: invalid character", "base64: misplaced padding", "base64: non-canonical padding bits".
inline Result<std::string> base64_decode(std::string_view text) {
    if (text.size() > max_header_value_size)
        return Error(reason::invalid_payload, "base64: value longer than 16384 bytes");
    if (text.size() % 4 != 0) return Error(reason::invalid_payload, "base64: length is not a multiple of 4");
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::array<int, 4> v{};
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=') {
                if (!last || k < 4 - padding) return Error(reason::invalid_payload, "base64: misplaced padding");
                v[k] = 0;
                continue;
            }
            v[k] = detail::base64_value(c);
            if (v[k] < 0) return Error(reason::invalid_payload, "base64: invalid character");
        }
        const std::uint32_t n = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) | (std::uint32_t(v[2]) << 6) |
                                std::uint32_t(v[3]);
        const std::size_t bytes = last ? 3 - padding : 3;
        // The bits below the last encoded byte must be zero (RFC 4648 §3.5).
        if (last && padding == 1 && (n & 0xFFu) != 0)
            return Error(reason::invalid_payload, "base64: non-canonical padding bits");
        if (last && padding == 2 && (n & 0xFFFFu) != 0)
            return Error(reason::invalid_payload, "base64: non-canonical padding bits");
        out += static_cast<char>((n >> 16) & 0xFF);
        if (bytes > 1) out += static_cast<char>((n >> 8) & 0xFF);
        if (bytes > 2) out += static_cast<char>(n & 0xFF);
    }
    return out;
}

}  // namespace x402::payment
