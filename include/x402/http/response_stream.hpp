// A response body written while it is being produced (Server-Sent Events,
// for instance): a route returns a Response whose `stream` is set, the server
// sends the header at once and then each chunk the producer writes, until the
// producer closes the stream or the client goes away.
//
//     auto stream = std::make_shared<ResponseStream>();
//     Response response;
//     response.content_type = "text/event-stream";
//     response.stream = stream;
//     // later, from any thread: stream->write("data: ...\n\n"); stream->close();
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace x402::http {

/// Options of one ResponseStream.
struct ResponseStreamOptions {
    /// Most bytes written and not yet sent: beyond them `write` refuses, so a
    /// client that does not read cannot make the server hold its output.
    std::size_t max_buffered_bytes = 1024 * 1024;
    /// Sent whenever the stream has been quiet this long (empty: never). It
    /// keeps proxies from closing an idle stream, and a write is how the
    /// server finds that the client has gone (an SSE comment, ": \n\n").
    std::string heartbeat;
    std::chrono::milliseconds heartbeat_interval{15'000};
    /// A stream that only ever ends when its client leaves (an MCP GET
    /// stream): a draining server ends it. Otherwise a drain waits for it
    /// like for any answer being written.
    bool ends_on_drain = false;
};

/// The body of one streamed response. Thread-safe: producers write from any
/// thread; the server reads it from the connection's strand.
class ResponseStream {
public:
    explicit ResponseStream(ResponseStreamOptions options = {}) : options_(std::move(options)) {}

    ResponseStream(const ResponseStream&) = delete;
    ResponseStream& operator=(const ResponseStream&) = delete;

    /// Queues `chunk` to be sent; false (nothing queued) once the stream has
    /// ended or while max_buffered_bytes are waiting to be sent.
    bool write(std::string chunk) {
        std::shared_ptr<boost::asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (ended_ || closing_) return false;
            if (buffered_ + chunk.size() > options_.max_buffered_bytes) return false;
            buffered_ += chunk.size();
            queue_.push_back(std::move(chunk));
            wake = std::exchange(waiter_, nullptr);
        }
        wake_up(std::move(wake));
        return true;
    }

    /// Queues `chunk`, whatever is buffered, and closes: the last thing the
    /// producer has to say (an answer that must not be dropped). False once
    /// the stream has ended.
    bool write_last(std::string chunk) {
        std::shared_ptr<boost::asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (ended_ || closing_) return false;
            buffered_ += chunk.size();
            queue_.push_back(std::move(chunk));
            closing_ = true;
            wake = std::exchange(waiter_, nullptr);
        }
        wake_up(std::move(wake));
        return true;
    }

    /// No more chunks: the server sends what is queued, then ends the body.
    void close() {
        std::shared_ptr<boost::asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (ended_ || closing_) return;
            closing_ = true;
            wake = std::exchange(waiter_, nullptr);
        }
        wake_up(std::move(wake));
    }

    /// Ends the stream now, dropping what is queued: the client went away,
    /// or the server stops. Runs the on_end callbacks (once).
    void abandon() { finish(); }

    /// Whether the stream has ended or is closing: writes are refused.
    bool ended() const {
        std::lock_guard lock(mutex_);
        return ended_ || closing_;
    }

    /// Runs `callback` once when the stream ends (everything sent after
    /// close(), or abandoned); at once if it has already ended. Called with
    /// no lock held, on whichever thread ends the stream.
    void on_end(std::function<void()> callback) {
        {
            std::lock_guard lock(mutex_);
            if (!ended_) {
                on_end_.push_back(std::move(callback));
                return;
            }
        }
        callback();
    }

    const ResponseStreamOptions& options() const noexcept { return options_; }

    /// The server's side: what to send next (every queued chunk at once, or
    /// the heartbeat after a quiet interval); nullopt once the body is done.
    /// One reader at a time.
    boost::asio::awaitable<std::optional<std::string>> next() {
        auto executor = co_await boost::asio::this_coro::executor;
        for (;;) {
            std::shared_ptr<boost::asio::steady_timer> timer;
            {
                std::lock_guard lock(mutex_);
                if (!queue_.empty()) {
                    std::string out;
                    for (std::string& chunk : queue_) out += chunk;
                    queue_.clear();
                    buffered_ = 0;
                    // Never empty: a chunk of zero bytes is the last-chunk, and
                    // what follows would be read as the next response.
                    if (!out.empty()) co_return out;
                }
                if (ended_) co_return std::nullopt;
                if (closing_) break;
                timer = std::make_shared<boost::asio::steady_timer>(executor);
                timer->expires_after(options_.heartbeat.empty() ? std::chrono::hours(24) : options_.heartbeat_interval);
                waiter_ = timer;
            }
            auto [error] = co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            bool quiet = false;
            {
                std::lock_guard lock(mutex_);
                if (waiter_ == timer) waiter_ = nullptr;
                quiet = !error && queue_.empty() && !ended_ && !closing_;
            }
            if (quiet && !options_.heartbeat.empty()) co_return options_.heartbeat;
        }
        finish();  // closed, and everything queued has been handed out
        co_return std::nullopt;
    }

private:
    // Posted to the reader's executor (its connection strand): the reader set
    // the waiter while it held that strand and only leaves it by waiting, so
    // the cancel runs once the wait is under way.
    static void wake_up(std::shared_ptr<boost::asio::steady_timer> timer) {
        if (!timer) return;
        auto executor = timer->get_executor();
        boost::asio::post(executor, [timer = std::move(timer)] { timer->cancel(); });
    }

    void finish() {
        std::vector<std::function<void()>> callbacks;
        std::shared_ptr<boost::asio::steady_timer> wake;
        {
            std::lock_guard lock(mutex_);
            if (ended_) return;
            ended_ = true;
            queue_.clear();
            buffered_ = 0;
            callbacks.swap(on_end_);
            wake = std::exchange(waiter_, nullptr);
        }
        wake_up(std::move(wake));
        for (auto& callback : callbacks) callback();
    }

    const ResponseStreamOptions options_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;
    std::size_t buffered_ = 0;
    bool closing_ = false;
    bool ended_ = false;
    std::shared_ptr<boost::asio::steady_timer> waiter_;
    std::vector<std::function<void()>> on_end_;
};

}  // namespace x402::http
