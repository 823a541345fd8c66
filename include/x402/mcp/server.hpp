// The MCP Streamable HTTP transport: POST /mcp answers JSON, or an SSE
// stream when its handler sends messages first (and the client accepts
// text/event-stream); GET /mcp opens the session's stream; DELETE /mcp ends a session; Host (421) and Origin (403)
// are checked on every route by the HTTP server (DNS-rebinding protection). The
// MCP endpoint is one route of an x402::http::Server, which brings keep-alive,
// the request-size limit (413) and one strand per connection and per request.
// Plain HTTP routes (http_route.hpp) are served next to it, priced ones through
// the same PaymentGate type as priced tools.
#pragma once

#include <x402/mcp/detail/server.hpp>
#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/http_route.hpp>
#include <x402/mcp/server_options.hpp>

#include <x402/http/server.hpp>
#include <x402/payment/headers.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <utility>

namespace x402::mcp {

/// An MCP server over Streamable HTTP (JSON responses).
///
///     boost::asio::io_context io;
///     x402::mcp::Server server(io, {.port = 0});
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
    Server(boost::asio::io_context& io, ServerOptions options)
        : http_(io, http_options(options)), state_(std::make_shared<detail::ServerState>(std::move(options))) {}

    ToolRegistry& tools() noexcept { return state_->endpoint.tools(); }
    McpEndpoint& endpoint() noexcept { return state_->endpoint; }
    const ServerOptions& options() const noexcept { return state_->options; }
    void set_payment_gate(PaymentGate gate) { state_->endpoint.set_payment_gate(std::move(gate)); }
    /// Plain HTTP routes served next to the MCP endpoint (see http_route.hpp).
    HttpRouteRegistry& http_routes() noexcept { return state_->routes; }
    /// The gate for priced HTTP routes: the same type as for tools, usually
    /// the same gate (x402: make_x402_gate). Without one they answer 500 and
    /// their handlers never run. Set it before start().
    void set_http_payment_gate(PaymentGate gate) { state_->http_gate = std::move(gate); }

    /// Binds, listens and starts accepting; returns the bound endpoint.
    /// Throws boost::system::system_error when binding fails, and
    /// std::invalid_argument for an address that is not an IP literal.
    boost::asio::ip::tcp::endpoint start() {
        state_->endpoint.tools().freeze();
        state_->endpoint.resources().freeze();
        state_->endpoint.prompts().freeze();
        state_->routes.freeze();
        detail::add_routes(state_, http_.router());
        return http_.start();
    }

    /// Stops accepting and closes every connection (requests in flight
    /// finish, their answers are lost). Thread-safe; idempotent.
    void stop() { http_.stop(); }
    /// Graceful stop: see x402::http::Server::drain. A paid call being
    /// answered finishes verify, handler, settle and commit; a handler
    /// waiting on its client (elicitation, sampling) gets RequestFailed at
    /// once, since the answer could no longer reach the server.
    void drain() {
        http_.drain();
        state_->endpoint.stop_client_requests();  // their answers could not reach us now
    }
    /// Handlers running now: those of requests being answered, and those
    /// whose reply became a stream (their client may have gone).
    std::size_t in_flight() const noexcept { return http_.in_flight() + state_->endpoint.streaming_handlers(); }
    std::size_t connections() const { return http_.connections(); }
    /// MCP sessions open now.
    std::size_t session_count() const { return state_->endpoint.session_count(); }
    /// The HTTP server's counters (x402/http/server_metrics.hpp).
    const http::ServerMetrics& http_metrics() const noexcept { return http_.metrics(); }

private:
    static http::ServerOptions http_options(const ServerOptions& options) {
        http::ServerOptions out;
        out.address = options.address;
        out.port = options.port;
        out.max_body_bytes = options.max_body_bytes;
        out.idle_timeout = options.idle_timeout;
        out.header_timeout = options.header_timeout;
        out.body_timeout = options.body_timeout;
        out.write_timeout = options.write_timeout;
        out.max_connections = options.max_connections;
        out.server_name = options.endpoint.server_name;
        out.allowed_hosts = options.allowed_hosts;
        out.allowed_origins = options.allowed_origins;
        // What the endpoint and the payment gate read as text.
        out.text_headers = {"Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version",
                            std::string(payment::header::x_payment), std::string(payment::header::payment_signature)};
        // An MCP client reads a refused oversize POST as a JSON-RPC error.
        out.render_error = [](unsigned status, std::string reason) {
            if (status == 413 || status == 503)
                return detail::transport_error(status, jsonrpc::bad_request, std::move(reason));
            return http::Response::text(status, std::move(reason) + "\n");
        };
        return out;
    }

    http::Server http_;
    std::shared_ptr<detail::ServerState> state_;
};

}  // namespace x402::mcp
