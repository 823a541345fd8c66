// The machinery of RequestContext (request_context.hpp): what one MCP
// session shares with the requests it makes (its log level, the requests the
// server sent its client and awaits answers to, its standalone GET stream),
// and one request's way back to its client (the answer as JSON, or an SSE
// stream once the handler sends something before its answer). Not part of
// the public API.
#pragma once

#include <x402/http/response_stream.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/payment/headers.hpp>  // dump_json

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace x402::mcp {

/// The levels of `logging/setLevel` and `notifications/message`, least
/// severe first (RFC 5424's order, as MCP names them).
enum class LogLevel { debug, info, notice, warning, error, critical, alert, emergency };

inline constexpr std::string_view log_level_name(LogLevel level) noexcept {
    constexpr std::string_view names[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
    return names[static_cast<int>(level)];
}

/// The level named `name`, or nullopt for a name MCP does not define.
inline std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
    for (int level = 0; level <= static_cast<int>(LogLevel::emergency); ++level)
        if (log_level_name(static_cast<LogLevel>(level)) == name) return static_cast<LogLevel>(level);
    return std::nullopt;
}

}  // namespace x402::mcp

namespace x402::mcp::detail {

namespace asio = boost::asio;

/// One Server-Sent Event carrying one JSON-RPC message (compact JSON has no
/// newline, so one `data:` line holds it).
inline std::string sse_event(const json& message) { return "event: message\ndata: " + payment::dump_json(message) + "\n\n"; }

/// A server-to-client request waiting for its answer: the awaiting handler
/// sleeps on `timer` (on its own executor); the answer, a failure or the
/// deadline wakes it.
struct PendingRequest {
    std::mutex mutex;
    std::optional<json> answer;   // the client's response message
    std::optional<std::string> failure;  // why no answer will come
    std::shared_ptr<asio::steady_timer> timer;

    /// Settles it once; false when it was already settled.
    bool settle(std::optional<json> response, std::optional<std::string> why) {
        std::shared_ptr<asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex);
            if (answer || failure) return false;
            answer = std::move(response);
            failure = std::move(why);
            wake = timer;
        }
        // The timer's executor is the handler's (its strand, in its payer's
        // context): the handler resumes there, never on the answering thread.
        if (wake) asio::post(wake->get_executor(), [wake] { wake->cancel(); });
        return true;
    }
};

/// What one MCP session shares with its requests. Thread-safe.
class SessionChannel {
public:
    SessionChannel(json client_capabilities, std::size_t max_pending)
        : client_capabilities_(std::move(client_capabilities)), max_pending_(max_pending) {}

    const json& client_capabilities() const noexcept { return client_capabilities_; }

    /// The level set by logging/setLevel, nullopt before.
    std::optional<LogLevel> log_level() const {
        std::lock_guard lock(mutex_);
        return level_;
    }
    void set_log_level(LogLevel level) {
        std::lock_guard lock(mutex_);
        level_ = level;
    }

    /// A new id for a server-to-client request, registered as waiting for
    /// its answer; nullopt when the session has ended or waits on max_pending.
    std::optional<std::string> add_pending(std::shared_ptr<PendingRequest> pending) {
        std::lock_guard lock(mutex_);
        if (ended_ || stopped_asking_ || pending_.size() >= max_pending_) return std::nullopt;
        std::string id = "x402-" + std::to_string(++last_id_);
        pending_.emplace(id, std::move(pending));
        return id;
    }

    /// Whether a handler waits on an answer from this session's client.
    bool awaiting() const {
        std::lock_guard lock(mutex_);
        return !pending_.empty();
    }

    void forget_pending(const std::string& id) {
        std::lock_guard lock(mutex_);
        pending_.erase(id);
    }

    /// A response message from the client: settles the request of that id,
    /// once; false when no request of this session waits for that id.
    bool answer(const json& response) {
        const auto id = response.find("id");
        if (id == response.end() || !id->is_string()) return false;  // every id we issue is a string
        std::shared_ptr<PendingRequest> pending;
        {
            std::lock_guard lock(mutex_);
            const auto found = pending_.find(id->get<std::string>());
            if (found == pending_.end()) return false;
            pending = std::move(found->second);
            pending_.erase(found);
        }
        return pending->settle(response, std::nullopt);
    }

    /// The standalone stream (GET): installs `stream` unless one is open.
    bool open_stream(std::shared_ptr<http::ResponseStream> stream) {
        std::lock_guard lock(mutex_);
        if (ended_ || (standalone_ && !standalone_->ended())) return false;
        standalone_ = std::move(stream);
        return true;
    }

    /// Sends `message` on the standalone stream; false when none is open.
    bool send_standalone(const json& message) {
        std::shared_ptr<http::ResponseStream> stream;
        {
            std::lock_guard lock(mutex_);
            stream = standalone_;
        }
        return stream && stream->write(sse_event(message));
    }

    /// Fails every request the session waits on, and takes no new ones:
    /// the server drains, so no answer could reach it any more.
    void stop_asking(const std::string& why) {
        std::map<std::string, std::shared_ptr<PendingRequest>> pending;
        {
            std::lock_guard lock(mutex_);
            stopped_asking_ = true;
            pending.swap(pending_);
        }
        for (auto& [id, request] : pending) request->settle(std::nullopt, why);
    }

