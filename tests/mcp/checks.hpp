// Catch2 checks shared by the MCP tests (harness.hpp has what the fuzz target
// shares too, so it stays free of Catch2).
#pragma once

#include "harness.hpp"

#include <catch2/catch.hpp>

#if X402_MCP_TEST_GATE
#include <x402/payment/local_verifier.hpp>

#include <cstdint>
#include <memory>
#endif

#include <fstream>
#include <stdexcept>
#include <string>

namespace mcp_test {

/// The JSON body of an endpoint reply.
inline json body_of(const mcp::Reply& reply) { return json::parse(reply.body); }

/// A 200 reply carrying JSON-RPC error `code` with `message`, for request `id`.
inline void check_rpc_error(const mcp::Reply& reply, int code, const std::string& message, const json& id = 1) {
    CHECK(reply.status == 200);
    const json body = body_of(reply);
    CHECK(body["id"] == id);
    CHECK(body["error"]["code"] == code);
    CHECK(body["error"]["message"] == message);
}

#ifdef X402_MCP_TEST_VECTORS
/// The payment vector `id` of tests/payment/vectors.json: payments signed by
/// the official x402 client libraries for exactly the requirements of test_price().
inline json vector_named(const std::string& id) {
    std::ifstream in(X402_MCP_TEST_VECTORS);
    const json all = json::parse(in);
    for (const json& v : all["vectors"])
        if (v["id"] == id) return v;
    throw std::runtime_error("no test vector " + id);
}
#endif

#if X402_MCP_TEST_GATE
/// The real payment hook: offline LocalVerifier and an in-memory replay
/// guard, with the clock stopped at `now` (the vectors' time) for all three.
inline std::shared_ptr<x402::payment::PaymentHook<x402::payment::LocalVerifier>> local_hook(xs::SessionPlugin sessions,
                                                                                           std::uint64_t now) {
    namespace xp = x402::payment;
    xp::LocalVerifierOptions options;
    options.clock = [now] { return now; };
    xp::InMemoryReplayGuardOptions guard_options;
    guard_options.clock = options.clock;
    xp::PaymentHookOptions hook_options;
    hook_options.clock = options.clock;
    return std::make_shared<xp::PaymentHook<xp::LocalVerifier>>(std::move(sessions), xp::LocalVerifier(options),
                                                                xp::InMemoryReplayGuard(guard_options), hook_options);
}
#endif

}  // namespace mcp_test
