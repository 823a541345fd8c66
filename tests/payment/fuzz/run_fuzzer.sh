#!/usr/bin/env bash
# Builds the x402 header fuzzer with clang (libFuzzer + ASan + UBSan) into
# WORK_DIR and runs it for SECONDS on the seed corpus (tests/payment/fuzz/corpus,
# the shared vectors' header values) plus WORK_DIR/corpus (what it found
# before). Fails on any crash, sanitizer report or broken invariant.
# The main build keeps its own compiler; only this script uses clang.
#
#   run_fuzzer.sh CLANGXX SOURCE_ROOT WORK_DIR SECONDS
set -euo pipefail
clangxx="$1" root="$2" work="$3" seconds="$4"
here="$root/tests/payment/fuzz"
mkdir -p "$work/corpus"
binary="$work/header_fuzzer"

# Rebuild when the fuzzer or any payment header is newer than the binary.
if [ ! -x "$binary" ] || [ -n "$(find "$here/header_fuzzer.cpp" "$root/include/x402/payment" -newer "$binary" -print -quit)" ]; then
    echo "run_fuzzer: compiling with $clangxx"
    "$clangxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -fno-sanitize=function -Wall -Wextra -Wpedantic -Werror \
        -I"$root/include" "$here/header_fuzzer.cpp" -o "$binary.tmp"
    mv "$binary.tmp" "$binary"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$work"
"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=20000 -timeout=10 \
    -print_final_stats=1 "$work/corpus" "$here/corpus"
