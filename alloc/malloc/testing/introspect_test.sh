#!/bin/bash
# vedalloc drop-in: the introspection calls and the run-time options of a
# preloaded library, as a program sees them.
#   $1 the library    $2 introspect_prog
set -u
lib=$(readlink -f "$1"); prog=$(readlink -f "$2")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0; passes=0
. "$TEST_SRCDIR/$TEST_WORKSPACE/alloc/malloc/testing/preloadable.sh"
va_require_preloadable "$lib"

# check NAME CONDITION-COMMAND...: one named assertion.
check() {
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "PASS $name"
  else fails=$((fails + 1)); echo "FAIL $name"; head -c 1500 "$tmp/err"; fi
}
run() { env "$@" LD_PRELOAD="$lib" "$prog" >"$tmp/out" 2>"$tmp/err"; }
has() { grep -q -- "$1" "$tmp/$2"; }
lines() { [[ $(grep -c -- "$1" "$tmp/$2") -eq $3 ]]; }

run VEDALLOC_SHOW_STATS=0
check "introspection reaches vedalloc" has '^ok$' out
check "malloc_stats on stderr" has '^in use bytes' err
check "no stats table by default" lines 'heap statistics at exit' err 0

run VEDALLOC_SHOW_STATS=1
check "SHOW_STATS=1: the table at exit" has 'heap statistics at exit' err
check "SHOW_STATS=1: totals" has '^  blocks: ' err

run VEDALLOC_VERBOSE=1 VEDALLOC_LARGE_CACHE=8M VEDALLOC_DECAY_MS=5
check "VERBOSE=1 lists every option" lines '^vedalloc: VEDALLOC_[A-Z_]* = ' err 11
check "a set option is shown as set" has 'VEDALLOC_LARGE_CACHE = 8388608 (from the environment' err
check "and in ms" has 'VEDALLOC_DECAY_MS = 5 ms (from the environment' err

for bad in VEDALLOC_LARGE_CACHE=lots VEDALLOC_PAGE_RESERVE=-1 VEDALLOC_DECAY_MS=1.5 \
           VEDALLOC_SHOW_STATS=yes VEDALLOC_HARDEN=canaries VEDALLOC_LARGE_CACHE=5X; do
  run "$bad" VEDALLOC_VERBOSE=1
  var=${bad%%=*}
  check "$bad is named in one line" lines "^vedalloc: $bad: expected .*; keeping the default$" err 1
  check "$bad keeps the default" has "^vedalloc: $var = .* (default" err
  check "$bad: the program still runs" has '^ok$' out
done

for mode in 1 trailer canary guard zero quarantine zero-size; do
  run VEDALLOC_HARDEN=$mode
  check "introspection and calloc under VEDALLOC_HARDEN=$mode" has '^ok$' out
done

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
