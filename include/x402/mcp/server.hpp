// The MCP Streamable HTTP transport over Boost.Beast: POST /mcp answers JSON
// (never SSE), GET /mcp is 405, DELETE /mcp ends a session. Keep-alive, a
// request-size limit (413), Origin checking (403), one strand per connection
// and per request. Plain HTTP routes (http_route.hpp) are served next to it,
// priced ones through the same PaymentGate type as priced tools.
#pragma once

#include <x402/mcp/detail/server.hpp>
#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/http_route.hpp>
#include <x402/mcp/server_options.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

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
    /// The gate for priced HTTP routes: the same type as for tools, usually
    /// the same gate (x402: make_x402_gate). Without one they answer 500 and
    /// their handlers never run. Set it before start().
    void set_http_payment_gate(PaymentGate gate) { state_->http_gate = std::move(gate); }

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
