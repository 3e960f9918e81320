#!/usr/bin/env bash
# Installs every Debian package jrx needs to build and test, and with
# --bench also what the benchmarks (bench/run.sh) and the profiling scripts
# (perf/) need: gnuplot, RocksDB (the peer), perf, valgrind, jq, bc
# and npm (npm only when none is installed: a NodeSource nodejs brings its
# own and conflicts with Debian's npm).
# Non-interactive and idempotent; run as root on Debian 12 (bookworm).
#   bash scripts/setup.sh [--bench]
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  liburing-dev libhwloc-dev libmimalloc-dev
  libbenchmark-dev libcmocka-dev
  libisal-dev libxxhash-dev
  libsqlite3-dev sqlite3
  libblkid-dev
  python3
)
case "${1:-}" in
  "") ;;
  --bench)
    PKGS+=(gnuplot-nox fonts-dejavu-core librocksdb-dev linux-perf valgrind
          jq bc util-linux)
    command -v npm >/dev/null || PKGS+=(npm)
    ;;
  *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"
