#!/usr/bin/env bash
# bench/memory.sh - recovery under a memory limit (issue 17): one crashed
# array, recovered from fresh sparse copies with and without
# --memory-limit, each run beside its I/O floor measured in the same run.
#
#   bash bench/memory.sh [--keys N] [--base N] [--limits "none 2G ..."]
#                        [--reps R] [--dir DIR] [--out FILE] [--fsck]
#                        [--keep-array] [--in-place] [--reuse]
#                        [--alternate]
#
# --reuse recovers copies of the array this script left in DIR before
# (--keep-array), made with the same --keys and --base, instead of making
# it again.  --alternate runs the limits in turn within each repetition
# (none, quarter, none, quarter...), so a ratio between them is not
# skewed by the machine's load changing between the first limit's runs
# and the second's.
# --in-place recovers the array itself, not a copy (one limit, one rep:
# for journals so big that a copy does not fit on the disk).
# A limit "quarter" is a quarter of the unlimited run's peak RSS (so the
# list must start with "none" for it).  The floor of a run is what dd
# needs, with O_DIRECT on the same filesystems, to move the bytes the run
# moved: read the journal bytes it read (from the journal areas of the
# images), write and read back the bytes it spilled (in the scratch
# directory) and write its node bytes.  Every row of FILE (JSON lines,
# default docs/bench/memory.jsonl) carries the load average before and
# after the run; a figure from a busy machine is not a result.  Each dd
# moves at most 8 GiB and its time is scaled to the bytes (dd_time).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

keys=10000000 base=2000000 limits="none quarter" reps=2 out=docs/bench/memory.jsonl
dir="" fsck=0 keep=0 inplace=0 reuse=0 alternate=0
while [ $# -gt 0 ]; do
    case "$1" in
    --keys) keys=$2; shift ;;
    --base) base=$2; shift ;;
    --limits) limits=$2; shift ;;
    --reps) reps=$2; shift ;;
    --dir) dir=$2; shift ;;
    --out) out=$2; shift ;;
    --fsck) fsck=1 ;;
    --keep-array) keep=1 ;;
    --in-place) inplace=1 ;;
    --reuse) reuse=1 ;;
    --alternate) alternate=1 ;;
    *) echo "bench/memory.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bench_setup "$dir" "$out"
scratch="$dir/scratch"
mkdir -p "$scratch"

# journal: synth asks ~115 bytes a key of room; the devices sparse
jsize=$(( (keys * 120 / 2 / 1048576 + 256) ))M
dsize=$(( (keys + base) * 3 / 1000000 + 16 ))G
if [ "$reuse" = 1 ] && [ -f "$dir/d0" ] && [ -f "$dir/d1" ]; then
    echo "== array: reused from $dir ($keys journal keys over a base of $base)" >&2
else
    echo "== array: $keys journal keys over a base of $base (journal $jsize a device)" >&2
    "$jrx" format --size "$dsize" --journal-size "$jsize" "$dir/d0" "$dir/d1" >/dev/null
    t0=$(date +%s.%N)
    "$jrx" synth --keys "$keys" --base-keys "$base" --seed 17 "$dir/d0" "$dir/d1" >&2
    echo "   synth: $(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 1))") s" >&2
fi

