#!/usr/bin/env bash
# Builds and runs the whole test suite with ctest, in three builds: optimised
# (-O2), AddressSanitizer + UBSan, and ThreadSanitizer. Warnings are errors.
#
#   scripts/run-tests.sh                 all three builds
#   scripts/run-tests.sh release         one of: release, asan, tsan
#   CTEST_ARGS="-L core" scripts/run-tests.sh release   one ctest label only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"

jobs="$(nproc)"
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(release asan tsan)

for variant in "${variants[@]}"; do
    case "$variant" in
        release) flags=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG") ;;
        # Sanitizer builds: -O1 with line tables only (-g1) compiles much
        # faster than -O2 -g and still gives readable stack traces.
        asan)    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
                        "-DX402_SESSION_SANITIZE=address,undefined" -DX402_SESSION_TEST_PACKAGING=OFF) ;;
        tsan)    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1"
                        -DX402_SESSION_SANITIZE=thread -DX402_SESSION_TEST_PACKAGING=OFF) ;;
        *) echo "run-tests: unknown build '$variant' (release, asan, tsan)" >&2; exit 2 ;;
    esac
    build="$root/build/$variant"
    echo "=== $variant build ==="
    cmake -S "$root" -B "$build" "${flags[@]}" >/dev/null
    cmake --build "$build" -j "$jobs"
    (
        cd "$build"
        export ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
        # shellcheck disable=SC2086
        ctest --output-on-failure --timeout 600 -j "$jobs" ${CTEST_ARGS:-}
    )
done
