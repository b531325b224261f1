#!/usr/bin/env bash
# fuzz_campaign.sh — run the libFuzzer campaigns of vedalloc.
#
#   tools/fuzz_campaign.sh [-t SECONDS] [-j JOBS] [FUZZER...]
#
# FUZZER is a harness name (a registry entry, v2-slab -> v2_slab; the list is
# printed by //alloc:registry_names -f); none means all of them. Each runs for SECONDS (default 600) with
# JOBS parallel workers (-fork=JOBS when JOBS > 1), one after the other, on a
# scratch copy of its corpus with the dictionary, printing progress lines.
# Afterwards:
#   - new coverage is merged back into fuzz/corpus/<name>/ (-merge=1 into a
#     fresh dir, so the checked-in corpus stays minimal);
#   - each crash is minimised (-minimize_crash=1), saved as
#     fuzz/crashes/<name>/<sha1> (which //fuzz:<name> then replays), and
#     printed as readable ops with a one-line replay command;
#   - a summary table: execs/s, coverage (cov/ft), corpus size, crashes.
# Uses its own Bazel output base (BAZEL_OUTPUT_BASE to override).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=600 jobs=1
while getopts "t:j:h" o; do
  case $o in
  t) secs=$OPTARG ;;
  j) jobs=$OPTARG ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
fuzzers=("$@")

. tools/fuzz_bins.sh
fuzz_bins_build /tmp/fuzz_campaign_build.log //fuzz:ops_print || exit 1
work=$(mktemp -d /tmp/fuzz_campaign.XXXXXX)
dict=$root/fuzz/alloc.dict
summary=()
total_crashes=0

# lastfield KEY FILE: the last "KEY: N" value libFuzzer printed.
lastfield() { grep -oE "$1:? +[0-9]+" "$2" | tail -1 | grep -oE '[0-9]+$'; }

for f in "${fuzzers[@]}"; do
  echo "== $f: ${secs}s, $jobs job(s), work dir $work/$f"
  mkdir -p "$work/$f/corpus" "$work/$f/art" "$root/fuzz/corpus/$f" "$root/fuzz/crashes/$f"
  cp "$root/fuzz/corpus/$f"/* "$work/$f/corpus/" 2>/dev/null
  before=$(ls "$root/fuzz/corpus/$f" | wc -l)
  fork=()
  [ "$jobs" -gt 1 ] && fork=(-fork="$jobs" -ignore_crashes=1)
  (cd "$work/$f" && "$bin/${f}_bin" -max_total_time="$secs" -max_len=1200 -dict="$dict" -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$work/$f/art/" "${fork[@]}" corpus \
    >"$work/$f/log" 2>&1) &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do # progress: the latest status line every 30 s
    sleep 30
    line=$(grep -E '^#[0-9]+' "$work/$f/log" | tail -1 | cut -c1-110)
    [ -n "$line" ] && echo "   $f: $line"
  done
  wait "$pid"
  execs=$(lastfield average_exec_per_sec "$work/$f/log")
  [ -z "$execs" ] && execs=$(grep -oE 'exec/s: [0-9]+' "$work/$f/log" | tail -1 | grep -oE '[0-9]+')
  cov=$(lastfield cov "$work/$f/log") ft=$(lastfield ft "$work/$f/log")

  # Merge: only inputs that add coverage, into a fresh minimal corpus.
  mkdir -p "$work/$f/merged"
  "$bin/${f}_bin" -merge=1 "$work/$f/merged" "$root/fuzz/corpus/$f" "$work/$f/corpus" \
    >"$work/$f/merge.log" 2>&1
  if [ "$(ls "$work/$f/merged" | wc -l)" -gt 0 ]; then
    rm -f "$root/fuzz/corpus/$f"/*
    cp "$work/$f/merged"/* "$root/fuzz/corpus/$f/"
  fi
  after=$(ls "$root/fuzz/corpus/$f" | wc -l)

  # Crashes: minimise, save by hash, print as ops.
  crashes=0
  for c in "$work/$f/art"/oom-* "$work/$f/art"/timeout-* "$work/$f/art"/slow-unit-*; do
    [ -e "$c" ] && echo "-- $f: $(basename "$c") kept in $work/$f/art (not a reproducer: RSS/time limits depend on the whole run)"
  done
  for c in "$work/$f/art"/crash-* "$work/$f/art"/leak-*; do
    [ -e "$c" ] || continue
    min=$work/$f/min-$(basename "$c")
    "$bin/${f}_bin" -minimize_crash=1 -runs=20000 -max_total_time=60 -exact_artifact_path="$min" "$c" \
      >"$work/$f/minimize.log" 2>&1
    [ -s "$min" ] || cp "$c" "$min"
    h=$(sha1sum "$min" | cut -c1-40)
    if [ -e "$root/fuzz/crashes/$f/$h" ]; then continue; fi
    cp "$min" "$root/fuzz/crashes/$f/$h"
    crashes=$((crashes + 1))
    echo "-- $f crash fuzz/crashes/$f/$h:"
    "$bin/${f}_bin" "$min" 2>&1 | grep -E '^op #|ERROR: AddressSanitizer|SUMMARY' | head -3
    "$bin/ops_print" "$min" | head -40
    echo "   replay: bazel run //fuzz:${f}_bin -- \$PWD/fuzz/crashes/$f/$h"
  done
  total_crashes=$((total_crashes + crashes))
  summary+=("$(printf '%-12s %8s %8s %8s %6s -> %-6s %7s' "$f" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$before" "$after" "$crashes")")
done

echo
echo "== summary (${secs}s per fuzzer, $jobs job(s); logs in $work)"
printf '%-12s %8s %8s %8s %16s %7s\n' fuzzer "execs/s" cov ft "corpus" crashes
for s in "${summary[@]}"; do echo "$s"; done
[ "$total_crashes" -eq 0 ]
