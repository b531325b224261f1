#!/bin/bash -eu
# Build every vedalloc fuzzer the OSS-Fuzz way: $CC $CFLAGS for the code,
# $LIB_FUZZING_ENGINE at link, into $OUT with <name>_seed_corpus.zip,
# <name>.dict and <name>.options. No Bazel: the source lists are read from
# the folders (every .c that is not a *_test.c), and the fuzzers are the
# registry's entries, listed by alloc/registry_names.c built plain first.
# Local check (tools/cfl_check.sh runs it at -O0 and -O1, as CI does):
#   CC=clang CFLAGS="-O0 -fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/cfl-out VEDALLOC_SRC=$PWD \
#   .clusterfuzzlite/build.sh
root=${VEDALLOC_SRC:-$SRC/vedalloc}
cd "$root"
mkdir -p "$OUT"
obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
flags="-std=c11 -D_GNU_SOURCE -I. -DVA_SANITIZED=1 -DVA_FUZZING=1"

# The allocator code (the drop-in's thread protocol included: the v2-dropin
# entry runs it) and the harness library, compiled once.
srcs=(alloc/common.c alloc/registry.c alloc/malloc/vm_heaps.c alloc/malloc/vm_instance.c
      fuzz/ops.c fuzz/interp.c fuzz/exec.c fuzz/shadow.c fuzz/harness.c)
for d in alloc/system alloc/firstfit alloc/slab alloc/harden; do
  for f in "$d"/*.c; do
    case "$f" in *_test.c) ;; *) srcs+=("$f") ;; esac
  done
done

# The fuzzer names, from the registry itself (plain build, no sanitizer).
alloc_srcs=()
for f in "${srcs[@]}"; do case "$f" in fuzz/*) ;; *) alloc_srcs+=("$f") ;; esac; done
$CC $flags -O0 -pthread alloc/registry_names.c "${alloc_srcs[@]}" -o "$obj/registry_names"
entries=$("$obj/registry_names")
# VA_CFL_ONLY="v2-slab v1-firstfit": build only these entries (quick checks).
if [ -n "${VA_CFL_ONLY:-}" ]; then
  for want in $VA_CFL_ONLY; do
    echo "$entries" | grep -qx -- "$want" || { echo "VA_CFL_ONLY: '$want' is not a registry entry" >&2; exit 2; }
  done
  entries=$VA_CFL_ONLY
fi

objs=()
for f in "${srcs[@]}"; do
  o=$obj/$(echo "$f" | tr / _).o
  $CC $CFLAGS $flags -c "$f" -o "$o"
  objs+=("$o")
done

# One fuzzer per registry entry: the same harness, the entry fixed at compile time.
for entry in $entries; do
  name=${entry//-/_}
  $CC $CFLAGS $flags "-DVA_FUZZ_ENTRY=\"$entry\"" -c fuzz/fuzz_alloc.c -o "$obj/h_$name.o"
  $CC $CFLAGS "$obj/h_$name.o" "${objs[@]}" $LIB_FUZZING_ENGINE -pthread -o "$OUT/$name"
  cp fuzz/alloc.dict "$OUT/$name.dict"
  printf '[libfuzzer]\nmax_len = 1200\ndict = %s.dict\n' "$name" >"$OUT/$name.options"
  python3 - "$OUT/${name}_seed_corpus.zip" fuzz/corpus/"$name" fuzz/crashes/"$name" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for d in sys.argv[2:]:
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                z.write(os.path.join(d, f), f)
PY
  echo "built $OUT/$name"
done
