// The resources, prompts and completion methods of McpEndpoint (endpoint.hpp),
// as free functions over the registries; subscriptions, which belong to MCP
// sessions, stay in the endpoint.
#pragma once

#include <x402/mcp/completion.hpp>
#include <x402/mcp/content.hpp>
#include <x402/mcp/detail/gate_call.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/payment_gate.hpp>
#include <x402/mcp/price.hpp>
#include <x402/mcp/prompt.hpp>
#include <x402/mcp/resource.hpp>
#include <x402/session/plugin.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::mcp::detail {

/// Which capability a method belongs to.
enum class Feature { none, resources, prompts, completions };

inline Feature feature_of(std::string_view method) noexcept {
    if (method == "resources/list" || method == "resources/templates/list" || method == "resources/read" ||
        method == "resources/subscribe" || method == "resources/unsubscribe")
        return Feature::resources;
    if (method == "prompts/list" || method == "prompts/get") return Feature::prompts;
    if (method == "completion/complete") return Feature::completions;
    return Feature::none;
}

/// Whether the server declares `feature`: a server with nothing to offer
/// leaves the capability out and answers its methods -32601, as the SDKs do.
inline bool serves(Feature feature, const ResourceRegistry& resources, const PromptRegistry& prompts) noexcept {
    switch (feature) {
    case Feature::resources: return !resources.empty();
    case Feature::prompts: return !prompts.empty();
    case Feature::completions: return !prompts.empty() || !resources.templates().empty();
    case Feature::none: break;
    }
    return false;
}

/// The capabilities initialize adds to `tools`.
inline json feature_capabilities(const ResourceRegistry& resources, const PromptRegistry& prompts) {
    json out = json::object();
    if (serves(Feature::resources, resources, prompts)) out["resources"] = {{"subscribe", true}, {"listChanged", false}};
    if (serves(Feature::prompts, resources, prompts)) out["prompts"] = {{"listChanged", false}};
    if (serves(Feature::completions, resources, prompts)) out["completions"] = json::object();
    return out;
}

inline json invalid_params(const jsonrpc::Message& message, std::string why) {
    return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Invalid params: " + std::move(why));
}

/// A handler's or completer's exception, rendered as tool errors are.
inline json handler_error(const jsonrpc::Message& message, const std::string& what) {
    return jsonrpc::error_response(message.id, jsonrpc::internal_error, "Error: " + what);
}

/// The refusal of a list request's params (we answer one page: any cursor is unknown).
inline std::optional<json> list_refusal(const jsonrpc::Message& message) {
    if (!message.params.is_null() && !message.params.is_object())
        return invalid_params(message, "params must be an object");
    if (message.params.is_object() && message.params.contains("cursor"))
        return invalid_params(message, "unknown cursor");
    return std::nullopt;
}

/// The refusal of a request whose params need a string `uri`.
inline std::optional<json> uri_refusal(const jsonrpc::Message& message) {
    if (!message.params.is_object()) return invalid_params(message, "params must be an object");
    const auto uri = message.params.find("uri");
    if (uri == message.params.end() || !uri->is_string())
        return invalid_params(message, message.method + " needs params.uri (a string)");
    return std::nullopt;
}

inline json resource_not_found(const jsonrpc::Message& message, const std::string& uri) {
    return jsonrpc::error_response(message.id, jsonrpc::resource_not_found, "Resource not found", {{"uri", uri}});
}

inline json list_resources(const ResourceRegistry& registry, const jsonrpc::Message& message) {
    if (auto refusal = list_refusal(message)) return *refusal;
    json items = json::array();
    for (const auto& resource : registry.resources()) items.push_back(resource->to_json());
    return jsonrpc::result_response(message.id, {{"resources", std::move(items)}});
}

inline json list_resource_templates(const ResourceRegistry& registry, const jsonrpc::Message& message) {
    if (auto refusal = list_refusal(message)) return *refusal;
    json items = json::array();
    for (const auto& resource_template : registry.templates()) items.push_back(resource_template->to_json());
    return jsonrpc::result_response(message.id, {{"resourceTemplates", std::move(items)}});
}

