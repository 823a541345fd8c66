// FacilitatorVerifier against the facilitator test double on loopback
// (tests/payment/facilitator_double): what is sent, verdicts passed through,
// every transport failure as a refusal (never an exception), timeouts,
// keep-alive reuse, TLS verification, the payer context, and, tagged
// [official], the official facilitator code over a chain stand-in.
#include <x402/payment/facilitator_verifier.hpp>

#include <x402/payment/hook.hpp>
#include <x402/session.hpp>

#include "facilitator_double/test_support.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace xp = x402::payment;
using x402_test::route_of;
using facilitator_test::await_on;
using facilitator_test::FacilitatorDouble;
using x402::session::awaitable;
using xp::FacilitatorErrorKind;
using xp::FacilitatorVerifier;
using xp::json;

namespace {

const std::string payer_address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

xp::PaymentPayload payment_of(std::string_view id) {
    const json& v = x402_test::vector(id);
    return xp::decode_payment_header(v.at("headerName").get<std::string>(), v.at("headerValue").get<std::string>()).value();
}

xp::FacilitatorVerifierOptions quick(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    xp::FacilitatorVerifierOptions options;
    options.timeout = timeout;
    return options;
}


struct Seen {
    bool ran = false;
    std::optional<std::string> payer;
};

struct RecordingHandler {
    Seen* seen;
    awaitable<std::string> operator()() const {
        seen->ran = true;
        seen->payer = x402::session::get_payer();
        co_return std::string("served");
    }
};

xp::PaymentInput headers_of(std::string_view id) {
    const json& v = x402_test::vector(id);
    return xp::PaymentInput::from_headers(std::map<std::string, std::string>{
        {v.at("headerName").get<std::string>(), v.at("headerValue").get<std::string>()}});
}

}  // namespace

// ------------------------------------------------------------- construction

TEST_CASE("facilitator: URLs are parsed strictly at construction", "[x402][facilitator]") {
    asio::io_context io;
    CHECK(FacilitatorVerifier(io.get_executor(), "HTTPS://X402.org/facilitator/").url() == "https://x402.org/facilitator");
    CHECK(FacilitatorVerifier(io.get_executor(), "http://127.0.0.1:8080").url() == "http://127.0.0.1:8080");
    CHECK(FacilitatorVerifier(io.get_executor(), "http://[::1]:80/f").url() == "http://[::1]/f");
    for (const char* bad : {"ftp://x402.org", "x402.org/facilitator", "http://", "http://a:0", "http://a:65536",
                            "http://user@x402.org", "http://x402.org/f?q=1", "http://x402.org/f#frag", "http://a b/",
                            "http://x402.org/f\r\nX-Injected: 1", "http://[::1"}) {
        INFO(bad);
        CHECK_THROWS_AS(FacilitatorVerifier(io.get_executor(), bad), std::invalid_argument);
    }
    xp::FacilitatorVerifierOptions missing_ca;
    missing_ca.ca_file = "/nonexistent/ca.pem";
    CHECK_THROWS_AS(FacilitatorVerifier(io.get_executor(), "https://x402.org", missing_ca), std::invalid_argument);
}

TEST_CASE("facilitator: a payer's ContextExecutor is refused", "[x402][facilitator][context]") {
    using Wrapped = x402::session::ContextExecutor<asio::any_io_executor>;
    static_assert(!std::is_constructible_v<FacilitatorVerifier, Wrapped, std::string_view>);
    asio::io_context io;
    const Wrapped wrapped(io.get_executor(), nullptr);
    CHECK_THROWS_AS(FacilitatorVerifier(asio::any_io_executor(wrapped), "http://127.0.0.1:1"), std::invalid_argument);
}

// ------------------------------------------------------------- verdicts