    /// The session is gone (DELETE, replaced): its stream ends and every
    /// request it waits on fails.
    void end() {
        std::map<std::string, std::shared_ptr<PendingRequest>> pending;
        std::shared_ptr<http::ResponseStream> stream;
        {
            std::lock_guard lock(mutex_);
            ended_ = true;
            pending.swap(pending_);
            stream = std::move(standalone_);
        }
        for (auto& [id, request] : pending) request->settle(std::nullopt, "the MCP session ended");
        if (stream) stream->abandon();
    }

private:
    const json client_capabilities_;
    const std::size_t max_pending_;
    mutable std::mutex mutex_;
    std::optional<LogLevel> level_;
    std::uint64_t last_id_ = 0;
    std::map<std::string, std::shared_ptr<PendingRequest>> pending_;
    std::shared_ptr<http::ResponseStream> standalone_;
    bool ended_ = false;
    bool stopped_asking_ = false;
};

/// One request's way back to its client. Until the handler sends a message
/// the answer is undecided; the first message makes it an SSE stream (the
/// answer then goes last on that stream), an answer first makes it JSON.
/// Thread-safe.
class Exchange {
public:
    /// `stream` null: the client takes no event stream (its Accept lacks
    /// text/event-stream, or the request is part of a batch): messages are
    /// dropped and server-to-client requests fail.
    Exchange(std::shared_ptr<SessionChannel> session, json progress_token, std::shared_ptr<http::ResponseStream> stream,
             std::chrono::milliseconds request_timeout)
        : session_(std::move(session)), progress_token_(std::move(progress_token)), stream_(std::move(stream)),
          request_timeout_(request_timeout) {}

    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    const std::shared_ptr<SessionChannel>& session() const noexcept { return session_; }
    const json& progress_token() const noexcept { return progress_token_; }
    std::chrono::milliseconds request_timeout() const noexcept { return request_timeout_; }
    bool can_stream() const noexcept { return stream_ != nullptr && !stream_->ended(); }

    /// Fails the server-to-client requests of this exchange when its stream
    /// ends before they are answered (the client went away, the server
    /// stopped): nothing asked on it will be answered. Call once it is shared.
    static void watch(const std::shared_ptr<Exchange>& exchange) {
        if (!exchange->stream_) return;
        exchange->stream_->on_end([weak = std::weak_ptr<Exchange>(exchange)] {
            if (auto self = weak.lock()) self->fail_pending("the client closed the stream of this request");
        });
    }

    /// Sends `message` before the answer; false when it cannot be sent (no
    /// stream, the stream has ended, or its client reads too slowly).
    bool send(const json& message) {
        std::shared_ptr<asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (!stream_ || state_ == State::json) return false;
            if (!stream_->write(sse_event(message))) return false;
            if (state_ == State::undecided) {
                state_ = State::streaming;
                wake = std::exchange(decider_, nullptr);
            }
        }
        if (wake) asio::post(wake->get_executor(), [wake] { wake->cancel(); });
        return true;
    }

    /// The answer: sent as JSON when nothing went before, else last on the stream.
    void finish(json answer) {
        std::shared_ptr<asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (state_ == State::streaming) {
                stream_->write_last(sse_event(answer));
                return;
            }
            state_ = State::json;
            answer_ = std::move(answer);
            wake = std::exchange(decider_, nullptr);
        }
        if (wake) asio::post(wake->get_executor(), [wake] { wake->cancel(); });
        if (stream_) stream_->abandon();  // never handed to the server: ends its callbacks
    }

    /// Waits until the answer or a first message: the JSON answer, or null
    /// when the reply is the stream. On the caller's strand (the request's).
    asio::awaitable<std::optional<json>> decided() {
        auto executor = co_await asio::this_coro::executor;
        for (;;) {
            std::shared_ptr<asio::steady_timer> timer;
            {
                std::lock_guard lock(mutex_);
                if (state_ == State::json) co_return std::move(answer_);
                if (state_ == State::streaming) co_return std::nullopt;
                timer = std::make_shared<asio::steady_timer>(executor, std::chrono::hours(24));
                decider_ = timer;
            }
            co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    const std::shared_ptr<http::ResponseStream>& stream() const noexcept { return stream_; }

    void add_own_pending(const std::string& id, std::shared_ptr<PendingRequest> pending) {
        std::lock_guard lock(mutex_);
        own_pending_.emplace(id, std::move(pending));
    }
    void forget_own_pending(const std::string& id) {
        std::lock_guard lock(mutex_);
        own_pending_.erase(id);
    }

private:
    enum class State { undecided, json, streaming };

    void fail_pending(const std::string& why) {
        std::map<std::string, std::shared_ptr<PendingRequest>> pending;
        {
            std::lock_guard lock(mutex_);
            pending.swap(own_pending_);
        }
        for (auto& [id, request] : pending) {
            session_->forget_pending(id);
            request->settle(std::nullopt, why);
        }
    }

    const std::shared_ptr<SessionChannel> session_;
    const json progress_token_;
    const std::shared_ptr<http::ResponseStream> stream_;
    const std::chrono::milliseconds request_timeout_;
    std::mutex mutex_;
    State state_ = State::undecided;
    std::optional<json> answer_;
    std::shared_ptr<asio::steady_timer> decider_;
    std::map<std::string, std::shared_ptr<PendingRequest>> own_pending_;
};

}  // namespace x402::mcp::detail
