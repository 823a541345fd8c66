#!/usr/bin/env bash
# Long fuzzing runs (not CI): each libFuzzer target (tests/<module>/fuzz/
# *_fuzzer.cpp, built and run by tests/fuzz/run_fuzzer.sh exactly as ctest
# does) until RUNS executions or MAX_SECONDS, whichever comes first, one after
# another. Prints one Markdown table row per target (the table of
# docs/testing.md, "Fuzzing"); each run's log is WORK_DIR/<target>.log.
# Exits non-zero if any target crashed or broke an invariant.
#
#   scripts/run-fuzz.sh [TARGET...]        e.g. cursor_fuzzer; default: all
#
# Environment: CLANGXX (clang++-14), WORK_DIR (build/fuzz-long),
# RUNS (10000000), MAX_SECONDS (900 per target).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
clangxx="${CLANGXX:-clang++-14}"
work="${WORK_DIR:-$root/build/fuzz-long}"
runs="${RUNS:-10000000}"
max_seconds="${MAX_SECONDS:-900}"
mkdir -p "$work"

cd "$root"
sources=()
if [ $# -eq 0 ]; then
    sources=(tests/*/fuzz/*_fuzzer.cpp)
else
    for name in "$@"; do sources+=(tests/*/fuzz/"${name%.cpp}".cpp); done
fi

failed=0
echo "| target | execs | exec/s | cov | ft | crashes |"
echo "|---|---:|---:|---:|---:|---:|"
for source in "${sources[@]}"; do
    [ -f "$source" ] || { echo "run-fuzz: no target $source" >&2; failed=1; continue; }
    name="$(basename "$source" .cpp)"
    log="$work/$name.log"
    X402_FUZZ_ARGS="-runs=$runs" bash tests/fuzz/run_fuzzer.sh "$clangxx" "$root" "$work" "$max_seconds" "$source" >"$log" 2>&1
    status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    ft="$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    # A crash, leak, timeout or out-of-memory leaves an artifact (and a non-zero status).
    crashes="$(find "$work/$name" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
    if [ "$status" -ne 0 ]; then
        failed=1
        [ "$crashes" -eq 0 ] && crashes="failed (exit $status, see $log)"
    fi
    echo "| \`$name\` | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $crashes |"
done
exit "$failed"
