// The MCP endpoint without its HTTP socket: what one POST / DELETE of the
// Streamable HTTP transport answers (status, JSON body, Mcp-Session-Id).
// The Beast server (server.hpp) reads requests and writes these replies;
// tests drive it directly.
#pragma once

#include <x402/mcp/detail/exchange.hpp>
#include <x402/mcp/detail/features.hpp>
#include <x402/mcp/detail/gate_call.hpp>
#include <x402/mcp/detail/schema.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/payment_gate.hpp>
#include <x402/mcp/prompt.hpp>
#include <x402/mcp/protocol.hpp>
#include <x402/mcp/request_context.hpp>
#include <x402/mcp/resource.hpp>
#include <x402/mcp/tool.hpp>
#include <x402/session/plugin.hpp>

#include <x402/http/response_stream.hpp>
#include <x402/http/server_metrics.hpp>  // RunningHandler

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <atomic>
#include <list>
#include <vector>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace x402::mcp {

/// Options of the MCP layer.
struct EndpointOptions {
    /// `serverInfo.name` in the initialize result.
    std::string server_name = "x402-session-mcp";
    /// `serverInfo.version`.
    std::string server_version = "0.1.0";
    /// `instructions` in the initialize result; empty for none.
    std::string instructions;
    /// Most MCP sessions kept. Beyond it a new one replaces the oldest
    /// session that has made no paid call (its client gets 404 and
    /// initializes again); a session that paid is never dropped for a new
    /// one, and when every session has paid, `initialize` is answered 503.
    std::size_t max_sessions = 10000;
    /// A session that paid is kept while it is used: once idle this long,
    /// a new session may replace it when the table is full (clients that
    /// never send DELETE would otherwise fill it for good).
    std::chrono::milliseconds paid_session_idle = std::chrono::minutes(30);
    /// Where the endpoint reads the time (session idleness); empty:
    /// std::chrono::steady_clock. Tests inject a manual clock.
    std::function<std::chrono::steady_clock::time_point()> clock;
    /// Most messages in one JSON-RPC batch (2025-03-26 only).
    std::size_t max_batch = 100;
    /// Most bytes of a batch's answers the endpoint runs requests for: once
    /// the answers so far reach it, each later request of the batch is
    /// answered -32000 without being run (and consumes no payment), so a
    /// batch holds at most this plus one answer.
    std::size_t max_batch_answer_bytes = 4 * 1024 * 1024;
    /// Deepest nesting of arrays and objects accepted in a body; deeper is
    /// answered -32600 before parsing (copying such JSON recurses).
    std::size_t max_json_depth = 64;
    /// How long a handler waits for the client's answer to a request of its
    /// own (sampling, elicitation) before RequestFailed; the client is then
    /// sent notifications/cancelled.
    std::chrono::milliseconds client_request_timeout = std::chrono::minutes(1);
    /// Most server-to-client requests one MCP session waits on at once.
    std::size_t max_pending_client_requests = 16;
    /// Most bytes of messages queued on one SSE stream and not yet read by
    /// the client: beyond them log and progress messages are dropped and
    /// requests fail (the answer itself is always queued).
    std::size_t max_stream_buffer_bytes = 1024 * 1024;
    /// A quiet SSE stream gets a comment this often: proxies keep it open,
    /// and writing it is how the server finds a client that has gone.
    std::chrono::milliseconds stream_heartbeat = std::chrono::seconds(15);
    /// Most GET streams open at once, over all sessions; beyond it a GET is
    /// answered 503. Each holds a connection with no idle deadline for as
    /// long as its client stays, and sessions cost nothing to open: without
    /// this, one client could hold every connection the server takes.
    std::size_t max_get_streams = 256;
    /// Most resource URIs one MCP session may be subscribed to at once
    /// (`resources/subscribe`), and most bytes of those URIs together (a
    /// template URI may be as long as a body); beyond either, -32602.
    std::size_t max_subscriptions = 1000;
    std::size_t max_subscription_bytes = 64 * 1024;
    /// Most bytes of subscribed URIs over all sessions together; beyond it,
    /// -32000. Sessions cost nothing, so without it one client could make
    /// the server hold max_sessions * max_subscription_bytes (640 MiB).
    std::size_t max_total_subscription_bytes = 16 * 1024 * 1024;
};

/// The HTTP answer to one request: status, JSON body (empty: none) and the
/// Mcp-Session-Id to send (set on a successful initialize); or, when
/// `stream` is set, an SSE stream (text/event-stream) instead of the body.
struct Reply {
    unsigned status = 200;
    std::string body;
    std::optional<std::string> session_id;
    std::shared_ptr<http::ResponseStream> stream;
};

/// The MCP methods, sessions and tool calls of one server.
///
///     McpEndpoint mcp;
///     mcp.tools().add(std::move(tool));
///     Reply reply = co_await mcp.post(body, session_id_header, protocol_version_header);
///
/// Thread-safe once its tools are registered (the first post freezes them).
/// Must outlive the awaitables `post` returns.
class McpEndpoint {
public:
    explicit McpEndpoint(EndpointOptions options = {}) : options_(std::move(options)) {}

