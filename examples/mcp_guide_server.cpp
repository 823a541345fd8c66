// The server of docs/guide.md, "Writing an MCP server with x402-session":
// every snippet of the guide is a piece of this file, and a test keeps the
// two identical (tests/guide_snippets.cmake). It keeps notes per payer.
//
//     mcp-guide-server [--check]
//
// Serves on 127.0.0.1:8402 with offline verification on Base Sepolia until
// SIGINT / SIGTERM; with --check it registers everything, starts, stops and
// exits (the ctest).
#include <x402/mcp.hpp>
#include <x402/mcp/x402_gate.hpp>
#include <x402/payment/local_verifier.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcp = x402::mcp;
namespace xs = x402::session;
using mcp::json;

namespace {

/// The x402 price of one call: 1000 atomic units of USDC ($0.001) on Base Sepolia.
json price(const std::string& what) {
    return {{"x402Version", 2},
            {"resource", {{"url", "mcp://guide/" + what}, {"description", what}, {"mimeType", "application/json"}}},
            {"accepts", json::array({{{"scheme", "exact"},
                                      {"network", "eip155:84532"},
                                      {"amount", "1000"},
                                      {"asset", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"},
                                      {"payTo", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"},
                                      {"maxTimeoutSeconds", 60},
                                      {"extra", {{"name", "USDC"}, {"version", "2"}}}}})}};
}

// [guide:tool]
// A paid tool: stores a note in the payer's session. The write counts only
// once the payment settles; an isError result is not charged.
mcp::awaitable<mcp::ToolResult> save_note(json arguments, mcp::RequestContext call) {
    auto session = xs::get_session();  // the verified payer's, in every paid handler
    const std::string name = arguments["name"];
    call.log(mcp::LogLevel::debug, {{"writing", name}});  // sent if the client asked for debug logs
    call.progress(0, 1);                                   // sent if the call carried a progressToken
    co_await session->set("note:" + name, arguments["text"].get<std::string>());
    call.progress(1, 1);
    co_return mcp::ToolResult::object({{"saved", name}});
}

void add_save_note(mcp::ToolRegistry& tools) {
    mcp::Tool tool;
    tool.name = "save-note";
    tool.description = "Saves a note under a name ($0.001)";
    tool.input_schema = {{"type", "object"},
                         {"properties", {{"name", {{"type", "string"}, {"maxLength", 64}}},
                                         {"text", {{"type", "string"}, {"maxLength", 4096}}}}},
                         {"required", {"name", "text"}},
                         {"additionalProperties", false}};
    tool.price = price("save-note");
    tool.handler = save_note;
    tools.add(std::move(tool));
}
// [guide-end]

// [guide:ask]
// A paid tool that asks the user first (elicitation). The answer resumes the
// handler in its payer's context; a client that cannot answer makes the
// co_await throw RequestFailed (an error result: not charged).
mcp::awaitable<mcp::ToolResult> forget_note(json arguments, mcp::RequestContext call) {
    const std::string name = arguments["name"];
    json schema = {{"type", "object"}, {"properties", {{"sure", {{"type", "boolean"}, {"default", false}}}}}};
    auto ask = call.elicit("Forget the note " + name + "?", std::move(schema));
    const mcp::ElicitResult reply = co_await std::move(ask);
    if (reply.action != "accept" || reply.content.value("sure", false) != true)
        co_return mcp::ToolResult::error("kept " + name);  // an error: not charged
    co_await xs::get_session()->erase("note:" + name);
    co_return mcp::ToolResult::text("forgot " + name);
}
// [guide-end]

// [guide:resource]
// A paid resource template: note://{name} reads the payer's own note; a
// missing one is -32002, which is not charged.
mcp::awaitable<std::vector<mcp::ResourceContents>> read_note(std::string uri, std::map<std::string, std::string> variables) {
    const std::optional<std::string> text = co_await xs::get_session()->get("note:" + variables.at("name"));
    if (!text) throw mcp::RequestError::resource_not_found(uri);
    co_return std::vector<mcp::ResourceContents>{mcp::ResourceContents::of_text(std::move(uri), *text)};
}

void add_notes_resource(mcp::ResourceRegistry& resources) {
    mcp::ResourceTemplate notes;
    notes.uri_template = "note://{name}";
    notes.name = "note";
    notes.description = "One of your notes ($0.001)";
    notes.mime_type = "text/plain";
    notes.price = price("note");
    notes.handler = read_note;
    resources.add(std::move(notes));
}
// [guide-end]

// [guide:prompt]
// A free prompt, with completion of its argument.
mcp::awaitable<mcp::PromptResult> summarize(std::map<std::string, std::string> arguments) {
    mcp::PromptMessage message;
    message.content = "Summarize my notes in a " + arguments["style"] + " style.";
    co_return mcp::PromptResult{{}, {std::move(message)}};
}

void add_summarize_prompt(mcp::PromptRegistry& prompts) {
    mcp::Prompt prompt;
    prompt.name = "summarize";
    prompt.description = "Summarize the notes";
    prompt.arguments = {{"style", "terse or chatty", true, [](std::string_view typed, const mcp::CompletionContext&) {
                             std::vector<std::string> out;
                             for (std::string style : {"terse", "chatty"})
                                 if (style.rfind(typed, 0) == 0) out.push_back(style);
                             return out;
                         }}};
    prompt.handler = summarize;
    prompts.add(std::move(prompt));
}
// [guide-end]

}  // namespace

int main(int argc, char** argv) {
    const bool check = argc > 1 && std::string_view(argv[1]) == "--check";
    // [guide:server]
    boost::asio::io_context io;
    xs::SessionPlugin sessions;  // the in-memory store; RedisStore for several instances
    mcp::ServerOptions options;
    options.port = check ? 0 : 8402;
    mcp::Server server(io, options);
    add_save_note(server.tools());
    mcp::Tool forget;
    forget.name = "forget-note";
    forget.description = "Forgets a note, once you confirm ($0.001)";
    forget.input_schema = {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}, {"required", {"name"}}};
    forget.price = price("forget-note");
    forget.handler = forget_note;
    server.tools().add(std::move(forget));
    add_notes_resource(server.endpoint().resources());
    add_summarize_prompt(server.endpoint().prompts());

    // Offline verification: test networks only (production: FacilitatorVerifier).
    namespace xp = x402::payment;
    auto hook = std::make_shared<xp::PaymentHook<xp::LocalVerifier>>(sessions, xp::LocalVerifier(),
                                                                     xp::InMemoryReplayGuard(), xp::PaymentHookOptions());
    server.set_payment_gate(mcp::make_x402_gate(hook));
    const auto bound = server.start();
    // [guide-end]
    std::cout << "mcp-guide-server: listening on http://127.0.0.1:" << bound.port() << "/mcp" << std::endl;
    if (check) {
        server.stop();
        io.run();
        return EXIT_SUCCESS;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.stop();
        io.stop();
    });
    io.run();
    return EXIT_SUCCESS;
}
