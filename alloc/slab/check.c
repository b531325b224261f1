/* vedalloc V2 — the checker, the empty-state check and statistics.
 *
 * sl_check walks every page of the heap (the all-list), then every class
 * list, then the large mappings, then the segments, then the counters, and
 * reports the first violated invariant by the stable names defined in
 * types.h and segment.h. Each walk is bounded by the counts the heap
 * claims, so a corrupted link ends in a report, not a hang. Headers are read as copies through the metadata
 * accessors, so the checker is instrumented like the rest of V2.
 * Cost: O(pages * capacity + large chunks + 64 * segments).
 */
#include <string.h>

#include "alloc/slab/class.h"
#include "alloc/slab/large.h"
#include "alloc/slab/map.h"
#include "alloc/slab/segment.h"
#include "alloc/slab/types.h"

VA_CHECKER_BEGIN

/* Blocks a page can hold at most (64 KiB of 8-byte blocks). */
#define SL_CHECK_MAX_CAP (SL_SMALL_PAGE / 8)

static sl_page_t sl_check_load_page(const sl_page_t *pg) {
  sl_page_t t;
  sl_meta_copy(&t, pg, sizeof t);
  return t;
}

static sl_large_t sl_check_load_large(const sl_large_t *lg) {
  sl_large_t t;
  sl_meta_copy(&t, lg, sizeof t);
  return t;
}

/* A macro, so the walks exempt from ASan (SL_META) inline it too. */
#define SL_CHECK_BIT(bits, i) (((bits)[(i) / 64] >> ((i) % 64)) & 1)

static bool sl_check_bit(const uint64_t *bits, size_t i) { return SL_CHECK_BIT(bits, i); }

/* ---------------------------------------------------------------------------
 * Metadata accounting (types.h, "sl.counts")
 * ------------------------------------------------------------------------- */
static size_t sl_check_tracked(const sl_heap_t *h) {
  return h->leaves < SL_LEAF_TRACK ? h->leaves : SL_LEAF_TRACK;
}

/* meta_bytes as the touched-page bits say it should be. */
static size_t sl_check_meta_bytes(const sl_heap_t *h) {
  size_t pages = 0, tracked = sl_check_tracked(h);
  for (size_t w = 0; w < SL_HEAP_TOUCH_WORDS; w++)
    pages += (size_t)__builtin_popcountll(h->heap_touched[w]);
  for (size_t i = 0; i < tracked; i++)
    for (size_t w = 0; w < SL_LEAF_PAGES / 64; w++)
      pages += (size_t)__builtin_popcountll(h->leaf_touched[i][w]);
  return pages * SL_OS_PAGE + (h->leaves - tracked) * SL_LEAF_BYTES;
}

/* Is the OS page holding p's map entry counted as touched? */
static bool sl_check_entry_counted(const sl_heap_t *h, const void *p) {
  uintptr_t a = (uintptr_t)p, key = sl_map_top(a);
  size_t slot = (size_t)((const uint8_t *)&h->map[key] - (const uint8_t *)h) / SL_OS_PAGE;
  if (!sl_check_bit(h->heap_touched, slot)) return false;
  for (size_t i = 0; i < sl_check_tracked(h); i++)
    if (h->leaf_keys[i] == key)
      return sl_check_bit(h->leaf_touched[i], sl_map_slot(a) * sizeof(void *) / SL_OS_PAGE);
  return true; /* an untracked leaf is counted whole */
}

/* Every chunk of [base, base + size) maps to hdr, in the heap's map and the
 * shared one, on a counted page of metadata. `inv` names a wrong entry. */
