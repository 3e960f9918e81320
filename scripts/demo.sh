#!/usr/bin/env bash
# Installs what jrx needs, builds it, and runs the main job: `jrx demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
./build/jrx demo "$@"
