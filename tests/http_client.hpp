// A blocking Beast HTTP/1.1 client for the in-process server tests (tests/http, tests/mcp): one
// keep-alive connection, socket timeouts so a hung server fails the test
// instead of hanging it.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <map>
#include <optional>
#include <string>

namespace test_support {

namespace http = boost::beast::http;

class HttpClient {
public:
    using Response = http::response<http::string_body>;

    explicit HttpClient(boost::asio::ip::tcp::endpoint server) : socket_(io_) {
        socket_.connect(server);
        timeval timeout{};
        timeout.tv_sec = 30;
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    }

    /// Sends one request and reads the answer; throws on I/O errors.
    Response send(http::verb method, const std::string& target, std::string body,
                  const std::map<std::string, std::string>& headers = {}) {
        http::request<http::string_body> request(method, target, 11);
        request.set(http::field::host, "127.0.0.1");
        for (const auto& [name, value] : headers) request.set(name, value);
        request.body() = std::move(body);
        if (method == http::verb::post) request.prepare_payload();
        http::write(socket_, request);
        Response response;
        http::read(socket_, buffer_, response);
        return response;
    }

    /// POST `body` to /mcp as application/json, the way the SDK client does.
    Response post(std::string body, std::optional<std::string> session_id = {},
                  std::map<std::string, std::string> headers = {}) {
        headers.emplace("Content-Type", "application/json");
        headers.emplace("Accept", "application/json, text/event-stream");
        if (session_id) headers.emplace("Mcp-Session-Id", *session_id);
        return send(http::verb::post, "/mcp", std::move(body), headers);
    }

    /// Writes raw bytes (for oversize and malformed requests).
    void write_raw(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

    Response read() {
        Response response;
        http::read(socket_, buffer_, response);
        return response;
    }

    /// Whether the server has closed the connection (reads EOF).
    bool closed_by_server() {
        char byte;
        boost::system::error_code error;
        socket_.read_some(boost::asio::buffer(&byte, 1), error);
        return error == boost::asio::error::eof || error == boost::asio::error::connection_reset;
    }

private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace test_support
