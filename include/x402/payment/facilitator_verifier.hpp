// FacilitatorVerifier: a PaymentVerifier that asks an x402 facilitator over
// HTTP(S): POST <url>/verify and POST <url>/settle with
// {"x402Version", "paymentPayload", "paymentRequirements"} (reference §2).
//
// The facilitator sees the chain (balances, used nonces, smart wallets,
// Permit2) and settles; this is the production verifier. It needs OpenSSL
// (CMake target x402::payment_facilitator); not part of the x402/payment.hpp
// umbrella.
//
// Failures never throw into the hook: an unreachable facilitator, a timeout,
// a TLS failure, an HTTP error status or an answer that is not the expected
// JSON give a VerifyResponse with is_valid false and invalidReason
// unexpected_verify_error (SettleResponse: success false, errorReason
// unexpected_settle_error), with a message saying which. verify_detailed /
// settle_detailed give the typed FacilitatorError instead.
#pragma once

#include <x402/http/client.hpp>
#include <x402/http/url.hpp>
#include <x402/payment/error.hpp>
#include <x402/payment/headers.hpp>
#include <x402/payment/types.hpp>
#include <x402/payment/verifier.hpp>
#include <x402/session/context.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace x402::payment {

/// Why a facilitator call produced no usable answer.
enum class FacilitatorErrorKind {
    /// Name lookup or connect failed, or the connection was lost.
    unreachable,
    /// No complete answer within FacilitatorVerifierOptions::timeout.
    timeout,
    /// TLS failed: certificate not trusted, host name mismatch, handshake.
    tls,
    /// A non-2xx status without a verdict in the body.
    http_status,
    /// Not HTTP, not JSON, not the expected object, or larger than allowed.
    malformed_response,
    /// A configured header is not a valid HTTP header (nothing was sent).
    invalid_request,
};

constexpr std::string_view to_string(FacilitatorErrorKind kind) noexcept {
    switch (kind) {
        case FacilitatorErrorKind::unreachable: return "unreachable";
        case FacilitatorErrorKind::timeout: return "timeout";
        case FacilitatorErrorKind::tls: return "tls";
        case FacilitatorErrorKind::http_status: return "http_status";
        case FacilitatorErrorKind::malformed_response: return "malformed_response";
        case FacilitatorErrorKind::invalid_request: return "invalid_request";
    }
    return "unknown";
}

struct FacilitatorError {
    FacilitatorErrorKind kind = FacilitatorErrorKind::unreachable;
    /// E.g. "cannot connect to 127.0.0.1:9: Connection refused".
    std::string message;
    /// The HTTP status when one was received, else 0.
    int http_status = 0;
};

/// A facilitator's answer, or why there is none. Exactly one is set.
template <class Response>
struct FacilitatorReply {
    std::optional<Response> response;
    std::optional<FacilitatorError> error;
};

