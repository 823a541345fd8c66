#!/usr/bin/env bash
# npm ci into DIR/node_modules (a source folder with package-lock.json, whose
# node_modules is git-ignored), unless node_modules was already installed from
# this very package-lock.json: every build shares one install. A lock file
# beside it (flock) keeps two ctest runs from installing at once.
#   npm_ci.sh DIR
set -euo pipefail
dir="$(cd "$1" && pwd)"
exec {lock}>"$dir/.npm_ci.lock"
flock "$lock"
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
