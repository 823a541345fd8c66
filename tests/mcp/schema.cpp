// Tool input schemas (x402/mcp/detail/schema.hpp): what registration refuses,
// and what each enforced keyword answers for arguments that break it.
#include <x402/mcp/detail/schema.hpp>

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace mcp_test;
using x402::mcp::detail::check_schema;
using x402::mcp::detail::schema_problem;
using x402::mcp::detail::validate_schema;

namespace {

/// The problem validate_schema reports for `value`, after the schema passed
/// the registration check; "" for none.
std::string problem_of(const json& schema, const json& value) {
    REQUIRE(schema_problem(schema) == std::nullopt);
    return validate_schema(schema, value, "arguments").value_or("");
}

std::string refusal_of(const json& schema) { return schema_problem(schema).value_or(""); }

json object_with(const std::string& name, json property) {
    return {{"type", "object"}, {"properties", {{name, std::move(property)}}}};
}

}  // namespace

TEST_CASE("schema: annotations pass registration unchecked", "[mcp][schema]") {
    const json schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                         {"$id", "https://example.com/tool.json"},
                         {"$comment", "for the tests"},
                         {"title", "Tool"},
                         {"description", "A tool"},
                         {"type", "object"},
                         {"properties",
                          {{"when",
                            {{"type", "string"},
                             {"format", "date-time"},
                             {"default", "2025-01-01T00:00:00Z"},
                             {"examples", json::array({"2025-01-01T00:00:00Z"})},
                             {"deprecated", true},
                             {"readOnly", false},
                             {"writeOnly", false},
                             {"$anchor", "when"},
                             {"contentMediaType", "text/plain"},
                             {"contentEncoding", "8bit"}}}}}};
    CHECK(schema_problem(schema) == std::nullopt);
    CHECK_NOTHROW(check_schema(schema));
    // format is an annotation: a value that is not a date-time passes.
    CHECK(validate_schema(schema, {{"when", "yesterday"}}, "arguments") == std::nullopt);
}

TEST_CASE("schema: a keyword that would not be enforced is refused with its JSON pointer", "[mcp][schema]") {
    CHECK(refusal_of(object_with("name", {{"type", "string"}, {"maxLenght", 3}})) ==
          "input schema: keyword \"maxLenght\" at /properties/name/maxLenght is not supported: arguments would not be "
          "checked against it");
    CHECK(refusal_of({{"type", "object"}, {"patternProperties", {{"^x", {{"type", "string"}}}}}}) ==
          "input schema: keyword \"patternProperties\" at /patternProperties is not supported: arguments would not be "
          "checked against it");
    CHECK(refusal_of({{"type", "object"}, {"unevaluatedProperties", false}}) ==
          "input schema: keyword \"unevaluatedProperties\" at /unevaluatedProperties is not supported: arguments "
          "would not be checked against it");
    CHECK(refusal_of({{"type", "object"}, {"$defs", {{"a/b", {{"dependentRequired", json::object()}}}}}}) ==
          "input schema: keyword \"dependentRequired\" at /$defs/a~1b/dependentRequired is not supported: arguments "
          "would not be checked against it");
    CHECK(refusal_of(object_with("list", {{"type", "array"}, {"prefixItems", {{{"type", "string"}}, {{"contains", true}}}}})) ==
          "input schema: keyword \"contains\" at /properties/list/prefixItems/1/contains is not supported: arguments "
          "would not be checked against it");
    CHECK(refusal_of({{"type", "object"}, {"anyOf", json::array({{{"minContains", 1}}})}}) ==
          "input schema: keyword \"minContains\" at /anyOf/0/minContains is not supported: arguments would not be "
          "checked against it");

    // Through the registry, with the tool's name.
    mcp::ToolRegistry tools;
    mcp::Tool tool;
    tool.name = "t";
    tool.handler = echo;
    tool.input_schema = object_with("text", {{"type", "string"}, {"patern", "^a"}});
    CHECK_THROWS_MATCHES(tools.add(std::move(tool)), std::invalid_argument,
                         Catch::Message("tool t: input schema: keyword \"patern\" at /properties/text/patern is not "
                                        "supported: arguments would not be checked against it"));
    CHECK(tools.tools().empty());
}

