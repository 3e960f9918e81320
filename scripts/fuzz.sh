#!/usr/bin/env bash
# fuzz.sh - build, seed and run the libFuzzer targets of fuzz/
# (docs/FUZZING.md).  Targets: jset, node, sb, jindex (fuzz/fuzz_<name>.c).
#
#   bash scripts/fuzz.sh build              clang build (-DJRX_FUZZ=ON) in $B
#   bash scripts/fuzz.sh corpus             seeds from a small real array
#   bash scripts/fuzz.sh smoke [SECONDS]    every target SECONDS (default 5)
#   bash scripts/fuzz.sh run TARGET [EXECS] one long run (default 10000000)
#   bash scripts/fuzz.sh cov                edges covered per target
#
# $B is JRX_FUZZ_BUILD (default build-fuzz).  Seeds live in $B/corpus/<t>,
# what the fuzzer adds in $B/work/<t>, crashes in $B/artifacts/<t>.
# Environment: JRX_FUZZ_CC / JRX_FUZZ_CXX (default clang / clang++),
# JRX_BIN (the jrx that makes the corpus array; default build/jrx, else
# one built in $B).  smoke exits 77 with the reason (CTest: skipped) when
# clang or libFuzzer's runtime is missing.  Runs one fuzzer at a time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${JRX_FUZZ_BUILD:-$ROOT/build-fuzz}
case $B in /*) ;; *) B=$PWD/$B ;; esac
CC=${JRX_FUZZ_CC:-clang}
CXX=${JRX_FUZZ_CXX:-clang++}
TARGETS=(jset node sb jindex)
DICT=$ROOT/fuzz/jrx.dict
# the parser functions whose edges `cov` and `run` report, per target
declare -A FUNCS=(
  [jset]="jrx_jset_validate_count jrx_bkey_validate"
  [node]="jrx_bnode_decode_adopt jrx_node_hdr_validate jrx_bset_validate jrx_bkey_validate"
  [sb]="jrx_sb_validate"
  [jindex]="jrx_jindex_build jrx_jread_bucket jrx_jset_validate_count"
)

die() { echo "fuzz: $*" >&2; exit 1; }

# clang and libFuzzer's runtime, or exit $1 with the reason
need_clang() {
  local rc=$1 rt
  if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: skipped: no C compiler '$CC' (clang; bash scripts/setup.sh --fuzz installs it)"
    exit "$rc"
  fi
  rt=$("$CC" -print-runtime-dir 2>/dev/null || true)
  if ! [ -f "$rt/libclang_rt.fuzzer-$(uname -m).a" ] &&
     ! [ -f "$rt/libclang_rt.fuzzer.a" ]; then
    echo "fuzz: skipped: $CC has no libFuzzer runtime (libclang_rt.fuzzer-$(uname -m).a" \
         "not in '$rt'; Debian: libclang-rt-dev)"
    exit "$rc"
  fi
  command -v "$CXX" >/dev/null 2>&1 || {
    echo "fuzz: skipped: no C++ compiler '$CXX'"; exit "$rc"; }
}

target_of() {
  local t=${1#fuzz_}
  for x in "${TARGETS[@]}"; do [ "$x" = "$t" ] && { echo "$t"; return; }; done
  die "unknown target '$1' (one of: ${TARGETS[*]})"
}

do_build() {
  need_clang "${1:-1}"
  if ! [ -f "$B/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJRX_FUZZ=ON \
      -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
      -DJRX_BUILD_TESTS=OFF -DJRX_BUILD_BENCH=OFF -DJRX_BUILD_PEER=OFF >/dev/null
  fi
  cmake --build "$B" -j2 --target fuzz_all >/dev/null
  echo "fuzz: built ${TARGETS[*]/#/fuzz_} in $B/fuzz"
}

# A small array: synth (bulk-built btrees, a journal), recovery (appended
# bsets, a blacklist), then a load crashed with a torn jset; then the
# extractor cuts superblocks, jsets and nodes out of it.  A subshell: the
# scratch directory goes with it.
do_corpus() (
  local jrx=${JRX_BIN:-} dir
  if [ -z "$jrx" ]; then
    if [ -x "$ROOT/build/jrx" ]; then
      jrx=$ROOT/build/jrx
    else
      need_clang 1
      cmake --build "$B" -j2 --target jrx >/dev/null
      jrx=$B/jrx
    fi
  fi
  dir=$(mktemp -d /tmp/jrx-fuzz-corpus.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  (
    cd "$dir"
    "$jrx" format --size 32M --bucket-size 256K --btree-node-size 16K \
      --replicas 2 d0 d1 >/dev/null
    "$jrx" synth --keys 3000 --base-keys 5000 --seed 3 d0 d1 >/dev/null
    "$jrx" recover d0 d1 >/dev/null
    "$jrx" load --ops 1500 --seed 2 --crash-after-ops 1000 --torn d0 d1 >/dev/null
  ) || die "making the corpus array with $jrx failed"
  rm -rf "$B/corpus"
  python3 "$ROOT/scripts/fuzz_corpus.py" "$B/corpus" "$dir/d0" "$dir/d1"
)

have_corpus() {
  local t
  for t in "${TARGETS[@]}"; do
    [ -n "$(ls -A "$B/corpus/$t" 2>/dev/null)" ] || return 1
  done
}

# fuzz TARGET ARGS...: the target on its work and seed corpora
fuzz() {
  local t=$1; shift
  mkdir -p "$B/work/$t" "$B/artifacts/$t"
  "$B/fuzz/fuzz_$t" -dict="$DICT" -artifact_prefix="$B/artifacts/$t/" \
    -timeout=10 -rss_limit_mb=2048 -error_exitcode=99 -print_final_stats=1 "$@" \
    "$B/work/$t" "$B/corpus/$t"
}

# the edges of the target's parser functions in a -print_coverage log
func_edges() {
  local t=$1 log=$2 f
  for f in ${FUNCS[$t]}; do
    grep -E "_FUNC: hits: [0-9]+ edges: [0-9]+/[0-9]+ $f " "$log" |
      sed -E 's/.*edges: ([0-9]+\/[0-9]+) ([^ ]+) .*/  \2: \1 edges/' | head -1
  done
}

