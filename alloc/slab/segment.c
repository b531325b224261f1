/* vedalloc V2 — segments (segment.h): chunk runs for pages and large
 * blocks, carved from 4 MiB reservations, given back lazily.
 *
 * Policy. A run of n chunks comes from the first segment on the heap's
 * list with n free dirty chunks at a suitably aligned index (their pages
 * are resident: reusing them faults nothing in, and the resident set grows
 * only when no dirty run fits), else the first with n free chunks (first
 * fit, lowest index: runs pack toward a segment's start); if none, a new
 * segment is mapped and put at the head. With opts.dirty_ratio, the free
 * dirty chunks of all segments stay within 1/n of the footprint: past it,
 * segments toward the tail decommit theirs down to half of that. The list
 * keeps segments with a free chunk before full ones, so the scan stops at
 * the first full segment. A run
 * given back is marked free and stays resident: the next page or large
 * block that fits reuses it with no system call (but a large block a
 * realloc moved out of comes back decommitted: sl_seg_unmap_block's
 * cool). A purge pass, at most once per decay period (opts.page_decay_ns;
 * 0: at every give-back), decommits the free chunks of every segment idle
 * past the decay, and of every busy one whose oldest free resident chunk
 * has waited SL_SEG_BUSY_DECAYS decays, one madvise per run of them, and
 * gives back every idle segment with nothing in use but one spare. Trim
 * purges everything at once.
 *
 * Why moved blocks come back cool and busy segments decay (drop-in,
 * 2026-12-07): sqlite3 grows buffers by realloc, 64 KiB to 8 MiB; the
 * runs left behind stayed resident in segments that never went idle: peak
 * RSS 30.2 MB (glibc 24.8); given back decommitted, 27.8 MB. A segment
 * given a run back every few ms never decommitted its free chunks, the
 * bound the decay promises; after 8 decays that costs size-mix little
 * (448-541 calls against 412-511, 102.5-104.9 MiB), after one 552-944
 * calls for no less RSS. The cost of the cool: realloc-growth 14-22 ms
 * against 14-16 (its RSS 5.8 MB against 6.2; glibc 4.9).
 *
 * Why the dirty-first fit and the ratio (size-mix, drop-in, 2026-12-07):
 * without the fit 125 MB peak RSS; with it 116 MB; with the bound at 1/2
 * 108 MB for 293 madvise, at 1/3 106 MB for 671, at 1/8 102 MB for 3,300
 * (glibc: 96 MB, 348 calls in all).
 *
 * Why 4 MiB: two 2 MiB huge pages fit aligned in each segment, a 512 KiB
 * page needs an eighth of one, and one bitmap word covers its chunks.
 * Measured against 2 and 1 MiB (-DSL_SEG_SHIFT, drop-in under LD_PRELOAD,
 * memory syscalls / peak RSS): 10^6 random ops 32 / 41 / 54 calls at the
 * same RSS; two threads 47 / 47 / 61; python3 stdlib script 1860 / 1927
 * / 2051; gcc -O2 236 / 234 / 264, RSS within 2% of each other. Smaller
 * segments only add calls. Why MADV_DONTNEED (os.c): MADV_FREE made the
 * same runs' RSS higher (python 37.7 MB against 33.7; lazily freed pages
 * count until the kernel wants them) for no fewer calls, and its pages
 * may not be assumed zero.
 *
 * Complexity: O(segments with a free chunk) per carve (a word test per
 * aligned position), O(1) per give-back, O(segments) per purge pass and
 * per pass over the dirty budget.
 */
#include "alloc/slab/segment.h"

#include "alloc/slab/os.h"

