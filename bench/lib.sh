# bench/lib.sh - what the benchmark scripts share; sourced, not run.
#
#   bench_setup DIR OUT  needs ./build/jrx (sets $jrx); DIR "" makes a
#                        scratch directory under /var/tmp removed at exit
#                        (sets $dir); creates DIR and OUT's directory
#   drop_caches [--warn] sync and drop the page cache; without --warn a
#                        failure (not root) ends the script

bench_setup() {
  dir="$1"
  jrx=./build/jrx
  [ -x "$jrx" ] || { echo "$0: build jrx first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
  bench_own_dir=0
  if [ -z "$dir" ]; then dir=$(mktemp -d /var/tmp/jrx-bench.XXXXXX); bench_own_dir=1; fi
  mkdir -p "$(dirname "$2")" "$dir"
  trap '[ $bench_own_dir = 1 ] && rm -rf "$dir"' EXIT
}

drop_caches() {
  sync
  if ! echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
    if [ "${1:-}" = --warn ]; then
      echo "$0: cannot drop the page cache (not root?): journal reads are cached" >&2
    else
      echo "$0: cannot drop the page cache (needs root)" >&2; exit 1
    fi
  fi
}
