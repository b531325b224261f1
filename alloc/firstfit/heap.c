/* vedalloc V1 — the heap: create, destroy, grow and trim.
 *
 * Policy. The heap starts as one page (the heap record, one giant free
 * block and the fence). When no free block fits, the break moves up by whole
 * pages:
 *   - if the break is where V1 last left it, growth is contiguous: the old
 *     fence becomes the start of the new free space (merged into the tail
 *     block when that one is free) and a new fence ends the segment;
 *   - if somebody else moved the break (foreign sbrk), the memory between
 *     our fence and the new break is not ours: a new segment starts at the
 *     break, and the old fence's `next` jumps over the gap. Nothing ever
 *     coalesces across a fence. If the break moved *below* our end, our
 *     memory was taken from under us: growth fails with ENOMEM.
 * When a free block at the end of the heap exceeds opts.trim_threshold and
 * the break is still ours, the break moves down to the first page boundary
 * after a minimum free block (never below the initial footprint).
 *
 * Complexity: grow and trim O(1) plus the system call. Non-goals: giving
 * back whole segments stranded behind foreign memory; thread safety.
 */
#include <errno.h>
#include <string.h>

#include "alloc/firstfit/internal.h"

/* Index of the segment holding address a, or -1. Usually one segment. */
int ff_heap_segment_of(const ff_heap_t *h, uintptr_t a) {
  for (size_t i = h->nseg; i > 0; i--)
    if (h->seg[i - 1].start <= a && a < h->seg[i - 1].end) return (int)i - 1;
  return -1;
}

/* True when the break is where we left it, so growth is contiguous. */
bool ff_heap_break_is_ours(const ff_heap_t *h) {
  uintptr_t end = h->seg[h->nseg - 1].end;
  return h->os.brk == end && ff_os_break(&h->os) == end;
}

static void ff_heap_footprint_add(ff_heap_t *h, size_t delta) {
  h->footprint += delta;
  if (h->footprint > h->peak_footprint) h->peak_footprint = h->footprint;
}

/* Lay one free block and a fence over [start, end) and link them after the
 * current tail. Needs end - start >= FF_MIN_BLOCK + FF_HDR. */
static ff_block_t *ff_heap_segment_add(ff_heap_t *h, uintptr_t base,
                                       uintptr_t start, uintptr_t end) {
  ff_block_t *f = (ff_block_t *)start, *fence = (ff_block_t *)(end - FF_HDR);
  VA_POISON((void *)start, end - start);
  ff_hdr_write(f, 0, end - FF_HDR - start, h->tail, fence);
  ff_hdr_write(fence, FF_F_USED | FF_F_FENCE, FF_HDR, f, NULL);
  ff_canary_write(f);
  if (h->tail) ff_set_next(h->tail, f);
  else h->head = f;
  h->tail = fence;
  h->seg[h->nseg++] = (ff_segment_t){base, start, end};
  ff_heap_footprint_add(h, end - base);
  ff_acct_add(h, f);
  return f;
}

ff_heap_t *ff_heap_create(const va_options_t *opts) {
  va_options_t o = opts ? *opts : va_options_default();
  if ((unsigned)o.fit > VA_FIT_BEST) {
    errno = EINVAL;
    return NULL;
  }
  ff_os_t os;
  if (!ff_os_open(&os, &o)) return NULL;
  size_t rec = VA_ALIGN_UP(sizeof(ff_heap_t), FF_GRAIN);
  uintptr_t lo, hi;
  if (!ff_os_extend(&os, FF_GRAIN + rec + FF_MIN_BLOCK + FF_HDR, &lo, &hi)) {
    ff_os_close(&os);
    return NULL;
  }
  VA_UNPOISON((void *)lo, hi - lo); /* a reused REGION may carry old poison */
  ff_heap_t *h = (ff_heap_t *)VA_ALIGN_UP(lo, FF_GRAIN);
  memset(h, 0, sizeof *h);
  h->magic = FF_HEAP_MAGIC;
  h->opts = o;
  h->os = os;
  ff_heap_segment_add(h, lo, (uintptr_t)h + rec, hi & ~(uintptr_t)(FF_GRAIN - 1));
  h->rover = h->head;
  h->low = h->head;
  h->init_footprint = h->footprint;
  return h;
}

/* Return every segment we still can. The record lives in segment 0, so copy
 * what is needed first. */
void ff_heap_destroy(ff_heap_t *h) {
  if (!h) return;
  ff_os_t os = h->os;
  ff_segment_t last = h->seg[h->nseg - 1];
  bool ours = ff_heap_break_is_ours(h);
  if (os.kind == VA_SOURCE_SBRK) {
    for (size_t i = 0; i + 1 < h->nseg; i++) /* stranded behind foreign memory */
      VA_UNPOISON((void *)h->seg[i].base, h->seg[i].end - h->seg[i].base);
    VA_UNPOISON((void *)last.base, last.end - last.base);
    if (ours) ff_os_retract(&os, last.base);
  }
  ff_os_close(&os);
}