do_smoke() {
  local secs=${1:-5} t log failed=()
  need_clang 77
  do_build 77
  have_corpus || do_corpus
  log=$(mktemp)
  for t in "${TARGETS[@]}"; do
    if fuzz "$t" -max_total_time="$secs" >"$log" 2>&1; then
      echo "fuzz: smoke $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
        sed 's/.*: *//') executions in ${secs} s," \
        "$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -o 'cov: [0-9]*' || echo 'cov: ?')"
    else
      echo "fuzz: smoke $t FAILED:"; tail -n 40 "$log"; failed+=("$t")
    fi
  done
  rm -f "$log"
  [ ${#failed[@]} -eq 0 ] || die "smoke failed: ${failed[*]} (crashes in $B/artifacts)"
}

do_run() {
  local t execs=${2:-10000000} log start end before
  t=$(target_of "${1:?usage: fuzz.sh run TARGET [EXECS]}")
  need_clang 1
  [ -x "$B/fuzz/fuzz_$t" ] || do_build 1
  have_corpus || do_corpus
  log=$B/run-$t.log
  echo "fuzz: run $t for $execs executions (log $log)"
  mkdir -p "$B/artifacts/$t"
  before=$(find "$B/artifacts/$t" -type f | wc -l)
  start=$(date +%s)
  set +e
  fuzz "$t" -runs="$execs" -print_coverage=1 >"$log" 2>&1
  local rc=$?
  set -e
  end=$(date +%s)
  echo "fuzz: $t: exit $rc, $(date -u +%F)," \
    "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | sed 's/.*: *//') executions," \
    "$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | sed 's/.*: *//') exec/s," \
    "$((end - start)) s"
  echo "fuzz: $t: crashes: $(( $(find "$B/artifacts/$t" -type f | wc -l) - before ))" \
    "new file(s) in $B/artifacts/$t"
  echo "fuzz: $t: final $(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 |
    grep -o 'cov: [0-9]* ft: [0-9]*' || echo 'cov: ?')"
  func_edges "$t" "$log"
  return $rc
}

do_cov() {
  local t log
  need_clang 1
  [ -x "$B/fuzz/fuzz_jset" ] || do_build 1
  have_corpus || do_corpus
  log=$(mktemp)
  for t in "${TARGETS[@]}"; do
    mkdir -p "$B/work/$t"
    "$B/fuzz/fuzz_$t" -runs=0 -print_coverage=1 "$B/work/$t" "$B/corpus/$t" >"$log" 2>&1 ||
      { tail -n 20 "$log"; die "cov: $t failed"; }
    echo "$t: $(grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -1 | grep -o 'cov: [0-9]*')" \
      "edges in the whole program, over $(find "$B/work/$t" "$B/corpus/$t" -type f | wc -l) inputs"
    func_edges "$t" "$log"
  done
  rm -f "$log"
}

case "${1:-}" in
  build)  do_build 1 ;;
  corpus) do_corpus ;;
  smoke)  do_smoke "${2:-5}" ;;
  run)    shift; do_run "$@" ;;
  cov)    do_cov ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
