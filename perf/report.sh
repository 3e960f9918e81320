#!/bin/bash
# perf/report.sh - summaries of perf/out/perf.data (record.sh) into
# perf/out/report.txt: top symbols by self time (--no-children), by time
# including callees (--children), per dso, per thread; then perf stat of
# a second recovery of a fresh copy, with the same jrx recover arguments
# as the recorded one, into perf/out/stat.txt (its JSON report:
# perf/out/stat-report.json).
#
#   bash perf/report.sh [--percent-limit P]
#
#   P  the self table hides symbols under P% of the samples (default
#      0.5); the children table, under 2%
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

limit=0.5
while [ $# -gt 0 ]; do
	case $1 in
	--percent-limit) limit=$2; shift 2 ;;
	*) die "usage: bash perf/report.sh [--percent-limit P]" ;;
	esac
done
need_jrx
need_perf
[ -f "$OUT/perf.data" ] || die "no $OUT/perf.data: run bash perf/record.sh first"
run_args

rep() {	# title, perf report options...
	local title=$1; shift
	printf '\n==== %s\n' "$title"
	perf report -i "$OUT/perf.data" --stdio -g none "$@" 2>/dev/null |
		grep -v '^#' | grep -v '^$' || true
}
{
	echo "perf report of $OUT/perf.data (jrx recover --json ${RUN_ARGS[*]})"
	perf report -i "$OUT/perf.data" --stdio --header-only 2>/dev/null |
		grep -E '^# (cmdline|event|captured on|nrcpus|sample duration)' || true
	perf report -i "$OUT/perf.data" --stdio 2>/dev/null |
		grep -E '^# (Samples|Event count)' || true
	rep "self: samples in the symbol itself (--no-children), >= $limit%" \
		--no-children --sort dso,sym --percent-limit "$limit"
	rep "children: samples in the symbol or below it (--children), >= 2%" \
		--children --sort sym --percent-limit 2
	rep "by thread name and object (--sort comm,dso)" --no-children --sort comm,dso
	rep "by thread (--sort pid: tid:name)" --no-children --sort pid
} > "$OUT/report.txt"
echo "wrote $OUT/report.txt ($(wc -l < "$OUT/report.txt") lines)"

# perf stat of a second, unprofiled recovery of a fresh copy
fresh_copy
drop_caches
if [ "$(perf_event)" = cycles ]; then
	events=(-d)
else	# no hardware counters (VM): software events only
	events=(-e "task-clock,context-switches,cpu-migrations,page-faults,minor-faults,major-faults")
fi
# shellcheck disable=SC2086  # COPY is the device list
perf stat "${events[@]}" -o "$OUT/stat.txt" -- \
	"$JRX" recover --json "${RUN_ARGS[@]}" $COPY > "$OUT/stat-report.json"
cat "$OUT/stat.txt"
jq -r '"recovery (perf stat run): \(.result), \(.total_seconds) s"' \
	"$OUT/stat-report.json"
