// MCP protocol revisions this server speaks and what differs between them.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace x402::mcp {

/// The revisions served, newest first. 2025-11-25 is what
/// @modelcontextprotocol/sdk 1.32 sends; 2025-06-18 and 2025-03-26 are the
/// older Streamable HTTP revisions. (2024-11-05 had the HTTP+SSE transport
/// instead; a client asking for it is offered the newest revision.)
inline constexpr std::array<std::string_view, 3> supported_protocol_versions = {"2025-11-25", "2025-06-18",
                                                                                "2025-03-26"};
inline constexpr std::string_view latest_protocol_version = supported_protocol_versions.front();
/// Streamable HTTP: a request without MCP-Protocol-Version is taken as this one.
inline constexpr std::string_view default_protocol_version = "2025-03-26";

inline bool is_supported_protocol_version(std::string_view version) noexcept {
    for (std::string_view supported : supported_protocol_versions)
        if (supported == version) return true;
    return false;
}

/// The lifecycle rule: the client's version when served, else the newest.
inline std::string negotiate_protocol_version(std::string_view requested) {
    return std::string(is_supported_protocol_version(requested) ? requested : latest_protocol_version);
}

/// JSON-RPC batches: in 2025-03-26, removed in 2025-06-18.
inline bool allows_batches(std::string_view version) noexcept { return version < "2025-06-18"; }

/// 2025-11-25 (SEP-1303): arguments that fail the tool's input schema are a
/// tool execution error (`isError: true`); before, a -32602 protocol error.
inline bool input_errors_are_tool_errors(std::string_view version) noexcept { return version >= "2025-11-25"; }

}  // namespace x402::mcp
