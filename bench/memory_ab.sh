#!/usr/bin/env bash
# bench/memory_ab.sh - two builds of jrx on the same spilled recovery, in
# the same run, alternating: each repetition copies the crashed array
# afresh (sparse), drops the page cache and runs `jrx recover --threads 2
# --memory-limit LIMIT --json` with build A, then the same with build B,
# printing the total, the phases, the runs spilled and the load average
# before/after each.  The array is one bench/memory.sh --keep-array left.
#
#   bash bench/memory_ab.sh OLD_JRX NEW_JRX DIR LIMIT [REPS]
#
# Needs root (drop_caches).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
a=$1 b=$2 d=$3 limit=$4 reps=${5:-2}
mkdir -p "$d/scratch"
for rep in $(seq 1 "$reps"); do
  for which in A B; do
    if [ $which = A ]; then j=$a; else j=$b; fi
    cp --sparse=always "$d/d0" "$d/c0"; cp --sparse=always "$d/d1" "$d/c1"; sync
    echo 3 > /proc/sys/vm/drop_caches
    l0=$(cut -d' ' -f1 /proc/loadavg)
    "$j" recover --threads 2 --memory-limit "$limit" --scratch "$d/scratch" \
      --json "$d/c0" "$d/c1" > "$d/ab.json"
    l1=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$d/ab.json" "$which" "$rep" "$l0" "$l1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); sp = r["memory"].get("spill", {})
print("%s rep %s: total %.1f s, phases %s, runs %s, peak RSS %d MiB, load %s/%s" % (
    sys.argv[2], sys.argv[3], r["total_seconds"],
    {k: round(v, 1) for k, v in r["phases"].items()}, sp.get("runs"),
    r["peak_rss_bytes"] >> 20, sys.argv[4], sys.argv[5]))
PY
  done
done
rm -f "$d/ab.json"
