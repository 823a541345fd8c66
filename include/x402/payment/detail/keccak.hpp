// Keccak-256 as Ethereum uses it (original Keccak padding, not FIPS SHA3-256),
// from Crypto++. Only the local verifier includes this header.
#pragma once

#include <x402/payment/detail/hex.hpp>

#include <cryptopp/keccak.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace x402::payment::detail {

/// keccak256 of `size` bytes at `data`. Thread-safe (no shared state).
inline Bytes32 keccak256(const void* data, std::size_t size) {
    CryptoPP::Keccak_256 hash;
    hash.Update(static_cast<const CryptoPP::byte*>(data), size);
    Bytes32 digest{};
    hash.Final(digest.data());
    return digest;
}

inline Bytes32 keccak256(std::string_view bytes) { return keccak256(bytes.data(), bytes.size()); }

}  // namespace x402::payment::detail
