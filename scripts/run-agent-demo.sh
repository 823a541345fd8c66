#!/usr/bin/env bash
# The main example: builds the agent server (examples/agent_server.cpp) in
# Release, starts it on the in-memory store with OFFLINE verification on the
# Base Sepolia test network (eip155:84532) on a free local port, and drives it
# with the official npm clients (examples/agent_demo: @modelcontextprotocol/sdk
# + @x402/core + @x402/evm + viem) paying with the public Hardhat/Anvil
# development keys #0 and #1. Prints a short transcript; exit status 0 when
# every step behaved.
#   scripts/run-agent-demo.sh           the scripted demo, then stop the server
#   scripts/run-agent-demo.sh --serve   the same, then keep the server running
#                                       for your own MCP client (Ctrl-C stops it)
# Offline verification moves no funds: it is for development and test networks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

serve=0
for arg in "$@"; do
    case "$arg" in
        --serve) serve=1 ;;
        -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-agent-demo: unknown argument '$arg' (--serve, --help)" >&2; exit 2 ;;
    esac
done

# Build dependencies, plus OpenSSL for the facilitator verifier; node/npm only when node is absent.
extra="${X402_SESSION_EXTRA_PACKAGES:-} libssl-dev"
command -v node >/dev/null 2>&1 || extra="$extra nodejs npm"
X402_SESSION_EXTRA_PACKAGES="$extra" "$root/scripts/install-deps.sh"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "run-agent-demo: node $(node --version) is too old: the demo needs node 20 or newer" >&2
    exit 1
fi

build="$root/build/agent-demo"
echo "run-agent-demo: building the agent server (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DX402_SESSION_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target x402_agent_server -j "$(nproc)" >/dev/null

# The pinned npm clients go into the build directory (node_modules is never in the sources).
if [[ $serve -eq 1 ]]; then
    exec "$root/examples/agent_demo/run-demo.sh" "$build/examples/agent-server" "$build/agent_demo" --serve
fi
exec "$root/examples/agent_demo/run-demo.sh" "$build/examples/agent-server" "$build/agent_demo"
