// The machinery of x402::mcp::Server (server.hpp): the MCP endpoint as one
// route of an x402::http server (its transport checks, then McpEndpoint), and
// plain HTTP routes through the payment gate. Not part of the public API.
#pragma once

#include <x402/http/message.hpp>
#include <x402/http/router.hpp>
#include <x402/mcp/detail/gate_call.hpp>
#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/http_route.hpp>
#include <x402/mcp/server_options.hpp>

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace x402::mcp::detail {

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

/// Whether an Accept value names text/event-stream itself (a wildcard does
/// not count: only a client that says so is sent a stream).
inline bool accepts_event_stream(std::string_view accept) {
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        if (iequals(media_type(accept.substr(0, comma)), "text/event-stream")) return true;
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    return false;
}

/// The HTTP form of an endpoint's reply: JSON, or an SSE stream.
inline HttpResponse to_http(Reply reply) {
    HttpResponse response;
    response.status = reply.status;
    response.body = std::move(reply.body);
    if (reply.stream) {
        response.content_type = "text/event-stream";
        response.headers.emplace_back("Cache-Control", "no-cache");
        response.stream = std::move(reply.stream);
    }
    if (reply.session_id) response.headers.emplace_back("Mcp-Session-Id", *reply.session_id);
    return response;
}

/// A JSON-RPC error without id, as the transport answers it.
inline HttpResponse transport_error(unsigned status, int code, std::string message) {
    HttpResponse response;
    response.status = status;
    response.body = payment::dump_json(jsonrpc::error_response(nullptr, code, std::move(message)));
    return response;
}

/// What the routes of one MCP server share. The http::Server is not in here:
/// its routes hold this, so it holding them back would be a cycle.
struct ServerState {
    explicit ServerState(ServerOptions server_options)
        : options(std::move(server_options)),
          endpoint(options.endpoint),
          routes(options.path) {}

    const ServerOptions options;
    McpEndpoint endpoint;
    HttpRouteRegistry routes;
    PaymentGate http_gate;
};

using StatePtr = std::shared_ptr<ServerState>;

/// The MCP endpoint's route (Host and Origin were checked by the HTTP
/// server, for every route): DELETE ends a session, GET opens its stream
/// (text/event-stream only: 406), POST takes JSON (415) and answers JSON
/// (406) or, to a client that accepts it, an SSE stream; other methods 405.
inline awaitable<HttpResponse> answer_mcp(StatePtr state, HttpRequest request) {
    if (request.method == "DELETE") co_return to_http(state->endpoint.terminate(request.header("Mcp-Session-Id")));
    if (request.method == "GET") {
        if (!accepts_event_stream(request.header("Accept").value_or("")))
            co_return transport_error(406, jsonrpc::bad_request, "Not Acceptable: the GET stream is text/event-stream");
        co_return to_http(state->endpoint.open_stream(request.header("Mcp-Session-Id"), request.header("MCP-Protocol-Version")));
    }
    if (request.method != "POST") {
        HttpResponse response = transport_error(405, jsonrpc::bad_request, "Method not allowed.");
        response.headers.emplace_back("Allow", "GET, POST, DELETE");
        co_return response;
    }
    if (!iequals(media_type(request.header("Content-Type").value_or("")), "application/json"))
        co_return transport_error(415, jsonrpc::bad_request, "Unsupported Media Type: Content-Type must be application/json");
    if (!accepts_json(request.header("Accept").value_or("")))
        co_return transport_error(406, jsonrpc::bad_request, "Not Acceptable: the response is application/json");

    const bool event_stream = accepts_event_stream(request.header("Accept").value_or(""));
    // The payment headers pay for the body's one priced call (McpEndpoint::post).
    payment::PaymentInput header_payment =
        payment::PaymentInput::from_headers([&request](std::string_view name) { return request.header(name); });
    auto operation = state->endpoint.post(std::move(request.body), request.header("Mcp-Session-Id"),
                                          request.header("MCP-Protocol-Version"), event_stream, state,
                                          std::move(header_payment));
    Reply reply = co_await std::move(operation);
    co_return to_http(std::move(reply));
}

inline HttpResponse route_error(unsigned status, std::string message) {
    return json_response(json{{"error", std::move(message)}}, status);
}

/// The HTTP answer of one route call: the handler's response (with the
/// receipt header), 402 with the PaymentRequired, or 500.
inline HttpResponse render_route(GateCall<HttpResponse> call) {
    if (call.failure) return route_error(500, "Error: " + *call.failure);
    if (call.no_gate) return route_error(500, "This route requires payment, and this server has no payment verifier");
    if (call.decision.refused()) {
        HttpResponse refused;
        // A refusal whose payment settled (session_commit_failed) is not a
        // "pay again": 500, with the receipt.
        refused.status = call.decision.receipt_header ? 500 : call.decision.http_status;
        refused.content_type = "application/json";
        refused.body = payment::dump_json(call.decision.payment_required);
        if (auto& header = call.decision.receipt_header) refused.headers.emplace_back(header->name, header->value);
        else if (auto& asked = call.decision.refusal_header) refused.headers.emplace_back(asked->name, asked->value);
        return refused;
    }
    HttpResponse response = std::move(*call.result);
    if (auto& header = call.decision.receipt_header) response.headers.emplace_back(header->name, header->value);
    return response;
}

/// One plain HTTP route: free with no session, priced through the gate.
inline awaitable<HttpResponse> answer_route(StatePtr state, std::shared_ptr<const HttpRoute> route,
                                            std::shared_ptr<const Price> price, HttpRequest request) {
    if (route->check)
        if (std::optional<HttpResponse> refused = route->check(request)) co_return std::move(*refused);
    auto shared_request = std::make_shared<const HttpRequest>(std::move(request));
    std::function<awaitable<HttpResponse>()> handler = [route, shared_request]() { return route->handler(*shared_request); };
    const payment::PaymentInput::HeaderLookup lookup = [&request = *shared_request](std::string_view name) {
        return request.header(name);
    };
    // The method, the whole target (path and query) and the body, as sent
    // (any bytes; neither method nor target holds a space or a newline):
    // what a retry with a payment identifier must repeat.
    std::string fingerprint = shared_request->method + ' ' + shared_request->target + '\n' + shared_request->body;
    auto op = call_through_gate<HttpResponse>(state->http_gate, route->path, std::move(price),
                                              payment::PaymentInput::from_headers(lookup), std::move(handler),
                                              std::move(fingerprint));
    GateCall<HttpResponse> call = co_await std::move(op);
    co_return render_route(std::move(call));
}

/// Adds the MCP endpoint and every plain route to `router`.
inline void add_routes(const StatePtr& state, http::Router& router) {
    router.add(http::Route{std::string(http::any_method), state->options.path,
                           [state](HttpRequest request) { return answer_mcp(state, std::move(request)); }});
    const auto& routes = state->routes.routes();
    for (std::size_t i = 0; i < routes.size(); ++i)
        router.add(http::Route{routes[i]->method, routes[i]->path,
                               [state, route = routes[i], price = state->routes.price(i)](HttpRequest request) {
                                   return answer_route(state, route, price, std::move(request));
                               }});
}

}  // namespace x402::mcp::detail
