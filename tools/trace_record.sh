#!/usr/bin/env bash
# Re-records the checked-in allocation traces in bench/traces/ on this machine.
#
#   tools/trace_record.sh [MAX_OPS]     (default 80000 ops per trace, ~1 MB)
#
# 1. builds the LD_PRELOAD recorder //tools/tracer:libvatrace.so;
# 2. records python3 running tools/trace_workload.py with PYTHONMALLOC=malloc
#    (so every object goes through malloc, not pymalloc's private arenas);
# 3. records gcc -O2 -c of bench/report.c and keeps cc1's trace (the
#    compiler proper; the driver and the assembler allocate little);
# 4. trims each to its first MAX_OPS ops, renumbers ids densely in order of
#    first use, and writes the malloc-lab header (suggested heap size = peak
#    live requested bytes, number of ids, number of ops, weight 1).
# Traces differ from run to run (addresses, Python hash seeds are fixed with
# PYTHONHASHSEED=0, but library versions change); that is expected.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_OPS=${1:-80000}
OB=${VA_OUTPUT_BASE:-/root/.cache/bazel-ob-bench}
BAZEL=(bazel --output_base="$OB")
"${BAZEL[@]}" build //tools/tracer:libvatrace.so >&2
LIB="$("${BAZEL[@]}" info bazel-bin 2>/dev/null)/tools/tracer/libvatrace.so"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# trim RAW OUT: first MAX_OPS ops, dense ids, malloc-lab header.
trim() {
  awk -v max="$MAX_OPS" '
    NF == 0 || n >= max { next }
    $1 == "a" { id[$2] = ids++; sz[$2] = $3; live += $3 }
    $1 == "f" { if (!($2 in id)) next; live -= sz[$2] }
    $1 == "r" { if (!($2 in id)) next; live += $3 - sz[$2]; sz[$2] = $3 }
    { if (live > peak) peak = live
      line[n++] = ($1 == "f") ? $1 " " id[$2] : $1 " " id[$2] " " $3
      if ($1 == "f") delete id[$2] }
    END { print peak; print ids; print n; print 1
          for (i = 0; i < n; i++) print line[i] }' "$1" >"$2"
  echo "$2: $(sed -n 3p "$2") ops, $(sed -n 2p "$2") ids, $(wc -c <"$2") bytes" >&2
}

PY=$(python3 -c 'import sys; print(sys.executable)')
VATRACE_OUT="$TMP/py.%p.trace" PYTHONMALLOC=malloc PYTHONHASHSEED=0 LD_PRELOAD="$LIB" \
  "$PY" tools/trace_workload.py >&2
trim "$(ls -S "$TMP"/py.*.trace | head -1)" bench/traces/python3-stdlib.trace

VATRACE_OUT="$TMP/gcc.%p.trace" LD_PRELOAD="$LIB" gcc -O2 -I. -c bench/report.c -o "$TMP/report.o"
trim "$(ls -S "$TMP"/gcc.*.trace | head -1)" bench/traces/gcc-cc1.trace
