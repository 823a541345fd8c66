// The Lua scripts of RedisStore, each sent as EVALSHA (its SHA-1 a constant,
// checked by the tests) with a fallback to EVAL when the server answers NOSCRIPT.
//
// Layout (see redis_store.hpp): per payer, an index sorted set KEYS[1]
// (members: the raw keys, score 0) and one hash per entry with fields
// v (the value) and t (the entry's own TTL in ms, 0 = none), expiring by PEXPIRE.
// The index lives at least as long as the payer's longest-lived entry:
// every write or slide extends it; members of expired entries are removed by
// `list` when it meets them.
#pragma once

#include <string>
#include <string_view>

namespace x402::redis::detail {

/// A Lua script and its SHA-1, the name EVALSHA calls it by. The SHA-1s are
/// constants; tests/redis checks each against the server's SCRIPT LOAD, so a
/// script edited without its constant fails there.
struct Script {
    Script(std::string_view text, std::string_view text_sha1) : source(text), sha1(text_sha1) {}
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
// ZRANGEBYLEX lower bound, ARGV[4] how many more entries the page takes,
// ARGV[5] how many more key + value bytes it takes, ARGV[6] '1' while the
// page is empty (its first entry comes whatever its size), ARGV[7] '1' for
// keys only, ARGV[8] the most index members to read: one call never reads
// more, so a large index never blocks Redis for long. Returns a status,
// the next lower bound, then key, value, key, value... in ascending key
// order. Status 'done': no more matching members; 'full': the page is full
// and a live entry follows; 'more': members are left to read from the
// bound. Removes the index members of expired entries it meets.
inline constexpr std::string_view list_script_source = R"lua(
local idx = KEYS[1]
local entry_prefix = ARGV[1]
local prefix = ARGV[2]
local room = tonumber(ARGV[4])
local bytes = tonumber(ARGV[5])
local first = ARGV[6] == '1'
local keys_only = ARGV[7] == '1'
local scan = tonumber(ARGV[8])
local plen = #prefix
local out = {'done', ARGV[3]}
local members = redis.call('ZRANGEBYLEX', idx, ARGV[3], '+', 'LIMIT', 0, scan)
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
    local cost = #key + #value
    if room == 0 or (cost > bytes and not first) then
      out[1] = 'full'
      return out
    end
    out[#out + 1] = key
    out[#out + 1] = value
    room = room - 1
    bytes = bytes - cost
    first = false
  else
    redis.call('ZREM', idx, key)
  end
  out[2] = '(' .. key
end
if #members == scan then out[1] = 'more' end
return out
)lua";

// KEYS[1] index, KEYS[2..] the Redis key of each write, in order (an entry
// hash, or a ledger record's string for 'l'); per write four ARGV: 's', 'e'
// or 'l' (a ledger record: outside the index, always with a ttl), the key,
// the value ('' for an erase), the ttl in ms ('0' for none). Applies the writes in order in one script (Redis runs a
// script alone: other clients see all of it or none of it). Returns how many
// writes it applied.
inline constexpr std::string_view apply_script_source = R"lua(
local idx = KEYS[1]
local before = redis.call('PTTL', idx)
local sets = 0
local longest = 0
local forever = false
for i = 2, #KEYS do
  local base = 4 * (i - 2)
  local key = ARGV[base + 2]
  if ARGV[base + 1] == 's' then
    local ttl = tonumber(ARGV[base + 4])
    redis.call('HSET', KEYS[i], 'v', ARGV[base + 3], 't', ARGV[base + 4])
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ARGV[base + 4]) else redis.call('PERSIST', KEYS[i]) end
    redis.call('ZADD', idx, 0, key)
    sets = sets + 1
    if ttl == 0 then forever = true elseif ttl > longest then longest = ttl end
  elseif ARGV[base + 1] == 'l' then
    redis.call('SET', KEYS[i], ARGV[base + 3], 'PX', ARGV[base + 4])
  else
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', idx, key)
  end
end
-- The index may have been emptied (deleted) and recreated by the writes, so
-- its expiry is judged now, not from before: a recreated one has none yet.
if sets > 0 then
  if forever or before == -1 then
    redis.call('PERSIST', idx)
  else
    local left = redis.call('PTTL', idx)
    if left == -1 or (left >= 0 and left < longest) then redis.call('PEXPIRE', idx, longest) end
  end
end
return #KEYS - 1
)lua";

inline const Script& set_script() {
    static const Script script(set_script_source, "2050aa86fad16aa694aa56f950f0d4691092f5a0");
    return script;
}
inline const Script& get_script() {
    static const Script script(get_script_source, "58014ffb55c36428849ca3a9c4660ffea3167f48");
    return script;
}
inline const Script& erase_script() {
    static const Script script(erase_script_source, "7affeb1b7a59769d417c2cedf43dfd83c48f9864");
    return script;
}
inline const Script& apply_script() {
    static const Script script(apply_script_source, "f450115dcb5333a2f2771701ee4800741d44f7a6");
    return script;
}
inline const Script& list_script() {
    static const Script script(list_script_source, "378e2f181f5bad8bfb36ab339bf67c67e2568877");
    return script;
}

}  // namespace x402::redis::detail
