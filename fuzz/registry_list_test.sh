#!/usr/bin/env bash
# The fuzzers fuzz/BUILD declares must be the registry's entries, in order.
# Usage: registry_list_test.sh REGISTRY_NAMES_BIN ENTRY...
set -euo pipefail
bin=$1
shift
want=$("$bin")
got=$(printf '%s\n' "$@")
if [ "$want" != "$got" ]; then
  echo "FAIL: fuzz/BUILD's REGISTRY_ENTRIES differ from alloc/registry.c:"
  diff <(echo "$want") <(echo "$got") | sed 's/^/  /'
  exit 1
fi
echo "ok: $(echo "$want" | wc -l) registry entries, each with a fuzzer"