/// A `resources/read` or `prompts/get` whose params were checked: what runs,
/// and what it costs.
struct FeatureCall {
    /// What the payment buys: the URI read, or the prompt's name.
    std::string target;
    /// As parsed at registration; null: free.
    std::shared_ptr<const Price> price;
    /// Runs the handler (see run_rpc).
    std::function<awaitable<RpcResult>()> handler;
};

/// Runs `handler` and renders its value with `render`; a RequestError it
/// throws becomes the result's `error` (a failure, not charged); any other
/// exception goes on to the caller.
template <class Value>
awaitable<RpcResult> run_rpc(std::function<awaitable<Value>()> handler, std::function<json(const Value&)> render) {
    RpcResult out;
    try {
        Value value = co_await handler();
        out.result = render(value);
    } catch (const RequestError& error) {
        json refusal = {{"code", error.code()}, {"message", error.message()}};
        if (!error.data().is_null()) refusal["data"] = error.data();
        out.error = std::move(refusal);
    }
    co_return out;
}

inline json contents_result(const std::vector<ResourceContents>& contents) {
    json items = json::array();
    for (const ResourceContents& entry : contents) items.push_back(entry.to_json());
    return json{{"contents", std::move(items)}};
}

/// `resources/read`: the resource at exactly params.uri, else the first
/// template that matches it. Returns the refusal of bad params or an unknown
/// URI (checked before any payment), else nullopt with `call` set.
inline std::optional<json> prepare_read(const ResourceRegistry& registry, const jsonrpc::Message& message,
                                        FeatureCall& call) {
    if (auto refusal = uri_refusal(message)) return refusal;
    const std::string uri = message.params["uri"].get<std::string>();
    std::function<awaitable<std::vector<ResourceContents>>()> read;
    if (auto resource = registry.find(uri)) {
        read = [resource, uri] { return resource->handler(uri); };
        call.price = registry.price(uri);
    } else if (auto match = registry.match(uri)) {
        read = [found = match->resource_template, uri, variables = std::move(match->variables)] {
            return found->handler(uri, variables);
        };
        call.price = std::move(match->price);
    } else {
        return resource_not_found(message, uri);
    }
    call.target = uri;
    call.handler = [read = std::move(read)] { return run_rpc<std::vector<ResourceContents>>(read, contents_result); };
    return std::nullopt;
}

/// The price of the call `message` asks for, when it is a `resources/read`
/// or `prompts/get` of a priced one; null otherwise.
inline std::shared_ptr<const Price> feature_price(const ResourceRegistry& resources, const PromptRegistry& prompts,
                                                  const jsonrpc::Message& message) {
    if (!message.params.is_object()) return nullptr;
    if (message.method == "resources/read") {
        const json uri = message.params.value("uri", json());
        if (!uri.is_string()) return nullptr;
        if (resources.find(uri.get<std::string>())) return resources.price(uri.get<std::string>());
        auto match = resources.match(uri.get<std::string>());
        return match ? match->price : nullptr;
    }
    if (message.method == "prompts/get") {
        const json name = message.params.value("name", json());
        return name.is_string() ? prompts.price(name.get<std::string>()) : nullptr;
    }
    return nullptr;
}

/// A paid call's identity for payment identifiers: the method and the params
/// without `_meta` (where the payment travels).
inline std::string call_fingerprint(const jsonrpc::Message& message) {
    json params = message.params;
    if (params.is_object()) params.erase("_meta");
    return message.method + '\n' + params.dump();
}

