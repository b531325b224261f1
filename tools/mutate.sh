#!/usr/bin/env bash
# mutate.sh — mutation score of vedalloc's harnesses: plant one known bug at
# a time in alloc/ and see whether the fuzzers or the properties catch it,
# which invariant they name, how fast, and how short the shrunk program is.
#
#   tools/mutate.sh [-t SECONDS] [-g REV] [-F] [-n] [MUTANT_ID...]
#   tools/mutate.sh -l            list the catalogue
#   tools/mutate.sh -c            check that every mutant still applies (no build)
#
#   -t SECONDS  fuzzing budget per mutant (default 60), shared equally by the
#               mutant's fuzzers; a mutant counts as caught only within it
#   -g REV      copy the committed tree REV (git archive, read-only) instead
#               of the working tree, e.g. while someone is mid-edit
#   -F          fuzzers only (skip the props, which otherwise always run,
#               also after a fuzzer caught the mutant)
#   -n          skip the pristine sanity run (every harness must pass on the
#               unmutated tree before a catch means anything)
#   MUTANT_ID   run only these (default: the whole catalogue)
#
# What it does.
#   1. Copies the repository (no .git, no bazel-* links) to
#      $MUTATE_DIR/src (default /tmp/vedalloc-mutate/src): another workspace
#      path, so Bazel gives it its own output base; builds the pristine copy
#      (fuzzers, ops_print, the props binaries) once, with a disk cache, and
#      runs each harness once on it (corpus replay, default props).
#   2. For each mutant: replace the "from" snippet (which must occur exactly
#      once in its file, else DOES NOT APPLY) by "to", build the mutant's
#      targets incrementally (a failure is DOES NOT BUILD), then
#        - each listed fuzzer on a fresh copy of its corpus, with the
#          dictionary, -seed=1, for SECONDS / (number of fuzzers), stopping
#          at the first crash; a crash is minimised (-minimize_crash=1,
#          bounded) and its ops counted with //fuzz:ops_print;
#        - the default property catalogue (generic + specific binaries,
#          PROP_ENTRY=<props>), stopping at its first failure report, which
#          carries the shrunk op count;
#      then the file is put back. Caught means a harness reported within
#      the budget; "seconds" is the time the catching harness ran (a fuzzer
#      from its start, including the corpus replay; props from their start).
#   3. Prints a table (id, file, class, caught, by, invariant, seconds,
#      shrunk ops, what props said) and "N/M caught, max time T s".
#      Exit 0 only if every mutant was caught, each within SECONDS.
# Logs of every run: $MUTATE_DIR/logs/<id>/. Long work: about a minute per
# mutant, one CPU (one fuzzer at a time, bazel --jobs=2). Not part of CI.
#
# Catalogue format (tools/mutants.txt; parsed by tools/mutants.py).
# Blank lines and lines starting with '#' (outside snippets) are ignored.
# One entry per mutant:
#     [v1_split_threshold_grain]       id: letters, digits, '_'
#     class = off-by-one               aliasing, off-by-one, list, page-state,
#                                      accounting, placement, misuse,
#                                      remote-free, realloc-copy, calloc,
#                                      alignment, trim, not-given-back
#     file = alloc/firstfit/block.c    the one file the mutant changes
#     fuzz = v1_firstfit v1_bestfit    fuzzers to run, most likely first
#     props = v1-                      PROP_ENTRY filter for the default props
#                                      (v1-, v2-, v2-dropin, ...), or "no"
#     desc = one line: the bug, as an engineer would have written it
#     @@from                           the exact lines to find (verbatim,
#       if (size - need >= FF_MIN_BLOCK) {   indentation included; several
#     @@to                             lines allowed) ...
#       if (size - need >= FF_MIN_BLOCK - FF_GRAIN) {   ... and what replaces
#     @@end                            them (may be empty: a deleted line)
# A mutant found equivalent (no observable bug) is replaced, and says so in
# a comment where it stood.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cat=$here/mutants.txt
py() { python3 "$here/mutants.py" "$cat" "$@"; }

budget=60 rev="" props_on=1 sanity=1 mode=run
while getopts "t:g:Fnlch" o; do
  case $o in
  t) budget=$OPTARG ;;
  g) rev=$OPTARG ;;
  F) props_on=0 ;;
  n) sanity=0 ;;
  l) mode=list ;;
  c) mode=check ;;
  *) sed -n '2,26p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

case $mode in
list) py list; exit $? ;;
check) py check "$root" "$@"; exit $? ;;
esac

