// A small HTTP/1.1 client for JSON POSTs to one origin (the facilitator),
// on Boost.Beast over Asio, with TLS through OpenSSL (Boost.Asio ssl).
//
//  - Connections: a pool of keep-alive connections to the one origin.
//    A request takes an idle connection (the most recently used) or opens a
//    new one, and gives it back when the answer allows keep-alive; so
//    sequential requests share one connection and concurrent ones each get
//    their own. At most `max_idle_connections` are kept idle, each for at
//    most `max_idle_time`. A reused connection that the server had already
//    closed (nothing at all received) is replaced once, transparently, by a
//    new connection: the other idle ones are as old and likely closed too.
//  - Everything (pool, sockets, TLS) lives on one strand of the plain
//    executor given at construction: the connections are shared by all
//    payers and never run inside a payer's context. Requests complete
//    through the awaiting coroutine's executor (posted, never inline).
//  - Timeouts: `timeout` bounds each request as a whole (resolve, connect,
//    TLS handshake, write, read), also when a name lookup hangs.
//  - TLS: the peer certificate must chain to a trusted CA (the system store,
//    or `ca_file`) and name the URL's host (SNI for host names,
//    host_name_verification for names and IP addresses); TLS 1.2 or newer.
//  - Failures are values (HttpError), never exceptions.
#pragma once

#include <x402/http/url.hpp>
#include <boost/asio/awaitable.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

template <class T>
using awaitable = boost::asio::awaitable<T>;

enum class HttpErrorKind {
    /// Name lookup, connect or the connection failed (refused, reset, closed early).
    unreachable,
    /// The request did not complete within its timeout.
    timeout,
    /// TLS handshake failed: untrusted certificate, wrong host name, protocol.
    tls,
    /// The answer is not valid HTTP/1.1.
    protocol,
    /// The answer's body exceeds max_response_bytes.
    response_too_large,
    /// A configured header is not a valid HTTP header; nothing was sent.
    invalid_request,
};

struct HttpError {
    HttpErrorKind kind = HttpErrorKind::unreachable;
    std::string message;
};

struct HttpResponse {
    int status = 0;
    std::string body;
};

/// Exactly one of response / error is set (default-constructed: neither).
struct HttpResult {
    std::optional<HttpResponse> response;
    std::optional<HttpError> error;

    static HttpResult failure(HttpErrorKind kind, std::string message) {
        HttpResult result;
        result.error = HttpError{kind, std::move(message)};
        return result;
    }
};

/// Set field by field from FacilitatorVerifierOptions, whose defaults are the
/// only ones (documented there).
struct HttpClientOptions {
    /// Bound on each request as a whole.
    std::chrono::milliseconds timeout{};
    /// PEM file of CAs to trust for https; the system store when unset.
    std::optional<std::string> ca_file;
    /// Larger answers fail with response_too_large.
    std::size_t max_response_bytes = 0;
    /// Idle keep-alive connections kept for reuse.
    std::size_t max_idle_connections = 0;
    /// An idle connection older than this is closed rather than reused.
    std::chrono::milliseconds max_idle_time{};
    std::string user_agent;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// See the top of this header. Create with std::make_shared; the executor's
/// execution context must outlive the client and its pending requests.
class HttpClient : public std::enable_shared_from_this<HttpClient> {
public:
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;
    using Clock = std::chrono::steady_clock;

    /// Throws std::invalid_argument when the CA file cannot be loaded.
    HttpClient(boost::asio::any_io_executor executor, HttpUrl url, HttpClientOptions options)
        : strand_(boost::asio::make_strand(std::move(executor))), url_(std::move(url)), options_(std::move(options)) {
        if (url_.tls) ssl_ = make_ssl_context(options_.ca_file);
    }

    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    const HttpUrl& url() const noexcept { return url_; }
    const HttpClientOptions& options() const noexcept { return options_; }

private:
    using Request = boost::beast::http::request<boost::beast::http::string_body>;
    using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    struct Connection {
        std::unique_ptr<boost::beast::tcp_stream> plain;
        std::unique_ptr<TlsStream> tls;
        boost::beast::flat_buffer buffer;
        Clock::time_point idle_since{};

        boost::beast::tcp_stream& lowest() { return tls ? boost::beast::get_lowest_layer(*tls) : *plain; }
    };

    struct Connected {
        std::unique_ptr<Connection> connection;
        std::optional<HttpError> error;
    };

    struct Exchanged {
        HttpResult result;
        /// Nothing at all came back on a connection that may have been stale.
        bool nothing_received = false;
        bool keep_alive = false;
    };