/// The JSON-RPC answer of a resources/read or prompts/get that went through
/// call_through_gate: its result (the receipt in `_meta`), the handler's
/// RequestError, 402 with the PaymentRequired as `data`, or an error.
inline json render_rpc(const jsonrpc::Message& message, const std::string& target, GateCall<RpcResult> call) {
    const std::string receipt_key(payment_response_meta_key);
    if (call.failure) return handler_error(message, *call.failure);
    if (call.no_gate)
        return jsonrpc::error_response(message.id, jsonrpc::internal_error,
                                       target + " requires payment, and this server has no payment verifier");
    GateDecision& decision = call.decision;
    if (decision.refused()) {
        const std::string why = decision.payment_required.value("error", std::string("refused"));
        // Paying again would not help (a payment identifier missing,
        // malformed or in conflict): a plain error that says why.
        if (decision.receipt.is_null() && decision.http_status != 402)
            return jsonrpc::error_response(message.id, jsonrpc::invalid_params,
                                           "Error: " + why + ": " + decision.refusal_message);
        if (decision.receipt.is_null()) {
            std::string text = "Payment required (" + why + ")";
            if (!decision.refusal_message.empty()) text += ": " + decision.refusal_message;
            return jsonrpc::error_response(message.id, jsonrpc::payment_required, std::move(text),
                                           std::move(decision.payment_required));
        }
        // It settled, then failed: not a "pay again"; the receipt in data._meta.
        json data = {{"_meta", {{receipt_key, std::move(decision.receipt)}}}};
        return jsonrpc::error_response(message.id, jsonrpc::internal_error,
                                       "Error: " + why + ": the payment settled, but the call did not complete",
                                       std::move(data));
    }
    RpcResult& answer = *call.result;
    if (!answer.error.is_null()) {
        // The handler's own error (charged nothing after_handler; a
        // before_handler payment settled first, so its receipt comes along).
        json error = std::move(answer.error);
        if (!decision.receipt.is_null()) {
            if (!error.contains("data") || !error["data"].is_object()) error["data"] = json::object();
            error["data"]["_meta"][receipt_key] = std::move(decision.receipt);
        }
        return json{{"jsonrpc", "2.0"}, {"id", message.id}, {"error", std::move(error)}};
    }
    json result = std::move(answer.result);
    if (!decision.receipt.is_null()) result["_meta"] = json{{receipt_key, std::move(decision.receipt)}};
    return jsonrpc::result_response(message.id, std::move(result));
}

/// The payment in `params._meta["x402/payment"]` (null: none) into `payment`;
/// the refusal of a `_meta` that is not an object.
inline std::optional<json> meta_payment(const jsonrpc::Message& message, json& payment) {
    payment = nullptr;
    if (!message.params.is_object()) return std::nullopt;
    const auto meta = message.params.find("_meta");
    if (meta == message.params.end()) return std::nullopt;
    if (!meta->is_object()) return invalid_params(message, "params._meta must be an object");
    payment = meta->value(std::string(payment_meta_key), json());
    return std::nullopt;
}

inline json list_prompts(const PromptRegistry& registry, const jsonrpc::Message& message) {
    if (auto refusal = list_refusal(message)) return *refusal;
    json items = json::array();
    for (const auto& prompt : registry.prompts()) items.push_back(prompt->to_json());
    return jsonrpc::result_response(message.id, {{"prompts", std::move(items)}});
}

/// An object of string values as a map; nullopt (and `problem`) otherwise.
inline std::optional<std::map<std::string, std::string>> string_map(const json& value, const std::string& what,
                                                                    std::string& problem) {
    if (!value.is_object()) {
        problem = what + " must be an object";
        return std::nullopt;
    }
    std::map<std::string, std::string> out;
    for (const auto& [name, item] : value.items()) {
        if (!item.is_string()) {
            problem = what + "." + name + " must be a string";
            return std::nullopt;
        }
        out.emplace(name, item.get<std::string>());
    }
    return out;
}

