#!/usr/bin/env bash
# Installs what building and testing x402-session needs, from Debian bookworm
# packages. Idempotent: installs only what is missing. Uses sudo when not root.
set -euo pipefail

packages=(
    g++ cmake make pkg-config
    libboost1.81-dev      # Asio, Intrusive; never libboost-dev (1.74, conflicts)
    nlohmann-json3-dev
    catch2                # v2 (2.13), the one Debian has
    libsecp256k1-dev libcrypto++-dev   # x402::payment_local: signature recovery, Keccak-256
    libhiredis-dev redis-server redis-tools   # RedisStore; its tests start their own servers
    libssl-dev openssl              # x402::payment_facilitator (TLS); openssl makes the test certificates
    clang-14 libclang-rt-14-dev     # the fuzz targets (libFuzzer with ASan/UBSan)
)
# node and npm: the interop tests with the official npm clients. Only from
# Debian when absent: a NodeSource node brings its own npm, which Debian's
# npm package would conflict with.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Callers add what only they need, e.g. the benchmarks: libbenchmark-dev nodejs npm.
# shellcheck disable=SC2206
packages+=(${X402_SESSION_EXTRA_PACKAGES:-})

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
