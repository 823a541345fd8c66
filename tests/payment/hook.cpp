// The payment hook end to end with the LocalVerifier: the handler runs in
// exactly the verified payer's session, never for a forged, replayed or
// undecodable payment, and a failed settlement withholds its result.
#include <x402/payment/hook.hpp>

#include <x402/payment/local_verifier.hpp>
#include <x402/session.hpp>

#include "support.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xp = x402::payment;
using x402_test::route_of;
using x402::session::awaitable;
using x402::session::get_payer;
using x402::session::get_session;
using x402::session::SessionPlugin;
using x402::session::VerifiedPayer;
using xp::json;
using xp::PaymentInput;
using xp::PaymentOutcome;

namespace {

const std::string payer_address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// What a handler saw of its context.
struct Seen {
    bool ran = false;
    std::optional<std::string> payer;
    std::optional<std::string> session_payer;
};

/// A handler that records its context into `seen`, writes "visited" into the
/// session when there is one, and returns "served".
struct RecordingHandler {
    Seen* seen;
    awaitable<std::string> operator()() const {
        seen->ran = true;
        seen->payer = get_payer();
        if (auto session = get_session()) {
            seen->session_payer = session->payer();
            co_await session->set("visited", "yes");
        }
        co_return std::string("served");
    }
};


PaymentInput headers_of(std::string_view id) {
    const json& v = x402_test::vector(id);
    return PaymentInput::from_headers(std::map<std::string, std::string>{
        {v.at("headerName").get<std::string>(), v.at("headerValue").get<std::string>()}});
}

using x402_test::local_hook;

/// Runs one request through `hook`.
template <class Hook>
PaymentOutcome<std::string> serve(Hook& hook, PaymentInput input, xp::RouteRequirements route, Seen& seen) {
    return test_support::run(hook.run(std::move(input), std::move(route), RecordingHandler{&seen}));
}

std::optional<std::string> stored_visit(const SessionPlugin& sessions, const std::string& payer) {
    return test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer)).get("visited"));
}

/// Test double for a verifier: accepts every payment as `payer`'s and answers
/// settle with a scripted response (or throws). Only for settlement failures,
/// which the LocalVerifier cannot produce.
class ScriptedVerifierDouble {
public:
    std::optional<xp::SettleResponse> settle_answer;  // nullopt: settle throws
    int settle_calls = 0;
    std::shared_ptr<int> verify_calls = std::make_shared<int>(0);

    awaitable<xp::VerifyResponse> verify(const xp::PaymentPayload& payment, const xp::PaymentRequirements&) {
        ++*verify_calls;
        return xp::detail::ready(xp::VerifyResponse::valid(xp::claimed_payer(payment).value()));
    }
    awaitable<xp::SettleResponse> settle(const xp::PaymentPayload&, const xp::PaymentRequirements&) {
        ++settle_calls;
        if (!settle_answer) throw std::runtime_error("facilitator unreachable");
        return xp::detail::ready(*settle_answer);
    }
};
static_assert(xp::PaymentVerifier<ScriptedVerifierDouble>);

}  // namespace

TEST_CASE("hook: a verified v2 payment runs the handler in the payer's session", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    Seen seen;
    auto outcome = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), seen);

    REQUIRE(outcome.served());
    CHECK(outcome.result() == "served");
    CHECK(seen.payer == payer_address);
    CHECK(seen.session_payer == payer_address);
    CHECK(outcome.payer() == payer_address);
    CHECK(stored_visit(sessions, payer_address) == "yes");
    CHECK(stored_visit(sessions, "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266") == "yes");  // one session per wallet

    const auto receipt = outcome.response_header().value();
    CHECK(receipt.name == "PAYMENT-RESPONSE");
    const auto settlement = xp::decode_payment_response_header(receipt.value).value();
    CHECK(settlement.success);
    CHECK(settlement.payer == payer_address);
    CHECK(settlement.network == "eip155:84532");
    CHECK(settlement.transaction.empty());  // the LocalVerifier moves no funds
}

TEST_CASE("hook: a v1 X-PAYMENT gets an X-PAYMENT-RESPONSE", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v1-valid-legacy-client"));
    Seen seen;
    auto outcome = serve(hook, headers_of("v1-valid-legacy-client"), route_of("v1-valid-legacy-client"), seen);
    REQUIRE(outcome.served());
    CHECK(seen.payer == payer_address);
    CHECK(outcome.response_header().value().name == "X-PAYMENT-RESPONSE");
}

