#!/usr/bin/env bash
# Builds the benchmarks in Release, runs them and the Node reference
# (npm lru-cache) on the same workload, and prints the table of
# docs/benchmarks.md. Run it on an otherwise idle machine.
#
#   scripts/run-bench.sh                 full run (about 2 minutes)
#   BENCH_MIN_TIME=0.1 scripts/run-bench.sh   quick look
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="libbenchmark-dev"
# Node from Debian only when none is there (a NodeSource node brings its own npm).
command -v node >/dev/null && command -v npm >/dev/null || extra="$extra nodejs npm"
X402_SESSION_EXTRA_PACKAGES="$extra" "$root/scripts/install-deps.sh"

min_time="${BENCH_MIN_TIME:-1}"
build="$root/build/bench"
out="$build/results"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DX402_SESSION_BUILD_TESTS=OFF -DX402_SESSION_BUILD_EXAMPLES=OFF -DX402_SESSION_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target x402_session_bench x402_session_bench_memory x402_session_bench_verify -j "$(nproc)"
mkdir -p "$out"

echo "running x402-session benchmarks ..." >&2
"$build/bench/x402_session_bench" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/x402-session.json" --benchmark_out_format=json >&2

"$build/bench/x402_session_bench_memory" >"$out/memory.json"
"$build/bench/x402_session_bench_verify" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/verify.json" --benchmark_out_format=json >&2

echo "running the Node reference ..." >&2
(cd "$root/bench/node" && npm ci --no-audit --no-fund --silent && node store_bench.mjs --min-time "$min_time" >"$out/node.json")

node "$root/bench/report.mjs" "$out/x402-session.json" "$out/node.json" "$out/memory.json" "$out/verify.json"