TEST_CASE("facilitator: a valid answer accepts the payment as the facilitator's payer", "[x402][facilitator]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    auto options = quick();
    options.headers = [](std::string_view endpoint) {
        return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer test-" + std::string(endpoint)}};
    };
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), options);
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");

    const xp::VerifyResponse verdict = await_on(io, verifier.verify(payment, requirements));
    CHECK(verdict.is_valid);
    CHECK(verdict.payer == payer_address);

    // What the facilitator received: the body of reference §2 and the headers.
    const json last = facilitator.get("/last");
    CHECK(last.at("path") == "/valid/verify");
    CHECK(last.at("headers").at("content-type") == "application/json");
    CHECK(last.at("headers").at("authorization") == "Bearer test-verify");
    const json body = json::parse(last.at("body").get<std::string>());
    CHECK(body.at("x402Version") == 2);
    CHECK(body.at("paymentPayload") == x402_test::decoded("v2-valid"));
    CHECK(body.at("paymentRequirements") == x402_test::vector("v2-valid").at("requirements"));

    const xp::SettleResponse settlement = await_on(io, verifier.settle(payment, requirements));
    CHECK(settlement.success);
    CHECK(settlement.payer == payer_address);
    CHECK(settlement.network == "eip155:84532");
    CHECK(settlement.transaction.size() == 66);
    CHECK(facilitator.get("/last").at("path") == "/valid/settle");
}

TEST_CASE("facilitator: a v1 payment is sent with v1 requirements", "[x402][facilitator]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), quick());
    const xp::VerifyResponse verdict =
        await_on(io, verifier.verify(payment_of("v1-valid-legacy-client"), x402_test::requirements("v1-valid-legacy-client")));
    CHECK(verdict.is_valid);
    const json body = json::parse(facilitator.get("/last").at("body").get<std::string>());
    CHECK(body.at("x402Version") == 1);
    CHECK(body.at("paymentPayload") == x402_test::decoded("v1-valid-legacy-client"));
    CHECK(body.at("paymentRequirements") == x402_test::vector("v1-valid-legacy-client").at("requirements"));
}

TEST_CASE("facilitator: a valid answer without payer falls back to authorization.from", "[x402][facilitator]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid-no-payer"), quick());
    const auto verdict = await_on(io, verifier.verify(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    CHECK(verdict.is_valid);
    CHECK(verdict.payer == payer_address);
    // The raw answer names none.
    const auto reply = await_on(io, verifier.verify_detailed(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    REQUIRE(reply.response);
    CHECK_FALSE(reply.response->payer);
}

TEST_CASE("facilitator: a refusal passes the facilitator's reason through", "[x402][facilitator]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");

    SECTION("200 with isValid false") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("invalid"), quick());
        const auto verdict = await_on(io, verifier.verify(payment, requirements));
        CHECK_FALSE(verdict.is_valid);
        CHECK(verdict.invalid_reason == "invalid_exact_evm_signature");
        CHECK(verdict.invalid_message == "scripted refusal");
        const auto settlement = await_on(io, verifier.settle(payment, requirements));
        CHECK_FALSE(settlement.success);
        CHECK(settlement.error_reason == "invalid_exact_evm_transaction_failed");
    }
    SECTION("400 carrying a verdict") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("refused-400"), quick());
        const auto verdict = await_on(io, verifier.verify(payment, requirements));
        CHECK_FALSE(verdict.is_valid);
        CHECK(verdict.invalid_reason == "invalid_exact_evm_nonce_already_used");
        const auto settlement = await_on(io, verifier.settle(payment, requirements));
        CHECK_FALSE(settlement.success);
        CHECK(settlement.error_reason == "invalid_exact_evm_nonce_already_used");
    }
}

// ------------------------------------------------------------- failures

TEST_CASE("facilitator: HTTP 500 is an unexpected_verify_error", "[x402][facilitator][failure]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("status500"), quick());
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");

    const auto reply = await_on(io, verifier.verify_detailed(payment, requirements));
    REQUIRE(reply.error);
    CHECK(reply.error->kind == FacilitatorErrorKind::http_status);
    CHECK(reply.error->http_status == 500);
    CHECK(reply.error->message == "POST /verify answered HTTP 500");

    const auto verdict = await_on(io, verifier.verify(payment, requirements));
    CHECK_FALSE(verdict.is_valid);
    CHECK(verdict.invalid_reason == "unexpected_verify_error");
    CHECK(verdict.invalid_message == "facilitator http_status: POST /verify answered HTTP 500");
    CHECK_FALSE(verdict.payer);

    const auto settlement = await_on(io, verifier.settle(payment, requirements));
    CHECK_FALSE(settlement.success);
    CHECK(settlement.error_reason == "unexpected_settle_error");
    CHECK(settlement.network == "eip155:84532");
    CHECK(settlement.transaction.empty());
}

