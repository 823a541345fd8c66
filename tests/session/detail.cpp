// The internals users never touch but everything rests on: the keyed hash of
// the in-memory table and the list cursor codec.
#include <x402/session/detail/cursor.hpp>
#include <x402/session/detail/siphash.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

using x402::session::detail::SipHasher;
using x402::session::detail::SipHasher24;

// The key and messages of the SipHash paper's test vectors: key 00..0f,
// message 00..(n-1).
constexpr SipHasher24::Key paper_key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

std::string counting_bytes(std::size_t n) {
    std::string bytes;
    for (std::size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i));
    return bytes;
}

template <class Hasher>
std::uint64_t hash_of(typename Hasher::Key key, const std::string& bytes) {
    Hasher hasher(key);
    hasher.update(bytes);
    return hasher.finish();
}

}  // namespace

TEST_CASE("SipHash-2-4 matches the published test vectors", "[detail][siphash]") {
    CHECK(hash_of<SipHasher24>(paper_key, counting_bytes(0)) == 0x726fdb47dd0e0e31ULL);
    CHECK(hash_of<SipHasher24>(paper_key, counting_bytes(1)) == 0x74f839c593dc67fdULL);
    CHECK(hash_of<SipHasher24>(paper_key, counting_bytes(15)) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("SipHash gives the same hash however the input is split", "[detail][siphash]") {
    const SipHasher::Key key{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    for (std::size_t length = 0; length < 40; ++length) {
        std::string bytes;
        for (std::size_t i = 0; i < length; ++i) bytes.push_back(static_cast<char>(i * 37 + 11));
        const std::uint64_t whole = hash_of<SipHasher>(key, bytes);
        for (std::size_t cut = 0; cut <= length; ++cut) {
            for (std::size_t cut2 = cut; cut2 <= length; cut2 += 3) {
                SipHasher pieces(key);
                pieces.update(std::string_view(bytes).substr(0, cut));
                pieces.update(std::string_view(bytes).substr(cut, cut2 - cut));
                pieces.update(std::string_view(bytes).substr(cut2));
                REQUIRE(pieces.finish() == whole);
            }
        }
    }
}

TEST_CASE("SipHash depends on the key and on every byte", "[detail][siphash]") {
    const SipHasher::Key key{1, 2};
    const std::string bytes = "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd|key-1";
    const std::uint64_t base = hash_of<SipHasher>(key, bytes);
    CHECK(hash_of<SipHasher>(SipHasher::Key{1, 3}, bytes) != base);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string changed = bytes;
        changed[i] = static_cast<char>(changed[i] ^ 1);
        CHECK(hash_of<SipHasher>(key, changed) != base);
    }
    CHECK(hash_of<SipHasher>(key, bytes + '\0') != base);  // the length counts
}

TEST_CASE("cursor codec round-trips every byte string as printable ASCII", "[detail][cursor]") {
    using x402::session::detail::decode_cursor;
    using x402::session::detail::encode_cursor;
    const std::string keys[] = {std::string(), std::string("a"), std::string("chat:1"),
                                std::string("\0\xff\x80 \n", 5), counting_bytes(256)};
    for (const std::string& key : keys) {
        const std::string cursor = encode_cursor(key);
        for (char c : cursor) REQUIRE((c >= 0x21 && c <= 0x7e));
        if (key.size() > 1) CHECK(cursor.find(key) == std::string::npos);  // never the raw key
        const auto decoded = decode_cursor(cursor);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == key);
    }
    CHECK_FALSE(decode_cursor("").has_value());  // "" means from the start
}

TEST_CASE("cursor codec rejects what it cannot have made", "[detail][cursor]") {
    using x402::session::detail::decode_cursor;
    for (const std::string& bad : {std::string("\0", 1), std::string("\xff\xfe"), std::string("not a cursor\n"),
                                   std::string("c"), std::string("c:0"), std::string("c:zz"), std::string("C:61"),
                                   std::string("c:6G"), std::string("x:61"), std::string(" c:61")}) {
        CAPTURE(bad);
        CHECK_THROWS_MATCHES(decode_cursor(bad), std::invalid_argument, Catch::Message("malformed list cursor"));
    }
}
