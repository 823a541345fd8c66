// EVM network identifiers: v1 names and v2 CAIP-2 `eip155:<chainId>` (reference §1.5).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace x402::payment {

namespace detail {
/// The v1 names the current facilitator accepts (EVM_NETWORK_CHAIN_ID_MAP).
inline constexpr std::array<std::pair<std::string_view, std::uint64_t>, 21> v1_evm_networks{{
    {"base-sepolia", 84532},      {"base", 8453},
    {"ethereum", 1},              {"sepolia", 11155111},
    {"avalanche-fuji", 43113},    {"avalanche", 43114},
    {"polygon", 137},             {"polygon-amoy", 80002},
    {"sei", 1329},                {"sei-testnet", 1328},
    {"iotex", 4689},              {"abstract", 2741},
    {"abstract-testnet", 11124},  {"peaq", 3338},
    {"story", 1514},              {"educhain", 41923},
    {"skale-base-sepolia", 324705682}, {"megaeth", 4326},
    {"monad", 143},               {"stable", 988},
    {"stable-testnet", 2201},
}};
}  // namespace detail

/// The chain id of a v1 network name, or nullopt for names the facilitator does not know.
constexpr std::optional<std::uint64_t> v1_evm_chain_id(std::string_view name) noexcept {
    for (const auto& [known, id] : detail::v1_evm_networks)
        if (known == name) return id;
    return std::nullopt;
}

/// The chain id of `eip155:<decimal>` (no sign, no leading zero, fits 64 bits), else nullopt.
constexpr std::optional<std::uint64_t> caip2_evm_chain_id(std::string_view network) noexcept {
    constexpr std::string_view prefix = "eip155:";
    if (network.substr(0, prefix.size()) != prefix) return std::nullopt;
    const std::string_view digits = network.substr(prefix.size());
    if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
    std::uint64_t id = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return id;
}

/// The chain id of either form.
constexpr std::optional<std::uint64_t> evm_chain_id(std::string_view network) noexcept {
    if (auto id = caip2_evm_chain_id(network)) return id;
    return v1_evm_chain_id(network);
}

}  // namespace x402::payment
