#!/usr/bin/env bash
# Regenerate the seed corpus: compile every text program fuzz/seeds/*.txt to
# the binary op format, one file per seed named by its content hash, into
# fuzz/corpus/<fuzzer>/ for every fuzzer (existing files are kept).
# Usage: tools/fuzz_seeds.sh [FUZZER...]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzzers=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ${#fuzzers[@]} -eq 0 ]; then # every registry entry (alloc/registry_names.c)
  mapfile -t fuzzers < <(./bazelw run //alloc:registry_names -- -f 2>/dev/null)
fi
${CC:-clang} -std=c11 -D_GNU_SOURCE -O1 -I. fuzz/ops_print.c fuzz/ops.c -o "$tmp/ops_print"
for seed in fuzz/seeds/*.txt; do
  "$tmp/ops_print" -c "$seed" -o "$tmp/bin"
  hash=$(sha1sum "$tmp/bin" | cut -c1-40)
  for f in "${fuzzers[@]}"; do
    mkdir -p "fuzz/corpus/$f"
    cp "$tmp/bin" "fuzz/corpus/$f/$hash"
  done
  echo "$seed -> $hash"
done