static bool sl_check_entries(const sl_heap_t *h, uint8_t *base, size_t size,
                             const void *hdr, const char *inv, va_report_t *r) {
  /* Entries of consecutive chunks are consecutive words of one leaf: the
   * page holding them changes only every SL_OS_PAGE / 8 chunks. */
  uintptr_t counted_page = UINTPTR_MAX;
  for (size_t off = 0; off < size; off += SL_CHUNK) {
    uintptr_t a = (uintptr_t)(base + off);
    uintptr_t entry_page = (sl_map_top(a) << 32) | (sl_map_slot(a) * sizeof(void *) / SL_OS_PAGE);
    if (sl_map_get(h, base + off) != hdr)
      return va_fail(r, inv, base + off, "page map entry does not name %p", hdr);
    if (h->shared && sl_shared_get(h->shared, base + off) != hdr)
      return va_fail(r, "sl.shared", base + off,
                     "shared map entry does not name %p", hdr);
    if (entry_page != counted_page && !sl_check_entry_counted(h, base + off))
      return va_fail(r, "sl.counts", base + off,
                     "map entry on a page not counted in meta_bytes");
    counted_page = entry_page;
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * One page (p: a copy of pg's header)
 * ------------------------------------------------------------------------- */
static bool sl_check_geometry(const sl_heap_t *h, const sl_page_t *pg,
                              const sl_page_t *p, va_report_t *r) {
  if (p->kind != SL_KIND_PAGE || p->class_idx >= SL_CLASS_COUNT)
    return va_fail(r, "sl.page_class", pg, "bad kind %#x or class %u",
                   p->kind, p->class_idx);
  size_t c = p->class_idx, bs = sl_class_sizes[c];
  if (p->block_size != bs || p->page_size != sl_class_page_size(c) ||
      p->heap != h)
    return va_fail(r, "sl.page_class", pg,
                   "class %zu: block size %u, page size %u, heap %p", c,
                   p->block_size, p->page_size, (void *)p->heap);
  uint8_t *base = (uint8_t *)pg - (size_t)p->color * 64;
  if (p->color >= SL_COLORS || p->capacity == 0 || p->capacity > SL_CHECK_MAX_CAP ||
      p->grid_bytes != (size_t)p->capacity * bs || p->blocks <= (const uint8_t *)pg ||
      p->blocks + p->grid_bytes > base + p->page_size || p->bumped > p->capacity ||
      p->div_magic != sl_div_magic(bs))
    return va_fail(r, "sl.page_class", pg, "grid of %u blocks inconsistent",
                   p->capacity);
  if (p->free_key != h->free_key || !(p->free_key >> 63))
    return va_fail(r, "sl.free_key", pg, "page key %#llx, heap key %#llx",
                   (unsigned long long)p->free_key, (unsigned long long)h->free_key);
  if (sl_page_guard(pg) != SL_PAGE_GUARD)
    return va_fail(r, "sl.page_guard", pg, "the word below block 0 is %#llx",
                   (unsigned long long)sl_page_guard(pg));
  return sl_check_entries(h, base, p->page_size, pg, "sl.page_class", r);
}

/* The page's free blocks, found by the free-list walk (the set the page
 * itself no longer keeps: liveness is the list). */
typedef struct sl_check_bits {
  uint64_t free[SL_CHECK_MAX_CAP / 64]; /* bit i: block i is on the free list */
} sl_check_bits_t;

/* Walk the free list, decoding each link: bounds, grid, length. The
 * nodes met go in bits->free, their count in *n. The grid test divides by
 * div_magic, which the geometry check verified. A node met twice is a
 * cycle (its bit is set already), so no node is visited twice and a sound
 * list costs one dependent load per node. A metadata accessor (SL_META):
 * it reads the link word of every free block, and nothing else but the
 * header copy and the set on the checker's stack; as one walk, not a call
 * per link, it is most of what a check costs the fuzzers. */
SL_META bool sl_check_freelist(const sl_page_t *pg, const sl_page_t *p, sl_check_bits_t *bits,
                               size_t *n, va_report_t *r) {
  size_t count = 0, bs = p->block_size;
  uint8_t *sliced_end = p->blocks + (size_t)p->bumped * bs;
  for (size_t w = 0; w < (p->capacity + 63) / 64; w++) bits->free[w] = 0;
  for (sl_block_t *b = p->freelist; b; b = sl_block_next(p, b)) {
    uint8_t *a = (uint8_t *)b;
    if (a < p->blocks || a >= sliced_end)
      return va_fail(r, "sl.freelist_bounds", b,
                     "free node outside the sliced grid of page %p", (void *)pg);
    size_t off = (size_t)(a - p->blocks), i = sl_page_quot(p, off);
    if (i * bs != off)
      return va_fail(r, "sl.freelist_grid", b, "free node %zu bytes into block %zu",
                     off - i * bs, i);
    if (SL_CHECK_BIT(bits->free, i))
      return va_fail(r, "sl.freelist_cycle", b,
                     "free list reaches block %zu twice (%zu nodes before)", i, count);
    bits->free[i / 64] |= (uint64_t)1 << (i % 64);
    count++;
  }
  *n = count;
  return true;
}

/* Remote-free words ("sl.remote"): a private heap's page has none; a
 * shared heap's words lie between the header and the grid, mark only live
 * blocks (sliced, not free), and a word is queued exactly when it marks
 * some. A metadata accessor (SL_META) like the free-list walk: it reads
 * each word and its queue node, and the free set the walk found. */
SL_META bool sl_check_remote_words(const sl_heap_t *h, const sl_page_t *pg,
                                   const sl_page_t *p, const sl_check_bits_t *bits,
                                   size_t *queued, va_report_t *r) {
  if (!h->shared) {
    if (p->remote || p->rnode || p->rwords)
      return va_fail(r, "sl.remote", pg, "a private heap's page has remote-free words");
    return true;
  }
  const uint8_t *lo = (const uint8_t *)pg + sizeof(sl_page_t);
  if ((size_t)p->rwords * SL_RBITS < p->capacity || (const uint8_t *)p->remote < lo ||
      (const uint8_t *)p->rnode != (const uint8_t *)(p->remote + p->rwords) ||
      (const uint8_t *)(p->rnode + p->rwords) > p->blocks)
    return va_fail(r, "sl.remote", pg, "remote-free words misplaced (%u words)", p->rwords);
  for (size_t w = 0; w < p->rwords; w++) {
    uint64_t word = __atomic_load_n(&p->remote[w], __ATOMIC_RELAXED), bits_w = word & ~SL_RQUEUED;
    if (!(word & SL_RQUEUED) != !bits_w || p->rnode[w].hdr != pg)
      return va_fail(r, "sl.remote", &p->remote[w],
                     "remote word %zu: blocks %#llx, queued %d", w,
                     (unsigned long long)bits_w, (word & SL_RQUEUED) != 0);
    for (; bits_w; bits_w &= bits_w - 1) {
      size_t i = w * SL_RBITS + (size_t)__builtin_ctzll(bits_w);
      if (i >= p->bumped || i >= p->capacity || SL_CHECK_BIT(bits->free, i))
        return va_fail(r, "sl.remote", pg, "remote-freed block %zu is not live", i);
    }
    *queued += (word & SL_RQUEUED) != 0;
  }
  return true;
}

static bool sl_check_page(const sl_heap_t *h, const sl_page_t *pg, size_t *queued,
                          va_report_t *r) {
  sl_page_t p = sl_check_load_page(pg);
  if (!sl_check_geometry(h, pg, &p, r)) return false;
  sl_check_bits_t bits;
  size_t nfree;
  if (!sl_check_freelist(pg, &p, &bits, &nfree, r)) return false;
  size_t unsliced = p.capacity - p.bumped;
  if (p.used + nfree + unsliced != p.capacity)
    return va_fail(r, "sl.capacity", pg,
                   "used %u + free %zu + unsliced %zu != capacity %u", p.used,
                   nfree, unsliced, p.capacity);
  bool has_free = nfree + unsliced > 0;
  if ((p.list == SL_LIST_FULL) == has_free ||
      (p.list != SL_LIST_FULL && p.list != SL_LIST_AVAIL &&
       p.list != SL_LIST_RESERVE && p.list != SL_LIST_IDLE) ||
      (has_free && nfree == 0))
    return va_fail(r, "sl.avail_list", pg,
                   "page with %zu free + %zu unsliced listed as %u", nfree,
                   unsliced, p.list);
  if (p.keep_empty && p.list != SL_LIST_AVAIL)
    return va_fail(r, "sl.avail_list", pg, "keep_empty on an unlisted page");
  if (p.list == SL_LIST_RESERVE && p.used != 0)
    return va_fail(r, "sl.reserve", pg, "reserve page has %u live blocks", p.used);
  if (p.list == SL_LIST_IDLE && p.used != 0)
    return va_fail(r, "sl.idle", pg, "pooled page has %u live blocks", p.used);
  return sl_check_remote_words(h, pg, &p, &bits, queued, r);
}

/* ---------------------------------------------------------------------------
 * Class lists
 * ------------------------------------------------------------------------- */
typedef struct sl_tally {
  size_t pages[SL_CLASS_COUNT];   /* pages per class on the all-list */
  size_t avail[SL_CLASS_COUNT];   /* of which marked SL_LIST_AVAIL */
  size_t reserve[SL_CLASS_COUNT]; /* of which marked SL_LIST_RESERVE */
  size_t idle;                    /* pages marked SL_LIST_IDLE (no class) */
  size_t idle_bytes;              /* their bytes */
} sl_tally_t;

static bool sl_check_avail(const sl_heap_t *h, size_t c, size_t expect,
                           va_report_t *r) {
  sl_page_t *head = h->avail[c], *prev = NULL;
  size_t n = 0;
  for (sl_page_t *pg = head == SL_NONE ? NULL : head; pg; pg = sl_page_next(pg)) {
    sl_page_t p = sl_check_load_page(pg);
    if (++n > expect || p.list != SL_LIST_AVAIL || p.class_idx != c || p.prev != prev)
      return va_fail(r, "sl.avail_list", pg,
                     "class %zu avail list broken at its page %zu", c, n);
    if (p.keep_empty != (pg == head && h->cls[c].reserve_count < h->opts.page_reserve))
      return va_fail(r, "sl.avail_list", pg, "keep_empty %u wrong", p.keep_empty);
    if (pg != head && p.used == 0)
      return va_fail(r, "sl.reserve", pg, "empty page behind the head of class %zu", c);
    prev = pg;
  }
  if (n != expect || h->cls[c].avail_tail != prev)
    return va_fail(r, "sl.avail_list", head,
                   "class %zu: %zu pages listed, %zu marked avail", c, n, expect);
  return true;
}

static bool sl_check_reserve(const sl_heap_t *h, size_t c, size_t expect,
                             va_report_t *r) {
  const sl_class_t *k = &h->cls[c];
  size_t n = 0;
  for (sl_page_t *pg = k->reserve; pg; pg = sl_page_next(pg))
    if (++n > expect || sl_page_list(pg) != SL_LIST_RESERVE ||
        sl_page_class_idx(pg) != c)
      return va_fail(r, "sl.reserve", pg,
                     "class %zu reserve list broken at its page %zu", c, n);
  sl_page_t *head = h->avail[c];
  size_t held = n + (head != SL_NONE && sl_page_used(head) == 0);
  if (n != expect || n != k->reserve_count || held > h->opts.page_reserve)
    return va_fail(r, "sl.reserve", k->reserve,
                   "class %zu: %zu reserve pages listed, %zu marked, count %u, "
                   "limit %zu", c, n, expect, k->reserve_count,
                   h->opts.page_reserve);
  return true;
}

/* The idle pools: linked both ways, pages of their size, counts, budget. */
static bool sl_check_idle(const sl_heap_t *h, const sl_tally_t *t,
                          va_report_t *r) {
  size_t n = 0, bytes = 0;
  for (size_t k = 0; k < 2; k++) {
    sl_page_t *prev = NULL;
    for (sl_page_t *pg = h->idle[k]; pg; prev = pg, pg = sl_page_next(pg)) {
      sl_page_t p = sl_check_load_page(pg);
      if (++n > t->idle || p.list != SL_LIST_IDLE || p.prev != prev ||
          (p.page_size == SL_MEDIUM_PAGE) != k ||
          (prev && sl_page_idle_since(prev) < p.idle_since))
        return va_fail(r, "sl.idle", pg, "idle pool %zu broken at page %zu", k, n);
      bytes += p.page_size;
    }
    if (h->idle_tail[k] != prev)
      return va_fail(r, "sl.idle", h, "idle pool %zu: wrong tail", k);
    /* over the budget, the last release pass stopped at a young page */
    if (prev && h->idle_bytes > sl_idle_budget(h) &&
        sl_page_idle_since(prev) + h->idle_decay <= h->idle_clock)
      return va_fail(r, "sl.idle", prev, "pool over budget, page aged out");
  }
  if (n != t->idle || n != h->idle_count || bytes != h->idle_bytes ||
      bytes != t->idle_bytes || (bytes > sl_idle_budget(h) && h->idle_decay == 0))
    return va_fail(r, "sl.idle", h,
                   "%zu pooled pages of %zu bytes; %zu marked; count %zu, "
                   "bytes %zu, budget %zu", n, bytes, t->idle, h->idle_count,
                   h->idle_bytes, sl_idle_budget(h));
  return true;
}

/* ---------------------------------------------------------------------------
 * Large mappings
 * ------------------------------------------------------------------------- */
/* A cached entry after prev (newest first): not newer than prev, and shed
 * to its header page if the last decay pass saw it aged. */
static bool sl_check_cache_age(const sl_heap_t *h, const sl_large_t *prev,
                               const sl_large_t *lg, va_report_t *r) {
  uint64_t at = sl_large_cached_at(lg);
  if (prev && at > sl_large_cached_at(prev))
    return va_fail(r, "sl.large", lg, "cached at %llu, after the newer entry %p",
                   (unsigned long long)at, (const void *)prev);
  if (h->idle_decay && at + h->idle_decay <= h->cache_clock &&
      sl_large_resident(lg) > SL_OS_PAGE)
    return va_fail(r, "sl.large", lg, "cached past the decay with %zu bytes resident",
                   sl_large_resident(lg));
  return true;
}

static bool sl_check_large_one(const sl_heap_t *h, const sl_large_t *lg,
                               uint32_t state, size_t *queued, va_report_t *r) {
  sl_large_t l = sl_check_load_large(lg);
  uint8_t *base = (uint8_t *)lg;
  const char *why = sl_large_fault(h, lg); /* what free trusts before it follows */
  if (why) return va_fail(r, "sl.large", lg, "%s", why);
  if (l.state != state)
    return va_fail(r, "sl.large", lg, "state %u on the list of state %u", l.state, state);
  uint64_t word = sl_rword_get(&lg->remote);
  if (l.rnode.hdr != lg || (word & ~(SL_RQUEUED | 1)) || !(word & SL_RQUEUED) != !(word & 1) ||
      ((word & 1) && (state != SL_LARGE_LIVE || !h->shared)))
    return va_fail(r, "sl.remote", lg, "large mapping's remote word %#llx in state %u",
                   (unsigned long long)word, state);
  *queued += (word & SL_RQUEUED) != 0;
  return sl_check_entries(h, base, l.map_size, lg, "sl.large", r);
}

/* The remote queue holds exactly the queued words, each once. */
static bool sl_check_remote_queue(const sl_heap_t *h, size_t queued, va_report_t *r) {
  size_t n = 0;
  for (sl_rnode_t *q = atomic_load(&h->remote_queue); q; q = sl_rnode_next(q)) {
    void *hdr = sl_rnode_hdr(q);
    bool ours = sl_map_get(h, hdr) == hdr;
    bool large = ours && sl_obj_kind(hdr) != SL_KIND_PAGE;
    sl_rnode_t *first = !ours ? NULL : large ? &((sl_large_t *)hdr)->rnode : sl_page_rnode(hdr);
    size_t words = !ours ? 0 : large ? 1 : sl_page_rwords(hdr);
    uint64_t *word = !ours ? NULL : large ? &((sl_large_t *)hdr)->remote
                                          : sl_page_remote(hdr) + (q - first);
    if (++n > queued || !ours || q < first || q >= first + words ||
        !(sl_rword_get(word) & SL_RQUEUED))
      return va_fail(r, "sl.remote", q, "remote queue node %zu names no queued word", n);
  }
  if (n != queued)
    return va_fail(r, "sl.remote", h, "%zu remote words queued, %zu marked", n, queued);
  return true;
}

static bool sl_check_large(const sl_heap_t *h, size_t *bytes, size_t *carved,
                           size_t *queued, va_report_t *r) {
  size_t n = 0, cached = 0, cbytes = 0, cres = 0;
  for (sl_large_t *lg = h->large_live; lg; lg = sl_large_next(lg)) {
    if (++n > h->large_count)
      return va_fail(r, "sl.large", lg, "more live mappings than %zu", h->large_count);
    if (!sl_check_large_one(h, lg, SL_LARGE_LIVE, queued, r)) return false;
    *bytes += sl_large_map_size(lg);
    if (sl_large_carved(lg)) *carved += sl_large_map_size(lg);
  }
  sl_large_t *last = NULL;
  for (sl_large_t *lg = h->large_cache; lg; last = lg, lg = sl_large_next(lg)) {
    if (++cached > h->cache_count)
      return va_fail(r, "sl.large", lg, "more cached mappings than %zu",
                     h->cache_count);
    if (!sl_check_large_one(h, lg, SL_LARGE_CACHED, queued, r)) return false;
    if (!sl_check_cache_age(h, last, lg, r)) return false;
    cbytes += sl_large_map_size(lg);
    cres += sl_large_resident(lg);
    if (sl_large_carved(lg)) *carved += sl_large_map_size(lg);
  }
  *bytes += cbytes;
  if (n != h->large_count || cached != h->cache_count ||
      cbytes != h->cache_bytes || cres != h->cache_resident ||
      last != h->large_cache_tail || cbytes > h->opts.large_cache ||
      cached > SL_LARGE_CACHE_MAX)
    return va_fail(r, "sl.large", h,
                   "%zu live (count %zu), %zu cached of %zu bytes (count %zu, "
                   "%zu bytes)", n, h->large_count, cached, cbytes,
                   h->cache_count, h->cache_bytes);
  return true;
}

/* ---------------------------------------------------------------------------
 * Segments (segment.h, "sl.segment", "sl.segment_chunks")
 * ------------------------------------------------------------------------- */
static bool sl_check_segment(const sl_heap_t *h, const sl_seg_t *seg, size_t *used,
                             va_report_t *r) {
  uintptr_t base = (uintptr_t)sl_seg_base(seg);
  if (seg->kind != SL_KIND_SEG || seg->heap != h || base % SL_SEG_BYTES ||
      !(seg->used & 1) || !(seg->dirty & 1) || (seg->gone & seg->used) ||
      seg->dirty_at > seg->freed_at)
    return va_fail(r, "sl.segment", seg, "segment header inconsistent (used %#llx)",
                   (unsigned long long)seg->used);
  for (size_t c = 1; c < SL_SEG_CHUNKS; c++) {
    bool in_use = (seg->used >> c) & 1;
    const void *owner = sl_map_get(h, (void *)(base + c * SL_CHUNK));
    if (in_use != (owner != NULL))
      return va_fail(r, "sl.segment_chunks", (void *)(base + c * SL_CHUNK),
                     "chunk %zu of the segment is %s, but the map names %p", c,
                     in_use ? "in use" : "free", owner);
    *used += in_use;
  }
  return true;
}

/* Every segment, and its chunks against the map; `carved`: the bytes of
 * the pages and carved large mappings, which must be all the chunks the
 * segments have in use (so none lies outside a segment of the heap). */
static bool sl_check_segments(const sl_heap_t *h, size_t carved, va_report_t *r) {
  size_t n = 0, used = 0, dirty = 0;
  bool full_seen = false;
  const sl_seg_t *prev = NULL;
  for (const sl_seg_t *seg = h->segs; seg; prev = seg, seg = seg->next) {
    if (++n > h->seg_count || seg->prev != prev)
      return va_fail(r, "sl.segment", seg, "segment list longer than %zu or mislinked",
                     h->seg_count);
    if (!sl_check_segment(h, seg, &used, r)) return false;
    dirty += (size_t)__builtin_popcountll(seg->dirty & ~seg->used);
    bool full = seg->used == SL_SEG_ALL;
    if (full_seen && !full)
      return va_fail(r, "sl.segment", seg, "a segment with a free chunk after a full one");
    full_seen |= full;
  }
  if (n != h->seg_count || prev != h->seg_tail)
    return va_fail(r, "sl.segment", h, "%zu segments listed, count %zu, or the tail astray", n,
                   h->seg_count);
  if (dirty != h->seg_dirty)
    return va_fail(r, "sl.segment", h, "%zu free chunks dirty, seg_dirty %zu", dirty,
                   h->seg_dirty);
  if (used * SL_CHUNK != carved)
    return va_fail(r, "sl.segment_chunks", h,
                   "segments have %zu chunks in use, pages and carved mappings %zu",
                   used, carved / SL_CHUNK);
  return true;
}

/* ---------------------------------------------------------------------------
 * Whole heap
 * ------------------------------------------------------------------------- */
static bool sl_check_pages(const sl_heap_t *h, sl_tally_t *t, size_t *bytes,
                           size_t *queued, va_report_t *r) {
  size_t n = 0;
  sl_page_t *prev = NULL;
  for (sl_page_t *pg = h->all; pg; prev = pg, pg = sl_page_all_next(pg)) {
    if (++n > h->page_count || sl_page_all_prev(pg) != prev)
      return va_fail(r, "sl.counts", pg, "page list longer than %zu or mislinked",
                     h->page_count);
    if (!sl_check_page(h, pg, queued, r)) return false;
    size_t c = sl_page_class_idx(pg), size = sl_page_page_size(pg);
    uint8_t list = sl_page_list(pg);
    *bytes += size;
    if (list == SL_LIST_IDLE) {
      t->idle++;
      t->idle_bytes += size;
      continue;
    }
    t->pages[c]++;
    t->avail[c] += list == SL_LIST_AVAIL;
    t->reserve[c] += list == SL_LIST_RESERVE;
  }
  if (n != h->page_count)
    return va_fail(r, "sl.counts", h, "%zu pages listed, count %zu", n, h->page_count);
  return true;
}

bool sl_check(void *heap, va_report_t *r) {
  const sl_heap_t *h = heap;
  sl_tally_t t = {{0}, {0}, {0}, 0, 0};
  size_t page_bytes = 0, large_bytes = 0, carved = 0, queued = 0;
  if (!sl_check_pages(h, &t, &page_bytes, &queued, r)) return false;
  if (!sl_check_idle(h, &t, r)) return false;
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) {
    if (!sl_check_reserve(h, c, t.reserve[c], r)) return false;
    if (!sl_check_avail(h, c, t.avail[c], r)) return false;
    if (t.pages[c] != h->cls[c].pages)
      return va_fail(r, "sl.counts", h, "class %zu: %zu pages, count %u", c,
                     t.pages[c], h->cls[c].pages);
  }
  for (size_t k = 0; k < SL_DIRECT; k++)
    if (h->direct[k] != h->avail[sl_class_by8[k]])
      return va_fail(r, "sl.avail_list", h->direct[k],
                     "direct[%zu] is not the avail head of class %u", k, sl_class_by8[k]);
  if (!sl_check_large(h, &large_bytes, &carved, &queued, r)) return false;
  if (!sl_check_remote_queue(h, queued, r)) return false;
  if (!sl_check_segments(h, page_bytes + carved, r)) return false;
  if (h->hot_leaf && h->map[h->hot_key] != h->hot_leaf)
    return va_fail(r, "sl.counts", h, "hot leaf is not map[%zu]", (size_t)h->hot_key);
  size_t expect = h->meta_bytes + page_bytes + large_bytes;
  if (h->footprint != expect || h->peak_footprint < h->footprint ||
      h->meta_bytes != sl_check_meta_bytes(h))
    return va_fail(r, "sl.counts", h, "footprint %zu, expected %zu (peak %zu)",
                   h->footprint, expect, h->peak_footprint);
  return va_pass(r);
}

bool sl_check_empty(void *heap, va_report_t *r) {
  const sl_heap_t *h = heap;
  if (!sl_check(heap, r)) return false;
  for (sl_page_t *pg = h->all; pg; pg = sl_page_all_next(pg))
    if (sl_page_used(pg))
      return va_fail(r, "sl.empty", pg, "page holds %u live blocks", sl_page_used(pg));
  if (h->large_count)
    return va_fail(r, "sl.empty", h->large_live, "%zu large blocks live",
                   h->large_count);
  for (size_t c = 0; c < SL_CLASS_COUNT; c++)
    if (h->cls[c].pages > h->opts.page_reserve)
      return va_fail(r, "sl.empty", h, "class %zu holds %u pages, reserve %zu", c,
                     h->cls[c].pages, h->opts.page_reserve);
  return va_pass(r);
}

/* ---------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------- */
void sl_stats(void *heap, va_stats_t *st) {
  const sl_heap_t *h = heap;
  va_stats_t s = {0};
  s.footprint = h->footprint;
  s.peak_footprint = h->peak_footprint;
  for (sl_page_t *pg = h->all; pg; pg = sl_page_all_next(pg)) {
    sl_page_t p = sl_check_load_page(pg);
    size_t slots = p.capacity - p.used;
    s.live_blocks += p.used;
    s.live_bytes += (size_t)p.used * p.block_size;
    s.free_blocks += slots;
    s.free_bytes += slots * p.block_size;
    if (slots && p.block_size > s.largest_free) s.largest_free = p.block_size;
  }
  for (sl_large_t *lg = h->large_live; lg; lg = sl_large_next(lg)) {
    s.live_blocks++;
    s.live_bytes += sl_large_usable(lg);
  }
  for (sl_large_t *lg = h->large_cache; lg; lg = sl_large_next(lg)) {
    size_t u = sl_large_map_size(lg) - SL_LARGE_HDR; /* reused at the default offset */
    s.free_bytes += u;
    if (u > s.largest_free) s.largest_free = u;
  }
  s.pages = h->page_count;
  s.large_mappings = h->large_count;
  *st = s;
}

/* ---------------------------------------------------------------------------
 * Walk: the regions of the heap (allocator.h). A sliced block is FREE when
 * the free list holds it (the checker's walk finds them; a damaged list
 * counts what comes before the damage), else LIVE: a block freed by
 * another thread and not yet drained still is.
 * ------------------------------------------------------------------------- */
static void sl_walk_page(const sl_page_t *pg, va_walk_fn fn, void *ctx) {
  sl_page_t p = sl_check_load_page(pg);
  bool idle = p.list == SL_LIST_IDLE; /* empty, of no class */
  sl_check_bits_t bits;
  size_t nfree;
  va_report_t damage;
  if (!idle) sl_check_freelist(pg, &p, &bits, &nfree, &damage);
  va_region_t r = {.kind = VA_REGION_PAGE, .addr = sl_page_base(pg), .size = p.page_size,
                   .cls = idle ? -1 : p.class_idx, .block_size = idle ? 0 : p.block_size};
  fn(ctx, &r);
  for (size_t i = 0; !idle && i < p.capacity; i++) {
    r.kind = i < p.bumped && !SL_CHECK_BIT(bits.free, i) ? VA_REGION_LIVE : VA_REGION_FREE;
    r.addr = p.blocks + i * p.block_size, r.size = p.block_size;
    fn(ctx, &r);
  }
}

void sl_walk(void *heap, va_walk_fn fn, void *ctx) {
  const sl_heap_t *h = heap;
  for (sl_page_t *pg = h->all; pg; pg = sl_page_all_next(pg)) sl_walk_page(pg, fn, ctx);
  for (int cached = 0; cached < 2; cached++)
    for (sl_large_t *lg = cached ? h->large_cache : h->large_live; lg; lg = sl_large_next(lg)) {
      va_region_t r = {.kind = cached ? VA_REGION_CACHED : VA_REGION_LIVE,
                       .addr = sl_large_payload(lg), .size = sl_large_usable(lg),
                       .cls = VA_CLS_LARGE};
      fn(ctx, &r);
    }
  for (const sl_seg_t *seg = h->segs; seg; seg = seg->next) {
    va_region_t r = {.kind = VA_REGION_SEGMENT, .addr = sl_seg_base(seg), .size = SL_SEG_BYTES,
                     .cls = -1};
    fn(ctx, &r);
  }
}

VA_CHECKER_END
