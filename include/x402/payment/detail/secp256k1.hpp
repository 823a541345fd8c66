// ECDSA public key recovery on secp256k1 with libsecp256k1 (Bitcoin Core's
// library). Only the local verifier includes this header.
#pragma once

#include <x402/payment/detail/hex.hpp>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace x402::payment::detail {

/// n/2 for secp256k1: a canonical (low-s) signature has s <= this
/// (EIP-2; USDC's ECRecover.sol rejects larger s).
inline constexpr Bytes32 secp256k1_half_order = {
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0};

/// The uncompressed public key (X ‖ Y, 64 bytes, without the 0x04 prefix) that
/// signed `digest` with compact signature `r ‖ s` and recovery id 0 or 1;
/// nullopt when r or s is out of range or no key recovers. Does not check
/// low-s: callers do. Thread-safe: recovery uses the read-only static context
/// (libsecp256k1 >= 0.2.0 needs no precomputation for verification).
inline std::optional<std::array<std::uint8_t, 64>> recover_public_key(const Bytes32& digest,
                                                                      const std::array<std::uint8_t, 64>& r_s,
                                                                      int recovery_id) {
    const secp256k1_context* context = secp256k1_context_static;
    secp256k1_ecdsa_recoverable_signature signature;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(context, &signature, r_s.data(), recovery_id) != 1)
        return std::nullopt;
    secp256k1_pubkey public_key;
    if (secp256k1_ecdsa_recover(context, &public_key, &signature, digest.data()) != 1) return std::nullopt;
    std::array<std::uint8_t, 65> serialized{};
    std::size_t size = serialized.size();
    if (secp256k1_ec_pubkey_serialize(context, serialized.data(), &size, &public_key, SECP256K1_EC_UNCOMPRESSED) != 1 ||
        size != 65)
        return std::nullopt;
    std::array<std::uint8_t, 64> xy{};
    for (std::size_t i = 0; i < 64; ++i) xy[i] = serialized[i + 1];
    return xy;
}

}  // namespace x402::payment::detail
