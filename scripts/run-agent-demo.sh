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

# The pinned npm clients, installed once per lock file (node_modules is git-ignored).
client="$root/examples/agent_demo"
work="$build/agent_demo"
mkdir -p "$work"
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$client/package-lock.json" "$work/package-lock.json"; then
    echo "run-agent-demo: npm ci (the official MCP and x402 clients, pinned)"
    cp "$client/package.json" "$client/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$client/demo.mjs" "$work/demo.mjs"

coproc SERVER { exec "$build/agent-server" --serve --listen 127.0.0.1:0 --verifier offline \
                     --network eip155:84532 --store memory:// 2>"$work/server.err"; }
server_pid=$SERVER_PID
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

line=""
if ! read -r -t 60 line <&"${SERVER[0]}"; then
    echo "run-agent-demo: the server did not start:" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi
url=${line##* }
case "$url" in
    http://*/mcp) ;;
    *) echo "run-agent-demo: unexpected server output: $line" >&2; exit 1 ;;
esac
echo "run-agent-demo: agent server on $url (in-memory store, offline verification, eip155:84532)"
echo

if ! node "$work/demo.mjs" "$url"; then
    echo "run-agent-demo: the demo failed; server log ($work/server.err):" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi

if [[ $serve -eq 1 ]]; then
    echo
    echo "run-agent-demo: the server keeps running at $url"
    echo "  Connect an MCP client (Streamable HTTP); paid tools take an x402 v2 payment for"
    echo "  eip155:84532 in params._meta[\"x402/payment\"] (the demo's state is still there)."
    echo "  Ctrl-C stops it."
    trap 'stop_server; exit 0' INT TERM
    wait "$server_pid" || true
fi
