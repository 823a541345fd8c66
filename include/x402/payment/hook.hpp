// The x402 payment hook: decode the request's payment, match it to
// the route's requirements, verify it, claim it against replay, run the
// handler in the verified payer's session context, settle, and answer with
// either the handler's result plus the receipt header or a 402.
//
// This is the one place that calls VerifiedPayer::assume_verified, and only
// with the payer of a payment the verifier accepted.
#pragma once

#include <x402/payment/error.hpp>
#include <x402/payment/headers.hpp>
#include <x402/payment/matching.hpp>
#include <x402/payment/replay_guard.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>
#include <x402/session/detail/payer.hpp>
#include <x402/session/plugin.hpp>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace x402::payment {

/// One HTTP header to send.
struct HttpHeader {
    std::string name;
    std::string value;
};

/// What a route charges. Empty `accepts` = a free route.
struct RouteRequirements {
    /// The ways to pay, in order of preference; empty for a free route.
    std::vector<PaymentRequirements> accepts;
    /// The paid resource (v2 top level; v1 copies it into each requirement).
    std::optional<ResourceInfo> resource;
    /// The protocol version of a 402 sent when the request's version is
    /// unknown (no payment, or one that does not decode).
    int x402_version = 2;
    /// v2 `extensions` of the 402; null for none.
    json extensions = nullptr;
};

/// Where the request's payment is: HTTP headers or MCP `_meta["x402/payment"]`.
class PaymentInput {
public:
    /// Returns the value of a request header, looked up case-insensitively, or nullopt.
    using HeaderLookup = std::function<std::optional<std::string>(std::string_view name)>;

    /// No payment at all.
    static PaymentInput none() { return PaymentInput(); }

    /// HTTP request headers read through `lookup` (called for X-PAYMENT and
    /// PAYMENT-SIGNATURE, during this call only).
    static PaymentInput from_headers(const HeaderLookup& lookup) {
        PaymentInput input;
        input.x_payment_ = lookup(header::x_payment);
        input.payment_signature_ = lookup(header::payment_signature);
        return input;
    }

    /// HTTP request headers as a map; names compared case-insensitively.
    static PaymentInput from_headers(const std::map<std::string, std::string>& headers) {
        PaymentInput input;
        for (const auto& [name, value] : headers) {
            if (header_name_equals(name, header::x_payment)) input.x_payment_ = value;
            if (header_name_equals(name, header::payment_signature)) input.payment_signature_ = value;
        }
        return input;
    }

    /// MCP `params._meta["x402/payment"]`, a JSON object; null = no payment.
    static PaymentInput from_mcp_meta(json payment) {
        PaymentInput input;
        if (!payment.is_null()) input.mcp_ = std::move(payment);
        return input;
    }

    /// The payment, nullopt when none was sent, or an Error. Sending both
    /// X-PAYMENT and PAYMENT-SIGNATURE is an error (invalid_payload,
    /// "payment: both X-PAYMENT and PAYMENT-SIGNATURE sent").
    Result<std::optional<PaymentPayload>> decode() const {
        if (x_payment_ && payment_signature_)
            return Error(reason::invalid_payload, "payment: both X-PAYMENT and PAYMENT-SIGNATURE sent");
        Result<PaymentPayload> payment = Error(reason::payment_required, "");
        if (x_payment_) payment = decode_payment_header(header::x_payment, *x_payment_);
        else if (payment_signature_) payment = decode_payment_header(header::payment_signature, *payment_signature_);
        else if (mcp_) payment = decode_mcp_payment(*mcp_);
        else return std::optional<PaymentPayload>();
        if (!payment) return payment.error();
        return std::optional<PaymentPayload>(std::move(*payment));
    }

    /// True when no payment was sent at all.
    bool empty() const noexcept { return !x_payment_ && !payment_signature_ && !mcp_; }

    /// MCP: `params._meta["x402/payment"]` as sent; nullopt for none (or for HTTP).
    const std::optional<json>& mcp_meta() const noexcept { return mcp_; }

    /// The protocol version the sender speaks as far as the transport tells:
    /// 1 for X-PAYMENT, else nullopt.
    std::optional<int> transport_version() const { return x_payment_ ? std::optional<int>(1) : std::nullopt; }

private:
    std::optional<std::string> x_payment_;
    std::optional<std::string> payment_signature_;
    std::optional<json> mcp_;
};

/// Why a request was not served, and the 402 to answer with.
struct PaymentRefusal {
    /// x402 reason code (error.hpp `reason::`, or a facilitator's).
    std::string reason;
    std::string message;
    /// The 402 payload: the route's requirements with `error` = reason.
    PaymentRequired payment_required;
    /// The failed settlement, when settlement was what failed.
    std::optional<SettleResponse> settlement;

