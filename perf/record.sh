#!/bin/bash
# perf/record.sh - profile one recovery: a fresh sparse copy of the pristine
# array (array.sh), page cache dropped, then
#   perf record -k CLOCK_MONOTONIC -g --call-graph MODE -e EVENT -F 999 \
#     -o perf/out/perf.data -- build-prof/jrx recover --json [ARGS] DEV...
# EVENT is cycles, or cpu-clock where the CPU has no usable cycle counter
# (VMs).  Sample times are CLOCK_MONOTONIC, the clock of the report's
# phase_starts, so phases.sh can cut the profile by phase.
#
#   bash perf/record.sh [--call-graph fp|dwarf[,BYTES]] [--keys N] [--dir DIR] [-- ARGS]
#
#   fp       frame pointers (default): small and cheap
#   dwarf    stack copies (8 KiB; dwarf,BYTES for more, at most 65528)
#            unwound by perf: stacks through code without frame pointers
#            (libc, liburing) and inlined frames, a much bigger perf.data
#   N        make the array with N journal keys first if the pristine one
#            has another count (array.sh); without it, the existing array
#            (made with the default count if there is none)
#   ARGS     more jrx recover arguments, e.g. -- --reference, or
#            -- --dry-run --stop-after sort
#
# Writes perf/out/perf.data, perf/out/report.json (the recovery's JSON
# report), perf/out/run.args and run.dir (ARGS and DIR, for report.sh).
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

cg=fp keys="" extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--call-graph) cg=$2; shift 2 ;;
	--keys) keys=$2; shift 2 ;;
	--dir) PROF_DIR=$2; export PROF_DIR; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	*) die "usage: bash perf/record.sh [--call-graph fp|dwarf[,BYTES]] [--keys N] [--dir DIR] [-- ARGS]" ;;
	esac
done
case $cg in fp|dwarf|dwarf,[0-9]*) ;; *) die "--call-graph: fp, dwarf or dwarf,STACK_BYTES" ;; esac
need_jrx
need_perf
have=$(cat "$PROF_DIR/pristine/keys" 2>/dev/null || true)
if [ -z "$have" ] || { [ -n "$keys" ] && [ "$keys" != "$have" ]; }; then
	bash perf/array.sh --keys "${keys:-2000000}" --dir "$PROF_DIR"
fi
mkdir -p "$OUT"
save_run "${extra[@]}"
fresh_copy
drop_caches
ev=$(perf_event)
echo "perf record: -e $ev, --call-graph $cg, jrx recover --json ${extra[*]} $COPY"
# shellcheck disable=SC2086  # COPY is the device list
perf record -k CLOCK_MONOTONIC -g --call-graph "$cg" -e "$ev" -F 999 \
	-o "$OUT/perf.data" -- "$JRX" recover --json "${extra[@]}" $COPY \
	> "$OUT/report.json"
jq -r '"recovery: \(.mode), \(.result), \(.keys.read) keys, " +
	"\(.total_seconds) s; phases (s): " +
	([.phases | to_entries[] | "\(.key) \(.value)"] | join(", "))' \
	"$OUT/report.json"