TEST_CASE("schema: malformed keyword values are refused at registration", "[mcp][schema]") {
    CHECK(refusal_of(object_with("a", {{"minLength", -1}})) ==
          "input schema: keyword \"minLength\" at /properties/a/minLength must be a non-negative integer");
    CHECK(refusal_of(object_with("a", {{"maxItems", 1.5}})) ==
          "input schema: keyword \"maxItems\" at /properties/a/maxItems must be a non-negative integer");
    CHECK(refusal_of(object_with("a", {{"multipleOf", 0}})) ==
          "input schema: keyword \"multipleOf\" at /properties/a/multipleOf must be a number greater than 0");
    CHECK(refusal_of(object_with("a", {{"exclusiveMinimum", true}})) ==
          "input schema: keyword \"exclusiveMinimum\" at /properties/a/exclusiveMinimum must be a number");
    CHECK(refusal_of(object_with("a", {{"type", "int"}})) ==
          "input schema: keyword \"type\" at /properties/a/type must be one of null, boolean, object, array, number, "
          "integer, string, or a non-empty array of distinct ones");
    CHECK(refusal_of(object_with("a", {{"type", json::array({"string", "string"})}})) ==
          "input schema: keyword \"type\" at /properties/a/type must be one of null, boolean, object, array, number, "
          "integer, string, or a non-empty array of distinct ones");
    CHECK(refusal_of(object_with("a", {{"items", json::array({{{"type", "string"}}})}})) ==
          "input schema: keyword \"items\" at /properties/a/items must be a schema (JSON Schema 2020-12; an array of "
          "schemas is prefixItems)");
    CHECK(refusal_of({{"type", "object"}, {"required", json::array({"a", "a"})}}) ==
          "input schema: keyword \"required\" at /required must be an array of distinct strings");
    CHECK(refusal_of({{"type", "object"}, {"allOf", json::array()}}) ==
          "input schema: keyword \"allOf\" at /allOf must be a non-empty array of schemas");
    CHECK(refusal_of(object_with("a", 5)) == "input schema: /properties/a must be a schema (an object or a boolean)");
    CHECK(refusal_of(object_with("a", {{"description", 5}})) ==
          "input schema: keyword \"description\" at /properties/a/description must be a string");
    CHECK(refusal_of(object_with("a", {{"$id", "inner"}})) ==
          "input schema: keyword \"$id\" at /properties/a/$id is supported at the root only");
    CHECK(refusal_of(object_with("a", {{"pattern", "(unclosed"}})) ==
          "input schema: keyword \"pattern\" at /properties/a/pattern is not a supported ECMA-262 regular expression "
          "(back-references are not): \"(unclosed\"");
    CHECK(refusal_of(object_with("a", {{"pattern", "(a)\\1"}})) ==
          "input schema: keyword \"pattern\" at /properties/a/pattern is not a supported ECMA-262 regular expression "
          "(back-references are not): \"(a)\\\\1\"");
}

TEST_CASE("schema: a $ref must point into the schema and not loop in place", "[mcp][schema]") {
    CHECK(refusal_of(object_with("a", {{"$ref", "#/$defs/missing"}})) ==
          "input schema: keyword \"$ref\" at /properties/a/$ref must point into this schema (\"#\" or \"#/<JSON "
          "pointer>\"); \"#/$defs/missing\" does not");
    CHECK(refusal_of(object_with("a", {{"$ref", "https://example.com/other.json"}})) ==
          "input schema: keyword \"$ref\" at /properties/a/$ref must point into this schema (\"#\" or \"#/<JSON "
          "pointer>\"); \"https://example.com/other.json\" does not");
    const json loop = {{"type", "object"},
                       {"$defs", {{"a", {{"$ref", "#/$defs/b"}}}, {"b", {{"allOf", json::array({{{"$ref", "#/$defs/a"}}})}}}}},
                       {"properties", {{"x", {{"$ref", "#/$defs/a"}}}}}};
    CHECK(refusal_of(loop) == "input schema: keyword \"$ref\" at /$defs/a/$ref loops back to itself without checking anything");
    CHECK(refusal_of({{"type", "object"}, {"$ref", "#"}}) ==
          "input schema: keyword \"$ref\" at /$ref loops back to itself without checking anything");
    // A target outside $defs is checked as a schema too.
    CHECK(refusal_of({{"type", "object"}, {"examples", json::array({{{"bogus", 1}}})}, {"properties", {{"a", {{"$ref", "#/examples/0"}}}}}}) ==
          "input schema: keyword \"bogus\" at /examples/0/bogus is not supported: arguments would not be checked "
          "against it");
}

