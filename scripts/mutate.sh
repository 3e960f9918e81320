#!/usr/bin/env bash
# Mutation testing: applies each mutation of a list (scripts/mutations.txt)
# on its own to a scratch copy of the tree, builds, runs the test suite
# (CTest) within a time budget, and reports which mutations some test
# killed and which survived.  The caller's tree is only read.
#
#   bash scripts/mutate.sh [-f FILE] [-t SECONDS] [-j JOBS] [-B] [-k] [-l]
#                          [NAME...]
#     -f FILE     the mutation list (default scripts/mutations.txt; its
#                 format is described at its top)
#     -t SECONDS  time budget of one mutation's test run (default 900)
#     -j JOBS     build and test jobs (default 2)
#     -B          no baseline run (by default the unmutated suite must
#                 pass first, or nothing can be concluded)
#     -k          keep the scratch copy (its path is printed)
#     -l          list the mutations and exit
#     -c          check that every pattern matches exactly once in src/
#                 (nothing is built) and exit
#     NAME...     only these mutations
#
# Results: one line per mutation while it runs, then a summary: killed
# (and by which tests), survived, timeout (the budget ran out before any
# test failed), no-build (the mutant does not compile) or bad-pattern (the
# pattern is not found exactly once in src/).  Exit status 0 whatever the
# results, 2 on a usage error or a red baseline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/scripts/mutations.txt budget=900 jobs=2 baseline=1 keep=0 only_list=0
check=0
while getopts "f:t:j:Bklch" opt; do
  case $opt in
    f) list=$OPTARG ;;
    t) budget=$OPTARG ;;
    j) jobs=$OPTARG ;;
    B) baseline=0 ;;
    k) keep=1 ;;
    l) only_list=1 ;;
    c) check=1 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

# ---------------------------------------------------------------- the list

names=() kinds=() pats=() repls=() whys=()
flush_entry() {
  if [ -n "$name" ]; then
    if [ -z "$pat" ]; then echo "$list: $name has no find or regex" >&2; exit 2; fi
    names+=("$name") kinds+=("$kind") pats+=("$pat") repls+=("$repl") whys+=("$why")
  fi
  name= kind= pat= repl= why=
}
name= kind= pat= repl= why=
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    \#*) continue ;;
    "") flush_entry; continue ;;
  esac
  key=${line%%:*} val=${line#*:}
  val=${val#"${val%%[![:space:]]*}"}
  case $key in
    name) flush_entry; name=$val ;;
    find) kind=find pat=$val ;;
    regex) kind=regex pat=$val ;;
    replace) repl=$val ;;
    why) why=$val ;;
    *) echo "$list: unknown field: $line" >&2; exit 2 ;;
  esac
done < "$list"
flush_entry

if [ "$only_list" = 1 ]; then
  for i in "${!names[@]}"; do printf '%-28s %s\n' "${names[$i]}" "${whys[$i]}"; done
  exit 0
