// Content items: the JSON of each type, strings as text items, the tool
// results built of them, and their round trip through a payment record.
#include <x402/mcp/content.hpp>

#include "checks.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using namespace mcp_test;

namespace {

mcp::awaitable<mcp::ToolResult> mixed(json) {
    mcp::ToolResult result = mcp::ToolResult::text("the chart:");
    result.content.push_back(mcp::Content::image("aGk=", "image/png"));
    result.content.push_back(mcp::Content::audio("AAEC", "audio/wav"));
    result.content.push_back(mcp::Content::resource(mcp::ResourceContents::of_text("test://doc/1", "one", "text/markdown")));
    result.content.push_back(mcp::Content::resource_link("test://doc/2", "doc 2", "the second", "text/plain"));
    result.content.push_back("and a string");
    co_return result;
}

}  // namespace

TEST_CASE("content: the JSON of each item type", "[mcp][content]") {
    CHECK(mcp::Content::text("hi").to_json() == json{{"type", "text"}, {"text", "hi"}});
    CHECK(mcp::Content::image("aGk=", "image/png").to_json() ==
          json{{"type", "image"}, {"data", "aGk="}, {"mimeType", "image/png"}});
    CHECK(mcp::Content::audio("AAEC", "audio/wav").to_json() ==
          json{{"type", "audio"}, {"data", "AAEC"}, {"mimeType", "audio/wav"}});
    CHECK(mcp::Content::resource(mcp::ResourceContents::of_text("test://a", "text of a")).to_json() ==
          json{{"type", "resource"}, {"resource", {{"uri", "test://a"}, {"mimeType", "text/plain"}, {"text", "text of a"}}}});
    CHECK(mcp::Content::resource(mcp::ResourceContents::of_blob("test://b", "AAEC", "application/octet-stream")).to_json() ==
          json{{"type", "resource"},
               {"resource", {{"uri", "test://b"}, {"mimeType", "application/octet-stream"}, {"blob", "AAEC"}}}});
    CHECK(mcp::Content::resource_link("test://c", "c").to_json() ==
          json{{"type", "resource_link"}, {"uri", "test://c"}, {"name", "c"}});
    CHECK(mcp::Content::resource_link("test://c", "c", "about c", "text/csv").to_json() ==
          json{{"type", "resource_link"}, {"uri", "test://c"}, {"name", "c"}, {"description", "about c"}, {"mimeType", "text/csv"}});
    CHECK(mcp::Content::image("x", "image/gif").type() == mcp::Content::Type::image);
    CHECK(mcp::Content::resource_link("u", "n").type() == mcp::Content::Type::resource_link);
}

TEST_CASE("content: raw bytes are base64-encoded with the library's codec", "[mcp][content]") {
    CHECK(mcp::Content::image_bytes("hi", "image/png").to_json()["data"] == "aGk=");
    CHECK(mcp::Content::audio_bytes(std::string("\x00\x01\x02", 3), "audio/wav").to_json()["data"] == "AAEC");
    const mcp::ResourceContents blob = mcp::ResourceContents::of_bytes("test://bin", std::string("\xff", 1), "application/x");
    CHECK(blob.to_json() == json{{"uri", "test://bin"}, {"mimeType", "application/x"}, {"blob", "/w=="}});
}

TEST_CASE("content: resource contents without a mime type leave it out", "[mcp][content]") {
    mcp::ResourceContents plain;
    plain.uri = "test://p";
    plain.text = "t";
    CHECK(plain.to_json() == json{{"uri", "test://p"}, {"text", "t"}});
    // A blob wins over text.
    plain.blob = "AA==";
    CHECK(plain.to_json() == json{{"uri", "test://p"}, {"blob", "AA=="}});
}

TEST_CASE("content: a string is a text item", "[mcp][content]") {
    std::vector<mcp::Content> items;
    items.push_back("literal");
    items.push_back(std::string("string"));
    const mcp::Content converted = std::string("x");
    CHECK(items[0].to_json() == json{{"type", "text"}, {"text", "literal"}});
    CHECK(items[1].type() == mcp::Content::Type::text);
    CHECK(converted == mcp::Content::text("x"));
}

TEST_CASE("content: ToolResult's JSON is unchanged for text results", "[mcp][content]") {
    CHECK(mcp::ToolResult::text("done").to_json() == json::parse(R"({"content":[{"type":"text","text":"done"}]})"));
    CHECK(mcp::ToolResult::error("no").to_json() ==
          json::parse(R"({"content":[{"type":"text","text":"no"}],"isError":true})"));
    CHECK(mcp::ToolResult::object({{"a", 1}}).to_json() ==
          json::parse(R"({"content":[{"type":"text","text":"{\n  \"a\": 1\n}"}],"structuredContent":{"a":1}})"));
}

TEST_CASE("content: a tool answers mixed content in order", "[mcp][content]") {
    mcp::McpEndpoint endpoint;
    mcp::Tool tool;
    tool.name = "mixed";
    tool.description = "Answers every content type";
    tool.handler = mixed;
    endpoint.tools().add(std::move(tool));
    const std::string session = open_session(endpoint);
    const mcp::Reply reply = post(endpoint, call_request(1, "mixed", json::object()), session);
    REQUIRE(reply.status == 200);
    CHECK(body_of(reply)["result"] == json::parse(R"({"content":[
        {"type":"text","text":"the chart:"},
        {"type":"image","data":"aGk=","mimeType":"image/png"},
        {"type":"audio","data":"AAEC","mimeType":"audio/wav"},
        {"type":"resource","resource":{"uri":"test://doc/1","mimeType":"text/markdown","text":"one"}},
        {"type":"resource_link","uri":"test://doc/2","name":"doc 2","description":"the second","mimeType":"text/plain"},
        {"type":"text","text":"and a string"}]})"));
}

TEST_CASE("content: items come back from JSON as they were", "[mcp][content]") {
    const mcp::ToolResult result = test_support::run(mixed(json::object()));
    for (const mcp::Content& item : result.content) CHECK(mcp::Content::from_json(item.to_json()) == item);
    // A payment identifier's record of a paid call holds the result as JSON.
    mcp::ToolResult back;
    mcp::detail::answer_from(mcp::detail::answer_of(result), back);
    CHECK(back.to_json() == result.to_json());
    CHECK(back.content[1].type() == mcp::Content::Type::image);
}

TEST_CASE("content: JSON that is no content item is refused", "[mcp][content]") {
    auto refusal = [](const json& item) {
        try {
            (void)mcp::Content::from_json(item);
        } catch (const std::invalid_argument& error) {
            return std::string(error.what());
        }
        return std::string("accepted");
    };
    CHECK(refusal(json::array()) == "a content item must be an object");
    CHECK(refusal({{"type", "video"}}) == "unknown content item type: video");
    CHECK(refusal({{"type", "text"}, {"text", 1}}) == "content item without a string text");
    CHECK(refusal({{"type", "image"}, {"data", "aGk="}}) == "content item without a string mimeType");
    CHECK(refusal({{"type", "resource"}, {"resource", {{"uri", "u"}}}}) == "resource contents need text or blob");
    CHECK(refusal({{"type", "resource"}}) == "resource contents need a string uri");
}
