/* vedalloc V1 — the heap checker, statistics and introspection.
 *
 * ff_check walks every block in address order, segment by segment, and
 * reports the FIRST violated invariant of types.h by its stable name and the
 * block's address. It trusts nothing it has not verified: a header is read
 * only after its address was found inside the segment being walked, and
 * addresses strictly increase, so even a corrupted list cannot loop. O(heap).
 */
#include <stdio.h>
#include <stdlib.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/firstfit/internal.h"

VA_CHECKER_BEGIN

/* What a walk has seen so far. */
typedef struct ff_walk_state {
  size_t si;                 /* segment being walked */
  const ff_block_t *prev;    /* previous block (NULL at the head) */
  bool prev_free;            /* previous block was free */
  bool rover_seen;           /* the rover was among the blocks */
  bool low_seen;             /* the first-fit hint was among the blocks */
  size_t live_blocks, live_bytes, free_blocks, free_bytes;
  size_t total;              /* sum of block sizes */
} ff_walk_state_t;

static bool ff_check_in_seg(const ff_segment_t *s, const ff_block_t *b) {
  uintptr_t a = (uintptr_t)b;
  return a % FF_GRAIN == 0 && a >= s->start && a <= s->end - FF_HDR;
}

/* The header fields of b, on their own. */
static bool ff_check_header(const ff_walk_state_t *w, const ff_block_t *b,
                            va_report_t *r) {
  uint32_t f = ff_flags(b);
  size_t size = ff_size(b);
  if (ff_magic(b) != FF_MAGIC)
    return va_fail(r, "ff.magic", b, "block magic %#x", ff_magic(b));
  if ((f & ~(FF_F_USED | FF_F_FENCE)) || f == FF_F_FENCE)
    return va_fail(r, "ff.flags", b, "flags %#x", f);
  if (ff_prev(b) != w->prev)
    return va_fail(r, "ff.links", b, "prev %p, walk came from %p",
                   (void *)ff_prev(b), (const void *)w->prev);
  if (size % FF_GRAIN)
    return va_fail(r, "ff.size_align", b, "size %zu not a multiple of 16", size);
  if ((f & FF_F_FENCE) ? size != FF_HDR : size < FF_MIN_BLOCK)
    return va_fail(r, "ff.size_min", b, "size %zu too small (or fence != 32)", size);
  return true;
}

/* b within its segment: tiling, coalescing, poison. */
static bool ff_check_place(const ff_heap_t *h, const ff_walk_state_t *w,
                           const ff_block_t *b, va_report_t *r) {
  const ff_segment_t *s = &h->seg[w->si];
  uintptr_t a = (uintptr_t)b, end = a + ff_size(b);
  if (end > s->end || (ff_is_fence(b) && end != s->end))
    return va_fail(r, "ff.tiling", b, "block ends at %#lx, segment at %#lx",
                   (unsigned long)end, (unsigned long)s->end);
  if (ff_is_free(b) && w->prev_free)
    return va_fail(r, "ff.adjacent_free", b, "free block follows free block %p",
                   (const void *)w->prev);
  if (ff_is_free(b) && !ff_canary_ok(b))
    return va_fail(r, "ff.poison", b, "free payload canary overwritten");
  if (ff_is_free(b) && !w->low_seen && b != h->low)
    return va_fail(r, "ff.hint", b, "free block below the first-fit hint %p",
                   (const void *)h->low);
  return true;
}

/* b's next pointer: the next block in this segment, or the next segment. */
static bool ff_check_next(const ff_heap_t *h, const ff_walk_state_t *w,
                          const ff_block_t *b, va_report_t *r) {
  const ff_block_t *n = ff_next(b);
  if (ff_is_fence(b)) {
    const void *want = w->si + 1 < h->nseg ? (void *)h->seg[w->si + 1].start : NULL;
    if ((const void *)n != want)
      return va_fail(r, "ff.links", b, "fence next %p, next segment %p",
                     (const void *)n, want);
    return true;
  }
  if (!n || !ff_check_in_seg(&h->seg[w->si], n))
    return va_fail(r, "ff.bounds", b, "next %p outside the segment", (const void *)n);
  if ((uintptr_t)n != (uintptr_t)b + ff_size(b))
    return va_fail(r, "ff.tiling", b, "next %p, block ends at %p", (const void *)n,
                   (const void *)((const char *)b + ff_size(b)));
  return true;
}

static void ff_check_tally(const ff_heap_t *h, ff_walk_state_t *w,
                           const ff_block_t *b) {
  w->total += ff_size(b);
  w->rover_seen |= b == h->rover;
  w->low_seen |= b == h->low;
  w->prev_free = ff_is_free(b);
  w->prev = b;
  if (ff_is_fence(b)) return;
  if (ff_is_used(b)) {
    w->live_blocks++;
    w->live_bytes += ff_psize(b);
  } else {
    w->free_blocks++;
    w->free_bytes += ff_psize(b);
  }
}

