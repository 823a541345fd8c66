// Options of the MCP server (server.hpp).
#pragma once

#include <x402/mcp/endpoint.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace x402::mcp {

/// Options of the HTTP server.
struct ServerOptions {
    /// Address to bind (IPv4 or IPv6 literal).
    std::string address = "127.0.0.1";
    /// Port to bind; 0 picks a free one (see Server::start's result).
    unsigned short port = 8402;
    /// The MCP endpoint path; other paths answer 404.
    std::string path = "/mcp";
    /// Largest request body accepted; a larger one is answered 413 and the
    /// connection closed.
    std::size_t max_body_bytes = 1024 * 1024;
    /// The connection bounds of x402::http::ServerOptions, with its defaults:
    /// idle keep-alive, header, body and write deadlines, and the connection cap
    /// (0: three quarters of the descriptor limit; beyond it a 503).
    std::chrono::milliseconds idle_timeout{15'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds write_timeout{60'000};
    std::size_t max_connections = 0;
    /// DNS-rebinding protection (Streamable HTTP "Security Warning"), on
    /// every route: x402::http::ServerOptions::allowed_hosts and
    /// allowed_origins, passed on as they are. Empty on a loopback address:
    /// the loopback Host names with the bound port and every loopback Origin;
    /// elsewhere, no Host check and every Origin refused (403). A foreign
    /// Host is answered 421; requests without Origin (non-browser clients)
    /// pass.
    std::vector<std::string> allowed_hosts;
    std::vector<std::string> allowed_origins;
    /// The MCP layer's options.
    EndpointOptions endpoint;
};

}  // namespace x402::mcp
