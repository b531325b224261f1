#!/usr/bin/env bash
# `bazel run //fuzz:<name>_run -- [libFuzzer flags]`: a campaign on the
# checked-in corpus (fuzz/corpus/<name>, grows in place) with the dictionary;
# crash reproducers go to fuzz/crashes/<name>/ where the regression test
# replays them. For merging and minimising use tools/fuzz_campaign.sh.
set -euo pipefail
bin=$PWD/$1 name=$2
shift 2
dict=$PWD/fuzz/alloc.dict
cd "${BUILD_WORKSPACE_DIRECTORY:?run me with bazel run}"
mkdir -p "fuzz/corpus/$name" "fuzz/crashes/$name"
echo "campaign: $name, corpus fuzz/corpus/$name, crashes -> fuzz/crashes/$name/"
exec "$bin" -dict="$dict" -max_len=1200 -artifact_prefix="fuzz/crashes/$name/" \
  "$@" "fuzz/corpus/$name"