/* After the walk: every segment covered, rover and counters. */
static bool ff_check_totals(const ff_heap_t *h, const ff_walk_state_t *w,
                            va_report_t *r) {
  size_t span = 0;
  for (size_t i = 0; i < h->nseg; i++) span += h->seg[i].end - h->seg[i].start;
  if (w->si != h->nseg || w->total != span)
    return va_fail(r, "ff.tiling", h, "blocks cover %zu of %zu bytes", w->total, span);
  if (h->tail != w->prev)
    return va_fail(r, "ff.links", h, "tail %p, last block %p", (void *)h->tail,
                   (const void *)w->prev);
  if (h->rover && !w->rover_seen)
    return va_fail(r, "ff.rover", h->rover, "rover is not a block");
  if (!w->low_seen)
    return va_fail(r, "ff.hint", h->low, "first-fit hint is not a block");
  if (w->live_blocks != h->live_blocks || w->live_bytes != h->live_bytes ||
      w->free_blocks != h->free_blocks || w->free_bytes != h->free_bytes)
    return va_fail(r, "ff.counts", h,
                   "walk live %zu/%zu free %zu/%zu, counters %zu/%zu %zu/%zu",
                   w->live_blocks, w->live_bytes, w->free_blocks, w->free_bytes,
                   h->live_blocks, h->live_bytes, h->free_blocks, h->free_bytes);
  return true;
}

bool ff_check(void *heap, va_report_t *r) {
  const ff_heap_t *h = heap;
  if (!h || h->magic != FF_HEAP_MAGIC || h->nseg == 0 || h->nseg > FF_MAX_SEGMENTS)
    return va_fail(r, "ff.magic", h, "not a V1 heap record");
  ff_walk_state_t w = {0};
  const ff_block_t *b = h->head;
  if (!ff_check_in_seg(&h->seg[0], b))
    return va_fail(r, "ff.bounds", b, "head outside the first segment");
  while (b) {
    if (!ff_check_header(&w, b, r) || !ff_check_place(h, &w, b, r) ||
        !ff_check_next(h, &w, b, r))
      return false;
    ff_check_tally(h, &w, b);
    if (ff_is_fence(b)) w.si++;
    b = ff_next(b);
  }
  if (!ff_check_totals(h, &w, r)) return false;
  return va_pass(r);
}

bool ff_check_empty(void *heap, va_report_t *r) {
  ff_heap_t *h = heap;
  if (!ff_check(h, r)) return false;
  if (h->live_blocks != 0)
    return va_fail(r, "ff.empty", h, "%zu blocks still live", h->live_blocks);
  ff_block_t *t = ff_prev(h->tail);
  if (ff_heap_break_is_ours(h) && ff_size(t) > h->opts.trim_threshold &&
      ff_heap_trim_target(h, t) < ff_seg_last(h)->end)
    return va_fail(r, "ff.trim", t, "free tail of %zu bytes not trimmed", ff_size(t));
  return va_pass(r);
}

void ff_check_or_die(ff_heap_t *h, const char *op) {
  va_report_t r;
  if (ff_check(h, &r)) return;
  fprintf(stderr, "vedalloc: firstfit check after %s(): %s at %p: %s\n", op,
          r.invariant, r.addr, r.detail);
  abort();
}

/* ---- statistics and introspection --------------------------------------- */

static size_t ff_largest_free(ff_heap_t *h) {
  size_t best = 0;
  for (ff_block_t *b = h->head; b; b = ff_next(b))
    if (ff_is_free(b) && ff_psize(b) > best) best = ff_psize(b);
  return best;
}

void ff_stats(void *heap, va_stats_t *st) {
  ff_heap_t *h = heap;
  *st = (va_stats_t){0};
  st->footprint = h->footprint;
  st->peak_footprint = h->peak_footprint;
  st->live_bytes = h->live_bytes;
  st->live_blocks = h->live_blocks;
  st->free_bytes = h->free_bytes;
  st->free_blocks = h->free_blocks;
  st->largest_free = ff_largest_free(h);
  st->pages = (h->footprint + FF_PAGE - 1) / FF_PAGE;
}

void ff_walk(void *heap, va_walk_fn fn, void *ctx) {
  ff_heap_t *h = heap;
  for (ff_block_t *b = h->head; b; b = ff_next(b)) {
    if (ff_is_fence(b)) continue;
    va_region_t r = {.kind = ff_is_free(b) ? VA_REGION_FREE : VA_REGION_LIVE,
                     .addr = ff_payload(b), .size = ff_psize(b), .cls = -1};
    fn(ctx, &r);
  }
}

size_t ff_block_count(void *heap) {
  ff_heap_t *h = heap;
  return h->live_blocks + h->free_blocks;
}

size_t ff_segment_count(void *heap) { return ((ff_heap_t *)heap)->nseg; }

const void *ff_heap_base(void *heap) { return ((ff_heap_t *)heap)->head; }

size_t ff_min_payload(void) { return FF_MIN_PAYLOAD; }

size_t ff_header_size(void) { return FF_HDR; }

double ff_fragmentation(void *heap) {
  ff_heap_t *h = heap;
  if (h->free_bytes == 0) return 0.0;
  return 100.0 * (1.0 - (double)ff_largest_free(h) / (double)h->free_bytes);
}

VA_CHECKER_END
