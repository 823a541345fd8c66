#!/usr/bin/env bash
# Interop test driver: starts the agent server on a free port, installs the
# pinned npm packages into the build directory (npm ci, once per lock file),
# runs the official MCP client against the server, and stops the server.
#   run.sh SERVER_BINARY WORK_DIR
set -euo pipefail

server_bin=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mkdir -p "$work"
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$here/package-lock.json" "$work/package-lock.json"; then
    cp "$here/package.json" "$here/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/client.mjs" "$work/client.mjs"

# The server prints "agent-server: listening on http://HOST:PORT/mcp" once bound.
coproc SERVER { exec "$server_bin" --serve --listen 127.0.0.1:0 2>"$work/server.err"; }
server_pid=$SERVER_PID
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

line=""
if ! read -r -t 30 line <&"${SERVER[0]}"; then
    echo "run.sh: the server did not report its address" >&2
    cat "$work/server.err" >&2 || true
    exit 1
fi
url=${line##* }
case "$url" in
    http://*/mcp) ;;
    *) echo "run.sh: unexpected server output: $line" >&2; exit 1 ;;
esac

node "$work/client.mjs" "$url"
