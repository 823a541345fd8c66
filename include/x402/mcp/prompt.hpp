// MCP prompts: the prompt description, the messages a handler returns, and
// the registry a server lists and gets from.
#pragma once

#include <x402/mcp/completion.hpp>
#include <x402/mcp/content.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/price.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace x402::mcp {

/// One message of a prompt: a role and one content item.
struct PromptMessage {
    enum class Role { user, assistant };
    Role role = Role::user;
    Content content;

    json to_json() const {
        return {{"role", role == Role::user ? "user" : "assistant"}, {"content", content.to_json()}};
    }
};

/// What `prompts/get` answers.
///
///     PromptResult result;
///     result.messages.push_back({PromptMessage::Role::user, "Review this code: " + code});
struct PromptResult {
    /// `description`; empty for none.
    std::string description;
    std::vector<PromptMessage> messages;

    json to_json() const {
        json items = json::array();
        for (const PromptMessage& message : messages) items.push_back(message.to_json());
        json out = {{"messages", std::move(items)}};
        if (!description.empty()) out["description"] = description;
        return out;
    }
};

/// One argument a prompt takes.
struct PromptArgument {
    /// Unique within the prompt; must not be empty.
    std::string name;
    std::string description;
    /// `prompts/get` without it is refused (-32602) before the handler runs.
    bool required = false;
    /// Suggests values (`completion/complete`); empty for none.
    Completer completer;
};

/// A prompt's handler: takes the arguments sent (every required one is
/// present; undeclared ones are passed on too) and returns the messages.
/// A RequestError it throws is answered as that JSON-RPC error (and not
/// charged); other exceptions become -32603 "Error: <what()>". A free
/// prompt's handler runs with no payer, a priced one's in the verified
/// payer's context (get_session()).
using PromptHandler = std::function<awaitable<PromptResult>(std::map<std::string, std::string> arguments)>;

/// One prompt as registered.
struct Prompt {
    /// Unique name, e.g. "code-review".
    std::string name;
    std::string description;
    std::vector<PromptArgument> arguments;
    /// The handler; must be set. Whatever it captures must outlive the server.
    PromptHandler handler;
    /// Optional human-readable title (MCP 2025-06-18+); empty for none.
    std::string title;
    /// nullopt: free. Otherwise the x402 PaymentRequired object (without
    /// `error`) a `prompts/get` pays, parsed when it is added (see Price
    /// and Tool::price); the payment is `params._meta["x402/payment"]`.
    std::optional<json> price;
    /// A priced one: when its payment settles (see Tool::settlement).
    payment::Settlement settlement = payment::Settlement::after_handler;

    /// The `prompts/list` entry.
    json to_json() const {
        json out = {{"name", name}};
        if (!title.empty()) out["title"] = title;
        if (!description.empty()) out["description"] = description;
        if (!arguments.empty()) {
            json list = json::array();
            for (const PromptArgument& argument : arguments) {
                json item = {{"name", argument.name}, {"required", argument.required}};
                if (!argument.description.empty()) item["description"] = argument.description;
                list.push_back(std::move(item));
            }
            out["arguments"] = std::move(list);
        }
        return out;
    }
};

/// The prompts of a server, in registration order.
///
///     registry.add(Prompt{.name = "greet", .arguments = {{.name = "who", .required = true}}, .handler = greet});
///
/// Register every prompt before the server serves: after the first request the
/// registry is frozen and `add` throws std::logic_error. Reads are
/// thread-safe once frozen.
class PromptRegistry {
public:
    /// Throws std::invalid_argument for an empty or duplicate name, a missing
    /// handler, an argument name that is empty or repeated, or a price that
    /// is null or not a usable x402 PaymentRequired; std::logic_error once frozen.
    void add(Prompt prompt) {
        if (frozen())
            throw std::logic_error("x402::mcp::PromptRegistry: prompts must be registered before the server serves");
        if (prompt.name.empty()) throw std::invalid_argument("prompt name must not be empty");
        if (index_.count(prompt.name) != 0) throw std::invalid_argument("duplicate prompt name: " + prompt.name);
        if (!prompt.handler) throw std::invalid_argument("prompt " + prompt.name + " has no handler");
        std::set<std::string> names;
        for (const PromptArgument& argument : prompt.arguments) {
            if (argument.name.empty()) throw std::invalid_argument("prompt " + prompt.name + ": empty argument name");
            if (!names.insert(argument.name).second)
                throw std::invalid_argument("prompt " + prompt.name + ": duplicate argument " + argument.name);
        }
        std::shared_ptr<const Price> price = make_price(prompt.price, prompt.settlement, "prompt " + prompt.name);
        index_.emplace(prompt.name, prompts_.size());
        prices_.push_back(std::move(price));
        prompts_.push_back(std::make_shared<const Prompt>(std::move(prompt)));
    }

    /// The prompt named `name`, or null. The pointer stays valid as long as the registry.
    std::shared_ptr<const Prompt> find(const std::string& name) const {
        const auto found = index_.find(name);
        return found == index_.end() ? nullptr : prompts_[found->second];
    }

    /// The price of the prompt named `name` as parsed at registration; null
    /// for a free or unknown prompt.
    std::shared_ptr<const Price> price(const std::string& name) const {
        const auto found = index_.find(name);
        return found == index_.end() ? nullptr : prices_[found->second];
    }

    const std::vector<std::shared_ptr<const Prompt>>& prompts() const noexcept { return prompts_; }
    bool empty() const noexcept { return prompts_.empty(); }

    /// No more `add`; called by the server before it serves.
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }
    bool frozen() const noexcept { return frozen_.load(std::memory_order_acquire); }

private:
    std::vector<std::shared_ptr<const Prompt>> prompts_;
    std::vector<std::shared_ptr<const Price>> prices_;  // parallel to prompts_; null: free
    std::map<std::string, std::size_t> index_;
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::mcp
