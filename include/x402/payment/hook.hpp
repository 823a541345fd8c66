// The x402 payment hook: decode the request's payment, match it to
// the route's requirements, verify it, claim it against replay, run the
// handler in the verified payer's session context, settle, and answer with
// either the handler's result plus the receipt header or a 402.
//
// This is the one place that calls VerifiedPayer::assume_verified, and only
// with the payer of a payment the verifier accepted.
#pragma once

#include <x402/payment/clock.hpp>
#include <x402/payment/detail/hex.hpp>
#include <x402/payment/error.hpp>
#include <x402/payment/headers.hpp>
#include <x402/payment/matching.hpp>
#include <x402/payment/metrics.hpp>
#include <x402/payment/payment_identifier.hpp>
#include <x402/payment/replay_guard.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>
#include <x402/session/detail/payer.hpp>
#include <x402/session/plugin.hpp>

#include <cstdint>
#include <chrono>
#include <algorithm>
#include <limits>
#include <unordered_set>
#include <mutex>
#include <functional>
#include <map>
#include <memory>
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

/// When a paid route's payment is settled, relative to its handler.
enum class Settlement {
    /// Verify, run the handler with its session writes staged, settle, then
    /// commit the writes as one atomic store step. A handler that throws or
    /// whose result the route marks as failed, and a failed settlement, leave
    /// the store as it was and charge nothing. The default.
    after_handler,
    /// Verify, settle, then run the handler with its writes going straight to
    /// the store: for handlers whose effects cannot be staged (calls to other
    /// services). The payer is charged even if the handler then fails.
    before_handler,
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
    /// When the payment is settled.
    Settlement settlement = Settlement::after_handler;
    /// Whether the route takes payment identifiers (idempotent retries);
    /// unset: PaymentHookOptions::payment_identifier.
    std::optional<PaymentIdentifierUse> payment_identifier{};
    /// This request as a retry must repeat it: the tool and its arguments,
    /// or the method, target and body. The hook adds the requirements (the
    /// price). Two requests with one payment identifier and different
    /// fingerprints conflict (409).
    std::string request_fingerprint;
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