    /// v2: the PAYMENT-REQUIRED header; v1 has none (the body carries it).
    std::optional<HttpHeader> header() const {
        if (payment_required.x402_version == 1) return std::nullopt;
        return HttpHeader{std::string(header::payment_required), encode_payment_required_header(payment_required)};
    }
    /// The 402 body: JSON PaymentRequired (required in v1; v2 leaves the body
    /// to the server, and this is a sensible one).
    std::string body() const { return dump_json(to_json(payment_required)); }
    /// MCP: the tool result's structuredContent (with isError: true).
    json mcp_structured_content() const { return to_json(payment_required); }
};

/// The result of PaymentHook::run: the handler's result (free or paid route)
/// or a refusal.
template <class T>
class PaymentOutcome {
public:
    /// Neither served nor refused (Asio needs default-constructible results).
    PaymentOutcome() = default;

    static PaymentOutcome free(T result) {
        PaymentOutcome outcome;
        outcome.state_.template emplace<1>(std::move(result));
        return outcome;
    }
    static PaymentOutcome paid(T result, std::string payer, SettleResponse settlement, int x402_version) {
        PaymentOutcome outcome;
        outcome.state_.template emplace<1>(std::move(result));
        outcome.payer_ = std::move(payer);
        outcome.settlement_ = std::move(settlement);
        outcome.x402_version_ = x402_version;
        return outcome;
    }
    static PaymentOutcome refused(PaymentRefusal refusal) {
        PaymentOutcome outcome;
        outcome.state_.template emplace<2>(std::move(refusal));
        return outcome;
    }

    /// True when the handler's result may be sent (free route, or paid and settled).
    bool served() const noexcept { return state_.index() == 1; }
    bool refused() const noexcept { return state_.index() == 2; }

    /// The handler's result; throws std::logic_error when refused.
    T& result() {
        if (!served()) throw std::logic_error("x402::payment::PaymentOutcome: refused, no result");
        return std::get<1>(state_);
    }
    /// The refusal; throws std::logic_error when served.
    const PaymentRefusal& refusal() const {
        if (!refused()) throw std::logic_error("x402::payment::PaymentOutcome: served, no refusal");
        return std::get<2>(state_);
    }

    /// The verified payer (as the verifier gave it) of a paid request.
    const std::optional<std::string>& payer() const noexcept { return payer_; }
    /// The settlement of a paid request.
    const std::optional<SettleResponse>& settlement() const noexcept { return settlement_; }
    /// The receipt of a paid request: X-PAYMENT-RESPONSE (v1) or
    /// PAYMENT-RESPONSE (v2) = base64(JSON SettleResponse); for MCP put
    /// to_json(*settlement()) in result._meta["x402/payment-response"].
    std::optional<HttpHeader> response_header() const {
        if (!settlement_) return std::nullopt;
        return HttpHeader{std::string(payment_response_header_name(x402_version_)),
                          encode_payment_response_header(*settlement_)};
    }

private:
    std::variant<std::monostate, T, PaymentRefusal> state_;
    std::optional<std::string> payer_;
    std::optional<SettleResponse> settlement_;
    int x402_version_ = 2;
};

/// Runs handlers behind x402 payments; see the top of this header.
///
///     PaymentHook hook(sessions, LocalVerifier{});
///     auto outcome = co_await hook.run(PaymentInput::from_headers(headers), route, handler);
///     if (outcome.refused()) answer 402 with outcome.refusal().header()/body();
///     else answer outcome.result() with outcome.response_header().
///
/// Order: decode → match → verify → claim (replay guard) → handler in the
/// payer's context → settle. A payment that fails any step before the handler
/// never runs it; a failed settlement withholds the result (the handler ran:
/// its session writes stay, as in the official `authorization` flow). The
/// claim is kept after a failed settlement or a throwing handler, so the same
/// payment cannot run the handler twice.
///
/// `run` catches the verifier's and the guard's exceptions (refusals
/// unexpected_verify_error / unexpected_settle_error); the handler's own
/// exceptions propagate. The hook must outlive the awaitables `run` returns.
/// Thread-safe when the verifier and the guard are.
template <PaymentVerifier Verifier, ReplayGuard Guard = InMemoryReplayGuard>
class PaymentHook {
public:
    explicit PaymentHook(session::SessionPlugin sessions, Verifier verifier, Guard guard = Guard())
        : sessions_(std::move(sessions)), verifier_(std::move(verifier)), guard_(std::move(guard)) {}

    const session::SessionPlugin& sessions() const noexcept { return sessions_; }
    Verifier& verifier() noexcept { return verifier_; }
    Guard& guard() noexcept { return guard_; }

