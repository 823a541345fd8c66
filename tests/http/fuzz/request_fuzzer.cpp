// libFuzzer target for what the HTTP server reads from the network
// (http/detail/server.hpp) and the other decoders of x402::http. Built and
// run by tests/fuzz/run_fuzzer.sh.
//
// The first input byte picks what the rest is:
//   0-3 the bytes a client sends on one connection, fed to the server's own
//       read_request (request line, headers, body framing: Beast's parser
//       with the server's limits) over an in-memory stream, in chunks of
//       everything / 1 / 13 / 256 bytes, then each request read to the
//       server's answer (routing, 404/405, the handler's Request);
//   4 a facilitator URL (parse_http_url);
//   5 a route pattern and a path, split at the first '\n' (Router::matches);
//   6 text for is_valid_utf8.
// Invariants, checked with __builtin_trap() so a violation is a crash:
//  - nothing crashes or throws, except parse_http_url's std::invalid_argument;
//  - a read ends with a request or with an HTTP parse error (what the
//    server answers 400/413/431 or closes on), never anything else;
//  - a request's body is within max_body_bytes, its path is its target up to
//    '?', the handler sees the route's rest, and the answer is 200/404/405;
//  - a parsed URL is well-formed and parses again to itself;
//  - a matched '*' route's prefix plus its rest is the path;
//  - is_valid_utf8 agrees with nlohmann's strict UTF-8 check.
// Boost's assertions stay on (they are checks of Beast's parser state), but
// through our handler: see boost::assertion_failed below.
#define BOOST_ENABLE_ASSERT_HANDLER
#include <x402/http/detail/server.hpp>
#include <x402/http/url.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/parser.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace boost {

// Beast before 1.86 (Debian's 1.81 included) asserts `n >= 5` when it
// re-parses a last chunk, but "0\r\n" followed by a single byte is valid
// input (boostorg/beast#2861: the assertion was wrong, the code after it is
// right). A client can send exactly that, so in builds without NDEBUG it
// aborts the server; release builds (-DNDEBUG) parse it correctly. This
// one assertion is skipped, as NDEBUG would; every other one is a crash.
void assertion_failed(char const* expression, char const* function, char const* file, long line) {
    if (std::string_view(expression) == "n >= 5" &&
        std::string_view(file).ends_with("boost/beast/http/impl/basic_parser.ipp"))
        return;
    std::fprintf(stderr, "%s:%ld: %s: assertion failed: %s\n", file, line, function, expression);
    __builtin_trap();
}

void assertion_failed_msg(char const* expression, char const* message, char const* function, char const* file,
                          long line) {
    std::fprintf(stderr, "%s:%ld: %s: assertion failed: %s (%s)\n", file, line, function, expression, message);
    __builtin_trap();
}

}  // namespace boost

namespace xh = x402::http;
namespace xd = x402::http::detail;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

/// A read-only AsyncReadStream over the fuzz input, `chunk` bytes per read
/// (eof at the end), so read_request runs exactly as on a socket. The
/// deadlines of beast::tcp_stream are accepted and ignored.
class MemoryStream {
public:
    using executor_type = asio::any_io_executor;

    MemoryStream(executor_type executor, std::string_view data, std::size_t chunk)
        : executor_(std::move(executor)), data_(data), chunk_(chunk) {}

    executor_type get_executor() const noexcept { return executor_; }
    template <class Duration>
    void expires_after(Duration) noexcept {}

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [this](auto handler, const Buffers& into) {
                beast::error_code error;
                std::size_t read = 0;
                if (data_.empty()) error = asio::error::eof;
                else {
                    read = asio::buffer_copy(into, asio::buffer(data_.data(), std::min(chunk_, data_.size())));
                    data_.remove_prefix(read);
                }
                // Completed later, as a socket does, never inside the initiation.
                auto executor = asio::get_associated_executor(handler, executor_);
                asio::post(executor, [handler = std::move(handler), error, read]() mutable { handler(error, read); });
            },
            token, buffers);
    }

private:
    executor_type executor_;
    std::string_view data_;
    std::size_t chunk_;
};

constexpr std::size_t max_body = 4096;  // small, so that fuzz inputs reach the 413 path

struct Server {
    asio::io_context io;
    xd::StatePtr state;

    Server() {
        xh::ServerOptions options;
        options.max_body_bytes = max_body;
        state = std::make_shared<xd::ServerState>(io, std::move(options));
        // The policy of a server bound to loopback, as Server::start builds it.
        state->policy = xh::RequestPolicy(state->options, asio::ip::make_address("127.0.0.1"), 8402);
        add("GET", "/health");
        add("POST", "/mcp");
        add("DELETE", "/mcp");
        add(std::string(xh::any_method), "/content/*");
        add("GET", "/a/*");
    }