TEST_CASE("schema: type, with integer as any number without a fraction", "[mcp][schema]") {
    const json schema = object_with("n", {{"type", "integer"}});
    CHECK(problem_of(schema, {{"n", 3}}).empty());
    CHECK(problem_of(schema, {{"n", 3.0}}).empty());
    CHECK(problem_of(schema, {{"n", 1e300}}).empty());
    CHECK(problem_of(schema, {{"n", 3.5}}) == "arguments/n: expected integer, got number (type)");
    CHECK(problem_of(schema, {{"n", "3"}}) == "arguments/n: expected integer, got string (type)");
    const json number = object_with("n", {{"type", "number"}});
    CHECK(problem_of(number, {{"n", 3}}).empty());
    CHECK(problem_of(number, {{"n", true}}) == "arguments/n: expected number, got boolean (type)");
    const json either = object_with("n", {{"type", json::array({"string", "null"})}});
    CHECK(problem_of(either, {{"n", nullptr}}).empty());
    CHECK(problem_of(either, {{"n", json::array()}}) == "arguments/n: expected string or null, got array (type)");
    CHECK(problem_of({{"type", "object"}}, json::array()) == "arguments: expected object, got array (type)");
}

TEST_CASE("schema: numeric bounds and multipleOf", "[mcp][schema]") {
    const json schema = {{"type", "object"},
                         {"properties",
                          {{"min", {{"minimum", 1}}},
                           {"max", {{"maximum", 2.5}}},
                           {"xmin", {{"exclusiveMinimum", 0}}},
                           {"xmax", {{"exclusiveMaximum", 10}}},
                           {"step", {{"multipleOf", 0.1}}},
                           {"even", {{"multipleOf", 2}}},
                           {"big", {{"maximum", 9007199254740993LL}}}}}};
    CHECK(problem_of(schema, {{"min", 1}, {"max", 2.5}, {"xmin", 0.001}, {"xmax", 9.99}, {"step", 0.3}, {"even", -4}}).empty());
    CHECK(problem_of(schema, {{"min", 0.5}}) == "arguments/min: must be >= 1 (minimum)");
    CHECK(problem_of(schema, {{"max", 3}}) == "arguments/max: must be <= 2.5 (maximum)");
    CHECK(problem_of(schema, {{"xmin", 0}}) == "arguments/xmin: must be > 0 (exclusiveMinimum)");
    CHECK(problem_of(schema, {{"xmax", 10}}) == "arguments/xmax: must be < 10 (exclusiveMaximum)");
    CHECK(problem_of(schema, {{"step", 0.35}}) == "arguments/step: must be a multiple of 0.1 (multipleOf)");
    CHECK(problem_of(schema, {{"even", 3}}) == "arguments/even: must be a multiple of 2 (multipleOf)");
    CHECK(problem_of(schema, {{"even", 3.0}}) == "arguments/even: must be a multiple of 2 (multipleOf)");
    // Integers beyond 2^53 compare exactly.
    CHECK(problem_of(schema, {{"big", 9007199254740993LL}}).empty());
    CHECK(problem_of(schema, {{"big", 9007199254740994LL}}) == "arguments/big: must be <= 9007199254740993 (maximum)");
    // Bounds constrain numbers only.
    CHECK(problem_of(schema, {{"min", "0"}}).empty());
}

TEST_CASE("schema: string lengths count Unicode code points", "[mcp][schema]") {
    const json schema = object_with("s", {{"type", "string"}, {"minLength", 2}, {"maxLength", 3}});
    CHECK(problem_of(schema, {{"s", "h\xC3\xA9\xF0\x9F\x98\x80"}}).empty());  // h, é, 😀: 3 code points, 7 bytes
    CHECK(problem_of(schema, {{"s", "\xF0\x9F\x98\x80"}}) == "arguments/s: must be at least 2 characters long (minLength)");
    CHECK(problem_of(schema, {{"s", "abcd"}}) == "arguments/s: must be at most 3 characters long (maxLength)");
    CHECK(problem_of(schema, {{"s", 12345}}) == "arguments/s: expected string, got integer (type)");
    CHECK(problem_of(object_with("s", {{"maxLength", 1}}), {{"s", 12345}}).empty());  // lengths constrain strings only
}