mapfile -t all < <(py ids) || exit 2
if [ $# -gt 0 ]; then ids=("$@"); else ids=("${all[@]}"); fi
for id in "${ids[@]}"; do
  printf '%s\n' "${all[@]}" | grep -qx "$id" || { echo "mutate: no mutant '$id' (tools/mutate.sh -l)" >&2; exit 2; }
done

work=${MUTATE_DIR:-/tmp/vedalloc-mutate}
src=$work/src
logs=$work/logs
results=$work/results.tsv
bazel=(env BAZELW_SKIP_INSTALL=1 ./bazelw)
bflags=(--jobs=2 --disk_cache="$work/disk_cache")
t_start=$(date +%s)
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- 1. the scratch copy, built once ----------------------------------------
echo "== copying ${rev:-the working tree} of $root to $src"
rm -rf "$src" "$logs" && mkdir -p "$src" "$logs" || exit 2
if [ -n "$rev" ]; then
  git -C "$root" archive "$rev" | tar -xf - -C "$src" || exit 2
else
  (cd "$root" && tar -cf - --exclude='./bazel-*' --exclude=./.git --exclude=./.mutate-orig .) |
    tar -xf - -C "$src" || exit 2
fi
cd "$src" || exit 2
: >"$results"

fuzzers_of() { py get "$1" fuzz; }
props_of() { [ "$props_on" = 1 ] && py get "$1" props || echo no; }
props_bins() { # PROP_ENTRY filter -> the test binaries that cover it
  case $1 in
  no) ;;
  v1*) echo "generic_v1_test specific_test" ;;
  *) echo "generic_v2_sys_test specific_test" ;;
  esac
}
targets_of() { # mutant id -> bazel targets
  local f p
  for f in $(fuzzers_of "$1"); do echo "//fuzz:${f}_bin"; done
  for p in $(props_bins "$(props_of "$1")"); do echo "//props:$p"; done
}

