#!/bin/bash
# perf/phases.sh - cut perf/out/perf.data by recovery phase.  The report
# (perf/out/report.json) has each phase's start (phase_starts, seconds of
# CLOCK_MONOTONIC) and duration (phases); record.sh sampled with
# -k CLOCK_MONOTONIC, so sample times are on the same clock and
# `perf report --time START,END` (seconds.microseconds) keeps exactly the
# samples taken, on any thread, while that phase ran.
#
#   bash perf/phases.sh
#
# Writes perf/out/phase-NAME.txt (top symbols by self and by children
# time in that phase) and prints one table: phase, seconds, samples, top 3
# symbols by self time.  Samples before the first phase (exec, argument
# parsing, opening the devices) or after the last (exit) are "outside";
# phases a run did not reach (--stop-after) are left out.
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

need_perf
data=$OUT/perf.data json=$OUT/report.json
if [ ! -f "$data" ] || [ ! -f "$json" ]; then
	die "run bash perf/record.sh first"
fi

count() {	# samples in the time window $1 (empty: all)
	perf script -i "$data" ${1:+--time "$1"} -F time --hide-call-graph \
		2>/dev/null | wc -l
}

rm -f "$OUT"/phase-*.txt	# of an earlier profile
total=$(count "") sum=0
printf '%-13s %9s %8s  %s\n' phase seconds samples "top symbols (self %)"
while read -r name start end secs; do
	win="$start,$end"
	n=$(count "$win")
	sum=$((sum + n))
	f=$OUT/phase-$name.txt
	{
		echo "phase $name: $secs s, $n samples, perf report --time $win"
		printf '\n==== self (--no-children), >= 0.5%%\n'
		perf report -i "$data" --time "$win" --stdio -g none --no-children \
			--sort dso,sym --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' || true
		printf '\n==== children (--children), >= 2%%\n'
		perf report -i "$data" --time "$win" --stdio -g none --children \
			--sort sym --percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' || true
	} > "$f"
	# lines like "    23.38%  jrx   [.] msd_big_2": the 3 first
	top=$(awk '/^====/ { s++ } s == 1 && !/^====/ && /%/ { printf "%s%s %s", n++ ? ", " : "", $4, $1 }
		   n == 3 { exit }' "$f")
	printf '%-13s %9.3f %8d  %s\n' "$name" "$secs" "$n" "$top"
done < <(phase_windows)
printf '%-13s %9s %8d\n' outside "" $((total - sum))
printf '%-13s %9.3f %8d  (%s)\n' total "$(jq .total_seconds "$json")" "$total" \
	"$(perf report -i "$data" --stdio --header-only 2>/dev/null |
	   sed -n 's/^# event : name = \([^,]*\),.*/\1/p' | paste -sd/) samples, all threads"
