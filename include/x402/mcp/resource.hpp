// MCP resources: fixed resources, URI templates, and the registry a server
// lists, reads and completes from.
#pragma once

#include <x402/mcp/completion.hpp>
#include <x402/mcp/content.hpp>
#include <x402/mcp/detail/uri_template.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/price.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace x402::mcp {

/// Reads a resource: takes the URI asked for, returns its contents (usually
/// one entry of that URI). A RequestError it throws is answered as that
/// JSON-RPC error (and not charged); other exceptions become -32603
/// "Error: <what()>". A free resource's handler runs with no payer, a priced
/// one's in the verified payer's context (get_session()).
using ResourceHandler = std::function<awaitable<std::vector<ResourceContents>>(std::string uri)>;

/// Reads a resource of a template: the URI asked for and its variables' values.
using ResourceTemplateHandler =
    std::function<awaitable<std::vector<ResourceContents>>(std::string uri, std::map<std::string, std::string> variables)>;

/// One resource at a fixed URI (`resources/list`).
struct Resource {
    /// Unique URI, e.g. "test://static/readme".
    std::string uri;
    /// Must not be empty.
    std::string name;
    /// For the model; empty for none.
    std::string description;
    /// `mimeType`; empty for none.
    std::string mime_type;
    /// The handler; must be set. Whatever it captures must outlive the server.
    ResourceHandler handler;
    /// Optional human-readable title (MCP 2025-06-18+); empty for none.
    std::string title;
    /// nullopt: free. Otherwise the x402 PaymentRequired object (without
    /// `error`) a `resources/read` pays, parsed when it is added (see Price
    /// and Tool::price); the payment is `params._meta["x402/payment"]`.
    std::optional<json> price;
    /// A priced one: when its payment settles (see Tool::settlement).
    payment::Settlement settlement = payment::Settlement::after_handler;

    /// The `resources/list` entry.
    json to_json() const {
        json out = {{"uri", uri}, {"name", name}};
        if (!title.empty()) out["title"] = title;
        if (!description.empty()) out["description"] = description;
        if (!mime_type.empty()) out["mimeType"] = mime_type;
        return out;
    }
};

/// Resources named by an RFC 6570 level-1 template (`resources/templates/list`):
/// `test://template/{id}/data` serves `test://template/42/data` with id = "42".
/// A variable matches one or more characters other than '/'; in one
/// '/'-separated segment each variable but the last takes as few characters as
/// it can; values are not percent-decoded.
struct ResourceTemplate {
    /// Unique template, e.g. "test://template/{id}/data".
    std::string uri_template;
    /// Must not be empty.
    std::string name;
    std::string description;
    /// `mimeType` of the resources it names; empty for none.
    std::string mime_type;
    /// The handler; must be set. Whatever it captures must outlive the server.
    ResourceTemplateHandler handler;
    /// Completers of variables, by variable name (`completion/complete`).
    std::map<std::string, Completer> completers;
    std::string title;
    /// nullopt: free. Otherwise the x402 PaymentRequired object (without
    /// `error`) a `resources/read` pays, parsed when it is added (see Price
    /// and Tool::price); the payment is `params._meta["x402/payment"]`.
    std::optional<json> price;
    /// A priced one: when its payment settles (see Tool::settlement).
    payment::Settlement settlement = payment::Settlement::after_handler;

    /// The `resources/templates/list` entry.
    json to_json() const {
        json out = {{"uriTemplate", uri_template}, {"name", name}};
        if (!title.empty()) out["title"] = title;
        if (!description.empty()) out["description"] = description;
        if (!mime_type.empty()) out["mimeType"] = mime_type;
        return out;
    }
};

/// The resources and templates of a server, in registration order.
///
///     registry.add(Resource{.uri = "test://readme", .name = "readme", .handler = read_readme});
///     registry.add(ResourceTemplate{.uri_template = "test://item/{id}", .name = "item", .handler = read_item});
///
/// Register everything before the server serves: after the first request the
/// registry is frozen and `add` throws std::logic_error. Reads are
/// thread-safe once frozen.
class ResourceRegistry {
public:
    /// A template that matched a URI, and its variables' values.
    struct Match {
        std::shared_ptr<const ResourceTemplate> resource_template;
        std::map<std::string, std::string> variables;
        /// The template's price as parsed at registration; null: free.
        std::shared_ptr<const Price> price;
    };

