// One pipelined connection to one Redis server, on Boost.Asio.
//
// All state lives on a strand of the plain executor the connection was built
// on (never a payer's ContextExecutor), and every operation completes through
// the associated executor of the awaiting handler (for use_awaitable: the
// awaiting coroutine's executor), so a completion never runs in another
// payer's context. Requests are queued in FIFO order and written back to
// back; replies are matched to requests in order (pipelining).
//
// Failures: every request completes, with its replies or an exception:
//  - RedisConnectionError(timeout) when its reply has not arrived within the
//    operation timeout; the connection is then dropped (the reply stream can
//    no longer be matched) and every request written on it fails the same way;
//  - RedisConnectionError(connection_lost) when the connection breaks;
//  - RedisConnectionError(connect_failed) or RedisError (AUTH/SELECT refused)
//    when connecting fails. After a failed connect, the connection waits an
//    exponentially growing delay (Config::reconnect_backoff_min..max) before
//    the next attempt; requests arriving meanwhile fail at once with the same
//    error (fail fast), the first one after the delay reconnects.
// Cancellation of a pending request is not supported; the timeout bounds it.
#pragma once

#include <x402/redis/config.hpp>
#include <x402/redis/error.hpp>
#include <x402/redis/reply.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace x402::redis::detail {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    using Clock = std::chrono::steady_clock;

    /// `executor` must be a plain executor (e.g. io_context::get_executor()).
    Connection(boost::asio::any_io_executor executor, Endpoint endpoint, const Config& config)
        : strand_(boost::asio::make_strand(std::move(executor))),
          endpoint_(std::move(endpoint)),
          user_(config.user),
          password_(config.password),
          database_(config.cluster ? 0 : config.database),
          timeout_(config.operation_timeout),
          backoff_min_(config.reconnect_backoff_min),
          backoff_max_(std::max(config.reconnect_backoff_min, config.reconnect_backoff_max)),
          backoff_(backoff_min_),
          watchdog_(strand_),
          backoff_timer_(strand_) {}

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    const Endpoint& endpoint() const noexcept { return endpoint_; }

    /// Sends `commands` as one pipeline; completes with one reply per command
    /// (error replies included, as Reply::Type::error) or an exception.
    /// Signature: void(std::exception_ptr, std::vector<Reply>).
    template <class CompletionToken>
    auto async_execute(std::string formatted, std::size_t count, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, std::vector<Reply>)>(
            Initiation{shared_from_this()}, token, std::move(formatted), count);
    }

    /// async_execute for use_awaitable; formats the commands before returning.
    boost::asio::awaitable<std::vector<Reply>> execute(const std::vector<Command>& commands) {
        std::string formatted;
        for (const auto& command : commands) format_command(command, formatted);
        return async_execute(std::move(formatted), commands.size(), boost::asio::use_awaitable);
    }

    /// Drops the connection: pending requests fail with
    /// RedisConnectionError(closed). The next request connects again.
    void reset() {
        boost::asio::post(strand_, [self = shared_from_this()] { self->do_close(false); });
    }

    /// Like reset(), and every later request fails with RedisConnectionError(closed).
    void shutdown() {
        boost::asio::post(strand_, [self = shared_from_this()] { self->do_close(true); });
    }

