# bench/lib.sh - what the benchmark scripts share; sourced, not run.
# shellcheck shell=bash
#
#   bench_setup DIR OUT  needs ./build/jrx (sets $jrx); DIR "" makes a
#                        scratch directory under /var/tmp removed at exit
#                        (sets $dir); creates DIR and OUT's directory
#   drop_caches [--warn] sync and drop the page cache; without --warn a
#                        failure (not root) ends the script
#   bench_array N JSIZE SIZE "SYNTH ARGS"
#                        a fresh crashed 2-device array $dir/d0 $dir/d1:
#                        `jrx format`, then `jrx synth --keys N`; sets
#                        $bench_node_size (btree node bytes, show-super)
#   bench_recover OUT LABEL ARGS...
#                        one recovery of a fresh sparse copy ($dir/c0,
#                        $dir/c1) of that array, caches dropped unless
#                        $bench_drop is 0: `jrx recover ARGS --json`; appends
#                        {LABEL...,"report":REPORT} to OUT and sets $report
#                        to the JSON report; $bench_jrx, when set, is the
#                        binary that recovers (an A/B comparison of builds)
#   bench_save_crash     after bench_array: save each device's reserved
#                        area (the bytes before first_bucket * bucket_size,
#                        both superblock copies: docs/FORMAT.md §3.1) to
#                        $dir/dN.reserved and its data ranges to $dir/dN.map
#   bench_restore_crash  the crashed state of $dir/d0 $dir/d1 back in
#                        place: the reserved areas written back (dd
#                        conv=notrunc, then sync); with $bench_holes 1 the
#                        ranges the last recovery allocated are punched
#                        (bench/crashstate.py) so every run writes into
#                        holes, else (the default) they stay allocated, as
#                        every block of a block device is; ends the script
#                        unless show-super then says unclean, with the
#                        saved superblock seq (and, with holes, the data
#                        ranges are the saved ones).  Right because
#                        recovery writes nothing the crashed state reads
#                        (FORMAT.md §8 point 7): it appends bsets past a
#                        committed node's written part or writes nodes to
#                        buckets free in that state, and its commit is the
#                        superblocks
#   bench_run OUT LABEL ARGS...
#                        one recovery of a fresh crashed state: with
#                        $bench_fresh "copy" (default) a sparse copy $dir/c0
#                        $dir/c1 (left in place for bench_fsck; removed by
#                        the next bench_run), with "restore" $dir/d0 $dir/d1
#                        themselves after bench_restore_crash (without
#                        holes, the first run of an array is preceded by
#                        one recovery that is not recorded, so that every
#                        recorded one writes into allocated blocks); caches
#                        dropped unless $bench_drop is 0; then the I/O
#                        floor of its bytes (bench/results.py floor: dd
#                        O_DIRECT in $dir; its writes overwrite a file
#                        written first when the recovery wrote into
#                        allocated blocks: in place without holes, else
#                        they go to a new file); appends {LABEL...,"fresh":...,
#                        "load_before":L,"load_after":L,"floor":{...},
#                        "report":REPORT} to OUT and sets $report and $floor
#   bench_fsck OUT LABEL DEV...
#                        `jrx fsck -n DEV...`; appends {"bench":"fsck",
#                        LABEL...,"exit_code":RC,...} to OUT