all_targets=(//fuzz:ops_print)
for id in "${ids[@]}"; do mapfile -t -O "${#all_targets[@]}" all_targets < <(targets_of "$id"); done
mapfile -t all_targets < <(printf '%s\n' "${all_targets[@]}" | sort -u)
echo "== building the pristine copy: ${all_targets[*]}"
if ! "${bazel[@]}" build "${bflags[@]}" "${all_targets[@]}" >"$work/build-pristine.log" 2>&1; then
  grep -E 'error|ERROR' "$work/build-pristine.log" | head -20
  echo "mutate: the pristine copy does not build (log: $work/build-pristine.log); try -g HEAD" >&2
  exit 2
fi
bin=$src/bazel-bin
dict=$src/fuzz/alloc.dict

# run_fuzzer NAME SECONDS DIR: 0 crashed (DIR/log), 1 survived
run_fuzzer() {
  local f=$1 secs=$2 d=$3
  rm -rf "$d" && mkdir -p "$d/corpus" "$d/art" || return 1
  cp "$src/fuzz/corpus/$f"/* "$d/corpus/" 2>/dev/null
  (cd "$d" && timeout -k 5 $((secs + 30)) "$bin/fuzz/${f}_bin" -seed=1 -max_total_time="$secs" \
    -timeout=10 -max_len=1200 -rss_limit_mb=3072 -dict="$dict" -artifact_prefix="$d/art/" \
    corpus >"$d/log" 2>&1)
  [ -n "$(ls "$d/art" 2>/dev/null)" ] || grep -qE '==== vedalloc fuzz failure|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$d/log"
}

# shrink_crash NAME DIR: ops of the minimised crash (or of the crash)
shrink_crash() {
  local f=$1 d=$2 crash small n
  crash=$(ls -S "$d/art"/crash-* "$d/art"/timeout-* "$d/art"/oom-* 2>/dev/null | tail -1)
  [ -z "$crash" ] && { echo "-"; return; }
  mkdir -p "$d/min"
  (cd "$d" && timeout -k 5 60 "$bin/fuzz/${f}_bin" -minimize_crash=1 -runs=20000 -max_total_time=30 \
    -timeout=10 -artifact_prefix="$d/min/" "$crash" >"$d/min.log" 2>&1)
  small=$(ls -S "$d/min"/minimized-from-* 2>/dev/null | tail -1)
  [ -z "$small" ] && small=$crash
  n=$("$bin/fuzz/ops_print" "$small" 2>/dev/null | head -1 | grep -oE '[0-9]+ ops' | grep -oE '[0-9]+')
  echo "${n:--}"
}

# run_props FILTER DIR: 0 when a property failed (DIR/props.log)
run_props() {
  local filter=$1 d=$2 b rc=1
  mkdir -p "$d"
  for b in $(props_bins "$filter"); do
    (cd "$src" && PROP_ENTRY=$filter PROP_OUT=$d timeout -k 5 300 "$bin/props/$b" 2>&1 | py stamp) >"$d/props-$b.log"
    if grep -qE '^ *[0-9.]+ FAIL ' "$d/props-$b.log"; then
      cp "$d/props-$b.log" "$d/props.log"
      return 0
    fi
  done
  return $rc
}

# ---- pristine sanity: every harness passes before any mutant --------------
if [ "$sanity" = 1 ]; then
  echo "== pristine sanity run (corpus replay of each fuzzer, default props)"
  fl=() pl=()
  for id in "${ids[@]}"; do
    fl+=($(fuzzers_of "$id")) pl+=("$(props_of "$id")")
  done
  for f in $(printf '%s\n' "${fl[@]}" | sort -u); do
    d=$logs/pristine/$f
    mkdir -p "$d/corpus"
    cp "$src/fuzz/corpus/$f"/* "$d/corpus/" 2>/dev/null
    if ! (cd "$d" && "$bin/fuzz/${f}_bin" -runs=0 -timeout=10 -rss_limit_mb=3072 corpus >"$d/log" 2>&1); then
      echo "mutate: $f fails on the pristine tree (log: $d/log)" >&2
      exit 2
    fi
    echo "   $f: corpus replays clean"
  done
  for filter in $(printf '%s\n' "${pl[@]}" | grep -vx no | sort -u); do
    if run_props "$filter" "$logs/pristine/props-$filter"; then
      echo "mutate: props fail on the pristine tree (PROP_ENTRY=$filter; $logs/pristine/props-$filter/)" >&2
      exit 2
    fi
    echo "   props PROP_ENTRY=$filter: pass"
  done
fi

# ---- 2. one mutant at a time ---------------------------------------------
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }
i=0
for id in "${ids[@]}"; do
  i=$((i + 1))
  file=$(py get "$id" file) class=$(py get "$id" class)
  d=$logs/$id && mkdir -p "$d"
  t0=$(now)
  printf '== [%d/%d] %s (%s, %s)\n' "$i" "${#ids[@]}" "$id" "$class" "$file"
  if ! py apply "$id" "$src" 2>"$d/apply.log"; then
    echo "   DOES NOT APPLY: $(cat "$d/apply.log")"
    record "$id" "$file" "$class" "DOES NOT APPLY" "-" "-" "-" "-" "-"
    continue
  fi
  mapfile -t tg < <(targets_of "$id")
  if ! "${bazel[@]}" build "${bflags[@]}" "${tg[@]}" >"$d/build.log" 2>&1; then
    echo "   DOES NOT BUILD (log: $d/build.log)"
    grep -m3 'error:' "$d/build.log" | sed 's/^/   /'
    record "$id" "$file" "$class" "DOES NOT BUILD" "-" "-" "-" "-" "-"
    py revert "$id" "$src"
    continue
  fi
  echo "   built in $(since "$t0") s"
  fz=($(fuzzers_of "$id"))
  by="-" inv="-" secs="-" ops="-" caught=no
  if [ ${#fz[@]} -gt 0 ]; then
    share=$((budget / ${#fz[@]}))
    [ "$share" -lt 1 ] && share=1
    for f in "${fz[@]}"; do
      tf=$(now)
      if run_fuzzer "$f" "$share" "$d/$f"; then
        secs=$(since "$tf")
        IFS=$'\t' read -r inv _ < <(py fuzzlog "$d/$f/log")
        echo "   $f: CAUGHT after $secs s: $inv; minimising..."
        ops=$(shrink_crash "$f" "$d/$f")
        by=$f caught=yes
        echo "   $f: minimised to $ops op(s)"
        break
      fi
      echo "   $f: survived ${share} s ($(grep -oE '^#[0-9]+' "$d/$f/log" | tail -1 | tr -d '#') runs)"
    done
  fi
  pr=$(props_of "$id") psay="-"
  if [ "$pr" != no ]; then
    tp=$(now)
    if run_props "$pr" "$d"; then
      IFS=$'\t' read -r pname pinv psecs pops < <(py propslog "$d/props.log")
      psay="$pname ($pinv)"
      echo "   props: CAUGHT by $pname after ${psecs} s: $pinv, shrunk to ${pops:-?} op(s)"
      if [ "$caught" = no ] && awk -v s="$psecs" -v b="$budget" 'BEGIN { exit !(s <= b) }'; then
        by="prop:$pname" inv=$pinv secs=$psecs ops=${pops:--} caught=yes
      fi
    else
      psay="no"
      echo "   props: passed ($(since "$tp") s)"
    fi
  fi
  record "$id" "$file" "$class" "$caught" "$by" "$inv" "$secs" "$ops" "$psay"
  py revert "$id" "$src"
  echo "   done in $(since "$t0") s: caught=$caught${by:+ by $by}"
done

# ---- 3. the table --------------------------------------------------------
echo
py table "$results" "$budget"
rc=$?
echo "wall time $(( $(date +%s) - t_start )) s; logs in $logs"
exit $rc
