#!/bin/bash
# perf/array.sh - a crashed synth array to profile recoveries of: two
# sparse 64 GiB devices with a 1 GiB journal, N journal keys (jrx synth),
# kept pristine in DIR/pristine (D0 D1, and "keys" = N).  Recovery writes
# to its array, so record.sh and report.sh recover fresh sparse copies
# (DIR/run) of it, never the pristine devices.
#
#   bash perf/array.sh [--keys N] [--dir DIR]
#
#   N    journal keys (default 2000000)
#   DIR  default /var/tmp/jrx-prof (or $PROF_DIR); remove it when done
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

keys=2000000
while [ $# -gt 0 ]; do
	case $1 in
	--keys) keys=$2; shift 2 ;;
	--dir) PROF_DIR=$2; shift 2 ;;
	*) die "usage: bash perf/array.sh [--keys N] [--dir DIR]" ;;
	esac
done
need_jrx
p=$PROF_DIR/pristine
rm -rf "$p" "$PROF_DIR/run"
mkdir -p "$p"
"$JRX" format --size 64G --journal-size 1G "$p/D0" "$p/D1" >/dev/null
"$JRX" synth --keys "$keys" "$p/D0" "$p/D1"
echo "$keys" > "$p/keys"
echo "array: $p/D0 $p/D1 ($keys journal keys, $(du -sh "$p" | cut -f1) on disk)"