    McpEndpoint(const McpEndpoint&) = delete;
    McpEndpoint& operator=(const McpEndpoint&) = delete;

    ToolRegistry& tools() noexcept { return tools_; }
    const ToolRegistry& tools() const noexcept { return tools_; }
    const EndpointOptions& options() const noexcept { return options_; }

    /// Resources and resource templates (resource.hpp); register before serving.
    ResourceRegistry& resources() noexcept { return resources_; }
    const ResourceRegistry& resources() const noexcept { return resources_; }
    /// Prompts (prompt.hpp); register before serving.
    PromptRegistry& prompts() noexcept { return prompts_; }
    const PromptRegistry& prompts() const noexcept { return prompts_; }

    /// The ids of the MCP sessions subscribed to `uri` (`resources/subscribe`),
    /// sorted: whom a `notifications/resources/updated` for it goes to.
    /// Thread-safe.
    std::vector<std::string> subscribers(const std::string& uri) const {
        std::vector<std::string> out;
        std::lock_guard lock(mutex_);
        for (const auto& [id, session] : sessions_by_id_)
            if (session.subscriptions.count(uri) != 0) out.push_back(id);
        std::sort(out.begin(), out.end());
        return out;
    }

    /// Tells every session subscribed to `uri` that it changed:
    /// `notifications/resources/updated` on each one's GET stream. Returns
    /// how many got it (a subscriber with no stream open, or that reads too
    /// slowly, misses it; it reads the resource again when it reconnects).
    std::size_t resource_updated(const std::string& uri) {
        const json notification = {
            {"jsonrpc", "2.0"}, {"method", "notifications/resources/updated"}, {"params", {{"uri", uri}}}};
        std::size_t sent = 0;
        for (const std::string& session_id : subscribers(uri)) sent += notify_session(session_id, notification);
        return sent;
    }

    /// The gate for priced tools (the same type serves priced HTTP routes);
    /// without one, priced tools answer a tool error and their handlers never
    /// run. Set it before serving.
    void set_payment_gate(PaymentGate gate) { gate_ = std::move(gate); }
    bool has_payment_gate() const noexcept { return static_cast<bool>(gate_); }

    /// Answers one POST body. `session_id` and `protocol_version` are the
    /// Mcp-Session-Id and MCP-Protocol-Version headers, if sent.
    /// `event_stream`: the client accepts text/event-stream, so a request
    /// whose handler sends messages before its answer is answered as an SSE
    /// stream; its handler may then outlive this awaitable, holding
    /// `keep_alive` (what the endpoint lives in) until it is done.
    /// `header_payment`: the POST's PAYMENT-SIGNATURE / X-PAYMENT headers
    /// (PaymentInput::from_headers), which pay for the one priced call
    /// (tools/call, resources/read, prompts/get) of the body. A body that is
    /// not exactly one priced call (a batch with more or fewer, tools/list,
    /// a free tool), or whose priced call also carries
    /// `params._meta["x402/payment"]`, is answered 400 -32600 and nothing in
    /// it runs.
    awaitable<Reply> post(std::string body, std::optional<std::string> session_id,
                          std::optional<std::string> protocol_version, bool event_stream = false,
                          std::shared_ptr<const void> keep_alive = nullptr,
                          payment::PaymentInput header_payment = {}) {
        tools_.freeze();
        resources_.freeze();
        prompts_.freeze();
        if (detail::json_depth(body) > options_.max_json_depth)
            co_return error_reply(400, nullptr, jsonrpc::invalid_request,
                                  "Invalid Request: JSON nested deeper than " +
                                      std::to_string(options_.max_json_depth) + " levels");
        json message = json::parse(body, nullptr, false);
        if (message.is_discarded())
            co_return error_reply(400, nullptr, jsonrpc::parse_error, "Parse error: Invalid JSON");

        const bool batch = message.is_array();
        const bool initialize = !batch && message.is_object() && message.contains("id") &&
                                message.value("method", json()) == "initialize";
        // Which message the payment headers pay for (checked before anything runs).
        std::size_t paid_index = 0;
        if (!header_payment.empty()) {
            const std::optional<json> refusal = header_payment_refusal(message, paid_index);
            if (refusal) co_return error_reply(400, refusal->at("id"), jsonrpc::invalid_request,
                                               refusal->at("message").get<std::string>());
        }
        if (initialize) {
            json answer = initialize_response(message);
            Reply reply = ok(payment::dump_json(answer));
            if (answer.contains("result")) {
                const json& params = message.value("params", json::object());
                json capabilities = params.is_object() ? params.value("capabilities", json::object()) : json::object();
                reply.session_id = open_session(answer["result"]["protocolVersion"], std::move(capabilities));
                if (!reply.session_id)
                    co_return error_reply(503, message["id"], jsonrpc::server_busy,
                                          "Service Unavailable: the server holds its most MCP sessions (" +
                                              std::to_string(options_.max_sessions) +
                                              "), all of paying clients in use; try again later");
            }
            else if (answer["error"]["code"] == jsonrpc::invalid_request) reply.status = 400;
            co_return reply;
        }

        if (protocol_version && !is_supported_protocol_version(*protocol_version))
            co_return error_reply(400, nullptr, jsonrpc::bad_request,
                                  "Bad Request: Unsupported protocol version: " + *protocol_version +
                                      " (supported versions: " + supported_list() + ")");
        if (!session_id)
            co_return error_reply(400, nullptr, jsonrpc::bad_request,
                                  "Bad Request: Mcp-Session-Id header is required");
        const std::optional<SessionRef> found = find_session(*session_id);
        if (!found) co_return error_reply(404, nullptr, jsonrpc::session_not_found, "Session not found");
        const std::string& version = found->protocol_version;

        if (!batch) {
            const jsonrpc::Message parsed = jsonrpc::classify(message);
            if (parsed.kind == jsonrpc::Message::Kind::invalid)
                co_return error_reply(400, parsed.id, jsonrpc::invalid_request, "Invalid Request: " + parsed.problem);
            if (parsed.kind != jsonrpc::Message::Kind::request) {
                notify(*session_id, *found, parsed, message);
                co_return accepted();
            }
            if (!event_stream) {
                auto exchange = make_exchange(found->channel, parsed, false);
                auto op = dispatch(parsed, version, *session_id, RequestContext(exchange), std::move(header_payment));
                json answer = co_await std::move(op);
                co_return ok(payment::dump_json(answer));
            }
            // The handler runs on: its first message before the answer
            // turns the reply into a stream it goes on writing to.
            auto exchange = make_exchange(found->channel, parsed, true);
            detail::Exchange::watch(exchange);
            boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                                  run_exchange(this, exchange, parsed, version, *session_id, std::move(keep_alive),
                                               std::move(header_payment)),
                                  boost::asio::detached);
            std::optional<json> answer = co_await exchange->decided();
            if (answer) co_return ok(payment::dump_json(*answer));
            Reply reply;
            reply.stream = exchange->stream();
            co_return reply;
        }

