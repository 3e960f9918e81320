#!/usr/bin/env bash
# bench/fsck.sh - `jrx fsck -n` by threads against the I/O floor of the
# same node bytes, measured in the same run.
#
#   bash bench/fsck.sh [--base-keys 50000000] [--keys 2000000]
#                      [--threads "1 2"] [--reps 3] [--dir DIR] [--keep]
#                      [--out FILE]
#
# The array: a fresh 2-device sparse array in DIR (default: a scratch
# directory under /var/tmp, removed at exit unless --keep), `jrx synth
# --keys K --base-keys B` (the default mix), then `jrx recover`, so the
# check reads the on-disk btrees of a clean array.  With --dir, an array
# already there (DIR/d0 DIR/d1, clean) is used as it is and kept.
#
# Each repetition runs, for each thread count T, `jrx fsck -n --json
# --threads T DIR/d0 DIR/d1` (its wall time, the load average before and
# after, `uptime`), then its floor: dd iflag=direct bs=1M reading back,
# from a file written with oflag=direct in DIR, as many bytes as the fsck
# read (the sum of its passes' bytes_read: every node once; both sides
# direct I/O, so no page cache to drop).  One JSON line per run goes to
# FILE (default bench/results/fsck.jsonl, appended: the header line
# says which command wrote the lines after it); the table at the end is
# `python3 bench/results.py fscktable FILE`, and `bench/results.py
# render` adds it to BENCHMARKS.md when the results file has such lines.
#
# 50 M base keys need about 25 GB of sparse files and a few minutes of
# synth; the figures of a shared or busy machine are preliminary.
set -euo pipefail
cd "$(dirname "$0")/.."
base=50000000 keys=2000000 threads="1 2" reps=3 dir="" keep=0
out=bench/results/fsck.jsonl argv=""
for a in "$@"; do argv+=" $a"; done
while [ $# -gt 0 ]; do
  case "$1" in
    --base-keys) base="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "bench/fsck.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
jrx=./build/jrx
[ -x "$jrx" ] || { echo "$0: build jrx first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
own=0
if [ -z "$dir" ]; then dir=$(mktemp -d /var/tmp/jrx-fsck.XXXXXX); own=1; fi
cleanup() { if [ $own = 1 ] && [ $keep = 0 ]; then rm -rf "$dir"; fi; }
trap cleanup EXIT
mkdir -p "$dir" "$(dirname "$out")"

if [ ! -f "$dir/d0" ] || [ ! -f "$dir/d1" ]; then
  g=$(( ((base + keys) * 6000) >> 30 )); [ $g -lt 64 ] && g=64
  j=$(( (keys * 120 + (1 << 30) - 1) >> 30 ))
  echo "== $base base keys, $keys journal keys: format ${g}G, synth, recover" >&2
  $jrx format --size "${g}G" --journal-size "${j}G" "$dir/d0" "$dir/d1" >/dev/null
  $jrx synth --keys "$keys" --base-keys "$base" "$dir/d0" "$dir/d1" >/dev/null
  $jrx recover "$dir/d0" "$dir/d1" >/dev/null
else
  echo "== the array in $dir (kept as it is)" >&2
fi

load1() { cut -d' ' -f1 /proc/loadavg; }
echo "{\"bench\":\"header\",\"command\":\"bash bench/fsck.sh$argv\",\"nproc\":$(nproc),\"base_keys\":$base,\"keys\":$keys}" >> "$out"
for r in $(seq 1 "$reps"); do
  for t in $threads; do
    up=$(uptime)
    l0=$(load1)
    t0=$(date +%s.%N)
    rc=0
    $jrx fsck -n --json --threads "$t" "$dir/d0" "$dir/d1" > "$dir/fsck.json" || rc=$?
    t1=$(date +%s.%N)
    l1=$(load1)
    wall=$(python3 -c "print(round($t1 - $t0, 6))")
    fl=$(python3 bench/results.py fsckfloor "$dir" "$dir/fsck.json")
    line="{\"bench\":\"fsck_parallel\",\"base_keys\":$base,\"keys\":$keys,\"threads\":$t,\"rep\":$r,\"load_before\":$l0,\"load_after\":$l1,\"uptime\":\"${up# }\",\"wall\":$wall,\"exit_code\":$rc,\"floor\":$fl,\"report\":$(tr -d '\n' < "$dir/fsck.json")}"
    echo "$line" >> "$out"
    python3 bench/results.py fsckrow "$line" >&2
  done
done
rm -f "$dir/fsck.json"
python3 bench/results.py fscktable "$out"