TEST_CASE("hook: MCP _meta payment is verified like a header", "[x402][hook][mcp]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    Seen seen;
    auto outcome = serve(hook, PaymentInput::from_mcp_meta(x402_test::decoded("v2-valid")), route_of("v2-valid"), seen);
    REQUIRE(outcome.served());
    CHECK(seen.session_payer == payer_address);
    CHECK(xp::to_json(*outcome.settlement()).at("success") == true);
}

TEST_CASE("hook: a forged payment never runs the handler", "[x402][hook][security]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    json forged = x402_test::decoded("v2-valid");
    const std::string victim = x402_test::vectors_file()["parties"]["attacker"]["address"];
    forged["payload"]["authorization"]["from"] = victim;  // A's signature, claiming to be B
    const std::map<std::string, std::string> headers{{"PAYMENT-SIGNATURE", x402_test::encode(forged)}};
    Seen seen;
    auto outcome = serve(hook, PaymentInput::from_headers(headers), route_of("v2-valid"), seen);

    CHECK_FALSE(seen.ran);
    REQUIRE(outcome.refused());
    CHECK(outcome.refusal().reason == "invalid_exact_evm_signature");
    CHECK_THROWS_AS(outcome.result(), std::logic_error);
    CHECK_FALSE(outcome.response_header());
    CHECK_FALSE(stored_visit(sessions, victim));
    // v2: the 402 travels in PAYMENT-REQUIRED, with the reason as `error`.
    const auto header = outcome.refusal().header().value();
    CHECK(header.name == "PAYMENT-REQUIRED");
    const auto required = xp::decode_payment_required_header(header.value).value();
    CHECK(required.x402_version == 2);
    CHECK(required.error == "invalid_exact_evm_signature");
    CHECK(xp::to_json(required.accepts.at(0), 2) == x402_test::vector("v2-valid").at("requirements"));
}

TEST_CASE("hook: a replayed payment is refused and runs the handler once", "[x402][hook][security]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    Seen first, second;
    auto accepted = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), first);
    auto replayed = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), second);
    CHECK(accepted.served());
    CHECK(first.ran);
    CHECK_FALSE(second.ran);
    REQUIRE(replayed.refused());
    CHECK(replayed.refusal().reason == "invalid_exact_evm_nonce_already_used");
    CHECK(replayed.refusal().message == "replay: this payment was already accepted");

    // The same payment as an MCP object or a v1-style lower-case spelling is the same payment.
    json lower = x402_test::decoded("v2-valid");
    lower["payload"]["authorization"]["from"] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
    Seen third;
    auto respelled = serve(hook, PaymentInput::from_mcp_meta(lower), route_of("v2-valid"), third);
    CHECK_FALSE(third.ran);
    CHECK(respelled.refusal().reason == "invalid_exact_evm_nonce_already_used");

    // The metrics: three priced requests, one served, two refused as replays.
    const xp::PaymentMetrics& metrics = hook.metrics();
    CHECK(metrics.paid_requests == 3);
    CHECK(metrics.served == 1);
    CHECK(metrics.verifications == 3);  // each is verified; the claim then refuses the replays
    CHECK(metrics.verifications_failed == 0);
    CHECK(metrics.settlements == 1);
    CHECK(metrics.commits == 1);
    CHECK(metrics.commits_failed == 0);
    CHECK(metrics.refusals() == std::map<std::string, std::uint64_t, std::less<>>{
                                    {"invalid_exact_evm_nonce_already_used", 2}});
}

TEST_CASE("hook: a free route runs the handler with no session", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    for (PaymentInput input : {PaymentInput::none(), headers_of("v2-valid")}) {
        Seen seen;
        auto outcome = serve(hook, input, xp::RouteRequirements{}, seen);
        REQUIRE(outcome.served());
        CHECK(outcome.result() == "served");
        CHECK(seen.ran);
        CHECK_FALSE(seen.payer);
        CHECK_FALSE(seen.session_payer);
        CHECK_FALSE(outcome.payer());
        CHECK_FALSE(outcome.response_header());
    }
}

