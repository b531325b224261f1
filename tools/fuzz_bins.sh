# fuzz_bins.sh — sourced by the fuzz tools (fuzz_campaign.sh, fuzz_speed.sh):
# build the fuzzers they run, in one output base of their own.
#   fuzz_bins_build LOG EXTRA_TARGET...   with the array `fuzzers` set (empty:
#     every registry entry, //alloc:registry_names -f), builds
#     //fuzz:<name>_bin for each plus the extra targets; sets `fuzzers` and
#     `bin` (the folder of the binaries). Returns non-zero, with the build's
#     tail printed, when a build fails.
# BAZEL_OUTPUT_BASE overrides the output base, BAZEL the bazel command.
fuzz_bins_ob=${BAZEL_OUTPUT_BASE:-$HOME/.cache/bazel-ob-fuzz-campaign}
fuzz_bins_bazel=${BAZEL:-./bazelw}

fuzz_bins_build() {
  local log=$1 out
  shift
  local b=("$fuzz_bins_bazel" --output_base="$fuzz_bins_ob")
  if [ ${#fuzzers[@]} -eq 0 ]; then
    "${b[@]}" build //alloc:registry_names >"$log" 2>&1 || { tail -30 "$log"; return 1; }
    out=$("${b[@]}" info bazel-bin 2>/dev/null)
    mapfile -t fuzzers < <("$out/alloc/registry_names" -f)
  fi
  local targets=() f
  for f in "${fuzzers[@]}"; do targets+=("//fuzz:${f}_bin"); done
  echo "== building ${targets[*]} $*"
  "${b[@]}" build "${targets[@]}" "$@" >"$log" 2>&1 || { tail -30 "$log"; return 1; }
  bin=$("${b[@]}" info bazel-bin 2>/dev/null)/fuzz
}
