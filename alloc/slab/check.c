/* vedalloc V2 — the checker, the empty-state check and statistics.
 *
 * sl_check walks every page of the heap (the all-list), then every class
 * list, then the large mappings, then the counters, and reports the first
 * violated invariant by the stable names defined in types.h. Each walk is
 * bounded by the counts the heap claims, so a corrupted link ends in a
 * report, not a hang. Cost: O(pages * capacity + large chunks).
 */
#include "alloc/slab/types.h"

/* Blocks a page can hold at most (64 KiB of 8-byte blocks). */
#define SL_CHECK_MAX_CAP (SL_SMALL_PAGE / 8)

/* ---------------------------------------------------------------------------
 * Metadata accounting (types.h, "sl.counts")
 * ------------------------------------------------------------------------- */
/* meta_bytes as the touched-page bits say it should be. */
SL_META static size_t sl_check_meta_bytes(sl_heap_t *h) {
  size_t pages = 0, tracked = h->leaves < SL_LEAF_TRACK ? h->leaves : SL_LEAF_TRACK;
  for (size_t w = 0; w < SL_HEAP_TOUCH_WORDS; w++)
    pages += (size_t)__builtin_popcountll(h->heap_touched[w]);
  for (size_t i = 0; i < tracked; i++)
    for (size_t w = 0; w < SL_LEAF_PAGES / 64; w++)
      pages += (size_t)__builtin_popcountll(h->leaf_touched[i][w]);
  return pages * SL_OS_PAGE + (h->leaves - tracked) * SL_LEAF_BYTES;
}

/* Is the OS page holding p's map entry counted as touched? */
SL_META static bool sl_check_entry_counted(sl_heap_t *h, const void *p) {
  uintptr_t a = (uintptr_t)p, key = a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS);
  size_t tracked = h->leaves < SL_LEAF_TRACK ? h->leaves : SL_LEAF_TRACK;
  size_t slot = (size_t)((uint8_t *)&h->map[key] - (uint8_t *)h) / SL_OS_PAGE;
  if (!(h->heap_touched[slot / 64] & ((uint64_t)1 << (slot % 64))))
    return false;
  for (size_t i = 0; i < tracked; i++) {
    if (h->leaf_keys[i] != key) continue;
    size_t e = (a >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1);
    size_t pg = e * sizeof(void *) / SL_OS_PAGE;
    return h->leaf_touched[i][pg / 64] & ((uint64_t)1 << (pg % 64));
  }
  return true; /* an untracked leaf is counted whole */
}

/* ---------------------------------------------------------------------------
 * One page
 * ------------------------------------------------------------------------- */
SL_META static bool sl_check_geometry(sl_heap_t *h, sl_page_t *pg,
                                      va_report_t *r) {
  if (pg->kind != SL_KIND_PAGE || pg->class_idx >= SL_CLASS_COUNT)
    return va_fail(r, "sl.page_class", pg, "bad kind %#x or class %u",
                   pg->kind, pg->class_idx);
  size_t c = pg->class_idx, bs = sl_class_sizes[c];
  if (pg->block_size != bs || pg->page_size != sl_class_page_size(c) ||
      pg->heap != h)
    return va_fail(r, "sl.page_class", pg,
                   "class %zu: block size %u, page size %u, heap %p", c,
                   pg->block_size, pg->page_size, (void *)pg->heap);
  uint8_t *base = SL_PAGE_BASE(pg);
  if (pg->color >= SL_COLORS || pg->capacity == 0 || pg->capacity > SL_CHECK_MAX_CAP ||
      pg->grid_bytes != (size_t)pg->capacity * bs || pg->blocks <= (uint8_t *)pg ||
      pg->blocks + pg->grid_bytes > base + pg->page_size ||
      pg->bumped > pg->capacity ||
      pg->div_magic != (((uint64_t)1 << 32) + bs - 1) / bs)
    return va_fail(r, "sl.page_class", pg, "grid of %u blocks inconsistent",
                   pg->capacity);
  for (size_t off = 0; off < pg->page_size; off += SL_CHUNK)
    if (sl_map_get(h, base + off) != pg)
      return va_fail(r, "sl.page_class", base + off,
                     "page map entry does not name this page");
    else if (h->shared && sl_shared_get(base + off) != pg)
      return va_fail(r, "sl.shared", base + off,
                     "shared map entry does not name this page");
    else if (!sl_check_entry_counted(h, base + off))
      return va_fail(r, "sl.counts", base + off,
                     "map entry on a page not counted in meta_bytes");
  return true;
}

