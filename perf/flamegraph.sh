#!/bin/bash
# perf/flamegraph.sh - a flame graph of perf/out/perf.data with perf's own
# flamegraph script (perf script report flamegraph) and the self-contained
# d3-flame-graph v4 HTML template (installed from npm into perf/node when
# missing), plus the folded stacks (perf script report stackcollapse) for
# other viewers (speedscope, flamegraph.pl).
#
#   bash perf/flamegraph.sh [--phase NAME]
#
#   NAME  only the samples of one phase of perf/out/report.json
#         (superblock, journal_read, sort, replay, commit)
#
# Writes perf/out/flamegraph.html and perf/out/stacks.folded, or with
# --phase perf/out/flamegraph-NAME.html and perf/out/stacks-NAME.folded.
set -euo pipefail
# shellcheck source=perf/lib.sh
source "$(dirname "$0")/lib.sh"

phase=""
while [ $# -gt 0 ]; do
	case $1 in
	--phase) phase=$2; shift 2 ;;
	*) die "usage: bash perf/flamegraph.sh [--phase NAME]" ;;
	esac
done
need_perf
[ -f "$OUT/perf.data" ] || die "no $OUT/perf.data: run bash perf/record.sh first"
tmpl=perf/node/node_modules/d3-flame-graph/dist/templates/d3-flamegraph-base.html
if [ ! -f "$tmpl" ]; then	# v4: v5 ships no template
	npm install --prefix perf/node d3-flame-graph@4
fi
scripts=$(perf --exec-path)/scripts/python
if [ -n "$phase" ]; then
	win=$(phase_windows | awk -v p="$phase" '$1 == p { print $2 "," $3 }')
	[ -n "$win" ] || die "no phase '$phase' in $OUT/report.json"
	html=flamegraph-$phase.html folded=stacks-$phase.folded
fi
html=${html:-flamegraph.html} folded=${folded:-stacks.folded}

# flamegraph.py reads ./perf.data and its header (perf report
# --header-only) from the current directory
cd "$OUT" || exit 1
if [ -z "$phase" ]; then
	perf script report flamegraph --template "../../$tmpl" -o "$html"
	perf script report stackcollapse > "$folded"
else
	# The report wrapper takes no perf script options (--time before
	# "report" is dropped, after it goes to the python script): run the
	# scripts it runs, with --time.
	perf script --time "$win" -s "$scripts/flamegraph.py" -- \
		--template "../../$tmpl" -o "$html"
	perf script --time "$win" -s "$scripts/stackcollapse.py" > "$folded"
fi

# self-contained: no <script src=...>, no stylesheet link, and no http(s)
# URL but the XML namespace names of d3 (www.w3.org, never fetched)
ext=$(grep -Eio '<script[^>]*src=[^>]*|<link[^>]*href=[^>]*|https?://[^"'\''<> )]+' \
	"$html" | grep -v '^http://www\.w3\.org/' || true)
[ -z "$ext" ] || die "$html loads external resources: $ext"
n=$(awk '{ s += $NF } END { print s + 0 }' "$folded")
echo "$OUT/$html: ${phase:-all phases}, $n samples, no external scripts" \
	"($OUT/$folded: $(wc -l < "$folded") stacks)"
