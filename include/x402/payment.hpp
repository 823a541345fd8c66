// x402 payments for x402-session: protocol types and codecs, requirement
// matching, the PaymentVerifier and ReplayGuard concepts and the payment hook.
// The umbrella leaves out x402/payment/local_verifier.hpp, which needs
// libsecp256k1 and Crypto++ (CMake target x402::payment_local).
#pragma once

#include <x402/payment/base64.hpp>
#include <x402/payment/clock.hpp>
#include <x402/payment/error.hpp>
#include <x402/payment/headers.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/matching.hpp>
#include <x402/payment/metrics.hpp>
#include <x402/payment/networks.hpp>
#include <x402/payment/replay_guard.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>
