#!/usr/bin/env bash
# agent-server refuses to start when its replay claims would live in a Redis
# that may evict them (an evicted claim lets one payment run its handler
# twice), and starts when they have a Redis that never evicts. Starts its own
# redis-servers on loopback; runs the server in demo mode (no --serve), which
# builds the payment gate, and so runs the check, before anything else.
#
#   eviction.sh SERVER_BINARY WORK_DIR
set -euo pipefail
server_bin=$1 work=$2
mkdir -p "$work"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

port_base=$((30000 + RANDOM % 20000))
start_redis() {  # NAME PORT ARGS...
    local name=$1 port=$2
    shift 2
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --logfile "$work/$name.log" "$@" &
    pids+=($!)
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    # A server with CONFIG renamed still answers PING; one that failed does not.
    echo "eviction: redis-server $name did not start" >&2
    cat "$work/$name.log" >&2
    exit 1
}
lru=$port_base noevict=$((port_base + 1)) hidden=$((port_base + 2))
start_redis lru "$lru" --maxmemory 64mb --maxmemory-policy volatile-lru
start_redis noeviction "$noevict" --maxmemory 64mb --maxmemory-policy noeviction
start_redis hidden "$hidden" --maxmemory 64mb --maxmemory-policy allkeys-lru --rename-command CONFIG ""

failures=0
# expect NAME EXIT_CODE STDERR_PATTERN ARGS...: runs the server, checks both.
expect() {
    local name=$1 want=$2 pattern=$3
    shift 3
    local status=0
    "$server_bin" --verifier offline "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    if [[ $status != "$want" ]] || ! grep -q -- "$pattern" "$work/$name.err" "$work/$name.out"; then
        echo "FAIL $name: exit $status (want $want), output lacks '$pattern':" >&2
        cat "$work/$name.err" "$work/$name.out" >&2
        failures=$((failures + 1))
    else
        echo "ok   $name"
    fi
}
expect sessions_redis_evicts 2 "redis 1 of 1 may evict keys (maxmemory 67108864, maxmemory-policy volatile-lru)" \
    --store "redis://127.0.0.1:$lru"
expect claims_redis_evicts 2 "maxmemory-policy volatile-lru" --replay-store "redis://127.0.0.1:$lru"
expect claims_in_own_redis 0 "demo ok" --store "redis://127.0.0.1:$lru" --replay-store "redis://127.0.0.1:$noevict" \
    --payment-identifiers off
# Payment identifiers keep their answers in the store's ledger: an evicting store is refused too.
expect ledger_redis_evicts 2 "the session ledger: redis 1 of 1 may evict keys" --store "redis://127.0.0.1:$lru" \
    --replay-store "redis://127.0.0.1:$noevict"
expect config_hidden 2 "refused CONFIG GET maxmemory" --replay-store "redis://127.0.0.1:$hidden"
expect config_hidden_vouched 0 "demo ok" --replay-store "redis://127.0.0.1:$hidden" --assume-noeviction
# The operator's word is for a hidden CONFIG only: a visible evicting policy is still refused.
expect evicting_not_vouchable 2 "may evict keys" --replay-store "redis://127.0.0.1:$lru" --assume-noeviction
# A claims store it does not know is a usage error, not claims kept in the process.
expect unknown_scheme 2 "replay-store must be memory://" --replay-store "rediss://127.0.0.1:$noevict"
exit $((failures > 0))
