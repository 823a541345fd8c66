// Paid state: a paid handler's session writes reach the store only when its
// payment settles, as one atomic commit; one payment runs one handler,
// whatever shape its payload takes; a payment buys only its own resource.
// Every failure is checked against a snapshot of the whole store.
#include <x402/payment/hook.hpp>

#include <x402/payment/local_verifier.hpp>
#include <x402/session.hpp>

#include "support.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace xp = x402::payment;
using x402_test::route_of;
namespace xs = x402::session;
using xs::awaitable;
using xs::get_session;
using xs::SessionPlugin;
using xs::VerifiedPayer;
using xp::json;
using xp::PaymentInput;

namespace paid_state_test {

const std::string payer_address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const std::string bystander = "0x000000000000000000000000000000000000b0b0";


PaymentInput input_of(const json& payment) { return PaymentInput::from_mcp_meta(payment); }
PaymentInput valid_input() { return input_of(x402_test::decoded("v2-valid")); }

/// Every entry of every payer the tests touch: what "the store as it was" means.
using Snapshot = std::map<std::string, std::vector<xs::Entry>>;

Snapshot snapshot(const xs::AnyStore& store) {
    Snapshot out;
    for (const std::string& payer : {xs::detail::normalise_payer(payer_address), xs::detail::normalise_payer(bystander)})
        out[payer] = test_support::run(store.list(payer, {})).entries;
    return out;
}

/// A store with entries for the payer and a bystander.
SessionPlugin seeded_sessions() {
    SessionPlugin sessions;
    test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer_address)).set("balance", "10"));
    test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer_address)).set("old", "kept"));
    test_support::run(sessions.session_for(VerifiedPayer::assume_verified(bystander)).set("balance", "99"));
    return sessions;
}

/// Test double for a verifier (no blockchain here): accepts every payment as
/// its signer's, settles as scripted, and records the order of calls.
class ScriptedVerifierDouble {
public:
    std::shared_ptr<std::vector<std::string>> calls = std::make_shared<std::vector<std::string>>();
    std::optional<xp::SettleResponse> settle_answer = settled();  // nullopt: settle throws

    static xp::SettleResponse settled() {
        xp::SettleResponse ok;
        ok.success = true;
        ok.network = "eip155:84532";
        ok.transaction = "0xfeed";
        return ok;
    }

    awaitable<xp::VerifyResponse> verify(const xp::PaymentPayload& payment, const xp::PaymentRequirements&) {
        calls->push_back("verify");
        return xp::detail::ready(xp::VerifyResponse::valid(xp::claimed_payer(payment).value()));
    }
    awaitable<xp::SettleResponse> settle(const xp::PaymentPayload&, const xp::PaymentRequirements&) {
        calls->push_back("settle");
        if (!settle_answer) throw std::runtime_error("facilitator unreachable");
        return xp::detail::ready(*settle_answer);
    }
};

/// A handler that writes, erases, reads its own writes back, and records what it read.
struct WritingHandler {
    std::shared_ptr<std::vector<std::string>> calls;
    std::shared_ptr<std::string> read_back = std::make_shared<std::string>();
    bool throw_after_writing = false;

    awaitable<std::string> operator()() const {
        calls->push_back("handler");
        auto session = get_session().value();
        co_await session.set("color", "blue");
        co_await session.set("balance", "0");
        co_await session.erase("old");
        const auto color = co_await session.get("color");
        const auto old = co_await session.get("old");
        const auto listed = co_await session.list({});
        *read_back = color.value_or("-") + "/" + old.value_or("erased") + "/" + std::to_string(listed.entries.size());
        if (throw_after_writing) throw std::runtime_error("handler failed after writing");
        co_return std::string("served");
    }
};

/// The four required operations only: no atomic apply.
class NoApplyStore {
public:
    awaitable<std::optional<std::string>> get(std::string payer, std::string key) { return inner_->get(payer, key); }
    awaitable<void> set(std::string payer, std::string key, std::string value, xs::SetOptions options) {
        return inner_->set(payer, key, value, options);
    }
    awaitable<bool> erase(std::string payer, std::string key) { return inner_->erase(payer, key); }
    awaitable<xs::ListResult> list(std::string payer, xs::ListOptions options) { return inner_->list(payer, options); }

private:
    std::shared_ptr<xs::InMemoryStore> inner_ = std::make_shared<xs::InMemoryStore>();
};
static_assert(!xs::StoreWithApply<NoApplyStore>);

