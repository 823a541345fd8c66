// The MCP Streamable HTTP transport over Boost.Beast: POST /mcp answers JSON
// (never SSE), GET /mcp is 405, DELETE /mcp ends a session. Keep-alive, a
// request-size limit (413), Origin checking (403), one strand per connection
// and per request. Plain HTTP routes (http_route.hpp) are served next to it,
// priced ones through an HttpPaymentGate (x402 payment headers).
#pragma once

#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/http_route.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::mcp {

/// Options of the HTTP server.
struct ServerOptions {
    /// Address to bind (IPv4 or IPv6 literal).
    std::string address = "127.0.0.1";
    /// Port to bind; 0 picks a free one (see Server::start's result).
    unsigned short port = 8402;
    /// The MCP endpoint path; other paths answer 404.
    std::string path = "/mcp";
    /// Largest request body accepted; a larger one is answered 413 and the
    /// connection closed.
    std::size_t max_body_bytes = 1024 * 1024;
    /// How long a connection may stay idle (or take to send a request)
    /// before it is closed.
    std::chrono::seconds idle_timeout{60};
    /// Origins (e.g. "http://localhost:6274") allowed to call the endpoint.
    /// A request carrying an Origin header not listed here is answered 403
    /// (DNS-rebinding protection, Streamable HTTP "Security Warning");
    /// requests without Origin (non-browser clients) are always allowed.
    std::vector<std::string> allowed_origins;
    /// The MCP layer's options.
    EndpointOptions endpoint;
};

namespace detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

inline std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

/// The media type of a Content-Type value, without parameters.
inline std::string_view media_type(std::string_view value) { return trim(value.substr(0, value.find(';'))); }

/// Whether an Accept value admits application/json (absent: yes).
inline bool accepts_json(std::string_view accept) {
    if (trim(accept).empty()) return true;
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        const std::string_view type = media_type(accept.substr(0, comma));
        if (iequals(type, "application/json") || iequals(type, "application/*") || iequals(type, "*/*")) return true;
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    return false;
}

inline std::optional<std::string> header(const http::request<http::string_body>& request, std::string_view name) {
    const auto found = request.find(beast::string_view(name.data(), name.size()));
    if (found == request.end()) return std::nullopt;
    return std::string(found->value());
}

using Response = http::response<http::string_body>;

