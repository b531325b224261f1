#!/usr/bin/env bash
# heapmap from the command line: every registry entry draws (on a small
# workload), a trace with --ops draws, the SVG is well-formed XML with one
# column per allocator and no external reference, and a bad flag or value
# exits 2 naming it; a long run prints its progress.
# Args: heapmap binary, registry_names binary, a trace file.
set -uo pipefail
HEAPMAP=$1
NAMES=$2
TRACE=$3
OUT=${TEST_TMPDIR:-$(mktemp -d)}
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# check_svg FILE N: parses as XML, N columns, only the SVG namespace as http.
check_svg() {
  python3 - "$1" "$2" <<'EOF' || fail "$1: $(cat "$1.why" 2>/dev/null)"
import re, sys, xml.etree.ElementTree as ET
path, want = sys.argv[1], int(sys.argv[2])
text = open(path, encoding="utf-8").read()
def die(why):
    open(path + ".why", "w").write(why)
    sys.exit(1)
try:
    root = ET.fromstring(text)
except ET.ParseError as e:
    die("not well-formed XML: %s" % e)
ns = "{http://www.w3.org/2000/svg}"
cols = [g for g in root.iter(ns + "g") if g.get("class") == "hm-column"]
if len(cols) != want:
    die("%d columns, want %d" % (len(cols), want))
refs = set(re.findall(r"https?://[^\"' )]+", text))
if refs != {"http://www.w3.org/2000/svg"}:
    die("external references: %s" % sorted(refs - {"http://www.w3.org/2000/svg"}))
EOF
}

# Every entry, one run each on bulk (2000 ops), plus all at once.
all=""
for name in $("$NAMES"); do
  all="$all${all:+,}$name"
  if ! "$HEAPMAP" --alloc="$name" --workload=bulk --bins=40 --out="$OUT/$name.svg" >"$OUT/log" 2>&1; then
    fail "$name: $(tail -3 "$OUT/log")"
    continue
  fi
  check_svg "$OUT/$name.svg" 1
  grep -q "data-alloc=\"$name\"" "$OUT/$name.svg" || fail "$name: no column named $name"
done
n=$(echo "$all" | tr ',' '\n' | wc -l)
"$HEAPMAP" --alloc="$all" --workload=reverse --bins=40 --out="$OUT/all.svg" >"$OUT/log" 2>&1 ||
  fail "all entries: $(tail -3 "$OUT/log")"
check_svg "$OUT/all.svg" "$n"

# glibc is the system entry; a trace cut at --ops; HTML wraps the same SVG.
if "$HEAPMAP" --alloc=v1-firstfit,v2-slab,glibc --trace="$TRACE" --ops=3000 --bins=100 \
    --out="$OUT/trace.html" >"$OUT/log" 2>&1; then
  grep -q '^<!DOCTYPE html>' "$OUT/trace.html" || fail "trace.html is no HTML page"
  sed -n '/^<svg/,/^<\/svg>/p' "$OUT/trace.html" >"$OUT/trace.svg"
  check_svg "$OUT/trace.svg" 3
  grep -q 'data-alloc="system"' "$OUT/trace.svg" || fail "glibc is not drawn as system"
  grep -q '3k ops replayed' "$OUT/trace.svg" || fail "--ops=3000 did not cut the trace"
else
  fail "trace: $(tail -3 "$OUT/log")"
fi

# A long run (200k ops) says how far it is on stderr, every 10%.
if "$HEAPMAP" --alloc=v2-slab --workload=stress --bins=50 --out="$OUT/stress.svg" \
    >"$OUT/stdout" 2>"$OUT/log"; then
  grep -q '^heapmap: v2-slab: 50% (' "$OUT/log" || fail "no progress lines: $(head -3 "$OUT/log")"
  grep -q '^v2-slab .*peak footprint' "$OUT/stdout" || fail "no summary line on stdout"
  check_svg "$OUT/stress.svg" 1
else
  fail "stress: $(tail -3 "$OUT/log")"
fi

# bad_flag WORD ARGS...: exit 2, one line on stderr naming WORD.
bad_flag() {
  local word=$1; shift
  "$HEAPMAP" "$@" >/dev/null 2>"$OUT/err"
  local rc=$?
  [ "$rc" = 2 ] || fail "'$*' exited $rc, want 2"
  [ "$(wc -l <"$OUT/err")" = 1 ] || fail "'$*' printed $(wc -l <"$OUT/err") lines"
  grep -qF -- "$word" "$OUT/err" || fail "'$*' did not name '$word': $(cat "$OUT/err")"
}
bad_flag "--frobnicate" --frobnicate --alloc=v2-slab --workload=bulk
bad_flag "'nosuch'" --alloc=v2-slab,nosuch --workload=bulk
bad_flag "'nosuch'" --alloc=v2-slab --workload=nosuch
bad_flag "multi-threaded" --alloc=v2-slab --workload=larson
bad_flag "'0'" --alloc=v2-slab --workload=bulk --bins=0
bad_flag "'12x'" --alloc=v2-slab --workload=bulk --ops=12x
bad_flag "x.png" --alloc=v2-slab --workload=bulk --out=x.png
bad_flag "--workload" --alloc=v2-slab
bad_flag "no/such.trace" --alloc=v2-slab --trace=no/such.trace
"$HEAPMAP" --list | grep -q '^  v2-slab' || fail "--list does not name v2-slab"

if [ "$fails" -ne 0 ]; then
  echo "$fails failed"
  exit 1
fi
echo "heapmap_cli_test: all passed"