    /// MCP `params._meta["x402/payment"]`: a PaymentPayload JSON object, or
    /// a string holding it encoded as a PAYMENT-SIGNATURE value (base64 JSON,
    /// decoded by the same decoder); null = no payment.
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
        else if (mcp_ && mcp_->is_string())
            payment = decode_payment_header(header::payment_signature, mcp_->get_ref<const std::string&>());
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
    /// The HTTP status to answer with: 402, or 400 / 409 for a payment
    /// identifier that is missing or malformed / in conflict, which paying
    /// again would not cure (an MCP server answers a tool error instead of
    /// the payment-required one).
    unsigned http_status = 402;

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

/// The result of PaymentHook::run: the handler's result (free route, paid
/// and settled, or failed and not charged) or a refusal.
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
    /// A retry with a payment identifier: the first request's result and
    /// settlement, from the record; the handler did not run again and
    /// nothing was settled now.
    static PaymentOutcome replayed(T result, std::string payer, SettleResponse settlement, int x402_version) {
        PaymentOutcome outcome = paid(std::move(result), std::move(payer), std::move(settlement), x402_version);
        outcome.replayed_ = true;
        return outcome;
    }
    /// The handler ran and its result is marked failed: nothing was settled
    /// or committed.
    static PaymentOutcome not_charged(T result) {
        PaymentOutcome outcome;
        outcome.state_.template emplace<1>(std::move(result));
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
    /// Served from a payment identifier's record (see `replayed`).
    bool replayed() const noexcept { return replayed_; }

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
    bool replayed_ = false;
};

/// How the staged session writes of an after_handler route reach the store.
enum class CommitMode {
    /// One atomic `apply` (StoreWithApply); a hook over a store without one
    /// refuses to be built.
    atomic,
    /// NOT atomic: the writes one by one (AnyStore::apply_sequentially) when
    /// the store has no apply. A store failure midway, or a concurrent
    /// reader, can see a part of them.
    sequential,
};

struct PaymentHookOptions {
    CommitMode commit = CommitMode::atomic;
    /// Bounds on one request's staged writes (0: none); going past one throws
    /// std::length_error inside the handler (its result then fails, nothing
    /// is charged or written). By default 10,000 writes and 4 MiB, so that
    /// one paid request cannot make the server hold an unbounded write set.
    session::WriteSetLimits write_limits{.max_writes = 10'000, .max_bytes = 4 * 1024 * 1024};
    /// "Now" in unix seconds, for the validBefore horizon below.
    UnixClock clock = system_unix_seconds;
    /// A payment whose validBefore is more than the requirements'
    /// maxTimeoutSeconds plus this many seconds ahead of now is refused
    /// before verification: its replay claim would be held that long, so a
    /// payer choosing validBefore = 2^256-1 would pin it forever.
    std::uint64_t max_clock_skew_seconds = 30;
    /// Whether routes that do not say (RouteRequirements::payment_identifier)
    /// take payment identifiers. Not off: the store needs a ledger
    /// (session::StoreWithLedger), where the answers are recorded.
    PaymentIdentifierUse payment_identifier = PaymentIdentifierUse::off;
    /// The largest record kept for a payment identifier (its answer, the
    /// settlement and the request's fingerprint); a larger answer is served
    /// but not recorded, so a retry of it runs again. Bounds what one cheap
    /// call can make the ledger hold.
    std::size_t max_record_bytes = 64 * 1024;
};

/// A handler result a payment identifier's record can hold: JSON both ways
/// (nlohmann's to_json / from_json).
template <class T>
concept RecordableResult = requires(const T& result, const json& record) {
    json(result);
    record.get<T>();
};

/// A result predicate that marks nothing failed.
struct NeverFailed {
    template <class T>
    bool operator()(const T&) const noexcept {
        return false;
    }
};

/// Runs handlers behind x402 payments; see the top of this header.
///
///     PaymentHook hook(sessions, LocalVerifier{});
///     auto outcome = co_await hook.run(PaymentInput::from_headers(headers), route, handler);
///     if (outcome.refused()) answer 402 with outcome.refusal().header()/body();
///     else answer outcome.result() with outcome.response_header().
///
/// Order: decode → shape and resource checks → match → validBefore horizon → verify → claim
/// (replay guard) → then, by the route's Settlement:
/// - after_handler: handler in the payer's context with its session writes
///   staged → settle → commit the writes (one atomic store apply);
/// - before_handler: settle → handler, writes straight to the store.
/// A payment that fails any step before the handler never runs it. After
/// the claim, the payment cannot run a handler again, whatever happens next:
/// a throwing handler, a result `failed` marks, a failed settlement.
///
/// When a write counts (after_handler): only when the payment settled and
/// the commit succeeded. A throwing handler (the exception propagates), a
/// failed result (served, PaymentOutcome::not_charged), and a failed
/// settlement (refused) leave the store exactly as it was. The one window
/// left: the store fails between settlement and commit; that is refused
/// with reason session_commit_failed and the settlement receipt.
///
/// `run` catches the verifier's, the guard's and the commit's exceptions
/// (refusals unexpected_verify_error / unexpected_settle_error /
/// session_commit_failed), and a before_handler handler's, which comes after
/// settlement (handler_failed_after_settlement, with the receipt); an
/// after_handler handler's exception propagates (nothing was charged). The hook must outlive the awaitables `run`
/// returns. Thread-safe when the verifier and the guard are.
template <PaymentVerifier Verifier, ReplayGuard Guard = InMemoryReplayGuard>
class PaymentHook {
public:
    /// Throws std::invalid_argument when the store has no atomic apply and
    /// `options.commit` is CommitMode::atomic.
    explicit PaymentHook(session::SessionPlugin sessions, Verifier verifier, Guard guard = Guard(),
                         PaymentHookOptions options = {})
        : sessions_(std::move(sessions)), verifier_(std::move(verifier)), guard_(std::move(guard)),
          options_(options) {
        if (options_.commit == CommitMode::atomic && !sessions_.store().has_apply())
            throw std::invalid_argument(
                "x402::payment::PaymentHook: the store has no atomic apply, so paid session writes cannot be "
                "committed all or nothing; use a store with apply, or opt in with PaymentHookOptions::commit = "
                "CommitMode::sequential");
    }

    const session::SessionPlugin& sessions() const noexcept { return sessions_; }
    Verifier& verifier() noexcept { return verifier_; }
    Guard& guard() noexcept { return guard_; }

