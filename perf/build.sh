#!/bin/bash
# perf/build.sh - the profiling build in build-prof: RelWithDebInfo (-O2 -g,
# frame pointers: the project compiles with -fno-omit-frame-pointer, and
# -mno-omit-leaf-frame-pointer is added when gcc takes it), no tests.
# Installs what the profiling scripts need first (scripts/setup.sh --bench:
# perf, valgrind, jq, bc, npm), then builds build-prof/jrx and
# build-prof/perf/kernels/jrx-kernels.
#
#   bash perf/build.sh
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

bash scripts/setup.sh --bench
cflags=""
if echo 'int main(void){return 0;}' |
   ${CC:-cc} -x c -mno-omit-leaf-frame-pointer -o /dev/null - 2>/dev/null; then
	cflags=-mno-omit-leaf-frame-pointer
fi
# JRX_BUILD_PEER/BENCH off: the profile needs neither RocksDB nor
# Google Benchmark
cmake -S . -B build-prof -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS="$cflags" -DJRX_BUILD_TESTS=OFF \
	-DJRX_BUILD_BENCH=OFF -DJRX_BUILD_PEER=OFF
cmake --build build-prof -j"$(nproc)" --target jrx jrx-kernels
echo "built $JRX and build-prof/perf/kernels/jrx-kernels (C flags: ${cflags:-none})"
