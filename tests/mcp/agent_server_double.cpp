// TEST ONLY, NEVER SHIP: the example agent server with the
// TrustingPaymentGateDouble, which believes the payer a request names
// (`_meta["x402/payment"] = {"testPayer": "0x…"}`). The interop test drives
// it with the official MCP client until the x402 hook is wired; then the
// interop test moves to the real server with offline verification.
#include "agent_server/app.hpp"
#include "trusting_payment_gate_double.hpp"

#include <iostream>

int main(int argc, char** argv) {
    std::cerr << "agent-server-double: WARNING: trusts any payer a request names (test double)\n";
    return agent_server::run(argc, argv, [](const x402::session::SessionPlugin& sessions) {
        return x402::mcp::PaymentGate(x402::mcp::testing::TrustingPaymentGateDouble(sessions));
    });
}