    /// The awaiting side of a request: completes once, with whichever comes
    /// first of the request's own result and the hard deadline. Lives on the strand.
    template <class Handler>
    class Race {
    public:
        Race(Handler handler, const Strand& strand)
            : handler_(std::move(handler)),
              work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, strand),
                                        boost::asio::execution::outstanding_work.tracked)),
              timer_(strand) {}

        template <class OnExpiry>
        void arm(Clock::time_point when, OnExpiry on_expiry) {
            timer_.expires_at(when);
            timer_.async_wait(std::move(on_expiry));
        }

        void finish(HttpResult result) {
            if (done_) return;
            done_ = true;
            timer_.cancel();
            auto resume = [handler = std::move(handler_), result = std::move(result)]() mutable {
                std::move(handler)(std::move(result));
            };
            boost::asio::post(work_, std::move(resume));
            work_ = boost::asio::any_io_executor();
        }

    private:
        Handler handler_;
        boost::asio::any_io_executor work_;
        boost::asio::steady_timer timer_;
        bool done_ = false;
    };

    template <class Token>
    auto async_exchange(Request request, Token&& token) {
        auto initiate = [](auto handler, std::shared_ptr<HttpClient> self, Request request) {
            using Handler = std::decay_t<decltype(handler)>;
            auto race = std::make_shared<Race<Handler>>(std::move(handler), self->strand_);
            // Start on the strand, not inline in the caller (who may be in a payer's context).
            Strand strand = self->strand_;
            boost::asio::post(strand, [self = std::move(self), race = std::move(race), request = std::move(request)]() mutable {
                self->start(std::move(race), std::move(request));
            });
        };
        return boost::asio::async_initiate<Token, void(HttpResult)>(std::move(initiate), token, shared_from_this(),
                                                                     std::move(request));
    }

    template <class Handler>
    void start(std::shared_ptr<Race<Handler>> race, Request request) {
        const Clock::time_point deadline = Clock::now() + options_.timeout;
        // The request's own I/O stops at `deadline`; this backstop also covers
        // a name lookup that cannot be interrupted.
        race->arm(deadline + std::chrono::milliseconds(250), [race, message = timeout_message()](boost::system::error_code ec) {
            if (!ec) race->finish(HttpResult::failure(HttpErrorKind::timeout, message));
        });
        auto on_done = [race](std::exception_ptr error, HttpResult result) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    result = HttpResult::failure(HttpErrorKind::protocol, std::string("internal error: ") + e.what());
                } catch (...) {
                    result = HttpResult::failure(HttpErrorKind::protocol, "internal error");
                }
            }
            race->finish(std::move(result));
        };
        boost::asio::co_spawn(strand_, run(shared_from_this(), std::move(request), deadline), std::move(on_done));
    }

    std::string timeout_message() const {
        return "no answer from " + url_.to_string() + " within " + std::to_string(options_.timeout.count()) + " ms";
    }

    /// The request on the strand: a pooled or new connection, one retry on a
    /// new connection when a reused one turns out to be closed.
    static awaitable<HttpResult> run(std::shared_ptr<HttpClient> self, Request request, Clock::time_point deadline) {
        for (int attempt = 0;; ++attempt) {
            std::unique_ptr<Connection> connection = attempt == 0 ? self->take_idle() : nullptr;
            const bool reused = connection != nullptr;
            if (!connection) {
                Connected connected = co_await self->connect(deadline);
                if (connected.error) {
                    HttpResult failed;
                    failed.error = std::move(connected.error);
                    co_return failed;
                }
                connection = std::move(connected.connection);
            }
            Exchanged exchanged;
            if (connection->tls)
                exchanged = co_await self->exchange(*connection->tls, connection->buffer, request, deadline);
            else
                exchanged = co_await self->exchange(*connection->plain, connection->buffer, request, deadline);
            if (exchanged.result.response) {
                if (exchanged.keep_alive && connection->buffer.size() == 0) self->give_back(std::move(connection));
                co_return std::move(exchanged.result);
            }
            if (reused && exchanged.nothing_received && attempt == 0 && Clock::now() < deadline) continue;
            co_return std::move(exchanged.result);
        }
    }

    awaitable<Connected> connect(Clock::time_point deadline) {
        namespace asio = boost::asio;
        namespace ssl = boost::asio::ssl;
        boost::system::error_code ec;
        Connected out;
        asio::ip::tcp::resolver resolver(strand_);
        const auto endpoints = co_await resolver.async_resolve(url_.host, url_.port, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            out.error = HttpError{HttpErrorKind::unreachable, "cannot resolve " + url_.host + ": " + ec.message()};
            co_return out;
        }
        boost::beast::tcp_stream stream(strand_);
        stream.expires_at(deadline);
        co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            out.error = io_error(ec, deadline, "cannot connect to " + url_.host_header());
            co_return out;
        }
        auto connection = std::make_unique<Connection>();
        if (!url_.tls) {
            connection->plain = std::make_unique<boost::beast::tcp_stream>(std::move(stream));
            out.connection = std::move(connection);
            co_return out;
        }
        connection->tls = std::make_unique<TlsStream>(std::move(stream), *ssl_);
        TlsStream& tls = *connection->tls;
        if (!url_.host_is_ip && SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str()) != 1) {
            out.error = HttpError{HttpErrorKind::tls, "TLS: cannot set the server name " + url_.host};
            co_return out;
        }
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification(url_.host));
        co_await tls.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (Clock::now() >= deadline || ec == boost::beast::error::timeout) {
                out.error = HttpError{HttpErrorKind::timeout, timeout_message()};
                co_return out;
            }
            std::string message = "TLS handshake with " + url_.host_header() + " failed: " + ec.message();
            const long verify = SSL_get_verify_result(tls.native_handle());
            if (verify != X509_V_OK) message += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
            out.error = HttpError{HttpErrorKind::tls, std::move(message)};
            co_return out;
        }
        out.connection = std::move(connection);
        co_return out;
    }

    template <class Stream>
    awaitable<Exchanged> exchange(Stream& stream, boost::beast::flat_buffer& buffer, const Request& request,
                                  Clock::time_point deadline) {
        namespace asio = boost::asio;
        namespace http = boost::beast::http;
        Exchanged out;
        boost::system::error_code ec;
        boost::beast::get_lowest_layer(stream).expires_at(deadline);
        co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            out.nothing_received = ec != boost::beast::error::timeout;
            out.result.error = io_error(ec, deadline, "cannot send to " + url_.host_header());
            co_return out;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(options_.max_response_bytes);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == http::error::body_limit) {
                out.result = HttpResult::failure(HttpErrorKind::response_too_large,
                                                 "answer larger than " + std::to_string(options_.max_response_bytes) + " bytes");
                co_return out;
            }
            const bool received = parser.got_some() || buffer.size() != 0;
            out.nothing_received = !received && ec != boost::beast::error::timeout;
            const bool truncated = ec == http::error::partial_message || ec == http::error::end_of_stream;
            if (received && !truncated && ec.category() == http::make_error_code(http::error::bad_version).category()) {
                out.result = HttpResult::failure(HttpErrorKind::protocol, "not a valid HTTP answer: " + ec.message());
                co_return out;
            }
            out.result.error = io_error(ec, deadline, received ? "connection lost during the answer of " + url_.host_header()
                                                              : "connection closed by " + url_.host_header());
            co_return out;
        }
        boost::beast::get_lowest_layer(stream).expires_never();
        out.keep_alive = parser.get().keep_alive();
        HttpResponse response;
        response.status = static_cast<int>(parser.get().result_int());
        response.body = std::move(parser.get().body());
        out.result.response = std::move(response);
        co_return out;
    }

    HttpError io_error(const boost::system::error_code& ec, Clock::time_point deadline, const std::string& what) const {
        if (ec == boost::beast::error::timeout || Clock::now() >= deadline) return {HttpErrorKind::timeout, timeout_message()};
        return {HttpErrorKind::unreachable, what + ": " + ec.message()};
    }

    std::unique_ptr<Connection> take_idle() {
        const Clock::time_point now = Clock::now();
        while (!idle_.empty()) {
            std::unique_ptr<Connection> connection = std::move(idle_.back());
            idle_.pop_back();
            if (now - connection->idle_since <= options_.max_idle_time) return connection;
        }
        return nullptr;
    }

    void give_back(std::unique_ptr<Connection> connection) {
        if (idle_.size() >= options_.max_idle_connections) return;  // closes it
        connection->idle_since = Clock::now();
        idle_.push_back(std::move(connection));
    }

    static bool valid_header(std::string_view name, std::string_view value) {
        if (name.empty()) return false;
        for (char c : name) {
            const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
            if (!token) return false;
        }
        for (char c : value)
            if (c == '\r' || c == '\n' || c == '\0') return false;
        return true;
    }

    static std::unique_ptr<boost::asio::ssl::context> make_ssl_context(const std::optional<std::string>& ca_file) {
        namespace ssl = boost::asio::ssl;
        auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
        context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        boost::system::error_code ec;
        if (ca_file) context->load_verify_file(*ca_file, ec);
        else context->set_default_verify_paths(ec);
        if (ec)
            throw std::invalid_argument("facilitator TLS: cannot load the trusted certificates" +
                                        (ca_file ? " from " + *ca_file : std::string()) + ": " + ec.message());
        context->set_verify_mode(ssl::verify_peer);
        return context;
    }

public:
    /// POSTs `body` (JSON) to base_path + `path`. Never throws for I/O or
    /// HTTP problems: they come back as HttpResult::error.
    awaitable<HttpResult> post_json(std::string path, std::string body, HttpHeaders headers) {
        namespace http = boost::beast::http;
        Request request{http::verb::post, url_.base_path + path, 11};
        request.set(http::field::host, url_.host_header());
        request.set(http::field::user_agent, options_.user_agent);
        request.set(http::field::content_type, "application/json");
        request.set(http::field::accept, "application/json");
        for (const auto& [name, value] : headers) {
            if (!valid_header(name, value))
                co_return HttpResult::failure(HttpErrorKind::invalid_request, "header " + name + ": not a valid HTTP header");
            request.set(name, value);
        }
        request.keep_alive(true);
        request.body() = std::move(body);
        request.prepare_payload();
        co_return co_await async_exchange(std::move(request), boost::asio::use_awaitable);
    }

private:
    Strand strand_;
    HttpUrl url_;
    HttpClientOptions options_;
    std::unique_ptr<boost::asio::ssl::context> ssl_;
    /// Idle keep-alive connections, most recently used last. Strand only.
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace x402::http
