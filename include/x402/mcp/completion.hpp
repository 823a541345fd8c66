// Argument completion (`completion/complete`): the completer a prompt argument
// or a resource template variable may have, and the result it becomes.
#pragma once

#include <x402/mcp/jsonrpc.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace x402::mcp {

/// The other arguments' values the client already knows
/// (`params.context.arguments`), by name; empty when it sent none.
using CompletionContext = std::map<std::string, std::string>;

/// Suggests values for one argument given what the user typed so far
/// (`value`, possibly empty). Called synchronously on the request's thread;
/// exceptions become a JSON-RPC error -32603 "Error: <what()>".
///
///     arg.completer = [](std::string_view typed, const CompletionContext&) {
///         return starting_with(languages, typed);
///     };
using Completer = std::function<std::vector<std::string>(std::string_view value, const CompletionContext& context)>;

/// Most values one completion answer carries (the MCP limit); `total` and
/// `hasMore` tell the client about the rest.
inline constexpr std::size_t max_completion_values = 100;

namespace detail {

/// `{"completion":{"values":[first 100], "total": n, "hasMore": n > 100}}`.
inline json completion_result(std::vector<std::string> values) {
    const std::size_t total = values.size();
    if (total > max_completion_values) values.resize(max_completion_values);
    return {{"completion", {{"values", std::move(values)}, {"total", total}, {"hasMore", total > max_completion_values}}}};
}

}  // namespace detail
}  // namespace x402::mcp
