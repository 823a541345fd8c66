// MCP tools: the result a handler returns, the tool description, and the
// registry a server lists and calls from.
#pragma once

#include <x402/mcp/content.hpp>
#include <x402/mcp/detail/schema.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/price.hpp>
#include <x402/mcp/request_context.hpp>
#include <x402/session/store.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace x402::mcp {

/// What a tool call answers: content items, optional structured content,
/// and whether it is a tool execution error.
///
///     co_return ToolResult::text("done");
///     co_return ToolResult::object({{"success", true}});   // text + structuredContent
///     co_return ToolResult::error("No content found");      // isError: true
///
///     ToolResult result = ToolResult::text("the chart:");
///     result.content.push_back(Content::image(base64_png, "image/png"));
struct ToolResult {
    /// The `content` array (content.hpp); a string is a text item.
    std::vector<Content> content;
    /// `structuredContent`; null for none (must be an object when set).
    json structured_content = nullptr;
    /// `isError`: the tool ran and failed (the model sees it and may retry).
    bool is_error = false;

    /// One text item.
    static ToolResult text(std::string text) {
        ToolResult result;
        result.content.push_back(std::move(text));
        return result;
    }

    /// An object as structuredContent and as its text (JSON, indent 2), the
    /// way the original template's tools answer.
    static ToolResult object(json value) {
        ToolResult result;
        result.content.push_back(value.dump(2));
        result.structured_content = std::move(value);
        return result;
    }

    /// A tool execution error with one text item.
    static ToolResult error(std::string message) {
        ToolResult result = text(std::move(message));
        result.is_error = true;
        return result;
    }

    /// The MCP CallToolResult (without `_meta`).
    json to_json() const {
        json items = json::array();
        for (const Content& item : content) items.push_back(item.to_json());
        json out = {{"content", std::move(items)}};
        if (!structured_content.is_null()) out["structuredContent"] = structured_content;
        if (is_error) out["isError"] = true;
        return out;
    }
};

/// A tool's handler: takes the call's `arguments` (an object, already
/// checked against the input schema) and returns the result. Exceptions
/// become `isError` results ("Error: <what()>"). A paid tool's handler runs
/// in the verified payer's context (get_session()), a free tool's in none.
/// Either of two forms; the second also gets the request, to log, report
/// progress or ask the client (request_context.hpp):
///
///     awaitable<ToolResult>(json arguments)
///     awaitable<ToolResult>(json arguments, RequestContext call)
class ToolHandler {
public:
    ToolHandler() = default;
    ToolHandler(std::nullptr_t) noexcept {}

    template <class Function>
        requires std::is_invocable_r_v<awaitable<ToolResult>, Function&, json, RequestContext>
    ToolHandler(Function function) : call_(std::move(function)) {}

    template <class Function>
        requires(!std::is_invocable_v<Function&, json, RequestContext> &&
                 std::is_invocable_r_v<awaitable<ToolResult>, Function&, json>)
    ToolHandler(Function function)
        : call_([function = std::move(function)](json arguments, RequestContext) mutable {
              return function(std::move(arguments));
          }) {}

    explicit operator bool() const noexcept { return static_cast<bool>(call_); }

    awaitable<ToolResult> operator()(json arguments, RequestContext call = {}) const {
        return call_(std::move(arguments), std::move(call));
    }

private:
    std::function<awaitable<ToolResult>(json, RequestContext)> call_;
};

/// One tool as registered.
struct Tool {
    /// Unique name, e.g. "get-content".
    std::string name;
    /// For the model: what the tool does.
    std::string description;
    /// JSON Schema (2020-12) of `arguments`; must be an object schema
    /// (`"type":"object"`) of the keywords detail/schema.hpp enforces.
    json input_schema = {{"type", "object"}};
    /// nullopt: free. Otherwise the x402 PaymentRequired object (without
    /// `error`: `{x402Version, resource, accepts}`) the PaymentGate checks
    /// payments against, parsed when the tool is added (see Price).
    std::optional<json> price;
    /// The handler; must be set. Whatever it captures must outlive the server.
    ToolHandler handler;
    /// Optional human-readable title (MCP 2025-06-18+); empty for none.
    std::string title;
    /// A priced tool: when its payment settles. after_handler (the default)
    /// stages the handler's session writes and commits them only once the
    /// payment settled, and charges nothing for an `isError` result;
    /// before_handler settles first (effects that cannot be staged).
    payment::Settlement settlement = payment::Settlement::after_handler;

    /// The `tools/list` entry.
    json to_json() const {
        json out = {{"name", name}, {"description", description}, {"inputSchema", input_schema}};
        if (!title.empty()) out["title"] = title;
        return out;
    }
};

/// The tools of a server, in registration order.
///
///     registry.add(Tool{.name = "echo", .description = "Echoes", .handler = echo});
///
/// Register every tool before the server starts serving: after the first
/// request the registry is frozen and `add` throws std::logic_error. Reads are
/// thread-safe once frozen.
class ToolRegistry {
public:
    /// Throws std::invalid_argument for an empty or duplicate name, a missing
    /// handler, an input schema that is not an object schema or that uses a
    /// keyword detail/schema.hpp does not enforce, or a price that is null or
    /// not a usable x402 PaymentRequired; std::logic_error once frozen.
    void add(Tool tool) {
        if (frozen_.load(std::memory_order_acquire))
            throw std::logic_error("x402::mcp::ToolRegistry: tools must be registered before the server serves");
        if (tool.name.empty()) throw std::invalid_argument("tool name must not be empty");
        if (index_.count(tool.name) != 0) throw std::invalid_argument("duplicate tool name: " + tool.name);
        if (!tool.handler) throw std::invalid_argument("tool " + tool.name + " has no handler");
        const auto type = tool.input_schema.is_object() ? tool.input_schema.find("type") : tool.input_schema.end();
        if (!tool.input_schema.is_object() || type == tool.input_schema.end() || *type != "object")
            throw std::invalid_argument("tool " + tool.name + ": input schema must be an object schema");
        if (auto problem = detail::schema_problem(tool.input_schema))
            throw std::invalid_argument("tool " + tool.name + ": " + *problem);
        std::shared_ptr<const Price> price = make_price(tool.price, tool.settlement, "tool " + tool.name);
        index_.emplace(tool.name, tools_.size());
        tools_.push_back(std::make_shared<const Tool>(std::move(tool)));
        prices_.push_back(std::move(price));
    }

    /// The tool named `name`, or null. The pointer stays valid as long as the registry.
    std::shared_ptr<const Tool> find(const std::string& name) const {
        const auto found = index_.find(name);
        return found == index_.end() ? nullptr : tools_[found->second];
    }

    /// The price of the tool named `name` as parsed at registration; null
    /// for a free or unknown tool.
    std::shared_ptr<const Price> price(const std::string& name) const {
        const auto found = index_.find(name);
        return found == index_.end() ? nullptr : prices_[found->second];
    }

    const std::vector<std::shared_ptr<const Tool>>& tools() const noexcept { return tools_; }

    /// No more `add`; called by the server before it serves.
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }
    bool frozen() const noexcept { return frozen_.load(std::memory_order_acquire); }

private:
    std::vector<std::shared_ptr<const Tool>> tools_;
    std::vector<std::shared_ptr<const Price>> prices_;  // parallel to tools_; null: free
    std::map<std::string, std::size_t> index_;
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::mcp