TEST_CASE("facilitator: an answer that is not the expected JSON is malformed", "[x402][facilitator][failure]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    for (const char* mode : {"malformed", "not-an-answer", "huge"}) {
        INFO(mode);
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url(mode), quick());
        const auto reply = await_on(io, verifier.verify_detailed(payment, requirements));
        REQUIRE(reply.error);
        CHECK(reply.error->kind == FacilitatorErrorKind::malformed_response);
        const auto verdict = await_on(io, verifier.verify(payment, requirements));
        CHECK_FALSE(verdict.is_valid);
        CHECK(verdict.invalid_reason == "unexpected_verify_error");
    }
}

TEST_CASE("facilitator: connection refused is unreachable", "[x402][facilitator][failure]") {
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), "http://127.0.0.1:" + std::to_string(facilitator_test::unused_port()), quick());
    const auto reply = await_on(io, verifier.verify_detailed(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    REQUIRE(reply.error);
    CHECK(reply.error->kind == FacilitatorErrorKind::unreachable);
    CHECK_THAT(reply.error->message, Catch::Contains("cannot connect to 127.0.0.1"));
    const auto verdict = await_on(io, verifier.verify(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    CHECK(verdict.invalid_reason == "unexpected_verify_error");
    CHECK_THAT(verdict.invalid_message.value(), Catch::StartsWith("facilitator unreachable: "));
}

TEST_CASE("facilitator: a facilitator that never answers times out", "[x402][facilitator][failure]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    // The bound is the verifier's own timeout, small here; the test does not sleep.
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("hang"), quick(std::chrono::milliseconds(300)));
    const auto reply = await_on(io, verifier.verify_detailed(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    REQUIRE(reply.error);
    CHECK(reply.error->kind == FacilitatorErrorKind::timeout);
    CHECK_THAT(reply.error->message, Catch::Contains("within 300 ms"));
    const auto settlement = await_on(io, verifier.settle(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    CHECK_FALSE(settlement.success);
    CHECK(settlement.error_reason == "unexpected_settle_error");
}

TEST_CASE("facilitator: an invalid configured header sends nothing", "[x402][facilitator][failure]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    auto options = quick();
    options.headers = [](std::string_view) {
        return std::vector<std::pair<std::string, std::string>>{{"X-Api-Key", "a\r\nX-Injected: yes"}};
    };
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), options);
    const auto reply = await_on(io, verifier.verify_detailed(payment_of("v2-valid"), x402_test::requirements("v2-valid")));
    REQUIRE(reply.error);
    CHECK(reply.error->kind == FacilitatorErrorKind::invalid_request);
    CHECK(facilitator.get("/stats").at("requests") == 1);  // only this GET
}

// ------------------------------------------------------------- connections

TEST_CASE("facilitator: sequential requests reuse one keep-alive connection", "[x402][facilitator][keepalive]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), quick());
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    for (int i = 0; i < 5; ++i) CHECK(await_on(io, verifier.verify(payment, requirements)).is_valid);
    CHECK(await_on(io, verifier.settle(payment, requirements)).success);
    FacilitatorVerifier copy = verifier;  // copies share the connections
    CHECK(await_on(io, copy.verify(payment, requirements)).is_valid);
    const json stats = facilitator.get("/stats");
    CHECK(stats.at("requests") == 8);
    CHECK(stats.at("connections") == 2);  // the verifier's one, and this GET's
}

TEST_CASE("facilitator: Connection close and dropped connections are replaced", "[x402][facilitator][keepalive]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    SECTION("Connection: close") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("close"), quick());
        for (int i = 0; i < 3; ++i) CHECK(await_on(io, verifier.verify(payment, requirements)).is_valid);
        CHECK(facilitator.get("/stats").at("connections") == 4);
    }
    SECTION("closed after the answer although keep-alive was advertised") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("drop"), quick());
        for (int i = 0; i < 3; ++i) CHECK(await_on(io, verifier.verify(payment, requirements)).is_valid);
        CHECK(facilitator.get("/stats").at("connections") == 4);
    }
}

TEST_CASE("facilitator: when every idle connection went stale, the retry takes a new one", "[x402][facilitator][keepalive]") {
    // Two requests at once leave two pooled connections; the double closes
    // both after answering (as a server's keep-alive timeout would). The next
    // request finds the first one closed, and must not retry on the second.
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("drop"), quick());
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    int valid = 0;
    for (int i = 0; i < 2; ++i)
        asio::co_spawn(io, verifier.verify(payment, requirements), [&](std::exception_ptr e, xp::VerifyResponse r) {
            if (!e && r.is_valid) ++valid;
        });
    io.run();
    io.restart();
    REQUIRE(valid == 2);
    REQUIRE(facilitator.get("/stats").at("connections") == 3);  // two of the verifier's, and this GET's
    const xp::VerifyResponse after = await_on(io, verifier.verify(payment, requirements));
    CHECK(after.is_valid);
    CHECK(after.invalid_reason == std::nullopt);
}

