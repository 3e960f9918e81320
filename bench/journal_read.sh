#!/usr/bin/env bash
# bench/journal_read.sh - journal read bandwidth of the accelerated reader
# (io_uring and pread backends) against `dd iflag=direct bs=1M` over the
# same bytes of the same disk, and against the reference reader, in one
# run (issue 4's benchmark).
#
#   bench/journal_read.sh [--keys N] [--runs R] [--dir DIR] [--out FILE]
#                         [--journal-size S] [--size S] [--threads T]
#
# Makes a 2-device sparse synth array (default 30 M keys: about 2.5 GB of
# journal), then R rounds of:
#   uring~  jrx recover --dry-run --stop-after journal_read --io=uring right
#           after dropping the page cache: "cold memory" (on a VM with free
#           page reporting, the memory just freed goes back to the host and
#           the reader's 2.5 GB of buffers fault in slowly);
#   uring   the same again at once (the buffers' memory still backed);
#   pread   the same with --io=pread;
#   ref     jrx recover --reference --dry-run --stop-after journal_read,
#           after dropping the page cache (it reads through it);
#   dd      dd iflag=direct bs=1M of each device's journal bytes, one
#           device after the other (what a user would time by hand);
#   dd2     the same two dd at once.
# dd reads exactly the bytes per device that the uring run read.  Prints a
# table (MB = 10^6 bytes) and appends one JSON line per round to --out
# (default bench/results/journal_read.jsonl).  Needs root (drop_caches) and
# a built ./build/jrx.
set -euo pipefail
cd "$(dirname "$0")/.."
keys=30000000 runs=3 dir="" out="bench/results/journal_read.jsonl"
jsize=2G size=256G threads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --journal-size) jsize="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --threads) threads=(--threads "$2"); shift 2 ;;
    *) echo "usage: $0 [--keys N] [--runs R] [--dir DIR] [--out FILE]" \
            "[--journal-size S] [--size S] [--threads T]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_setup "$dir" "$out"
now() { date +%s.%N; }

d0="$dir/d0" d1="$dir/d1"
rm -f "$d0" "$d1"
$jrx format --size "$size" --journal-size "$jsize" "$d0" "$d1" >/dev/null
echo "synth: $keys keys ..." >&2
$jrx synth --keys "$keys" "$d0" "$d1" >/dev/null
super=$($jrx show-super --json "$d0" "$d1")

rj() { $jrx recover --dry-run --json --stop-after journal_read "$@" "$d0" "$d1"; }
for run in $(seq 1 "$runs"); do
  drop_caches
  uring_cold=$(rj --io=uring "${threads[@]}")
  # again at once: the memory the last run freed is still backed by the host
  uring=$(rj --io=uring "${threads[@]}")
  pread=$(rj --io=pread "${threads[@]}")
  drop_caches
  ref=$(rj --reference)
  # dd over the bytes the uring run read on each device, from the journal start
  read -r skip0 count0 skip1 count1 < <(python3 - "$super" "$uring" <<'PY'
import json, sys
sb, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bs = sb["bucket_size"]
per_dev = r["journal"]["bytes_read"] // len(sb["members"])
out = []
for m in sb["members"]:
    out += [m["journal_bucket"] * bs // 2**20, per_dev // 2**20]
print(*out)
PY
)
  drop_caches
  t0=$(now)
  dd if="$d0" of=/dev/null iflag=direct bs=1M skip="$skip0" count="$count0" status=none
  dd if="$d1" of=/dev/null iflag=direct bs=1M skip="$skip1" count="$count1" status=none
  t_dd=$(python3 -c "print($(now) - $t0)")
  drop_caches
  t0=$(now)
  dd if="$d0" of=/dev/null iflag=direct bs=1M skip="$skip0" count="$count0" status=none &
  dd if="$d1" of=/dev/null iflag=direct bs=1M skip="$skip1" count="$count1" status=none &
  wait
  t_dd2=$(python3 -c "print($(now) - $t0)")
  python3 - "$run" "$keys" "$t_dd" "$t_dd2" "$(( (count0 + count1) * 1048576 ))" \
      "$uring" "$pread" "$ref" "$uring_cold" "$out" <<'PY'
import json, sys
run, keys, t_dd, t_dd2, dd_bytes = sys.argv[1:6]
uring, pread, ref, cold = (json.loads(x) for x in sys.argv[6:10])
out = sys.argv[10]
dd_bytes, t_dd, t_dd2 = int(dd_bytes), float(t_dd), float(t_dd2)
def bw(r):
    return r["journal"]["bytes_read"] / r["phases"]["journal_read"] / 1e6
rows = [("dd", dd_bytes, t_dd, dd_bytes / t_dd / 1e6),
        ("dd2", dd_bytes, t_dd2, dd_bytes / t_dd2 / 1e6)]
for name, r in (("uring~", cold), ("uring", uring), ("pread", pread), ("ref", ref)):
    rows.append((name, r["journal"]["bytes_read"], r["phases"]["journal_read"], bw(r)))
if run == "1":
    print("%-4s %-6s %12s %9s %9s" % ("run", "reader", "MB", "seconds", "MB/s"))
for name, b, t, m in rows:
    print("%-4s %-6s %12.1f %9.3f %9.1f" % (run, name, b / 1e6, t, m))
def t(r):
    return r["phases"]["journal_read"]
print("%-4s bandwidth uring/dd %.2fx (cold memory %.2fx), uring/dd2 %.2fx;"
      " time ref/uring %.2fx (cold %.2fx), ref/pread %.2fx  (mode %s, %s)"
      % (run, bw(uring) / rows[0][3], bw(cold) / rows[0][3], bw(uring) / rows[1][3],
         t(ref) / t(uring), t(ref) / t(cold), t(ref) / t(pread),
         uring["journal_read"]["mode"],
         "fixed buffers" if uring["io"]["fixed_buffers"] else "plain buffers"))
with open(out, "a") as f:
    f.write(json.dumps({"bench": "journal_read", "run": int(run), "keys": int(keys),
                        "dd": {"bytes": dd_bytes, "seconds": t_dd},
                        "dd_parallel": {"bytes": dd_bytes, "seconds": t_dd2},
                        "uring_cold_memory": cold, "uring": uring, "pread": pread,
                        "reference": ref}) + "\n")
PY
done
echo "results appended to $out"
