#!/usr/bin/env bash
# Runs one scenario of attacks.mjs against the real agent-server: starts the
# facilitator TEST DOUBLE (tests/payment/facilitator_double, mode /scripted),
# then agent-server --serve with --verifier <double>/scripted and the given
# store, then the attacks; stops both at the end (the drain scenario stops
# the server itself, with SIGTERM, and expects it to exit 0).
#
#   run.sh SCENARIO SERVER_BINARY MODULES_DIR WORK_DIR memory|redis [REDIS_URLS_FILE]
#
# MODULES_DIR holds node_modules with the official clients (examples/agent_demo).
# For redis, the store is database 9 of the standalone server of the redis
# fixture (tests/redis), flushed first; other tests use database 2.
set -euo pipefail
scenario=$1 server_bin=$2 modules=$3 work=$4 store_kind=$5 urls_file=${6:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
double_js="$here/../payment/facilitator_double/facilitator_double.mjs"
mkdir -p "$work"
log="$work/$scenario-$store_kind"

redis_url=""
store="memory://"
if [[ $store_kind == redis ]]; then
    # shellcheck disable=SC1090
    source "$urls_file"
    redis_url="${X402_REDIS_URL%/*}/9"
    store=$redis_url
    redis-cli -u "$redis_url" --no-auth-warning FLUSHDB >/dev/null
fi

# The double exits when its stdin closes: it reads a FIFO this script holds open.
rm -f "$log.double.in"
mkfifo "$log.double.in"
node "$double_js" <"$log.double.in" >"$log.double.out" 2>&1 &
double_pid=$!
exec {double_in}>"$log.double.in"
for _ in $(seq 300); do
    grep -q '"port"' "$log.double.out" 2>/dev/null && break
    sleep 0.1
done
double_port=$(sed -nE 's/.*"port": *([0-9]+).*/\1/p' "$log.double.out")
[[ -n $double_port ]] || { echo "run: the facilitator double did not start:" >&2; cat "$log.double.out" >&2; exit 1; }
double_url="http://127.0.0.1:$double_port/scripted"

# X402_AGENT_SERVER_ARGS: more server flags (word-split), e.g. a small per-payer quota.
# shellcheck disable=SC2086
coproc SERVER { exec "$server_bin" --serve --listen 127.0.0.1:0 --verifier "$double_url" --store "$store" \
                     ${X402_AGENT_SERVER_ARGS:-} 2>"$log.server.err"; }
server_pid=$SERVER_PID
server_out=${SERVER[0]}  # bash unsets SERVER once it reaps a server that died
cleanup() {
    if [[ -n $server_pid ]]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    exec {double_in}>&-
    kill "$double_pid" 2>/dev/null || true
}
trap cleanup EXIT
read -r -t 60 line <&"$server_out" || { echo "run: the server did not start:" >&2; cat "$log.server.err" >&2; exit 1; }
url=${line##* }

status=0
node "$here/attacks.mjs" "$scenario" "$modules" "$url" "$double_url" "$redis_url" "$server_pid" || status=$?
if [[ $scenario == drain && $status == 0 ]]; then
    server_status=0
    wait "$server_pid" || server_status=$?
    server_pid=""  # reaped: cleanup must not signal a reused pid
    grep -q "agent-server: draining" "$log.server.err" || { echo "run: the server did not drain" >&2; status=1; }
    [[ $server_status == 0 ]] || { echo "run: the server exited with $server_status after draining" >&2; status=1; }
fi
if [[ $status != 0 ]]; then
    echo "run: $scenario on $store_kind failed; server log:" >&2
    cat "$log.server.err" >&2
fi
exit "$status"
