#!/usr/bin/env bash
# bench/run.sh - the one benchmark command: end-to-end recovery across
# sizes, thread counts and io backends, the reference against the
# accelerated recovery, a big tree under a small journal, a RocksDB peer
# on the same key stream, and the Google Benchmark micro-benchmarks; every
# JSON report goes into one results file, from which bench/results.py
# writes the BENCHMARKS tables and gnuplot draws the plots.
#
#   bash bench/run.sh [--quick] [--sizes "1000000 10000000 50000000"]
#                     [--threads "1 2 all"] [--io "uring aio pread"] [--reps 3]
#                     [--bases "10000000 50000000 200000000"]
#                     [--bigtree-keys 2000000] [--distributions "uniform zipf"]
#                     [--bigtree-modes "ref acc:1 acc:all"] [--no-bigtree]
#                     [--baseline BIN]
#                     [--out DIR] [--dir SCRATCH] [--no-peer] [--no-micro] [--holes]
#                     [--in-place]
#                     [--no-setup] [--append]
#
# Default: sizes 1 M, 10 M and 50 M journal keys, then the big tree
# (below), 3 repetitions of every run, results in docs/bench/
# (results.jsonl, micro.json, *.png) and the tables in docs/BENCHMARKS.md.
# --quick: 1 M keys only and a tiny big tree (200 k journal keys over a
# 2 M-key base, uniform only), results and BENCHMARKS.md in
# bench/results/quick/ (docs/ untouched); options given beside --quick
# override its values.  --out DIR puts everything (BENCHMARKS.md included)
# in DIR.  --sizes "" runs no journal sizes (the big tree alone, say).
# --append adds to the results file instead of starting it afresh (say, a
# bigger size run later with fewer repetitions); the tables are made from
# everything in it, and list every command that wrote it.
#
# For each size: one crashed array (`jrx format` + `jrx synth --keys N`,
# default mix), then every run recovers a fresh sparse copy of it with the
# page cache dropped (--in-place: the array itself, its crashed state
# restored before every run as the big tree's arrays below are, so that
# the recovery writes into allocated blocks as on a block device, not into
# a copy's holes; but on this VM a copy also leaves the memory the
# recovery gets freshly freed, and in place it has gone back to the host:
# docs/bench/history.md, seventeenth session): the reference (`--reference`) once per repetition
# unless its peak RSS, scaled from the smaller sizes, would not fit in 70%
# of the available memory (the skip and its reason are recorded), and the
# accelerated recovery for each thread count x io backend.  After the last
# recovery of a size, `jrx fsck -n` checks what it recovered (the exit
# code is recorded).  The RocksDB peer (bench/peer) loads the same
# (crashed) array's journal into a WAL, "crashes", and is timed reopening
# it.
#
# Big tree, small journal: a fixed journal of --bigtree-keys keys (default
# 2 M) over each base of --bases keys (`jrx synth --keys J --base-keys B`,
# default leaf fill 75), once with the default uniform distribution and
# once with `--distribution zipf` (--distributions picks them).  Each
# repetition runs --bigtree-modes: "ref" the reference (skipped, recorded,
# when its RSS, scaled by base keys, would not fit), "acc:T" the
# accelerated recovery with T threads ("all": every core) and the first
# backend of --io; with --baseline BIN, "base:acc:T" runs acc:T with the
# binary BIN instead (an older build on the same array, interleaved as
# listed: an A/B of one base); its records carry "baseline" (BIN's
# `jrx --version` line) and results.py leaves them out of the tables.
# A 200 M-key base is tens of GB, too big for a copy per run, so these
# arrays are recovered in place, their crashed state
# restored before every run (bench/lib.sh bench_restore_crash): each
# device's reserved area (the bytes before first_bucket * bucket_size,
# both superblock copies; docs/FORMAT.md §3) is saved once after synth and
# written back with dd conv=notrunc, then sync.  The blocks the last
# recovery wrote stay allocated, as every block of a block device is (a
# real array has no holes), and one recovery that is not recorded runs
# first, so every recorded one writes into allocated blocks;
# --holes punches them back into holes before every run instead
# (bench/crashstate.py), so each run allocates as the first did (ext4
# then serializes the O_DIRECT writes on block allocation: on this VM a
# 200 M-key base's 64 k appends take about twice as long).
# Recovery writes nothing the crashed state reads (FORMAT.md §8 point 7:
# bsets appended past a node's written part, nodes in free buckets, then
# the superblocks), so that is the crashed array again; the script checks
# that `jrx show-super` reports it unclean with the crashed superblock
# seq, and stops otherwise.  After the last run of each array, `jrx fsck -n` checks it and
# its exit code is recorded.  --no-bigtree skips the scenario.
#
# Every recovery also records the load average (1 min) just before and
# after it, and its I/O floor, measured right after it in the scratch
# directory: the bytes its report says it read (journal.bytes_read +
# btree.bytes_read) and wrote (btree.bytes_written; without those fields
# nodes x btree node size, marked estimated) timed with dd O_DIRECT, 1 MiB
# blocks (written with oflag=direct conv=fsync: over a file written before,
# untimed, when the recovery wrote into allocated blocks, else to a new
# file; then read back with iflag=direct after the page cache is dropped);
# each progress line
# and table gives the recovery's total as a multiple of it ("x floor").
#
# Needs root (drop_caches, packages) and, for the default sizes, about
# 40 GB free under /var/tmp (--dir) and about 70 minutes (2-core VM: most
# of it RocksDB loading and replaying 50 M keys); the big tree needs about
# 30 GB free for its 200 M-key base (extrapolated from 8 M: the array,
# about 14 GB, what one recovery writes, and the floor's file, as long as
# the most one recovery reads or writes) and a few hours.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=- threads="1 2 all" ios="uring aio pread" reps=3 out="" dir="" peer=1 micro=1
setup=1 quick=0 append=0 argv="" bigtree=1 bases=- bkeys=- dists=- fresh=copy
for a in "$@"; do
  case "$a" in *[[:space:]]*|"") argv+=" \"$a\"" ;; *) argv+=" $a" ;; esac
