// The Lua scripts of RedisStore, each sent as EVALSHA (its SHA-1 computed
// here) with a fallback to EVAL when the server answers NOSCRIPT.
//
// Layout (see redis_store.hpp): per payer, an index sorted set KEYS[1]
// (members: the raw keys, score 0) and one hash per entry with fields
// v (the value) and t (the entry's own TTL in ms, 0 = none), expiring by PEXPIRE.
// The index lives at least as long as the payer's longest-lived entry:
// every write or slide extends it; members of expired entries are removed by
// `list` when it meets them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace x402::redis::detail {

/// Lower-case hex SHA-1 of `data` (FIPS 180-4), for EVALSHA.
inline std::string sha1_hex(std::string_view data) {
    std::array<std::uint32_t, 5> h{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::string message(data);
    const std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
    message.push_back(static_cast<char>(0x80));
    while (message.size() % 64 != 56) message.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8) message.push_back(static_cast<char>((bit_length >> shift) & 0xff));
    auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
    for (std::size_t chunk = 0; chunk < message.size(); chunk += 64) {
        std::array<std::uint32_t, 80> w{};
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const unsigned char*>(message.data() + chunk + 4 * i);
            w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        }
        for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        auto [a, b, c, d, e] = h;
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f = 0;
            std::uint32_t k = 0;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
            const std::uint32_t next = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = next;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (auto word : h) {
        for (int shift = 28; shift >= 0; shift -= 4) hex.push_back(digits[(word >> shift) & 0xf]);
    }
    return hex;
}

/// A Lua script and its SHA-1.
struct Script {
    explicit Script(std::string_view text) : source(text), sha1(sha1_hex(text)) {}
    std::string source;
    std::string sha1;
};

// KEYS[1] index, KEYS[2..] entry hashes; ARGV[1] ttl ms (0 = none),
// ARGV[2k], ARGV[2k+1] key and value of KEYS[k+1]. Writes in order.
inline constexpr std::string_view set_script_source = R"lua(
local idx = KEYS[1]
local ttl = tonumber(ARGV[1])
local fresh = redis.call('EXISTS', idx) == 0
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], 'v', ARGV[2 * i - 1], 't', ARGV[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) else redis.call('PERSIST', KEYS[i]) end
  redis.call('ZADD', idx, 0, ARGV[2 * i - 2])
end
if #KEYS > 1 then
  if ttl == 0 then
    redis.call('PERSIST', idx)
  elseif fresh then
    redis.call('PEXPIRE', idx, ARGV[1])
  else
    local left = redis.call('PTTL', idx)
    if left >= 0 and left < ttl then redis.call('PEXPIRE', idx, ARGV[1]) end
  end
end
return #KEYS - 1
)lua";

// KEYS[1] index, KEYS[2..] entry hashes. Returns one value or nil per entry;
// each hit slides its entry by the entry's own TTL (and the index with it).
inline constexpr std::string_view get_script_source = R"lua(
local idx = KEYS[1]
local out = {}
for i = 2, #KEYS do
  local r = redis.call('HMGET', KEYS[i], 'v', 't')
  if r[1] then
    local ttl = tonumber(r[2]) or 0
    if ttl > 0 then
      redis.call('PEXPIRE', KEYS[i], r[2])
      local left = redis.call('PTTL', idx)
      if left >= 0 and left < ttl then redis.call('PEXPIRE', idx, r[2]) end
    end
    out[i - 1] = r[1]
  else
    out[i - 1] = false
  end
end
return out
)lua";

// KEYS[1] index, KEYS[2..] entry hashes; ARGV[k] the key of KEYS[k+1].
// Returns how many live entries were removed.
inline constexpr std::string_view erase_script_source = R"lua(
local removed = 0
for i = 2, #KEYS do
  removed = removed + redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[1], ARGV[i - 1])
end
return removed
)lua";

// KEYS[1] index; ARGV[1] entry key prefix, ARGV[2] key prefix, ARGV[3] the
// ZRANGEBYLEX lower bound, ARGV[4] how many live entries to return (0 = all),
// ARGV[5] '1' for keys only. Returns key, value, key, value... in ascending
// key order; removes the index members of expired entries it meets.
inline constexpr std::string_view list_script_source = R"lua(
local idx = KEYS[1]
local entry_prefix = ARGV[1]
local prefix = ARGV[2]
local low = ARGV[3]
local want = tonumber(ARGV[4])
local keys_only = ARGV[5] == '1'
local plen = #prefix
local out = {}
local found = 0
while true do
  local batch = 256
  if want > 0 then batch = want - found end
  local members = redis.call('ZRANGEBYLEX', idx, low, '+', 'LIMIT', 0, batch)
  if #members == 0 then return out end
  for _, key in ipairs(members) do
    if plen > 0 and string.sub(key, 1, plen) ~= prefix then return out end
    local entry = entry_prefix .. key
    local value
    if keys_only then
      if redis.call('EXISTS', entry) == 1 then value = '' else value = false end
    else
      value = redis.call('HGET', entry, 'v')
    end
    if value then
      out[#out + 1] = key
      out[#out + 1] = value
      found = found + 1
      if want > 0 and found >= want then return out end
    else
      redis.call('ZREM', idx, key)
    end
    low = '(' .. key
  end
end
)lua";

inline const Script& set_script() {
    static const Script script(set_script_source);
    return script;
}
inline const Script& get_script() {
    static const Script script(get_script_source);
    return script;
}
inline const Script& erase_script() {
    static const Script script(erase_script_source);
    return script;
}
inline const Script& list_script() {
    static const Script script(list_script_source);
    return script;
}

}  // namespace x402::redis::detail
