#!/usr/bin/env bash
# install.sh - test_install: `cmake --install` of the build tree into a
# scratch DESTDIR with prefix /usr, as a package would, then checks that
#  - exactly bin/jrx, sbin/fsck.jrx (a relative link that runs the fsck
#    front end) and the two man pages are installed;
#  - jrx --version, -V, version and fsck.jrx -V print the project version;
#  - jrx.8 has a section for every command of `jrx help` and names every
#    long option of its `--help`, and fsck.jrx.8 every option of
#    `jrx fsck --help`, so the pages cannot go stale silently;
#  - the pages render without warnings (groff -ww, man --warnings -l,
#    mandoc -T lint: those installed).  Exit 77 (skip), after the other
#    checks, when neither groff nor man is installed.
#   install.sh CMAKE BUILD_DIR VERSION
set -euo pipefail
cmake=$1 build=$2 version=$3
tmp=$(mktemp -d /tmp/jrx-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_install: $*" >&2; exit 1; }

DESTDIR=$tmp/root "$cmake" --install "$build" --prefix /usr >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log" >&2; fail "cmake --install failed"; }
usr=$tmp/root/usr man8=$tmp/root/usr/share/man/man8

# the layout, nothing more
got=$(cd "$tmp/root" && find . ! -type d | sort | tr '\n' ' ')
want="./usr/bin/jrx ./usr/sbin/fsck.jrx ./usr/share/man/man8/fsck.jrx.8 ./usr/share/man/man8/jrx.8 "
[ "$got" = "$want" ] || fail "installed: $got; expected: $want"
[ -x "$usr/bin/jrx" ] || fail "bin/jrx is not executable"
link=$(readlink "$usr/sbin/fsck.jrx") || fail "sbin/fsck.jrx is not a symlink"
[ "${link#/}" = "$link" ] || fail "sbin/fsck.jrx -> $link is absolute"
[ "$(readlink -f "$usr/sbin/fsck.jrx")" = "$(readlink -f "$usr/bin/jrx")" ] ||
	fail "sbin/fsck.jrx -> $link does not reach bin/jrx"

# versions
for a in --version -V version; do
	out=$("$usr/bin/jrx" $a) || fail "jrx $a exited $?"
	[[ $out == "jrx $version (commit "?*")" ]] ||
		fail "jrx $a printed '$out', expected 'jrx $version (commit ...)'"
done
out=$("$usr/sbin/fsck.jrx" -V) || fail "fsck.jrx -V exited $?"
[[ $out == "fsck.jrx $version (commit "?*")" ]] ||
	fail "fsck.jrx -V printed '$out'"
# by its bare name, as fsck(8) finds it in PATH; with no device it is the
# fsck front end's usage error (fsck(8) code 16), not jrx's (2)
rc=0
PATH=$usr/sbin:$PATH fsck.jrx >/dev/null 2>&1 || rc=$?
[ $rc = 16 ] || fail "fsck.jrx without a device exited $rc, expected 16"

# the pages name every command and option; roff source with \- and font
# escapes taken out
for p in jrx fsck.jrx; do
	[ -f "$man8/$p.8" ] || fail "man8/$p.8 is missing"
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man8/$p.8" >"$tmp/$p.txt"
done
has_opt() { grep -qE -- "(^|[^a-zA-Z-])$2([^a-zA-Z-]|\$)" "$tmp/$1.txt"; }
cmds=$("$usr/bin/jrx" help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$cmds" ] || fail "jrx help lists no command"
for c in $cmds; do
	grep -qE "^\.SS \"jrx $c( |\")" "$tmp/jrx.txt" ||
		fail "jrx.8 has no section '.SS \"jrx $c ...\"' for the command $c of jrx help"
	for o in $("$usr/bin/jrx" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		has_opt jrx "$o" || fail "jrx.8 does not name $o of 'jrx $c --help'"
	done
done
for o in $("$usr/bin/jrx" fsck --help | grep -oE -- '(^|[^a-zA-Z-])--?[a-zA-Z][a-z0-9-]*' |
	   grep -oE -- '--?[a-zA-Z][a-z0-9-]*' | sort -u); do
	has_opt fsck.jrx "$o" || fail "fsck.jrx.8 does not name $o of 'jrx fsck --help'"
done

# rendering
renderers=0
for p in jrx fsck.jrx; do
	if command -v groff >/dev/null; then
		renderers=1
		groff -man -Tutf8 -ww -z "$man8/$p.8" 2>"$tmp/err" || fail "groff failed on $p.8"
		[ ! -s "$tmp/err" ] || { cat "$tmp/err" >&2; fail "groff warns about $p.8"; }
	fi
	if command -v man >/dev/null; then
		renderers=1
		MANPAGER=cat MANWIDTH=80 man --warnings -l "$man8/$p.8" >"$tmp/out" 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; fail "man -l failed on $p.8"; }
		[ ! -s "$tmp/err" ] || { cat "$tmp/err" >&2; fail "man -l warns about $p.8"; }
		grep -q "jrx" "$tmp/out" || fail "man -l rendered nothing for $p.8"
	fi
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$man8/$p.8" >"$tmp/err" 2>&1 ||
			{ cat "$tmp/err" >&2; fail "mandoc -T lint warns about $p.8"; }
	fi
done
if [ $renderers = 0 ]; then
	echo "test_install: skipped rendering the man pages: neither groff nor man is installed (apt-get install man-db)"
	exit 77
fi
echo "test_install: $want-- ok"