/* Bits [c, c + n) of a segment's words, and the chunk index of p. */
static uint64_t sl_seg_mask(size_t c, size_t n) {
  return (n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << c;
}

static size_t sl_seg_index(const sl_seg_t *seg, const void *p) {
  return (size_t)((const uint8_t *)p - sl_seg_base(seg)) / SL_CHUNK;
}

/* seg's free chunks that may be resident: its share of h->seg_dirty. */
static size_t sl_seg_dirty_free(const sl_seg_t *seg) {
  return (size_t)__builtin_popcountll(seg->dirty & ~seg->used);
}

/* ---------------------------------------------------------------------------
 * The list: segments with a free chunk, then full ones
 * ------------------------------------------------------------------------- */
static void sl_seg_unlink(sl_heap_t *h, sl_seg_t *seg) {
  if (seg->prev) seg->prev->next = seg->next;
  else h->segs = seg->next;
  if (seg->next) seg->next->prev = seg->prev;
  else h->seg_tail = seg->prev;
  seg->next = seg->prev = NULL;
}

static void sl_seg_push(sl_heap_t *h, sl_seg_t *seg) {
  seg->prev = NULL;
  seg->next = h->segs;
  if (h->segs) h->segs->prev = seg;
  else h->seg_tail = seg;
  h->segs = seg;
}

/* seg just became full: behind every segment with a free chunk. */
static void sl_seg_to_tail(sl_heap_t *h, sl_seg_t *seg) {
  sl_seg_t *last = h->seg_tail;
  if (last == seg) return;
  sl_seg_unlink(h, seg);
  last->next = seg;
  seg->prev = last;
  h->seg_tail = seg;
}

/* Bits `run` of seg become used (dirty: they will be written). */
static void sl_seg_take(sl_heap_t *h, sl_seg_t *seg, uint64_t run) {
  h->seg_dirty -= (size_t)__builtin_popcountll(seg->dirty & run);
  seg->gone &= ~run;
  seg->used |= run;
  seg->dirty |= run;
  if (seg->used == SL_SEG_ALL) sl_seg_to_tail(h, seg);
}

/* ---------------------------------------------------------------------------
 * Segments from the source
 * ------------------------------------------------------------------------- */
static sl_seg_t *sl_seg_create(sl_heap_t *h) {
  bool zeroed;
  uint8_t *base = sl_os_map(h->src, SL_SEG_BYTES, SL_SEG_BYTES, &zeroed);
  if (base == NULL) return NULL;
  sl_seg_t *seg = (sl_seg_t *)(base + SL_CHUNK - SL_SEG_HDR);
  *seg = (sl_seg_t){.kind = SL_KIND_SEG, .heap = h, .used = 1,
                    .dirty = zeroed ? 1 : SL_SEG_ALL};
  /* What borders the segment's start. Chunks never carved stay as the
   * mapping left them (poisoning 4 MiB costs 512 KiB of shadow writes per
   * segment); a run that comes back is poisoned. */
  VA_POISON(base, SL_CHUNK - SL_SEG_HDR);
  sl_seg_push(h, seg);
  h->seg_dirty += sl_seg_dirty_free(seg);
  h->seg_count++;
  h->segs_mapped++;
  return seg;
}

static void sl_seg_destroy(sl_heap_t *h, sl_seg_t *seg) {
  h->seg_dirty -= sl_seg_dirty_free(seg);
  sl_seg_unlink(h, seg);
  h->seg_count--;
  h->segs_unmapped++;
  sl_os_unmap(h->src, sl_seg_base(seg), SL_SEG_BYTES); /* unpoisons it */
}

/* Decommit chunks [c, c + n) of seg, one madvise: they read zero again
 * (clean), and seg_dirty loses the free ones among them. */
static void sl_seg_discard(sl_heap_t *h, sl_seg_t *seg, size_t c, size_t n) {
  uint64_t run = sl_seg_mask(c, n);
  h->seg_decommits++;
  if (!sl_os_discard(h->src, sl_seg_base(seg) + c * SL_CHUNK, n * SL_CHUNK)) return;
  h->seg_dirty -= (size_t)__builtin_popcountll(seg->dirty & run & ~seg->used);
  seg->dirty &= ~run;
}

/* Decommit seg's free resident chunks: one call per run of free chunks
 * with a dirty one in it (its clean ones cost nothing and save calls). */
static void sl_seg_decommit(sl_heap_t *h, sl_seg_t *seg) {
  uint64_t todo = ~seg->used & SL_SEG_ALL;
  while (todo) {
    size_t c = (size_t)__builtin_ctzll(todo), n = 0;
    while (c + n < 64 && ((todo >> (c + n)) & 1)) n++;
    uint64_t run = sl_seg_mask(c, n);
    todo &= ~run;
    if (seg->dirty & run) sl_seg_discard(h, seg, c, n);
  }
}

/* A segment still given chunks back keeps its free resident ones until
 * the oldest has waited this many decays: so they go back in bounded time
 * (before, a busy segment's never did), yet a churning heap does not pay
 * one madvise per free run each period. */
#define SL_SEG_BUSY_DECAYS 8

/* Decommit what has been idle past the decay (everything when all), and
 * the free chunks of busy segments past SL_SEG_BUSY_DECAYS of it; give
 * back segments idle with nothing in use, keeping one spare unless all. */
static void sl_seg_purge(sl_heap_t *h, uint64_t now, bool all) {
  bool spare = all;
  h->seg_clock = now;
  for (sl_seg_t *seg = h->segs, *next; seg; seg = next) {
    next = seg->next;
    bool idle = all || now - seg->freed_at >= h->idle_decay;
    if (!idle && (now - seg->dirty_at) / SL_SEG_BUSY_DECAYS < h->idle_decay) continue;
    if (idle && seg->used == 1) {
      if (spare) {
        sl_seg_destroy(h, seg);
        continue;
      }
      spare = true;
    }
    sl_seg_decommit(h, seg);
  }
}

/* The bytes of free chunks left resident the heap may hold
 * (opts.dirty_ratio n): one segment's worth, or 1/n of the footprint if
 * more (jemalloc's former dirty ratio is the anchor). SIZE_MAX: no bound. */
static size_t sl_seg_dirty_budget(const sl_heap_t *h) {
  size_t n = h->opts.dirty_ratio;
  if (n == 0) return SIZE_MAX;
  return h->footprint / n > SL_SEG_BYTES ? h->footprint / n : SL_SEG_BYTES;
}

/* Over the budget: decommit the free chunks of segments from the list's
 * tail (the head holds those created or refilled last), but not those of
 * `fresh` (just given back to: the likeliest reused), down to half the
 * budget, so that the next pass is as many give-backs away. */
static void sl_seg_shed(sl_heap_t *h, const sl_seg_t *fresh) {
  size_t goal = sl_seg_dirty_budget(h) / 2 / SL_CHUNK;
  for (sl_seg_t *seg = h->seg_tail; seg && h->seg_dirty > goal; seg = seg->prev)
    if (seg != fresh && sl_seg_dirty_free(seg)) sl_seg_decommit(h, seg);
}

/* ---------------------------------------------------------------------------
 * Entry points (segment.h)
 * ------------------------------------------------------------------------- */
/* The lowest chunk index >= 1, a multiple of step, where n chunks are free
 * (and all dirty, when `dirty`) in seg, or 0. */
static size_t sl_seg_find(const sl_seg_t *seg, size_t n, size_t step, bool dirty) {
  for (size_t c = step; c + n <= SL_SEG_CHUNKS; c += step) {
    uint64_t run = sl_seg_mask(c, n);
    if ((seg->used & run) == 0 && (!dirty || (seg->dirty & run) == run)) return c;
  }
  return 0;
}

/* Where n chunks go: the first free run whose chunks are all dirty (their
 * pages are resident already: carving there faults nothing in and leaves
 * clean chunks clean, so the resident set grows only when no dirty run
 * fits), else the first free run; NULL: none (*at: its index). */
static sl_seg_t *sl_seg_place(const sl_heap_t *h, size_t n, size_t step, size_t *at) {
  sl_seg_t *any = NULL;
  size_t any_at = 0;
  for (sl_seg_t *seg = h->segs; seg && seg->used != SL_SEG_ALL; seg = seg->next) {
    if (sl_seg_dirty_free(seg) >= n && (*at = sl_seg_find(seg, n, step, true)) != 0)
      return seg;
    if (any == NULL && (any_at = sl_seg_find(seg, n, step, false)) != 0) any = seg;
  }
  *at = any_at;
  return any;
}

void *sl_seg_map(sl_heap_t *h, size_t size, size_t align, bool *zeroed) {
  VA_ASSERT(size % SL_CHUNK == 0 && size <= SL_SEG_CARVE_MAX && align <= SL_SEG_CARVE_MAX);
  size_t n = size / SL_CHUNK, step = align > SL_CHUNK ? align / SL_CHUNK : 1;
  size_t c;
  sl_seg_t *seg = sl_seg_place(h, n, step, &c);
  if (seg == NULL) {
    seg = sl_seg_create(h);
    if (seg == NULL) return NULL;
    c = sl_seg_find(seg, n, step, false);
  }
  uint64_t run = sl_seg_mask(c, n);
  if (zeroed) *zeroed = (seg->dirty & run) == 0;
  sl_seg_take(h, seg, run);
  uint8_t *p = sl_seg_base(seg) + c * SL_CHUNK;
  VA_UNPOISON(p, size);
  return p;
}

void sl_seg_unmap(sl_heap_t *h, void *p, size_t size) {
  sl_seg_t *seg = sl_seg_of(p);
  size_t c = sl_seg_index(seg, p), n = size / SL_CHUNK;
  VA_ASSERT(c >= 1 && c + n <= SL_SEG_CHUNKS && size % SL_CHUNK == 0);
  bool was_full = seg->used == SL_SEG_ALL, was_clean = sl_seg_dirty_free(seg) == 0;
  VA_POISON(p, size);
  uint64_t run = sl_seg_mask(c, n);
  seg->used &= ~run;
  h->seg_dirty += (size_t)__builtin_popcountll(seg->dirty & run); /* cooled ones are not */
  if (was_full) { /* back among the segments with a free chunk */
    sl_seg_unlink(h, seg);
    sl_seg_push(h, seg);
  }
  uint64_t now = h->idle_decay ? sl_now_ns() : 0;
  seg->freed_at = now;
  if (was_clean && sl_seg_dirty_free(seg)) seg->dirty_at = now;
  if (sl_decay_due(h, h->seg_clock, now)) sl_seg_purge(h, now, false);
  if (h->seg_dirty * SL_CHUNK > sl_seg_dirty_budget(h)) sl_seg_shed(h, seg);
}

void sl_seg_unmap_block(sl_heap_t *h, void *base, size_t size, bool cool) {
  sl_seg_t *seg = sl_seg_of(base);
  size_t c = sl_seg_index(seg, base);
  seg->gone |= (uint64_t)1 << c; /* first: the unmap may purge */
  if (cool) sl_seg_discard(h, seg, c, size / SL_CHUNK); /* still used: then given back clean */
  sl_seg_unmap(h, base, size);
}

/* Error paths only: O(segments). */
bool sl_seg_freed_block(const sl_heap_t *h, const void *p) {
  uintptr_t base = (uintptr_t)p & ~(uintptr_t)(SL_SEG_BYTES - 1);
  for (const sl_seg_t *seg = h->segs; seg; seg = seg->next) {
    if ((uintptr_t)sl_seg_base(seg) != base) continue;
    size_t c = sl_seg_index(seg, p);
    return (seg->gone >> c & 1) && !(seg->used >> c & 1) &&
           (uintptr_t)p == base + c * SL_CHUNK + SL_LARGE_HDR;
  }
  return false;
}

bool sl_seg_grow(sl_heap_t *h, void *p, size_t old_size, size_t new_size) {
  sl_seg_t *seg = sl_seg_of(p);
  size_t c = sl_seg_index(seg, p), old = old_size / SL_CHUNK, n = new_size / SL_CHUNK;
  if (new_size > SL_SEG_CARVE_MAX || c + n > SL_SEG_CHUNKS) return false;
  uint64_t more = sl_seg_mask(c + old, n - old);
  if (seg->used & more) return false;
  sl_seg_take(h, seg, more);
  VA_UNPOISON((uint8_t *)p + old_size, new_size - old_size);
  return true;
}

void sl_seg_trim(sl_heap_t *h) {
  sl_seg_purge(h, h->idle_decay ? sl_now_ns() : 0, true);
}

void sl_seg_release_all(sl_heap_t *h) {
  while (h->segs) sl_seg_destroy(h, h->segs);
}
