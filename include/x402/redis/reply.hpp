// Replies and commands of the Redis layer, on hiredis' reader and formatter:
// commands are formatted with redisFormatCommandArgv (binary safe), replies
// are parsed with redisReader and copied into an owning Reply tree.
#pragma once

#include <x402/redis/error.hpp>

#include <hiredis/hiredis.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::redis {

/// One command: its arguments, binary safe (any bytes, NUL included).
using Command = std::vector<std::string>;

/// One reply of the server, owning its data.
struct Reply {
    enum class Type { string, array, integer, nil, status, error };

    Type type = Type::nil;
    /// The bytes of a string, status or error reply.
    std::string str;
    /// The value of an integer reply.
    long long integer = 0;
    /// The elements of an array reply.
    std::vector<Reply> elements;

    bool is_error() const noexcept { return type == Type::error; }
    bool is_nil() const noexcept { return type == Type::nil; }

    /// Throws RedisError with the server's message for an error reply.
    const Reply& check() const {
        if (type == Type::error) throw RedisError(str);
        return *this;
    }
    /// The integer of an integer reply; throws RedisError for an error reply.
    long long as_integer() const {
        check();
        if (type != Type::integer) throw RedisError("unexpected reply type (integer expected)");
        return integer;
    }
    /// nullopt for nil, else the bytes; throws RedisError for an error reply.
    std::optional<std::string> as_optional_string() const {
        check();
        if (type == Type::nil) return std::nullopt;
        if (type != Type::string && type != Type::status) throw RedisError("unexpected reply type (string expected)");
        return str;
    }
};

namespace detail {

/// Appends the RESP form of `command` to `out`.
inline void format_command(const Command& command, std::string& out) {
    std::vector<const char*> argv;
    std::vector<std::size_t> argvlen;
    argv.reserve(command.size());
    argvlen.reserve(command.size());
    for (const auto& argument : command) {
        argv.push_back(argument.data());
        argvlen.push_back(argument.size());
    }
    char* formatted = nullptr;
    const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), argvlen.data());
    if (length < 0 || formatted == nullptr) throw std::bad_alloc();
    out.append(formatted, static_cast<std::size_t>(length));
    redisFreeCommand(formatted);
}

inline Reply to_reply(const redisReply& raw) {
    Reply reply;
    switch (raw.type) {
    case REDIS_REPLY_STRING:
        reply.type = Reply::Type::string;
        reply.str.assign(raw.str, raw.len);
        break;
    case REDIS_REPLY_STATUS:
        reply.type = Reply::Type::status;
        reply.str.assign(raw.str, raw.len);
        break;
    case REDIS_REPLY_ERROR:
        reply.type = Reply::Type::error;
        reply.str.assign(raw.str, raw.len);
        break;
    case REDIS_REPLY_INTEGER:
        reply.type = Reply::Type::integer;
        reply.integer = raw.integer;
        break;
    case REDIS_REPLY_ARRAY:
        reply.type = Reply::Type::array;
        reply.elements.reserve(raw.elements);
        for (std::size_t i = 0; i < raw.elements; ++i) reply.elements.push_back(to_reply(*raw.element[i]));
        break;
    default:
        reply.type = Reply::Type::nil;
        break;
    }
    return reply;
}

/// An incremental RESP parser: feed bytes, take complete replies.
class ReplyReader {
public:
    ReplyReader() : reader_(redisReaderCreate()) {
        if (!reader_) throw std::bad_alloc();
    }

    /// Throws RedisConnectionError(protocol_error) when the stream is not RESP.
    void feed(const char* data, std::size_t size) {
        if (redisReaderFeed(reader_.get(), data, size) != REDIS_OK) fail();
    }

    /// The next complete reply, or nullopt when more bytes are needed.
    std::optional<Reply> next() {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) fail();
        if (raw == nullptr) return std::nullopt;
        std::unique_ptr<redisReply, void (*)(void*)> owned(static_cast<redisReply*>(raw), freeReplyObject);
        return to_reply(*owned);
    }

private:
    [[noreturn]] void fail() {
        throw RedisConnectionError(ConnectionErrc::protocol_error,
                                   std::string("redis protocol error: ") + reader_->errstr);
    }

    struct Free {
        void operator()(redisReader* reader) const noexcept { redisReaderFree(reader); }
    };
    std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace detail
}  // namespace x402::redis
