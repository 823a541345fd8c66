// Test support for the x402 payment tests: the shared vectors (a copy of
// ../shared/x402/vectors.json kept in the repo, path from CMake) and helpers
// that mutate a real payment and encode it again.
#pragma once

#include <x402/payment/headers.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/local_verifier.hpp>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef X402_TEST_VECTORS_PATH
#error "X402_TEST_VECTORS_PATH must name tests/payment/vectors.json"
#endif

namespace x402_test {

using x402::payment::json;

/// The whole vectors file, read once.
inline const json& vectors_file() {
    static const json file = [] {
        std::ifstream in(X402_TEST_VECTORS_PATH);
        if (!in) throw std::runtime_error("cannot read " + std::string(X402_TEST_VECTORS_PATH));
        return json::parse(in);
    }();
    return file;
}

/// The vector with this id; throws if there is none.
inline const json& vector(std::string_view id) {
    for (const json& v : vectors_file().at("vectors"))
        if (v.at("id").get<std::string>() == id) return v;
    throw std::runtime_error("no vector " + std::string(id));
}

/// A LocalVerifier whose clock stands at `now`.
inline x402::payment::LocalVerifier verifier_at(std::uint64_t now) {
    x402::payment::LocalVerifierOptions options;
    options.clock = [now] { return now; };
    return x402::payment::LocalVerifier(std::move(options));
}

/// A hook with a LocalVerifier and an in-memory replay guard whose clocks, and
/// the hook's own (the validBefore horizon), stand at `now`.
inline x402::payment::PaymentHook<x402::payment::LocalVerifier> local_hook(x402::session::SessionPlugin sessions,
                                                                           std::uint64_t now) {
    namespace xp = x402::payment;
    xp::InMemoryReplayGuardOptions guard_options;
    guard_options.clock = [now] { return now; };
    xp::PaymentHookOptions hook_options;
    hook_options.clock = [now] { return now; };
    return xp::PaymentHook<xp::LocalVerifier>(std::move(sessions), verifier_at(now), xp::InMemoryReplayGuard(guard_options),
                                              hook_options);
}

/// The vector's decoded payment as JSON (to mutate).
inline json decoded(std::string_view id) { return vector(id).at("decodedPayload"); }

/// base64(JSON) of a (mutated) payment: a header value.
inline std::string encode(const json& payment) { return x402::payment::base64_encode(payment.dump()); }

/// The advertised requirements of a vector.
inline x402::payment::PaymentRequirements requirements(std::string_view id) {
    return x402::payment::parse_payment_requirements(vector(id).at("requirements")).value();
}

/// The route requirements of a vector's 402 (what its payment was made for).
inline x402::payment::RouteRequirements route_of(std::string_view id) {
    auto required = x402::payment::parse_payment_required(vector(id).at("paymentRequired")).value();
    x402::payment::RouteRequirements route;
    route.accepts = required.accepts;
    route.resource = required.resource;
    route.x402_version = required.x402_version;
    return route;
}

inline std::uint64_t verify_at(std::string_view id) { return vector(id).at("verifyAt").get<std::uint64_t>(); }

/// The offline verdict for a header value against a vector's requirements at `now`.
inline x402::payment::VerifyResponse verdict(std::string_view header_name, const std::string& header_value,
                                             const x402::payment::PaymentRequirements& requirements,
                                             std::uint64_t now) {
    auto payment = x402::payment::decode_payment_header(header_name, header_value);
    if (!payment) return x402::payment::VerifyResponse::invalid(payment.error(), std::nullopt);
    return verifier_at(now).verify_now(*payment, requirements);
}

/// Verdict of a mutated v2-valid / v1 payment JSON against the vector's own requirements and clock.
inline x402::payment::VerifyResponse verdict_of(std::string_view id, const json& payment) {
    const json& v = vector(id);
    return verdict(v.at("headerName").get<std::string>(), encode(payment), requirements(id), verify_at(id));
}

}  // namespace x402_test
