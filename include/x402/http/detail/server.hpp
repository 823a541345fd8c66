// The machinery of x402::http::Server (server.hpp): reading requests with
// their limits, the answer of one request, the connection loop and the accept
// loop. Not part of the public API.
#pragma once

#include <x402/http/message.hpp>
#include <x402/http/request_policy.hpp>
#include <x402/http/router.hpp>
#include <x402/http/server_metrics.hpp>
#include <x402/http/server_options.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <mutex>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/resource.h>  // getrlimit: the default connection cap

namespace x402::http {

namespace detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

/// What the accept loop and the connections share.
struct ServerState {
    ServerState(asio::io_context& io_context, ServerOptions server_options)
        : io(io_context), options(std::move(server_options)), acceptor(io_context),
          accept_strand(asio::make_strand(io_context)), max_connections(connection_cap(options.max_connections)) {}

    /// `configured`, or three quarters of the soft descriptor limit (at least 1).
    static std::size_t connection_cap(std::size_t configured) {
        if (configured != 0) return configured;
        rlimit limit{};
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096;
        return std::max<std::size_t>(1, static_cast<std::size_t>(limit.rlim_cur) / 4 * 3);
    }

    asio::io_context& io;
    const ServerOptions options;
    Router router;
    // On the plain executor: never on a payer's ContextExecutor. Used only
    // from `accept_strand` once the server has started.
    asio::ip::tcp::acceptor acceptor;
    asio::strand<asio::io_context::executor_type> accept_strand;
    // Set by Server::start (the defaults depend on the bound address and
    // port) before the first connection is accepted; read-only after.
    RequestPolicy policy;