done
bmodes="ref acc:1 acc:all" baseline="" baseline_ver=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --io) ios="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --bases) bases="$2"; shift 2 ;;
    --bigtree-keys) bkeys="$2"; shift 2 ;;
    --distributions) dists="$2"; shift 2 ;;
    --bigtree-modes) bmodes="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --no-bigtree) bigtree=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --no-peer) peer=0; shift ;;
    --holes) export bench_holes=1; shift ;;
    --in-place) fresh=restore; shift ;;
    --no-micro) micro=0; shift ;;
    --no-setup) setup=0; shift ;;
    --append) append=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; sed -n '/^#   bash bench/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
if [ $quick = 1 ]; then q() { echo "$1"; }; else q() { echo "$2"; }; fi
[ "$sizes" != - ] || sizes=$(q "1000000" "1000000 10000000 50000000")
[ "$bases" != - ] || bases=$(q "2000000" "10000000 50000000 200000000")
[ "$bkeys" != - ] || bkeys=$(q 200000 2000000)
[ "$dists" != - ] || dists=$(q "uniform" "uniform zipf")
for m in $bmodes; do
  case "${m#base:}" in ref|acc:all|acc:[1-9]|acc:[1-9][0-9]) ;;
    *) echo "bench/run.sh: --bigtree-modes: unknown mode $m (ref, acc:T, acc:all, base:acc:T)" >&2; exit 2 ;;
  esac
  case "$m" in base:ref) echo "bench/run.sh: --bigtree-modes: base:ref: the baseline runs accelerated modes only" >&2; exit 2 ;;
    base:*) [ -x "$baseline" ] || { echo "bench/run.sh: --bigtree-modes $m needs --baseline BIN (an executable jrx)" >&2; exit 2; } ;;
  esac
