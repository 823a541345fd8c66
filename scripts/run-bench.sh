#!/usr/bin/env bash
# Builds the benchmarks in Release, runs them and the Node reference
# (npm lru-cache) on the same workload, and prints the table of
# docs/benchmarks.md. Run it on an otherwise idle machine.
#
#   scripts/run-bench.sh                 full run (about 2 minutes)
#   BENCH_MIN_TIME=0.1 scripts/run-bench.sh   quick look
#   scripts/run-bench.sh soak            the soak of agent-server instead (bench/soak/run.sh:
#                                        both stores, both phases, about 15 minutes; docs/soak.md)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="libbenchmark-dev redis-server redis-tools valgrind"
# Node from Debian only when none is there (a NodeSource node brings its own npm).
command -v node >/dev/null && command -v npm >/dev/null || extra="$extra nodejs npm"
X402_SESSION_EXTRA_PACKAGES="$extra" "$root/scripts/install-deps.sh"

# The soak needs the example server, not the benchmarks: a build of its own.
if [ "${1:-}" = soak ]; then
    build="$root/build/soak"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
        -DX402_SESSION_BUILD_TESTS=OFF -DX402_SESSION_BUILD_EXAMPLES=ON >/dev/null
    cmake --build "$build" --target x402_agent_server -j "$(nproc)"
    SOAK_WORK="$build/results" exec "$root/bench/soak/run.sh" "$build/examples/agent-server"
fi

min_time="${BENCH_MIN_TIME:-1}"
build="$root/build/bench"
out="$build/results"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DX402_SESSION_BUILD_TESTS=OFF -DX402_SESSION_BUILD_EXAMPLES=OFF -DX402_SESSION_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target x402_session_bench x402_session_bench_resume x402_session_bench_memory x402_session_bench_verify x402_session_bench_redis -j "$(nproc)"
mkdir -p "$out"

echo "running x402-session benchmarks ..." >&2
"$build/bench/x402_session_bench" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/x402-session.json" --benchmark_out_format=json >&2

"$build/bench/x402_session_bench_memory" >"$out/memory.json"

# Instructions per resumption (exact, unlike the timings above): the
# difference between 40000 and 20000 posts, so set-up cancels out.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/bench/x402_session_bench_resume" "$1" "$2" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
plain_ir=$(( ($(instructions plain 40000) - $(instructions plain 20000)) / 20000 ))
context_ir=$(( ($(instructions context 40000) - $(instructions context 20000)) / 20000 ))
echo "{\"plain_strand\": $plain_ir, \"context_strand\": $context_ir}" >"$out/resume_instructions.json"
echo "co_await resumption: $context_ir vs $plain_ir instructions (context vs plain strand)" >&2
"$build/bench/x402_session_bench_verify" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/verify.json" --benchmark_out_format=json >&2

echo "running RedisStore and redis-benchmark against one local redis-server ..." >&2
port=$((20000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$out/redis.pid" --logfile "$out/redis.log"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
{
    echo "["
    for depth in 1 16; do
        n=$((depth == 1 ? 20000 : 200000))
        redis-cli -p "$port" config resetstat >/dev/null
        ours=$("$build/bench/x402_session_bench_redis" "redis://127.0.0.1:$port" "$depth" "$n")
        # Server-side cost per call of our scripts, the profile behind the ratio.
        evalsha_usec=$(redis-cli -p "$port" info commandstats | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p' | tr -d '\r')
        redis-cli -p "$port" config resetstat >/dev/null
        theirs=$(redis-benchmark -p "$port" -t set,get -n "$n" -P "$depth" -c 1 -d 32 -q --csv | tr -d '"' |
                 awk -F, '$1=="SET"{s=$2} $1=="GET"{g=$2} END{printf "{\"set_ops_per_second\": %s, \"get_ops_per_second\": %s}", s, g}')
        plain_usec=$(redis-cli -p "$port" info commandstats | sed -n 's/^cmdstat_get:.*usec_per_call=\([0-9.]*\).*/\1/p' | tr -d '\r')
        [ "$depth" = 1 ] || echo ","
        echo "{\"ours\": $ours, \"redis_benchmark\": $theirs, \"evalsha_usec_per_call\": ${evalsha_usec:-null}, \"get_usec_per_call\": ${plain_usec:-null}}"
    done
    echo "]"
} >"$out/redis.json"

echo "running the Node reference ..." >&2
(cd "$root/bench/node" && npm ci --no-audit --no-fund --silent && node store_bench.mjs --min-time "$min_time" >"$out/node.json")

node "$root/bench/report.mjs" "$out/x402-session.json" "$out/node.json" "$out/memory.json" "$out/verify.json" "$out/redis.json"