    std::mutex mutex;
    bool stopped = false;
    // Draining: no new connections, no new requests; the ones being answered finish.
    bool draining = false;
    // Stopped (not drained): every connection is being closed.
    bool closed = false;
    // Each open connection, and whether it is answering a request now.
    std::map<std::shared_ptr<beast::tcp_stream>, bool> connections;
    // ServerOptions::max_connections, resolved; connections being refused (503).
    const std::size_t max_connections;
    std::size_t refusing = 0;
    // Streamed answers being written now: a stop ends them all, a drain
    // those that end only when their client leaves (ends_on_drain).
    std::set<std::shared_ptr<ResponseStream>> streams;
    // Handlers running now, whether or not their connection is still open.
    std::atomic<std::size_t> in_flight{0};
    ServerMetrics metrics;
};

using StatePtr = std::shared_ptr<ServerState>;

/// The server's own answer for `status` (see ServerOptions::render_error).
inline Response server_error(const ServerState& state, unsigned status, std::string reason) {
    if (state.options.render_error) return state.options.render_error(status, std::move(reason));
    return Response::text(status, std::move(reason) + "\n");
}

inline BeastResponse to_beast(ServerState& state, Response answer, unsigned version, bool keep_alive) {
    state.metrics.count_response(answer.status);
    BeastResponse response(static_cast<bhttp::status>(answer.status), version);
    response.set(bhttp::field::server, state.options.server_name);
    if (!answer.body.empty() || answer.stream) response.set(bhttp::field::content_type, answer.content_type);
    for (auto& [name, value] : answer.headers) response.set(name, value);
    if (answer.stream) {
        // HTTP/1.1: chunked. HTTP/1.0 has no chunks: the body ends when the
        // connection closes.
        if (version >= 11) response.chunked(true);
        else keep_alive = false;
        response.keep_alive(keep_alive);
        return response;
    }
    response.body() = std::move(answer.body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
}

/// One answer as the connection writes it: whole, or a header and a stream.
struct Answer {
    BeastResponse response;
    std::shared_ptr<ResponseStream> stream;
};

/// A copy of a parsed request as route handlers see it.
inline Request to_request(BeastRequest& parsed, const Route& route, std::string path) {
    Request request;
    request.method = std::string(parsed.method_string());
    request.target = std::string(parsed.target());
    request.rest = Router::rest_of(route.path, path);
    request.path = std::move(path);
    request.body = std::move(parsed.body());
    for (const auto& field : parsed)
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return request;
}

/// The handler's answer, or 500 for what it throws.
inline asio::awaitable<Response> run_handler(StatePtr state, const Route* route, Request request) {
    const RunningHandler running(state->in_flight);
    try {
        co_return co_await route->handler(std::move(request));
    } catch (...) {
    }
    // What the handler threw is not echoed: it may carry internal detail.
    co_return server_error(*state, 500, "Internal Server Error");
}

/// The answer to one request: 404, 405 with Allow, or the route's.
inline asio::awaitable<Answer> answer(StatePtr state, BeastRequest parsed) {
    ++state->metrics.requests;
    const unsigned version = parsed.version();
    const bool keep_alive = parsed.keep_alive();
    // Before routing, so that no route (and no 404) differs for a foreign Host or Origin.
    if (std::optional<Refusal> refused = state->policy.check(version, parsed.target(), parsed.base()))
        co_return Answer{to_beast(*state, refused->response(), version, keep_alive), nullptr};
    std::string_view target = parsed.target();
    std::string path(target.substr(0, target.find('?')));
    bool path_known = false;
    const Route* route = state->router.find(parsed.method_string(), path, path_known);
    if (!route) {
        if (!path_known) co_return Answer{to_beast(*state, server_error(*state, 404, "Not Found"), version, keep_alive), nullptr};
        Response refused = server_error(*state, 405, "Method Not Allowed");
        refused.headers.emplace_back("Allow", state->router.allowed_methods(path));
        co_return Answer{to_beast(*state, std::move(refused), version, keep_alive), nullptr};
    }
    // Each request on a strand of its own; a payer context the handler
    // enters wraps that strand and ends with the request.
    auto operation = run_handler(state, route, to_request(parsed, *route, std::move(path)));
    Response answered = co_await asio::co_spawn(asio::make_strand(state->io), std::move(operation), asio::use_awaitable);
    std::shared_ptr<ResponseStream> stream = answered.stream;
    co_return Answer{to_beast(*state, std::move(answered), version, keep_alive), std::move(stream)};
}

/// Writes a streamed answer: the header, then each chunk as the producer
/// writes it, under the write deadline each; the stream is abandoned when
/// the client goes away (or the server stops). False: the connection is done.
template <class Stream>
asio::awaitable<bool> write_stream(StatePtr state, Stream& stream, BeastResponse& header,
                                   std::shared_ptr<ResponseStream> body) {
    bool ending = false;
    {
        std::lock_guard lock(state->mutex);
        ending = state->closed || (state->draining && body->options().ends_on_drain);
        if (!ending) state->streams.insert(body);
    }
    if (ending) body->abandon();
    struct Unregister {
        ServerState& state;
        std::shared_ptr<ResponseStream> body;
        ~Unregister() {
            body->abandon();  // no-op once it ended normally
            std::lock_guard lock(state.mutex);
            state.streams.erase(body);
        }
    } unregister{*state, body};
    const bool chunked = header.chunked();
    bhttp::response<bhttp::empty_body> head(header.result(), header.version());
    for (const auto& field : header) head.set(field.name_string(), field.value());
    head.keep_alive(header.keep_alive());
    head.chunked(chunked);
    bhttp::response_serializer<bhttp::empty_body> serializer(head);
    stream.expires_after(state->options.write_timeout);
    auto [header_error, header_written] =
        co_await bhttp::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
    (void)header_written;
    if (header_error) co_return false;
    for (;;) {
        stream.expires_never();  // waiting for the producer is not the client's delay
        std::optional<std::string> chunk = co_await body->next();
        if (!chunk) break;
        stream.expires_after(state->options.write_timeout);
        beast::error_code error;
        if (chunked) {
            auto [chunk_error, written] = co_await asio::async_write(
                stream, bhttp::make_chunk(asio::buffer(*chunk)), asio::as_tuple(asio::use_awaitable));
            (void)written;
            error = chunk_error;
        } else {
            auto [raw_error, written] =
                co_await asio::async_write(stream, asio::buffer(*chunk), asio::as_tuple(asio::use_awaitable));
            (void)written;
            error = raw_error;
        }
        if (error == beast::error::timeout) ++state->metrics.connections_timed_out;
        if (error) co_return false;
    }
    if (!chunked) co_return false;
    // Abandoned (client gone, server stopped) ends like a finished stream:
    // the last chunk tells the client the body is complete.
    stream.expires_after(state->options.write_timeout);
    auto [last_error, last_written] =
        co_await asio::async_write(stream, bhttp::make_chunk_last(), asio::as_tuple(asio::use_awaitable));
    (void)last_written;
    co_return !last_error && header.keep_alive();
}

/// Reads and discards what the client still sends (up to a bound) so that
/// closing does not reset the connection before it has read our answer.
inline asio::awaitable<void> drain(std::shared_ptr<beast::tcp_stream> stream) {
    beast::error_code ignored;
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream->expires_after(std::chrono::seconds(5));
    std::vector<char> sink(64 * 1024);
    std::size_t total = 0;
    while (total < 64 * 1024 * 1024) {
        auto [error, read] = co_await stream->async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
        if (error) break;
        total += read;
    }
}

/// Writes an answer to a request that could not be read, then closes.
inline asio::awaitable<void> refuse(StatePtr state, std::shared_ptr<beast::tcp_stream> stream, Response answer,
                                    bool drain_after) {
    BeastResponse response = to_beast(*state, std::move(answer), 11, false);
    stream->expires_after(std::chrono::seconds(10));
    auto [error, written] = co_await bhttp::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
    (void)written;
    if (!error && drain_after) co_await drain(stream);
}

/// Marks the connection idle (waiting for a request) or busy; false when the
/// server drains, so an idle connection takes no new request.
inline bool mark(ServerState& state, const std::shared_ptr<beast::tcp_stream>& stream, bool busy) {
    std::lock_guard lock(state.mutex);
    if (auto found = state.connections.find(stream); found != state.connections.end()) found->second = busy;
    return !state.draining;
}

inline bool draining(ServerState& state) {
    std::lock_guard lock(state.mutex);
    return state.draining;
}

/// Reads one request under three deadlines: idle until its first byte,
/// then the headers, then the body. A deadline passing closes the connection.
/// `Stream` is beast::tcp_stream; a template so that the request fuzzer
/// (tests/http/fuzz) drives this very code over an in-memory stream.
template <class Stream>
asio::awaitable<beast::error_code> read_request(const ServerState& state, Stream& stream, beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::string_body>& parser) {
    if (buffer.size() == 0) {
        stream.expires_after(state.options.idle_timeout);
        auto [error, read] = co_await stream.async_read_some(buffer.prepare(16 * 1024), asio::as_tuple(asio::use_awaitable));
        if (error) co_return error;
        buffer.commit(read);
    }
    stream.expires_after(state.options.header_timeout);
    auto [header_error, header_read] =
        co_await bhttp::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    (void)header_read;
    if (header_error || parser.is_done()) co_return header_error;
    stream.expires_after(state.options.body_timeout);
    auto [body_error, body_read] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    (void)body_read;
    co_return body_error;
}

inline asio::awaitable<void> serve_connection(StatePtr state, std::shared_ptr<beast::tcp_stream> stream) {
    beast::flat_buffer buffer;
    for (;;) {
        if (!mark(*state, stream, false)) break;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(state->options.max_body_bytes);
        const beast::error_code error = co_await read_request(*state, *stream, buffer, parser);
        if (error == beast::error::timeout) ++state->metrics.connections_timed_out;
        if (error == bhttp::error::body_limit || error == bhttp::error::header_limit) ++state->metrics.requests_malformed;
        if (error == bhttp::error::body_limit) {
            co_await refuse(state, stream,
                            server_error(*state, 413, "Payload Too Large: the body exceeds " +
                                                          std::to_string(state->options.max_body_bytes) + " bytes"),
                            true);
            break;
        }
        if (error == bhttp::error::header_limit) {
            co_await refuse(state, stream, server_error(*state, 431, "Request Header Fields Too Large"), false);
            break;
        }
        if (error) {
            const bool malformed = error.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                                   error != bhttp::error::end_of_stream && error != bhttp::error::partial_message;
            if (malformed) {
                ++state->metrics.requests_malformed;
                const Refusal refused{400, "malformed_request", "the request is not well-formed HTTP/1.1"};
                co_await refuse(state, stream, refused.response(), false);
            }
            break;
        }
        stream->expires_never();
        // Read, but the drain began (and may be closing this idle
        // connection): not taken, so no handler runs and no payment is touched.
        if (!mark(*state, stream, true)) break;
        Answer answered = co_await answer(state, parser.release());
        BeastResponse& response = answered.response;
        // Answered during a drain: the last answer on this connection.
        if (draining(*state)) response.keep_alive(false);
        if (answered.stream) {
            if (!co_await write_stream(state, *stream, response, std::move(answered.stream))) break;
            continue;
        }
        const bool keep_alive = response.keep_alive();
        stream->expires_after(state->options.write_timeout);  // a client that does not read its answer
        auto [write_error, written] = co_await bhttp::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_error == beast::error::timeout) ++state->metrics.connections_timed_out;
        if (write_error || !keep_alive) break;
    }
    beast::error_code ignored;
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream->close();
}

inline asio::awaitable<void> run_connection(StatePtr state, std::shared_ptr<beast::tcp_stream> stream) {
    try {
        co_await serve_connection(state, stream);
    } catch (...) {
        // One connection's failure (e.g. bad_alloc) never ends the server.
    }
    std::lock_guard lock(state->mutex);
    state->connections.erase(stream);
}

/// Connections being answered 503 at once, at most: each holds a descriptor
/// for up to its write deadline.
inline constexpr std::size_t max_refusing = 64;

/// The 503 of a connection beyond max_connections.
inline asio::awaitable<void> refuse_busy(StatePtr state, std::shared_ptr<beast::tcp_stream> stream) {
    try {
        // Drained after: closing with the client's request unread would reset
        // the connection before it read the 503.
        co_await refuse(state, stream,
                        server_error(*state, 503, "Service Unavailable: too many connections (" +
                                                      std::to_string(state->max_connections) + ")"),
                        true);
    } catch (...) {
    }
    beast::error_code ignored;
    stream->socket().close(ignored);
    std::lock_guard lock(state->mutex);
    --state->refusing;
}

inline asio::awaitable<void> accept_loop(StatePtr state) {
    for (;;) {
        auto [error, socket] =
            co_await state->acceptor.async_accept(asio::make_strand(state->io), asio::as_tuple(asio::use_awaitable));
        if (error) {
            if (error == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
            // E.g. out of file descriptors: pause rather than spin.
            asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        bool full = false;
        {
            std::lock_guard lock(state->mutex);
            if (state->stopped) {
                beast::error_code ignored;
                stream->socket().close(ignored);
                co_return;
            }
            full = state->connections.size() + state->refusing >= state->max_connections;
            ++(full ? state->metrics.connections_refused : state->metrics.connections_accepted);
            if (!full) state->connections.emplace(stream, false);
            // Beyond the cap: a 503 while few are being refused, else closed at once.
            else if (state->refusing < max_refusing) ++state->refusing;
            else {
                beast::error_code ignored;
                stream->socket().close(ignored);
                continue;
            }
        }
        if (full) {
            asio::co_spawn(stream->get_executor(), refuse_busy(state, stream), asio::detached);
            continue;
        }
        auto executor = stream->get_executor();
        asio::co_spawn(executor, run_connection(state, stream), asio::detached);
    }
}

}  // namespace detail

}  // namespace x402::http
