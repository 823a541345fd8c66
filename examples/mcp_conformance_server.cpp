// The MCP server the official conformance suite (@modelcontextprotocol/conformance)
// expects: its fixture tools, resources and prompts, each built from the
// library's features (content types, logging, progress, sampling,
// elicitation, resources, prompts, completion). It has no payments: the
// suite checks MCP alone.
//
//     mcp-conformance-server [--listen 127.0.0.1:0]
//
// Prints "mcp-conformance-server: listening on http://HOST:PORT/mcp" and serves
// until SIGINT / SIGTERM. tests/mcp/conformance runs the suite against it.
#include <x402/mcp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace mcp = x402::mcp;
using mcp::json;
using mcp::awaitable;

// A 1x1 red PNG and a 1-sample 8 kHz mono WAV, base64.
constexpr std::string_view red_pixel_png =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr std::string_view silent_wav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQIAAACAgA==";

awaitable<void> pause(std::chrono::milliseconds how_long) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, how_long);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

awaitable<mcp::ToolResult> simple_text(json) { co_return mcp::ToolResult::text("This is a simple text response for testing."); }

awaitable<mcp::ToolResult> error_handling(json) {
    co_return mcp::ToolResult::error("This tool intentionally returns an error for testing");
}

awaitable<mcp::ToolResult> with_logging(json, mcp::RequestContext call) {
    call.log(mcp::LogLevel::info, "Tool execution started");
    co_await pause(std::chrono::milliseconds(50));
    call.log(mcp::LogLevel::info, "Tool processing data");
    co_await pause(std::chrono::milliseconds(50));
    call.log(mcp::LogLevel::info, "Tool execution completed");
    co_return mcp::ToolResult::text("Tool with logging executed successfully");
}

awaitable<mcp::ToolResult> with_progress(json, mcp::RequestContext call) {
    for (int step = 0; step <= 2; ++step) {
        if (step > 0) co_await pause(std::chrono::milliseconds(50));
        call.progress(step * 50, 100);
    }
    co_return mcp::ToolResult::text("Tool with progress executed successfully");
}

awaitable<mcp::ToolResult> sampling(json arguments, mcp::RequestContext call) {
    json request = {{"messages", json::array({{{"role", "user"},
                                               {"content", {{"type", "text"}, {"text", arguments["prompt"]}}}}})},
                    {"maxTokens", 100}};
    auto op = call.create_message(std::move(request));
    const json answer = co_await std::move(op);
    const json content = answer.value("content", json::object());
    const std::string text = content.is_object() ? content.value("text", std::string()) : std::string();
    co_return mcp::ToolResult::text("LLM response: " + text);
}

awaitable<mcp::ToolResult> elicitation(json arguments, mcp::RequestContext call) {
    json schema = {{"type", "object"},
                   {"properties",
                    {{"username", {{"type", "string"}, {"description", "User's response"}}},
                     {"email", {{"type", "string"}, {"description", "User's email address"}}}}},
                   {"required", {"username", "email"}}};
    auto op = call.elicit(arguments["message"].get<std::string>(), std::move(schema));
    const mcp::ElicitResult answer = co_await std::move(op);
    co_return mcp::ToolResult::text("User response: action=" + answer.action + ", content=" + answer.content.dump());
}

awaitable<mcp::ToolResult> elicit_and_report(mcp::RequestContext call, std::string message, json schema) {
    auto op = call.elicit(std::move(message), std::move(schema));
    const mcp::ElicitResult answer = co_await std::move(op);
    co_return mcp::ToolResult::text("Elicitation completed: action=" + answer.action +
                                    ", content=" + answer.content.dump());
}