bench_setup() {
  dir="$1"
  jrx=./build/jrx
  bench_drop=${bench_drop:-1}
  bench_fresh=${bench_fresh:-copy}
  bench_holes=${bench_holes:-0}
  [ -x "$jrx" ] || { echo "$0: build jrx first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
  bench_own_dir=0
  if [ -z "$dir" ]; then dir=$(mktemp -d /var/tmp/jrx-bench.XXXXXX); bench_own_dir=1; fi
  mkdir -p "$(dirname "$2")" "$dir"
  trap '[ $bench_own_dir = 1 ] && rm -rf "$dir"' EXIT
}

drop_caches() {
  sync
  if ! echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
    if [ "${1:-}" = --warn ]; then
      echo "$0: cannot drop the page cache (not root?): journal reads are cached" >&2
    else
      echo "$0: cannot drop the page cache (needs root)" >&2; exit 1
    fi
  fi
}

bench_array() {
  rm -f "$dir/d0" "$dir/d1" "$dir"/d[01].reserved "$dir"/d[01].map
  $jrx format --size "$3" --journal-size "$2" "$dir/d0" "$dir/d1" >/dev/null
  # shellcheck disable=SC2086
  $jrx synth --keys "$1" $4 "$dir/d0" "$dir/d1" >/dev/null
  bench_warm=0
  bench_layout
  bench_node_size=${bench_sbline[1]}
}

# the array's layout: bench_devlines ("PATH BUCKET_SIZE FIRST_BUCKET" per
# device) and bench_sbline (node NODE_SIZE seq SEQ clean 0|1)
bench_layout() {
  local lines
  lines=$(python3 bench/crashstate.py layout "$($jrx show-super --json "$dir/d0" "$dir/d1")")
  bench_devlines=$(grep -v '^node ' <<< "$lines")
  read -r -a bench_sbline <<< "$(grep '^node ' <<< "$lines")"
}

bench_copy() {
  rm -f "$dir/c0" "$dir/c1"
  cp --sparse=always "$dir/d0" "$dir/c0"
  cp --sparse=always "$dir/d1" "$dir/c1"
}

bench_recover() {
  local out="$1" label="$2"
  shift 2
  bench_copy
  if [ "$bench_drop" = 1 ]; then drop_caches --warn; fi
  report=$("${bench_jrx:-$jrx}" recover "$@" --json "$dir/c0" "$dir/c1")
  echo "{$label,\"report\":$report}" >> "$out"
  rm -f "$dir/c0" "$dir/c1"
}

bench_save_crash() {
  local path bsize first
  bench_layout
  if [ "${bench_sbline[5]}" != 0 ]; then
    echo "$0: bench_save_crash: $dir/d0 $dir/d1 is clean: not a crashed array" >&2; exit 1
  fi
  bench_crash_seq=${bench_sbline[3]}
  while read -r path bsize first; do
    dd if="$path" of="$path.reserved" bs="$bsize" count="$first" status=none
  done <<< "$bench_devlines"
  python3 bench/crashstate.py save "$dir/d0" "$dir/d1"
}

bench_restore_crash() {
  local path bsize first
  while read -r path bsize first; do
    dd if="$path.reserved" of="$path" bs="$bsize" conv=notrunc,fsync status=none
  done <<< "$bench_devlines"
  if [ "$bench_holes" = 1 ]; then
    python3 bench/crashstate.py punch "$dir/d0" "$dir/d1" >/dev/null
  fi
  sync
  bench_layout
  if [ "${bench_sbline[5]}" != 0 ] || [ "${bench_sbline[3]}" != "$bench_crash_seq" ]; then
    echo "$0: RESTORE FAILED: after writing back the reserved areas, jrx show-super" \
         "reports $dir/d0 $dir/d1 as clean=${bench_sbline[5]} seq ${bench_sbline[3]}," \
         "not the crashed state (unclean, seq $bench_crash_seq)" >&2
    $jrx show-super "$dir/d0" "$dir/d1" >&2 || true
    exit 1
  fi
  if [ "$bench_holes" = 1 ] && ! python3 bench/crashstate.py check "$dir/d0" "$dir/d1"; then
    echo "$0: RESTORE FAILED: the devices' allocated ranges are not the crashed state's" >&2
    exit 1
  fi
}

bench_run() {
  local out="$1" label="$2" load0 load1 devs
  shift 2
  if [ "$bench_fresh" = restore ]; then
    if [ "$bench_holes" != 1 ] && [ "${bench_warm:-0}" = 0 ]; then
      bench_restore_crash
      "${bench_jrx:-$jrx}" recover "$@" "$dir/d0" "$dir/d1" >/dev/null
      bench_warm=1
    fi
    bench_restore_crash
    devs=("$dir/d0" "$dir/d1")
  else
    bench_copy
    devs=("$dir/c0" "$dir/c1")
  fi
  if [ "$bench_drop" = 1 ]; then drop_caches --warn; fi
  load0=$(cut -d' ' -f1 /proc/loadavg)
  report=$("${bench_jrx:-$jrx}" recover "$@" --json "${devs[@]}")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  # in place without holes: the recovery overwrote allocated blocks, so
  # the floor's writes overwrite too
  local ow=""
  [ "$bench_fresh" = restore ] && [ "$bench_holes" != 1 ] && ow=overwrite
  floor=$(python3 bench/results.py floor "$dir" "$report" "$bench_node_size" $ow)
  local restore=""
  [ "$bench_fresh" = restore ] && restore=",\"restore\":\"$([ "$bench_holes" = 1 ] && echo holes || echo blocks)\""
  echo "{$label,\"fresh\":\"$bench_fresh\"$restore,\"load_before\":$load0,\"load_after\":$load1,\"floor\":$floor,\"report\":$report}" >> "$out"
}

bench_fsck() {
  local out="$1" label="$2" rc=0
  shift 2
  "$jrx" fsck -n --json "$@" > "$dir/fsck.json" 2> "$dir/fsck.err" || rc=$?
  echo "{\"bench\":\"fsck\",$label,$(python3 bench/results.py fsck "$dir/fsck.json" "$rc")}" >> "$out"
  if [ "$rc" = 0 ]; then
    echo "    fsck -n: clean (exit code 0)" >&2
  else
    echo "$0: WARNING: jrx fsck -n $* exited $rc (recorded in $out):" >&2
    tail -5 "$dir/fsck.err" >&2
  fi
  rm -f "$dir/fsck.json" "$dir/fsck.err"
}