# where each device's journal lives: byte offset and length
read -r joff jlen < <("$jrx" show-super --json "$dir/d0" "$dir/d1" | python3 -c '
import json, sys
s = json.load(sys.stdin); m = s["members"][0]; b = s["bucket_size"]
print(m["journal_bucket"] * b, m["journal_nr"] * b)')

# dd with O_DIRECT, 4 MiB a request: seconds to move `bytes` (at most
# $cap of them really moved, the time scaled: a disk that cannot hold a
# second copy of a 40 GB spill still gets its floor measured)
cap=$(( 8 << 30 ))
dd_time() {	# bytes if=.. of=.. [dd args...] -> seconds
    local bytes=$1; shift
    local n=$(( bytes < cap ? bytes : cap )) t0 t1
    [ "$bytes" -gt 0 ] || { echo 0; return; }
    t0=$(date +%s.%N)
    dd bs=4M count=$(( (n + 4194303) / 4194304 )) status=none "$@"
    t1=$(date +%s.%N)
    python3 -c "print(($t1 - $t0) * $bytes / $n)"
}

dd_floor() {	# read_bytes spill_written spill_read node_bytes -> seconds
    local half=$(( $1 / 2 )) a b c d e
    a=$(dd_time "$half" if="$dir/d0" of=/dev/null iflag=direct skip=$(( joff / 4194304 )))
    b=$(dd_time "$half" if="$dir/d1" of=/dev/null iflag=direct skip=$(( joff / 4194304 )))
    c=$(dd_time "$2" if=/dev/zero of="$scratch/floor" oflag=direct)
    d=$(dd_time "$3" if="$scratch/floor" of=/dev/null iflag=direct)
    rm -f "$scratch/floor"
    e=$(dd_time "$4" if=/dev/zero of="$dir/nodes.floor" oflag=direct)
    rm -f "$dir/nodes.floor"
    python3 -c "print(round($a + $b + $c + $d + $e, 3))"
}

# the runs, in order: each limit's repetitions, or (--alternate) each
# repetition's limits
runs=()
if [ "$alternate" = 1 ]; then
    for r in $(seq 1 "$reps"); do for lim in $limits; do runs+=("$lim:$r"); done; done
else
    for lim in $limits; do for r in $(seq 1 "$reps"); do runs+=("$lim:$r"); done; done
fi
unlimited_peak=0
for run in "${runs[@]}"; do
    lim=${run%%:*} r=${run##*:}
    args=(--threads 2 --scratch "$scratch" --json)
    label=$lim
    if [ "$lim" = quarter ]; then
        [ "$unlimited_peak" -gt 0 ] || { echo "quarter needs a 'none' run first" >&2; exit 2; }
        label=$(( unlimited_peak / 4 ))
        args+=(--memory-limit "$label")
    elif [ "$lim" != none ]; then
        args+=(--memory-limit "$lim")
    fi
    rm -f "$dir/c0" "$dir/c1"
    if [ "$inplace" = 1 ]; then
        ln -s "$dir/d0" "$dir/c0"
        ln -s "$dir/d1" "$dir/c1"
    else
        cp --sparse=always "$dir/d0" "$dir/c0"
        cp --sparse=always "$dir/d1" "$dir/c1"
    fi
    drop_caches
    load0=$(cut -d' ' -f1 /proc/loadavg)
    report=$("$jrx" recover "${args[@]}" "$dir/c0" "$dir/c1")
    load1=$(cut -d' ' -f1 /proc/loadavg)
    read -r total peak jread sw sr nodes spilled < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1]); m = r.get("memory", {}); s = m.get("spill", {})
print(r["total_seconds"], r["peak_rss_bytes"], r["journal"]["bytes_read"],
  s.get("bytes_written", 0), s.get("bytes_read", 0),
  r["btree"]["bytes_written"], int(m.get("spilled", False)))' "$report")
    [ "$lim" = none ] && [ "$peak" -gt "$unlimited_peak" ] && unlimited_peak=$peak
    drop_caches
    floor=$(dd_floor "$jread" "$sw" "$sr" "$nodes")
    load2=$(cut -d' ' -f1 /proc/loadavg)
    printf '{"bench":"memory","keys":%s,"base":%s,"limit":"%s","rep":%s,"in_place":%s,"load_before":%s,"load_after":%s,"load_after_floor":%s,"floor_seconds":%s,"report":%s}\n' \
        "$keys" "$base" "$label" "$r" "$inplace" "$load0" "$load1" "$load2" "$floor" "$report" >>"$out"
    python3 -c "
t, p, f = $total, $peak, $floor
print(f'   limit $label rep $r: {t:.2f} s, peak RSS {p/2**20:.0f} MiB, spilled $spilled,'
  f' floor {f:.2f} s ({t/f:.2f}x), journal {$jread/2**20:.0f} MiB, spill {$sw/2**20:.0f}/{$sr/2**20:.0f} MiB,'
  f' nodes {$nodes/2**20:.0f} MiB, load $load0/$load1')" >&2
done
if [ "$fsck" = 1 ]; then
    echo "== fsck -n of the last recovery" >&2
    "$jrx" fsck -n "$dir/c0" "$dir/c1" | tail -1 >&2
fi
[ "$keep" = 1 ] || rm -f "$dir/c0" "$dir/c1"
