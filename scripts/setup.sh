#!/usr/bin/env bash
# Installs every Debian package jrx needs to build and test, and with
# --bench also what the benchmarks (bench/run.sh) and the profiling scripts
# (perf/) need: gnuplot, RocksDB (the peer), perf, valgrind, jq, bc, fio
# and npm (npm only when none is installed: a NodeSource nodejs brings its
# own and conflicts with Debian's npm); with --fuzz clang and its libFuzzer
# runtime (scripts/fuzz.sh, docs/FUZZING.md).
# Non-interactive and idempotent; run as root on Debian 12 (bookworm).
#   bash scripts/setup.sh [--bench] [--fuzz]
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  liburing-dev libaio-dev libhwloc-dev libmimalloc-dev
  libbenchmark-dev libcmocka-dev
  libisal-dev libxxhash-dev
  libsqlite3-dev sqlite3
  libblkid-dev
  libjson-c-dev
  python3
)
for arg in "$@"; do
  case "$arg" in
    --bench)
      PKGS+=(gnuplot-nox fonts-dejavu-core librocksdb-dev linux-perf valgrind
            jq bc util-linux fio)
      command -v npm >/dev/null || PKGS+=(npm)
      ;;
    # libclang-rt-dev: the default clang's compiler-rt (libFuzzer), only a
    # recommendation of clang, which --no-install-recommends skips
    --fuzz) PKGS+=(clang libclang-rt-dev) ;;
    *) echo "usage: $0 [--bench] [--fuzz]" >&2; exit 2 ;;
  esac
done
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
