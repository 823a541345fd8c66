// The interop check: fresh payments made at test time by the official x402
// clients (make_payments.mjs, run by the ctest fixture x402.interop.payments)
// judged by LocalVerifier, by the PaymentHook, and by FacilitatorVerifier
// against the official facilitator code behind the facilitator double.
// Tagged [interop]: ctest runs these only after npm ci and the generator.
#include <x402/payment/facilitator_verifier.hpp>
#include <x402/payment/hook.hpp>
#include <x402/payment/local_verifier.hpp>
#include <x402/session.hpp>

#include "../facilitator_double/test_support.hpp"
#include "../vectors.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#ifndef X402_INTEROP_CASES
#error "X402_INTEROP_CASES must name the generated cases file"
#endif

namespace asio = boost::asio;
namespace xp = x402::payment;
using x402::session::awaitable;
using xp::json;

namespace {

const json& cases_file() {
    static const json file = [] {
        std::ifstream in(X402_INTEROP_CASES);
        if (!in)
            throw std::runtime_error(std::string("cannot read ") + X402_INTEROP_CASES +
                                     ": run the ctest fixture x402.interop.payments (make_payments.mjs) first");
        return json::parse(in);
    }();
    return file;
}

const json& cases() {
    const json& all = cases_file().at("cases");
    if (all.size() < 16) throw std::runtime_error("too few interop cases");
    return all;
}

const json& case_by_id(const std::string& id) {
    for (const json& c : cases())
        if (c.at("id") == id) return c;
    throw std::runtime_error("no interop case " + id);
}

int version_of(const json& c) { return c.at("headerName") == "X-PAYMENT" ? 1 : 2; }

xp::PaymentRequirements requirements_of(const json& c) {
    return xp::parse_payment_requirements(c.at("requirements"), version_of(c)).value();
}

xp::RouteRequirements route_of(const json& c) {
    xp::RouteRequirements route;
    route.accepts.push_back(requirements_of(c));
    route.x402_version = version_of(c);
    if (route.x402_version == 2)
        route.resource = xp::ResourceInfo{"https://agent.example.com/mcp/tools/remember", "x402-session interop tool", "application/json"};
    return route;
}

xp::PaymentInput input_of(const json& c) {
    return xp::PaymentInput::from_headers(std::map<std::string, std::string>{
        {c.at("headerName").get<std::string>(), c.at("headerValue").get<std::string>()}});
}

json verdict_json(const xp::VerifyResponse& r) {
    return json{{"valid", r.is_valid},
                {"reason", r.invalid_reason ? json(*r.invalid_reason) : json(nullptr)},
                {"payer", r.payer ? json(*r.payer) : json(nullptr)}};
}

struct Seen {
    int runs = 0;
    std::optional<std::string> payer;
};

struct RecordingHandler {
    Seen* seen;
    awaitable<std::string> operator()() const {
        ++seen->runs;
        seen->payer = x402::session::get_payer();
        if (auto session = x402::session::get_session()) co_await session->set("visited", "yes");
        co_return std::string("served");
    }
};

template <class Hook>
xp::PaymentOutcome<std::string> serve(Hook& hook, const json& c, Seen& seen) {
    asio::io_context io;
    return facilitator_test::await_on(io, hook.run(input_of(c), route_of(c), RecordingHandler{&seen}));
}

}  // namespace

TEST_CASE("interop: the cases were made by the pinned official clients", "[x402][interop]") {
    const json& versions = cases_file().at("versions");
    CHECK(versions.at("@x402/core") == "2.27.0");
    CHECK(versions.at("@x402/evm") == "2.27.0");
    CHECK(versions.at("viem") == "2.57.20");
    CHECK(versions.at("x402") == "1.2.0");
    CHECK(cases().size() == 16);
}