TEST_CASE("schema: pattern is an unanchored ECMA-262 search over code points", "[mcp][schema]") {
    const json schema = object_with("s", {{"pattern", "b+c"}});
    CHECK(problem_of(schema, {{"s", "abbcd"}}).empty());
    CHECK(problem_of(schema, {{"s", "acb"}}) == "arguments/s: must match the pattern \"b+c\" (pattern)");
    const json anchored = object_with("id", {{"pattern", "^[a-z]{2}-\\d{3}$"}});
    CHECK(problem_of(anchored, {{"id", "ab-123"}}).empty());
    CHECK(problem_of(anchored, {{"id", "xab-123"}}) == "arguments/id: must match the pattern \"^[a-z]{2}-\\\\d{3}$\" (pattern)");
    // "." is one code point, not one byte.
    const json one = object_with("c", {{"pattern", "^.$"}});
    CHECK(problem_of(one, {{"c", "\xC3\xA9"}}).empty());
    CHECK(problem_of(object_with("c", {{"pattern", "^\\u00e9$"}}), {{"c", "\xC3\xA9"}}).empty());
    // A long argument does not overflow the stack of the matcher.
    const json repeated = object_with("s", {{"pattern", "^(a|b)*$"}});
    CHECK(problem_of(repeated, {{"s", std::string(200000, 'a')}}).empty());
    CHECK(problem_of(repeated, {{"s", std::string(200000, 'a') + "c"}}) == "arguments/s: must match the pattern \"^(a|b)*$\" (pattern)");
}

TEST_CASE("schema: arrays: items, prefixItems, counts and uniqueItems", "[mcp][schema]") {
    const json tags = object_with("tags", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}, {"maxItems", 3}, {"uniqueItems", true}});
    CHECK(problem_of(tags, {{"tags", {"a", "b"}}}).empty());
    CHECK(problem_of(tags, {{"tags", json::array()}}) == "arguments/tags: must have at least 1 items (minItems)");
    CHECK(problem_of(tags, {{"tags", {"a", "b", "c", "d"}}}) == "arguments/tags: must have at most 3 items (maxItems)");
    CHECK(problem_of(tags, {{"tags", {"a", 2}}}) == "arguments/tags/1: expected string, got integer (type)");
    CHECK(problem_of(tags, {{"tags", {"b", "a", "b"}}}) == "arguments/tags: items 0 and 2 are equal (uniqueItems)");
    const json unique = object_with("v", {{"uniqueItems", true}});
    CHECK(problem_of(unique, {{"v", {1, 1.0}}}) == "arguments/v: items 0 and 1 are equal (uniqueItems)");
    CHECK(problem_of(unique, {{"v", {json{{"a", 1}}, json{{"a", 2}}, json{{"a", 1.0}}}}}) ==
          "arguments/v: items 0 and 2 are equal (uniqueItems)");
    CHECK(problem_of(unique, {{"v", {1, "1", true, nullptr, json::array({1})}}}).empty());

    const json pair = object_with("p", {{"type", "array"}, {"prefixItems", {{{"type", "string"}}, {{"type", "integer"}}}}, {"items", false}});
    CHECK(problem_of(pair, {{"p", {"x", 1}}}).empty());
    CHECK(problem_of(pair, {{"p", {"x"}}}).empty());
    CHECK(problem_of(pair, {{"p", {"x", "y"}}}) == "arguments/p/1: expected integer, got string (type)");
    CHECK(problem_of(pair, {{"p", {"x", 1, 2}}}) == "arguments/p: must have at most 2 items (items)");
    const json rest = object_with("p", {{"prefixItems", {{{"type", "string"}}}}, {"items", {{"type", "integer"}}}});
    CHECK(problem_of(rest, {{"p", {"x", 1, 2}}}).empty());
    CHECK(problem_of(rest, {{"p", {"x", 1, "y"}}}) == "arguments/p/2: expected integer, got string (type)");
}

TEST_CASE("schema: objects: required, properties, additionalProperties, counts", "[mcp][schema]") {
    const json schema = {{"type", "object"},
                         {"properties", {{"a/b", {{"type", "string"}}}, {"n~", {{"type", "integer"}}}}},
                         {"required", {"a/b"}},
                         {"additionalProperties", {{"type", "boolean"}}},
                         {"minProperties", 1},
                         {"maxProperties", 3}};
    CHECK(problem_of(schema, {{"a/b", "x"}, {"flag", true}}).empty());
    CHECK(problem_of(schema, {{"n~", 1}}) == "arguments: missing required property \"a/b\" (required)");
    CHECK(problem_of(schema, {{"a/b", 1}}) == "arguments/a~1b: expected string, got integer (type)");
    CHECK(problem_of(schema, {{"a/b", "x"}, {"n~", "1"}}) == "arguments/n~0: expected integer, got string (type)");
    CHECK(problem_of(schema, {{"a/b", "x"}, {"flag", 1}}) == "arguments/flag: expected boolean, got integer (type)");
    CHECK(problem_of(schema, {{"a/b", "x"}, {"f", true}, {"g", true}, {"h", true}}) ==
          "arguments: must have at most 3 properties (maxProperties)");
    CHECK(problem_of({{"type", "object"}, {"minProperties", 1}}, json::object()) ==
          "arguments: must have at least 1 properties (minProperties)");
    const json closed = {{"type", "object"}, {"properties", {{"a", true}, {"b", false}}}, {"additionalProperties", false}};
    CHECK(problem_of(closed, {{"a", 1}}).empty());
    CHECK(problem_of(closed, {{"b", 1}}) == "arguments/b: no value is allowed here (false schema)");
    CHECK(problem_of(closed, {{"c", 1}}) == "arguments: unexpected property \"c\" (additionalProperties)");
}