    /// Serves one request; `handler` is a callable returning awaitable<T>
    /// with T not void. On a free route it runs with no session, and any
    /// payment sent is ignored. `failed(result)` true (an MCP `isError`
    /// result, an HTTP status >= 400) means: settle nothing, commit nothing.
    template <class Handler, class Failed = NeverFailed, class T = session::detail::handler_result_t<Handler>>
        requires(!std::is_void_v<T>)
    awaitable<PaymentOutcome<T>> run(PaymentInput input, RouteRequirements route, Handler handler, Failed failed = {}) {
        using Outcome = PaymentOutcome<T>;
        if (route.accepts.empty()) {
            T result = co_await session::run_without_payer(std::move(handler));
            co_return Outcome::free(std::move(result));
        }
        ++metrics_->paid_requests;
        Outcome outcome;
        try {
            outcome = co_await run_priced<Handler, Failed, T>(std::move(input), std::move(route), std::move(handler),
                                                              std::move(failed));
        } catch (...) {
            ++metrics_->errors;
            throw;
        }
        if (outcome.refused()) metrics_->count_refusal(outcome.refusal().reason);
        else if (outcome.replayed()) ++metrics_->replayed;
        else if (outcome.settlement()) ++metrics_->served;
        else ++metrics_->not_charged;
        co_return outcome;
    }

