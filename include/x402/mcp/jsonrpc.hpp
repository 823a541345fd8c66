// JSON-RPC 2.0 as MCP uses it: error codes, response builders and the
// classification of one incoming message (request, notification, response,
// or invalid).
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace x402::mcp {

using json = nlohmann::json;

namespace jsonrpc {

/// JSON-RPC 2.0 error codes (jsonrpc.org/specification §5.1).
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
/// Transport-level errors of the MCP SDKs' Streamable HTTP servers, reused
/// here so that clients see familiar codes: a bad HTTP request (missing
/// session id, unsupported protocol version header, wrong content type).
inline constexpr int bad_request = -32000;
/// The Mcp-Session-Id names no live session (HTTP 404).
inline constexpr int session_not_found = -32001;
/// The server holds its most MCP sessions, all of paying clients (HTTP 503);
/// the transport code of the SDKs again.
inline constexpr int server_busy = -32000;
/// `resources/read` of a URI no resource or template serves (the MCP spec's code).
inline constexpr int resource_not_found = -32002;
/// A priced `resources/read` or `prompts/get` sent without a usable payment;
/// `data` is the x402 PaymentRequired object. Ours: no specification defines
/// one (docs/mcp.md).
inline constexpr int payment_required = 402;

/// `{"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message[,"data":data]}}`.
inline json error_response(json id, int code, std::string message, json data = nullptr) {
    json error = {{"code", code}, {"message", std::move(message)}};
    if (!data.is_null()) error["data"] = std::move(data);
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"error", std::move(error)}};
}

/// `{"jsonrpc":"2.0","id":id,"result":result}`.
inline json result_response(json id, json result) {
    return {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"result", std::move(result)}};
}

/// What one incoming JSON value is.
struct Message {
    enum class Kind {
        /// Has a method and an id: must be answered.
        request,
        /// Has a method and no id: never answered.
        notification,
        /// Has a result or an error: a client's answer to a server request.
        response,
        /// Anything else: answered with invalid_request (-32600).
        invalid,
    };

    Kind kind = Kind::invalid;
    /// The request's id (string or integer); null when absent or unusable.
    json id = nullptr;
    /// The method of a request or notification.
    std::string method;
    /// The params (object or array); null when absent.
    json params = nullptr;
    /// Why the message is invalid, for the error message.
    std::string problem;
};

/// Classifies `message` by JSON-RPC 2.0 with MCP's narrowing: an id must be a
/// string or an integer (MCP forbids null ids), `params` an object or array.
inline Message classify(const json& message) {
    Message out;
    if (!message.is_object()) {
        out.problem = "a message must be a JSON object";
        return out;
    }
    const auto id = message.find("id");
    const bool has_id = id != message.end();
    const bool id_usable = has_id && (id->is_string() || id->is_number_integer());
    if (id_usable) out.id = *id;

    const auto version = message.find("jsonrpc");
    if (version == message.end() || !version->is_string() || *version != "2.0") {
        out.problem = "\"jsonrpc\" must be \"2.0\"";
        return out;
    }
    const auto method = message.find("method");
    if (method == message.end()) {
        const bool has_result = message.contains("result");
        const bool has_error = message.contains("error");
        if (has_id && (has_result != has_error)) {
            out.kind = Message::Kind::response;
            return out;
        }
        out.problem = "a message needs a \"method\" (or, for a response, an \"id\" and one of \"result\" or \"error\")";
        return out;
    }
    if (!method->is_string()) {
        out.problem = "\"method\" must be a string";
        return out;
    }
    if (has_id && !id_usable) {
        out.problem = "\"id\" must be a string or an integer";
        return out;
    }
    const auto params = message.find("params");
    if (params != message.end()) {
        if (!params->is_object() && !params->is_array()) {
            out.problem = "\"params\" must be an object or an array";
            return out;
        }
        out.params = *params;
    }
    out.method = method->get<std::string>();
    out.kind = has_id ? Message::Kind::request : Message::Kind::notification;
    return out;
}

}  // namespace jsonrpc
/// Thrown by a resource or prompt handler to answer a JSON-RPC error of its
/// choosing rather than -32603: a priced call's payment is not charged for
/// it (Settlement::after_handler), as for a tool's `isError` result.
///
///     throw RequestError::resource_not_found(uri);
class RequestError : public std::runtime_error {
public:
    RequestError(int code, std::string message, json data = nullptr)
        : std::runtime_error(message), code_(code), message_(std::move(message)), data_(std::move(data)) {}

    /// -32002 "Resource not found" with `data: {"uri": uri}`, as for a URI nothing serves.
    static RequestError resource_not_found(std::string uri) {
        return RequestError(jsonrpc::resource_not_found, "Resource not found", json{{"uri", std::move(uri)}});
    }

    int code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    const json& data() const noexcept { return data_; }

private:
    int code_;
    std::string message_;
    json data_;
};

}  // namespace x402::mcp
