// MCP content items (schema 2025-06-18 / 2025-11-25): what tool results and
// prompt messages carry, and the contents a resource read returns.
#pragma once

#include <x402/mcp/jsonrpc.hpp>
#include <x402/payment/base64.hpp>
#include <x402/session/store.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace x402::mcp {

/// What the handlers of tools, resources and prompts return.
template <class T>
using awaitable = x402::session::awaitable<T>;

/// One entry of a `resources/read` answer, and the `resource` of an embedded
/// resource item: `{uri, mimeType?, text}` or `{uri, mimeType?, blob}`.
///
///     ResourceContents::of_text("test://readme", "hello", "text/markdown");
///     ResourceContents::of_bytes("test://logo", png_bytes, "image/png");   // base64-encoded here
struct ResourceContents {
    std::string uri;
    /// `mimeType`; empty for none.
    std::string mime_type;
    /// `text`, sent when `blob` is not set.
    std::string text;
    /// `blob`: the bytes, base64-encoded; when set, `text` is not sent.
    std::optional<std::string> blob;

    static ResourceContents of_text(std::string uri, std::string text, std::string mime_type = "text/plain") {
        ResourceContents out;
        out.uri = std::move(uri);
        out.mime_type = std::move(mime_type);
        out.text = std::move(text);
        return out;
    }

    /// `base64`: already encoded (standard alphabet, padded).
    static ResourceContents of_blob(std::string uri, std::string base64, std::string mime_type) {
        ResourceContents out;
        out.uri = std::move(uri);
        out.mime_type = std::move(mime_type);
        out.blob = std::move(base64);
        return out;
    }

    /// Raw bytes, encoded as the blob.
    static ResourceContents of_bytes(std::string uri, std::string_view bytes, std::string mime_type) {
        return of_blob(std::move(uri), payment::base64_encode(bytes), std::move(mime_type));
    }

    json to_json() const {
        json out = {{"uri", uri}};
        if (!mime_type.empty()) out["mimeType"] = mime_type;
        if (blob) out["blob"] = *blob;
        else out["text"] = text;
        return out;
    }

    /// The inverse of to_json; throws std::invalid_argument for JSON it does not produce.
    static ResourceContents from_json(const json& value) {
        if (!value.is_object() || !value.contains("uri") || !value["uri"].is_string())
            throw std::invalid_argument("resource contents need a string uri");
        ResourceContents out;
        out.uri = value["uri"].get<std::string>();
        if (const auto mime = value.find("mimeType"); mime != value.end()) out.mime_type = mime->get<std::string>();
        if (const auto blob = value.find("blob"); blob != value.end()) out.blob = blob->get<std::string>();
        else if (const auto text = value.find("text"); text != value.end()) out.text = text->get<std::string>();
        else throw std::invalid_argument("resource contents need text or blob");
        return out;
    }

    friend bool operator==(const ResourceContents&, const ResourceContents&) = default;
};

/// One content item: text, image, audio, an embedded resource or a resource link.
///
///     result.content.push_back("plain text");                       // a text item
///     result.content.push_back(Content::image(base64_png, "image/png"));
///     result.content.push_back(Content::resource_link("test://doc/1", "doc 1"));
///
/// A std::string or string literal converts to a text item.
class Content {
public:
    enum class Type { text, image, audio, resource, resource_link };

    /// An empty text item.
    Content() : Content(std::string()) {}
    /// A text item.
    Content(std::string text) : type_(Type::text), item_{{"type", "text"}, {"text", std::move(text)}} {}
    Content(const char* text) : Content(std::string(text)) {}

    static Content text(std::string text) { return Content(std::move(text)); }

    /// `base64`: the image bytes, already encoded (standard alphabet, padded).
    static Content image(std::string base64, std::string mime_type) {
        return binary(Type::image, "image", std::move(base64), std::move(mime_type));
    }
    /// Raw image bytes, encoded here.
    static Content image_bytes(std::string_view bytes, std::string mime_type) {
        return image(payment::base64_encode(bytes), std::move(mime_type));
    }
    static Content audio(std::string base64, std::string mime_type) {
        return binary(Type::audio, "audio", std::move(base64), std::move(mime_type));
    }
    static Content audio_bytes(std::string_view bytes, std::string mime_type) {
        return audio(payment::base64_encode(bytes), std::move(mime_type));
    }

    /// An embedded resource: `{"type":"resource","resource":{uri, mimeType?, text | blob}}`.
    static Content resource(const ResourceContents& contents) {
        return Content(Type::resource, {{"type", "resource"}, {"resource", contents.to_json()}});
    }

    /// A link to a resource the client may read: `{"type":"resource_link", uri, name,
    /// description?, mimeType?}` (empty strings are left out).
    static Content resource_link(std::string uri, std::string name, std::string description = {},
                                 std::string mime_type = {}) {
        json item = {{"type", "resource_link"}, {"uri", std::move(uri)}, {"name", std::move(name)}};
        if (!description.empty()) item["description"] = std::move(description);
        if (!mime_type.empty()) item["mimeType"] = std::move(mime_type);
        return Content(Type::resource_link, std::move(item));
    }

    Type type() const noexcept { return type_; }

    /// The item as MCP sends it.
    const json& to_json() const noexcept { return item_; }

    /// The inverse of to_json (a payment identifier's record holds results as
    /// JSON); throws std::invalid_argument for an item it does not produce.
    static Content from_json(const json& item) {
        if (!item.is_object()) throw std::invalid_argument("a content item must be an object");
        const std::string type = item.value("type", std::string());
        auto string_member = [&item](const char* name) {
            const auto found = item.find(name);
            if (found == item.end() || !found->is_string())
                throw std::invalid_argument(std::string("content item without a string ") + name);
            return found->get<std::string>();
        };
        if (type == "text") return Content(string_member("text"));
        if (type == "image") return image(string_member("data"), string_member("mimeType"));
        if (type == "audio") return audio(string_member("data"), string_member("mimeType"));
        if (type == "resource") return resource(ResourceContents::from_json(item.value("resource", json())));
        if (type == "resource_link")
            return resource_link(string_member("uri"), string_member("name"), item.value("description", std::string()),
                                 item.value("mimeType", std::string()));
        throw std::invalid_argument("unknown content item type: " + type);
    }

    friend bool operator==(const Content& a, const Content& b) { return a.item_ == b.item_; }

private:
    Content(Type type, json item) : type_(type), item_(std::move(item)) {}

    static Content binary(Type type, const char* name, std::string base64, std::string mime_type) {
        return Content(type, {{"type", name}, {"data", std::move(base64)}, {"mimeType", std::move(mime_type)}});
    }

    Type type_;
    json item_;
};

}  // namespace x402::mcp