private:
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;
    using Socket = boost::asio::ip::tcp::socket;

    struct Completion {
        virtual ~Completion() = default;
        virtual void complete(std::exception_ptr error, std::vector<Reply> replies) = 0;
    };

    template <class Handler>
    struct HandlerCompletion final : Completion {
        using Executor = boost::asio::associated_executor_t<Handler, Strand>;

        HandlerCompletion(Handler&& h, const Strand& fallback)
            : handler(std::move(h)), work(boost::asio::get_associated_executor(handler, fallback)) {}

        void complete(std::exception_ptr error, std::vector<Reply> replies) override {
            // `error` is moved into the handler: its last reference is dropped on
            // the handler's thread, never here.
            // Through the handler's own executor: the awaiting coroutine
            // resumes in its own context, never in the caller's of this code.
            // The work guard is released only after the post: until then the
            // handler's io_context cannot run out of work, so an owner that
            // destroys it once run() returns never races with this thread.
            auto executor = work.get_executor();
            boost::asio::post(executor, [h = std::move(handler), e = std::move(error), r = std::move(replies)]() mutable {
                std::move(h)(std::move(e), std::move(r));
            });
            work.reset();
        }

        Handler handler;
        boost::asio::executor_work_guard<Executor> work;
    };

    struct Request {
        std::string bytes;
        std::size_t expected = 0;
        std::vector<Reply> replies;
        std::unique_ptr<Completion> completion;
        Clock::time_point deadline;
    };

    struct Initiation {
        std::shared_ptr<Connection> self;

        template <class Handler>
        void operator()(Handler&& handler, std::string formatted, std::size_t count) const {
            Request request;
            request.bytes = std::move(formatted);
            request.expected = count;
            request.deadline = Clock::now() + self->timeout_;
            request.completion = std::make_unique<HandlerCompletion<std::decay_t<Handler>>>(
                std::forward<Handler>(handler), self->strand_);
            auto target = self;
            boost::asio::post(self->strand_, [target = std::move(target), r = std::move(request)]() mutable {
                target->enqueue(std::move(r));
            });
        }
    };

    enum class State { idle, connecting, ready, backoff, shut };

    /// Why requests fail. Each failing request gets an exception object of its
    /// own (none is shared between threads).
    struct Failure {
        bool server_error = false;  ///< RedisError (else RedisConnectionError)
        ConnectionErrc reason = ConnectionErrc::connect_failed;
        std::string message;

        std::exception_ptr make() const {
            if (server_error) return std::make_exception_ptr(RedisError(message));
            return std::make_exception_ptr(RedisConnectionError(reason, message));
        }
    };

    static Failure connection_error(ConnectionErrc reason, std::string detail) {
        return Failure{false, reason, std::move(detail)};
    }

    std::string describe(const std::string& what) const { return endpoint_.to_string() + ": " + what; }

    static void finish(Request& request, const Failure* failure) {
        if (failure != nullptr) {
            request.replies.clear();
            request.completion->complete(failure->make(), std::move(request.replies));
        } else {
            request.completion->complete(nullptr, std::move(request.replies));
        }
    }

    void enqueue(Request request) {
        if (state_ == State::shut) {
            const auto closed = connection_error(ConnectionErrc::closed, describe("redis client closed"));
            return finish(request, &closed);
        }
        if (state_ == State::backoff) return finish(request, &last_connect_error_);
        if (request.expected == 0) return finish(request, nullptr);
        waiting_.push_back(std::move(request));
        arm_watchdog();
        if (state_ == State::idle) start_connect();
        else if (state_ == State::ready) start_write();
    }

    void fail_all(std::deque<Request>& requests, const Failure& failure) {
        auto failing = std::move(requests);
        requests.clear();
        for (auto& request : failing) finish(request, &failure);
    }

    // Closes the socket; requests written on it fail with `error`.
    void drop_socket(const Failure& error) {
        ++generation_;
        if (socket_) {
            boost::system::error_code ignored;
            socket_->close(ignored);
            socket_.reset();
        }
        writing_ = false;
        fail_all(in_flight_, error);
        if (state_ != State::shut && state_ != State::backoff) state_ = State::idle;
    }

    void do_close(bool terminal) {
        const auto error = connection_error(ConnectionErrc::closed, describe("redis client closed"));
        drop_socket(error);
        fail_all(waiting_, last_connect_error_);
        backoff_timer_.cancel();
        watchdog_.cancel();
        backoff_ = backoff_min_;
        state_ = terminal ? State::shut : State::idle;
    }

    void start_connect() {
        state_ = State::connecting;
        const auto generation = ++generation_;
        boost::asio::co_spawn(strand_, connect(generation), boost::asio::detached);
    }

    boost::asio::awaitable<void> connect(std::uint64_t generation) {
        auto self = shared_from_this();
        Failure failure;
        try {
            boost::asio::ip::tcp::resolver resolver(strand_);
            auto addresses = co_await resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                                                             boost::asio::use_awaitable);
            if (generation != generation_) co_return;
            auto socket = std::make_shared<Socket>(strand_);
            socket_ = socket;
            co_await boost::asio::async_connect(*socket, addresses, boost::asio::use_awaitable);
            if (generation != generation_) co_return;
            socket->set_option(boost::asio::ip::tcp::no_delay(true));
            reader_ = ReplyReader();
            co_await handshake(socket);
            if (generation != generation_) co_return;
            state_ = State::ready;
            backoff_ = backoff_min_;
            boost::asio::co_spawn(strand_, read_loop(socket, generation), boost::asio::detached);
            start_write();
            co_return;
        } catch (const RedisError& error) {
            failure = Failure{true, ConnectionErrc::connect_failed, error.what()};
        } catch (const RedisConnectionError& error) {
            failure = connection_error(error.reason(), error.detail());
        } catch (const boost::system::system_error& error) {
            failure = connection_error(ConnectionErrc::connect_failed, describe(error.code().message()));
        } catch (const std::exception& error) {
            failure = connection_error(ConnectionErrc::connect_failed, describe(error.what()));
        }
        if (generation != generation_) co_return;  // reset, shut down or timed out meanwhile
        connect_failed(std::move(failure));
    }

    // AUTH and SELECT, pipelined, before the connection is offered to requests.
    boost::asio::awaitable<void> handshake(std::shared_ptr<Socket> socket) {
        std::vector<Command> commands;
        if (!password_.empty() || !user_.empty()) {
            commands.push_back(user_.empty() ? Command{"AUTH", password_} : Command{"AUTH", user_, password_});
        }
        if (database_ != 0) commands.push_back(Command{"SELECT", std::to_string(database_)});
        if (commands.empty()) co_return;
        std::string formatted;
        for (const auto& command : commands) format_command(command, formatted);
        co_await boost::asio::async_write(*socket, boost::asio::buffer(formatted), boost::asio::use_awaitable);
        std::vector<char> buffer(4096);
        std::size_t received = 0;
        while (received < commands.size()) {
            while (auto reply = reader_.next()) {
                ++received;
                if (reply->is_error()) throw RedisError(reply->str);
            }
            if (received == commands.size()) break;
            const auto size = co_await socket->async_read_some(boost::asio::buffer(buffer), boost::asio::use_awaitable);
            reader_.feed(buffer.data(), size);
        }
    }

    void connect_failed(Failure error) {
        if (socket_) {
            boost::system::error_code ignored;
            socket_->close(ignored);
            socket_.reset();
        }
        ++generation_;
        last_connect_error_ = std::move(error);
        state_ = State::backoff;
        fail_all(waiting_, last_connect_error_);
        backoff_timer_.expires_after(backoff_);
        backoff_ = std::min(backoff_ * 2, backoff_max_);
        backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
            if (!error && self->state_ == State::backoff) self->state_ = State::idle;
        });
    }

    void start_write() {
        if (writing_ || waiting_.empty() || state_ != State::ready) return;
        writing_ = true;
        auto buffer = std::make_shared<std::string>();
        while (!waiting_.empty()) {
            buffer->append(waiting_.front().bytes);
            waiting_.front().bytes.clear();
            in_flight_.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        boost::asio::async_write(*socket_, boost::asio::buffer(*buffer),
                                 [self = shared_from_this(), buffer, generation = generation_](
                                     boost::system::error_code error, std::size_t) {
                                     if (generation != self->generation_) return;
                                     self->writing_ = false;
                                     if (error) {
                                         self->connection_lost(error.message());
                                         return;
                                     }
                                     self->start_write();
                                 });
    }

    void connection_lost(const std::string& what) {
        drop_socket(connection_error(ConnectionErrc::connection_lost, describe(what)));
        // Requests not yet written go out on a new connection.
        if (!waiting_.empty() && state_ == State::idle) start_connect();
    }

    boost::asio::awaitable<void> read_loop(std::shared_ptr<Socket> socket, std::uint64_t generation) {
        auto self = shared_from_this();
        std::vector<char> buffer(16 * 1024);
        for (;;) {
            auto [error, size] = co_await socket->async_read_some(boost::asio::buffer(buffer),
                                                                  boost::asio::as_tuple(boost::asio::use_awaitable));
            if (generation != generation_) co_return;
            if (error) {
                connection_lost(error == boost::asio::error::eof ? std::string("server closed the connection")
                                                                 : error.message());
                co_return;
            }
            try {
                reader_.feed(buffer.data(), size);
                while (auto reply = reader_.next()) {
                    if (in_flight_.empty()) {
                        throw RedisConnectionError(ConnectionErrc::protocol_error,
                                                   describe("reply without a pending request"));
                    }
                    auto& request = in_flight_.front();
                    request.replies.push_back(std::move(*reply));
                    if (request.replies.size() == request.expected) {
                        auto done = std::move(request);
                        in_flight_.pop_front();
                        finish(done, nullptr);
                    }
                }
            } catch (const RedisConnectionError& failure) {
                drop_socket(connection_error(failure.reason(), failure.detail()));
                if (!waiting_.empty() && state_ == State::idle) start_connect();
                co_return;
            }
        }
    }

    void arm_watchdog() {
        if (watchdog_armed_) return;
        const Request* oldest = !in_flight_.empty() ? &in_flight_.front() : !waiting_.empty() ? &waiting_.front() : nullptr;
        if (oldest == nullptr) return;
        watchdog_armed_ = true;
        watchdog_.expires_at(oldest->deadline);
        watchdog_.async_wait([self = shared_from_this()](boost::system::error_code) {
            self->watchdog_armed_ = false;
            self->check_deadlines();
        });
    }

    void check_deadlines() {
        const auto now = Clock::now();
        const bool front_expired = (!in_flight_.empty() && in_flight_.front().deadline <= now) ||
                                   (!waiting_.empty() && waiting_.front().deadline <= now);
        if (front_expired) {
            const auto error = connection_error(
                ConnectionErrc::timeout,
                describe("no reply within " + std::to_string(timeout_.count()) + " ms"));
            // The connection can no longer match replies to requests: drop it.
            const bool was_connecting_or_ready = state_ == State::connecting || state_ == State::ready;
            if (was_connecting_or_ready) drop_socket(error);
            while (!waiting_.empty() && waiting_.front().deadline <= now) {
                auto expired = std::move(waiting_.front());
                waiting_.pop_front();
                finish(expired, &error);
            }
            if (!waiting_.empty() && state_ == State::idle) start_connect();
        }
        arm_watchdog();
    }

    Strand strand_;
    Endpoint endpoint_;
    std::string user_;
    std::string password_;
    int database_;
    std::chrono::milliseconds timeout_;
    std::chrono::milliseconds backoff_min_;
    std::chrono::milliseconds backoff_max_;
    std::chrono::milliseconds backoff_;
    boost::asio::steady_timer watchdog_;
    boost::asio::steady_timer backoff_timer_;
    bool watchdog_armed_ = false;
    bool writing_ = false;
    State state_ = State::idle;
    std::uint64_t generation_ = 0;
    std::shared_ptr<Socket> socket_;
    ReplyReader reader_;
    std::deque<Request> waiting_;
    std::deque<Request> in_flight_;
    Failure last_connect_error_;
};

}  // namespace x402::redis::detail
