// Options of the HTTP server (server.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <x402/http/message.hpp>

namespace x402::http {

/// Options of the HTTP server.
struct ServerOptions {
    /// Address to bind (IPv4 or IPv6 literal).
    std::string address = "127.0.0.1";
    /// Port to bind; 0 picks a free one (see Server::start's result).
    unsigned short port = 8402;
    /// Largest request body accepted; a larger one is answered 413 and the
    /// connection closed.
    std::size_t max_body_bytes = 1024 * 1024;
    /// How long a kept-alive connection may wait for its next request (or a
    /// new one for its first byte) before it is closed.
    std::chrono::milliseconds idle_timeout{15'000};
    /// How long a request may take to send its headers once it began; a
    /// slower one is closed, so a client trickling bytes cannot hold a socket.
    std::chrono::milliseconds header_timeout{10'000};
    /// How long the body may take once the headers are read.
    std::chrono::milliseconds body_timeout{30'000};
    /// How long writing one answer may take (a client that does not read).
    std::chrono::milliseconds write_timeout{60'000};
    /// Most connections open at once; one more is answered 503 and closed.
    /// 0: three quarters of the process's file descriptor limit
    /// (RLIMIT_NOFILE), so the server keeps descriptors for its own use
    /// (Redis, the facilitator).
    std::size_t max_connections = 0;
    /// The Server header of every response.
    std::string server_name = "x402-session";
    /// DNS-rebinding protection (MCP security best practices): the Host
    /// values (host or host:port, case-insensitive, exact) this server
    /// answers to; any other Host is answered 421 on every route. Empty: on a
    /// loopback address, `localhost`, `127.0.0.1`, `[::1]` and the bound
    /// address, each bare and with the bound port; on any other address, no
    /// Host check (the names it is reached by are not known; list them). A
    /// non-empty list replaces those defaults.
    std::vector<std::string> allowed_hosts;
    /// The Origin values (e.g. "http://localhost:6274", case-insensitive,
    /// exact) allowed to call any route; a request carrying another Origin is
    /// answered 403. Requests without Origin (non-browser clients) pass.
    /// Empty: on a loopback address, every loopback Origin (http or https,
    /// `localhost`, `127.0.0.1` or `[::1]`, any port); on any other address,
    /// none (so a browser page must be listed). A non-empty list replaces
    /// those defaults.
    std::vector<std::string> allowed_origins;
    /// Header fields the routes read as text: one whose value is not UTF-8 is
    /// answered 400 before any route runs (Host and Origin always are).
    std::vector<std::string> text_headers;
    /// The answer the server itself gives (404, 405, 413, 431, 500, 503) for
    /// `status` with a one-line `reason`; null: a text/plain body. The MCP
    /// server answers JSON-RPC errors here. The refusals of allowed_hosts,
    /// allowed_origins and text_headers, and of bytes that are not UTF-8 in the
    /// target (400, 403, 421), are always JSON: {"error": code, "reason": text}.
    std::function<Response(unsigned status, std::string reason)> render_error;
};

}  // namespace x402::http