/// `prompts/get`: checks the arguments against the prompt's. Returns the
/// refusal (before any payment), else nullopt with `call` set.
inline std::optional<json> prepare_prompt(const PromptRegistry& registry, const jsonrpc::Message& message,
                                          FeatureCall& call) {
    const json& params = message.params;
    if (!params.is_object()) return invalid_params(message, "params must be an object");
    if (!params.contains("name") || !params["name"].is_string())
        return invalid_params(message, "prompts/get needs params.name (a string)");
    const std::string name = params["name"].get<std::string>();
    const std::shared_ptr<const Prompt> prompt = registry.find(name);
    if (!prompt) return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Unknown prompt: " + name);
    std::string problem;
    auto arguments = string_map(params.value("arguments", json::object()), "params.arguments", problem);
    if (!arguments) return invalid_params(message, std::move(problem));
    for (const PromptArgument& argument : prompt->arguments)
        if (argument.required && arguments->count(argument.name) == 0)
            return invalid_params(message, "prompt " + name + " needs argument " + argument.name);

    std::function<awaitable<PromptResult>()> get = [prompt, values = std::move(*arguments)] {
        return prompt->handler(values);
    };
    call.target = name;
    call.price = registry.price(name);
    call.handler = [get = std::move(get)] {
        return run_rpc<PromptResult>(get, [](const PromptResult& result) { return result.to_json(); });
    };
    return std::nullopt;
}

/// `completion/complete` for a prompt argument (ref/prompt) or a template
/// variable (ref/resource). An argument without a completer, or a fixed
/// resource's URI, completes to nothing, as the SDKs answer.
inline json complete(const PromptRegistry& prompts, const ResourceRegistry& resources, const jsonrpc::Message& message) {
    const json& params = message.params;
    if (!params.is_object()) return invalid_params(message, "params must be an object");
    const json ref = params.value("ref", json());
    if (!ref.is_object() || !ref.contains("type") || !ref["type"].is_string())
        return invalid_params(message, "completion/complete needs params.ref (an object with a string type)");
    const json argument = params.value("argument", json());
    if (!argument.is_object() || !argument.contains("name") || !argument["name"].is_string() ||
        !argument.contains("value") || !argument["value"].is_string())
        return invalid_params(message, "completion/complete needs params.argument {name, value} (strings)");
    const std::string argument_name = argument["name"].get<std::string>();
    CompletionContext context;
    if (const auto found = params.find("context"); found != params.end()) {
        if (!found->is_object()) return invalid_params(message, "params.context must be an object");
        std::string problem;
        auto values = string_map(found->value("arguments", json::object()), "params.context.arguments", problem);
        if (!values) return invalid_params(message, std::move(problem));
        context = std::move(*values);
    }

    const Completer* completer = nullptr;
    const std::string type = ref["type"].get<std::string>();
    if (type == "ref/prompt") {
        if (!ref.contains("name") || !ref["name"].is_string())
            return invalid_params(message, "params.ref.name must be a string");
        const std::string name = ref["name"].get<std::string>();
        const std::shared_ptr<const Prompt> prompt = prompts.find(name);
        if (!prompt) return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Unknown prompt: " + name);
        for (const PromptArgument& declared : prompt->arguments)
            if (declared.name == argument_name && declared.completer) completer = &declared.completer;
    } else if (type == "ref/resource") {
        if (!ref.contains("uri") || !ref["uri"].is_string())
            return invalid_params(message, "params.ref.uri must be a string");
        const std::string uri = ref["uri"].get<std::string>();
        if (const auto found = resources.find_template(uri)) {
            if (const auto named = found->completers.find(argument_name); named != found->completers.end())
                completer = &named->second;
        } else if (!resources.find(uri)) {
            return jsonrpc::error_response(message.id, jsonrpc::invalid_params, "Unknown resource template: " + uri);
        }
    } else {
        return invalid_params(message, "params.ref.type must be ref/prompt or ref/resource");
    }
    // The registries are frozen and hold the completer for as long as the endpoint lives.
    std::vector<std::string> values;
    if (completer) {
        try {
            values = (*completer)(argument["value"].get_ref<const std::string&>(), context);
        } catch (const std::exception& error) {
            return handler_error(message, error.what());
        } catch (...) {
            return handler_error(message, "unknown exception");
        }
    }
    return jsonrpc::result_response(message.id, completion_result(std::move(values)));
}

}  // namespace x402::mcp::detail