/// Test double for a store whose atomic apply fails (as a store that lost
/// its connection would); everything else is an InMemoryStore.
class FailingApplyStoreDouble : public NoApplyStore {
public:
    awaitable<void> apply(std::string, std::vector<xs::Write>) {
        throw std::runtime_error("store unreachable");
        co_return;
    }
};
static_assert(xs::StoreWithApply<FailingApplyStoreDouble>);


using Hook = xp::PaymentHook<ScriptedVerifierDouble>;

/// A replay guard whose clock stands at the vector's time: the claims of its
/// (by today expired) payment are live.
xp::InMemoryReplayGuard guard() {
    xp::InMemoryReplayGuardOptions options;
    options.clock = [now = x402_test::verify_at("v2-valid")] { return now; };
    return xp::InMemoryReplayGuard(options);
}

}  // namespace paid_state_test

using namespace paid_state_test;

TEST_CASE("paid state: a settled payment commits the handler's writes, which it read back", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    auto outcome = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    REQUIRE(outcome.served());
    CHECK(outcome.settlement().value().transaction == "0xfeed");
    CHECK(*handler.read_back == "blue/erased/2");  // read-your-writes, list included
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle"});
    const auto after = snapshot(sessions.store());
    CHECK(after.at(xs::detail::normalise_payer(payer_address)) ==
          std::vector<xs::Entry>{{"balance", "0"}, {"color", "blue"}});
    CHECK(after.at(xs::detail::normalise_payer(bystander)) == std::vector<xs::Entry>{{"balance", "99"}});
}

TEST_CASE("paid state: nothing the handler wrote survives a payment that is not settled", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    ScriptedVerifierDouble verifier;
    WritingHandler handler{verifier.calls};
    std::string reason;

    SECTION("the settlement fails") {
        xp::SettleResponse refused;
        refused.success = false;
        refused.error_reason = "invalid_exact_evm_transaction_failed";
        verifier.settle_answer = refused;
        reason = "invalid_exact_evm_transaction_failed";
    }
    SECTION("the settler throws") {
        verifier.settle_answer.reset();
        reason = "unexpected_settle_error";
    }
    Hook hook(sessions, verifier, guard());
    auto outcome = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    REQUIRE(outcome.refused());
    CHECK(outcome.refusal().reason == reason);
    CHECK(*handler.read_back == "blue/erased/2");  // the handler did run, staged
    CHECK(snapshot(sessions.store()) == before);
    // The claim is kept: the same payment cannot buy a second run.
    auto again = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    CHECK(again.refusal().reason == "invalid_exact_evm_nonce_already_used");
    CHECK(snapshot(sessions.store()) == before);
}

TEST_CASE("paid state: a throwing handler keeps none of its writes and is not charged", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    handler.throw_after_writing = true;
    CHECK_THROWS_WITH(test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler)),
                      "handler failed after writing");
    CHECK(snapshot(sessions.store()) == before);
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler"});
    auto again = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    CHECK(again.refusal().reason == "invalid_exact_evm_nonce_already_used");
}

TEST_CASE("paid state: a result the route marks failed is served, not charged, not committed", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    const auto failed = [](const std::string& result) { return result == "served"; };
    auto outcome = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler, failed));
    REQUIRE(outcome.served());
    CHECK(outcome.result() == "served");
    CHECK_FALSE(outcome.settlement());
    CHECK_FALSE(outcome.response_header());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler"});
    CHECK(snapshot(sessions.store()) == before);
}

TEST_CASE("paid state: a commit that fails after settlement is reported with the receipt", "[security][paid]") {
    SessionPlugin sessions(xs::AnyStore::make<FailingApplyStoreDouble>());
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    auto outcome = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    REQUIRE(outcome.refused());
    CHECK(outcome.refusal().reason == "session_commit_failed");
    CHECK(outcome.refusal().settlement.value().success);
    CHECK(outcome.refusal().settlement.value().transaction == "0xfeed");
    const auto after = test_support::run(sessions.store().list(xs::detail::normalise_payer(payer_address), {}));
    CHECK(after.entries.empty());
}

