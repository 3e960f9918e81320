#!/usr/bin/env bash
# bench/recovery.sh - end-to-end recovery timings on synth arrays.
#
#   bench/recovery.sh [--keys "1000000 5000000"] [--modes "ref acc:1 acc:2"]
#                     [--dir DIR] [--out FILE] [--journal-size 1G]
#                     [--size 64G] [--synth "ARGS"] [--no-drop-caches]
#
# For each N: a fresh 2-device sparse array (jrx format), `jrx synth --keys
# N` (plus --synth ARGS, e.g. "--distribution zipf"), then for each mode a
# fresh sparse copy of that crashed array, the page cache dropped (as
# root) so the journal is read from the disk, and `jrx recover --json`:
# "ref" is --reference, "acc:T" the accelerated recovery with --threads T.
# Every mode of one N recovers the same crashed array, in one run, so the
# ratios between them are like for like.  One JSON report per line goes
# to --out (default bench/results/recovery.jsonl) and a table of the phase
# times to stdout, with each mode's speedup over the first.  Needs a
# built ./build/jrx.
set -euo pipefail
cd "$(dirname "$0")/.."
keys="1000000 5000000" dir="" out="bench/results/recovery.jsonl"
jsize=1G size=64G bench_drop=1 modes="ref acc:1 acc:2" synth_args=""
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
    *) echo "usage: $0 [--keys \"N...\"] [--modes \"ref acc:T...\"]" \
            "[--dir DIR] [--out FILE] [--journal-size S] [--size S]" \
            "[--synth ARGS] [--no-drop-caches]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_setup "$dir" "$out"

printf "%-10s %-8s %10s %9s %9s %9s %9s %9s %8s %8s\n" keys mode \
  journal_MB read_s sort_s replay_s commit_s total_s rss_MiB speedup
for n in $keys; do
  bench_array "$n" "$jsize" "$size" "$synth_args"
  first=""
  for m in $modes; do
    case "$m" in
      ref) args=(--reference) ;;
      acc:*) args=(--threads "${m#acc:}") ;;
      *) echo "bench/recovery.sh: unknown mode $m" >&2; exit 2 ;;
    esac
    bench_recover "$out" "\"bench\":\"recovery\",\"keys\":$n,\"mode\":\"$m\",\"synth\":\"$synth_args\"" "${args[@]}"
    first=$(python3 - "$n" "$m" "$report" "$first" <<'PY'
import json, sys
n, m, r, first = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
p = r["phases"]
t = r["total_seconds"]
base = float(first) if first else t
sys.stderr.write("%-10s %-8s %10.1f %9.3f %9.3f %9.3f %9.3f %9.3f %8.0f %7.2fx\n" % (
    n, m, r["journal"]["bytes_read"] / 1e6, p["journal_read"],
    p["sort"], p["replay"], p["commit"], t,
    r["peak_rss_bytes"] / 2**20, base / t))
print(base)
PY
)
  done
done
echo "reports appended to $out"
