#!/usr/bin/env bash
# Builds and runs the whole test suite with ctest, in three builds: optimised
# (-O2), AddressSanitizer + UBSan, and ThreadSanitizer; then the core module
# (x402::session) and its tests with clang++-14. Warnings are errors. The
# tests driven by the official npm clients (interop, the agent-server attacks)
# and the fuzz targets run in the release build only.
#
#   scripts/run-tests.sh                 all four builds
#   scripts/run-tests.sh release         one of: release, asan, tsan, clang
#   CTEST_ARGS="-L core" scripts/run-tests.sh release   one ctest label only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"

jobs="$(nproc)"
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(release asan tsan clang)

for variant in "${variants[@]}"; do
    case "$variant" in
        release) flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG") ;;
        # Sanitizer builds with line tables only (-g1): readable stack traces
        # for far less compile time than -g. ASan + UBSan at -O0: its heavy
        # translation units compile in half the time of -O1 (58 s -> 31 s for
        # tests/session/context.cpp), and its tests take well under a minute
        # either way. TSan stays at -O1: -O0 saves less there (22 s -> 16 s)
        # and slows its stress tests more.
        asan)    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1"
                        "-DX402_SESSION_SANITIZE=address,undefined" -DX402_SESSION_TEST_PACKAGING=OFF
                        -DX402_SESSION_INTEROP=OFF -DX402_SESSION_TEST_HEADERS=OFF) ;;
        tsan)    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
                        -DX402_SESSION_SANITIZE=thread -DX402_SESSION_TEST_PACKAGING=OFF
                        -DX402_SESSION_INTEROP=OFF -DX402_SESSION_TEST_HEADERS=OFF) ;;
        # The core alone with clang 14: only Boost is needed, only core tests run.
        clang)   flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
                        -DCMAKE_CXX_COMPILER=clang++-14 -DX402_SESSION_REDIS=OFF -DX402_SESSION_HTTP_TLS=OFF
                        -DX402_SESSION_PAYMENT=OFF -DX402_SESSION_WITH_LOCAL_VERIFIER=OFF
                        -DX402_SESSION_TEST_PACKAGING=OFF) ;;
        *) echo "run-tests: unknown build '$variant' (release, asan, tsan, clang)" >&2; exit 2 ;;
    esac
    build="$root/build/$variant"
    echo "=== $variant build ==="
    cmake -S "$root" -B "$build" "${flags[@]}" >/dev/null
    if [ "$variant" = clang ]; then
        cmake --build "$build" -j "$jobs" --target x402_session_core_tests x402_session_headers \
            x402_session_quickstart x402_session_tool_handler
        ctest_labels=(-L core)
    else
        cmake --build "$build" -j "$jobs"
        ctest_labels=()
    fi
    (
        cd "$build"
        export ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp
        # shellcheck disable=SC2086
        ctest --output-on-failure --timeout 600 -j "$jobs" "${ctest_labels[@]}" ${CTEST_ARGS:-}
    )
done