    /// Throws std::invalid_argument for an empty or duplicate URI, an empty
    /// name, a missing handler or a price that is null or not a usable x402
    /// PaymentRequired; std::logic_error once frozen.
    void add(Resource resource) {
        check_open();
        if (resource.uri.empty()) throw std::invalid_argument("resource URI must not be empty");
        if (index_.count(resource.uri) != 0) throw std::invalid_argument("duplicate resource URI: " + resource.uri);
        if (resource.name.empty()) throw std::invalid_argument("resource " + resource.uri + " has no name");
        if (!resource.handler) throw std::invalid_argument("resource " + resource.uri + " has no handler");
        std::shared_ptr<const Price> price = make_price(resource.price, resource.settlement, "resource " + resource.uri);
        index_.emplace(resource.uri, resources_.size());
        prices_.push_back(std::move(price));
        resources_.push_back(std::make_shared<const Resource>(std::move(resource)));
    }

    /// Throws std::invalid_argument for a template UriTemplate refuses
    /// (detail/uri_template.hpp: unbalanced braces, empty or repeated
    /// names, operators), a duplicate template, an empty name, a missing
    /// handler, a completer of no variable or a bad price (as for a
    /// Resource); std::logic_error once frozen.
    void add(ResourceTemplate resource_template) {
        check_open();
        const std::string& text = resource_template.uri_template;
        if (text.empty()) throw std::invalid_argument("resource template must not be empty");
        for (const auto& known : templates_)
            if (known->uri_template == text) throw std::invalid_argument("duplicate resource template: " + text);
        detail::UriTemplate parsed(text);
        if (resource_template.name.empty()) throw std::invalid_argument("resource template " + text + " has no name");
        if (!resource_template.handler) throw std::invalid_argument("resource template " + text + " has no handler");
        for (const auto& [variable, completer] : resource_template.completers) {
            if (parsed.variables().count(variable) == 0)
                throw std::invalid_argument("resource template " + text + ": completer of unknown variable " + variable);
            if (!completer)
                throw std::invalid_argument("resource template " + text + ": empty completer of variable " + variable);
        }
        template_prices_.push_back(
            make_price(resource_template.price, resource_template.settlement, "resource template " + text));
        templates_.push_back(std::make_shared<const ResourceTemplate>(std::move(resource_template)));
        parsed_.push_back(std::move(parsed));
    }

    /// The resource at exactly `uri`, or null.
    std::shared_ptr<const Resource> find(const std::string& uri) const {
        const auto found = index_.find(uri);
        return found == index_.end() ? nullptr : resources_[found->second];
    }

    /// The price of the resource at exactly `uri` as parsed at registration;
    /// null for a free or unknown one.
    std::shared_ptr<const Price> price(const std::string& uri) const {
        const auto found = index_.find(uri);
        return found == index_.end() ? nullptr : prices_[found->second];
    }

    /// The first template (in registration order) that matches `uri`, or nullopt.
    std::optional<Match> match(const std::string& uri) const {
        for (std::size_t i = 0; i < templates_.size(); ++i)
            if (auto variables = parsed_[i].match(uri)) return Match{templates_[i], std::move(*variables), template_prices_[i]};
        return std::nullopt;
    }

    /// The template registered as `uri_template` (not matched: its text), or null.
    std::shared_ptr<const ResourceTemplate> find_template(const std::string& uri_template) const {
        for (const auto& known : templates_)
            if (known->uri_template == uri_template) return known;
        return nullptr;
    }

    const std::vector<std::shared_ptr<const Resource>>& resources() const noexcept { return resources_; }
    const std::vector<std::shared_ptr<const ResourceTemplate>>& templates() const noexcept { return templates_; }
    /// No resource and no template.
    bool empty() const noexcept { return resources_.empty() && templates_.empty(); }

    /// No more `add`; called by the server before it serves.
    void freeze() noexcept { frozen_.store(true, std::memory_order_release); }
    bool frozen() const noexcept { return frozen_.load(std::memory_order_acquire); }

private:
    void check_open() const {
        if (frozen())
            throw std::logic_error("x402::mcp::ResourceRegistry: resources must be registered before the server serves");
    }

    std::vector<std::shared_ptr<const Resource>> resources_;
    std::vector<std::shared_ptr<const Price>> prices_;  // parallel to resources_; null: free
    std::map<std::string, std::size_t> index_;
    std::vector<std::shared_ptr<const ResourceTemplate>> templates_;
    std::vector<detail::UriTemplate> parsed_;                     // parallel to templates_
    std::vector<std::shared_ptr<const Price>> template_prices_;  // parallel to templates_; null: free
    std::atomic<bool> frozen_{false};
};

}  // namespace x402::mcp
