// The list cursor codec: "c:" + lower-case hex of the last returned key.
// A cursor is a position, not an entry, so it stays valid when that entry
// is erased, expires or is evicted.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace x402::session::detail {

inline constexpr std::string_view cursor_prefix = "c:";

inline std::string encode_cursor(std::string_view last_key) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string cursor(cursor_prefix);
    cursor.reserve(cursor_prefix.size() + 2 * last_key.size());
    for (unsigned char byte : last_key) {
        cursor.push_back(digits[byte >> 4]);
        cursor.push_back(digits[byte & 0xf]);
    }
    return cursor;
}

/// The key a cursor points after; nullopt for "" (from the start).
/// Throws std::invalid_argument("malformed list cursor") for anything
/// encode_cursor cannot have produced.
inline std::optional<std::string> decode_cursor(std::string_view cursor) {
    if (cursor.empty()) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    if (!cursor.starts_with(cursor_prefix) || (cursor.size() - cursor_prefix.size()) % 2 != 0) {
        throw std::invalid_argument("malformed list cursor");
    }
    std::string key;
    key.reserve((cursor.size() - cursor_prefix.size()) / 2);
    for (std::size_t i = cursor_prefix.size(); i < cursor.size(); i += 2) {
        int high = nibble(cursor[i]);
        int low = nibble(cursor[i + 1]);
        if (high < 0 || low < 0) throw std::invalid_argument("malformed list cursor");
        key.push_back(static_cast<char>((high << 4) | low));
    }
    return key;
}

}  // namespace x402::session::detail
