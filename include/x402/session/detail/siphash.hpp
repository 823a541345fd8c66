// SipHash-2-4 (Aumasson & Bernstein), keyed per store: the hash behind the
// in-memory lookup table. Keys are chosen by callers, so an unkeyed hash
// would let one payer flood a bucket and slow every other payer down.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

namespace x402::session::detail {

class SipHasher {
public:
    using Key = std::array<std::uint64_t, 2>;

    explicit SipHasher(Key key) noexcept
        : v0_(0x736f6d6570736575ULL ^ key[0]),
          v1_(0x646f72616e646f6dULL ^ key[1]),
          v2_(0x6c7967656e657261ULL ^ key[0]),
          v3_(0x7465646279746573ULL ^ key[1]) {}

    void update(std::string_view bytes) noexcept {
        for (unsigned char byte : bytes) {
            tail_ |= std::uint64_t{byte} << (8 * (length_ % 8));
            ++length_;
            if (length_ % 8 == 0) {
                compress(tail_);
                tail_ = 0;
            }
        }
    }

    std::uint64_t finish() noexcept {
        compress(tail_ | (std::uint64_t{length_ & 0xff} << 56));
        v2_ ^= 0xff;
        for (int i = 0; i < 4; ++i) round();
        return v0_ ^ v1_ ^ v2_ ^ v3_;
    }

    /// A fresh random key, drawn once per store.
    static Key random_key() {
        std::random_device device;
        auto draw = [&] { return (std::uint64_t{device()} << 32) ^ device(); };
        return {draw(), draw()};
    }

private:
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
        round();
        round();
        v0_ ^= word;
    }

    std::uint64_t v0_, v1_, v2_, v3_;
    std::uint64_t tail_ = 0;
    std::size_t length_ = 0;
};

}  // namespace x402::session::detail