TEST_CASE("paid state: a hook over a store without atomic apply refuses to be built unless told", "[security][paid]") {
    SessionPlugin sessions(xs::AnyStore::make<NoApplyStore>());
    CHECK_THROWS_AS(Hook(sessions, ScriptedVerifierDouble{}, guard()), std::invalid_argument);
    xp::PaymentHookOptions options;
    options.commit = xp::CommitMode::sequential;
    Hook hook(sessions, ScriptedVerifierDouble{}, guard(), options);
    WritingHandler handler{hook.verifier().calls};
    auto outcome = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    REQUIRE(outcome.served());
    CHECK(test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer_address)).get("color")) == "blue");
}

TEST_CASE("paid state: before_handler settles first and writes straight to the store", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    xp::RouteRequirements route = route_of("v2-valid");
    route.settlement = xp::Settlement::before_handler;

    SECTION("settled") {
        auto outcome = test_support::run(hook.run(valid_input(), route, handler));
        REQUIRE(outcome.served());
        CHECK(*verifier.calls == std::vector<std::string>{"verify", "settle", "handler"});
        CHECK(test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer_address)).get("color")) ==
              "blue");
    }
    SECTION("a handler that throws after settlement is reported with the receipt") {
        handler.throw_after_writing = true;
        auto outcome = test_support::run(hook.run(valid_input(), route, handler));
        REQUIRE(outcome.refused());
        CHECK(outcome.refusal().reason == "handler_failed_after_settlement");
        CHECK(outcome.refusal().settlement.value().transaction == "0xfeed");
        CHECK(*verifier.calls == std::vector<std::string>{"verify", "settle", "handler"});
    }
    SECTION("a failed settlement never runs the handler") {
        verifier.settle_answer.reset();
        Hook failing(sessions, verifier, guard());
        const Snapshot before = snapshot(sessions.store());
        auto outcome = test_support::run(failing.run(valid_input(), route, handler));
        CHECK(outcome.refused());
        CHECK(*verifier.calls == std::vector<std::string>{"verify", "settle"});
        CHECK(snapshot(sessions.store()) == before);
    }
}

TEST_CASE("paid state: staged writes past the hook's limits fail inside the handler", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    xp::PaymentHookOptions options;
    options.write_limits.max_writes = 2;
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), options);
    WritingHandler handler{verifier.calls};  // three writes
    CHECK_THROWS_AS(test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler)), std::length_error);
    CHECK(snapshot(sessions.store()) == before);
}

TEST_CASE("paid state: a payload of another shape is refused before verification", "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    json payment = x402_test::decoded("v2-valid");
    std::string reason;
    SECTION("Permit2 with a decoy EIP-3009 authorization") {
        payment["payload"]["permit2Authorization"] = {{"from", payer_address}, {"nonce", "7"}};
        reason = "invalid_payload";
    }
    SECTION("Permit2 alone") {
        json permit2 = {{"from", payer_address}, {"nonce", "7"}};
        payment["payload"].erase("authorization");
        payment["payload"]["permit2Authorization"] = permit2;
        reason = "unsupported_payload_type";
    }
    SECTION("a key the scheme does not define") {
        payment["payload"]["extra"] = "x";
        reason = "invalid_payload";
    }
    SECTION("an authorization with a key the scheme does not define") {
        payment["payload"]["authorization"]["salt"] = "0x01";
        reason = "invalid_payload";
    }
    SECTION("no authorization") {
        payment["payload"].erase("authorization");
        reason = "invalid_payload";
    }
    auto outcome = test_support::run(hook.run(input_of(payment), route_of("v2-valid"), handler));
    REQUIRE(outcome.refused());
    CHECK(outcome.refusal().reason == reason);
    CHECK(verifier.calls->empty());
}

TEST_CASE("paid state: concurrent decoys of one payment run the handler at most once", "[security][paid]") {
    // Each copy carries a different extra field (as a decoy nonce would):
    // none is another payment, and the real one runs once.
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    boost::asio::io_context io;
    std::vector<xp::PaymentOutcome<std::string>> outcomes(10);
    for (int i = 0; i < 10; ++i) {
        json payment = x402_test::decoded("v2-valid");
        if (i > 0) payment["payload"]["permit2Authorization"] = {{"nonce", std::to_string(i)}};
        boost::asio::co_spawn(io, hook.run(input_of(payment), route_of("v2-valid"), WritingHandler{verifier.calls}),
                              [&outcomes, i](std::exception_ptr, xp::PaymentOutcome<std::string> outcome) {
                                  outcomes[static_cast<std::size_t>(i)] = std::move(outcome);
                              });
    }
    io.run();
    int runs = 0;
    for (const auto& call : *verifier.calls) runs += call == "handler";
    CHECK(runs == 1);
    int served = 0;
    for (const auto& outcome : outcomes) served += outcome.served();
    CHECK(served == 1);
}

