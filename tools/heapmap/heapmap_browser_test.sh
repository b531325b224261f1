#!/usr/bin/env bash
# The page in a real browser: heapmap's HTML rendered by headless Chromium
# (Debian's `chromium`, installed by BAZELW_WITH=chromium ./bazelw), and the
# screenshot must not be blank: several colours, among them the live-block
# and free-hole colours of the map. Without Chromium the test says SKIP
# loudly and passes, unless VEDALLOC_REQUIRE_BROWSER=1 (CI) makes it fail.
# Args: heapmap binary, png_colours.py.
set -uo pipefail
HEAPMAP=$1
COLOURS=$2
OUT=${TEST_TMPDIR:-$(mktemp -d)}
LIVE='#e6550d' # hm_colour[HM_K_LIVE] in render.c
FREE='#6baed6' # hm_colour[HM_K_FREE]

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  echo "************************************************************************"
  echo "SKIP heapmap_browser_test: no chromium on this machine."
  echo "     Install it with: BAZELW_WITH=chromium ./bazelw test //tools/heapmap:all"
  echo "************************************************************************"
  [ "${VEDALLOC_REQUIRE_BROWSER:-0}" = 1 ] && { echo "FAIL: VEDALLOC_REQUIRE_BROWSER=1"; exit 1; }
  exit 0
fi

"$HEAPMAP" --alloc=v1-firstfit,v2-slab,glibc --workload=stress --ops=20000 --bins=200 \
  --out="$OUT/page.html" 2>"$OUT/log" >/dev/null || { cat "$OUT/log"; echo "FAIL: heapmap"; exit 1; }

# Chromium wants a writable home and profile; no GPU, no sandbox (as root).
mkdir -p "$OUT/home"
HOME="$OUT/home" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
  --disable-dev-shm-usage --no-first-run --user-data-dir="$OUT/home/profile" \
  --window-size=1300,900 --screenshot="$OUT/shot.png" "file://$OUT/page.html" \
  >"$OUT/chromium.log" 2>&1
if [ ! -s "$OUT/shot.png" ]; then
  tail -20 "$OUT/chromium.log"
  echo "FAIL: chromium wrote no screenshot"
  exit 1
fi
python3 "$COLOURS" "$OUT/shot.png" --min=8 --want="$LIVE" --want="$FREE" || {
  echo "FAIL: the screenshot is blank or lacks the map's colours"
  exit 1
}
echo "heapmap_browser_test: passed ($CHROMIUM)"
