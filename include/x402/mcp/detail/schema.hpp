// Tool input schemas: a JSON Schema 2020-12 validator for the keywords it
// enforces, and a registration-time check that refuses every other keyword,
// so that a schema never looks stricter than it is.
//
// Enforced: $ref (local, "#" or "#/<JSON pointer>", e.g. "#/$defs/name" or
// "#/definitions/name"; its siblings apply too), $defs / definitions, type
// (a name or a list; "integer" is any number with no fraction), enum, const,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
// minLength, maxLength (in Unicode code points), pattern (ECMA-262 through
// std::regex ECMAScript on code points, searched unanchored; no
// back-references), minItems, maxItems, uniqueItems, items (one schema for
// every item after prefixItems), prefixItems, properties, required,
// additionalProperties, minProperties, maxProperties, allOf, anyOf, oneOf, not,
// if / then / else, and the boolean schemas true and false.
// Annotations, accepted and not checked: $schema, $id (at the root only),
// $anchor, $comment, title, description, default, examples, deprecated,
// readOnly, writeOnly, format, contentEncoding, contentMediaType,
// contentSchema.
// Anything else (patternProperties, unevaluatedProperties,
// dependentRequired, a misspelt keyword, ...) makes check_schema throw.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// g++ 12 at -O1 with the sanitizers reports -Wmaybe-uninitialized inside
// libstdc++'s regex compiler (a std::function moved out of a fresh NFA state),
// which -Werror turns into a failed build for whoever includes this header.
// The warning is placed by where the template is defined, so it is silenced
// around the include itself; it cannot help when <regex> came in earlier.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace x402::mcp::detail {

inline std::string json_type_name(const nlohmann::json& value) {
    if (value.is_null()) return "null";
    if (value.is_boolean()) return "boolean";
    if (value.is_number_integer()) return "integer";
    if (value.is_number()) return "number";
    if (value.is_string()) return "string";
    if (value.is_array()) return "array";
    return "object";
}

inline bool has_json_type(const nlohmann::json& value, std::string_view type) {
    if (type == "null") return value.is_null();
    if (type == "boolean") return value.is_boolean();
    if (type == "string") return value.is_string();
    if (type == "array") return value.is_array();
    if (type == "object") return value.is_object();
    if (type == "number") return value.is_number();
    if (type == "integer") {
        if (value.is_number_integer()) return true;
        if (!value.is_number_float()) return false;
        const double number = value.get<double>();
        return std::isfinite(number) && std::trunc(number) == number;
    }
    return false;  // check_schema refuses unknown type names
}

/// The deepest nesting of arrays and objects in JSON text (strings skipped);
/// for text that is not JSON, some number that is no smaller.
inline std::size_t json_depth(std::string_view text) noexcept {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

namespace schema_impl {

using json = nlohmann::json;

/// `name` escaped as one JSON pointer reference token (~ is ~0, / is ~1).
inline std::string pointer_token(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

/// UTF-8 to code points (wchar_t is 32 bits with libstdc++ on Linux); a byte
/// that does not start a well-formed sequence becomes U+FFFD.
inline std::wstring utf8_to_wide(std::string_view text) {
    std::wstring out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        bool ok = length != 0 && i + length <= text.size();
        std::uint32_t code = length == 1 ? lead : length == 2 ? (lead & 0x1Fu) : length == 3 ? (lead & 0x0Fu) : (lead & 0x07u);
        for (std::size_t k = 1; ok && k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            ok = (next & 0xC0u) == 0x80u;
            code = (code << 6) | (next & 0x3Fu);
        }
        out += ok ? static_cast<wchar_t>(code) : static_cast<wchar_t>(0xFFFD);
        i += ok ? length : 1;
    }
    return out;
}

/// The number of Unicode code points of UTF-8 text.
inline std::size_t code_points(std::string_view text) noexcept {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u; }));
}

inline std::regex_constants::syntax_option_type regex_flags() noexcept {
#if defined(__GLIBCXX__)
    // libstdc++'s default matcher recurses once per input character, so a
    // long argument would overflow the stack; the polynomial one does not
    // (and refuses back-references).
    return std::regex_constants::ECMAScript | std::regex_constants::__polynomial;
#else
    return std::regex_constants::ECMAScript;
#endif
}

