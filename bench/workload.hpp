// The reference workload of the benchmarks (bench/README in docs/benchmarks.md):
// 100 payers ("0x" + 40 hex) x 100 keys ("key-<j>"), 32-byte values,
// max_entries 10'000, default TTL (1 h). bench/node/store_bench.mjs builds the
// same data for the JavaScript reference.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

inline constexpr std::size_t payer_count = 100;
inline constexpr std::size_t keys_per_payer = 100;
inline constexpr std::size_t entry_count = payer_count * keys_per_payer;  // = max_entries

inline std::string payer_name(std::size_t i) {
    char buffer[43];
    const auto mixed = static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ULL % 0xffffffffffffULL + 1;
    std::snprintf(buffer, sizeof buffer, "0x%040llx", mixed);
    return buffer;
}

inline std::string value_for(std::size_t i) {
    std::string value(32, 'v');
    for (std::size_t n = 0; n < 8; ++n) value[n] = static_cast<char>('a' + (i >> (n * 3)) % 26);
    return value;
}

/// Every (payer, key) of the workload, in payer-major order, and the same
/// number of keys that are not in the store ("other-<j>").
struct Workload {
    std::vector<std::string> payers;
    std::vector<std::string> keys;        // key-0 .. key-99
    std::vector<std::string> other_keys;  // other-0 .. other-99
    std::vector<std::string> values;      // one per entry

    Workload() {
        for (std::size_t i = 0; i < payer_count; ++i) payers.push_back(payer_name(i));
        for (std::size_t j = 0; j < keys_per_payer; ++j) {
            keys.push_back("key-" + std::to_string(j));
            other_keys.push_back("other-" + std::to_string(j));
        }
        for (std::size_t i = 0; i < entry_count; ++i) values.push_back(value_for(i));
    }

    const std::string& payer_of(std::size_t i) const { return payers[i / keys_per_payer % payer_count]; }
    const std::string& key_of(std::size_t i) const { return keys[i % keys_per_payer]; }
    const std::string& other_key_of(std::size_t i) const { return other_keys[i % keys_per_payer]; }
    const std::string& value_of(std::size_t i) const { return values[i % entry_count]; }
};

inline const Workload& workload() {
    static const Workload instance;
    return instance;
}

}  // namespace bench