TEST_CASE("hook: a paid route without a usable payment answers 402", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    Seen seen;

    SECTION("no payment on a v1 route: JSON body") {
        auto outcome = serve(hook, PaymentInput::none(), route_of("v1-valid-legacy-client"), seen);
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "payment_required");
        CHECK_FALSE(outcome.refusal().header());
        const json body = json::parse(outcome.refusal().body());
        CHECK(body.at("x402Version") == 1);
        CHECK(body.at("error") == "payment_required");
        CHECK(body.at("accepts") == x402_test::vector("v1-valid-legacy-client").at("paymentRequired").at("accepts"));
    }
    SECTION("no payment on a v2 route: PAYMENT-REQUIRED") {
        auto outcome = serve(hook, PaymentInput::none(), route_of("v2-valid"), seen);
        REQUIRE(outcome.refused());
        const auto required = xp::decode_payment_required_header(outcome.refusal().header().value().value).value();
        CHECK(xp::to_json(required).at("resource") ==
              x402_test::vector("v2-valid").at("paymentRequired").at("resource"));
        CHECK(outcome.refusal().mcp_structured_content().at("error") == "payment_required");
    }
    SECTION("undecodable header") {
        auto outcome = serve(hook, headers_of("malformed-base64"), route_of("v2-valid"), seen);
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "invalid_payload");
        CHECK(outcome.refusal().message == "base64: length is not a multiple of 4");
    }
    SECTION("both payment headers") {
        const std::string value = x402_test::vector("v1-valid-legacy-client").at("headerValue");
        const std::map<std::string, std::string> headers{{"x-payment", value}, {"Payment-Signature", value}};
        auto outcome = serve(hook, PaymentInput::from_headers(headers), route_of("v2-valid"), seen);
        CHECK(outcome.refusal().message == "payment: both X-PAYMENT and PAYMENT-SIGNATURE sent");
    }
    SECTION("no matching requirements") {
        auto route = route_of("v2-valid");
        route.accepts.at(0).amount = "2000";
        auto outcome = serve(hook, headers_of("v2-valid"), route, seen);
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "no_matching_requirements");
    }
    SECTION("expired") {
        auto late = local_hook(sessions, 1767225655);
        auto outcome = serve(late, headers_of("v2-valid"), route_of("v2-valid"), seen);
        CHECK(outcome.refusal().reason == "invalid_exact_evm_payload_authorization_valid_before");
    }
    CHECK_FALSE(seen.ran);
}

TEST_CASE("hook: a throwing handler propagates and its payment stays claimed", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    const auto failing = []() -> awaitable<std::string> {
        throw std::runtime_error("handler failed");
        co_return std::string();
    };
    CHECK_THROWS_WITH(test_support::run(hook.run(headers_of("v2-valid"), route_of("v2-valid"), failing)),
                      "handler failed");
    Seen seen;
    auto again = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), seen);
    CHECK_FALSE(seen.ran);
    CHECK(again.refusal().reason == "invalid_exact_evm_nonce_already_used");
    CHECK(hook.metrics().paid_requests == 2);
    CHECK(hook.metrics().errors == 1);
    CHECK(hook.metrics().served == 0);
}

TEST_CASE("metrics: refusal reasons from outside cannot grow the table or carry odd bytes", "[x402][security]") {
    xp::PaymentMetrics metrics;
    metrics.count_refusal("invalid_payload");
    metrics.count_refusal("has space");
    metrics.count_refusal("quote\"and\nnewline");
    metrics.count_refusal(std::string(65, 'a'));
    metrics.count_refusal("");
    for (int i = 0; i < 100; ++i) metrics.count_refusal("reason_" + std::to_string(i));
    const auto refusals = metrics.refusals();
    CHECK(refusals.size() == xp::PaymentMetrics::max_reasons);  // "other" among them
    CHECK(refusals.at("invalid_payload") == 1);
    CHECK(refusals.at("other") == 4 + 100 - (xp::PaymentMetrics::max_reasons - 2));
    CHECK(refusals.contains("reason_61"));
    CHECK_FALSE(refusals.contains("reason_62"));
}

TEST_CASE("hook: headers through a lookup callable", "[x402][hook]") {
    SessionPlugin sessions;
    auto hook = local_hook(sessions, x402_test::verify_at("v2-valid"));
    const std::string value = x402_test::vector("v2-valid").at("headerValue");
    std::vector<std::string> asked;
    const auto lookup = [&value, &asked](std::string_view name) -> std::optional<std::string> {
        asked.emplace_back(name);
        if (xp::header_name_equals(name, "payment-signature")) return value;
        return std::nullopt;
    };
    Seen seen;
    auto outcome = serve(hook, PaymentInput::from_headers(lookup), route_of("v2-valid"), seen);
    CHECK(outcome.served());
    CHECK(seen.session_payer == payer_address);
    CHECK(asked == std::vector<std::string>{"X-PAYMENT", "PAYMENT-SIGNATURE"});
}