/* Contiguous growth: the old fence's place starts the new free space. */
static ff_block_t *ff_heap_extend(ff_heap_t *h, size_t want) {
  ff_block_t *fence = h->tail, *t = ff_prev(fence);
  size_t have = ff_is_free(t) ? ff_size(t) : 0;
  size_t more = want - have < FF_MIN_BLOCK ? FF_MIN_BLOCK : want - have;
  uintptr_t lo, hi;
  if (!ff_os_extend(&h->os, more, &lo, &hi)) return NULL;
  ff_segment_t *s = ff_seg_last(h);
  VA_ASSERT(lo == s->end);
  uintptr_t end = hi & ~(uintptr_t)(FF_GRAIN - 1);
  ff_block_t *nf = (ff_block_t *)(end - FF_HDR), *b = t;
  VA_POISON((void *)lo, hi - lo);
  if (have) {
    ff_acct_sub(h, t);
    ff_set_size(t, (uintptr_t)nf - (uintptr_t)t);
    ff_set_next(t, nf);
    ff_block_kill(h, fence, t);
  } else {
    b = fence; /* same address, now a free block */
    ff_hdr_write(b, 0, (uintptr_t)nf - (uintptr_t)b, t, nf);
    ff_canary_write(b);
  }
  ff_hdr_write(nf, FF_F_USED | FF_F_FENCE, FF_HDR, b, NULL);
  ff_acct_add(h, b);
  ff_low_lower(h, b);
  h->tail = nf;
  ff_heap_footprint_add(h, end - s->end);
  s->end = end;
  return b;
}

/* Foreign break: start a new segment at the break, leaving the gap alone. */
static ff_block_t *ff_heap_add_foreign(ff_heap_t *h, size_t want) {
  uintptr_t cur = ff_os_break(&h->os), lo, hi;
  if (h->nseg == FF_MAX_SEGMENTS || cur < ff_seg_last(h)->end) {
    errno = ENOMEM; /* out of segment slots, or our memory was taken */
    return NULL;
  }
  if (!ff_os_extend(&h->os, 2 * FF_GRAIN + want + FF_HDR, &lo, &hi)) return NULL;
  uintptr_t start = VA_ALIGN_UP(lo, FF_GRAIN);
  uintptr_t end = hi & ~(uintptr_t)(FF_GRAIN - 1);
  if (lo < ff_seg_last(h)->end || end - start < want + FF_HDR) {
    errno = ENOMEM;
    return NULL;
  }
  return ff_heap_segment_add(h, lo, start, end);
}

/* A free block of size >= want at the end of the heap, or NULL + ENOMEM.
 * want >= FF_MIN_BLOCK. */
ff_block_t *ff_heap_grow(ff_heap_t *h, size_t want) {
  if (ff_heap_break_is_ours(h)) return ff_heap_extend(h, want);
  return ff_heap_add_foreign(h, want);
}

/* Where the break would go if free tail block b were trimmed now (the
 * current end when nothing would be released). */
uintptr_t ff_heap_trim_target(const ff_heap_t *h, const ff_block_t *b) {
  const ff_segment_t *s = &h->seg[h->nseg - 1];
  uintptr_t keep = (uintptr_t)b + FF_MIN_BLOCK + FF_HDR;
  if (keep > UINTPTR_MAX - FF_PAGE) return s->end;
  uintptr_t top = VA_ALIGN_UP(keep, FF_PAGE);
  if (h->nseg == 1 && top < s->base + h->init_footprint)
    top = s->base + h->init_footprint;
  return top < s->end ? top : s->end;
}

/* b: a free block just before the tail fence. Shrink the break if b is
 * above the threshold and the break is still ours. */
void ff_heap_maybe_trim(ff_heap_t *h, ff_block_t *b) {
  if (ff_size(b) <= h->opts.trim_threshold) return;
  ff_segment_t *s = ff_seg_last(h);
  uintptr_t top = ff_heap_trim_target(h, b); /* cheap: before asking the OS */
  if (top >= s->end || !ff_heap_break_is_ours(h)) return;
  ff_block_t *nf = (ff_block_t *)(top - FF_HDR);
  ff_acct_sub(h, b);
  ff_set_size(b, (uintptr_t)nf - (uintptr_t)b);
  ff_set_next(b, nf);
  ff_acct_add(h, b);
  ff_hdr_write(nf, FF_F_USED | FF_F_FENCE, FF_HDR, b, NULL);
  if (h->rover == h->tail) h->rover = nf;
  if (h->low == h->tail) h->low = nf;
  h->tail = nf;
  h->footprint -= s->end - top;
  ff_os_retract(&h->os, top);
  s->end = top;
}
