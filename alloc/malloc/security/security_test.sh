#!/bin/bash
# vedalloc security suite under one drop-in: every case's outcome (run.sh)
# in every mode must be the one expected.txt names for it, and none may be
# a crash inside the allocator.
#   $1 core (v2, v1)  $2 misuse  $3 run.sh  $4 the library  $5 expected.txt
# expected.txt: "case<TAB>core-mode<TAB>outcome" lines, '#' comments; a
# mode is an environment for the run (default: none; hardened:
# VEDALLOC_HARDEN=1).
set -u
core=$1 misuse=$2 run=$3 lib=$(readlink -f "$4") expected=$5
. "$TEST_SRCDIR/$TEST_WORKSPACE/alloc/malloc/testing/preloadable.sh"
va_require_preloadable "$lib"
passes=0 fails=0
tmp=${TEST_TMPDIR:-$(mktemp -d)}

check_mode() { # $1 mode name, then the environment of the runs
  local mode=$1; shift
  env "$@" bash "$run" "$misuse" "$lib" >"$tmp/$mode.out"
  local c got want
  while IFS=$'\t' read -r c got; do
    want=$(awk -F'\t' -v c="$c" -v k="$core-$mode" '$1 == c && $2 == k { print $3 }' "$expected")
    if [[ $got == "CRASH in allocator" || -z $want || $got != "$want" ]]; then
      fails=$((fails + 1))
      echo "FAIL $core-$mode $c: got '$got', expected '${want:-(no line in expected.txt)}'"
    else
      passes=$((passes + 1))
    fi
  done <"$tmp/$mode.out"
  local n; n=$(wc -l <"$tmp/$mode.out")
  local caught; caught=$(grep -cvE $'\t(not detected|other: .*)$' "$tmp/$mode.out")
  echo "$core-$mode: $caught of $n misuses detected"
}

check_mode default
check_mode hardened VEDALLOC_HARDEN=1
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
