#!/bin/bash
# `bazel run //alloc/malloc/security:table`: the security suite under glibc,
# jemalloc, mimalloc, tcmalloc and both drop-ins, default and hardened,
# as a markdown table (one column per allocator and mode, one row per case,
# totals last): what the README's "Security" section shows.
#   $1 misuse  $2 run.sh  $3 libvedalloc.so  $4 libvedalloc_v1.so
set -u
misuse=$(readlink -f "$1") run=$(readlink -f "$2")
v2=$(readlink -f "$3") v1=$(readlink -f "$4")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ref() { ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF; exit }'; }
cols=() names=()
add() { # name, library ('' for glibc), environment...
  local name=$1 lib=$2; shift 2
  if [[ -n $lib && ! -e $lib ]]; then echo "skipped $name: $lib not installed" >&2; return; fi
  echo "running $name ..." >&2
  env "$@" bash "$run" "$misuse" $lib >"$tmp/${#cols[@]}"
  cols+=("$tmp/${#cols[@]}") names+=("$name")
}
add glibc ""
add jemalloc "$(ref libjemalloc.so.2)"
add mimalloc "$(ref libmimalloc.so.2)"
add tcmalloc "$(ref libtcmalloc_minimal.so.4)"
add "vedalloc V2" "$v2"
add "vedalloc V1" "$v1"
add "V2 hardened" "$v2" VEDALLOC_HARDEN=1
add "V1 hardened" "$v1" VEDALLOC_HARDEN=1
short() { # an outcome in a few words
  case $1 in
    "report: "*heap\ corruption*) echo "corruption" ;;
    "report: "*double\ free*) echo "double free" ;;
    "report: "*invalid\ pointer*) echo "invalid pointer" ;;
    "report: "*) echo "reported" ;;
    "abort: "*) echo "abort" ;;
    "CRASH in allocator") echo "**crash**" ;;
    "not detected") echo "-" ;;
    *) echo "$1" ;;
  esac
}
detected() { grep -vE $'\t(not detected|CRASH in allocator|other: .*)$' "$1"; }
# Per kind of misuse: detected of total, per allocator and mode.
echo "| misuse | cases |$(printf ' %s |' "${names[@]}")"
printf '|---|---|'; for _ in "${names[@]}"; do printf -- '---|'; done; echo
for kind in overflow underflow double_free invalid uaf zero_size uninit reuse; do
  total=$(grep -c "^${kind}" "${cols[0]}")
  printf '| %s | %s |' "$kind" "$total"
  for f in "${cols[@]}"; do printf ' %s |' "$(detected "$f" | grep -c "^${kind}")"; done
  echo
done
printf '| **all** | %s |' "$(wc -l <"${cols[0]}")"
for f in "${cols[@]}"; do printf ' **%s** |' "$(detected "$f" | wc -l)"; done
echo
printf '| crashes inside the allocator | |'
for f in "${cols[@]}"; do printf ' %s |' "$(grep -c $'\tCRASH in allocator$' "$f")"; done
echo
echo
printf '| case |'; printf ' %s |' "${names[@]}"; echo
printf '|---|'; for _ in "${names[@]}"; do printf -- '---|'; done; echo
while IFS=$'\t' read -r c _; do
  printf '| %s |' "$c"
  for f in "${cols[@]}"; do printf ' %s |' "$(short "$(awk -F'\t' -v c="$c" '$1 == c { print $2 }' "$f")")"; done
  echo
done <"${cols[0]}"