TEST_CASE("paid state: a payment buys only the resource it names, and a mismatch does not consume it",
          "[security][paid]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard());
    WritingHandler handler{verifier.calls};
    xp::RouteRequirements elsewhere = route_of("v2-valid");
    elsewhere.resource->url = "/content";
    auto refused = test_support::run(hook.run(valid_input(), elsewhere, handler));
    REQUIRE(refused.refused());
    CHECK(refused.refusal().reason == "resource_mismatch");
    CHECK(verifier.calls->empty());
    CHECK(snapshot(sessions.store()) == before);
    // Still good for what it was made for.
    auto served = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    CHECK(served.served());
}

// --- Payment identifiers: a retry gets the first answer -----------------------

namespace paid_state_test {

const std::string retry_id = "retry_0123456789abcdef";

/// The vector's payment carrying the payment-identifier extension, as the
/// official client sends it (the server's declaration with the id added).
json with_identifier(json payment, const std::string& id) {
    json extension = xp::payment_identifier_declaration(false);
    extension["info"]["id"] = id;
    payment["extensions"] = json{{"payment-identifier", std::move(extension)}};
    return payment;
}

/// Another signed payment of the same payer (a new nonce): the scripted
/// verifier accepts it; its replay claim is its own.
json another_payment(json payment, const std::string& nonce_digit = "1") {
    std::string nonce = payment["payload"]["authorization"]["nonce"].get<std::string>();
    nonce.back() = nonce_digit.front();
    payment["payload"]["authorization"]["nonce"] = nonce;
    return payment;
}

xp::PaymentHookOptions identifier_options(xp::PaymentIdentifierUse use = xp::PaymentIdentifierUse::optional) {
    xp::PaymentHookOptions options;
    options.payment_identifier = use;
    options.clock = [now = x402_test::verify_at("v2-valid")] { return now; };  // records kept 50 s
    return options;
}

std::optional<std::string> ledger_record(const SessionPlugin& sessions, const std::string& id) {
    return test_support::run(
        sessions.store().get_ledger(xs::detail::normalise_payer(payer_address), "payment-identifier:" + id));
}

}  // namespace paid_state_test

TEST_CASE("payment identifier: a retry gets the first answer without a second run or settlement",
          "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), identifier_options());
    WritingHandler handler{verifier.calls};
    xp::RouteRequirements route = route_of("v2-valid");
    route.request_fingerprint = "get-content {\"topic\":\"a\"}";
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);

    auto first = test_support::run(hook.run(input_of(payment), route, handler));
    REQUIRE(first.served());
    CHECK_FALSE(first.replayed());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle"});
    const Snapshot after_first = snapshot(sessions.store());
    REQUIRE(ledger_record(sessions, retry_id));

    // The connection dropped; the client sends the same payment again.
    auto retry = test_support::run(hook.run(input_of(payment), route, handler));
    REQUIRE(retry.served());
    CHECK(retry.replayed());
    CHECK(retry.result() == "served");
    CHECK(retry.settlement().value().transaction == "0xfeed");
    CHECK(retry.payer() == payer_address);
    CHECK(retry.response_header());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle"});  // nothing ran again
    CHECK(snapshot(sessions.store()) == after_first);  // and the record is in no session's view

    // A newly signed payment with the same identifier proves the payer by
    // verifying and gets the same answer; it is not charged, so it is unclaimed.
    const json resigned = another_payment(payment);
    auto again = test_support::run(hook.run(input_of(resigned), route, handler));
    REQUIRE(again.served());
    CHECK(again.replayed());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle", "verify"});
    json resigned_alone = resigned;
    resigned_alone.erase("extensions");
    auto fresh = test_support::run(hook.run(input_of(resigned_alone), route, handler));
    CHECK(fresh.served());
    CHECK_FALSE(fresh.replayed());

    // The same identifier for another request (or another price) is a conflict.
    xp::RouteRequirements other = route;
    other.request_fingerprint = "get-content {\"topic\":\"b\"}";
    auto conflict = test_support::run(hook.run(input_of(payment), other, handler));
    REQUIRE(conflict.refused());
    CHECK(conflict.refusal().reason == "payment_identifier_conflict");
    CHECK(conflict.refusal().message == "payment-identifier: already used for a different request");
    CHECK(conflict.refusal().http_status == 409);
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle", "verify", "verify", "handler", "settle"});

    // Another payer's identical identifier is theirs alone: it runs.
    json theirs = another_payment(payment, "2");
    theirs["payload"]["authorization"]["from"] = bystander;
    verifier.calls->clear();
    auto other_payer = test_support::run(hook.run(input_of(theirs), route, handler));
    REQUIRE(other_payer.served());
    CHECK_FALSE(other_payer.replayed());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "handler", "settle"});
}