fi
todo=()
for i in "${!names[@]}"; do
  if [ $# -eq 0 ]; then todo+=("$i"); continue; fi
  for want in "$@"; do [ "$want" = "${names[$i]}" ] && todo+=("$i"); done
done
if [ ${#todo[@]} -eq 0 ]; then echo "no mutation matches: $*" >&2; exit 2; fi

# Applies mutation i to the tree in the current directory, the file's
# original kept in $scratch/original (with CHECK=1 only finds it): prints
# the file (path from the tree), or a reason and status 1.
apply() {
  KIND=${kinds[$1]} PAT=${pats[$1]} REPL=${repls[$1]} ORIG=${scratch:-} perl -e '
    use strict; use File::Find;
    my $re = $ENV{KIND} eq "regex" ? qr/$ENV{PAT}/m : qr/\Q$ENV{PAT}\E/;
    my (@hits, $n);
    find({ no_chdir => 1, wanted => sub {
      return unless -f && /\.[ch]$/;
      open(my $f, "<", $_) or die "$_: $!";
      local $/; my $s = <$f>; close $f;
      my $c = () = $s =~ /$re/g;
      if ($c) { push @hits, "$_ ($c)"; $n += $c; }
    } }, "src");
    if (!$n || $n != 1) {
      print $n ? "matches $n times: @hits" : "not found";
      exit 1;
    }
    my $file = $hits[0]; $file =~ s/ \(\d+\)$//;
    if ($ENV{CHECK}) { print $file; exit 0; }
    open(my $f, "<", $file) or die; local $/; my $s = <$f>; close $f;
    open($f, ">", "$ENV{ORIG}/original") or die; print $f $s; close $f;
    $s =~ s/$re/$ENV{REPL}/;
    open($f, ">", $file) or die; print $f $s; close $f;
    print $file;
  '
}

if [ "$check" = 1 ]; then
  bad=0
  for i in "${todo[@]}"; do
    if where=$(cd "$root" && CHECK=1 apply "$i"); then
      printf '%-28s ok: %s\n' "${names[$i]}" "$where"
    else
      printf '%-28s %s\n' "${names[$i]}" "$where"; bad=1
    fi
  done
  exit $bad
fi

# ---------------------------------------------------------------- scratch copy

scratch=$(mktemp -d /tmp/jrx-mutate-XXXXXX)
tree=$scratch/tree
cleanup() {
  if [ "$keep" = 1 ]; then echo "scratch copy kept: $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
mkdir -p "$tree"
# the working tree as it is (tracked and untracked files, not ignored ones)
(cd "$root" && git ls-files -z -co --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
echo "scratch copy of $root: $tree"

build() {
  cmake --build "$tree/build" -j "$jobs" > "$scratch/build.log" 2>&1
}

# Runs the suite; prints the failed tests' names, or TIMEOUT.  Status 0
# when every test passed (or skipped).
run_tests() {
  local out=$scratch/ctest.log rc=0
  (cd "$tree/build" &&
    timeout --kill-after=30 "$budget" ctest -j "$jobs" --stop-on-failure \
      --output-on-failure > "$out" 2>&1) || rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo TIMEOUT; return 1; fi
  if [ $rc -ne 0 ]; then
    sed -n '/tests FAILED:/,$p' "$out" | sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\).*/\1/p' |
      tr "\n" " " | sed "s/ $//"
    return 1
  fi
}

cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DJRX_BUILD_BENCH=OFF -DJRX_BUILD_PEER=OFF > "$scratch/cmake.log" 2>&1
t0=$SECONDS
if ! build; then
  echo "the unmutated tree does not build:" >&2; tail -20 "$scratch/build.log" >&2; exit 2
fi
echo "built in $((SECONDS - t0)) s"
if [ "$baseline" = 1 ]; then
  t0=$SECONDS
  if ! failed=$(run_tests); then
    echo "baseline: the unmutated suite is not green ($failed); nothing to conclude" >&2
    tail -40 "$scratch/ctest.log" >&2
    exit 2
  fi
  echo "baseline: suite green in $((SECONDS - t0)) s"
fi

# ---------------------------------------------------------------- mutations

results=()
n=0
for i in "${todo[@]}"; do
  n=$((n + 1))
  label=$(printf '[%2d/%d] %-28s' "$n" "${#todo[@]}" "${names[$i]}")
  t0=$SECONDS
  if ! file=$(cd "$tree" && apply "$i"); then
    results+=("${names[$i]}|bad-pattern|$file|")
    echo "$label bad-pattern: $file"
    continue
  fi
  status= detail=
  if ! build; then
    status=no-build detail=$(grep -m1 'error' "$scratch/build.log" || true)
  elif failed=$(run_tests); then
    status=SURVIVED
  elif [ "$failed" = TIMEOUT ]; then
    status=timeout
  else
    status=killed detail=$failed
  fi
  cp "$scratch/original" "$tree/$file"
  results+=("${names[$i]}|$status|$file|$detail")
  echo "$label $status ${detail:+$detail }($file, $((SECONDS - t0)) s)"
done
build || { echo "the restored tree does not build" >&2; exit 2; }

echo
echo "mutation                     result     tests that failed / note"
for r in "${results[@]}"; do
  IFS='|' read -r name status file detail <<< "$r"
  printf '%-28s %-10s %s\n' "$name" "$status" "$detail"
done
killed=$(printf '%s\n' "${results[@]}" | grep -c '|killed|' || true)
survived=$(printf '%s\n' "${results[@]}" | grep -c '|SURVIVED|' || true)
echo "killed $killed, survived $survived, of ${#results[@]}"
