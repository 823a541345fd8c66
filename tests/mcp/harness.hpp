// Shared by the MCP tests: test tools, and helpers that drive an McpEndpoint
// from a plain test body.
#pragma once

#include <x402/mcp.hpp>

#include "support.hpp"
#include "trusting_payment_gate_double.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace mcp_test {

using x402::mcp::json;
namespace mcp = x402::mcp;
namespace xs = x402::session;

inline const std::string alice = "0xA11CE0000000000000000000000000000000A11C";
inline const std::string bob = "0xB0B0000000000000000000000000000000000B0B";

/// The price of the paid test tool: a PaymentRequired template.
inline json test_price() {
    return {{"x402Version", 2},
            {"resource", {{"url", "https://agent.example.com/mcp/tools/remember"}, {"description", "remember"}, {"mimeType", "application/json"}}},
            {"accepts", json::array({{{"scheme", "exact"},
                                      {"network", "eip155:84532"},
                                      {"amount", "1000"},
                                      {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                                      {"payTo", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"},
                                      {"maxTimeoutSeconds", 60},
                                      {"extra", {{"name", "USDC"}, {"version", "2"}}}}})}};
}

inline json payer_json() {
    auto payer = xs::get_payer();
    return payer ? json(*payer) : json(nullptr);
}

/// Free: echoes `text` and reports the payer it sees before and after a suspension.
inline mcp::awaitable<mcp::ToolResult> echo(json arguments) {
    const json before = payer_json();
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_return mcp::ToolResult::object(
        {{"text", arguments["text"]}, {"payerBefore", before}, {"payerAfter", payer_json()}});
}

/// Free: always throws.
inline mcp::awaitable<mcp::ToolResult> boom(json) {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    throw std::runtime_error("kaput");
}

/// Paid: stores `value` (if given) in the payer's session and answers the
/// previous one and the payer seen before and after each suspension.
inline mcp::awaitable<mcp::ToolResult> remember(json arguments) {
    auto session = xs::get_session();
    if (!session) co_return mcp::ToolResult::object({{"success", false}, {"error", "No authenticated signer in context"}});
    const json before = payer_json();
    std::optional<std::string> previous = co_await session->get("value");
    const json middle = payer_json();
    if (arguments.contains("value")) co_await session->set("value", arguments["value"].get<std::string>());
    co_return mcp::ToolResult::object({{"success", true},
                                       {"previous", previous ? json(*previous) : json(nullptr)},
                                       {"payerBefore", before},
                                       {"payerMiddle", middle},
                                       {"payerAfter", payer_json()},
                                       {"sessionPayer", session->payer()}});
}

inline void add_test_tools(mcp::ToolRegistry& tools) {
    mcp::Tool echo_tool;
    echo_tool.name = "echo";
    echo_tool.description = "Echoes its text";
    echo_tool.input_schema = {{"type", "object"},
                              {"properties", {{"text", {{"type", "string"}}}}},
                              {"required", json::array({"text"})},
                              {"additionalProperties", false}};
    echo_tool.handler = echo;
    tools.add(std::move(echo_tool));

    mcp::Tool boom_tool;
    boom_tool.name = "boom";
    boom_tool.description = "Throws";
    boom_tool.handler = boom;
    tools.add(std::move(boom_tool));

    mcp::Tool remember_tool;
    remember_tool.name = "remember";
    remember_tool.description = "Remembers a value per payer";
    remember_tool.input_schema = {{"type", "object"}, {"properties", {{"value", {{"type", "string"}}}}}};
    remember_tool.price = test_price();
    remember_tool.handler = remember;
    tools.add(std::move(remember_tool));
}

/// A request object.
inline json request(json id, std::string method, json params = nullptr) {
    json out = {{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", std::move(method)}};
    if (!params.is_null()) out["params"] = std::move(params);
    return out;
}

inline json notification(std::string method) { return {{"jsonrpc", "2.0"}, {"method", std::move(method)}}; }

inline json initialize_request(std::string version, json id = 0) {
    return request(std::move(id), "initialize",
                   {{"protocolVersion", std::move(version)},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "catch2"}, {"version", "1"}}}});
}

inline json call_request(json id, std::string tool, json arguments, json payment = nullptr) {
    json params = {{"name", std::move(tool)}, {"arguments", std::move(arguments)}};
    if (!payment.is_null()) params["_meta"] = {{"x402/payment", std::move(payment)}};
    return request(std::move(id), "tools/call", std::move(params));
}

inline json pay_as(const std::string& payer) { return {{"testPayer", payer}}; }

/// Posts `body` to the endpoint and waits for the reply.
inline mcp::Reply post_raw(mcp::McpEndpoint& endpoint, std::string body, std::optional<std::string> session_id = {},
                           std::optional<std::string> version = {}) {
    return test_support::run(endpoint.post(std::move(body), std::move(session_id), std::move(version)));
}

inline mcp::Reply post(mcp::McpEndpoint& endpoint, const json& message, std::optional<std::string> session_id = {},
                       std::optional<std::string> version = {}) {
    return post_raw(endpoint, message.dump(), std::move(session_id), std::move(version));
}

/// Initializes with `version` and returns the session id.
inline std::string open_session(mcp::McpEndpoint& endpoint, std::string version = "2025-11-25") {
    mcp::Reply reply = post(endpoint, initialize_request(std::move(version)));
    if (reply.status != 200 || !reply.session_id) throw std::runtime_error("initialize failed: " + reply.body);
    mcp::Reply initialized = post(endpoint, notification("notifications/initialized"), reply.session_id);
    if (initialized.status != 202) throw std::runtime_error("notifications/initialized failed");
    return *reply.session_id;
}

}  // namespace mcp_test
