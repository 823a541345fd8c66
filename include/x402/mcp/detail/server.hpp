// The machinery of x402::mcp::Server (server.hpp): request checks, the
// answer to one request (the MCP endpoint or a plain HTTP route), the
// connection loop and the accept loop. Not part of the public API.
#pragma once

#include <x402/mcp/detail/gate_call.hpp>
#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/http_route.hpp>
#include <x402/mcp/server_options.hpp>

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
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::mcp {

namespace detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

using boost::beast::iequals;

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
    PaymentGate http_gate;
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

/// The HTTP answer of one route call: the handler's response (with the
/// receipt header), 402 with the PaymentRequired, or 500.
inline HttpResponse render_route(GateCall<HttpResponse> call) {
    if (call.failure) return route_error(500, "Error: " + *call.failure);
    if (call.no_gate) return route_error(500, "This route requires payment, and this server has no payment verifier");
    if (call.decision.refused()) {
        HttpResponse refused;
        refused.status = 402;
        refused.content_type = "application/json";
        refused.body = payment::dump_json(call.decision.payment_required);
        if (auto& header = call.decision.refusal_header) refused.headers.emplace_back(header->name, header->value);
        return refused;
    }
    HttpResponse response = std::move(*call.result);
    if (auto& header = call.decision.receipt_header) response.headers.emplace_back(header->name, header->value);
    return response;
}

/// Runs one plain HTTP route: free with no session, priced through the gate.
inline awaitable<HttpResponse> run_route(StatePtr state, std::shared_ptr<const HttpRoute> route,
                                         std::shared_ptr<const Price> price, HttpRequest request) {
    auto shared_request = std::make_shared<const HttpRequest>(std::move(request));
    std::function<awaitable<HttpResponse>()> handler = [route, shared_request]() { return route->handler(*shared_request); };
    const payment::PaymentInput::HeaderLookup lookup = [&request = *shared_request](std::string_view name) {
        return request.header(name);
    };
    auto op = call_through_gate<HttpResponse>(state->http_gate, route->path, std::move(price),
                                              payment::PaymentInput::from_headers(lookup), std::move(handler));
    GateCall<HttpResponse> call = co_await std::move(op);
    co_return render_route(std::move(call));
}

/// Answers a request for a path other than the MCP endpoint's.
inline awaitable<Response> answer_route(StatePtr state, Request request, std::string path) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    const auto method_text = request.method_string();
    const std::string method(method_text.data(), method_text.size());
    bool path_known = false;
    auto [route, price] = state->routes.find_priced(method, path, path_known);
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
    auto operation = run_route(state, std::move(route), std::move(price), std::move(view));
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

}  // namespace x402::mcp
