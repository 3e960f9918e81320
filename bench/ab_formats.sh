#!/usr/bin/env bash
# bench/ab_formats.sh - A/B of two jrx binaries that write different
# on-disk formats (so bench/recovery.sh --baseline, which recovers one
# array with both, cannot be used): each binary formats and synths its own
# array with the same options, then the recoveries are interleaved, each on
# a fresh sparse copy with the page cache dropped (root), 2 and 1 threads,
# one line per run with the load average before/after.
#
#   bash bench/ab_formats.sh OLD_JRX NEW_JRX [KEYS] [REPS] [DIR]
#
# Defaults: 10000000 keys (--seed 1), 3 repetitions, /var/tmp/jrx-ab.
set -euo pipefail
old=$1 new=$2 keys=${3:-10000000} reps=${4:-3} d=${5:-/var/tmp/jrx-ab}
rm -rf "$d"; mkdir -p "$d"
declare -A bin=([old]="$old" [new]="$new")
for b in old new; do
  mkdir -p "$d/$b"
  "${bin[$b]}" format --size 64G --journal-size 2G "$d/$b/d0" "$d/$b/d1" >/dev/null
  "${bin[$b]}" synth --keys "$keys" --seed 1 "$d/$b/d0" "$d/$b/d1" >/dev/null
done
for r in $(seq 1 "$reps"); do
  for b in old new; do
    for t in 2 1; do
      cp --sparse=always "$d/$b/d0" "$d/c0"; cp --sparse=always "$d/$b/d1" "$d/c1"
      sync; echo 3 > /proc/sys/vm/drop_caches
      l0=$(cut -d' ' -f1 /proc/loadavg)
      "${bin[$b]}" recover --threads "$t" --json "$d/c0" "$d/c1" > "$d/rep.json"
      l1=$(cut -d' ' -f1 /proc/loadavg)
      python3 - "$d/rep.json" "$r" "$b" "$t" "$l0" "$l1" <<'PY'
import json, sys
f, r, b, t, l0, l1 = sys.argv[1:]
j = json.load(open(f)); p = j["phases"]
print("rep %s %s T=%s total %.3f replay %.3f read %.3f sort %.3f commit %.3f"
      " load %s/%s nodes_written %d" % (r, b, t, j["total_seconds"], p["replay"],
      p["journal_read"], p["sort"], p["commit"], l0, l1, j["btree"]["nodes_written"]))
PY
      rm -f "$d/c0" "$d/c1"
    done
  done
done
rm -rf "$d"
