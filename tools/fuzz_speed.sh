#!/usr/bin/env bash
# fuzz_speed.sh — execs/s of each harness, as libFuzzer counts them
# (-print_final_stats=1), from a fresh copy of its corpus with the
# dictionary and a fixed seed: the figure the issues' throughput targets use.
#
#   tools/fuzz_speed.sh [-t SECONDS] [-r ROUNDS] [FUZZER...]
#
# FUZZER: a harness name (//alloc:registry_names -f); none means all. Each
# runs ROUNDS times (default 3) for SECONDS (default 20); the table gives
# the best and the median round, and the CPU seconds per round, so a loaded
# machine shows up (compare runs only on a quiet one).
# Builds in the campaign tool's output base (BAZEL_OUTPUT_BASE to override).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=20 rounds=3
while getopts "t:r:h" o; do
  case $o in
  t) secs=$OPTARG ;;
  r) rounds=$OPTARG ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
fuzzers=("$@")
log=$(mktemp)
work=$(mktemp -d /tmp/fuzz_speed.XXXXXX)
trap 'rm -rf "$log" "$work"' EXIT
. tools/fuzz_bins.sh
fuzz_bins_build "$log" || exit 1
printf '%-12s %10s %10s %10s %8s\n' fuzzer "best/s" "median/s" "cpu s" corpus
for f in "${fuzzers[@]}"; do
  rates=() cpus=()
  for ((i = 0; i < rounds; i++)); do
    rm -rf "$work/c" && mkdir -p "$work/c" && cp fuzz/corpus/"$f"/* "$work/c/" 2>/dev/null
    /usr/bin/time -f "%U %S" -o "$work/time" "$bin/${f}_bin" -seed=1 -max_total_time="$secs" \
      -max_len=1200 -dict=fuzz/alloc.dict -print_final_stats=1 "$work/c" >"$work/log" 2>&1
    rates+=("$(grep -oE 'average_exec_per_sec: +[0-9]+' "$work/log" | grep -oE '[0-9]+$')")
    cpus+=("$(awk '{printf "%.1f", $1 + $2}' "$work/time")")
    echo "   $f round $((i + 1)): ${rates[-1]:-?} execs/s, ${cpus[-1]} cpu s" >&2
  done
  sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
  best=$(echo "$sorted" | tail -1) median=$(echo "$sorted" | sed -n "$(((rounds + 1) / 2))p")
  printf '%-12s %10s %10s %10s %8s\n' "$f" "$best" "$median" "${cpus[*]}" "$(ls fuzz/corpus/"$f" | wc -l)"
done