        if (!allows_batches(version))
            co_return error_reply(400, nullptr, jsonrpc::invalid_request,
                                  "Invalid Request: batch requests are not supported in protocol version " + version);
        if (message.empty())
            co_return error_reply(400, nullptr, jsonrpc::invalid_request, "Invalid Request: empty batch");
        if (message.size() > options_.max_batch)
            co_return error_reply(400, nullptr, jsonrpc::invalid_request,
                                  "Invalid Request: a batch must not exceed " + std::to_string(options_.max_batch) +
                                      " messages");
        // The answers, dumped as they come so that their bytes are counted.
        std::string answers = "[";
        auto append = [&answers](const json& answer) {
            if (answers.size() > 1) answers.push_back(',');
            answers += payment::dump_json(answer);
        };
        for (std::size_t index = 0; index < message.size(); ++index) {
            const json& element = message[index];
            const jsonrpc::Message parsed = jsonrpc::classify(element);
            switch (parsed.kind) {
            case jsonrpc::Message::Kind::invalid:
                append(jsonrpc::error_response(parsed.id, jsonrpc::invalid_request, "Invalid Request: " + parsed.problem));
                break;
            case jsonrpc::Message::Kind::notification:
            case jsonrpc::Message::Kind::response:
                notify(*session_id, *found, parsed, element);
                break;
            case jsonrpc::Message::Kind::request:
                if (parsed.method == "initialize") {
                    append(jsonrpc::error_response(parsed.id, jsonrpc::invalid_request,
                                                   "Invalid Request: initialize must not be part of a batch"));
                } else if (answers.size() >= options_.max_batch_answer_bytes) {
                    append(jsonrpc::error_response(
                        parsed.id, jsonrpc::server_busy,
                        "Batch answer too large: the answers before this request reached " +
                            std::to_string(options_.max_batch_answer_bytes) +
                            " bytes, so it was not run; send it again in another batch"));
                } else {
                    // A batch is answered as one JSON array: its requests send nothing before.
                    payment::PaymentInput paid;
                    if (index == paid_index) paid = std::move(header_payment);
                    auto op = dispatch(parsed, version, *session_id,
                                       RequestContext(make_exchange(found->channel, parsed, false)), std::move(paid));
                    const json answer = co_await std::move(op);
                    append(answer);
                }
                break;
            }
        }
        if (answers.size() == 1) co_return accepted();
        answers.push_back(']');
        co_return ok(std::move(answers));
    }

    /// Answers a DELETE: ends the session named by the Mcp-Session-Id header.
    Reply terminate(const std::optional<std::string>& session_id) {
        if (!session_id)
            return error_reply(400, nullptr, jsonrpc::bad_request, "Bad Request: Mcp-Session-Id header is required");
        std::shared_ptr<detail::SessionChannel> channel;
        {
            std::lock_guard lock(mutex_);
            const auto found = sessions_by_id_.find(*session_id);
            if (found == sessions_by_id_.end())
                return error_reply(404, nullptr, jsonrpc::session_not_found, "Session not found");
            (found->second.paid ? paid_ : unpaid_).erase(found->second.position);
            channel = std::move(found->second.channel);
            subscription_bytes_ -= found->second.subscription_bytes;
            sessions_by_id_.erase(found);
        }
        channel->end();  // its waiting handlers resume elsewhere: not under our lock
        return ok({});
    }

    /// Answers a GET: the session's standalone SSE stream, for what the
    /// server sends outside any request (notifications/resources/updated).
    /// One per session at a time (409 for a second); it ends when the client
    /// leaves, the session ends or the server stops or drains.
    Reply open_stream(const std::optional<std::string>& session_id, const std::optional<std::string>& protocol_version) {
        if (protocol_version && !is_supported_protocol_version(*protocol_version))
            return error_reply(400, nullptr, jsonrpc::bad_request,
                               "Bad Request: Unsupported protocol version: " + *protocol_version);
        if (!session_id)
            return error_reply(400, nullptr, jsonrpc::bad_request, "Bad Request: Mcp-Session-Id header is required");
        const std::optional<SessionRef> found = find_session(*session_id);
        if (!found) return error_reply(404, nullptr, jsonrpc::session_not_found, "Session not found");
        auto stream = std::make_shared<http::ResponseStream>(stream_options(true));
        if (!found->channel->open_stream(stream))
            return error_reply(409, nullptr, jsonrpc::bad_request,
                               "Conflict: this session already has its stream open (one GET stream per session)");
        if (get_streams_->fetch_add(1) >= options_.max_get_streams) {
            get_streams_->fetch_sub(1);
            stream->abandon();  // uninstalled: the session may open one later
            return error_reply(503, nullptr, jsonrpc::server_busy,
                               "Service Unavailable: the server holds its most GET streams (" +
                                   std::to_string(options_.max_get_streams) + "); try again later");
        }
        // Shared, not `this`: a stream may end after the endpoint is gone.
        stream->on_end([count = get_streams_] { count->fetch_sub(1); });
        Reply reply;
        reply.stream = std::move(stream);
        return reply;
    }

    /// Sends `notification` (a JSON-RPC notification) on the standalone
    /// stream of the session `session_id`; false when it has none open, or
    /// its client reads too slowly.
    bool notify_session(const std::string& session_id, const json& notification) {
        std::shared_ptr<detail::SessionChannel> channel;
        {
            std::lock_guard lock(mutex_);
            const auto found = sessions_by_id_.find(session_id);
            if (found == sessions_by_id_.end()) return false;
            channel = found->second.channel;
        }
        return channel->send_standalone(notification);
    }

    /// The server drains: every request a handler waits on the client for
    /// fails now (RequestFailed), and no new ones are sent, since no answer
    /// could reach the server any more; the handlers finish without waiting.
    void stop_client_requests() {
        std::vector<std::shared_ptr<detail::SessionChannel>> channels;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [id, session] : sessions_by_id_) channels.push_back(session.channel);
        }
        for (const auto& channel : channels) channel->stop_asking("the server is shutting down");
    }

    /// Requests whose reply became a stream and whose handler still runs
    /// (their client may have gone): a drain waits for these too.
    std::size_t streaming_handlers() const noexcept { return streaming_.load(); }

    /// How many MCP sessions are open.
    std::size_t session_count() const {
        std::lock_guard lock(mutex_);
        return sessions_by_id_.size();
    }

