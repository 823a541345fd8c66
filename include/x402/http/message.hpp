// One HTTP request and one answer, as the server's route handlers see them:
// plain copies (they may be kept across suspensions), no Beast types.
#pragma once

#include <x402/http/response_stream.hpp>

#include <boost/beast/core/string.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

/// Whether `text` is well-formed UTF-8: no overlong forms, no surrogates,
/// nothing above U+10FFFF. Request targets and bodies are bytes; a handler
/// that turns them into text checks them with this first.
inline bool is_valid_utf8(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        std::uint32_t least = 0;
        if (lead < 0x80) { ++i; continue; }
        if ((lead >> 5) == 0x6) { length = 2; code = lead & 0x1Fu; least = 0x80; }
        else if ((lead >> 4) == 0xE) { length = 3; code = lead & 0x0Fu; least = 0x800; }
        else if ((lead >> 3) == 0x1E) { length = 4; code = lead & 0x07u; least = 0x10000; }
        else return false;
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0u) != 0x80u) return false;
            code = (code << 6) | (next & 0x3Fu);
        }
        if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

/// One HTTP request.
struct Request {
    /// "GET", "POST", ...
    std::string method;
    /// The request target as sent (path and query).
    std::string target;
    /// The target without its query.
    std::string path;
    /// For a route path ending in '*': what the '*' matched; else empty.
    std::string rest;
    std::string body;
    /// Every header field as sent, in order.
    std::vector<std::pair<std::string, std::string>> headers;

    /// The first header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [field, value] : headers)
            if (boost::beast::iequals(field, name)) return value;
        return std::nullopt;
    }
};

/// What a route handler answers. The server adds Content-Length (or, for a
/// stream, chunked Transfer-Encoding), Connection and Server.
struct Response {
    unsigned status = 200;
    /// Sent when the body is not empty.
    std::string content_type = "application/json";
    std::string body;
    /// Extra header fields to send.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Set: the body is streamed (response_stream.hpp) and `body` is not
    /// sent; the header goes out at once, each chunk as it is written.
    std::shared_ptr<ResponseStream> stream;

    /// A response with a text/plain body.
    static Response text(unsigned status, std::string body) {
        Response response;
        response.status = status;
        response.content_type = "text/plain";
        response.body = std::move(body);
        return response;
    }
};

}  // namespace x402::http
