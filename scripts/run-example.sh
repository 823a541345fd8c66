#!/usr/bin/env bash
# Builds and runs the quick-start example (two payers, isolation, TTL, list paging).
#   scripts/run-example.sh                          on the in-memory store
#   scripts/run-example.sh redis://127.0.0.1:6379   the same on Redis (or redis+cluster://host:port,...)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
build="$root/build/example"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DX402_SESSION_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target x402_session_quickstart -j "$(nproc)"
"$build/examples/x402_session_quickstart" "$@"