    /// Serves one request; `handler` is a callable returning awaitable<T>
    /// with T not void. On a free route it runs with no session, and any
    /// payment sent is ignored.
    template <class Handler, class T = session::detail::handler_result_t<Handler>>
        requires(!std::is_void_v<T>)
    awaitable<PaymentOutcome<T>> run(PaymentInput input, RouteRequirements route, Handler handler) {
        using Outcome = PaymentOutcome<T>;
        if (route.accepts.empty()) {
            T result = co_await session::run_without_payer(std::move(handler));
            co_return Outcome::free(std::move(result));
        }

        const int fallback_version = input.transport_version().value_or(route.x402_version);
        auto decoded = input.decode();
        if (!decoded) co_return Outcome::refused(refuse(route, fallback_version, decoded.error()));
        if (!*decoded) {
            const Error none(reason::payment_required, "payment: none sent");
            co_return Outcome::refused(refuse(route, fallback_version, none));
        }
        const PaymentPayload payment = std::move(**decoded);
        const int version = payment.x402_version;

        const auto index = find_matching_requirements(route.accepts, payment);
        if (!index) {
            const Error no_match(reason::no_matching_requirements, "No matching payment requirements");
            co_return Outcome::refused(refuse(route, version, no_match));
        }
        PaymentRequirements requirements = route.accepts[*index];
        if (version == 1 && route.resource) {
            if (requirements.resource.empty()) requirements.resource = route.resource->url;
            if (requirements.description.empty()) requirements.description = route.resource->description;
            if (requirements.mime_type.empty()) requirements.mime_type = route.resource->mime_type;
        }

        std::optional<VerifyResponse> verdict;
        try {
            verdict = co_await verifier_.verify(payment, requirements);
        } catch (...) {
            verdict.reset();
        }
        if (!verdict) {
            const Error failed(reason::unexpected_verify_error, "verify: the verifier failed");
            co_return Outcome::refused(refuse(route, version, failed));
        }
        if (!verdict->is_valid) {
            const Error invalid(verdict->invalid_reason.value_or(std::string(reason::unexpected_verify_error)),
                                verdict->invalid_message.value_or("verify: payment is not valid"));
            co_return Outcome::refused(refuse(route, version, invalid));
        }
        // The payer: the verifier's, falling back to authorization.from (the
        // same by construction for EIP-3009); a verifier naming someone other
        // than the signer of this payload is not trusted.
        const std::optional<std::string> claimed = claimed_payer(payment);
        const std::string payer = verdict->payer ? *verdict->payer : claimed.value_or("");
        if (payer.empty() || (claimed && session::detail::normalise_payer(*claimed) != session::detail::normalise_payer(payer))) {
            const Error inconsistent(reason::unexpected_verify_error, "verify: the payer is not the payment's signer");
            co_return Outcome::refused(refuse(route, version, inconsistent));
        }

        auto claim = eip3009_replay_claim(payment, requirements);
        if (!claim) {
            const Error unguarded(reason::unsupported_payload_type, "replay: only EIP-3009 payments can be guarded");
            co_return Outcome::refused(refuse(route, version, unguarded));
        }
        std::optional<bool> claimed_now;
        try {
            claimed_now = co_await guard_.try_claim(std::move(claim->first), claim->second);
        } catch (...) {
            claimed_now.reset();
        }
        if (!claimed_now) {
            const Error failed(reason::unexpected_verify_error, "replay: the replay guard failed");
            co_return Outcome::refused(refuse(route, version, failed));
        }
        if (!*claimed_now) {
            const Error replayed(reason::invalid_exact_evm_nonce_already_used, "replay: this payment was already accepted");
            co_return Outcome::refused(refuse(route, version, replayed));
        }

        std::optional<session::VerifiedPayer> verified = session::VerifiedPayer::assume_verified(payer);
        T result = co_await sessions_.run(std::move(verified), std::move(handler));

        std::optional<SettleResponse> settlement;
        try {
            settlement = co_await verifier_.settle(payment, requirements);
        } catch (...) {
            settlement.reset();
        }
        if (!settlement) {
            const Error failed(reason::unexpected_settle_error, "settle: the verifier failed");
            co_return Outcome::refused(refuse(route, version, failed));
        }
        if (!settlement->success) {
            const Error failed(settlement->error_reason.value_or(std::string(reason::unexpected_settle_error)),
                               settlement->error_message.value_or("settle: settlement failed"));
            PaymentRefusal refusal = refuse(route, version, failed);
            refusal.settlement = std::move(*settlement);
            co_return Outcome::refused(std::move(refusal));
        }
        co_return Outcome::paid(std::move(result), payer, std::move(*settlement), version);
    }

private:
    static PaymentRefusal refuse(const RouteRequirements& route, int version, const Error& error) {
        PaymentRefusal refusal;
        refusal.reason = error.reason();
        refusal.message = error.message();
        refusal.payment_required.x402_version = version == 1 ? 1 : 2;
        refusal.payment_required.error = error.reason();
        refusal.payment_required.resource = route.resource;
        refusal.payment_required.accepts = route.accepts;
        refusal.payment_required.extensions = route.extensions;
        return refusal;
    }

    session::SessionPlugin sessions_;
    Verifier verifier_;
    Guard guard_;
};

}  // namespace x402::payment