    /// What this hook (and its copies) has done so far.
    const PaymentMetrics& metrics() const noexcept { return *metrics_; }

private:
    template <class Handler, class Failed, class T>
    awaitable<PaymentOutcome<T>> run_priced(PaymentInput input, RouteRequirements route, Handler handler, Failed failed) {
        using Outcome = PaymentOutcome<T>;
        const PaymentIdentifierUse identifiers = route.payment_identifier.value_or(options_.payment_identifier);
        if (identifiers != PaymentIdentifierUse::off) {
            if (!RecordableResult<T>)
                throw std::logic_error("x402::payment::PaymentHook: payment identifiers need a handler result that "
                                       "converts to and from JSON");
            if (!sessions_.store().has_ledger())
                throw std::logic_error("x402::payment::PaymentHook: payment identifiers need a store with a ledger");
            if (!route.extensions.is_object()) route.extensions = json::object();
            route.extensions[std::string(payment_identifier_extension)] =
                payment_identifier_declaration(identifiers == PaymentIdentifierUse::required);
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
        if (auto misshapen = check_payload_shape(payment)) co_return Outcome::refused(refuse(route, version, *misshapen));
        // A payment buys the resource it names (v2); v1 payloads name none, so
        // a v1 payment is bound only by its requirements (price, payee, asset).
        if (payment.resource && route.resource && payment.resource->url != route.resource->url) {
            const Error elsewhere(reason::resource_mismatch, "payment: made for " + payment.resource->url +
                                                                 ", not for " + route.resource->url);
            co_return Outcome::refused(refuse(route, version, elsewhere));
        }

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

        // A payment identifier is looked up before verification and the
        // replay claim: a retry of a settled request is answered from its
        // record, and a request still running with it is refused (409).
        std::optional<Identified> identified;
        if (identifiers != PaymentIdentifierUse::off) {
            auto id = payment_identifier_of(payment);
            if (!id) co_return Outcome::refused(refuse(route, version, id.error(), 400));
            const std::optional<std::string> signer = claimed_payer(payment);
            if (!*id && identifiers == PaymentIdentifierUse::required) {
                const Error missing(reason::payment_identifier_required,
                                    "payment-identifier: this route requires one in the payment's extensions");
                co_return Outcome::refused(refuse(route, version, missing, 400));
            }
            // Without a signer the payment is not EIP-3009, which the replay
            // step below refuses; it has no record to find either.
            if (*id && signer) {
                identify(identified.emplace(), **id, *signer, route, requirements, payment);
                if (!identified->hold.try_hold(inflight_, identified->storage_payer + '\n' + identified->ledger_key)) {
                    const Error running(reason::payment_identifier_conflict,
                                        "payment-identifier: a request with this identifier is still running");
                    co_return Outcome::refused(refuse(route, version, running, 409));
                }
                std::optional<std::string> record;
                bool lookup_failed = false;
                try {
                    record = co_await sessions_.store().get_ledger(identified->storage_payer, identified->ledger_key);
                } catch (...) {
                    lookup_failed = true;
                }
                if (lookup_failed) {
                    const Error failed(reason::unexpected_verify_error, "payment-identifier: the ledger lookup failed");
                    co_return Outcome::refused(refuse(route, version, failed));
                }
                if (record) {
                    auto answered = co_await answer_from_record<T>(*identified, *record, route, version, payment,
                                                                   requirements);
                    co_return std::move(answered);
                }
            }
        }

        // The replay claim comes from the fields the verifier checks; how long
        // it is held (validBefore) is bounded by what the route advertises.
        // Fields that do not parse are the verifier's to refuse, with its reason.
        auto claim = eip3009_replay_claim(payment, requirements);
        if (claim) {
            if (auto too_far = beyond_horizon(claim->second, requirements))
                co_return Outcome::refused(refuse(route, version, *too_far));
        }

        Result<std::string> verified_payer = co_await verify(payment, requirements);
        if (!verified_payer) co_return Outcome::refused(refuse(route, version, verified_payer.error()));
        const std::string payer = std::move(*verified_payer);

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

        const session::VerifiedPayer verified = session::VerifiedPayer::assume_verified(payer);
        if (route.settlement == Settlement::before_handler) {
            std::optional<PaymentRefusal> unsettled;
            SettleResponse settlement = co_await settle(route, version, payment, requirements, unsettled);
            if (unsettled) co_return Outcome::refused(std::move(*unsettled));
            std::optional<T> result;
            try {
                result.emplace(co_await sessions_.run(verified, std::move(handler)));
            } catch (...) {
            }
            if (!result)
                co_return Outcome::refused(refuse_settled(route, version, std::move(settlement),
                                                          reason::handler_failed_after_settlement,
                                                          "handler: failed after the payment settled"));
            // The handler's writes went straight to the store; its record goes
            // alone. If that fails the call is still served (it ran and was
            // paid for); only a retry would then run it again.
            if (identified) {
                try {
                    ++metrics_->commits;
                    std::vector<session::LedgerWrite> records =
                        records_of(*identified, *result, settlement, payer, version, claim->second);
                    co_await session::commit(sessions_.session_for(verified), std::move(records));
                } catch (...) {
                    ++metrics_->commits_failed;
                }
            }
            co_return Outcome::paid(std::move(*result), payer, std::move(settlement), version);
        }

        auto writes = std::make_shared<session::WriteSet>(options_.write_limits);
        T result = co_await sessions_.run_staged(verified, writes, std::move(handler));
        if (failed(std::as_const(result))) co_return Outcome::not_charged(std::move(result));

        std::optional<PaymentRefusal> unsettled;
        SettleResponse settlement = co_await settle(route, version, payment, requirements, unsettled);
        if (unsettled) co_return Outcome::refused(std::move(*unsettled));

        ++metrics_->commits;
        bool committed = false;
        if (identified) {
            try {
                std::vector<session::LedgerWrite> records =
                    records_of(*identified, result, settlement, payer, version, claim->second);
                co_await commit_writes(sessions_.staged_session_for(verified, writes), std::move(records));
                committed = true;
            } catch (...) {
            }
        }
        // Without the record when that failed (a full ledger): the payment
        // settled, so the writes must land; only a retry would run again.
        if (!committed) {
            try {
                std::vector<session::LedgerWrite> no_records;
                co_await commit_writes(sessions_.staged_session_for(verified, writes), std::move(no_records));
                committed = true;
            } catch (...) {
            }
        }
        if (!committed) {
            ++metrics_->commits_failed;
            co_return Outcome::refused(
                refuse_settled(route, version, std::move(settlement), reason::session_commit_failed,
                               "commit: the payment settled, but the store failed to commit the session writes"));
        }
        co_return Outcome::paid(std::move(result), payer, std::move(settlement), version);
    }

    std::optional<Error> beyond_horizon(std::uint64_t valid_before, const PaymentRequirements& requirements) const {
        const std::uint64_t horizon = detail::saturating_add(
            options_.clock(), detail::saturating_add(requirements.max_timeout_seconds, options_.max_clock_skew_seconds));
        if (valid_before <= horizon) return std::nullopt;
        return Error(reason::invalid_exact_evm_payload_authorization_valid_before,
                     "payment: validBefore is more than maxTimeoutSeconds (" +
                         std::to_string(requirements.max_timeout_seconds) + " s) + " +
                         std::to_string(options_.max_clock_skew_seconds) + " s ahead of now");
    }

    /// The staged writes and the records (a store without apply has no
    /// ledger, so records come only with an atomic commit).
    awaitable<void> commit_writes(session::Session session, std::vector<session::LedgerWrite> records) const {
        if (options_.commit == CommitMode::sequential && !session.store().has_apply()) {
            const auto& writes = session.write_set();
            co_await session.store().apply_sequentially(session.storage_payer(), writes->writes());
            writes->discard_first(writes->size());
            co_return;
        }
        co_await session::commit(std::move(session), std::move(records));
    }

    /// Verifies; the payer, or the refusal's Error.
    awaitable<Result<std::string>> verify(const PaymentPayload& payment, const PaymentRequirements& requirements) {
        std::optional<VerifyResponse> verdict;
        try {
            ++metrics_->verifications;
            verdict = co_await verifier_.verify(payment, requirements);
        } catch (...) {
            verdict.reset();
        }
        if (!verdict || !verdict->is_valid) ++metrics_->verifications_failed;
        if (!verdict) co_return Error(reason::unexpected_verify_error, "verify: the verifier failed");
        if (!verdict->is_valid)
            co_return Error(verdict->invalid_reason.value_or(std::string(reason::unexpected_verify_error)),
                            verdict->invalid_message.value_or("verify: payment is not valid"));
        // The payer: the verifier's, falling back to authorization.from (the
        // same by construction for EIP-3009); a verifier naming someone other
        // than the signer of this payload is not trusted.
        const std::optional<std::string> claimed = claimed_payer(payment);
        std::string payer = verdict->payer ? *verdict->payer : claimed.value_or("");
        if (payer.empty() ||
            (claimed && session::detail::normalise_payer(*claimed) != session::detail::normalise_payer(payer)))
            co_return Error(reason::unexpected_verify_error, "verify: the payer is not the payment's signer");
        co_return payer;
    }

    /// Keeps (storage payer, identifier) marked as running in one hook while
    /// it is held, so a concurrent duplicate is refused rather than run.
    class InflightHold {
    public:
        using Registry = std::pair<std::mutex, std::unordered_set<std::string>>;

        InflightHold() = default;
        InflightHold(const InflightHold&) = delete;
        InflightHold& operator=(const InflightHold&) = delete;
        ~InflightHold() {
            if (!registry_) return;
            std::scoped_lock lock(registry_->first);
            registry_->second.erase(key_);
        }

        bool try_hold(const std::shared_ptr<Registry>& registry, std::string key) {
            std::scoped_lock lock(registry->first);
            if (!registry->second.insert(key).second) return false;
            registry_ = registry;
            key_ = std::move(key);
            return true;
        }

    private:
        std::shared_ptr<Registry> registry_;
        std::string key_;
    };

    /// A request that carries a payment identifier.
    struct Identified {
        /// The signer's storage form: records are the payer's own.
        std::string storage_payer;
        /// "payment-identifier:<id>" in the payer's ledger.
        std::string ledger_key;
        /// The request and the requirements it is paid by.
        std::string fingerprint;
        /// The payment as canonical JSON: equal for the same signed payment.
        std::string payload;
        InflightHold hold;
    };

    static void identify(Identified& identified, const std::string& id, const std::string& signer,
                         const RouteRequirements& route, const PaymentRequirements& requirements,
                         const PaymentPayload& payment) {
        identified.storage_payer = session::detail::normalise_payer(signer);
        identified.ledger_key = "payment-identifier:" + id;
        // Exact bytes for both: replacing invalid UTF-8 would make different
        // requests equal, so they are hex where they may hold any bytes.
        identified.fingerprint = dump_json(json{{"request", detail::to_hex(route.request_fingerprint)},
                                                {"requirements", to_json(requirements, payment.x402_version)}});
        identified.payload = dump_json(to_json(payment));
    }

    /// The ledger record of a settled request, what a retry needs to get the
    /// same answer, as the records to commit: none when it is larger than
    /// max_record_bytes. Kept until the payment's validBefore (at least 1 s).
    template <class T>
    std::vector<session::LedgerWrite> records_of(const Identified& identified, const T& result,
                                                 const SettleResponse& settlement, const std::string& payer,
                                                 int version, std::uint64_t valid_before) const {
        json record = {{"fingerprint", identified.fingerprint}, {"payload", identified.payload}, {"payer", payer},
                       {"x402Version", version}, {"settlement", to_json(settlement)}};
        if constexpr (RecordableResult<T>) {
            record["result"] = json(result);
        }
        const std::uint64_t now = options_.clock();
        const std::uint64_t left = valid_before > now ? valid_before - now : 0;
        const auto ttl = std::chrono::seconds(static_cast<std::int64_t>(std::max<std::uint64_t>(
            1, std::min<std::uint64_t>(left, static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())))));
        // Invalid UTF-8 in a result is replaced, as dump_json does for the live answer.
        std::string value = dump_json(record);
        std::vector<session::LedgerWrite> records;
        if (value.size() <= options_.max_record_bytes) records.emplace_back(identified.ledger_key, std::move(value), ttl);
        return records;
    }

