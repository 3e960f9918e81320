#!/usr/bin/env bash
# bench/run.sh - the one benchmark command: end-to-end recovery across
# sizes, thread counts and io backends, the reference against the
# accelerated recovery, a RocksDB peer on the same key stream, and the
# Google Benchmark micro-benchmarks; every JSON report goes into one
# results file, from which bench/results.py writes the BENCHMARKS tables
# and gnuplot draws the plots.
#
#   bash bench/run.sh [--quick] [--sizes "1000000 10000000 50000000"]
#                     [--threads "1 2 all"] [--io "uring pread"] [--reps 3]
#                     [--out DIR] [--dir SCRATCH] [--no-peer] [--no-micro]
#                     [--no-setup] [--append]
#
# Default: sizes 1 M, 10 M and 50 M journal keys, 3 repetitions of every
# run, results in docs/bench/ (results.jsonl, micro.json, *.png) and the
# tables in docs/BENCHMARKS.md.  --quick: 1 M keys only, results and
# BENCHMARKS.md in bench/results/quick/ (docs/ untouched).  --out DIR puts
# everything (BENCHMARKS.md included) in DIR.  --append adds to the results
# file instead of starting it afresh (say, a bigger size run later with
# fewer repetitions); the tables are made from everything in it, and list
# every command that wrote it.
#
# For each size: one crashed array (`jrx format` + `jrx synth --keys N`,
# default mix), then every run recovers a fresh sparse copy of it with the
# page cache dropped: the reference (`--reference`) once per repetition
# unless its peak RSS, scaled from the smaller sizes, would not fit in 70%
# of the available memory (the skip and its reason are recorded), and the
# accelerated recovery for each thread count x io backend.  The RocksDB
# peer (bench/peer) loads the same array's journal into a WAL, "crashes",
# and is timed reopening it.  Needs root (drop_caches, packages) and,
# for the default sizes, about 40 GB free under /var/tmp and 70 minutes
# (2-core VM: most of it RocksDB loading and replaying 50 M keys).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="1000000 10000000 50000000" threads="1 2 all" ios="uring pread"
reps=3 out="" dir="" peer=1 micro=1 setup=1 quick=0 append=0 argv="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; sizes="1000000"; shift ;;
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --io) ios="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --no-peer) peer=0; shift ;;
    --no-micro) micro=0; shift ;;
    --no-setup) setup=0; shift ;;
    --append) append=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; sed -n '/^#   bash bench/,/^#$/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
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
python3 bench/results.py machine "$dir" "bash bench/run.sh${argv:+ $argv}" >> "$results"

# journal space ~85 B per key, device space ~3 KB per key of base + journal
jsize_for() { echo "$(( ($1 * 120 + (1 << 30) - 1) >> 30 ))G"; }
dsize_for() { local g=$(( ($1 * 6000) >> 30 )); [ $g -lt 64 ] && g=64; echo "${g}G"; }

for n in $sizes; do
  echo "== $n journal keys: synth" >&2
  bench_array "$n" "$(jsize_for "$n")" "$(dsize_for "$n")" ""
  for r in $(seq 1 "$reps"); do
    skip=$(python3 bench/results.py refskip "$results" "$n")
    if [ -z "$skip" ]; then
      bench_recover "$results" "\"bench\":\"recovery\",\"keys\":$n,\"rep\":$r,\"mode\":\"reference\",\"threads\":1,\"io\":\"pread\"" --reference
      python3 bench/results.py row "$report" "$n reference" >&2
    elif [ "$r" = 1 ]; then
      echo "{\"bench\":\"skipped\",\"keys\":$n,\"mode\":\"reference\",\"why\":\"$skip\"}" >> "$results"
      echo "$n reference skipped: $skip" >&2
    fi
    for t in $tlist; do
      for io in $ios; do
        bench_recover "$results" "\"bench\":\"recovery\",\"keys\":$n,\"rep\":$r,\"mode\":\"accelerated\",\"threads\":$t,\"io\":\"$io\"" --threads "$t" --io="$io"
        python3 bench/results.py row "$report" "$n acc T=$t $io" >&2
      done
    done
    if [ $peer = 1 ]; then
      # the peer only reads the crashed array; its WAL replay consumes
      # the WAL, so every repetition loads a fresh one
      rm -rf "$dir/rocksdb"
      load=$(build/bench/peer/jrx-rocksdb-peer load --db "$dir/rocksdb" "$dir/d0" "$dir/d1")
      drop_caches --warn
      rec=$(build/bench/peer/jrx-rocksdb-peer recover --db "$dir/rocksdb")
      echo "{\"bench\":\"peer\",\"keys\":$n,\"rep\":$r,\"load\":$load,\"recover\":$rec}" >> "$results"
      python3 bench/results.py peerrow "$rec" "$n rocksdb" >&2
      rm -rf "$dir/rocksdb"
    fi
  done
done
rm -f "$dir/d0" "$dir/d1"

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

python3 bench/results.py render "$results" "$micro_json" "$md" "$out"
echo "results: $results; tables: $md; plots: $out/*.png" >&2