TEST_CASE("schema: enum and const", "[mcp][schema]") {
    const json schema = {{"type", "object"},
                         {"properties", {{"color", {{"enum", {"red", "green", nullptr}}}}, {"version", {{"const", 2}}}}}};
    CHECK(problem_of(schema, {{"color", nullptr}, {"version", 2.0}}).empty());
    CHECK(problem_of(schema, {{"color", "blue"}}) == "arguments/color: must be one of [\"red\",\"green\",null] (enum)");
    CHECK(problem_of(schema, {{"version", "2"}}) == "arguments/version: must be 2 (const)");
    CHECK(problem_of(object_with("o", {{"const", {{"a", {1, 2}}}}}), {{"o", {{"a", {1, 2}}}}}).empty());
}

TEST_CASE("schema: allOf, anyOf, oneOf and not", "[mcp][schema]") {
    const json all = object_with("v", {{"allOf", {{{"type", "string"}}, {{"maxLength", 2}}}}});
    CHECK(problem_of(all, {{"v", "ab"}}).empty());
    CHECK(problem_of(all, {{"v", "abc"}}) == "arguments/v: must be at most 2 characters long (maxLength)");
    const json any = object_with("v", {{"anyOf", {{{"type", "string"}}, {{"minimum", 0}}}}});
    CHECK(problem_of(any, {{"v", 5}}).empty());
    CHECK(problem_of(any, {{"v", -1}}) == "arguments/v: matches none of the anyOf schemas (anyOf)");
    const json one = object_with("v", {{"oneOf", {{{"type", "integer"}}, {{"minimum", 0}}, {{"type", "string"}}}}});
    CHECK(problem_of(one, {{"v", -3}}).empty());
    CHECK(problem_of(one, {{"v", -1.5}}) == "arguments/v: matches none of the oneOf schemas (oneOf)");
    CHECK(problem_of(one, {{"v", 3}}) == "arguments/v: matches oneOf schemas 0 and 1, but must match exactly one (oneOf)");
    const json negated = object_with("v", {{"not", {{"type", "null"}}}});
    CHECK(problem_of(negated, {{"v", 0}}).empty());
    CHECK(problem_of(negated, {{"v", nullptr}}) == "arguments/v: must not match the schema of not (not)");
}

TEST_CASE("schema: if, then and else", "[mcp][schema]") {
    // The newer conformance fixture uses if / then / else.
    const json schema = {{"type", "object"},
                         {"if", {{"properties", {{"kind", {{"const", "email"}}}}}, {"required", {"kind"}}}},
                         {"then", {{"required", {"address"}}}},
                         {"else", {{"properties", {{"address", false}}}}}};
    CHECK(problem_of(schema, {{"kind", "email"}, {"address", "a@b.c"}}).empty());
    CHECK(problem_of(schema, {{"kind", "phone"}}).empty());
    CHECK(problem_of(schema, {{"kind", "email"}}) == "arguments: missing required property \"address\" (required)");
    CHECK(problem_of(schema, {{"kind", "phone"}, {"address", "x"}}) ==
          "arguments/address: no value is allowed here (false schema)");
    CHECK(problem_of({{"type", "object"}, {"then", {{"required", {"a"}}}}}, json::object()).empty());  // no if: no then
    CHECK(refusal_of({{"type", "object"}, {"$defs", {{"a", {{"if", {{"$ref", "#/$defs/a"}}}}}}}}) ==
          "input schema: keyword \"$ref\" at /$defs/a/if/$ref loops back to itself without checking anything");
}