    void add(std::string method, std::string path) {
        xh::Route route;
        route.method = std::move(method);
        route.path = path;
        route.handler = [path](xh::Request request) -> asio::awaitable<xh::Response> {
            require(xh::Router::matches(path, request.path));
            require(request.rest == xh::Router::rest_of(path, request.path));
            require(request.target.substr(0, request.target.find('?')) == request.path);
            require(request.body.size() <= max_body);
            co_return xh::Response::text(200, "ok\n");
        };
        state->router.add(std::move(route));
    }
};

Server& server() {
    static Server instance;
    return instance;
}

/// The connection loop of serve_connection, without the socket's writes.
asio::awaitable<void> connection(xd::StatePtr state, MemoryStream& stream) {
    beast::flat_buffer buffer;
    for (int request = 0; request < 16; ++request) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(state->options.max_body_bytes);
        const beast::error_code error = co_await xd::read_request(*state, stream, buffer, parser);
        if (error) {
            require(error == asio::error::eof ||
                    error.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category());
            co_return;
        }
        require(parser.is_done());
        xd::BeastRequest parsed = parser.release();
        require(parsed.body().size() <= max_body);
        xd::Answer answered = co_await xd::answer(state, std::move(parsed));
        require(!answered.stream);  // the fuzzed routes answer whole
        xd::BeastResponse& response = answered.response;
        const unsigned status = response.result_int();
        // 400, 403 and 421 are the request policy's (UTF-8, Host, Origin), with a JSON reason.
        require(status == 200 || status == 400 || status == 403 || status == 404 || status == 405 || status == 421);
        if (status == 400 || status == 403 || status == 421) require(response.body().starts_with("{\"error\":"));
        if (status == 405) require(!response[bhttp::field::allow].empty());
        std::ostringstream written;  // what async_write would send
        written << response;
        if (!response.keep_alive()) co_return;
    }
}

void fuzz_connection(std::string_view bytes, std::size_t chunk) {
    Server& s = server();
    MemoryStream stream(s.io.get_executor(), bytes, chunk);
    bool done = false;
    asio::co_spawn(s.io, connection(s.state, stream), [&](std::exception_ptr error) {
        require(!error);  // the read path reports errors as codes
        done = true;
    });
    s.io.restart();
    s.io.run();
    require(done);
}

void fuzz_url(std::string_view text) {
    xh::HttpUrl url;
    try {
        url = xh::parse_http_url(text);
    } catch (const std::invalid_argument&) {
        return;
    }
    require(!url.host.empty());
    require(!url.port.empty() && url.port.size() <= 5 && url.port.front() != '0');
    const unsigned long port = std::stoul(url.port);
    require(port >= 1 && port <= 65535);
    require(url.base_path.empty() || (url.base_path.front() == '/' && url.base_path.back() != '/'));
    // Nothing that could end a request line or a header, or start a query;
    // '@' (user info) only in the path, where it is an ordinary character.
    for (const char c : url.host_header() + url.base_path)
        require(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F && c != '?' && c != '#');
    require(url.host_header().find('@') == std::string::npos);
    const xh::HttpUrl again = xh::parse_http_url(url.to_string());
    require(again.tls == url.tls && again.host == url.host && again.port == url.port &&
            again.base_path == url.base_path && again.host_is_ip == url.host_is_ip);
}

void fuzz_route(std::string_view input) {
    const std::size_t split = input.find('\n');
    if (split == std::string_view::npos) return;
    const std::string_view pattern = input.substr(0, split), path = input.substr(split + 1);
    if (!xh::Router::matches(pattern, path)) return;
    const std::string rest = xh::Router::rest_of(pattern, path);
    if (!pattern.empty() && pattern.back() == '*') {
        require(!rest.empty());
        require(std::string(pattern.substr(0, pattern.size() - 1)) + rest == path);
    } else {
        require(rest.empty() && pattern == path);
    }
}

void fuzz_utf8(std::string_view text) {
    bool strict = true;
    try {
        (void)nlohmann::json(std::string(text)).dump();
    } catch (const nlohmann::json::type_error&) {
        strict = false;  // 316: invalid UTF-8
    }
    require(xh::is_valid_utf8(text) == strict);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 7) {
            case 0: fuzz_connection(input, input.size() + 1); break;
            case 1: fuzz_connection(input, 1); break;
            case 2: fuzz_connection(input, 13); break;
            case 3: fuzz_connection(input, 256); break;
            case 4: fuzz_url(input); break;
            case 5: fuzz_route(input); break;
            default: fuzz_utf8(input); break;
        }
    } catch (...) {
        __builtin_trap();  // only parse_http_url throws, and only std::invalid_argument
    }
    return 0;
}