done
# the baseline's records name it by its version line, read once
[ -z "$baseline" ] || baseline_ver=$("$baseline" --version | head -1 | tr -d '"\\')
for d in $dists; do
  case "$d" in uniform|zipf|sequential|hot) ;;
    *) echo "bench/run.sh: --distributions: unknown distribution $d" >&2; exit 2 ;;
  esac
done
if [ -z "$out" ]; then
  if [ $quick = 1 ]; then out=bench/results/quick; else out=docs/bench; fi
fi
if [ "$out" = docs/bench ]; then md=docs/BENCHMARKS.md; else md="$out/BENCHMARKS.md"; fi

# install, configure and build (benchmarks and the peer on)
if [ $setup = 1 ]; then bash scripts/setup.sh --bench; fi
on() { if [ "$1" = 1 ]; then echo ON; else echo OFF; fi; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJRX_BUILD_BENCH="$(on $micro)" \
  -DJRX_BUILD_PEER="$(on $peer)" >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

results="$out/results.jsonl"
. bench/lib.sh
bench_setup "$dir" "$results"
[ $append = 1 ] || : > "$results"
ncpu=$(nproc)
tlist=$(for t in $threads; do [ "$t" = all ] && t=$ncpu; echo "$t"; done | sort -nu | xargs)
python3 bench/results.py machine "$dir" "bash bench/run.sh$argv" >> "$results"

# journal space ~85 B per key, device space ~3 KB per key of base + journal
jsize_for() { echo "$(( ($1 * 120 + (1 << 30) - 1) >> 30 ))G"; }
dsize_for() { local g=$(( ($1 * 6000) >> 30 )); [ $g -lt 64 ] && g=64; echo "${g}G"; }

load1() { cut -d' ' -f1 /proc/loadavg; }
short() { if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"; else echo "$1"; fi; }

for n in $sizes; do
  echo "== $n journal keys: synth" >&2
  bench_fresh=$fresh
  bench_array "$n" "$(jsize_for "$n")" "$(dsize_for "$n")" ""
  [ "$fresh" = copy ] || bench_save_crash
  for r in $(seq 1 "$reps"); do
    skip=$(python3 bench/results.py refskip "$results" "$n")
    if [ -z "$skip" ]; then
      bench_run "$results" "\"bench\":\"recovery\",\"keys\":$n,\"rep\":$r,\"mode\":\"reference\",\"threads\":1,\"io\":\"pread\"" --reference
      python3 bench/results.py row "$report" "$n reference" >&2
      python3 bench/results.py floorrow "$floor" "$report" >&2
    elif [ "$r" = 1 ]; then
      echo "{\"bench\":\"skipped\",\"keys\":$n,\"mode\":\"reference\",\"why\":\"$skip\"}" >> "$results"
      echo "$n reference skipped: $skip" >&2
    fi
    for t in $tlist; do
      for io in $ios; do
        bench_run "$results" "\"bench\":\"recovery\",\"keys\":$n,\"rep\":$r,\"mode\":\"accelerated\",\"threads\":$t,\"io\":\"$io\"" --threads "$t" --io="$io"
        python3 bench/results.py row "$report" "$n acc T=$t $io" >&2
        python3 bench/results.py floorrow "$floor" "$report" >&2
      done
    done
    # the last recovery's array (its copy, or in place the array itself):
    # checked after the last repetition
    if [ "$r" = "$reps" ] && [ -e "$dir/c0" ]; then
      bench_fsck "$results" "\"scenario\":\"recovery\",\"keys\":$n" "$dir/c0" "$dir/c1"
    elif [ "$r" = "$reps" ] && [ "$fresh" = restore ]; then
      bench_fsck "$results" "\"scenario\":\"recovery\",\"keys\":$n" "$dir/d0" "$dir/d1"
    fi
    rm -f "$dir/c0" "$dir/c1"
    if [ $peer = 1 ]; then
      # in place, the last recovery left the array recovered: the peer
      # reads the crashed one
      [ "$fresh" = copy ] || bench_restore_crash
      # the peer only reads the crashed array; its WAL replay consumes
      # the WAL, so every repetition loads a fresh one
      rm -rf "$dir/rocksdb"
      load=$(build/bench/peer/jrx-rocksdb-peer load --db "$dir/rocksdb" "$dir/d0" "$dir/d1")
      drop_caches --warn
      l0=$(load1)
      rec=$(build/bench/peer/jrx-rocksdb-peer recover --db "$dir/rocksdb")
      echo "{\"bench\":\"peer\",\"keys\":$n,\"rep\":$r,\"load_before\":$l0,\"load_after\":$(load1),\"load\":$load,\"recover\":$rec}" >> "$results"
      python3 bench/results.py peerrow "$rec" "$n rocksdb" >&2
      rm -rf "$dir/rocksdb"
    fi
  done
done
rm -f "$dir/d0" "$dir/d1"

# big tree, small journal: in place, the crashed state restored per run
if [ $bigtree = 1 ]; then
  bio=${ios%% *}
  for b in $bases; do
    for d in $dists; do
      sargs="--base-keys $b"
      [ "$d" = uniform ] || sargs+=" --distribution $d"
      echo "== big tree: $bkeys journal keys over $b base keys, $d: synth" >&2
      bench_array "$bkeys" "$(jsize_for "$bkeys")" "$(dsize_for $((b + bkeys)))" "$sargs"
      bench_save_crash
      bench_fresh=restore
      lab="\"bench\":\"bigtree\",\"keys\":$bkeys,\"base_keys\":$b,\"distribution\":\"$d\",\"synth\":\"$sargs\""
      ran=0
      for r in $(seq 1 "$reps"); do
        for m in $bmodes; do
          if [ "$m" = ref ]; then
            skip=$(python3 bench/results.py refskip "$results" "$bkeys" "$b" "$d")
            if [ -n "$skip" ]; then
              if [ "$r" = 1 ]; then
                echo "{\"bench\":\"skipped\",\"scenario\":\"bigtree\",\"keys\":$bkeys,\"base_keys\":$b,\"distribution\":\"$d\",\"mode\":\"reference\",\"why\":\"$skip\"}" >> "$results"
                echo "$b $d reference skipped: $skip" >&2
              fi
              continue
            fi
            bench_run "$results" "$lab,\"rep\":$r,\"mode\":\"reference\",\"threads\":1,\"io\":\"pread\"" --reference
            lbl="reference"
          else
            bl="" lbl=""
            if [ "${m#base:}" != "$m" ]; then
              bench_jrx="$baseline"
              bl=",\"baseline\":\"$baseline_ver\""
              lbl="baseline "
            fi
            t=${m#base:}; t=${t#acc:}
            [ "$t" = all ] && t=$ncpu
            bench_run "$results" "$lab,\"rep\":$r,\"mode\":\"accelerated\",\"threads\":$t,\"io\":\"$bio\"$bl" --threads "$t" --io="$bio"
            bench_jrx=""
            lbl+="T=$t $bio"
          fi
          ran=1
          python3 bench/results.py row "$report" "$(short "$b") $d $lbl" >&2
          python3 bench/results.py floorrow "$floor" "$report" >&2
        done
      done
      if [ $ran = 1 ]; then
        bench_fsck "$results" "\"scenario\":\"bigtree\",\"keys\":$bkeys,\"base_keys\":$b,\"distribution\":\"$d\"" "$dir/d0" "$dir/d1"
      fi
      rm -f "$dir/d0" "$dir/d1" "$dir"/d[01].reserved "$dir"/d[01].map
    done
  done
fi

micro_json="$out/micro.json"
if [ $micro = 1 ]; then
  echo "== micro-benchmarks (Google Benchmark)" >&2
  filter=.
  [ $quick = 1 ] && filter='keys:1000000/'
  build/bench/micro/jrx-microbench --benchmark_filter="$filter" \
    --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_out="$micro_json" --benchmark_out_format=json >&2
else
  rm -f "$micro_json"
fi

python3 bench/results.py render "$results" "$micro_json" "$md" "$out" \
  $( [ $quick = 1 ] && echo --quick )
echo "results: $results; tables: $md; plots: $out/*.png" >&2
