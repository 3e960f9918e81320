#!/usr/bin/env bash
# Installs what jrx needs, builds it, and runs the test suite (cmocka under
# CTest).  JRX_SANITIZE=asan|tsan builds with a sanitizer in its own
# directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir=build flags=()
case "${JRX_SANITIZE:-}" in
  asan) dir=build-asan flags=(-DJRX_ASAN=ON) ;;
  tsan) dir=build-tsan flags=(-DJRX_TSAN=ON) ;;
  "") ;;
  *) echo "JRX_SANITIZE must be asan or tsan" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
cd "$dir"
ctest --output-on-failure -j "$(nproc)"
