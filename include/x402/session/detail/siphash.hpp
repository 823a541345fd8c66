// SipHash (Aumasson & Bernstein), keyed per store: the hash behind the
// in-memory lookup table. Keys are chosen by callers, so an unkeyed hash
// would let one payer flood a bucket and slow every other payer down.
// The table uses SipHash-1-3, as Rust's and CPython's hash tables do: half
// the rounds of SipHash-2-4 (whose published vectors the tests check) and
// still keyed, which is what flooding resistance needs.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string_view>

namespace x402::session::detail {

template <int CompressionRounds, int FinalRounds>
class BasicSipHasher {
public:
    using Key = std::array<std::uint64_t, 2>;

    explicit BasicSipHasher(Key key) noexcept
        : v0_(0x736f6d6570736575ULL ^ key[0]),
          v1_(0x646f72616e646f6dULL ^ key[1]),
          v2_(0x6c7967656e657261ULL ^ key[0]),
          v3_(0x7465646279746573ULL ^ key[1]) {}

    /// Appends `bytes`; a stream hashed in pieces equals the same bytes in one piece.
    void update(std::string_view bytes) noexcept {
        const char* p = bytes.data();
        std::size_t n = bytes.size();
        // Top up a partial word left by the previous update, a byte at a time.
        while (n > 0 && length_ % 8 != 0) {
            add_byte(static_cast<unsigned char>(*p++));
            --n;
        }
        // Whole little-endian words straight from memory: the hot path.
        for (; n >= 8; p += 8, n -= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if constexpr (std::endian::native == std::endian::big) word = byteswap(word);
            compress(word);
            length_ += 8;
        }
        while (n > 0) {
            add_byte(static_cast<unsigned char>(*p++));
            --n;
        }
    }

    std::uint64_t finish() noexcept {
        compress(tail_ | (std::uint64_t{length_ & 0xff} << 56));
        v2_ ^= 0xff;
        for (int i = 0; i < FinalRounds; ++i) round();
        return v0_ ^ v1_ ^ v2_ ^ v3_;
    }

    /// A fresh random key, drawn once per store.
    static Key random_key() {
        std::random_device device;
        auto draw = [&] { return (std::uint64_t{device()} << 32) ^ device(); };
        return {draw(), draw()};
    }

private:
    void add_byte(unsigned char byte) noexcept {
        tail_ |= std::uint64_t{byte} << (8 * (length_ % 8));
        ++length_;
        if (length_ % 8 == 0) {
            compress(tail_);
            tail_ = 0;
        }
    }

    static constexpr std::uint64_t byteswap(std::uint64_t x) noexcept {
        std::uint64_t y = 0;
        for (int i = 0; i < 8; ++i) y = (y << 8) | ((x >> (8 * i)) & 0xff);
        return y;
    }

    static constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept {
        return (x << b) | (x >> (64 - b));
    }

    void round() noexcept {
        v0_ += v1_; v1_ = rotl(v1_, 13); v1_ ^= v0_; v0_ = rotl(v0_, 32);
        v2_ += v3_; v3_ = rotl(v3_, 16); v3_ ^= v2_;
        v0_ += v3_; v3_ = rotl(v3_, 21); v3_ ^= v0_;
        v2_ += v1_; v1_ = rotl(v1_, 17); v1_ ^= v2_; v2_ = rotl(v2_, 32);
    }

    void compress(std::uint64_t word) noexcept {
        v3_ ^= word;
        for (int i = 0; i < CompressionRounds; ++i) round();
        v0_ ^= word;
    }

    std::uint64_t v0_, v1_, v2_, v3_;
    std::uint64_t tail_ = 0;
    std::size_t length_ = 0;
};

using SipHasher24 = BasicSipHasher<2, 4>;
using SipHasher = BasicSipHasher<1, 3>;

}  // namespace x402::session::detail
