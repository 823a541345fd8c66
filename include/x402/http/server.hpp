// An HTTP/1.1 server over Boost.Beast with a router (router.hpp): keep-alive,
// a request-size limit (413), an idle timeout, one strand per connection and
// one per request. It knows nothing of x402 or MCP; x402::mcp::Server serves
// the MCP endpoint and priced routes as routes of one of these.
#pragma once

#include <x402/http/detail/server.hpp>
#include <x402/http/message.hpp>
#include <x402/http/router.hpp>
#include <x402/http/server_options.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <mutex>
#include <vector>
#include <stdexcept>
#include <utility>

namespace x402::http {

/// An HTTP server.
///
///     boost::asio::io_context io;
///     x402::http::Server server(io, {.port = 0});
///     server.router().add(std::move(route));   // before start()
///     auto endpoint = server.start();          // bound address and port
///     io.run();                                // one or more threads
///
/// stop() (thread-safe) closes the listener and every connection; io.run()
/// then returns once the requests in flight are done. The Server object may
/// be destroyed after stop(); its state lives until the last connection ends.
class Server {
public:
    Server(boost::asio::io_context& io, ServerOptions options)
        : state_(std::make_shared<detail::ServerState>(io, std::move(options))) {}

    Router& router() noexcept { return state_->router; }
    /// The Host and Origin checks in force (their defaults depend on the
    /// bound address and port); meaningful once start() returned.
    const RequestPolicy& policy() const noexcept { return state_->policy; }
    const ServerOptions& options() const noexcept { return state_->options; }

    /// Binds, listens and starts accepting; returns the bound endpoint.
    /// Throws boost::system::system_error when binding fails, and
    /// std::invalid_argument for an address that is not an IP literal.
    boost::asio::ip::tcp::endpoint start() {
        namespace asio = boost::asio;
        boost::system::error_code error;
        const auto address = asio::ip::make_address(state_->options.address, error);
        if (error) throw std::invalid_argument("not an IP address: " + state_->options.address);
        const asio::ip::tcp::endpoint endpoint(address, state_->options.port);
        state_->router.freeze();
        auto& acceptor = state_->acceptor;
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
        const auto bound = acceptor.local_endpoint();
        state_->policy = RequestPolicy(state_->options, bound.address(), bound.port());
        asio::co_spawn(state_->accept_strand, detail::accept_loop(state_), asio::detached);
        return bound;
    }

    /// Stops accepting and closes every connection (requests in flight
    /// finish, their answers are lost). Thread-safe; idempotent.
    void stop() { close_connections(false); }

    /// The graceful form of stop: stops accepting, closes the connections
    /// that wait for a request, and lets each request being answered finish
    /// and send its answer (with Connection: close) before its connection
    /// closes. Wait for in_flight() and connections() to reach 0, then
    /// stop() what is left. Thread-safe.
    void drain() { close_connections(true); }

    /// Handlers running now (also those whose connection has gone).
    std::size_t in_flight() const noexcept { return state_->in_flight.load(); }
    /// What the server has done so far (counters only ever increase).
    const ServerMetrics& metrics() const noexcept { return state_->metrics; }
    /// Connections open now.
    std::size_t connections() const {
        std::lock_guard lock(state_->mutex);
        return state_->connections.size();
    }

private:
    void close_connections(bool idle_only) {
        namespace asio = boost::asio;
        std::vector<std::shared_ptr<boost::beast::tcp_stream>> closing;
        std::vector<std::shared_ptr<ResponseStream>> ending;
        {
            std::lock_guard lock(state_->mutex);
            state_->stopped = true;
            state_->draining = true;
            if (!idle_only) state_->closed = true;
            for (const auto& [stream, busy] : state_->connections)
                if (!idle_only || !busy) closing.push_back(stream);
            // A drain waits for answers being streamed, except those that
            // end only when their client leaves.
            for (const auto& body : state_->streams)
                if (!idle_only || body->options().ends_on_drain) ending.push_back(body);
        }
        for (const auto& body : ending) body->abandon();
        asio::post(state_->accept_strand, [state = state_] {
            boost::system::error_code ignored;
            state->acceptor.close(ignored);
        });
        for (const auto& stream : closing)
            asio::post(stream->get_executor(), [stream] {
                boost::system::error_code ignored;
                stream->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                stream->socket().close(ignored);
            });
    }

    std::shared_ptr<detail::ServerState> state_;
};

}  // namespace x402::http