/* Walk the free list: bounds, grid, repeats, bits. Counts it in *n. */
SL_META static bool sl_check_freelist(sl_page_t *pg, size_t *n,
                                      va_report_t *r) {
  uint64_t seen[SL_CHECK_MAX_CAP / 64] = {0};
  size_t count = 0;
  uint8_t *sliced_end = pg->blocks + (size_t)pg->bumped * pg->block_size;
  for (sl_block_t *b = pg->free; b; b = b->next) {
    uint8_t *a = (uint8_t *)b;
    if (a < pg->blocks || a >= sliced_end)
      return va_fail(r, "sl.freelist_bounds", b,
                     "free node outside the sliced grid of page %p",
                     (void *)pg);
    size_t off = (size_t)(a - pg->blocks), i = off / pg->block_size;
    if (off % pg->block_size)
      return va_fail(r, "sl.freelist_grid", b,
                     "free node %zu bytes into block %zu", off % pg->block_size, i);
    if (seen[i / 64] & ((uint64_t)1 << (i % 64)) || ++count > pg->capacity)
      return va_fail(r, "sl.freelist_cycle", b,
                     "free block %zu reached twice", i);
    seen[i / 64] |= (uint64_t)1 << (i % 64);
    if (pg->bitmap[i / 64] & ((uint64_t)1 << (i % 64)))
      return va_fail(r, "sl.bitmap", b, "free block %zu marked live", i);
  }
  *n = count;
  return true;
}

SL_META static bool sl_check_bitmap(sl_page_t *pg, va_report_t *r) {
  size_t live = 0, words = (pg->capacity + 63) / 64;
  for (size_t w = 0; w < words; w++) {
    uint64_t bits = pg->bitmap[w];
    size_t lo = w * 64;
    if (lo + 64 > pg->bumped) /* bits at or beyond bumped must be clear */
      bits &= lo >= pg->bumped ? 0 : (((uint64_t)1 << (pg->bumped - lo)) - 1);
    if (bits != pg->bitmap[w])
      return va_fail(r, "sl.bitmap", pg, "unsliced block marked live");
    live += (size_t)__builtin_popcountll(bits);
  }
  if (live != pg->used)
    return va_fail(r, "sl.bitmap", pg, "%zu live bits, used %u", live,
                   pg->used);
  return true;
}

SL_META static bool sl_check_page(sl_heap_t *h, sl_page_t *pg,
                                  va_report_t *r) {
  if (!sl_check_geometry(h, pg, r)) return false;
  size_t nfree;
  if (!sl_check_freelist(pg, &nfree, r)) return false;
  size_t unsliced = pg->capacity - pg->bumped;
  if (pg->used + nfree + unsliced != pg->capacity)
    return va_fail(r, "sl.capacity", pg,
                   "used %u + free %zu + unsliced %zu != capacity %u",
                   pg->used, nfree, unsliced, pg->capacity);
  if (!sl_check_bitmap(pg, r)) return false;
  bool has_free = nfree + unsliced > 0;
  if ((pg->list == SL_LIST_FULL) == has_free ||
      (pg->list != SL_LIST_FULL && pg->list != SL_LIST_AVAIL &&
       pg->list != SL_LIST_EMPTY && pg->list != SL_LIST_IDLE) ||
      (has_free && nfree == 0))
    return va_fail(r, "sl.avail_list", pg,
                   "page with %zu free + %zu unsliced listed as %u", nfree,
                   unsliced, pg->list);
  if (pg->keep && pg->list != SL_LIST_AVAIL)
    return va_fail(r, "sl.avail_list", pg, "keep flag on an unlisted page");
  if (pg->list == SL_LIST_EMPTY && pg->used != 0)
    return va_fail(r, "sl.empty_list", pg, "idle page has %u live blocks",
                   pg->used);
  if (pg->list == SL_LIST_IDLE && pg->used != 0)
    return va_fail(r, "sl.idle", pg, "pooled page has %u live blocks",
                   pg->used);
  return true;
}

