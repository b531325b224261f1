#!/usr/bin/env bash
# cfl_check.sh — build the fuzzers with .clusterfuzzlite/build.sh (no Bazel)
# at each optimisation level and run each one briefly over its corpus, its
# saved crashes and the empty input. Fuzzers must behave the same at -O0 as
# at OSS-Fuzz's -O1: an exemption from ASan that holds only once the
# optimiser inlines a memcpy is no exemption.
#   tools/cfl_check.sh [-r RUNS] [LEVEL...]     (default: -r 2000 O0 O1)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=2000
while getopts "r:h" o; do
  case $o in
  r) runs=$OPTARG ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
levels=("$@")
[ ${#levels[@]} -eq 0 ] && levels=(O0 O1)
work=$(mktemp -d /tmp/cfl_check.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
for lvl in "${levels[@]}"; do
  out=$work/$lvl
  echo "== -$lvl: building into $out"
  if ! CC=${CC:-clang} CFLAGS="-$lvl -g -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$out VEDALLOC_SRC=$PWD \
    .clusterfuzzlite/build.sh >"$work/build-$lvl.log" 2>&1; then
    tail -20 "$work/build-$lvl.log"; fail=1; continue
  fi
  for fz in "$out"/*.options; do
    name=$(basename "$fz" .options)
    mkdir -p "$work/c/$lvl/$name"
    : >"$work/c/$lvl/$name/empty"
    cp fuzz/corpus/"$name"/* fuzz/crashes/"$name"/* "$work/c/$lvl/$name/" 2>/dev/null
    if "$out/$name" -seed=1 -runs="$runs" -max_len=1200 -dict="$out/$name.dict" \
      "$work/c/$lvl/$name" >"$work/$lvl-$name.log" 2>&1; then
      echo "   -$lvl $name: ok ($(grep -oE 'exec/s: [0-9]+' "$work/$lvl-$name.log" | tail -1))"
    else
      echo "   -$lvl $name: FAILED"; grep -E 'ERROR|SUMMARY|^op #|vedalloc' "$work/$lvl-$name.log" | head -8
      fail=1
    fi
  done
done
exit $fail
