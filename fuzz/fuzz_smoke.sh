#!/usr/bin/env bash
# Bounded smoke fuzz: fixed seed, a few seconds or N runs, from a writable
# copy of the corpus. Usage: fuzz_smoke.sh BIN DICT SECONDS RUNS CORPUS_FILES...
set -euo pipefail
bin=$1 dict=$2 secs=$3 runs=$4
shift 4
work=${TEST_TMPDIR:-$(mktemp -d)}/corpus
out=${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}}
mkdir -p "$work"
for f in "$@"; do cp "$f" "$work/"; done
echo "smoke: $bin, ${secs}s or $runs runs, $(ls "$work" | wc -l) seeds"
"$bin" -seed=1 -max_total_time="$secs" -runs="$runs" -dict="$dict" \
  -max_len=1200 -print_final_stats=1 -artifact_prefix="$out/" "$work" 2>&1 |
  grep -v "failed to allocate" | tail -40
rc=${PIPESTATUS[0]}
echo "smoke: exit $rc"
exit "$rc"