TEST_CASE("payment identifier: missing or malformed is refused before verification and consumes nothing",
          "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    const Snapshot before = snapshot(sessions.store());
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), identifier_options(xp::PaymentIdentifierUse::required));
    WritingHandler handler{verifier.calls};

    auto missing = test_support::run(hook.run(valid_input(), route_of("v2-valid"), handler));
    REQUIRE(missing.refused());
    CHECK(missing.refusal().reason == "payment_identifier_required");
    CHECK(missing.refusal().http_status == 400);
    // Every 402 declares the extension, as the client helpers expect.
    const json declared = xp::to_json(missing.refusal().payment_required).at("extensions").at("payment-identifier");
    CHECK(declared.at("info") == json{{"required", true}});

    for (const std::string& bad : {std::string("short"), std::string(129, 'a'), std::string("has space_0123456789")}) {
        auto malformed = test_support::run(
            hook.run(input_of(with_identifier(x402_test::decoded("v2-valid"), bad)), route_of("v2-valid"), handler));
        REQUIRE(malformed.refused());
        CHECK(malformed.refusal().reason == "invalid_payment_identifier");
        CHECK(malformed.refusal().http_status == 400);
    }
    CHECK(verifier.calls->empty());
    CHECK(snapshot(sessions.store()) == before);
    // The payment was not consumed: with an identifier it is served.
    auto served = test_support::run(
        hook.run(input_of(with_identifier(x402_test::decoded("v2-valid"), retry_id)), route_of("v2-valid"), handler));
    CHECK(served.served());
}

TEST_CASE("payment identifier: only a settled answer is recorded", "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    xp::SettleResponse refused;
    refused.success = false;
    refused.error_reason = "invalid_exact_evm_transaction_failed";
    verifier.settle_answer = refused;
    Hook hook(sessions, verifier, guard(), identifier_options());
    WritingHandler handler{verifier.calls};
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);
    auto unsettled = test_support::run(hook.run(input_of(payment), route_of("v2-valid"), handler));
    REQUIRE(unsettled.refused());
    CHECK_FALSE(ledger_record(sessions, retry_id));
    // The retry with a new payment runs for real (nothing was recorded).
    hook.verifier().settle_answer = ScriptedVerifierDouble::settled();
    auto retry = test_support::run(hook.run(input_of(another_payment(payment)), route_of("v2-valid"), handler));
    REQUIRE(retry.served());
    CHECK_FALSE(retry.replayed());
    CHECK(std::count(verifier.calls->begin(), verifier.calls->end(), "handler") == 2);
    CHECK(ledger_record(sessions, retry_id));
}

TEST_CASE("payment identifier: before_handler records the answer too", "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), identifier_options());
    WritingHandler handler{verifier.calls};
    xp::RouteRequirements route = route_of("v2-valid");
    route.settlement = xp::Settlement::before_handler;
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);
    REQUIRE(test_support::run(hook.run(input_of(payment), route, handler)).served());
    auto retry = test_support::run(hook.run(input_of(payment), route, handler));
    REQUIRE(retry.served());
    CHECK(retry.replayed());
    CHECK(*verifier.calls == std::vector<std::string>{"verify", "settle", "handler"});
}

