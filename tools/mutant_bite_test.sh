#!/usr/bin/env bash
# mutant_bite_test.sh — a few mutants of tools/mutants.txt, each caught by a
# fuzzer within a bounded number of runs, in `bazel test`. No Bazel inside
# Bazel: the mutated tree is built the OSS-Fuzz way (.clusterfuzzlite/
# build.sh, one fuzzer, -O1), then run from the seed corpus with a fixed seed.
#   mutant_bite_test.sh RUNS ID:FUZZER:INVARIANT_REGEX...
# Run from the runfiles root of //tools:mutant_bite_test (the source tree).
set -uo pipefail
runs=$1
shift
src=$PWD
work=${TEST_TMPDIR:-$(mktemp -d)}/mutant_bite
fail=0
for spec in "$@"; do
  IFS=: read -r id fuzzer want <<<"$spec"
  tree=$work/$id/src
  rm -rf "$work/$id" && mkdir -p "$tree"
  cp -rL "$src"/alloc "$src"/fuzz "$src"/.clusterfuzzlite "$tree"/ 2>/dev/null
  if ! python3 "$src"/tools/mutants.py "$src"/tools/mutants.txt apply "$id" "$tree"; then
    echo "FAIL: $id does not apply to this tree"; fail=1; continue
  fi
  entry=${fuzzer//_/-}
  if ! CC=${CC:-clang} CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all" \
      LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$work/$id/out VEDALLOC_SRC=$tree VA_CFL_ONLY=$entry \
      "$tree"/.clusterfuzzlite/build.sh >"$work/$id/build.log" 2>&1; then
    echo "FAIL: $id does not build:"; tail -5 "$work/$id/build.log"; fail=1; continue
  fi
  mkdir -p "$work/$id/corpus"
  cp "$src"/fuzz/corpus/"$fuzzer"/* "$work/$id/corpus/"
  start=$(date +%s.%N)
  "$work/$id/out/$fuzzer" -seed=1 -runs="$runs" -max_len=1200 -dict="$src/fuzz/alloc.dict" \
    -artifact_prefix="$work/$id/" "$work/$id/corpus" >"$work/$id/fuzz.log" 2>&1
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  named=$(grep -oE "$want" "$work/$id/fuzz.log" | head -1)
  if [ "$rc" -eq 0 ]; then
    echo "FAIL: $id survived $runs runs of $fuzzer"; fail=1
  elif [ -z "$named" ]; then
    echo "FAIL: $id crashed $fuzzer but the report does not name /$want/:"
    grep -E "ERROR|vedalloc|op #" "$work/$id/fuzz.log" | head -5; fail=1
  else
    printf 'ok: %-28s caught by %-12s in %5.1f s, naming %s\n' "$id" "$fuzzer" "$secs" "$named"
  fi
done
exit $fail
