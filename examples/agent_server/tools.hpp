// The two tools of the "x402 sessions" template (typescript-original.md §4),
// in C++: put-content and get-content keep content per x402 payer, in the
// session the payment hook opens for the verified payer. The same content is
// readable over plain HTTP: GET /content/<key>, paid with an x402 header, and
// as the priced MCP resource template content://{key} and the priced prompt
// recall-content.
#pragma once

#include <x402/mcp/http_route.hpp>
#include <x402/mcp/prompt.hpp>
#include <x402/mcp/resource.hpp>
#include <x402/mcp/tool.hpp>
#include <x402/session/context.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <vector>
#include <string>
#include <utility>

namespace agent_server {

using x402::mcp::json;
namespace mcp = x402::mcp;

inline constexpr const char* no_signer = "No authenticated signer in context";

/// `payer.slice(0, 10) + "..."`, as the template shows the signer.
inline std::string signer_label(const std::string& payer) { return payer.substr(0, 10) + "..."; }

/// put-content {key, value|null}: stores value under key; null deletes it.
/// Says what it writes in a debug log message (sent once the client sets
/// the level to debug: logging/setLevel). The message goes out before the
/// payment settles, so it says "writing": only the receipt says it counted.
inline mcp::awaitable<mcp::ToolResult> put_content(json arguments, mcp::RequestContext call = {}) {
    auto session = x402::session::get_session();
    if (!session) co_return mcp::ToolResult::object({{"success", false}, {"error", no_signer}});
    std::string key = arguments["key"].get<std::string>();
    const std::string signer = signer_label(session->payer());
    if (arguments["value"].is_null()) {
        const bool deleted = co_await session->erase(key);
        call.log(mcp::LogLevel::debug, {{"erasing", key}, {"found", deleted}}, "put-content");
        co_return mcp::ToolResult::object({{"success", true}, {"key", key}, {"deleted", deleted}, {"signer", signer}});
    }
    const std::string& value = arguments["value"].get_ref<const std::string&>();
    co_await session->set(key, value);
    call.log(mcp::LogLevel::debug, {{"writing", key}, {"bytes", value.size()}}, "put-content");
    co_return mcp::ToolResult::object({{"success", true}, {"key", key}, {"signer", signer}});
}

/// get-content {key?, cursor?}: the value of key, or (no key) one page of
/// the entries with its count and, when more follow, `next_cursor` to pass
/// as `cursor` (a page is capped by the store's PageLimits, so no call makes
/// the server hold more than one page however much the payer stored).
inline mcp::awaitable<mcp::ToolResult> get_content(json arguments, mcp::RequestContext call = {}) {
    auto session = x402::session::get_session();
    if (!session) co_return mcp::ToolResult::object({{"success", false}, {"error", no_signer}});
    if (arguments.contains("key")) {
        std::string key = arguments["key"].get<std::string>();
        const std::optional<std::string> value = co_await session->get(key);
        if (!value)
            co_return mcp::ToolResult::object({{"success", false}, {"error", "No content found for key \"" + key + "\""}});
        co_return mcp::ToolResult::object({{"success", true}, {"key", key}, {"value", *value}});
    }
    x402::session::ListOptions options;
    if (arguments.contains("cursor")) options.cursor = arguments["cursor"].get<std::string>();
    x402::session::ListResult page;
    try {
        page = co_await session->list(std::move(options));
    } catch (const std::invalid_argument& error) {
        co_return mcp::ToolResult::error(error.what());  // an isError result is not charged
    }
    json content = json::object();
    for (auto& entry : page.entries) content[entry.key] = std::move(entry.value);
    const std::size_t count = content.size();
    call.log(mcp::LogLevel::debug, {{"listed", count}, {"more", page.cursor.has_value()}}, "get-content");
    json answer = {{"success", true}, {"content", std::move(content)}, {"count", count}};
    if (page.cursor) answer["next_cursor"] = std::move(*page.cursor);
    co_return mcp::ToolResult::object(std::move(answer));
}

/// GET /content/<key>: get-content over plain HTTP (x402 payment header); the
/// value as JSON, 404 JSON for a missing key.
inline mcp::awaitable<mcp::HttpResponse> get_content_http(mcp::HttpRequest request) {
    auto session = x402::session::get_session();
    if (!session) co_return mcp::json_response(json{{"success", false}, {"error", no_signer}}, 401);
    std::string key = request.rest;
    const std::optional<std::string> value = co_await session->get(key);
    if (!value)
        co_return mcp::json_response(
            json{{"success", false}, {"error", "No content found for key \"" + key + "\""}}, 404);
    co_return mcp::json_response(json{{"success", true}, {"key", key}, {"value", *value}});
}

/// content://{key}: the value of key in the payer's own session, as text
/// (each payer reads only what that payer stored); a missing key is the
/// JSON-RPC error -32002, which is not charged.
inline mcp::awaitable<std::vector<mcp::ResourceContents>> read_content(std::string uri,
                                                                        std::map<std::string, std::string> variables) {
    auto session = x402::session::get_session();
    if (!session) throw std::runtime_error(no_signer);
    const std::optional<std::string> value = co_await session->get(variables.at("key"));
    if (!value) throw mcp::RequestError::resource_not_found(uri);
    std::vector<mcp::ResourceContents> contents;
    contents.push_back(mcp::ResourceContents::of_text(uri, *value));
    co_return contents;
}

/// Where and how the tools are paid.
struct Pricing {
    /// CAIP-2 network, e.g. "eip155:84532" (Base Sepolia).
    std::string network = "eip155:84532";
    /// The recipient.
    std::string pay_to = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    /// The USDC contract on `network`; its EIP-712 domain name and version.
    std::string asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
    std::string asset_name = "USDC";
    std::string asset_version = "2";
};

/// The x402 v2 PaymentRequired template of one tool (without `error`):
/// `amount` is in atomic USDC units (6 decimals: "10000" = $0.01).
inline json price_of_resource(const Pricing& pricing, const std::string& url, const std::string& description,
                              const std::string& amount) {
    json requirement = {{"scheme", "exact"},
                        {"network", pricing.network},
                        {"amount", amount},
                        {"asset", pricing.asset},
                        {"payTo", pricing.pay_to},
                        {"maxTimeoutSeconds", 60},
                        {"extra", {{"name", pricing.asset_name}, {"version", pricing.asset_version}}}};
    return {{"x402Version", 2},
            {"resource", {{"url", url}, {"description", description}, {"mimeType", "application/json"}}},
            {"accepts", json::array({std::move(requirement)})}};
}

/// The price of one tool (resource "mcp://tool/<name>").
inline json price(const Pricing& pricing, const std::string& tool, const std::string& description,
                  const std::string& amount) {
    return price_of_resource(pricing, "mcp://tool/" + tool, description, amount);
}

/// Registers GET /content/<key> ($0.001, like get-content).
inline void add_content_routes(mcp::HttpRouteRegistry& routes, const Pricing& pricing) {
    mcp::HttpRoute get;
    get.method = "GET";
    get.path = "/content/*";
    get.price = price_of_resource(pricing, "/content", "Read the value of a key from the caller's session", "1000");
    get.handler = get_content_http;
    // Checked before the payment, so a malformed key never uses one up.
    get.check = [](const mcp::HttpRequest& request) -> std::optional<mcp::HttpResponse> {
        if (x402::http::is_valid_utf8(request.rest)) return std::nullopt;
        return mcp::json_response(json{{"success", false}, {"error", "the key must be valid UTF-8"}}, 400);
    };
    routes.add(std::move(get));
}

/// Registers the resource template content://{key} ($0.001, like
/// get-content), settled after the read so that a missing key costs nothing.
inline void add_content_resources(mcp::ResourceRegistry& resources, const Pricing& pricing) {
    mcp::ResourceTemplate content;
    content.uri_template = "content://{key}";
    content.name = "content";
    content.description = "The value of a key in the caller's session (x402 signer)";
    content.mime_type = "text/plain";
    content.price = price_of_resource(pricing, "mcp://resource/content", content.description, "1000");
    content.settlement = x402::payment::Settlement::after_handler;
    content.handler = read_content;
    resources.add(std::move(content));
}

/// recall-content {key}: a prompt that hands the model the value of key in
/// the payer's own session, as an embedded resource, and asks it to use it;
/// a missing key is -32002, not charged.
inline mcp::awaitable<mcp::PromptResult> recall_content(std::map<std::string, std::string> arguments) {
    auto session = x402::session::get_session();
    if (!session) throw std::runtime_error(no_signer);
    const std::string uri = "content://" + arguments.at("key");
    const std::optional<std::string> value = co_await session->get(arguments.at("key"));
    if (!value) throw mcp::RequestError::resource_not_found(uri);
    mcp::PromptMessage content;
    content.content = mcp::Content::resource(mcp::ResourceContents::of_text(uri, *value));
    mcp::PromptMessage ask;
    ask.content = "Use the content above, stored under \"" + arguments.at("key") + "\", to answer.";
    co_return mcp::PromptResult{{}, {std::move(content), std::move(ask)}};
}

/// Registers the prompt recall-content ($0.001), settled after it is made so
/// that a missing key costs nothing.
inline void add_content_prompts(mcp::PromptRegistry& prompts, const Pricing& pricing) {
    mcp::Prompt recall;
    recall.name = "recall-content";
    recall.description = "A prompt holding the value of a key in the caller's session (x402 signer)";
    recall.arguments = {{"key", "The key to recall", true, {}}};
    recall.price = price_of_resource(pricing, "mcp://prompt/recall-content", recall.description, "1000");
    recall.settlement = x402::payment::Settlement::after_handler;
    recall.handler = recall_content;
    prompts.add(std::move(recall));
}

/// The longest key the tools take, in characters (longer is refused before
/// payment): with the value bound, what one entry can cost the store.
inline constexpr std::size_t max_key_length = 256;

/// The longest list cursor get-content takes: a cursor is "c:" and the hex
/// of a key, so this is what a key of max_key_length bytes needs.
inline constexpr std::size_t max_cursor_length = 2 + 2 * 4 * max_key_length;

/// Registers put-content ($0.01; values of at most `max_value_length`
/// characters, refused before payment) and get-content ($0.001).
inline void add_content_tools(mcp::ToolRegistry& tools, const Pricing& pricing, std::size_t max_value_length) {
    mcp::Tool put;
    put.name = "put-content";
    put.description = "Store a value under a key in the caller's session (x402 signer); a null value deletes the key.";
    put.input_schema = {{"type", "object"},
                        {"properties",
                         {{"key", {{"type", "string"}, {"maxLength", max_key_length}, {"description", "The key"}}},
                          {"value",
                           {{"type", json::array({"string", "null"})},
                            {"maxLength", max_value_length},
                            {"description", "The value, or null to delete"}}}}},
                        {"required", json::array({"key", "value"})}};
    put.price = price(pricing, put.name, put.description, "10000");
    put.handler = put_content;
    tools.add(std::move(put));

    mcp::Tool get;
    get.name = "get-content";
    get.description = "Read the value of a key from the caller's session; without a key, list one page of the "
                      "entries and their count (next_cursor, when present, gives the next page).";
    get.input_schema = {
        {"type", "object"},
        {"properties",
         {{"key", {{"type", "string"}, {"maxLength", max_key_length}, {"description", "The key"}}},
          {"cursor",
           {{"type", "string"},
            {"maxLength", max_cursor_length},
            {"description", "next_cursor of the previous page"}}}}}};
    get.price = price(pricing, get.name, get.description, "1000");
    get.handler = get_content;
    tools.add(std::move(get));
}

}  // namespace agent_server
