// The example agent server: the C++ counterpart of the "x402 sessions"
// template. Two paid MCP tools, put-content ($0.01) and get-content ($0.001),
// keep content per payer in that payer's session.
//
//     agent-server --serve --listen 127.0.0.1:8402 --verifier offline --network eip155:84532
//
// Paid calls go through the x402 gate (include/x402/mcp/x402_gate.hpp): the
// payment in `_meta["x402/payment"]` is verified (offline LocalVerifier on
// test networks, or a facilitator URL), the tool runs in the payer's session,
// and the receipt comes back in `_meta["x402/payment-response"]`. Without a
// --verifier every paid call is refused with its price. Without --serve it
// prints a short demo of the MCP answers and exits. See --help.
#include "agent_server/app.hpp"

int main(int argc, char** argv) { return agent_server::run(argc, argv); }