TEST_CASE("interop: LocalVerifier gives every fresh payment its expected verdict", "[x402][interop]") {
    for (const json& c : cases()) {
        DYNAMIC_SECTION(c.at("id").get<std::string>() << " made by " << c.at("madeBy").get<std::string>()) {
            auto payment = xp::decode_payment_header(c.at("headerName").get<std::string>(), c.at("headerValue").get<std::string>());
            REQUIRE(payment);
            xp::LocalVerifierOptions options;
            const std::uint64_t now = c.at("verifyAt");
            options.clock = [now] { return now; };
            const json got = verdict_json(xp::LocalVerifier(options).verify_now(*payment, requirements_of(c)));
            CHECK(got == c.at("expected"));
            // ... which is also what the official facilitator code said.
            const json& official = c.at("officialVerify");
            CHECK(got.at("valid") == official.at("isValid"));
            CHECK(got.at("reason") == official.at("invalidReason"));
            CHECK(got.at("payer") == official.at("payer"));
        }
    }
}

TEST_CASE("interop: the hook runs the handler as the signer of a valid payment and never for a forged one",
          "[x402][interop][hook]") {
    for (const json& c : cases()) {
        if (!c.at("replayOf").is_null()) continue;
        DYNAMIC_SECTION(c.at("id").get<std::string>()) {
            x402::session::SessionPlugin sessions;
            auto hook = x402_test::local_hook(sessions, c.at("verifyAt").get<std::uint64_t>());
            Seen seen;
            auto outcome = serve(hook, c, seen);
            const json& expected = c.at("expected");
            if (expected.at("valid").get<bool>()) {
                REQUIRE(outcome.served());
                CHECK(seen.runs == 1);
                CHECK(seen.payer == expected.at("payer").get<std::string>());
                CHECK(outcome.payer() == expected.at("payer").get<std::string>());
                CHECK(outcome.response_header().value().name == (version_of(c) == 1 ? "X-PAYMENT-RESPONSE" : "PAYMENT-RESPONSE"));
            } else {
                CHECK(seen.runs == 0);
                REQUIRE(outcome.refused());
                CHECK(outcome.refusal().reason == expected.at("reason").get<std::string>());
                // Nothing was written in the session of the claimed payer (the victim, for impersonation).
                const auto victim = x402::session::VerifiedPayer::assume_verified(expected.at("payer").get<std::string>());
                asio::io_context io;
                CHECK_FALSE(facilitator_test::await_on(io, sessions.session_for(victim).get("visited")));
            }
        }
    }
}

TEST_CASE("interop: a replayed fresh payment is refused by the hook", "[x402][interop][hook]") {
    for (const json& replay : cases()) {
        if (replay.at("replayOf").is_null()) continue;
        DYNAMIC_SECTION(replay.at("id").get<std::string>()) {
            const json& original = case_by_id(replay.at("replayOf").get<std::string>());
            x402::session::SessionPlugin sessions;
            auto hook = x402_test::local_hook(sessions, original.at("verifyAt").get<std::uint64_t>());
            Seen seen;
            auto first = serve(hook, original, seen);
            auto second = serve(hook, replay, seen);
            CHECK(first.served());
            REQUIRE(second.refused());
            CHECK(second.refusal().reason == "invalid_exact_evm_nonce_already_used");
            CHECK(seen.runs == 1);
            CHECK(seen.payer == original.at("expected").at("payer").get<std::string>());
        }
    }
}

TEST_CASE("interop: FacilitatorVerifier with the official facilitator code agrees on every fresh payment",
          "[x402][interop][facilitator]") {
    facilitator_test::FacilitatorDouble::Options options;
    options.modules = X402_INTEROP_MODULES;
    facilitator_test::FacilitatorDouble facilitator(options);
    asio::io_context io;
    for (const json& c : cases()) {  // a loop, not sections: one double for all cases
        INFO(c.at("id").get<std::string>());
        {
            const std::string at = std::to_string(c.at("verifyAt").get<std::uint64_t>());
            xp::FacilitatorVerifierOptions verifier_options;
            verifier_options.timeout = std::chrono::seconds(20);
            xp::FacilitatorVerifier verifier(io.get_executor(), facilitator.url("official/at/" + at), verifier_options);
            auto payment = xp::decode_payment_header(c.at("headerName").get<std::string>(), c.at("headerValue").get<std::string>());
            REQUIRE(payment);
            const auto verdict = facilitator_test::await_on(io, verifier.verify(*payment, requirements_of(c)));
            CHECK(verdict_json(verdict) == c.at("expected"));
        }
    }
}
