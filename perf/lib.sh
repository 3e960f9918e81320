# shellcheck shell=bash
# perf/lib.sh - what the perf/ scripts share; sourced, not run.
#
#   cd to the repo root (the scripts work from anywhere; paths are relative
#   to the root); JRX=build-prof/jrx, OUT=perf/out, PROF_DIR (the arrays,
#   default /var/tmp/jrx-prof)
#   need_jrx             ends the script unless build-prof/jrx exists
#   need_perf            ends the script unless perf may profile (root, or
#                        kernel.perf_event_paranoid <= 1)
#   perf_event           "cycles" when the CPU counts cycles, else
#                        "cpu-clock" (VMs without a PMU)
#   drop_caches          sync and drop the page cache (needs root)
#   fresh_copy           sparse copies of the pristine array's devices in
#                        $PROF_DIR/run; sets COPY (the device paths)
#   save_run / run_args  the jrx recover arguments and array directory of
#                        the last record.sh run (perf/out/run.args, one
#                        per line, and run.dir; run_args reads them back
#                        into RUN_ARGS and PROF_DIR)
#   phase_windows        "name start end seconds" per phase of
#                        perf/out/report.json (perf --time format)

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JRX=build-prof/jrx
OUT=perf/out
PROF_DIR=${PROF_DIR:-/var/tmp/jrx-prof}
DEVS="D0 D1"

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

need_jrx() {
	[ -x "$JRX" ] || die "build first: bash perf/build.sh"
}

need_perf() {
	command -v perf >/dev/null || die "perf not installed (apt-get install linux-perf)"
	local p
	p=$(cat /proc/sys/kernel/perf_event_paranoid)
	[ "$(id -u)" = 0 ] || [ "$p" -le 1 ] ||
		die "perf needs root or kernel.perf_event_paranoid <= 1 (it is $p)"
}

perf_event() {
	if perf stat -x, -e cycles true 2>&1 >/dev/null | grep -q '^[0-9]'; then
		echo cycles
	else
		echo cpu-clock
	fi
}

drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null ||
		die "cannot drop the page cache (needs root)"
}

fresh_copy() {
	[ -f "$PROF_DIR/pristine/D0" ] || die "no array in $PROF_DIR: bash perf/array.sh"
	rm -rf "$PROF_DIR/run"
	mkdir -p "$PROF_DIR/run"
	COPY=""
	for d in $DEVS; do
		cp --sparse=always "$PROF_DIR/pristine/$d" "$PROF_DIR/run/$d"
		COPY="$COPY $PROF_DIR/run/$d"
	done
	COPY=${COPY# }
}

save_run() {
	mkdir -p "$OUT"
	echo "$PROF_DIR" > "$OUT/run.dir"
	: > "$OUT/run.args"
	[ $# = 0 ] || printf '%s\n' "$@" > "$OUT/run.args"
}

run_args() {
	[ -f "$OUT/run.args" ] || die "no $OUT/run.args: run bash perf/record.sh first"
	# shellcheck disable=SC2034  # used by the caller
	mapfile -t RUN_ARGS < "$OUT/run.args"
	PROF_DIR=$(cat "$OUT/run.dir")
}

# "name start end seconds" for every phase of perf/out/report.json that ran
# (start, end: CLOCK_MONOTONIC seconds.microseconds, perf's --time format)
phase_windows() {
	[ -f "$OUT/report.json" ] || die "no $OUT/report.json: run bash perf/record.sh first"
	jq -r '.phases as $d | .phase_starts | to_entries[] | select(.value > 0) |
		"\(.key) \(.value) \(.value + $d[.key]) \($d[.key])"' "$OUT/report.json" |
		awk '{ printf "%s %.6f %.6f %.6f\n", $1, $2, $3, $4 }'
}
