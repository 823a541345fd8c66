#!/usr/bin/env bash
# The soak of agent-server (bench/soak/soak.mjs says what it does and
# measures), once per store: starts a fresh agent-server --serve with offline
# verification (real EIP-3009 signatures checked, no funds moved) on the
# store, runs soak.mjs against it, stops it. For redis, a redis-server of its
# own on a free loopback port, in the work directory, stopped at the end.
#
#   bench/soak/run.sh SERVER_BINARY [memory] [redis]     (default: both)
#
# SOAK_WORK: where logs and results go (default: a new temp directory);
# SOAK_*: soak.mjs's settings (SOAK_DURATION=120 seconds per phase, ...).
# Writes WORK/STORE.json (the soak-result), prints the tables of docs/soak.md
# (report.mjs) and exits 1 if a soak failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
server_bin=$(realpath "$1")
shift
stores=("$@")
[[ ${#stores[@]} -gt 0 ]] || stores=(memory redis)
modules="$root/examples/agent_demo"
bash "$root/tests/npm_ci.sh" "$modules" >&2
work=${SOAK_WORK:-$(mktemp -d /tmp/x402-soak.XXXXXX)}
mkdir -p "$work"
echo "soak: logs and results in $work" >&2

redis_port="" redis_pid="" server_pid=""
cleanup() {
    local pid
    for pid in $server_pid $redis_pid; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

status=0
for store_kind in "${stores[@]}"; do
    store="memory://"
    if [[ $store_kind == redis ]]; then
        if [[ -z $redis_port ]]; then
            redis_port=$((20000 + RANDOM % 20000))
            redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
                --dir "$work" --logfile "$work/redis.log" &
            redis_pid=$!
            for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
        fi
        redis-cli -p "$redis_port" flushall >/dev/null
        store="redis://127.0.0.1:$redis_port/0"
    fi
    coproc SERVER { exec "$server_bin" --serve --listen 127.0.0.1:0 --verifier offline --store "$store" \
                         2>"$work/$store_kind.server.err"; }
    server_pid=$SERVER_PID
    read -r -t 60 line <&"${SERVER[0]}" || { echo "soak: the server did not start:" >&2; cat "$work/$store_kind.server.err" >&2; exit 1; }
    url=${line##* }
    echo "soak: $store_kind store, agent-server $server_pid at $url" >&2
    rc=0
    node "$here/soak.mjs" "$modules" "$url" "$server_pid" >"$work/$store_kind.out" || rc=$?
    sed -n 's/^soak-result //p' "$work/$store_kind.out" >"$work/$store_kind.json"
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    if [[ $rc != 0 ]]; then
        echo "soak: $store_kind store FAILED; server log:" >&2
        tail -20 "$work/$store_kind.server.err" >&2
        status=1
    fi
done
results=()
for store_kind in "${stores[@]}"; do [[ -s $work/$store_kind.json ]] && results+=("$work/$store_kind.json"); done
[[ ${#results[@]} -eq 0 ]] || node "$here/report.mjs" "${results[@]}"
exit "$status"
