#!/bin/bash
# vedalloc drop-in: real programs under LD_PRELOAD, each output compared
# byte for byte with the same run under glibc.
#   $1 the library (libvedalloc.so or libvedalloc_v1.so)
#   $2 workload.py     $3 double_free_prog
# Programs: python3 running workload.py; sort on a generated 40 MB file;
# gcc compiling a C file (when gcc is present); a double free must abort
# with vedalloc's message.
set -u
lib=$(readlink -f "$1"); script=$(readlink -f "$2"); dfree=$(readlink -f "$3")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0; passes=0

. "$TEST_SRCDIR/$TEST_WORKSPACE/alloc/malloc/testing/preloadable.sh"
va_require_preloadable "$lib"

# run NAME CMD...: runs CMD under glibc and under the library, compares.
run() {
  local name=$1; shift
  local t0 t1 t2
  t0=$(date +%s.%N)
  "$@" >"$tmp/$name.glibc" 2>"$tmp/$name.glibc.err"; local rc_g=$?
  t1=$(date +%s.%N)
  LD_PRELOAD="$lib" "$@" >"$tmp/$name.ved" 2>"$tmp/$name.ved.err"; local rc_v=$?
  t2=$(date +%s.%N)
  if [[ $rc_g -eq $rc_v ]] && cmp -s "$tmp/$name.glibc" "$tmp/$name.ved"; then
    passes=$((passes + 1))
    printf 'PASS %-8s glibc %.2fs  vedalloc %.2fs  (%s bytes of output)\n' "$name" \
      "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(wc -c <"$tmp/$name.ved")"
  else
    fails=$((fails + 1))
    echo "FAIL $name: exit $rc_g (glibc) vs $rc_v (vedalloc); output diff:"
    diff "$tmp/$name.glibc" "$tmp/$name.ved" | head -20
    head -c 2000 "$tmp/$name.ved.err"
  fi
}

python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)
run python env PYTHONHASHSEED=0 "$python" "$script"

# sort: ~40 MB of generated lines, numeric and text keys.
awk 'BEGIN { srand(7); for (i = 0; i < 1200000; i++)
       printf "%d %s%x line-%d\n", int(rand() * 1e6), "k", int(rand() * 1e9), i }' \
  >"$tmp/sort.in"
run sort env LC_ALL=C sort -k2,2 -k1,1n "$tmp/sort.in"
run sortu env LC_ALL=C sort -u -n "$tmp/sort.in"

if command -v gcc >/dev/null; then
  cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *l, *r; int key; char name[24]; };
static struct node *insert(struct node *t, int k) {
  if (!t) { t = calloc(1, sizeof *t); t->key = k; snprintf(t->name, sizeof t->name, "n%d", k); return t; }
  if (k < t->key) t->l = insert(t->l, k); else t->r = insert(t->r, k);
  return t;
}
static long walk(const struct node *t) { return t ? walk(t->l) + t->key + (long)strlen(t->name) + walk(t->r) : 0; }
int main(void) { struct node *t = 0; for (int i = 0; i < 100000; i++) t = insert(t, (i * 7919) % 100003); printf("%ld\n", walk(t)); return 0; }
C
  run gcc gcc -O2 -Wall -S -o - "$tmp/prog.c"
else
  echo "gcc not found: gcc case skipped"
fi

# A double free through the real free(): the message and an abort.
LD_PRELOAD="$lib" "$dfree" >"$tmp/df.out" 2>"$tmp/df.err"; rc=$?
if [[ $rc -eq 134 ]] && grep -q '^vedalloc: free(): double free of 0x' "$tmp/df.err"; then
  passes=$((passes + 1)); echo "PASS double free: $(head -1 "$tmp/df.err") (exit $rc)"
else
  fails=$((fails + 1)); echo "FAIL double free: exit $rc, stderr: $(head -c 300 "$tmp/df.err")"
fi

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
