/* vedalloc heapmap — the address axis.
 *
 * An instance's memory is a few disjoint mappings far apart (V1: one heap;
 * V2: 4 MiB segments and large mappings; the process malloc: the brk heap
 * and mmap'd chunks). Drawn to scale, everything but the largest would be
 * a hairline, so the axis is the used ranges end to end:
 *   1. every band of every bin, sorted by lo, merged where they overlap;
 *   2. ranges closer than a join distance are one range (the space between
 *      is drawn to scale, unused): 64 KiB, doubled until at most
 *      HM_MAX_RANGES remain (a gap narrower than that is no mapping
 *      boundary, only memory the walk does not report, like headers);
 *   3. each range is drawn in proportion to its bytes but never below
 *      HM_MIN_SHARE of the axis, so a lone page stays visible; between two
 *      ranges a gap mark of HM_GAP_SHARE.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/heapmap/heapmap.h"

#define HM_JOIN_START (64u << 10) /* first join distance, bytes */
#define HM_MIN_SHARE 0.02          /* least share of the axis a range gets */
#define HM_GAP_SHARE 0.015         /* share of the axis a gap mark gets */

static int hm_range_cmp(const void *x, const void *y) {
  const hm_band_t *a = x, *b = y;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Merges sorted intervals closer than join, in place; returns the count. */
static size_t hm_layout_join(hm_band_t *b, size_t n, uint64_t join) {
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (b[i].lo <= b[out].hi + join) {
      if (b[i].hi > b[out].hi) b[out].hi = b[i].hi;
    } else {
      b[++out] = b[i];
    }
  }
  return n ? out + 1 : 0;
}

/* Heights in proportion to bytes, each at least HM_MIN_SHARE of the room. */
static void hm_layout_place(hm_layout_t *l) {
  double room = 1.0 - HM_GAP_SHARE * (double)(l->n - 1), total = 0, sum = 0;
  for (size_t i = 0; i < l->n; i++) total += (double)(l->r[i].hi - l->r[i].lo);
  double share[HM_MAX_RANGES];
  for (size_t i = 0; i < l->n; i++) {
    share[i] = (double)(l->r[i].hi - l->r[i].lo) / total;
    if (share[i] < HM_MIN_SHARE) share[i] = HM_MIN_SHARE;
    sum += share[i];
  }
  double y = 0;
  for (size_t i = 0; i < l->n; i++) {
    l->r[i].y0 = y;
    y += room * share[i] / sum;
    l->r[i].y1 = y;
    y += HM_GAP_SHARE;
  }
}

void hm_layout_build(hm_layout_t *l, const hm_band_t *b, size_t n) {
  memset(l, 0, sizeof *l);
  if (n == 0) return;
  hm_buf_t tmp = {0};
  hm_band_t *t = hm_buf_push(&tmp, b, n * sizeof *b);
  qsort(t, n, sizeof *t, hm_range_cmp);
  uint64_t join = HM_JOIN_START;
  n = hm_layout_join(t, n, join);
  while (n > HM_MAX_RANGES) n = hm_layout_join(t, n, join *= 2);
  for (size_t i = 0; i < n; i++) l->r[i] = (hm_range_t){.lo = t[i].lo, .hi = t[i].hi};
  l->n = n;
  hm_buf_free(&tmp);
  hm_layout_place(l);
}

void hm_layout_column(hm_layout_t *l, const hm_column_t *c) {
  hm_layout_build(l, (const hm_band_t *)c->bands.p, c->bands.len / sizeof(hm_band_t));
}

double hm_layout_y(const hm_layout_t *l, uint64_t a) {
  if (l->n == 0) return 0;
  if (a <= l->r[0].lo) return 0;
  for (size_t i = 0; i < l->n; i++) {
    const hm_range_t *r = &l->r[i];
    if (a < r->lo) return (l->r[i - 1].y1 + r->y0) / 2; /* in the gap before r */
    if (a <= r->hi) return r->y0 + (r->y1 - r->y0) * (double)(a - r->lo) / (double)(r->hi - r->lo);
  }
  return l->r[l->n - 1].y1;
}
