#!/usr/bin/env bash
# bench/recovery.sh - end-to-end recovery timings on synth arrays.
#
#   bench/recovery.sh [--keys "1000000 5000000"] [--modes "ref acc:1 acc:2"]
#                     [--dir DIR] [--out FILE] [--journal-size 1G]
#                     [--size 64G] [--synth "ARGS"] [--no-drop-caches]
#                     [--baseline BIN]
#
# For each N: a fresh 2-device sparse array (jrx format), `jrx synth --keys
# N` (plus --synth ARGS, e.g. "--distribution zipf"), then for each mode a
# fresh sparse copy of that crashed array, the page cache dropped (as
# root) so the journal is read from the disk, and `jrx recover --json`:
# "ref" is --reference, "acc:T" the accelerated recovery with --threads T
# ("acc:T:IO" also with --io=IO: uring, aio or pread);
# with --baseline BIN, "base:MODE" runs MODE with the binary BIN instead
# (an older build: before/after figures from one run on one array, the
# modes interleaved as listed).
# Every mode of one N recovers the same crashed array, in one run, so the
# ratios between them are like for like.  One JSON report per line goes
# to --out (default bench/results/recovery.jsonl) and a line of phase
# times per run to stderr, with each mode's speedup over the first and the
# machine's load average before and after it (a busy machine's figures are
# not results).  Needs a
# built ./build/jrx.
set -euo pipefail
cd "$(dirname "$0")/.."
keys="1000000 5000000" dir="" out="bench/results/recovery.jsonl"
jsize=1G size=64G bench_drop=1 modes="ref acc:1 acc:2" synth_args="" baseline=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --synth) synth_args="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --journal-size) jsize="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --no-drop-caches) bench_drop=0; shift ;;
    --baseline) baseline="$2"; shift 2 ;;
    *) echo "usage: $0 [--keys \"N...\"] [--modes \"ref acc:T...\"]" \
            "[--dir DIR] [--out FILE] [--journal-size S] [--size S]" \
            "[--synth ARGS] [--no-drop-caches] [--baseline BIN]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_setup "$dir" "$out"

for n in $keys; do
  bench_array "$n" "$jsize" "$size" "$synth_args"
  first=""
  for m in $modes; do
    bench_jrx=""
    mode="$m"
    if [ "${m#base:}" != "$m" ]; then
      [ -n "$baseline" ] || { echo "bench/recovery.sh: $m needs --baseline BIN" >&2; exit 2; }
      bench_jrx="$baseline"
      m="${m#base:}"
    fi
    case "$m" in
      ref) args=(--reference) ;;
      acc:*:*) t=${m#acc:}; args=(--threads "${t%%:*}" --io="${t#*:}") ;;
      acc:*) args=(--threads "${m#acc:}") ;;
      *) echo "bench/recovery.sh: unknown mode $m" >&2; exit 2 ;;
    esac
    load0=$(cut -d' ' -f1 /proc/loadavg)
    bench_recover "$out" "\"bench\":\"recovery\",\"keys\":$n,\"mode\":\"$mode\",\"synth\":\"$synth_args\",\"load_before\":$load0" "${args[@]}"
    python3 bench/results.py row "$report" "$n $mode" "$first" >&2
    echo "    load average (1 min) before/after: $load0 / $(cut -d' ' -f1 /proc/loadavg)" >&2
    [ -n "$first" ] || first=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["total_seconds"])' "$report")
  done
done
echo "reports appended to $out"