// Every primitive type with a default (2025-11-25, SEP-1034).
awaitable<mcp::ToolResult> elicitation_defaults(json, mcp::RequestContext call) {
    json schema = {
        {"type", "object"},
        {"properties",
         {{"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
          {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
          {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
          {"status",
           {{"type", "string"}, {"description", "User status"}, {"enum", {"active", "inactive", "pending"}}, {"default", "active"}}},
          {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}}},
        {"required", json::array()}};
    return elicit_and_report(std::move(call), "Please review and update the form fields with defaults", std::move(schema));
}

// The five enum forms of 2025-11-25 (SEP-1330).
awaitable<mcp::ToolResult> elicitation_enums(json, mcp::RequestContext call) {
    auto titled = [](std::initializer_list<std::pair<const char*, const char*>> options) {
        json out = json::array();
        for (const auto& [value, title] : options) out.push_back({{"const", value}, {"title", title}});
        return out;
    };
    json schema = {
        {"type", "object"},
        {"properties",
         {{"untitledSingle", {{"type", "string"}, {"description", "Untitled single-select"}, {"enum", {"option1", "option2", "option3"}}}},
          {"titledSingle",
           {{"type", "string"},
            {"description", "Titled single-select"},
            {"oneOf", titled({{"value1", "First Option"}, {"value2", "Second Option"}, {"value3", "Third Option"}})}}},
          {"legacyEnum",
           {{"type", "string"},
            {"description", "Legacy titled enum"},
            {"enum", {"opt1", "opt2", "opt3"}},
            {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
          {"untitledMulti",
           {{"type", "array"},
            {"description", "Untitled multi-select"},
            {"items", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}}}},
          {"titledMulti",
           {{"type", "array"},
            {"description", "Titled multi-select"},
            {"items", {{"anyOf", titled({{"value1", "First Choice"}, {"value2", "Second Choice"}, {"value3", "Third Choice"}})}}}}}}},
        {"required", json::array()}};
    return elicit_and_report(std::move(call), "Please select options from the enum fields", std::move(schema));
}

// Content of every type the suite checks.
awaitable<mcp::ToolResult> image_content(json) {
    mcp::ToolResult result;
    result.content.push_back(mcp::Content::image(std::string(red_pixel_png), "image/png"));
    co_return result;
}

awaitable<mcp::ToolResult> audio_content(json) {
    mcp::ToolResult result;
    result.content.push_back(mcp::Content::audio(std::string(silent_wav), "audio/wav"));
    co_return result;
}

awaitable<mcp::ToolResult> embedded_resource(json) {
    mcp::ToolResult result;
    result.content.push_back(mcp::Content::resource(
        mcp::ResourceContents::of_text("test://embedded-resource", "This is an embedded resource content.")));
    co_return result;
}

awaitable<mcp::ToolResult> multiple_content_types(json) {
    mcp::ToolResult result;
    result.content.push_back("Multiple content types test:");
    result.content.push_back(mcp::Content::image(std::string(red_pixel_png), "image/png"));
    result.content.push_back(mcp::Content::resource(mcp::ResourceContents::of_text(
        "test://mixed-content-resource", R"({"test":"data","value":123})", "application/json")));
    co_return result;
}

awaitable<mcp::ToolResult> echo_arguments(json arguments) { co_return mcp::ToolResult::text(arguments.dump()); }

void add_tools(mcp::ToolRegistry& tools) {
    auto add = [&tools](std::string name, std::string description, mcp::ToolHandler handler,
                        json schema = {{"type", "object"}, {"properties", json::object()}}) {
        mcp::Tool tool;
        tool.name = std::move(name);
        tool.description = std::move(description);
        tool.input_schema = std::move(schema);
        tool.handler = std::move(handler);
        tools.add(std::move(tool));
    };
    add("test_simple_text", "Returns a simple text response", simple_text);
    add("test_error_handling", "Always answers a tool error", error_handling);
    add("test_image_content", "Returns a 1x1 PNG", image_content);
    add("test_audio_content", "Returns a short WAV", audio_content);
    add("test_embedded_resource", "Returns an embedded text resource", embedded_resource);
    add("test_multiple_content_types", "Returns text, an image and a resource", multiple_content_types);
    add("test_tool_with_logging", "Sends three log messages while it runs", with_logging);
    add("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100", with_progress);
    add("test_sampling", "Asks the client's model (sampling/createMessage)", sampling,
        {{"type", "object"},
         {"properties", {{"prompt", {{"type", "string"}, {"description", "The prompt to send to the LLM"}}}}},
         {"required", {"prompt"}}});
    add("test_elicitation", "Asks the user for a username and an email (elicitation/create)", elicitation,
        {{"type", "object"},
         {"properties", {{"message", {{"type", "string"}, {"description", "The message to show the user"}}}}},
         {"required", {"message"}}});
    add("test_elicitation_sep1034_defaults", "Elicitation with a default for every primitive type", elicitation_defaults);
    add("test_elicitation_sep1330_enums", "Elicitation with the five enum forms", elicitation_enums);
    add("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features",
        echo_arguments,
        {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
         {"type", "object"},
         {"$defs",
          {{"address",
            {{"type", "object"}, {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}}}}},
         {"properties", {{"name", {{"type", "string"}}}, {"address", {{"$ref", "#/$defs/address"}}}}},
         {"additionalProperties", false}});
}

awaitable<std::vector<mcp::ResourceContents>> static_text(std::string uri) {
    co_return std::vector<mcp::ResourceContents>{
        mcp::ResourceContents::of_text(std::move(uri), "This is the content of the static text resource.")};
}

awaitable<std::vector<mcp::ResourceContents>> static_binary(std::string uri) {
    co_return std::vector<mcp::ResourceContents>{
        mcp::ResourceContents::of_blob(std::move(uri), std::string(red_pixel_png), "image/png")};
}

awaitable<std::vector<mcp::ResourceContents>> watched(std::string uri) {
    co_return std::vector<mcp::ResourceContents>{mcp::ResourceContents::of_text(std::move(uri), "Watched resource content.")};
}

awaitable<std::vector<mcp::ResourceContents>> template_data(std::string uri, std::map<std::string, std::string> variables) {
    const std::string id = variables.at("id");
    const json data = {{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
    co_return std::vector<mcp::ResourceContents>{mcp::ResourceContents::of_text(std::move(uri), data.dump(), "application/json")};
}

void add_resources(mcp::ResourceRegistry& resources) {
    auto add = [&resources](std::string uri, std::string name, std::string description, std::string mime,
                            mcp::ResourceHandler handler) {
        mcp::Resource resource;
        resource.uri = std::move(uri);
        resource.name = std::move(name);
        resource.description = std::move(description);
        resource.mime_type = std::move(mime);
        resource.handler = std::move(handler);
        resources.add(std::move(resource));
    };
    add("test://static-text", "Static text", "A static text resource", "text/plain", static_text);
    add("test://static-binary", "Static binary", "A static PNG", "image/png", static_binary);
    add("test://watched-resource", "Watched", "A resource to subscribe to", "text/plain", watched);
    mcp::ResourceTemplate data;
    data.uri_template = "test://template/{id}/data";
    data.name = "Template data";
    data.description = "Data for any id";
    data.mime_type = "application/json";
    data.handler = template_data;
    resources.add(std::move(data));
}

mcp::PromptMessage user_says(mcp::Content content) {
    mcp::PromptMessage message;
    message.content = std::move(content);
    return message;
}

awaitable<mcp::PromptResult> simple_prompt(std::map<std::string, std::string>) {
    co_return mcp::PromptResult{{}, {user_says("This is a simple prompt for testing.")}};
}

awaitable<mcp::PromptResult> prompt_with_arguments(std::map<std::string, std::string> arguments) {
    co_return mcp::PromptResult{
        {}, {user_says("Prompt with arguments: arg1='" + arguments["arg1"] + "', arg2='" + arguments["arg2"] + "'")}};
}

awaitable<mcp::PromptResult> prompt_with_embedded_resource(std::map<std::string, std::string> arguments) {
    co_return mcp::PromptResult{
        {},
        {user_says(mcp::Content::resource(
             mcp::ResourceContents::of_text(arguments["resourceUri"], "Embedded resource content for testing."))),
         user_says("Please process the embedded resource above.")}};
}

awaitable<mcp::PromptResult> prompt_with_image(std::map<std::string, std::string>) {
    co_return mcp::PromptResult{
        {}, {user_says(mcp::Content::image(std::string(red_pixel_png), "image/png")), user_says("Please analyze the image above.")}};
}

/// Completes from a fixed list by prefix.
mcp::Completer complete_from(std::vector<std::string> words) {
    return [words = std::move(words)](std::string_view value, const mcp::CompletionContext&) {
        std::vector<std::string> out;
        for (const std::string& word : words)
            if (word.rfind(value, 0) == 0) out.push_back(word);
        return out;
    };
}

void add_prompts(mcp::PromptRegistry& prompts) {
    auto add = [&prompts](std::string name, std::string description, std::vector<mcp::PromptArgument> arguments,
                          mcp::PromptHandler handler) {
        mcp::Prompt prompt;
        prompt.name = std::move(name);
        prompt.description = std::move(description);
        prompt.arguments = std::move(arguments);
        prompt.handler = std::move(handler);
        prompts.add(std::move(prompt));
    };
    add("test_simple_prompt", "A prompt without arguments", {}, simple_prompt);
    add("test_prompt_with_arguments", "A prompt with two arguments",
        {{"arg1", "First test argument", true, complete_from({"paris", "park", "party", "test", "testing"})},
         {"arg2", "Second test argument", true, {}}},
        prompt_with_arguments);
    add("test_prompt_with_embedded_resource", "A prompt embedding a resource",
        {{"resourceUri", "URI of the resource to embed", true, {}}}, prompt_with_embedded_resource);
    add("test_prompt_with_image", "A prompt with an image", {}, prompt_with_image);
}

}  // namespace

int main(int argc, char** argv) {
    std::string address = "127.0.0.1";
    unsigned short port = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--listen" && i + 1 < argc) {
            const std::string value = argv[++i];
            const auto colon = value.rfind(':');
            if (colon == std::string::npos) {
                std::cerr << "mcp-conformance-server: --listen takes HOST:PORT\n";
                return 2;
            }
            address = value.substr(0, colon);
            port = static_cast<unsigned short>(std::stoul(value.substr(colon + 1)));
        } else {
            std::cerr << "usage: mcp-conformance-server [--listen HOST:PORT]\n";
            return 2;
        }
    }
    boost::asio::io_context io;
    mcp::ServerOptions options;
    options.address = address;
    options.port = port;
    options.endpoint.server_name = "x402-session-mcp-conformance";
    mcp::Server server(io, options);
    add_tools(server.tools());
    add_resources(server.endpoint().resources());
    add_prompts(server.endpoint().prompts());
    const auto bound = server.start();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.stop();
        io.stop();
    });
    std::cout << "mcp-conformance-server: listening on http://" << bound.address().to_string() << ':' << bound.port()
              << "/mcp" << std::endl;
    std::thread second([&io] { io.run(); });
    io.run();
    second.join();
    return EXIT_SUCCESS;
}
