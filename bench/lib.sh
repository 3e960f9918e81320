# bench/lib.sh - what the benchmark scripts share; sourced, not run.
#
#   bench_setup DIR OUT  needs ./build/jrx (sets $jrx); DIR "" makes a
#                        scratch directory under /var/tmp removed at exit
#                        (sets $dir); creates DIR and OUT's directory
#   drop_caches [--warn] sync and drop the page cache; without --warn a
#                        failure (not root) ends the script
#   bench_array N JSIZE SIZE "SYNTH ARGS"
#                        a fresh crashed 2-device array $dir/d0 $dir/d1:
#                        `jrx format`, then `jrx synth --keys N`
#   bench_recover OUT LABEL ARGS...
#                        one recovery of a fresh sparse copy ($dir/c0,
#                        $dir/c1) of that array, caches dropped unless
#                        $bench_drop is 0: `jrx recover ARGS --json`; appends
#                        {LABEL...,"report":REPORT} to OUT and sets $report
#                        to the JSON report; $bench_jrx, when set, is the
#                        binary that recovers (an A/B comparison of builds)

bench_setup() {
  dir="$1"
  jrx=./build/jrx
  bench_drop=${bench_drop:-1}
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

bench_array() {
  rm -f "$dir/d0" "$dir/d1"
  $jrx format --size "$3" --journal-size "$2" "$dir/d0" "$dir/d1" >/dev/null
  # shellcheck disable=SC2086
  $jrx synth --keys "$1" $4 "$dir/d0" "$dir/d1" >/dev/null
}

bench_recover() {
  local out="$1" label="$2"
  shift 2
  rm -f "$dir/c0" "$dir/c1"
  cp --sparse=always "$dir/d0" "$dir/c0"
  cp --sparse=always "$dir/d1" "$dir/c1"
  if [ "$bench_drop" = 1 ]; then drop_caches --warn; fi
  report=$("${bench_jrx:-$jrx}" recover "$@" --json "$dir/c0" "$dir/c1")
  echo "{$label,\"report\":$report}" >> "$out"
  rm -f "$dir/c0" "$dir/c1"
}