/* ---------------------------------------------------------------------------
 * Class lists
 * ------------------------------------------------------------------------- */
typedef struct sl_tally {
  size_t pages[SL_CLASS_COUNT]; /* pages per class on the all-list */
  size_t avail[SL_CLASS_COUNT]; /* of which marked SL_LIST_AVAIL */
  size_t empty[SL_CLASS_COUNT]; /* of which marked SL_LIST_EMPTY */
  size_t idle;                  /* pages marked SL_LIST_IDLE (no class) */
  size_t idle_bytes;            /* their bytes */
} sl_tally_t;

SL_META static bool sl_check_avail(sl_heap_t *h, size_t c, size_t expect,
                                   va_report_t *r) {
  sl_page_t *head = h->avail[c], *prev = NULL;
  size_t n = 0;
  for (sl_page_t *pg = head == SL_NONE ? NULL : head; pg; pg = pg->next) {
    if (++n > expect || pg->list != SL_LIST_AVAIL || pg->class_idx != c ||
        pg->prev != prev)
      return va_fail(r, "sl.avail_list", pg,
                     "class %zu avail list broken at its page %zu", c, n);
    if (pg->keep != (pg == head && h->cls[c].empty_count <
                                       h->opts.page_reserve))
      return va_fail(r, "sl.avail_list", pg, "keep flag %u wrong", pg->keep);
    if (pg != head && pg->used == 0)
      return va_fail(r, "sl.empty_list", pg,
                     "empty page behind the head of class %zu", c);
    prev = pg;
  }
  for (size_t k = 0; k < SL_DIRECT; k++)
    if (sl_class_by8[k] == c && h->direct[k] != head)
      return va_fail(r, "sl.avail_list", head,
                     "direct[%zu] is not the avail head of class %zu", k, c);
  if (n != expect || h->cls[c].avail_tail != prev)
    return va_fail(r, "sl.avail_list", head,
                   "class %zu: %zu pages listed, %zu marked avail", c, n,
                   expect);
  return true;
}

SL_META static bool sl_check_empty_list(sl_heap_t *h, size_t c, size_t expect,
                                        va_report_t *r) {
  sl_class_t *k = &h->cls[c];
  size_t n = 0;
  for (sl_page_t *pg = k->empty; pg; pg = pg->next)
    if (++n > expect || pg->list != SL_LIST_EMPTY || pg->class_idx != c)
      return va_fail(r, "sl.empty_list", pg,
                     "class %zu empty list broken at its page %zu", c, n);
  sl_page_t *head = h->avail[c];
  size_t held = n + (head != SL_NONE && head->used == 0);
  if (n != expect || n != k->empty_count ||
      held > h->opts.page_reserve)
    return va_fail(r, "sl.empty_list", k->empty,
                   "class %zu: %zu idle pages listed, %zu marked, count %u, "
                   "reserve %zu", c, n, expect, k->empty_count,
                   h->opts.page_reserve);
  return true;
}

/* The idle pools: linked both ways, pages of their size, counts, budget. */
SL_META static bool sl_check_idle(sl_heap_t *h, const sl_tally_t *t,
                                  va_report_t *r) {
  size_t n = 0, bytes = 0;
  for (size_t k = 0; k < 2; k++) {
    sl_page_t *prev = NULL;
    for (sl_page_t *pg = h->idle[k]; pg; prev = pg, pg = pg->next) {
      if (++n > t->idle || pg->list != SL_LIST_IDLE || pg->prev != prev ||
          (pg->page_size == SL_MEDIUM_PAGE) != k ||
          (prev && prev->idle_since < pg->idle_since))
        return va_fail(r, "sl.idle", pg, "idle pool %zu broken at page %zu",
                       k, n);
      bytes += pg->page_size;
    }
    if (h->idle_tail[k] != prev)
      return va_fail(r, "sl.idle", h, "idle pool %zu: wrong tail", k);
    /* over the budget, the last release pass stopped at a young page */
    if (prev && h->idle_bytes > sl_idle_budget(h) &&
        prev->idle_since + h->idle_decay <= h->idle_clock)
      return va_fail(r, "sl.idle", prev, "pool over budget, page aged out");
  }
  if (n != t->idle || n != h->idle_count || bytes != h->idle_bytes ||
      bytes != t->idle_bytes ||
      (bytes > sl_idle_budget(h) && h->idle_decay == 0))
    return va_fail(r, "sl.idle", h,
                   "%zu pooled pages of %zu bytes; %zu marked; count %zu, "
                   "bytes %zu, budget %zu", n, bytes, t->idle, h->idle_count,
                   h->idle_bytes, sl_idle_budget(h));
  return true;
}

