// Payer normalising for the Session and the context.
#pragma once

#include <string>
#include <string_view>

namespace x402::session::detail {

/// Exactly "0x" (lower-case x) followed by 40 ASCII hex digits, any case.
constexpr bool is_evm_address(std::string_view payer) noexcept {
    if (payer.size() != 42 || payer[0] != '0' || payer[1] != 'x') return false;
    for (char c : payer.substr(2)) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}

/// The payer under which a Session stores: EVM addresses are lower-cased so
/// the checksummed and lower-case forms share one session; every other
/// format (e.g. case-sensitive Solana base58) is kept byte for byte.
inline std::string normalise_payer(std::string_view payer) {
    std::string normalised(payer);
    if (is_evm_address(payer)) {
        for (char& c : normalised) {
            if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return normalised;
}

}  // namespace x402::session::detail