TEST_CASE("facilitator: concurrent requests from two threads all complete", "[x402][facilitator][keepalive]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), quick());
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    std::atomic<int> valid{0}, done{0};
    constexpr int requests = 16;
    for (int i = 0; i < requests; ++i) {
        auto strand = asio::make_strand(io);
        asio::co_spawn(strand, verifier.verify(payment, requirements), [&](std::exception_ptr e, xp::VerifyResponse r) {
            if (!e && r.is_valid && r.payer == payer_address) ++valid;
            ++done;
        });
    }
    std::thread second([&io] { io.run(); });
    io.run();
    second.join();
    CHECK(done == requests);
    CHECK(valid == requests);
    const json stats = facilitator.get("/stats");
    CHECK(stats.at("requests") == requests + 1);
    CHECK(stats.at("connections").get<int>() <= requests + 1);
}

// ------------------------------------------------------------- TLS

TEST_CASE("facilitator: https verifies the certificate and the host name", "[x402][facilitator][tls]") {
    const auto& tls = facilitator_test::tls_material();
    FacilitatorDouble::Options double_options;
    double_options.tls_cert = tls.cert;
    double_options.tls_key = tls.key;
    FacilitatorDouble facilitator(double_options);
    asio::io_context io;
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    auto trusting = quick();
    trusting.ca_file = tls.ca;

    SECTION("trusted CA and matching IP address") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid", "127.0.0.1", true), trusting);
        for (int i = 0; i < 3; ++i) {
            const auto verdict = await_on(io, verifier.verify(payment, requirements));
            CHECK(verdict.is_valid);
            CHECK(verdict.payer == payer_address);
        }
        CHECK(await_on(io, verifier.settle(payment, requirements)).success);
    }
    SECTION("a certificate from an unknown CA is rejected") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid", "127.0.0.1", true), quick());
        const auto reply = await_on(io, verifier.verify_detailed(payment, requirements));
        REQUIRE(reply.error);
        CHECK(reply.error->kind == FacilitatorErrorKind::tls);
        CHECK_THAT(reply.error->message, Catch::Contains("certificate verify failed"));
        CHECK_FALSE(await_on(io, verifier.verify(payment, requirements)).is_valid);
    }
    SECTION("a host name the certificate does not name is rejected") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid", "localhost", true), trusting);
        const auto reply = await_on(io, verifier.verify_detailed(payment, requirements));
        REQUIRE(reply.error);
        CHECK(reply.error->kind == FacilitatorErrorKind::tls);
        CHECK_THAT(reply.error->message, Catch::Contains("TLS handshake with localhost"));
    }
    SECTION("plain http to a TLS port is not an answer") {
        FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), quick(std::chrono::milliseconds(2000)));
        const auto reply = await_on(io, verifier.verify_detailed(payment, requirements));
        REQUIRE(reply.error);
        CHECK(reply.error->kind != FacilitatorErrorKind::tls);
    }
}

// ------------------------------------------------------------- hook and context

TEST_CASE("facilitator: the hook runs the handler only for an accepted payment", "[x402][facilitator][hook]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    x402::session::SessionPlugin sessions;
    for (const auto& [mode, accepted, reason] :
         std::vector<std::tuple<std::string, bool, std::string>>{{"valid", true, ""},
                                                                 {"invalid", false, "invalid_exact_evm_signature"},
                                                                 {"status500", false, "unexpected_verify_error"},
                                                                 {"malformed", false, "unexpected_verify_error"}}) {
        INFO(mode);
        xp::PaymentHook<FacilitatorVerifier> hook(sessions, FacilitatorVerifier(io.get_executor(), facilitator.url(mode), quick()));
        Seen seen;
        auto outcome = await_on(io, hook.run(headers_of("v2-valid"), route_of("v2-valid"), RecordingHandler{&seen}));
        CHECK(seen.ran == accepted);
        CHECK(outcome.served() == accepted);
        if (accepted) {
            CHECK(seen.payer == payer_address);
            CHECK(outcome.settlement()->transaction.size() == 66);
        } else {
            CHECK(outcome.refusal().reason == reason);
        }
    }
}