private:
    struct McpSession {
        std::string protocol_version;
        /// Its log level, the answers its handlers wait for, its GET stream.
        std::shared_ptr<detail::SessionChannel> channel;
        bool initialized = false;
        /// Made a paid call that settled: not dropped for a new session
        /// until it has been idle for paid_session_idle.
        bool paid = false;
        /// Where it is in unpaid_ (oldest first) or paid_ (least recently used first).
        std::list<std::string>::iterator position;
        std::chrono::steady_clock::time_point last_used;
        /// The resource URIs it subscribed to, and their bytes together.
        std::set<std::string> subscriptions;
        std::size_t subscription_bytes = 0;
    };

    static Reply ok(std::string body) {
        Reply reply;
        reply.body = std::move(body);
        return reply;
    }

    static Reply accepted() {
        Reply reply;
        reply.status = 202;
        return reply;
    }

    static Reply error_reply(unsigned status, json id, int code, std::string message) {
        Reply reply = ok(payment::dump_json(jsonrpc::error_response(std::move(id), code, std::move(message))));
        reply.status = status;
        return reply;
    }

    static std::string supported_list() {
        std::string out;
        for (std::string_view version : supported_protocol_versions) {
            if (!out.empty()) out += ", ";
            out += version;
        }
        return out;
    }

    static std::string new_session_id() {
        std::random_device random;  // getrandom(2) / /dev/urandom on Linux
        static constexpr char hex[] = "0123456789abcdef";
        std::string id;
        for (int word = 0; word < 4; ++word) {
            std::uint32_t bits = random();
            for (int nibble = 0; nibble < 8; ++nibble, bits >>= 4) id.push_back(hex[bits & 0xF]);
        }
        return id;
    }

    std::chrono::steady_clock::time_point now() const {
        return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    }

    /// A new session's id; nullopt when the cap is reached and every session
    /// has paid and was used within paid_session_idle.
    std::optional<std::string> open_session(const json& version, json client_capabilities) {
        std::string id = new_session_id();
        const auto at = now();
        std::vector<std::shared_ptr<detail::SessionChannel>> replaced;
        struct EndReplaced {  // after the lock is released
            std::vector<std::shared_ptr<detail::SessionChannel>>& channels;
            ~EndReplaced() {
                for (auto& channel : channels) channel->end();
            }
        } end_replaced{replaced};
        std::lock_guard lock(mutex_);
        while (sessions_by_id_.size() >= options_.max_sessions) {
            // Not one whose handler waits on its client's answer (a paid call
            // asking its user, not settled yet): replacing it fails that call.
            const auto oldest_idle = std::find_if(unpaid_.begin(), unpaid_.end(), [this](const std::string& unpaid) {
                return !sessions_by_id_.find(unpaid)->second.channel->awaiting();
            });
            if (oldest_idle != unpaid_.end()) {
                const auto oldest = sessions_by_id_.find(*oldest_idle);
                replaced.push_back(std::move(oldest->second.channel));
                subscription_bytes_ -= oldest->second.subscription_bytes;
                sessions_by_id_.erase(oldest);
                unpaid_.erase(oldest_idle);
                continue;
            }
            if (paid_.empty()) return std::nullopt;  // max_sessions is 0, or every unpaid session awaits an answer
            const auto oldest = sessions_by_id_.find(paid_.front());
            if (at - oldest->second.last_used < options_.paid_session_idle) return std::nullopt;
            replaced.push_back(std::move(oldest->second.channel));
            subscription_bytes_ -= oldest->second.subscription_bytes;
            sessions_by_id_.erase(oldest);
            paid_.pop_front();
        }
        McpSession session;
        session.protocol_version = version.get<std::string>();
        if (!client_capabilities.is_object()) client_capabilities = json::object();
        session.channel = std::make_shared<detail::SessionChannel>(std::move(client_capabilities),
                                                                   options_.max_pending_client_requests);
        session.last_used = at;
        session.position = unpaid_.insert(unpaid_.end(), id);
        sessions_by_id_.emplace(std::move(id), std::move(session));
        return unpaid_.back();
    }

    /// The session made a paid call: from now on it is kept while it is used.
    void mark_paid(const std::string& session_id) {
        std::lock_guard lock(mutex_);
        const auto found = sessions_by_id_.find(session_id);
        if (found == sessions_by_id_.end() || found->second.paid) return;
        unpaid_.erase(found->second.position);
        found->second.paid = true;
        found->second.position = paid_.insert(paid_.end(), session_id);
    }

    struct SessionRef {
        std::string protocol_version;
        std::shared_ptr<detail::SessionChannel> channel;
    };

    /// The session's protocol version and channel, nullopt for no such
    /// session; a use, for its idleness.
    std::optional<SessionRef> find_session(const std::string& id) {
        const auto at = now();
        std::lock_guard lock(mutex_);
        const auto found = sessions_by_id_.find(id);
        if (found == sessions_by_id_.end()) return std::nullopt;
        found->second.last_used = at;
        if (found->second.paid) paid_.splice(paid_.end(), paid_, found->second.position);
        return SessionRef{found->second.protocol_version, found->second.channel};
    }

    http::ResponseStreamOptions stream_options(bool standalone) const {
        http::ResponseStreamOptions out;
        out.max_buffered_bytes = options_.max_stream_buffer_bytes;
        out.heartbeat = ": keep-alive\n\n";
        out.heartbeat_interval = options_.stream_heartbeat;
        out.ends_on_drain = standalone;
        return out;
    }

    /// The way back to the client of one request: with a stream when the
    /// client takes one.
    std::shared_ptr<detail::Exchange> make_exchange(const std::shared_ptr<detail::SessionChannel>& channel,
                                                    const jsonrpc::Message& message, bool event_stream) const {
        json progress_token;
        if (message.params.is_object())
            if (const auto meta = message.params.find("_meta"); meta != message.params.end() && meta->is_object())
                if (const auto token = meta->find("progressToken");
                    token != meta->end() && (token->is_string() || token->is_number_integer()))
                    progress_token = *token;
        auto stream = event_stream ? std::make_shared<http::ResponseStream>(stream_options(false)) : nullptr;
        return std::make_shared<detail::Exchange>(channel, std::move(progress_token), std::move(stream),
                                                  options_.client_request_timeout);
    }

    /// Runs one request whose reply may become a stream, and finishes its
    /// exchange with the answer (or an internal error, should dispatch throw).
    static awaitable<void> run_exchange(McpEndpoint* self, std::shared_ptr<detail::Exchange> exchange,
                                        jsonrpc::Message message, std::string version, std::string session_id,
                                        std::shared_ptr<const void> keep_alive, payment::PaymentInput header_payment) {
        const http::RunningHandler running(self->streaming_);
        json id = message.id;
        json answer;
        try {
            auto op = self->dispatch(std::move(message), std::move(version), std::move(session_id),
                                     RequestContext(exchange), std::move(header_payment));
            answer = co_await std::move(op);
        } catch (...) {
            // dispatch answers every failure of a handler itself; what is left
            // (bad_alloc, ...) is ours, and its detail is not the client's.
            answer = jsonrpc::error_response(std::move(id), jsonrpc::internal_error, "Internal error");
        }
        exchange->finish(std::move(answer));
        (void)keep_alive;
    }

    void notify(const std::string& session_id, const SessionRef& session, const jsonrpc::Message& message,
                const json& raw) {
        // An answer to a request of ours: only this session's, only an id we
        // issued and still wait on (others are dropped).
        if (message.kind == jsonrpc::Message::Kind::response) {
            session.channel->answer(raw);
            return;
        }
        if (message.kind != jsonrpc::Message::Kind::notification) return;
        if (message.method == "notifications/initialized") {
            std::lock_guard lock(mutex_);
            if (auto found = sessions_by_id_.find(session_id); found != sessions_by_id_.end())
                found->second.initialized = true;
        }
        // Other notifications (cancelled, progress, roots/list_changed) need nothing here.
    }

    json initialize_response(const json& message) const {
        const jsonrpc::Message parsed = jsonrpc::classify(message);
        if (parsed.kind != jsonrpc::Message::Kind::request)
            return jsonrpc::error_response(parsed.id, jsonrpc::invalid_request, "Invalid Request: " + parsed.problem);
        if (!parsed.params.is_object() || !parsed.params.contains("protocolVersion") ||
            !parsed.params["protocolVersion"].is_string())
            return jsonrpc::error_response(parsed.id, jsonrpc::invalid_params,
                                           "Invalid params: initialize needs params.protocolVersion (a string)");
        json server_info = {{"name", options_.server_name}, {"version", options_.server_version}};
        json capabilities = {{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
        capabilities.update(detail::feature_capabilities(resources_, prompts_));
        json result = {
            {"protocolVersion", negotiate_protocol_version(parsed.params["protocolVersion"].get<std::string>())},
            {"capabilities", std::move(capabilities)},
            {"serverInfo", std::move(server_info)},
        };
        if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
        return jsonrpc::result_response(parsed.id, std::move(result));
    }

    /// Whether `message` is a priced call: tools/call, resources/read or
    /// prompts/get of a priced tool, resource (template) or prompt.
    bool priced_call(const jsonrpc::Message& message) const {
        if (message.kind != jsonrpc::Message::Kind::request) return false;
        if (message.method == "tools/call") {
            const json name = message.params.is_object() ? message.params.value("name", json()) : json();
            return name.is_string() && tools_.price(name.get<std::string>()) != nullptr;
        }
        return detail::feature_price(resources_, prompts_, message) != nullptr;
    }

    /// Why payment headers cannot pay for `message` (a body: one message or
    /// a batch), as {id, message}; nullopt when they can: they pay for
    /// element `paid_index` of a batch.
    std::optional<json> header_payment_refusal(const json& message, std::size_t& paid_index) const {
        const std::string head = "Invalid Request: a PAYMENT-SIGNATURE or X-PAYMENT header pays for exactly one "
                                 "priced call (tools/call, resources/read or prompts/get of a priced one)";
        std::size_t priced = 0;
        const json* paid = nullptr;
        auto consider = [&](const json& element, std::size_t index) {
            if (!element.is_object() || !priced_call(jsonrpc::classify(element))) return;
            ++priced;
            paid_index = index;
            paid = &element;
        };
        if (message.is_array()) {
            for (std::size_t i = 0; i < message.size(); ++i) consider(message[i], i);
        } else {
            consider(message, 0);
        }
        const json id = message.is_object() ? message.value("id", json()) : json();
        if (message.is_array() && priced != 1)
            return json{{"id", nullptr}, {"message", head + ", and this batch has " + std::to_string(priced)}};
        if (priced != 1) return json{{"id", id}, {"message", head + ", and this request is not one"}};
        const json& params = paid->value("params", json());
        const json meta = params.is_object() ? params.value("_meta", json()) : json();
        if (meta.is_object() && meta.contains(std::string(payment_meta_key)))
            return json{{"id", message.is_array() ? json() : id},
                        {"message", "Invalid Request: a payment in a header and another in params._meta[\"" +
                                        std::string(payment_meta_key) + "\"]: send one"}};
        return std::nullopt;
    }

    /// `header_payment`: the POST's payment headers when `message` is the
    /// priced call they pay for (post checked it); else empty.
    awaitable<json> dispatch(jsonrpc::Message message, std::string version, std::string session_id,
                             RequestContext context, payment::PaymentInput header_payment = {}) {
        if (message.method == "ping") co_return jsonrpc::result_response(message.id, json::object());
        if (message.method == "tools/list") co_return list_tools(message);
        if (message.method == "tools/call") {
            auto op = call_tool(std::move(message), std::move(version), std::move(session_id), std::move(context),
                                std::move(header_payment));
            co_return co_await std::move(op);
        }
        if (message.method == "logging/setLevel") co_return set_log_level(message, session_id);
        if (detail::feature_of(message.method) != detail::Feature::none) {
            auto op = dispatch_feature(std::move(message), std::move(session_id), std::move(header_payment));
            co_return co_await std::move(op);
        }
        co_return jsonrpc::error_response(message.id, jsonrpc::method_not_found, "Method not found: " + message.method);
    }

    json list_tools(const jsonrpc::Message& message) const {
        if (!message.params.is_null() && !message.params.is_object())
            return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Invalid params: params must be an object");
        if (message.params.is_object() && message.params.contains("cursor"))
            return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Invalid params: unknown cursor");
        json tools = json::array();
        for (const auto& tool : tools_.tools()) tools.push_back(tool->to_json());
        return jsonrpc::result_response(message.id, {{"tools", std::move(tools)}});
    }

    /// logging/setLevel: the least severe level the session's handlers send.
    json set_log_level(const jsonrpc::Message& message, const std::string& session_id) {
        const json level = message.params.is_object() ? message.params.value("level", json()) : json();
        const std::optional<LogLevel> parsed = level.is_string() ? parse_log_level(level.get<std::string>()) : std::nullopt;
        if (!parsed)
            return jsonrpc::error_response(message.id, jsonrpc::invalid_params,
                                           "Invalid params: logging/setLevel needs params.level, one of debug, info, "
                                           "notice, warning, error, critical, alert, emergency");
        std::shared_ptr<detail::SessionChannel> channel;
        {
            std::lock_guard lock(mutex_);
            if (const auto found = sessions_by_id_.find(session_id); found != sessions_by_id_.end())
                channel = found->second.channel;
        }
        if (channel) channel->set_log_level(*parsed);
        return jsonrpc::result_response(message.id, json::object());
    }

    awaitable<json> call_tool(jsonrpc::Message message, std::string version, std::string session_id,
                              RequestContext context, payment::PaymentInput header_payment) {
        const json& params = message.params;
        if (!params.is_object())
            co_return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Invalid params: params must be an object");
        if (!params.contains("name") || !params["name"].is_string())
            co_return jsonrpc::error_response(message.id, jsonrpc::invalid_params,
                                              "Invalid params: tools/call needs params.name (a string)");
        const std::string name = params["name"].get<std::string>();
        json arguments = params.value("arguments", json::object());
        if (!arguments.is_object())
            co_return jsonrpc::error_response(message.id, jsonrpc::invalid_params,
                                              "Invalid params: params.arguments must be an object");
        json payment;
        if (auto refusal = detail::meta_payment(message, payment)) co_return *refusal;
        const std::shared_ptr<const Tool> tool = tools_.find(name);
        if (!tool) co_return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Unknown tool: " + name);

        if (auto problem = detail::validate_schema(tool->input_schema, arguments, "arguments")) {
            std::string text = "Invalid arguments for tool " + name + ": " + *problem;
            if (input_errors_are_tool_errors(version))
                co_return jsonrpc::result_response(message.id, ToolResult::error(std::move(text)).to_json());
            co_return jsonrpc::error_response(message.id, jsonrpc::invalid_params, std::move(text));
        }

        std::function<awaitable<ToolResult>()> handler = [tool, arguments, context]() {
            return tool->handler(arguments, context);
        };
        auto op = detail::call_through_gate<ToolResult>(gate_, name, tools_.price(name),
                                                        paid_with(std::move(header_payment), std::move(payment)),
                                                        std::move(handler), arguments.dump());
        detail::GateCall<ToolResult> call = co_await std::move(op);
        // It paid (a retry answered from its record paid nothing now): keep its session.
        if (!call.decision.receipt.is_null() && !call.decision.replayed) mark_paid(session_id);
        co_return jsonrpc::result_response(message.id, render(name, std::move(call)));
    }

    // Resources, prompts and completion (detail/features.hpp); subscriptions
    // are per MCP session, so they are here.

    /// The header payment when there is one (post made sure `_meta` has none), else `_meta`'s.
    static payment::PaymentInput paid_with(payment::PaymentInput header_payment, json meta_payment) {
        if (!header_payment.empty()) return header_payment;
        return payment::PaymentInput::from_mcp_meta(std::move(meta_payment));
    }

    awaitable<json> dispatch_feature(jsonrpc::Message message, std::string session_id,
                                     payment::PaymentInput header_payment) {
        const std::string& method = message.method;
        if (!detail::serves(detail::feature_of(method), resources_, prompts_))
            co_return jsonrpc::error_response(message.id, jsonrpc::method_not_found, "Method not found: " + method);
        if (method == "resources/list") co_return detail::list_resources(resources_, message);
        if (method == "resources/templates/list") co_return detail::list_resource_templates(resources_, message);
        if (method == "resources/subscribe") co_return subscribe(message, session_id, true);
        if (method == "resources/unsubscribe") co_return subscribe(message, session_id, false);
        if (method == "prompts/list") co_return detail::list_prompts(prompts_, message);
        if (method == "resources/read" || method == "prompts/get") {
            // Params, URI or prompt and arguments are checked before the gate:
            // a bad request never uses up a payment.
            detail::FeatureCall call;
            std::optional<json> refusal = method == "resources/read" ? detail::prepare_read(resources_, message, call)
                                                                     : detail::prepare_prompt(prompts_, message, call);
            if (refusal) co_return *refusal;
            json payment;
            if (auto bad_meta = detail::meta_payment(message, payment)) co_return *bad_meta;
            auto op = detail::call_through_gate<detail::RpcResult>(
                gate_, call.target, call.price, paid_with(std::move(header_payment), std::move(payment)),
                std::move(call.handler), detail::call_fingerprint(message));
            detail::GateCall<detail::RpcResult> done = co_await std::move(op);
            if (!done.decision.receipt.is_null() && !done.decision.replayed) mark_paid(session_id);
            co_return detail::render_rpc(message, call.target, std::move(done));
        }
        co_return detail::complete(prompts_, resources_, message);
    }

    /// `resources/subscribe` (`on`) or `resources/unsubscribe` of params.uri.
    /// Only a URI that could be read is subscribed to; unsubscribing from one
    /// not subscribed to is a success.
    json subscribe(const jsonrpc::Message& message, const std::string& session_id, bool on) {
        if (auto refusal = detail::uri_refusal(message)) return *refusal;
        const std::string uri = message.params["uri"].get<std::string>();
        if (on && !resources_.find(uri) && !resources_.match(uri)) return detail::resource_not_found(message, uri);
        std::lock_guard lock(mutex_);
        const auto found = sessions_by_id_.find(session_id);
        if (found == sessions_by_id_.end())
            return jsonrpc::error_response(message.id, jsonrpc::session_not_found, "Session not found");
        McpSession& session = found->second;
        if (!on) {
            if (session.subscriptions.erase(uri) != 0) {
                session.subscription_bytes -= uri.size();
                subscription_bytes_ -= uri.size();
            }
        } else if (session.subscriptions.count(uri) == 0) {
            if (session.subscriptions.size() >= options_.max_subscriptions)
                return detail::invalid_params(message, "a session may subscribe to at most " +
                                                           std::to_string(options_.max_subscriptions) +
                                                           " resources; unsubscribe from one first");
            if (session.subscription_bytes + uri.size() > options_.max_subscription_bytes)
                return detail::invalid_params(message, "a session's subscribed URIs may hold at most " +
                                                           std::to_string(options_.max_subscription_bytes) +
                                                           " bytes together; unsubscribe from one first");
            if (subscription_bytes_ + uri.size() > options_.max_total_subscription_bytes)
                return jsonrpc::error_response(message.id, jsonrpc::server_busy,
                                               "Server busy: the server holds its most subscribed URIs (" +
                                                   std::to_string(options_.max_total_subscription_bytes) +
                                                   " bytes); try again later");
            session.subscriptions.insert(uri);
            session.subscription_bytes += uri.size();
            subscription_bytes_ += uri.size();
        }
        return jsonrpc::result_response(message.id, json::object());
    }

    /// The CallToolResult of one call: the handler's result (with the
    /// receipt in `_meta`), the payment-required tool error, or an error.
    static json render(const std::string& name, detail::GateCall<ToolResult> call) {
        if (call.failure) return ToolResult::error("Error: " + *call.failure).to_json();
        if (call.no_gate)
            return ToolResult::error("Tool " + name + " requires payment, and this server has no payment verifier")
                .to_json();
        if (call.decision.refused()) {
            // Paying again would not help (a payment identifier missing,
            // malformed or in conflict): a plain tool error that says why.
            if (call.decision.receipt.is_null() && call.decision.http_status != 402) {
                const std::string why = call.decision.payment_required.value("error", std::string("refused"));
                return ToolResult::error("Error: " + why + ": " + call.decision.refusal_message).to_json();
            }
            if (call.decision.receipt.is_null())
                return payment_required_result(std::move(call.decision.payment_required)).to_json();
            // It settled, then failed (session_commit_failed,
            // handler_failed_after_settlement): a plain tool error with the
            // receipt, not a payment-required one that asks to pay again.
            const std::string why = call.decision.payment_required.value("error", std::string("failed"));
            json failed = ToolResult::error("Error: " + why + ": the payment settled, but the call did not complete")
                              .to_json();
            failed["_meta"] = json{{std::string(payment_response_meta_key), std::move(call.decision.receipt)}};
            return failed;
        }
        json result = call.result->to_json();
        if (!call.decision.receipt.is_null())
            result["_meta"] = json{{std::string(payment_response_meta_key), std::move(call.decision.receipt)}};
        return result;
    }

    EndpointOptions options_;
    ToolRegistry tools_;
    ResourceRegistry resources_;
    PromptRegistry prompts_;
    PaymentGate gate_;

    std::atomic<std::size_t> streaming_{0};
    /// GET streams open now (max_get_streams).
    std::shared_ptr<std::atomic<std::size_t>> get_streams_ = std::make_shared<std::atomic<std::size_t>>(0);
    mutable std::mutex mutex_;
    std::unordered_map<std::string, McpSession> sessions_by_id_;
    /// The sessions that have not paid, oldest first: the ones a new session replaces.
    std::list<std::string> unpaid_;
    /// The sessions that paid, least recently used first: replaced only once idle.
    std::list<std::string> paid_;
    /// The bytes of every session's subscribed URIs (max_total_subscription_bytes).
    std::size_t subscription_bytes_ = 0;
};

}  // namespace x402::mcp