/* ---------------------------------------------------------------------------
 * Large mappings
 * ------------------------------------------------------------------------- */
SL_META static bool sl_check_large_one(sl_heap_t *h, sl_large_t *lg,
                                       uint32_t state, va_report_t *r) {
  uint8_t *base = (uint8_t *)lg;
  if (lg->kind != SL_KIND_LARGE || lg->state != state || lg->heap != h ||
      lg->map_size % SL_CHUNK || lg->payload < base + SL_LARGE_HDR ||
      lg->payload >= base + lg->map_size ||
      (uintptr_t)lg->payload % VA_ALIGNMENT)
    return va_fail(r, "sl.large", lg, "large mapping header inconsistent");
  for (size_t off = 0; off < lg->map_size; off += SL_CHUNK)
    if (sl_map_get(h, base + off) != lg)
      return va_fail(r, "sl.large", base + off,
                     "page map entry does not name this mapping");
    else if (h->shared && sl_shared_get(base + off) != lg)
      return va_fail(r, "sl.shared", base + off,
                     "shared map entry does not name this mapping");
    else if (!sl_check_entry_counted(h, base + off))
      return va_fail(r, "sl.counts", base + off,
                     "map entry on a page not counted in meta_bytes");
  return true;
}

SL_META static bool sl_check_large(sl_heap_t *h, size_t *bytes,
                                   va_report_t *r) {
  size_t n = 0, cached = 0, cbytes = 0, cres = 0;
  for (sl_large_t *lg = h->large_live; lg; lg = lg->next) {
    if (++n > h->large_count || !sl_check_large_one(h, lg, SL_LARGE_LIVE, r))
      return n > h->large_count
                 ? va_fail(r, "sl.large", lg, "more live mappings than %zu",
                           h->large_count)
                 : false;
    *bytes += lg->map_size;
  }
  sl_large_t *last = NULL;
  for (sl_large_t *lg = h->large_cache; lg; last = lg, lg = lg->next) {
    if (++cached > h->cache_count ||
        !sl_check_large_one(h, lg, SL_LARGE_CACHED, r))
      return cached > h->cache_count
                 ? va_fail(r, "sl.large", lg, "more cached mappings than %zu",
                           h->cache_count)
                 : false;
    cbytes += lg->map_size;
    cres += lg->resident;
  }
  *bytes += cbytes;
  if (n != h->large_count || cached != h->cache_count ||
      cbytes != h->cache_bytes || cres != h->cache_resident || last != h->large_cache_tail ||
      cbytes > h->opts.large_cache || cached > SL_LARGE_CACHE_MAX)
    return va_fail(r, "sl.large", h,
                   "%zu live (count %zu), %zu cached of %zu bytes (count %zu, "
                   "%zu bytes)", n, h->large_count, cached, cbytes,
                   h->cache_count, h->cache_bytes);
  return true;
}

/* ---------------------------------------------------------------------------
 * Whole heap
 * ------------------------------------------------------------------------- */
