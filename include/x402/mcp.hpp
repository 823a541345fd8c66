// x402-session MCP: an MCP server (Streamable HTTP over Boost.Beast) whose
// priced tools run behind a PaymentGate in the verified payer's session.
#pragma once

#include <x402/mcp/completion.hpp>
#include <x402/mcp/content.hpp>
#include <x402/mcp/endpoint.hpp>
#include <x402/mcp/jsonrpc.hpp>
#include <x402/mcp/metrics.hpp>
#include <x402/mcp/payment_gate.hpp>
#include <x402/mcp/price.hpp>
#include <x402/mcp/prompt.hpp>
#include <x402/mcp/protocol.hpp>
#include <x402/mcp/resource.hpp>
#include <x402/mcp/server.hpp>
#include <x402/mcp/server_options.hpp>
#include <x402/mcp/tool.hpp>
#include <x402/mcp/x402_gate.hpp>
