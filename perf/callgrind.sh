#!/bin/bash
# perf/callgrind.sh - instruction counts (callgrind Ir) of the sort stage's
# kernels: deterministic, so comparable across runs on a noisy machine.
# Each kernel runs once in build-prof/perf/kernels/jrx-kernels on an
# in-memory synth journal of N keys; callgrind collects only inside the
# kernel's entry function (--toggle-collect), not the journal generation.
#
#   bash perf/callgrind.sh [--keys N] [--repeat R] [KERNEL...]
#
#   KERNEL  extract radix merge sort1 sort2 reference (default: all)
#   N       journal keys (default 1000000)
#   R       runs per kernel (default 1); "spread" is the largest minus
#           the smallest Ir of the R runs (0: identical counts)
#
# Prints: kernel, Ir (of the first run), Ir per journal key, spread; writes
# perf/out/callgrind.out.KERNEL (callgrind_annotate / kcachegrind input),
# perf/out/callgrind-KERNEL.txt (callgrind_annotate, top functions, self)
# and the table to perf/out/callgrind.txt.
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

keys=1000000 repeat=1 kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--keys) keys=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	extract|radix|merge|sort1|sort2|reference) kernels+=("$1"); shift ;;
	*) die "usage: bash perf/callgrind.sh [--keys N] [--repeat R] [KERNEL...]" ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(extract radix merge sort1 sort2 reference)
bin=build-prof/perf/kernels/jrx-kernels
[ -x "$bin" ] || die "build first: bash perf/build.sh"
command -v valgrind >/dev/null || die "valgrind not installed"
mkdir -p "$OUT"

# The functions the kernels start in (src/sort, src/recovery/reference.c).
# jrx_sort_journal() is a tail call (jmp) to sort_journal_algo(); the
# workers of sort2 run in sort.c's trampoline(), on their own threads.
toggles() {
	case $1 in
	extract)   echo sort_scan_jsets sort_extract_jsets ;;
	radix)     echo sort_radix ;;
	merge)     echo sort_merge ;;
	sort1)     echo sort_journal_algo ;;
	sort2)     echo sort_journal_algo trampoline ;;
	reference) echo jrx_reference_sort ;;
	esac
}

table=$OUT/callgrind.txt
printf '%-10s %15s %10s %7s  %s\n' kernel Ir Ir/key spread "collected in" | tee "$table"
for k in "${kernels[@]}"; do
	args=() first="" min="" max=""
	for f in $(toggles "$k"); do args+=(--toggle-collect="$f"); done
	for ((r = 1; r <= repeat; r++)); do
		cg=$OUT/callgrind.out.$k
		valgrind --tool=callgrind --callgrind-out-file="$cg" "${args[@]}" \
			"$bin" "$k" --keys "$keys" > "$OUT/callgrind-$k.stdout" \
			2> "$OUT/callgrind-$k.log" ||
			die "valgrind failed, see $OUT/callgrind-$k.log"
		ir=$(awk '/^summary:/ { print $2 }' "$cg")
		[ -n "$first" ] || first=$ir min=$ir max=$ir
		[ "$ir" -ge "$min" ] || min=$ir
		[ "$ir" -le "$max" ] || max=$ir
	done
	in=$(awk '{ print $2 }' "$OUT/callgrind-$k.stdout")
	# functions by self Ir, down to 99% of the total
	callgrind_annotate --inclusive=no --auto=no --threshold=99 "$cg" \
		> "$OUT/callgrind-$k.txt"
	printf '%-10s %15s %10.1f %7s  %s\n' "$k" "$first" \
		"$(echo "$first / $in" | bc -l)" \
		"$([ "$repeat" -gt 1 ] && echo $((max - min)) || echo -)" \
		"$(toggles "$k")" | tee -a "$table"
done
echo "journal keys: $in (jrx-kernels --keys $keys); details: $OUT/callgrind-KERNEL.txt"
