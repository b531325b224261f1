#!/bin/bash
# vedalloc security suite: every case of `misuse` under one allocator,
# each in a fresh process, classified into one outcome line:
#   report: <message>      the allocator's message (pointers as P), SIGABRT
#   abort: <message>       another allocator's abort (the references)
#   fault                  the misuse itself faulted (guard page, unmapped)
#   CRASH in allocator     a fault inside the allocator: never acceptable
#   detected / not detected  the misuse went through; a property case says
#   other: exit N          anything else
# Usage: run.sh MISUSE [LIB]   (no LIB: the process's own malloc, glibc)
# Prints "case<TAB>outcome" lines; VEDALLOC_* variables pass through.
set -u
misuse=$(readlink -f "$1")
lib=${2:+$(readlink -f "$2")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

outcome() { # $1 rc, $2 stdout, $3 stderr
  local rc=$1 out=$2 err=$3 line
  line=$(grep -m1 '^vedalloc: ' "$err" | sed -E 's/0x[0-9a-f]+/P/g')
  if grep -q '^fault in allocator' "$out"; then echo "CRASH in allocator"
  elif grep -q '^fault in program' "$out"; then echo "fault"
  elif [[ $rc -eq 134 && -n $line ]]; then echo "report: ${line#vedalloc: }"
  elif [[ $rc -eq 134 ]]; then
    echo "abort: $(grep -m1 . "$err" | sed -E 's/0x[0-9a-f]+/P/g' | cut -c1-60)"
  elif [[ $rc -eq 0 ]] && grep -q '^detected' "$out"; then echo "detected"
  elif [[ $rc -eq 0 ]] && grep -q '^not detected' "$out"; then echo "not detected"
  else echo "other: exit $rc"
  fi
}

for c in $("$misuse" --list); do
  { # (the braces keep bash's own "Aborted" notice out of the output)
    if [[ -n $lib ]]; then
      LD_PRELOAD="$lib" "$misuse" "$c" >"$tmp/out" 2>"$tmp/err"
    else
      "$misuse" "$c" >"$tmp/out" 2>"$tmp/err"
    fi
    rc=$?
  } 2>/dev/null
  printf '%s\t%s\n' "$c" "$(outcome "$rc" "$tmp/out" "$tmp/err")"
done
