// Offline x402 verification of one payment (LocalVerifier) against the crypto
// it cannot avoid: the EIP-712 digest (Keccak-256) and the secp256k1 public
// key recovery. The payment is the shared vector "v2-valid", made by the
// official client libraries (tests/payment/vectors.json).
#include <x402/payment/headers.hpp>
#include <x402/payment/local_verifier.hpp>

#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace xp = x402::payment;
namespace xd = x402::payment::detail;

namespace {

struct Vector {
    std::string header_name;
    std::string header_value;
    xp::PaymentPayload payment;
    xp::PaymentRequirements requirements;
    std::uint64_t verify_at = 0;
    // The crypto inputs, parsed once.
    xd::Eip712Domain domain;
    xd::TransferWithAuthorization message;
    std::array<std::uint8_t, 64> r_s{};
    int recovery_id = 0;
};

template <class T>
T must(xp::Result<T> result, const char* what) {
    if (!result) throw std::runtime_error(std::string("verify_bench: cannot parse ") + what);
    return std::move(result).value();
}

template <class T>
T must(std::optional<T> value, const char* what) {
    if (!value) throw std::runtime_error(std::string("verify_bench: cannot parse ") + what);
    return std::move(*value);
}

const Vector& v2_valid() {
    static const Vector vector = [] {
        std::ifstream file(X402_BENCH_VECTORS_PATH);
        std::stringstream text;
        text << file.rdbuf();
        const auto all = xp::json::parse(text.str());
        for (const auto& v : all.at("vectors")) {
            if (v.at("id") != "v2-valid") continue;
            Vector out;
            out.header_name = v.at("headerName").get<std::string>();
            out.header_value = v.at("headerValue").get<std::string>();
            out.payment = must(xp::decode_payment_header(out.header_name, out.header_value), "the header");
            out.requirements = must(xp::parse_payment_requirements(v.at("requirements"), 2), "requirements");
            out.verify_at = v.at("verifyAt").get<std::uint64_t>();

            const auto& domain = v.at("eip712").at("domain");
            const auto& message = v.at("eip712").at("message");
            out.domain = {domain.at("name").get<std::string>(), domain.at("version").get<std::string>(),
                          domain.at("chainId").get<std::uint64_t>(),
                          must(xd::parse_address_syntax(domain.at("verifyingContract").get<std::string>()), "asset")};
            out.message = {must(xd::parse_address_syntax(message.at("from").get<std::string>()), "from"),
                           must(xd::parse_address_syntax(message.at("to").get<std::string>()), "to"),
                           must(xd::parse_uint256_decimal(message.at("value").get<std::string>()), "value"),
                           must(xd::parse_uint256_decimal(message.at("validAfter").get<std::string>()), "validAfter"),
                           must(xd::parse_uint256_decimal(message.at("validBefore").get<std::string>()), "validBefore"),
                           must(xd::parse_hex_fixed<32>(message.at("nonce").get<std::string>()), "nonce")};
            const auto signature = must(
                xd::parse_hex_bytes(out.payment.payload.at("signature").get<std::string>()), "signature");
            for (std::size_t i = 0; i < 64; ++i) out.r_s[i] = signature.at(i);
            out.recovery_id = signature.at(64) - 27;
            return out;
        }
        throw std::runtime_error("verify_bench: vector v2-valid not found");
    }();
    return vector;
}

xp::LocalVerifier verifier_at(std::uint64_t now) {
    xp::LocalVerifierOptions options;
    options.clock = [now] { return now; };
    return xp::LocalVerifier(options);
}

void verify_payment(benchmark::State& state) {
    const Vector& v = v2_valid();
    const xp::LocalVerifier verifier = verifier_at(v.verify_at);
    for (auto _ : state) {
        const xp::VerifyResponse verdict = verifier.verify_now(v.payment, v.requirements);
        if (!verdict.is_valid) state.SkipWithError("the payment did not verify");
        benchmark::DoNotOptimize(verdict);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(verify_payment)->Name("Verify/LocalVerifier");

void decode_and_verify_payment(benchmark::State& state) {
    const Vector& v = v2_valid();
    const xp::LocalVerifier verifier = verifier_at(v.verify_at);
    for (auto _ : state) {
        const auto payment = xp::decode_payment_header(v.header_name, v.header_value);
        const xp::VerifyResponse verdict = verifier.verify_now(*payment, v.requirements);
        if (!verdict.is_valid) state.SkipWithError("the payment did not verify");
        benchmark::DoNotOptimize(verdict);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(decode_and_verify_payment)->Name("Verify/decode_header_and_verify");

void crypto_alone(benchmark::State& state) {
    const Vector& v = v2_valid();
    for (auto _ : state) {
        const xd::Bytes32 digest = xd::eip712_digest(xd::domain_separator(v.domain), xd::struct_hash(v.message));
        const auto public_key = xd::recover_public_key(digest, v.r_s, v.recovery_id);
        if (!public_key || xd::address_of_public_key(*public_key) != v.message.from) {
            state.SkipWithError("recovery did not give the payer");
        }
        benchmark::DoNotOptimize(public_key);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(crypto_alone)->Name("Verify/crypto_alone");

}  // namespace

BENCHMARK_MAIN();
