// What a handler can say to its client while it runs: log messages,
// progress, and requests of its own (sampling, elicitation), whose answers
// come back to the waiting handler. A tool handler that takes a second
// parameter gets one:
//
//     tool.handler = [](json arguments, RequestContext call) { return ask(std::move(arguments), call); };
//
//     awaitable<ToolResult> ask(json arguments, RequestContext call) {
//         call.log(LogLevel::info, "asking the user");
//         call.progress(0, 2);
//         ElicitResult reply = co_await call.elicit("Your name?", schema);
//         call.progress(2, 2);
//         co_return ToolResult::text(reply.content.dump());
//     }
//
// Messages go out on the request's own answer: the first one turns it from
// JSON into an SSE stream (the answer then comes last on it), which needs a
// client that accepts text/event-stream. A paid tool's handler keeps its
// payer's context across these awaits: answers resume it on its own strand.
#pragma once

#include <x402/mcp/detail/exchange.hpp>
#include <x402/mcp/jsonrpc.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

/// A server-to-client request the client answered with a JSON-RPC error
/// (e.g. the user refused sampling).
class ClientError : public std::runtime_error {
public:
    ClientError(int code, std::string message, json data)
        : std::runtime_error("the client answered error " + std::to_string(code) + ": " + message), code_(code),
          data_(std::move(data)) {}
    int code() const noexcept { return code_; }
    const json& data() const noexcept { return data_; }

private:
    int code_;
    json data_;
};

/// A server-to-client request that got no answer: the client cannot take
/// one here (no event stream, no such capability), went away, or did not
/// answer in time. Nothing was answered, so nothing may be assumed.
class RequestFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The answer to `elicitation/create`.
struct ElicitResult {
    /// "accept", "decline" or "cancel".
    std::string action;
    /// What the user entered (an object) when accepted; null otherwise.
    json content;
};

