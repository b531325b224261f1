#!/usr/bin/env bash
# Proof that the harness bites: the faulty allocator with VA_FAULT=$fault must
# crash the fuzzer within RUNS runs (fixed seed) and the report must name the
# expected invariant. Usage: fuzz_bite.sh BIN FAULT REGEX RUNS SECONDS DICT|- [SEEDS...]
set -uo pipefail
bin=$1 fault=$2 expect=$3 runs=$4 secs=$5 dict=$6
shift 6
extra=()
[ "$dict" != - ] && extra+=(-dict="$dict")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp/corpus" "$tmp/art"
for f in "$@"; do cp "$f" "$tmp/corpus/"; done
log=$tmp/log
VA_FAULT=$fault "$bin" -seed=1 -runs="$runs" -max_total_time="$secs" -max_len=600 \
  -len_control=0 -print_final_stats=1 "${extra[@]}" -artifact_prefix="$tmp/art/" "$tmp/corpus" >"$log" 2>&1
rc=$?
grep -v "failed to allocate" "$log" | grep -A30 "vedalloc fuzz failure\|ERROR: AddressSanitizer" | head -40
fails=0
if [ "$fault" = none ]; then # the control: the wrapper without a fault is clean
  if [ "$rc" -ne 0 ]; then echo "FAIL: the fault-free wrapper crashed"; tail -30 "$log"; fails=1
  else echo "ok: no fault planted, no crash in $runs runs"; fi
elif [ "$rc" -eq 0 ]; then
  echo "FAIL: fault '$fault' was not found in $runs runs / ${secs}s"; fails=1
elif ! grep -Eq "$expect" "$log"; then
  echo "FAIL: fault '$fault' crashed, but the report does not name /$expect/"; fails=1
  tail -20 "$log"
else
  found=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  echo "ok: fault '$fault' caught after ${found:-?} runs (bound $runs), report names /$expect/"
fi
echo "$((1 - fails)) passed, $fails failed"
exit "$fails"
