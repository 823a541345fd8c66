// x402::redis: the Redis client (standalone and cluster) and RedisStore.
// Needs hiredis (target x402::redis).
#pragma once

#include <x402/redis/client.hpp>
#include <x402/redis/config.hpp>
#include <x402/redis/error.hpp>
#include <x402/redis/eviction.hpp>
#include <x402/redis/reply.hpp>
#include <x402/redis/store.hpp>
#include <x402/redis/store_url.hpp>