    /// A retry with a recorded identifier: the first answer, if this is the
    /// same request by the same payer; else a 409.
    template <class T>
    awaitable<PaymentOutcome<T>> answer_from_record(const Identified& identified, const std::string& stored,
                                                    const RouteRequirements& route, int version,
                                                    const PaymentPayload& payment,
                                                    const PaymentRequirements& requirements) {
        using Outcome = PaymentOutcome<T>;
        const json record = json::parse(stored, nullptr, false);
        std::optional<Outcome> replay;
        bool same_payment = false;
        bool same_request = false;
        if constexpr (RecordableResult<T>) {
            try {
                same_payment = record.at("payload").get<std::string>() == identified.payload;
                same_request = record.at("fingerprint").get<std::string>() == identified.fingerprint;
                auto settlement = parse_settle_response(record.at("settlement"));
                if (!settlement) throw std::invalid_argument(settlement.error().message());
                replay = Outcome::replayed(record.at("result").get<T>(), record.at("payer").get<std::string>(),
                                           std::move(*settlement), record.at("x402Version").get<int>());
            } catch (const std::exception&) {
                replay.reset();
            }
        }
        if (!replay) {
            const Error unreadable(reason::unexpected_verify_error, "payment-identifier: its record is unreadable");
            co_return Outcome::refused(refuse(route, version, unreadable));
        }
        // The same signed payment: whoever holds it could have sent the first
        // request, so it gets that answer. Another payment must first prove (by
        // verifying) that it comes from the same payer, so that nobody else
        // learns even whether the identifier was used; it is not charged.
        if (!same_payment) {
            Result<std::string> payer = co_await verify(payment, requirements);
            if (!payer) co_return Outcome::refused(refuse(route, version, payer.error()));
            if (session::detail::normalise_payer(*payer) != identified.storage_payer) {
                const Error other(reason::payment_identifier_conflict,
                                  "payment-identifier: already used by another payer");
                co_return Outcome::refused(refuse(route, version, other, 409));
            }
        }
        if (!same_request) {
            const Error other(reason::payment_identifier_conflict,
                              "payment-identifier: already used for a different request");
            co_return Outcome::refused(refuse(route, version, other, 409));
        }
        co_return std::move(*replay);
    }

