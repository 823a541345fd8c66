// The example agent server: the C++ counterpart of the "x402 sessions"
// template. Two paid MCP tools, put-content ($0.01) and get-content ($0.001),
// keep content per payer in that payer's session.
//
//     agent-server --serve --listen 127.0.0.1:8402
//
// This build has no payment verifier yet: every paid call is refused with
// the tool's x402 payment requirements, and no paid handler ever runs. The
// x402 hook (include/x402/payment/hook.hpp) plugs in as the PaymentGate
// below. Without --serve it prints a short demo of the MCP answers and exits.
#include "agent_server/app.hpp"

int main(int argc, char** argv) {
    // TODO(x402 wiring): a PaymentGate around x402::payment::PaymentHook
    // (offline LocalVerifier or FacilitatorVerifier, chosen by options).
    return agent_server::run(argc, argv, agent_server::refusing_gate);
}
