// x402-session: payer-scoped sessions for x402-paid agent servers.
// The umbrella header: every core component, none that needs an extra library.
#pragma once

#include <x402/session/any_store.hpp>
#include <x402/session/context.hpp>
#include <x402/session/in_memory_store.hpp>
#include <x402/session/plugin.hpp>
#include <x402/session/session.hpp>
#include <x402/session/store.hpp>
