// A small JSON Schema subset for tool arguments: type (one or a list),
// properties, required, additionalProperties: false, enum, items. Keywords it
// does not know are ignored (accepted), so a richer schema is checked only
// as far as this subset goes.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

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
        return number == static_cast<double>(static_cast<long long>(number));
    }
    return true;  // an unknown type name constrains nothing here
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

/// The first violation of `schema` by `value`, as "<path>: <problem>", or
/// nullopt when it conforms (as far as the subset goes).
inline std::optional<std::string> validate_schema(const nlohmann::json& schema, const nlohmann::json& value,
                                                  const std::string& path) {
    if (!schema.is_object()) return std::nullopt;
    if (const auto type = schema.find("type"); type != schema.end()) {
        bool matches = false;
        std::string expected;
        if (type->is_string()) {
            expected = type->get<std::string>();
            matches = has_json_type(value, expected);
        } else if (type->is_array()) {
            for (const auto& each : *type) {
                if (!each.is_string()) continue;
                if (!expected.empty()) expected += " or ";
                expected += each.get<std::string>();
                matches = matches || has_json_type(value, each.get<std::string>());
            }
        } else {
            matches = true;
        }
        if (!matches) return path + ": expected " + expected + ", got " + json_type_name(value);
    }
    if (const auto allowed = schema.find("enum"); allowed != schema.end() && allowed->is_array()) {
        bool found = false;
        for (const auto& each : *allowed) found = found || each == value;
        if (!found) return path + ": must be one of " + allowed->dump();
    }
    if (value.is_object()) {
        const auto properties = schema.find("properties");
        if (const auto required = schema.find("required"); required != schema.end() && required->is_array()) {
            for (const auto& name : *required)
                if (name.is_string() && !value.contains(name.get<std::string>()))
                    return path + ": missing required property \"" + name.get<std::string>() + "\"";
        }
        for (const auto& [name, member] : value.items()) {
            if (properties != schema.end() && properties->is_object()) {
                if (const auto property = properties->find(name); property != properties->end()) {
                    if (auto problem = validate_schema(*property, member, path + "." + name)) return problem;
                    continue;
                }
            }
            const auto additional = schema.find("additionalProperties");
            if (additional != schema.end() && additional->is_boolean() && !additional->get<bool>())
                return path + ": unexpected property \"" + name + "\"";
        }
    }
    if (value.is_array()) {
        if (const auto items = schema.find("items"); items != schema.end() && items->is_object()) {
            for (std::size_t i = 0; i < value.size(); ++i)
                if (auto problem = validate_schema(*items, value[i], path + "[" + std::to_string(i) + "]"))
                    return problem;
        }
    }
    return std::nullopt;
}

}  // namespace x402::mcp::detail