SL_META static bool sl_check_pages(sl_heap_t *h, sl_tally_t *t, size_t *bytes,
                                   va_report_t *r) {
  size_t n = 0;
  sl_page_t *prev = NULL;
  for (sl_page_t *pg = h->all; pg; prev = pg, pg = pg->all_next) {
    if (++n > h->page_count || pg->all_prev != prev)
      return va_fail(r, "sl.counts", pg, "page list longer than %zu or "
                     "mislinked", h->page_count);
    if (!sl_check_page(h, pg, r)) return false;
    size_t c = pg->class_idx;
    *bytes += pg->page_size;
    if (pg->list == SL_LIST_IDLE) {
      t->idle++;
      t->idle_bytes += pg->page_size;
      continue;
    }
    t->pages[c]++;
    t->avail[c] += pg->list == SL_LIST_AVAIL;
    t->empty[c] += pg->list == SL_LIST_EMPTY;
  }
  if (n != h->page_count)
    return va_fail(r, "sl.counts", h, "%zu pages listed, count %zu", n,
                   h->page_count);
  return true;
}

SL_META bool sl_check(void *heap, va_report_t *r) {
  sl_heap_t *h = heap;
  sl_tally_t t = {{0}, {0}, {0}, 0, 0};
  size_t page_bytes = 0, large_bytes = 0;
  if (!sl_check_pages(h, &t, &page_bytes, r)) return false;
  if (!sl_check_idle(h, &t, r)) return false;
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) {
    if (!sl_check_empty_list(h, c, t.empty[c], r)) return false;
    if (!sl_check_avail(h, c, t.avail[c], r)) return false;
    if (t.pages[c] != h->cls[c].pages)
      return va_fail(r, "sl.counts", h, "class %zu: %zu pages, count %u", c,
                     t.pages[c], h->cls[c].pages);
  }
  if (!sl_check_large(h, &large_bytes, r)) return false;
  if (h->hot_leaf && h->map[h->hot_key] != h->hot_leaf)
    return va_fail(r, "sl.counts", h, "hot leaf is not map[%zu]",
                   (size_t)h->hot_key);
  size_t expect = h->meta_bytes + page_bytes + large_bytes;
  if (h->footprint != expect || h->peak_footprint < h->footprint ||
      h->meta_bytes != sl_check_meta_bytes(h))
    return va_fail(r, "sl.counts", h,
                   "footprint %zu, expected %zu (peak %zu)", h->footprint,
                   expect, h->peak_footprint);
  return va_pass(r);
}

SL_META bool sl_check_empty(void *heap, va_report_t *r) {
  sl_heap_t *h = heap;
  if (!sl_check(h, r)) return false;
  for (sl_page_t *pg = h->all; pg; pg = pg->all_next)
    if (pg->used)
      return va_fail(r, "sl.empty", pg, "page holds %u live blocks",
                     pg->used);
  if (h->large_count)
    return va_fail(r, "sl.empty", h->large_live, "%zu large blocks live",
                   h->large_count);
  for (size_t c = 0; c < SL_CLASS_COUNT; c++)
    if (h->cls[c].pages > h->opts.page_reserve)
      return va_fail(r, "sl.empty", h, "class %zu holds %u pages, reserve %zu",
                     c, h->cls[c].pages, h->opts.page_reserve);
  return va_pass(r);
}

/* ---------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------- */
SL_META void sl_stats(void *heap, va_stats_t *st) {
  sl_heap_t *h = heap;
  va_stats_t s = {0};
  s.footprint = h->footprint;
  s.peak_footprint = h->peak_footprint;
  for (sl_page_t *pg = h->all; pg; pg = pg->all_next) {
    size_t slots = pg->capacity - pg->used;
    s.live_blocks += pg->used;
    s.live_bytes += (size_t)pg->used * pg->block_size;
    s.free_blocks += slots;
    s.free_bytes += slots * pg->block_size;
    if (slots && pg->block_size > s.largest_free)
      s.largest_free = pg->block_size;
  }
  for (sl_large_t *lg = h->large_live; lg; lg = lg->next) {
    s.live_blocks++;
    s.live_bytes += sl_large_usable(lg);
  }
  for (sl_large_t *lg = h->large_cache; lg; lg = lg->next) {
    size_t u = lg->map_size - SL_LARGE_HDR; /* reused at the default offset */
    s.free_bytes += u;
    if (u > s.largest_free) s.largest_free = u;
  }
  s.pages = h->page_count;
  s.large_mappings = h->large_count;
  *st = s;
}