/// `pattern` compiled, from a small per-thread cache. Throws std::regex_error.
inline const std::wregex& compiled_pattern(const std::string& pattern) {
    thread_local std::map<std::string, std::wregex> cache;
    if (const auto found = cache.find(pattern); found != cache.end()) return found->second;
    std::wregex compiled(utf8_to_wide(pattern), regex_flags());
    if (cache.size() >= 256) cache.clear();
    return cache.emplace(pattern, std::move(compiled)).first->second;
}

/// The schema `ref` ("#" or "#/<pointer>", percent-encoded as a URI
/// fragment) points to in `root`, or null.
inline const json* resolve_ref(const json& root, const std::string& ref) {
    if (ref.empty() || ref[0] != '#') return nullptr;
    std::string pointer;
    for (std::size_t i = 1; i < ref.size(); ++i) {
        if (ref[i] == '%' && i + 2 < ref.size() && std::isxdigit(static_cast<unsigned char>(ref[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(ref[i + 2]))) {
            pointer += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            pointer += ref[i];
        }
    }
    if (pointer.empty()) return &root;
    if (pointer[0] != '/') return nullptr;  // "#name" anchors are not supported
    try {
        const json::json_pointer parsed(pointer);
        if (!root.contains(parsed)) return nullptr;
        return &root.at(parsed);
    } catch (const json::exception&) {
        return nullptr;
    }
}

inline long double as_long_double(const json& number) {
    if (number.is_number_unsigned()) return static_cast<long double>(number.get<std::uint64_t>());
    if (number.is_number_integer()) return static_cast<long double>(number.get<std::int64_t>());
    return static_cast<long double>(number.get<double>());
}

inline bool is_non_negative_integer(const json& value) {
    return has_json_type(value, "integer") && as_long_double(value) >= 0;
}

inline std::size_t as_size(const json& value) {
    const long double number = as_long_double(value);
    return number >= static_cast<long double>(SIZE_MAX) ? SIZE_MAX : static_cast<std::size_t>(number);
}

inline bool is_multiple_of(const json& value, const json& divisor) {
    const long double v = as_long_double(value);
    const long double d = as_long_double(divisor);
    if (!value.is_number_float() && !divisor.is_number_float()) return std::fmod(v, d) == 0;
    const long double quotient = v / d;
    if (!std::isfinite(quotient)) return false;
    return std::fabs(quotient - std::round(quotient)) <= std::max(1.0L, std::fabs(quotient)) * 4 * DBL_EPSILON;
}

/// The registration-time check: throws std::invalid_argument naming the
/// keyword and its JSON pointer in the schema.
class Checker {
public:
    explicit Checker(const json& root) : root_(root) { checked_refs_.insert(&root); }

    void check(const json& schema, const std::string& at) {
        if (schema.is_boolean()) return;
        if (!schema.is_object())
            throw std::invalid_argument("input schema: " + where(at) + " must be a schema (an object or a boolean)");
        for (const auto& [keyword, value] : schema.items()) check_keyword(schema, keyword, value, at + "/" + pointer_token(keyword), at);
    }

private:
    static std::string where(const std::string& at) { return at.empty() ? "the root" : at; }

    [[noreturn]] static void fail(const std::string& keyword, const std::string& at, const std::string& problem) {
        throw std::invalid_argument("input schema: keyword \"" + keyword + "\" at " + at + " " + problem);
    }

    void check_schemas(const json& list, const std::string& keyword, const std::string& at) {
        if (!list.is_array() || list.empty()) fail(keyword, at, "must be a non-empty array of schemas");
        for (std::size_t i = 0; i < list.size(); ++i) check(list[i], at + "/" + std::to_string(i));
    }

    void check_keyword(const json& schema, const std::string& keyword, const json& value, const std::string& at,
                       const std::string& schema_at) {
        static const std::set<std::string, std::less<>> string_annotations = {
            "$schema", "$anchor", "$comment", "title", "description", "format", "contentEncoding", "contentMediaType"};
        static const std::set<std::string, std::less<>> boolean_annotations = {"deprecated", "readOnly", "writeOnly"};
        static const std::set<std::string, std::less<>> any_annotations = {"default", "examples", "contentSchema"};
        static const std::set<std::string, std::less<>> counts = {"minLength", "maxLength",     "minItems",
                                                                  "maxItems",  "minProperties", "maxProperties"};
        static const std::set<std::string, std::less<>> bounds = {"minimum", "maximum", "exclusiveMinimum",
                                                                  "exclusiveMaximum"};
        static const std::set<std::string, std::less<>> type_names = {"null",   "boolean", "object", "array",
                                                                      "number", "integer", "string"};
        if (string_annotations.count(keyword) != 0) {
            if (!value.is_string()) fail(keyword, at, "must be a string");
        } else if (boolean_annotations.count(keyword) != 0 || keyword == "uniqueItems") {
            if (!value.is_boolean()) fail(keyword, at, "must be a boolean");
        } else if (any_annotations.count(keyword) != 0 || keyword == "const") {
        } else if (keyword == "$id") {
            if (!schema_at.empty()) fail(keyword, at, "is supported at the root only");
            if (!value.is_string()) fail(keyword, at, "must be a string");
        } else if (keyword == "$defs" || keyword == "definitions" || keyword == "properties") {
            if (!value.is_object()) fail(keyword, at, "must be an object of schemas");
            for (const auto& [name, each] : value.items()) check(each, at + "/" + pointer_token(name));
        } else if (keyword == "$ref") {
            if (!value.is_string()) fail(keyword, at, "must be a string");
            const json* target = resolve_ref(root_, value.get<std::string>());
            if (target == nullptr)
                fail(keyword, at, "must point into this schema (\"#\" or \"#/<JSON pointer>\"); " + value.dump() +
                                      " does not");
            if (refers_back(*target, &schema)) fail(keyword, at, "loops back to itself without checking anything");
            if (checked_refs_.insert(target).second) check(*target, value.get<std::string>().substr(1));
        } else if (keyword == "type") {
            const auto valid = [&](const json& name) { return name.is_string() && type_names.count(name.get<std::string>()) != 0; };
            bool ok = valid(value);
            if (value.is_array()) {
                std::set<std::string> seen;
                ok = !value.empty() && std::all_of(value.begin(), value.end(), [&](const json& name) {
                    return valid(name) && seen.insert(name.get<std::string>()).second;
                });
            }
            if (!ok)
                fail(keyword, at,
                     "must be one of null, boolean, object, array, number, integer, string, or a non-empty array of "
                     "distinct ones");
        } else if (keyword == "required") {
            std::set<std::string> seen;
            if (!value.is_array() || !std::all_of(value.begin(), value.end(), [&](const json& name) {
                    return name.is_string() && seen.insert(name.get<std::string>()).second;
                }))
                fail(keyword, at, "must be an array of distinct strings");
        } else if (keyword == "additionalProperties" || keyword == "items" || keyword == "not" || keyword == "if" ||
                   keyword == "then" || keyword == "else") {
            if (keyword == "items" && value.is_array())
                fail(keyword, at, "must be a schema (JSON Schema 2020-12; an array of schemas is prefixItems)");
            check(value, at);
        } else if (keyword == "prefixItems" || keyword == "allOf" || keyword == "anyOf" || keyword == "oneOf") {
            check_schemas(value, keyword, at);
        } else if (keyword == "enum") {
            if (!value.is_array()) fail(keyword, at, "must be an array");
        } else if (bounds.count(keyword) != 0) {
            if (!value.is_number()) fail(keyword, at, "must be a number");
        } else if (keyword == "multipleOf") {
            if (!value.is_number() || as_long_double(value) <= 0) fail(keyword, at, "must be a number greater than 0");
        } else if (counts.count(keyword) != 0) {
            if (!is_non_negative_integer(value)) fail(keyword, at, "must be a non-negative integer");
        } else if (keyword == "pattern") {
            if (!value.is_string()) fail(keyword, at, "must be a string");
            try {
                compiled_pattern(value.get<std::string>());
            } catch (const std::regex_error&) {
                fail(keyword, at, "is not a supported ECMA-262 regular expression (back-references are not): " + value.dump());
            }
        } else {
            fail(keyword, at, "is not supported: arguments would not be checked against it");
        }
    }

    /// Whether `from`, through $ref, allOf, anyOf, oneOf, not, if, then and
    /// else only (each
    /// of which evaluates the same value), reaches `target`: a loop that
    /// would never end.
    bool refers_back(const json& from, const json* target) const {
        std::set<const json*> seen;
        std::vector<const json*> pending{&from};
        while (!pending.empty()) {
            const json* schema = pending.back();
            pending.pop_back();
            if (schema == target) return true;
            if (!schema->is_object() || !seen.insert(schema).second) continue;
            if (const auto ref = schema->find("$ref"); ref != schema->end() && ref->is_string())
                if (const json* next = resolve_ref(root_, ref->get<std::string>())) pending.push_back(next);
            for (const char* keyword : {"allOf", "anyOf", "oneOf"})
                if (const auto list = schema->find(keyword); list != schema->end() && list->is_array())
                    for (const json& each : *list) pending.push_back(&each);
            for (const char* keyword : {"not", "if", "then", "else"})
                if (const auto each = schema->find(keyword); each != schema->end()) pending.push_back(&*each);
        }
        return false;
    }

    const json& root_;
    std::set<const json*> checked_refs_;
};

/// Evaluation of a checked schema: the first violation, as
/// "<location>: <problem> (<keyword>)".
class Validator {
public:
    explicit Validator(const json& root) : root_(root) {}

    std::optional<std::string> evaluate(const json& schema, const json& value, const std::string& at) {
        if (schema.is_boolean()) {
            if (schema.get<bool>()) return std::nullopt;
            return at + ": no value is allowed here (false schema)";
        }
        if (!schema.is_object()) return std::nullopt;
        if (++depth_ > max_depth) {
            --depth_;
            return at + ": the schema nests deeper than " + std::to_string(max_depth) + " levels ($ref)";
        }
        auto problem = evaluate_object(schema, value, at);
        --depth_;
        return problem;
    }

private:
    static constexpr std::size_t max_depth = 512;

    static std::optional<std::string> failure(const std::string& at, const std::string& problem, std::string_view keyword) {
        return at + ": " + problem + " (" + std::string(keyword) + ")";
    }

    bool matches(const json& schema, const json& value, const std::string& at) { return !evaluate(schema, value, at); }

    std::optional<std::string> evaluate_object(const json& schema, const json& value, const std::string& at) {
        const auto get = [&](const char* keyword) -> const json* {
            const auto found = schema.find(keyword);
            return found == schema.end() ? nullptr : &*found;
        };
        if (const json* ref = get("$ref"); ref && ref->is_string()) {
            if (const json* target = resolve_ref(root_, ref->get<std::string>()))
                if (auto problem = evaluate(*target, value, at)) return problem;
        }
        if (const json* type = get("type")) {
            bool ok = false;
            std::string expected;
            for (const json& name : type->is_array() ? *type : json::array({*type})) {
                if (!name.is_string()) continue;
                if (!expected.empty()) expected += " or ";
                expected += name.get<std::string>();
                ok = ok || has_json_type(value, name.get<std::string>());
            }
            if (!ok) return failure(at, "expected " + expected + ", got " + json_type_name(value), "type");
        }
        if (const json* allowed = get("enum"); allowed && allowed->is_array()) {
            if (std::find(allowed->begin(), allowed->end(), value) == allowed->end())
                return failure(at, "must be one of " + allowed->dump(), "enum");
        }
        if (const json* expected = get("const"); expected && *expected != value)
            return failure(at, "must be " + expected->dump(), "const");
        if (value.is_number()) {
            if (auto problem = evaluate_number(schema, value, at)) return problem;
        }
        if (value.is_string()) {
            if (auto problem = evaluate_string(schema, value.get_ref<const std::string&>(), at)) return problem;
        }
        if (value.is_array()) {
            if (auto problem = evaluate_array(schema, value, at)) return problem;
        }
        if (value.is_object()) {
            if (auto problem = evaluate_members(schema, value, at)) return problem;
        }
        if (const json* all = get("allOf"); all && all->is_array()) {
            for (const json& each : *all)
                if (auto problem = evaluate(each, value, at)) return problem;
        }
        if (const json* any = get("anyOf"); any && any->is_array()) {
            if (std::none_of(any->begin(), any->end(), [&](const json& each) { return matches(each, value, at); }))
                return failure(at, "matches none of the anyOf schemas", "anyOf");
        }
        if (const json* one = get("oneOf"); one && one->is_array()) {
            std::vector<std::size_t> matched;
            for (std::size_t i = 0; i < one->size(); ++i)
                if (matches((*one)[i], value, at)) matched.push_back(i);
            if (matched.empty()) return failure(at, "matches none of the oneOf schemas", "oneOf");
            if (matched.size() > 1)
                return failure(at,
                               "matches oneOf schemas " + std::to_string(matched[0]) + " and " +
                                   std::to_string(matched[1]) + ", but must match exactly one",
                               "oneOf");
        }
        if (const json* negated = get("not"); negated && matches(*negated, value, at))
            return failure(at, "must not match the schema of not", "not");
        if (const json* condition = get("if")) {
            const bool holds = matches(*condition, value, at);
            if (const json* branch = get(holds ? "then" : "else"))
                if (auto problem = evaluate(*branch, value, at)) return problem;
        }
        return std::nullopt;
    }

    static std::optional<std::string> evaluate_number(const json& schema, const json& value, const std::string& at) {
        const long double number = as_long_double(value);
        struct Bound {
            const char* keyword;
            const char* relation;
            bool (*holds)(long double, long double);
        };
        static constexpr Bound bounds[] = {
            {"minimum", ">=", [](long double v, long double b) { return v >= b; }},
            {"maximum", "<=", [](long double v, long double b) { return v <= b; }},
            {"exclusiveMinimum", ">", [](long double v, long double b) { return v > b; }},
            {"exclusiveMaximum", "<", [](long double v, long double b) { return v < b; }},
        };
        for (const Bound& bound : bounds) {
            const auto limit = schema.find(bound.keyword);
            if (limit != schema.end() && limit->is_number() && !bound.holds(number, as_long_double(*limit)))
                return failure(at, std::string("must be ") + bound.relation + " " + limit->dump(), bound.keyword);
        }
        if (const auto divisor = schema.find("multipleOf");
            divisor != schema.end() && divisor->is_number() && as_long_double(*divisor) > 0 && !is_multiple_of(value, *divisor))
            return failure(at, "must be a multiple of " + divisor->dump(), "multipleOf");
        return std::nullopt;
    }

    static std::optional<std::string> evaluate_string(const json& schema, const std::string& text, const std::string& at) {
        const std::size_t length = code_points(text);
        if (const auto least = schema.find("minLength"); least != schema.end() && is_non_negative_integer(*least) &&
                                                          length < as_size(*least))
            return failure(at, "must be at least " + least->dump() + " characters long", "minLength");
        if (const auto most = schema.find("maxLength"); most != schema.end() && is_non_negative_integer(*most) &&
                                                         length > as_size(*most))
            return failure(at, "must be at most " + most->dump() + " characters long", "maxLength");
        if (const auto pattern = schema.find("pattern"); pattern != schema.end() && pattern->is_string()) {
            bool found = false;
            try {
                found = std::regex_search(utf8_to_wide(text), compiled_pattern(pattern->get<std::string>()));
            } catch (const std::regex_error&) {
                return failure(at, "cannot be checked against the invalid pattern " + pattern->dump(), "pattern");
            }
            if (!found) return failure(at, "must match the pattern " + pattern->dump(), "pattern");
        }
        return std::nullopt;
    }

    std::optional<std::string> evaluate_array(const json& schema, const json& value, const std::string& at) {
        if (const auto least = schema.find("minItems");
            least != schema.end() && is_non_negative_integer(*least) && value.size() < as_size(*least))
            return failure(at, "must have at least " + least->dump() + " items", "minItems");
        if (const auto most = schema.find("maxItems");
            most != schema.end() && is_non_negative_integer(*most) && value.size() > as_size(*most))
            return failure(at, "must have at most " + most->dump() + " items", "maxItems");
        if (const auto unique = schema.find("uniqueItems"); unique != schema.end() && *unique == true) {
            // Sorted, so that a long array costs n log n, not n squared.
            std::vector<std::size_t> order(value.size());
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return value[a] < value[b]; });
            for (std::size_t i = 1; i < order.size(); ++i)
                if (value[order[i - 1]] == value[order[i]])
                    return failure(at,
                                   "items " + std::to_string(std::min(order[i - 1], order[i])) + " and " +
                                       std::to_string(std::max(order[i - 1], order[i])) + " are equal",
                                   "uniqueItems");
        }
        std::size_t first_rest = 0;
        if (const auto prefix = schema.find("prefixItems"); prefix != schema.end() && prefix->is_array()) {
            first_rest = prefix->size();
            for (std::size_t i = 0; i < prefix->size() && i < value.size(); ++i)
                if (auto problem = evaluate((*prefix)[i], value[i], at + "/" + std::to_string(i))) return problem;
        }
        if (const auto items = schema.find("items"); items != schema.end() && (items->is_object() || items->is_boolean())) {
            if (*items == false && value.size() > first_rest)
                return failure(at, "must have at most " + std::to_string(first_rest) + " items", "items");
            for (std::size_t i = first_rest; i < value.size(); ++i)
                if (auto problem = evaluate(*items, value[i], at + "/" + std::to_string(i))) return problem;
        }
        return std::nullopt;
    }

    std::optional<std::string> evaluate_members(const json& schema, const json& value, const std::string& at) {
        if (const auto least = schema.find("minProperties");
            least != schema.end() && is_non_negative_integer(*least) && value.size() < as_size(*least))
            return failure(at, "must have at least " + least->dump() + " properties", "minProperties");
        if (const auto most = schema.find("maxProperties");
            most != schema.end() && is_non_negative_integer(*most) && value.size() > as_size(*most))
            return failure(at, "must have at most " + most->dump() + " properties", "maxProperties");
        if (const auto required = schema.find("required"); required != schema.end() && required->is_array()) {
            for (const json& name : *required)
                if (name.is_string() && !value.contains(name.get<std::string>()))
                    return failure(at, "missing required property " + name.dump(), "required");
        }
        const auto properties = schema.find("properties");
        const auto additional = schema.find("additionalProperties");
        for (const auto& [name, member] : value.items()) {
            const std::string member_at = at + "/" + pointer_token(name);
            if (properties != schema.end() && properties->is_object()) {
                if (const auto property = properties->find(name); property != properties->end()) {
                    if (auto problem = evaluate(*property, member, member_at)) return problem;
                    continue;
                }
            }
            if (additional == schema.end()) continue;
            if (*additional == false) return failure(at, "unexpected property " + json(name).dump(), "additionalProperties");
            if (auto problem = evaluate(*additional, member, member_at)) return problem;
        }
        return std::nullopt;
    }

    const json& root_;
    std::size_t depth_ = 0;
};

}  // namespace schema_impl

/// Why `schema` cannot be a tool input schema as it stands, or nullopt: a
/// keyword this validator does not enforce (named with its JSON pointer in
/// the schema), a malformed keyword value, a $ref that points nowhere or
/// loops, or an invalid pattern.
inline std::optional<std::string> schema_problem(const nlohmann::json& schema) {
    try {
        schema_impl::Checker(schema).check(schema, "");
    } catch (const std::invalid_argument& error) {
        return std::string(error.what());
    }
    return std::nullopt;
}

/// Throws std::invalid_argument with schema_problem's message.
inline void check_schema(const nlohmann::json& schema) {
    if (auto problem = schema_problem(schema)) throw std::invalid_argument(*problem);
}

/// The first violation of `schema` (which passed check_schema) by `value`,
/// as "<location>: <problem> (<keyword>)", where location is `path` followed
/// by the JSON pointer of the failing part of `value` (e.g.
/// "arguments/tags/0"); nullopt when it conforms. A keyword check_schema
/// refuses is ignored here.
inline std::optional<std::string> validate_schema(const nlohmann::json& schema, const nlohmann::json& value,
                                                  const std::string& path) {
    return schema_impl::Validator(schema).evaluate(schema, value, path);
}

}  // namespace x402::mcp::detail
