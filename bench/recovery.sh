#!/usr/bin/env bash
# bench/recovery.sh - end-to-end recovery timings on synth arrays.
#
#   bench/recovery.sh [--keys "1000000 5000000"] [--dir DIR] [--out FILE]
#                     [--journal-size 1G] [--size 64G] [--no-drop-caches]
#
# For each N: a fresh 2-device sparse array (jrx format), `jrx synth --keys
# N`, the page cache dropped (as root) so the journal is read from the
# disk, then `jrx recover --reference --json`.  One JSON report per line
# goes to --out (default bench/results/recovery.jsonl) and a table of the
# phase times to stdout.  Needs a built ./build/jrx.
set -euo pipefail
cd "$(dirname "$0")/.."
keys="1000000 5000000" dir="" out="bench/results/recovery.jsonl"
jsize=1G size=64G drop=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --journal-size) jsize="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --no-drop-caches) drop=0; shift ;;
    *) echo "usage: $0 [--keys \"N...\"] [--dir DIR] [--out FILE]" \
            "[--journal-size S] [--size S] [--no-drop-caches]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_setup "$dir" "$out"

printf "%-10s %-10s %10s %10s %10s %10s %10s %10s %8s\n" keys mode \
  journal_MB read_s sort_s replay_s commit_s total_s rss_MiB
for n in $keys; do
  rm -f "$dir/d0" "$dir/d1"
  $jrx format --size "$size" --journal-size "$jsize" "$dir/d0" "$dir/d1" >/dev/null
  $jrx synth --keys "$n" "$dir/d0" "$dir/d1" >/dev/null
  if [ $drop = 1 ]; then drop_caches --warn; fi
  json=$($jrx recover --reference --json "$dir/d0" "$dir/d1")
  echo "{\"bench\":\"recovery\",\"keys\":$n,\"report\":$json}" >> "$out"
  python3 - "$n" "$json" <<'PY'
import json, sys
n, r = sys.argv[1], json.loads(sys.argv[2])
p = r["phases"]
print("%-10s %-10s %10.1f %10.3f %10.3f %10.3f %10.3f %10.3f %8.0f" % (
    n, r["mode"], r["journal"]["bytes_read"] / 1e6, p["journal_read"],
    p["sort"], p["replay"], p["commit"], r["total_seconds"],
    r["peak_rss_bytes"] / 2**20))
PY
done
echo "reports appended to $out"