inline Response make_response(unsigned status, unsigned version, bool keep_alive, std::string body,
                              std::string_view content_type) {
    Response response(static_cast<http::status>(status), version);
    response.set(http::field::server, "x402-session-mcp");
    if (!body.empty()) response.set(http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    response.body() = std::move(body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    return response;
}

inline std::string transport_error(int code, std::string message) {
    return jsonrpc::error_response(nullptr, code, std::move(message)).dump();
}

/// What the accept loop and the connections share.
struct ServerState {
    ServerState(asio::io_context& io_context, ServerOptions server_options, session::SessionPlugin sessions)
        : io(io_context),
          options(std::move(server_options)),
          endpoint(std::move(sessions), options.endpoint),
          routes(options.path),
          acceptor(io_context),
          accept_strand(asio::make_strand(io_context)) {}

    asio::io_context& io;
    const ServerOptions options;
    McpEndpoint endpoint;
    HttpRouteRegistry routes;
    HttpPaymentGate http_gate;
    // On the plain executor: never on a payer's ContextExecutor. Used only
    // from `accept_strand` once the server has started.
    asio::ip::tcp::acceptor acceptor;
    asio::strand<asio::io_context::executor_type> accept_strand;

    std::mutex mutex;
    bool stopped = false;
    std::set<std::shared_ptr<beast::tcp_stream>> connections;
};

using StatePtr = std::shared_ptr<ServerState>;
using Request = http::request<http::string_body>;

inline HttpResponse route_error(unsigned status, std::string message) {
    return HttpResponse::json_body(json{{"error", std::move(message)}}, status);
}

/// Runs one plain HTTP route: free with no session, priced through the gate.
inline awaitable<HttpResponse> run_route(StatePtr state, std::shared_ptr<const HttpRoute> route, HttpRequest request) {
    auto shared_request = std::make_shared<const HttpRequest>(std::move(request));
    HttpInvocation invoke = [route, shared_request]() { return route->handler(*shared_request); };
    std::optional<std::string> failure;
    HttpResponse response;
    try {
        if (!route->price) {
            auto op = state->endpoint.sessions().run_without_payer(std::move(invoke));
            response = co_await std::move(op);
        } else if (state->http_gate) {
            HttpHeaderLookup lookup = [shared_request](std::string_view name) { return shared_request->header(name); };
            PaidHttpRequest paid(*route->price, std::move(lookup), std::move(invoke));
            auto op = state->http_gate(std::move(paid));
            response = co_await std::move(op);
        } else {
            response = route_error(500, "This route requires payment, and this server has no payment verifier");
        }
    } catch (const std::exception& error) {
        failure = error.what();
    } catch (...) {
        failure = "unknown exception";
    }
    if (failure) co_return route_error(500, "Error: " + *failure);
    co_return response;
}

/// Answers a request for a path other than the MCP endpoint's.
inline awaitable<Response> answer_route(StatePtr state, Request request, std::string path) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    const auto method_text = request.method_string();
    const std::string method(method_text.data(), method_text.size());
    bool path_known = false;
    std::shared_ptr<const HttpRoute> route = state->routes.find(method, path, path_known);
    if (!route) {
        if (!path_known) co_return make_response(404, version, keep_alive, "Not Found\n", "text/plain");
        Response response = make_response(405, version, keep_alive, "Method Not Allowed\n", "text/plain");
        response.set(http::field::allow, state->routes.allowed_methods(path));
        co_return response;
    }
    HttpRequest view;
    view.method = method;
    view.target = std::string(request.target().data(), request.target().size());
    view.rest = HttpRouteRegistry::rest_of(route->path, path);
    view.path = std::move(path);
    view.body = std::move(request.body());
    for (const auto& field : request)
        view.headers.emplace_back(std::string(field.name_string().data(), field.name_string().size()),
                                  std::string(field.value().data(), field.value().size()));

    // On its own strand, like an MCP request; the payer context (if any)
    // wraps that strand and ends with the request.
    auto operation = run_route(state, std::move(route), std::move(view));
    auto on_strand = asio::co_spawn(asio::make_strand(state->io), std::move(operation), asio::use_awaitable);
    HttpResponse answered = co_await std::move(on_strand);
    Response response = make_response(answered.status, version, keep_alive, std::move(answered.body), answered.content_type);
    for (const auto& [name, value] : answered.headers) response.set(name, value);
    co_return response;
}

inline awaitable<Response> answer(StatePtr state, Request request) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    std::string_view target(request.target().data(), request.target().size());
    target = target.substr(0, target.find('?'));
    if (target != state->options.path) {
        if (state->routes.empty()) co_return make_response(404, version, keep_alive, "Not Found\n", "text/plain");
        std::string path(target);
        auto operation = answer_route(state, std::move(request), std::move(path));
        co_return co_await std::move(operation);
    }

    if (auto origin = header(request, "Origin")) {
        const auto& allowed = state->options.allowed_origins;
        if (std::find(allowed.begin(), allowed.end(), *origin) == allowed.end())
            co_return make_response(403, version, keep_alive,
                                    transport_error(jsonrpc::bad_request, "Forbidden: Origin not allowed"),
                                    "application/json");
    }

    if (request.method() == http::verb::delete_) {
        const Reply reply = state->endpoint.terminate(header(request, "Mcp-Session-Id"));
        co_return make_response(reply.status, version, keep_alive, reply.body, "application/json");
    }
    if (request.method() != http::verb::post) {
        Response response = make_response(405, version, keep_alive,
                                          transport_error(jsonrpc::bad_request, "Method not allowed."),
                                          "application/json");
        response.set(http::field::allow, "POST, DELETE");
        co_return response;
    }
    const std::string content_type = header(request, "Content-Type").value_or("");
    if (!iequals(media_type(content_type), "application/json"))
        co_return make_response(415, version, keep_alive,
                                transport_error(jsonrpc::bad_request,
                                                "Unsupported Media Type: Content-Type must be application/json"),
                                "application/json");
    if (!accepts_json(header(request, "Accept").value_or("")))
        co_return make_response(406, version, keep_alive,
                                transport_error(jsonrpc::bad_request, "Not Acceptable: the response is application/json"),
                                "application/json");

    // Each request on its own strand; the handler's payer context (if any)
    // wraps that strand and ends with the request.
    auto operation = state->endpoint.post(std::move(request.body()), header(request, "Mcp-Session-Id"),
                                          header(request, "MCP-Protocol-Version"));
    auto on_strand = asio::co_spawn(asio::make_strand(state->io), std::move(operation), asio::use_awaitable);
    const Reply reply = co_await std::move(on_strand);
    Response response = make_response(reply.status, version, keep_alive, reply.body, "application/json");
    if (reply.session_id) response.set("Mcp-Session-Id", *reply.session_id);
    co_return response;
}

/// Reads and discards what the client still sends (up to a bound) so that
/// closing does not reset the connection before it has read our answer.
inline awaitable<void> drain(std::shared_ptr<beast::tcp_stream> stream) {
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

inline awaitable<void> serve_connection(StatePtr state, std::shared_ptr<beast::tcp_stream> stream) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(state->options.max_body_bytes);
        stream->expires_after(state->options.idle_timeout);
        auto [error, read] = co_await http::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        (void)read;
        if (error == http::error::body_limit) {
            Response response = make_response(
                413, parser.get().version(), false,
                transport_error(jsonrpc::bad_request, "Payload Too Large: the body exceeds " +
                                                          std::to_string(state->options.max_body_bytes) + " bytes"),
                "application/json");
            stream->expires_after(std::chrono::seconds(10));
            auto [write_error, written] = co_await http::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
            (void)written;
            if (!write_error) co_await drain(stream);
            break;
        }
        if (error == http::error::header_limit) {
            Response response = make_response(431, 11, false, {}, "text/plain");
            auto [write_error, written] = co_await http::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
            (void)write_error;
            (void)written;
            break;
        }
        if (error) {
            const bool malformed = error.category() == http::make_error_code(http::error::end_of_stream).category() &&
                                   error != http::error::end_of_stream && error != http::error::partial_message;
            if (malformed) {
                Response response = make_response(400, 11, false, "Bad Request\n", "text/plain");
                auto [write_error, written] =
                    co_await http::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
                (void)write_error;
                (void)written;
            }
            break;
        }
        stream->expires_never();
        auto operation = answer(state, parser.release());
        Response response = co_await std::move(operation);
        const bool keep_alive = response.keep_alive();
        stream->expires_after(state->options.idle_timeout);
        auto [write_error, written] = co_await http::async_write(*stream, response, asio::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_error || !keep_alive) break;
    }
    beast::error_code ignored;
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream->close();
}

