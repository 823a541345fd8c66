// The store conformance suite on InMemoryStore: needs no server and no hiredis.
#include <x402/session/in_memory_store.hpp>

#include "conformance_backends.hpp"

#define CONFORMANCE_BACKENDS store_conformance::InMemoryBackend
#include "conformance_suite.hpp"
