#!/usr/bin/env bash
# Runs the agent demo against a given agent-server binary: installs the pinned
# npm clients into WORK_DIR (npm ci, once per lock file), starts the server on
# a free local port with offline verification on Base Sepolia (eip155:84532)
# and the in-memory store, runs demo.mjs (the official MCP + x402 clients,
# every answer checked), then stops the server, or with --serve keeps it
# running. Used by scripts/run-agent-demo.sh and by the ctest
# mcp.interop.official_clients (with the server of each build).
#   run-demo.sh SERVER_BINARY WORK_DIR [--serve]
set -euo pipefail

server_bin=$1
work=$2
serve=${3:-}
client=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mkdir -p "$work"
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$client/package-lock.json" "$work/package-lock.json"; then
    echo "run-demo: npm ci (the official MCP and x402 clients, pinned)"
    cp "$client/package.json" "$client/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$client/demo.mjs" "$work/demo.mjs"

# The server prints "agent-server: listening on http://HOST:PORT/mcp" once bound.
coproc SERVER { exec "$server_bin" --serve --listen 127.0.0.1:0 --verifier offline --network eip155:84532 \
                     --store memory:// 2>"$work/server.err"; }
server_pid=$SERVER_PID
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

line=""
if ! read -r -t 60 line <&"${SERVER[0]}"; then
    echo "run-demo: the server did not start:" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi
url=${line##* }
case "$url" in
    http://*/mcp) ;;
    *) echo "run-demo: unexpected server output: $line" >&2; exit 1 ;;
esac
echo "run-demo: agent server on $url (in-memory store, offline verification, eip155:84532)"
echo

if ! node "$work/demo.mjs" "$url"; then
    echo "run-demo: the demo failed; server log ($work/server.err):" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi

if [[ $serve == --serve ]]; then
    echo
    echo "run-demo: the server keeps running at $url"
    echo "  Connect an MCP client (Streamable HTTP); paid tools take an x402 v2 payment for"
    echo "  eip155:84532 in params._meta[\"x402/payment\"] (the demo's state is still there)."
    echo "  Ctrl-C stops it."
    trap 'stop_server; exit 0' INT TERM
    wait "$server_pid" || true
fi
