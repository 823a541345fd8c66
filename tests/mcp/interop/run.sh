#!/usr/bin/env bash
# Interop test driver (ctest mcp.interop.official_clients): starts the REAL
# agent server with offline verification on Base Sepolia (eip155:84532) on a
# free port, installs the agent demo's pinned npm packages into WORK_DIR (npm
# ci, once per lock file), and runs the demo client, which pays with the
# official x402 client libraries and checks every answer
# (examples/agent_demo/demo.mjs). Then stops the server.
#   run.sh SERVER_BINARY WORK_DIR
set -euo pipefail

server_bin=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
client=$(cd "$here/../../../examples/agent_demo" && pwd)

mkdir -p "$work"
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$client/package-lock.json" "$work/package-lock.json"; then
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
    echo "run.sh: the server did not report its address" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi
url=${line##* }
case "$url" in
    http://*/mcp) ;;
    *) echo "run.sh: unexpected server output: $line" >&2; exit 1 ;;
esac

if ! node "$work/demo.mjs" "$url"; then
    echo "run.sh: the demo client failed; server log:" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi
