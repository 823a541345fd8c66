// The store conformance suite on RedisStore: a standalone server and a
// 3-master Redis Cluster, both started by the ctest fixture (redis-servers.sh).
#include <x402/redis/store.hpp>

#include "harness.hpp"

#define CONFORMANCE_BACKENDS redis_tests::RedisStandaloneBackend, redis_tests::RedisClusterBackend
#include "../session/conformance_suite.hpp"
