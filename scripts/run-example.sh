#!/usr/bin/env bash
# Builds and runs the quick-start example (two payers, isolation, TTL, list paging).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
build="$root/build/example"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DX402_SESSION_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target x402_session_quickstart -j "$(nproc)"
"$build/examples/x402_session_quickstart"