TEST_CASE("payment identifier: concurrent duplicates run the handler once", "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), identifier_options());
    boost::asio::io_context io;
    // The first call's handler waits on this timer until the test lets it go.
    auto release = std::make_shared<boost::asio::steady_timer>(io, boost::asio::steady_timer::time_point::max());
    auto calls = verifier.calls;
    auto handler = [calls, release]() -> awaitable<std::string> {
        calls->push_back("handler");
        boost::system::error_code ignored;
        co_await release->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
        co_return std::string("served");
    };
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);
    using Outcome = xp::PaymentOutcome<std::string>;
    std::vector<std::optional<Outcome>> outcomes(3);
    const auto keep = [&outcomes](std::size_t i) {
        return [&outcomes, i](std::exception_ptr error, Outcome outcome) {
            if (!error) outcomes[i] = std::move(outcome);
        };
    };
    boost::asio::co_spawn(io, hook.run(input_of(payment), route_of("v2-valid"), handler), keep(0));
    while (std::count(calls->begin(), calls->end(), "handler") == 0) REQUIRE(io.run_one() == 1);
    // While it runs: the same payment, and another payment with the same identifier.
    boost::asio::co_spawn(io, hook.run(input_of(payment), route_of("v2-valid"), handler), keep(1));
    boost::asio::co_spawn(io, hook.run(input_of(another_payment(payment)), route_of("v2-valid"), handler), keep(2));
    while (!outcomes[1] || !outcomes[2]) REQUIRE(io.run_one() == 1);
    for (std::size_t i : {1, 2}) {
        REQUIRE(outcomes[i]->refused());
        CHECK(outcomes[i]->refusal().reason == "payment_identifier_conflict");
        CHECK(outcomes[i]->refusal().message == "payment-identifier: a request with this identifier is still running");
        CHECK(outcomes[i]->refusal().http_status == 409);
    }
    release->cancel();
    io.run();
    REQUIRE(outcomes[0]);
    CHECK(outcomes[0]->served());
    CHECK(*calls == std::vector<std::string>{"verify", "handler", "settle"});
    // Once it finished, the duplicate gets its answer.
    auto retry = test_support::run(hook.run(input_of(payment), route_of("v2-valid"), handler));
    CHECK(retry.replayed());
}

TEST_CASE("payment identifier: a record that does not fit is skipped; the settled writes still land",
          "[security][paid][payment_identifier]") {
    ScriptedVerifierDouble verifier;
    WritingHandler handler{verifier.calls};
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);
    xp::PaymentHookOptions options = identifier_options();
    std::shared_ptr<xs::InMemoryStore> store;
    SECTION("the ledger is full") {
        xs::InMemoryStoreOptions store_options;
        store_options.max_ledger_records = 1;
        store = std::make_shared<xs::InMemoryStore>(store_options);
        std::vector<xs::Write> filler;
        filler.emplace_back(xs::LedgerWrite("someone else's", "r", std::chrono::hours(1)));
        test_support::run(store->apply("0xother", std::move(filler)));
    }
    SECTION("the answer is larger than max_record_bytes") {
        store = std::make_shared<xs::InMemoryStore>();
        options.max_record_bytes = 100;
    }
    SessionPlugin sessions{xs::AnyStore(store)};
    Hook hook(sessions, verifier, guard(), options);
    auto outcome = test_support::run(hook.run(input_of(payment), route_of("v2-valid"), handler));
    REQUIRE(outcome.served());
    CHECK_FALSE(ledger_record(sessions, retry_id));
    CHECK(test_support::run(sessions.session_for(VerifiedPayer::assume_verified(payer_address)).get("color")) == "blue");
}

TEST_CASE("payment identifier: a conflict is told only to the identical payment or a verified payer",
          "[security][paid][payment_identifier]") {
    SessionPlugin sessions = seeded_sessions();
    ScriptedVerifierDouble verifier;
    Hook hook(sessions, verifier, guard(), identifier_options());
    WritingHandler handler{verifier.calls};
    const json payment = with_identifier(x402_test::decoded("v2-valid"), retry_id);
    REQUIRE(test_support::run(hook.run(input_of(payment), route_of("v2-valid"), handler)).served());
    xp::RouteRequirements other = route_of("v2-valid");
    other.request_fingerprint = "another request";
    verifier.calls->clear();
    // Another payment naming the payer must verify before it learns anything.
    auto resigned = test_support::run(hook.run(input_of(another_payment(payment)), other, handler));
    CHECK(resigned.refusal().reason == "payment_identifier_conflict");
    CHECK(*verifier.calls == std::vector<std::string>{"verify"});
    auto identical = test_support::run(hook.run(input_of(payment), other, handler));
    CHECK(identical.refusal().http_status == 409);
    CHECK(*verifier.calls == std::vector<std::string>{"verify"});
}
