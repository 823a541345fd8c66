#!/usr/bin/env bash
# Builds one libFuzzer target with clang (libFuzzer + ASan + UBSan) into
# WORK_DIR/<name> and runs it for SECONDS on its seed corpus (the committed
# <stem>_corpus folder beside tests/<module>/fuzz/<stem>_fuzzer.cpp) plus
# WORK_DIR/<name>/corpus (what earlier runs found). Fails on any crash,
# sanitizer report or broken invariant. The main build keeps its own
# compiler; only this script uses clang. Every target of every module goes
# through here, so they all get the same flags and limits.
#
#   run_fuzzer.sh CLANGXX SOURCE_ROOT WORK_DIR SECONDS TARGET_SOURCE
#
# TARGET_SOURCE is relative to SOURCE_ROOT (e.g. tests/http/fuzz/request_fuzzer.cpp).
# X402_FUZZ_ARGS adds libFuzzer flags (scripts/run-fuzz.sh: -runs=10000000).
set -euo pipefail
clangxx="$1" root="$2" work="$3" seconds="$4" target="$5"
source_file="$root/$target"
name="$(basename "$target" .cpp)"
seeds="$(dirname "$source_file")/${name%_fuzzer}_corpus"
dir="$work/$name"
binary="$dir/$name"
mkdir -p "$dir/corpus"
[ -d "$seeds" ] || { echo "run_fuzzer: no seed corpus $seeds" >&2; exit 1; }

# Rebuild when the target, any library header or any test helper header is
# newer than the binary (targets may use the test doubles of tests/<module>).
if [ ! -x "$binary" ] || [ -n "$(find "$source_file" "$root/include" "$root/tests" -name '*.hpp' -newer "$binary" -print -quit)" ] ||
   [ "$source_file" -nt "$binary" ]; then
    echo "run_fuzzer: compiling $name with $clangxx"
    # -fsized-deallocation as the x402_session target adds it for clang (the
    # store's tables free with sized delete).
    "$clangxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -fno-sanitize=function -fsized-deallocation -Wall -Wextra -Wpedantic -Werror -pthread \
        -I"$root/include" -I"$root/tests" "$source_file" -o "$binary.tmp"
    mv "$binary.tmp" "$binary"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$dir"
# shellcheck disable=SC2086  # X402_FUZZ_ARGS is a list of flags
"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=20000 -timeout=10 \
    -artifact_prefix="$dir/" -print_final_stats=1 ${X402_FUZZ_ARGS:-} "$dir/corpus" "$seeds"