inline awaitable<void> run_connection(StatePtr state, std::shared_ptr<beast::tcp_stream> stream) {
    try {
        co_await serve_connection(state, stream);
    } catch (...) {
        // One connection's failure (e.g. bad_alloc) never ends the server.
    }
    std::lock_guard lock(state->mutex);
    state->connections.erase(stream);
}

inline awaitable<void> accept_loop(StatePtr state) {
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
        {
            std::lock_guard lock(state->mutex);
            if (state->stopped) {
                beast::error_code ignored;
                stream->socket().close(ignored);
                co_return;
            }
            state->connections.insert(stream);
        }
        auto executor = stream->get_executor();
        asio::co_spawn(executor, run_connection(state, stream), asio::detached);
    }
}

}  // namespace detail

/// An MCP server over Streamable HTTP (JSON responses).
///
///     boost::asio::io_context io;
///     x402::mcp::Server server(io, {.port = 0}, sessions);
///     server.tools().add(std::move(tool));
///     server.set_payment_gate(gate);            // for priced tools
///     server.http_routes().add(std::move(route)); // plain HTTP routes (http_route.hpp)
///     server.set_http_payment_gate(http_gate);  // for priced routes
///     auto endpoint = server.start();           // bound address and port
///     io.run();                                 // one or more threads
///
/// Register tools and the gate before start(). stop() (thread-safe) closes
/// the listener and every connection; io.run() then returns once the
/// requests in flight are done. The Server object may be destroyed after
/// stop(); its state lives until the last connection ends.
class Server {
public:
    Server(boost::asio::io_context& io, ServerOptions options, session::SessionPlugin sessions = {})
        : state_(std::make_shared<detail::ServerState>(io, std::move(options), std::move(sessions))) {}

    ToolRegistry& tools() noexcept { return state_->endpoint.tools(); }
    McpEndpoint& endpoint() noexcept { return state_->endpoint; }
    const ServerOptions& options() const noexcept { return state_->options; }
    void set_payment_gate(PaymentGate gate) { state_->endpoint.set_payment_gate(std::move(gate)); }
    /// Plain HTTP routes served next to the MCP endpoint (see http_route.hpp).
    HttpRouteRegistry& http_routes() noexcept { return state_->routes; }
    /// The gate for priced HTTP routes (x402: make_x402_http_gate); without
    /// one they answer 500 and their handlers never run. Set it before start().
    void set_http_payment_gate(HttpPaymentGate gate) { state_->http_gate = std::move(gate); }

    /// Binds, listens and starts accepting; returns the bound endpoint.
    /// Throws boost::system::system_error when binding fails, and
    /// std::invalid_argument for an address that is not an IP literal.
    boost::asio::ip::tcp::endpoint start() {
        namespace asio = boost::asio;
        boost::system::error_code error;
        const auto address = asio::ip::make_address(state_->options.address, error);
        if (error) throw std::invalid_argument("not an IP address: " + state_->options.address);
        const asio::ip::tcp::endpoint endpoint(address, state_->options.port);
        state_->endpoint.tools().freeze();
        state_->routes.freeze();
        auto& acceptor = state_->acceptor;
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
        const auto bound = acceptor.local_endpoint();
        asio::co_spawn(state_->accept_strand, detail::accept_loop(state_), asio::detached);
        return bound;
    }

    /// Stops accepting and closes every connection (requests in flight
    /// finish, their answers are lost). Thread-safe; idempotent.
    void stop() {
        namespace asio = boost::asio;
        std::set<std::shared_ptr<boost::beast::tcp_stream>> connections;
        {
            std::lock_guard lock(state_->mutex);
            state_->stopped = true;
            connections = state_->connections;
        }
        asio::post(state_->accept_strand, [state = state_] {
            boost::system::error_code ignored;
            state->acceptor.close(ignored);
        });
        for (const auto& stream : connections)
            asio::post(stream->get_executor(), [stream] {
                boost::system::error_code ignored;
                stream->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                stream->socket().close(ignored);
            });
    }

private:
    std::shared_ptr<detail::ServerState> state_;
};

}  // namespace x402::mcp