TEST_CASE("facilitator: a payer's coroutine resumes in its own context and the connection never sees it",
          "[x402][facilitator][context]") {
    FacilitatorDouble facilitator;
    asio::io_context io;
    x402::session::SessionPlugin sessions;
    FacilitatorVerifier verifier(io.get_executor(), facilitator.url("valid"), quick());
    const auto payment = payment_of("v2-valid");
    const auto requirements = x402_test::requirements("v2-valid");
    std::optional<std::string> before, after;
    bool valid = false;
    auto handler = [&]() -> awaitable<int> {
        before = x402::session::get_payer();
        for (int i = 0; i < 3; ++i) valid = (co_await verifier.verify(payment, requirements)).is_valid;
        after = x402::session::get_payer();
        co_return 0;
    };
    const auto payer = x402::session::VerifiedPayer::assume_verified(payer_address);
    await_on(io, sessions.run(payer, handler));
    CHECK(valid);
    CHECK(before == payer_address);
    CHECK(after == payer_address);
}

// ------------------------------------------------------------- official facilitator code

TEST_CASE("facilitator official: every shared vector gets the official verdict over HTTP", "[x402][facilitator][official]") {
    FacilitatorDouble::Options options;
    options.modules = X402_INTEROP_MODULES;
    FacilitatorDouble facilitator(options);
    asio::io_context io;
    for (const json& v : x402_test::vectors_file().at("vectors")) {
        const std::string id = v.at("id");
        auto payment = xp::decode_payment_header(v.at("headerName").get<std::string>(), v.at("headerValue").get<std::string>());
        if (!payment) continue;  // undecodable: never sent to a facilitator
        INFO(id);  // a loop, not sections: one double for all vectors
        {
            const std::string at = std::to_string(v.at("verifyAt").get<std::uint64_t>());
            FacilitatorVerifier verifier(io.get_executor(), facilitator.url("official/at/" + at), quick(std::chrono::milliseconds(20000)));
            const auto verdict = await_on(io, verifier.verify(*payment, x402_test::requirements(id)));
            const json& expected = v.at("expected");
            CHECK(verdict.is_valid == expected.at("valid").get<bool>());
            CHECK(json(verdict.invalid_reason ? json(*verdict.invalid_reason) : json(nullptr)) == expected.at("reason"));
            CHECK(json(verdict.payer ? json(*verdict.payer) : json(nullptr)) == expected.at("payer"));
        }
    }
}

TEST_CASE("facilitator official: a payment settles once and its replay is refused", "[x402][facilitator][official]") {
    FacilitatorDouble::Options options;
    options.modules = X402_INTEROP_MODULES;
    FacilitatorDouble facilitator(options);
    asio::io_context io;
    const std::string at = std::to_string(x402_test::verify_at("v2-valid"));
    const std::string url = facilitator.url("official/at/" + at);
    x402::session::SessionPlugin sessions;
    xp::PaymentHook<FacilitatorVerifier> hook(sessions, FacilitatorVerifier(io.get_executor(), url, quick(std::chrono::milliseconds(20000))));

    Seen first;
    auto paid = await_on(io, hook.run(headers_of("v2-valid"), route_of("v2-valid"), RecordingHandler{&first}));
    REQUIRE(paid.served());
    CHECK(first.payer == payer_address);
    CHECK(paid.settlement()->success);
    CHECK(paid.settlement()->transaction.size() == 66);

    // The same payment again: the hook's replay guard refuses it before the facilitator.
    Seen second;
    auto replayed = await_on(io, hook.run(headers_of("v2-valid"), route_of("v2-valid"), RecordingHandler{&second}));
    CHECK_FALSE(second.ran);
    CHECK(replayed.refusal().reason == "invalid_exact_evm_nonce_already_used");

    // Another server (no shared guard): the facilitator itself now refuses the used nonce.
    xp::PaymentHook<FacilitatorVerifier> other(sessions, FacilitatorVerifier(io.get_executor(), url, quick(std::chrono::milliseconds(20000))));
    Seen third;
    auto elsewhere = await_on(io, other.run(headers_of("v2-valid"), route_of("v2-valid"), RecordingHandler{&third}));
    CHECK_FALSE(third.ran);
    CHECK(elsewhere.refusal().reason == "invalid_exact_evm_nonce_already_used");
}
