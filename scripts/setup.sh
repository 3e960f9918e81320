#!/usr/bin/env bash
# Installs every Debian package jrx needs to build, test, benchmark and profile.
# Non-interactive and idempotent; run as root on Debian 12 (bookworm).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config git
  liburing-dev libhwloc-dev libmimalloc-dev
  libbenchmark-dev libcmocka-dev
  libisal-dev libxxhash-dev
  libsqlite3-dev sqlite3
)
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
