#!/usr/bin/env bash
# npm ci into DIR/node_modules (DIR = tests/payment/interop), unless node_modules
# was already installed from this very package-lock.json: the three CI builds
# share one install. Usage: npm_ci.sh DIR
set -euo pipefail
dir="$1"
stamp="$dir/node_modules/.x402-session-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "npm_ci: node_modules is up to date with package-lock.json"
    exit 0
fi
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
echo "npm_ci: installed from package-lock.json"