TEST_CASE("schema: local $ref to $defs and definitions, with its siblings", "[mcp][schema]") {
    const json schema = {{"type", "object"},
                         {"$defs", {{"short", {{"type", "string"}, {"maxLength", 3}}}}},
                         {"definitions", {{"node", {{"type", "object"},
                                                    {"properties", {{"next", {{"$ref", "#/definitions/node"}}}, {"v", {{"type", "integer"}}}}}}}}},
                         {"properties",
                          {{"code", {{"$ref", "#/$defs/short"}, {"pattern", "^[A-Z]+$"}}},
                           {"list", {{"$ref", "#/definitions/node"}}},
                           {"same", {{"$ref", "#/properties/code"}}}}}};
    CHECK(problem_of(schema, {{"code", "AB"}, {"list", {{"v", 1}, {"next", {{"v", 2}, {"next", json::object()}}}}}}).empty());
    CHECK(problem_of(schema, {{"code", "ABCD"}}) == "arguments/code: must be at most 3 characters long (maxLength)");
    CHECK(problem_of(schema, {{"code", "ab"}}) == "arguments/code: must match the pattern \"^[A-Z]+$\" (pattern)");
    CHECK(problem_of(schema, {{"same", "ab"}}) == "arguments/same: must match the pattern \"^[A-Z]+$\" (pattern)");
    CHECK(problem_of(schema, {{"list", {{"next", {{"next", {{"v", "x"}}}}}}}}) ==
          "arguments/list/next/next/v: expected integer, got string (type)");
    // A reference to the root, and a percent-encoded pointer.
    const json tree = {{"type", "object"}, {"properties", {{"child", {{"$ref", "#"}}}, {"n", {{"$ref", "#/$defs/a%25b"}}}}},
                       {"$defs", {{"a%b", {{"type", "integer"}}}}}};
    CHECK(problem_of(tree, {{"child", {{"child", {{"n", 1}}}}}}).empty());
    CHECK(problem_of(tree, {{"child", {{"child", {{"n", "1"}}}}}}) == "arguments/child/child/n: expected integer, got string (type)");
}

TEST_CASE("schema: the 2020-12 tool schema of the MCP conformance suite is registered and enforced", "[mcp][schema]") {
    mcp::McpEndpoint endpoint;
    mcp::Tool tool;
    tool.name = "json_schema_2020_12_tool";
    tool.description = "Tool with JSON Schema 2020-12 features";
    tool.input_schema = json::parse(R"({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                "required": ["street", "city"]
            }
        },
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "address": {"$ref": "#/$defs/address"}
        },
        "required": ["name"],
        "additionalProperties": false
    })");
    tool.handler = [](json arguments) -> mcp::awaitable<mcp::ToolResult> { co_return mcp::ToolResult::object(arguments); };
    const json listed = tool.input_schema;
    endpoint.tools().add(std::move(tool));

    const std::string session = open_session(endpoint, "2025-11-25");
    const json list = json::parse(post(endpoint, request(1, "tools/list"), session).body);
    CHECK(list["result"]["tools"][0]["inputSchema"] == listed);  // listed unchanged

    const json good = {{"name", "Ada"}, {"address", {{"street", "1 Main St"}, {"city", "London"}}}};
    const json ok = json::parse(post(endpoint, call_request(2, "json_schema_2020_12_tool", good), session).body);
    CHECK(ok["result"]["structuredContent"] == good);
    CHECK_FALSE(ok["result"].contains("isError"));

    const auto refusal = [&](const json& arguments) {
        const json body = json::parse(post(endpoint, call_request(3, "json_schema_2020_12_tool", arguments), session).body);
        CHECK(body["result"]["isError"] == true);
        return body["result"]["content"][0]["text"].get<std::string>();
    };
    CHECK(refusal({{"name", "Ada"}, {"address", {{"street", "1 Main St"}}}}) ==
          "Invalid arguments for tool json_schema_2020_12_tool: arguments/address: missing required property \"city\" "
          "(required)");
    CHECK(refusal({{"name", "Ada"}, {"address", {{"street", "1 Main St"}, {"city", 7}}}}) ==
          "Invalid arguments for tool json_schema_2020_12_tool: arguments/address/city: expected string, got integer "
          "(type)");
    CHECK(refusal({{"name", "Ada"}, {"age", 36}}) ==
          "Invalid arguments for tool json_schema_2020_12_tool: arguments: unexpected property \"age\" "
          "(additionalProperties)");
    CHECK(refusal({{"name", ""}}) ==
          "Invalid arguments for tool json_schema_2020_12_tool: arguments/name: must be at least 1 characters long "
          "(minLength)");
}
