// One HTTP request and one answer, as the server's route handlers see them:
// plain copies (they may be kept across suspensions), no Beast types.
#pragma once

#include <boost/beast/core/string.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::http {

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

/// What a route handler answers. The server adds Content-Length,
/// Connection and Server.
struct Response {
    unsigned status = 200;
    /// Sent when the body is not empty.
    std::string content_type = "application/json";
    std::string body;
    /// Extra header fields to send.
    std::vector<std::pair<std::string, std::string>> headers;

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