struct FacilitatorVerifierOptions {
    /// Bound on each request as a whole (resolve, connect, TLS, send, answer).
    std::chrono::milliseconds timeout{10'000};
    /// PEM file of the CAs to trust for an https URL; the system trust store
    /// (OpenSSL's default paths) when unset. Peer certificate and host name
    /// are always verified.
    std::optional<std::string> ca_file;
    /// Larger answers are refused (malformed_response).
    std::size_t max_response_bytes = 64 * 1024;
    /// Idle keep-alive connections kept for reuse, and for how long: less
    /// than common servers keep an idle connection open (Node's default is
    /// 5 s), so that a reused one has rarely been closed under it.
    std::size_t max_idle_connections = 4;
    std::chrono::milliseconds max_idle_time{4'000};
    /// Extra headers per endpoint ("verify" or "settle"), e.g. a facilitator's
    /// authorization header (the official createAuthHeaders). Called in the
    /// awaiting coroutine before each request; must be thread-safe if the
    /// verifier is used from several threads. A name or value that is not a
    /// valid header fails the call (invalid_request) without sending anything.
    std::function<std::vector<std::pair<std::string, std::string>>(std::string_view endpoint)> headers;
    std::string user_agent = "x402-session";
};

/// A PaymentVerifier backed by a facilitator (see the top of this header).
///
///     boost::asio::io_context io;
///     x402::payment::FacilitatorVerifier facilitator(io.get_executor(), "https://x402.org/facilitator");
///     x402::payment::PaymentHook hook(sessions, facilitator);
///
/// A payment is accepted only when the facilitator answers isValid: true;
/// the payer is the answer's `payer`, or authorization.from when it names
/// none. A non-2xx answer that carries a verdict (isValid / success) is
/// taken as that verdict when it is a refusal, as the official clients do.
///
/// Connections: one keep-alive connection per verifier reused by sequential
/// requests, more only while requests overlap (a pool; see
/// detail/http_client.hpp). They live on a strand of the plain executor given
/// here, never in a payer's context, and every call completes through the
/// awaiting coroutine's executor. Copies share the connections. The
/// executor's execution context must outlive the verifier and its requests.
/// Thread-safe.
class FacilitatorVerifier {
public:
    /// The SDKs' default facilitator (testnets only: Base Sepolia, Solana devnet).
    static constexpr std::string_view default_url = "https://x402.org/facilitator";

    /// `executor`: a plain executor (io_context::get_executor(), a
    /// thread_pool's, a strand), never a payer's ContextExecutor (rejected:
    /// the connections are shared by all payers). `url`: http(s)://host[:port][/path].
    /// Throws std::invalid_argument for a bad URL, a ContextExecutor or an
    /// unreadable CA file.
    template <session::plain_executor Executor>
    FacilitatorVerifier(const Executor& executor, std::string_view url, FacilitatorVerifierOptions options = {})
        : state_(make_state(boost::asio::any_io_executor(executor), url, std::move(options))) {}

    /// The base URL, normalised (e.g. "https://x402.org/facilitator").
    std::string url() const { return state_->client->url().to_string(); }

    /// POST /verify. Never throws for transport or protocol failures: see the top of this header.
    awaitable<VerifyResponse> verify(const PaymentPayload& payment, const PaymentRequirements& requirements) {
        return verify_as_verdict(state_, request_body(payment, requirements), claimed_payer(payment));
    }

    /// POST /settle; failures as verify, with unexpected_settle_error.
    awaitable<SettleResponse> settle(const PaymentPayload& payment, const PaymentRequirements& requirements) {
        return settle_as_verdict(state_, request_body(payment, requirements), requirements.network);
    }

    /// POST /verify, with the typed error. The response is the facilitator's
    /// as sent (payer not filled in).
    awaitable<FacilitatorReply<VerifyResponse>> verify_detailed(const PaymentPayload& payment,
                                                                const PaymentRequirements& requirements) {
        return call<VerifyResponse>(state_, "verify", request_body(payment, requirements));
    }

    /// POST /settle, with the typed error.
    awaitable<FacilitatorReply<SettleResponse>> settle_detailed(const PaymentPayload& payment,
                                                                const PaymentRequirements& requirements) {
        return call<SettleResponse>(state_, "settle", request_body(payment, requirements));
    }

    /// The JSON body of /verify and /settle: the payment as sent and the
    /// matched requirement in the payment's protocol version.
    static std::string request_body(const PaymentPayload& payment, const PaymentRequirements& requirements) {
        json body = json::object();
        body["x402Version"] = payment.x402_version;
        body["paymentPayload"] = to_json(payment);
        body["paymentRequirements"] = to_json(requirements, payment.x402_version);
        return dump_json(body);
    }

private:
    struct State {
        std::shared_ptr<http::HttpClient> client;
        std::function<std::vector<std::pair<std::string, std::string>>(std::string_view)> headers;
    };

    static std::shared_ptr<const State> make_state(boost::asio::any_io_executor executor, std::string_view url,
                                                   FacilitatorVerifierOptions options) {
        session::require_plain_executor(executor, "FacilitatorVerifier");
        http::HttpClientOptions http;
        http.timeout = options.timeout;
        http.ca_file = std::move(options.ca_file);
        http.max_response_bytes = options.max_response_bytes;
        http.max_idle_connections = options.max_idle_connections;
        http.max_idle_time = options.max_idle_time;
        http.user_agent = std::move(options.user_agent);
        auto state = std::make_shared<State>();
        state->client = std::make_shared<http::HttpClient>(std::move(executor), http::parse_http_url(url), std::move(http));
        state->headers = std::move(options.headers);
        return state;
    }

    static FacilitatorError to_error(const http::HttpError& error) {
        using http::HttpErrorKind;
        FacilitatorErrorKind kind = FacilitatorErrorKind::unreachable;
        switch (error.kind) {
            case HttpErrorKind::unreachable: kind = FacilitatorErrorKind::unreachable; break;
            case HttpErrorKind::timeout: kind = FacilitatorErrorKind::timeout; break;
            case HttpErrorKind::tls: kind = FacilitatorErrorKind::tls; break;
            case HttpErrorKind::protocol:
            case HttpErrorKind::response_too_large: kind = FacilitatorErrorKind::malformed_response; break;
            case HttpErrorKind::invalid_request: kind = FacilitatorErrorKind::invalid_request; break;
        }
        return FacilitatorError{kind, error.message, 0};
    }

    static Result<VerifyResponse> parse(const json& j, VerifyResponse*) { return parse_verify_response(j); }
    static Result<SettleResponse> parse(const json& j, SettleResponse*) { return parse_settle_response(j); }
    static bool is_refusal(const VerifyResponse& r) { return !r.is_valid; }
    static bool is_refusal(const SettleResponse& r) { return !r.success; }

    /// The facilitator's JSON answer to `endpoint`, or the typed error.
    template <class Response>
    static awaitable<FacilitatorReply<Response>> call(std::shared_ptr<const State> state, std::string endpoint,
                                                      std::string body) {
        FacilitatorReply<Response> reply;
        http::HttpHeaders headers;
        if (state->headers) {
            try {
                headers = state->headers(endpoint);
            } catch (const std::exception& e) {
                reply.error = FacilitatorError{FacilitatorErrorKind::invalid_request,
                                               std::string("the headers callback threw: ") + e.what(), 0};
                co_return reply;
            }
        }
        http::HttpResult result = co_await state->client->post_json("/" + endpoint, std::move(body), std::move(headers));
        if (!result.response) {
            reply.error = result.error ? to_error(*result.error)
                                       : FacilitatorError{FacilitatorErrorKind::unreachable, "no answer", 0};
            co_return reply;
        }
        const int status = result.response->status;
        const bool ok_status = status >= 200 && status < 300;
        const std::string where = "POST /" + endpoint + " answered HTTP " + std::to_string(status);
        std::optional<Result<Response>> parsed;
        if (detail::json_nesting_depth(result.response->body) <= 64) {
            json j = json::parse(result.response->body, nullptr, /*allow_exceptions=*/false);
            if (!j.is_discarded()) parsed.emplace(parse(j, static_cast<Response*>(nullptr)));
        }
        if (ok_status) {
            if (!parsed) {
                reply.error = FacilitatorError{FacilitatorErrorKind::malformed_response, where + " with a body that is not JSON", status};
            } else if (!*parsed) {
                reply.error = FacilitatorError{FacilitatorErrorKind::malformed_response, where + ": " + parsed->error().message(), status};
            } else {
                reply.response = std::move(**parsed);
            }
            co_return reply;
        }
        // A refusal sent with an error status is still a verdict (official clients).
        if (parsed && *parsed && is_refusal(**parsed)) {
            reply.response = std::move(**parsed);
            co_return reply;
        }
        reply.error = FacilitatorError{FacilitatorErrorKind::http_status, where, status};
        co_return reply;
    }

    static awaitable<VerifyResponse> verify_as_verdict(std::shared_ptr<const State> state, std::string body,
                                                       std::optional<std::string> claimed) {
        FacilitatorReply<VerifyResponse> reply = co_await call<VerifyResponse>(state, "verify", std::move(body));
        if (!reply.response) {
            const Error failed(reason::unexpected_verify_error,
                               "facilitator " + std::string(to_string(reply.error->kind)) + ": " + reply.error->message);
            co_return VerifyResponse::invalid(failed, std::nullopt);
        }
        VerifyResponse verdict = std::move(*reply.response);
        if (!verdict.is_valid) co_return verdict;
        if (!verdict.payer || verdict.payer->empty()) verdict.payer = std::move(claimed);
        if (!verdict.payer || verdict.payer->empty()) {
            const Error no_payer(reason::unexpected_verify_error, "facilitator: a valid answer that names no payer");
            co_return VerifyResponse::invalid(no_payer, std::nullopt);
        }
        co_return verdict;
    }

    static awaitable<SettleResponse> settle_as_verdict(std::shared_ptr<const State> state, std::string body,
                                                       std::string network) {
        FacilitatorReply<SettleResponse> reply = co_await call<SettleResponse>(state, "settle", std::move(body));
        if (reply.response) co_return std::move(*reply.response);
        SettleResponse failed;
        failed.success = false;
        failed.error_reason = std::string(reason::unexpected_settle_error);
        failed.error_message = "facilitator " + std::string(to_string(reply.error->kind)) + ": " + reply.error->message;
        failed.network = std::move(network);
        co_return failed;
    }

    std::shared_ptr<const State> state_;
};

static_assert(PaymentVerifier<FacilitatorVerifier>);

}  // namespace x402::payment