TEST_CASE("hook: a failed settlement withholds the handler's result", "[x402][hook][settle]") {
    SessionPlugin sessions;
    ScriptedVerifierDouble verifier;
    SECTION("settle answers failure") {
        xp::SettleResponse failed;
        failed.success = false;
        failed.error_reason = "invalid_exact_evm_transaction_failed";
        failed.network = "eip155:84532";
        verifier.settle_answer = failed;
        xp::PaymentHook<ScriptedVerifierDouble> hook(sessions, verifier);
        Seen seen;
        auto outcome = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), seen);
        CHECK(seen.ran);  // authorization flow: verify, handler, settle
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "invalid_exact_evm_transaction_failed");
        CHECK(outcome.refusal().settlement.value().error_reason == "invalid_exact_evm_transaction_failed");
        CHECK_THROWS_AS(outcome.result(), std::logic_error);
        CHECK_FALSE(outcome.response_header());
        CHECK(hook.verifier().settle_calls == 1);
        CHECK(hook.metrics().settlements == 1);
        CHECK(hook.metrics().settlements_failed == 1);
        CHECK(hook.metrics().served == 0);
        CHECK(hook.metrics().commits == 0);
        CHECK(hook.metrics().refusals().at("invalid_exact_evm_transaction_failed") == 1);
    }
    SECTION("settle throws") {
        verifier.settle_answer.reset();
        xp::PaymentHook<ScriptedVerifierDouble> hook(sessions, verifier);
        Seen seen;
        auto outcome = serve(hook, headers_of("v2-valid"), route_of("v2-valid"), seen);
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "unexpected_settle_error");
        CHECK(outcome.refusal().message == "settle: the verifier failed");
    }
}

TEST_CASE("hook: a validBefore beyond maxTimeoutSeconds plus the clock skew is refused before verification",
          "[x402][hook][security]") {
    // A claim is held until validBefore: a payer choosing 2^256-1 would pin
    // one forever. The verifier double accepts any signature, so only the
    // hook's horizon can refuse.
    SessionPlugin sessions;
    const std::uint64_t now = 1'800'000'000;
    ScriptedVerifierDouble verifier;
    verifier.settle_answer = xp::SettleResponse{};
    verifier.settle_answer->success = true;
    auto verify_calls = verifier.verify_calls;
    xp::PaymentHookOptions options;
    options.clock = [now] { return now; };
    xp::InMemoryReplayGuardOptions guard_options;
    guard_options.clock = [now] { return now; };
    xp::PaymentHook<ScriptedVerifierDouble> hook(sessions, verifier, xp::InMemoryReplayGuard(guard_options), options);
    const xp::RouteRequirements route = route_of("v2-valid");
    const std::uint64_t allowance = route.accepts.at(0).max_timeout_seconds + options.max_clock_skew_seconds;
    int nonce = 0;
    auto with_valid_before = [&](const std::string& valid_before) {
        json payment = x402_test::decoded("v2-valid");
        payment["payload"]["authorization"]["validBefore"] = valid_before;
        char fresh[67];
        std::snprintf(fresh, sizeof fresh, "0x%064x", ++nonce);
        payment["payload"]["authorization"]["nonce"] = std::string(fresh);
        return PaymentInput::from_mcp_meta(payment);
    };
    for (const std::string& far : {std::to_string(now + allowance + 1), std::string("18446744073709551616"),
                                  std::string("115792089237316195423570985008687907853269984665640564039457584007913129639935")}) {
        Seen seen;
        auto outcome = serve(hook, with_valid_before(far), route, seen);
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "invalid_exact_evm_payload_authorization_valid_before");
        CHECK(outcome.refusal().message.find("maxTimeoutSeconds") != std::string::npos);
        CHECK_FALSE(seen.ran);
    }
    CHECK(*verify_calls == 0);
    Seen at_horizon;
    CHECK(serve(hook, with_valid_before(std::to_string(now + allowance)), route, at_horizon).served());
    CHECK(at_horizon.ran);
    CHECK(*verify_calls == 1);
}