    /// Settles; on failure fills `refusal` (with the failed SettleResponse
    /// when the settler answered).
    awaitable<SettleResponse> settle(const RouteRequirements& route, int version, const PaymentPayload& payment,
                                     const PaymentRequirements& requirements, std::optional<PaymentRefusal>& refusal) {
        std::optional<SettleResponse> settlement;
        try {
            ++metrics_->settlements;
            settlement = co_await verifier_.settle(payment, requirements);
        } catch (...) {
            settlement.reset();
        }
        if (!settlement || !settlement->success) ++metrics_->settlements_failed;
        if (!settlement) {
            const Error failure(reason::unexpected_settle_error, "settle: the verifier failed");
            refusal = refuse(route, version, failure);
            co_return SettleResponse{};
        }
        if (!settlement->success) {
            const Error failure(settlement->error_reason.value_or(std::string(reason::unexpected_settle_error)),
                                settlement->error_message.value_or("settle: settlement failed"));
            refusal = refuse(route, version, failure);
            refusal->settlement = std::move(*settlement);
            co_return SettleResponse{};
        }
        co_return std::move(*settlement);
    }

    /// A refusal after the payment settled: it carries the receipt.
    static PaymentRefusal refuse_settled(const RouteRequirements& route, int version, SettleResponse settlement,
                                         std::string_view why, std::string message) {
        PaymentRefusal refusal = refuse(route, version, Error(why, std::move(message)));
        refusal.settlement = std::move(settlement);
        return refusal;
    }

    static PaymentRefusal refuse(const RouteRequirements& route, int version, const Error& error,
                                 unsigned http_status = 402) {
        PaymentRefusal refusal;
        refusal.http_status = http_status;
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
    PaymentHookOptions options_;
    std::shared_ptr<typename InflightHold::Registry> inflight_ = std::make_shared<typename InflightHold::Registry>();
    std::shared_ptr<PaymentMetrics> metrics_ = std::make_shared<PaymentMetrics>();
};

}  // namespace x402::payment