/// The MCP request a handler is answering. Cheap to copy; copies share the
/// request. A default-constructed one belongs to no request: it sends
/// nothing and its requests fail.
class RequestContext {
public:
    RequestContext() = default;
    explicit RequestContext(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {}

    /// `params._meta.progressToken` of the request; null when it sent none.
    const json& progress_token() const noexcept {
        static const json none;
        return exchange_ ? exchange_->progress_token() : none;
    }

    /// The capabilities the client declared at initialize (an object).
    const json& client_capabilities() const noexcept {
        static const json none = json::object();
        return exchange_ ? exchange_->session()->client_capabilities() : none;
    }

    /// Whether messages can still reach the client on this request.
    bool can_stream() const noexcept { return exchange_ && exchange_->can_stream(); }

    /// Sends `notifications/message` when `level` is at or above the level
    /// the client set with logging/setLevel (info until it sets one). False
    /// when not sent (below the level, or no stream). `data` is any JSON.
    bool log(LogLevel level, json data, std::string logger = {}) const {
        if (!exchange_) return false;
        if (level < exchange_->session()->log_level().value_or(LogLevel::info)) return false;
        json params = {{"level", log_level_name(level)}, {"data", std::move(data)}};
        if (!logger.empty()) params["logger"] = std::move(logger);
        return exchange_->send(notification("notifications/message", std::move(params)));
    }

    /// Sends `notifications/progress` for the request's progress token;
    /// false when the request has none (the client asked for no progress)
    /// or it cannot be sent. `progress` should increase with each call.
    bool progress(double progress, std::optional<double> total = std::nullopt, std::string message = {}) const {
        if (!exchange_ || exchange_->progress_token().is_null()) return false;
        json params = {{"progressToken", exchange_->progress_token()}, {"progress", progress}};
        if (total) params["total"] = *total;
        if (!message.empty()) params["message"] = std::move(message);
        return exchange_->send(notification("notifications/progress", std::move(params)));
    }

    /// Sends the request `method` to the client and waits for its answer:
    /// the `result`, or throws ClientError (the client answered an error)
    /// or RequestFailed (no answer: no stream, the client went away, the
    /// MCP session ended, or EndpointOptions::client_request_timeout passed,
    /// after which the server tells the client it gave up). Resumes on the
    /// caller's executor.
    boost::asio::awaitable<json> request(std::string method, json params) const {
        return send_request(exchange_, std::move(method), std::move(params));
    }

    /// `sampling/createMessage`: asks the client's model. `params` as the
    /// MCP schema (messages, maxTokens, ...). Throws RequestFailed when the
    /// client declared no `sampling` capability.
    boost::asio::awaitable<json> create_message(json params) const {
        require_capability("sampling");
        return request("sampling/createMessage", std::move(params));
    }

    /// `elicitation/create`: asks the user for input of `requested_schema`
    /// (a flat object schema of primitive properties, which may carry
    /// `default`s and the enum forms of 2025-11-25). Throws RequestFailed
    /// when the client declared no `elicitation` capability, and
    /// std::runtime_error for an answer without a valid `action`.
    boost::asio::awaitable<ElicitResult> elicit(std::string message, json requested_schema) const {
        require_capability("elicitation");
        return elicit_with(exchange_, std::move(message), std::move(requested_schema));
    }

private:
    static json notification(const char* method, json params) {
        return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
    }

    void require_capability(const char* name) const {
        const json& capabilities = client_capabilities();
        if (!capabilities.is_object() || !capabilities.contains(name))
            throw RequestFailed(std::string("the client did not declare the ") + name + " capability");
    }

    static boost::asio::awaitable<json> send_request(std::shared_ptr<detail::Exchange> exchange, std::string method, json params) {
        namespace asio = boost::asio;
        if (!exchange || !exchange->can_stream())
            throw RequestFailed("the client takes no event stream on this request, so it cannot be asked " + method);
        auto pending = std::make_shared<detail::PendingRequest>();
        pending->timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
        pending->timer->expires_after(exchange->request_timeout());
        const std::optional<std::string> id = exchange->session()->add_pending(pending);
        if (!id)
            throw RequestFailed("cannot ask " + method +
                                ": the MCP session has ended, the server is draining, or "
                                "max_pending_client_requests answers are awaited");
        exchange->add_own_pending(*id, pending);
        struct Forget {
            detail::Exchange& exchange;
            const std::string& id;
            ~Forget() {
                exchange.session()->forget_pending(id);
                exchange.forget_own_pending(id);
            }
        } forget{*exchange, *id};
        json message = {{"jsonrpc", "2.0"}, {"id", *id}, {"method", method}, {"params", std::move(params)}};
        if (!exchange->send(message)) throw RequestFailed("the request's stream has ended or is full: cannot ask " + method);

        co_await pending->timer->async_wait(asio::as_tuple(asio::use_awaitable));
        std::optional<json> answer;
        std::optional<std::string> failure;
        {
            std::lock_guard lock(pending->mutex);
            answer = std::move(pending->answer);
            failure = std::move(pending->failure);
        }
        if (!answer && !failure && pending->settle(std::nullopt, "timed out")) {
            // Nobody answered in time: say so, so that the client stops asking its user.
            exchange->send({{"jsonrpc", "2.0"},
                            {"method", "notifications/cancelled"},
                            {"params", {{"requestId", *id}, {"reason", "the server stopped waiting for the answer"}}}});
            throw RequestFailed("the client did not answer " + method + " within " +
                                std::to_string(exchange->request_timeout().count()) + " ms");
        }
        if (!answer && !failure) {  // settled between the wake and the check
            std::lock_guard lock(pending->mutex);
            answer = std::move(pending->answer);
            failure = std::move(pending->failure);
        }
        if (failure) throw RequestFailed("no answer to " + method + ": " + *failure);
        const json& response = *answer;
        if (const auto error = response.find("error"); error != response.end()) {
            const int code = error->is_object() && error->value("code", json()).is_number_integer()
                                 ? error->value("code", 0)
                                 : jsonrpc::internal_error;
            std::string text = error->is_object() && error->value("message", json()).is_string()
                                   ? error->value("message", std::string())
                                   : std::string("(no message)");
            throw ClientError(code, std::move(text), error->is_object() ? error->value("data", json()) : json());
        }
        co_return response.value("result", json::object());
    }

    static boost::asio::awaitable<ElicitResult> elicit_with(std::shared_ptr<detail::Exchange> exchange, std::string message,
                                               json requested_schema) {
        json params = {{"message", std::move(message)}, {"requestedSchema", std::move(requested_schema)}};
        auto op = send_request(std::move(exchange), "elicitation/create", std::move(params));
        json result = co_await std::move(op);
        ElicitResult out;
        const json action = result.is_object() ? result.value("action", json()) : json();
        if (action != "accept" && action != "decline" && action != "cancel")
            throw std::runtime_error("the client answered elicitation/create without a valid action");
        out.action = action.get<std::string>();
        if (out.action == "accept") out.content = result.value("content", json::object());
        co_return out;
    }

    std::shared_ptr<detail::Exchange> exchange_;
};

}  // namespace x402::mcp
