// EVM addresses (EIP-55) and the EIP-712 digest of an EIP-3009
// TransferWithAuthorization (reference §3.3).
#pragma once

#include <x402/payment/detail/hex.hpp>
#include <x402/payment/detail/keccak.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace x402::payment::detail {

inline constexpr std::string_view transfer_with_authorization_type =
    "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 "
    "nonce)";
inline constexpr std::string_view eip712_domain_type =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

/// The EIP-55 checksummed spelling of `address`.
inline std::string eip55_checksum(const Address& address) {
    const std::string lower = to_hex(address);
    const Bytes32 hash = keccak256(std::string_view(lower).substr(2));
    std::string out = lower;
    for (std::size_t i = 2; i < out.size(); ++i) {
        const std::size_t nibble_index = i - 2;
        const int nibble = (nibble_index % 2 == 0) ? hash[nibble_index / 2] >> 4 : hash[nibble_index / 2] & 15;
        if (out[i] >= 'a' && out[i] <= 'f' && nibble >= 8) out[i] = static_cast<char>(out[i] - 'a' + 'A');
    }
    return out;
}

/// "0x" + 40 hex digits (lower-case x), any case; else nullopt.
inline std::optional<Address> parse_address_syntax(std::string_view text) { return parse_hex_fixed<20>(text); }

/// True when `text` (syntactically an address) is all lower-case or exactly
/// its EIP-55 checksum: viem's strict isAddress, which the facilitator applies
/// when it encodes the typed data (so an all-upper-case spelling with letters
/// fails too, unless it happens to be the checksum).
inline bool passes_eip55(std::string_view text, const Address& address) {
    if (ascii_lower(text) == text) return true;
    return eip55_checksum(address) == text;
}

/// The address of an uncompressed public key: last 20 bytes of keccak256(X ‖ Y).
inline Address address_of_public_key(const std::array<std::uint8_t, 64>& xy) {
    const Bytes32 hash = keccak256(xy.data(), xy.size());
    Address address{};
    for (std::size_t i = 0; i < 20; ++i) address[i] = hash[12 + i];
    return address;
}

/// The 32-byte ABI word of an address (left-padded).
inline Bytes32 address_word(const Address& address) {
    Bytes32 word{};
    for (std::size_t i = 0; i < 20; ++i) word[12 + i] = address[i];
    return word;
}

/// keccak256 of the concatenation of 32-byte words.
template <std::size_t N>
Bytes32 keccak_words(const std::array<Bytes32, N>& words) {
    std::array<std::uint8_t, 32 * N> buffer{};
    for (std::size_t w = 0; w < N; ++w)
        for (std::size_t i = 0; i < 32; ++i) buffer[32 * w + i] = words[w][i];
    return keccak256(buffer.data(), buffer.size());
}

struct Eip712Domain {
    std::string name;
    std::string version;
    std::uint64_t chain_id = 0;
    Address verifying_contract{};
};

struct TransferWithAuthorization {
    Address from{};
    Address to{};
    Bytes32 value{};
    Bytes32 valid_after{};
    Bytes32 valid_before{};
    Bytes32 nonce{};
};

inline Bytes32 domain_separator(const Eip712Domain& domain) {
    return keccak_words(std::array<Bytes32, 5>{keccak256(eip712_domain_type), keccak256(domain.name),
                                               keccak256(domain.version), uint256_from(domain.chain_id),
                                               address_word(domain.verifying_contract)});
}

inline Bytes32 struct_hash(const TransferWithAuthorization& m) {
    return keccak_words(std::array<Bytes32, 7>{keccak256(transfer_with_authorization_type), address_word(m.from),
                                               address_word(m.to), m.value, m.valid_after, m.valid_before, m.nonce});
}

/// keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash).
inline Bytes32 eip712_digest(const Bytes32& domain_separator_hash, const Bytes32& struct_hash_value) {
    std::array<std::uint8_t, 66> buffer{};
    buffer[0] = 0x19;
    buffer[1] = 0x01;
    for (std::size_t i = 0; i < 32; ++i) {
        buffer[2 + i] = domain_separator_hash[i];
        buffer[34 + i] = struct_hash_value[i];
    }
    return keccak256(buffer.data(), buffer.size());
}

}  // namespace x402::payment::detail
