/* vedalloc V2 — slab allocator: the entry points and their slow paths.
 *
 * Policy. A request n <= 32 KiB is served by the class of the smallest block
 * size >= n (61 classes, class.h); larger requests get their own mapping
 * (large.c). Each class keeps a list of pages with a free block; malloc pops
 * the head page's LIFO free list, free pushes onto the block's own page, so
 * a freed block is the next one handed out (cache-warm). Pages move between
 * lists in page.c; the two fast paths are fast.h's, shared with the drop-in.
 *
 * Safety. free() trusts nothing in the block or just before it: the page
 * map (per instance) says whether the chunk is ours and which header owns
 * it; the grid says whether p is a block start; the free list says
 * whether the block is live (p's first word decodes to a link only if p
 * is free, or by a 2^-45 chance that a list walk settles: types.h, Page
 * layout). Foreign, interior and double frees are
 * reported through the error hook (here, the only place V2 reports misuse)
 * and change nothing.
 *
 * Basic algorithm of free(p):
 *   1. map entry of p's chunk; none: not ours (the caller reports it, or
 *      routes p to the heap that owns it);
 *   2. a page: p must be on the grid and sliced, else "not a block"; its
 *      first word must not decode to a link, else "double free" when the
 *      free list holds it; a large mapping: p must be its live payload;
 *   3. encode the link into p, push; a page that was full rejoins its
 *      class, one that became empty goes where the reserve and the pool
 *      say (page.c).
 *
 * Complexity. malloc, free, calloc (plus the memset), realloc within a
 * class: O(1), no loop over pages or blocks, except slicing (bounded) and
 * large mappings (O(chunks) map writes, below the cost of faulting them).
 *
 * Threads. An instance is single-threaded; sl_heap_share and a shared map
 * (map.c, types.h) let a layer above run one instance per thread.
 * Sources. The OS (mmap), or a caller's region carved in chunks (os.c),
 * for harnesses that run heap after heap; sbrk is refused (EINVAL).
 * Non-goals. Locking inside the instance.
 */
#include <stdio.h>
#include <string.h>

#include "alloc/slab/class.h"
#include "alloc/slab/fast.h"
#include "alloc/slab/large.h"
#include "alloc/slab/map.h"
#include "alloc/slab/os.h"
#include "alloc/slab/page.h"
#include "alloc/slab/segment.h"
#include "alloc/slab/types.h"

/* ---------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------- */
void sl_debug_check(sl_heap_t *h) {
  if (!VA_EXPENSIVE) return;
  va_report_t r;
  if (!sl_check(h, &r)) {
    char msg[300];
    snprintf(msg, sizeof msg, "sl_check: %s at %p: %s", r.invariant, r.addr,
             r.detail);
    va_assert_fail(msg, __FILE__, __LINE__);
  }
}

/* Why the header a map entry names cannot be trusted, or NULL (h NULL: a
 * thread that does not hold it): a page's guard, a large header's fields,
 * links and map entries (sl_large_fault). */
static const char *sl_owner_fault(const sl_heap_t *h, const void *owner) {
  if (sl_obj_kind(owner) != SL_KIND_PAGE) return sl_large_fault(h, owner);
  return sl_page_guard(owner) == SL_PAGE_GUARD
             ? NULL
             : "V2 sl.page_guard: the bytes before a page's first block are overwritten";
}

/* Report misuse of p; corruption names the check and the header. */
static __attribute__((noinline)) void sl_raise(sl_heap_t *h, va_error_kind_t kind,
                                              const char *op, const void *p) {
  if (kind != VA_ERR_CORRUPTION) {
    va_raise(&h->opts, kind, op, p);
    return;
  }
  const void *owner = sl_map_get(h, p);
  const char *why = owner ? sl_owner_fault(h, owner) : NULL;
  va_raise_corrupt(&h->opts, op, owner, why ? why : "V2: metadata damaged");
}

/* The same for any map entry (page or large). */
static va_error_kind_t sl_check_ptr(const sl_heap_t *h, const void *owner, const void *p) {
  if (sl_obj_kind(owner) != SL_KIND_PAGE) return sl_large_check_ptr(h, owner, p);
  return sl_small_check_ptr(owner, p, sl_page_index(owner, p));
}

/* ---------------------------------------------------------------------------
 * Allocation slow paths (fast.h has the fast one)
 * ------------------------------------------------------------------------- */
/* b, the head of pg's free list, has a link that leaves its page: the
 * user wrote over a free block (an overflow, a write after free), or b
 * was handed out already and is on the list twice (a double free that a
 * write after free hid), its zeroed word read as a link. Which one cannot
 * be told, so b is not handed out either: reported, then b and the rest
 * of the list are dropped (they leak), never followed. */
static __attribute__((noinline, cold)) void sl_freelist_damaged(sl_heap_t *h, sl_page_t *pg,
                                                                const sl_block_t *b) {
  va_raise_corrupt(&h->opts, "malloc", b,
                   "V2 sl.freelist: a free block's link leaves its page (overwritten)");
  sl_page_set_freelist(pg, NULL);
  sl_page_refill(h, pg);
}

/* Hand out b, the head of pg's free list, with what follows it; NULL when
 * its link is damaged (the caller takes another block). */
static void *sl_page_take(sl_heap_t *h, sl_page_t *pg, sl_block_t *b) {
  sl_block_t *next = sl_block_next(pg, b);
  if (VA_UNLIKELY(next != NULL && !sl_page_holds(pg, next))) {
    sl_freelist_damaged(h, pg, b);
    return NULL;
  }
  sl_page_pop(pg, b, next);
  if (next == NULL) sl_page_refill(h, pg);
  return b;
}

/* A block of class c: the avail head's, or a page acquired for it; past a
 * damaged list (dropped by sl_page_take), the next page's. */
static void *sl_alloc_class(sl_heap_t *h, size_t c) {
  for (;;) {
    sl_page_t *pg = h->avail[c];
    if (sl_page_freelist(pg) == NULL) {
      pg = sl_page_acquire(h, c);
      if (pg == NULL) return va_enomem();
    }
    void *b = sl_page_take(h, pg, sl_page_freelist(pg));
    if (VA_LIKELY(b != NULL)) return b;
  }
}

/* Blocks other threads freed into a shared heap come back here, on the
 * allocation slow paths (mimalloc collects its thread-free lists the same
 * way), not on every call: between two of them a word queued once
 * gathers every block freed into it, at one atomic OR each. */
static void sl_remote_collect(sl_heap_t *h) {
  if (VA_UNLIKELY(sl_remote_pending(h))) sl_remote_drain(h);
}

__attribute__((noinline)) void *sl_malloc_last(sl_heap_t *h, sl_page_t *pg,
                                               sl_block_t *b) {
  sl_touch_begin(h);
  if (sl_page_take(h, pg, b) == NULL) /* the list's end, or a damaged link */
    b = sl_alloc_class(h, sl_page_class_idx(pg));
  sl_touch_end(h);
  sl_remote_collect(h); /* after the pop: it may push onto pg */
  sl_debug_check(h);
  return b;
}

/* No page with a free block at direct[], a request above 1 KiB (its class
 * by arithmetic), or a large request. */
__attribute__((noinline)) void *sl_malloc_generic(sl_heap_t *h, size_t n) {
  void *p;
  sl_remote_collect(h);
  sl_touch_begin(h);
  if (n > SL_MAX_SMALL) {
    bool fresh;
    p = n > VA_MAX_REQUEST ? va_enomem() : sl_large_alloc(h, n, 0, &fresh);
  } else {
    p = sl_alloc_class(h, sl_class_of(n));
  }
  sl_touch_end(h);
  sl_debug_check(h);
  return p;
}

void *sl_malloc(void *heap, size_t n) { return sl_malloc_fast(heap, n); }

/* ---------------------------------------------------------------------------
 * Free slow path
 * ------------------------------------------------------------------------- */
/* Live block p of pg: push it, and move the page if its state changed. */
static void sl_free_block(sl_heap_t *h, sl_page_t *pg, void *p) {
  bool was_full = sl_page_freelist(pg) == NULL;
  uint32_t used = sl_page_push(pg, p);
  if (was_full) sl_page_unfull(h, pg);
  else if (used == 0 && !sl_page_keep_empty(pg)) sl_page_emptied(h, pg);
}

/* moved: a realloc copied p's payload out (sl_large_free). */
static void sl_free_in(sl_heap_t *h, void *owner, void *p, bool moved) {
  sl_touch_begin(h);
  if (sl_obj_kind(owner) != SL_KIND_PAGE) {
    va_error_kind_t bad = sl_large_check_ptr(h, owner, p);
    if (bad) sl_raise(h, bad, "free", p);
    else sl_large_free(h, owner, moved);
  } else {
    va_error_kind_t bad = sl_small_check_ptr(owner, p, sl_page_index(owner, p));
    if (bad) sl_raise(h, bad, "free", p);
    else sl_free_block(h, owner, p);
  }
  sl_touch_end(h);
  sl_debug_check(h);
}

__attribute__((noinline)) void sl_free_generic(sl_heap_t *h, void *owner,
                                               void *p) {
  sl_free_in(h, owner, p, false);
}

static void sl_free(void *heap, void *p) {
  if (p == NULL) return;
  if (VA_UNLIKELY(!sl_free_fast(heap, p)))
    sl_raise(heap, sl_unheld_kind(heap, p), "free", p);
}

/* ---------------------------------------------------------------------------
 * realloc, calloc, memalign, usable_size
 * ------------------------------------------------------------------------- */
/* A realloc of a pointer that is not a live block: reported, p untouched. */
static void *sl_realloc_bad(sl_heap_t *h, va_error_kind_t kind, void *p) {
  sl_raise(h, kind, "realloc", p);
  errno = EINVAL;
  return NULL;
}

void *sl_realloc(void *heap, void *p, size_t n) {
  sl_heap_t *h = heap;
  if (p == NULL) return sl_malloc_fast(h, n);
  void *owner = sl_map_get(h, p);
  if (owner == NULL) return sl_realloc_bad(h, sl_unheld_kind(h, p), p);
  return sl_realloc_in(h, owner, p, n);
}

void *sl_realloc_in(sl_heap_t *h, void *owner, void *p, size_t n) {
  if (n <= VA_MAX_REQUEST && sl_realloc_stays(owner, p, n)) return p; /* fast.h */
  va_error_kind_t bad = sl_check_ptr(h, owner, p);
  if (bad) return sl_realloc_bad(h, bad, p);
  if (n > VA_MAX_REQUEST) return va_enomem();
  size_t usable;
  if (sl_obj_kind(owner) != SL_KIND_PAGE) {
    if (n > SL_MAX_SMALL) {
      sl_touch_begin(h);
      bool done = sl_large_resize(h, owner, n);
      sl_touch_end(h);
      sl_debug_check(h);
      if (done) return p;
    }
    usable = sl_large_usable(owner);
  } else {
    usable = sl_page_block_size(owner); /* another class: moves */
  }
  void *q = sl_malloc_fast(h, n);
  if (q == NULL) return NULL;
  memcpy(q, p, n < usable ? n : usable);
  sl_free_in(h, owner, p, true);
  return q;
}

void *sl_calloc(void *heap, size_t count, size_t size) {
  sl_heap_t *h = heap;
  size_t total;
  if (!va_mul_ok(count, size, &total) || total > VA_MAX_REQUEST)
    return va_enomem();
  if (total > SL_MAX_SMALL) {
    bool fresh;
    sl_touch_begin(h);
    void *p = sl_large_alloc(h, total, 0, &fresh);
    if (p && !fresh) memset(p, 0, total); /* a fresh mapping is zero */
    sl_touch_end(h);
    sl_debug_check(h);
    return p;
  }
  void *p = sl_malloc_fast(h, total);
  if (p) memset(p, 0, total); /* slicing wrote links into fresh blocks too */
  return p;
}

/* Alignments <= 8: any block. <= 4096 with a small size: a class whose
 * grid is aligned to it (class.h). Otherwise a large mapping with an
 * aligned payload. */
void *sl_memalign(void *heap, size_t align, size_t n) {
  sl_heap_t *h = heap;
  if (!VA_IS_POW2(align)) {
    errno = EINVAL;
    return NULL;
  }
  if (n > VA_MAX_REQUEST) return va_enomem();
  if (align <= 8) return sl_malloc_fast(h, n);
  void *p;
  sl_touch_begin(h);
  if (align <= SL_GRID_ALIGN_MAX && n <= SL_MAX_SMALL) {
    p = sl_alloc_class(h, sl_class_aligned(align, n));
  } else {
    bool fresh;
    p = sl_large_alloc(h, n, align, &fresh);
  }
  sl_touch_end(h);
  sl_debug_check(h);
  return p;
}

static size_t sl_usable_size(void *heap, const void *p) {
  sl_heap_t *h = heap;
  if (p == NULL) return 0;
  void *owner = sl_map_get(h, p);
  va_error_kind_t bad = owner ? sl_check_ptr(h, owner, p) : sl_unheld_kind(h, p);
  if (bad) {
    sl_raise(h, bad, "usable_size", p);
    return 0;
  }
  return sl_obj_kind(owner) != SL_KIND_PAGE ? sl_large_usable(owner)
                                            : sl_page_block_size(owner);
}

/* ---------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------- */
/* A heap on src (NULL: the OS), its options already checked. */
static void *sl_create_on(const va_options_t *o, sl_source_t *src) {
  size_t bytes = VA_ALIGN_UP(
      sizeof(sl_heap_t) + (sizeof(void **) << SL_TOP_BITS), SL_OS_PAGE);
  sl_heap_t *h = sl_os_map(src, bytes, SL_OS_PAGE, NULL); /* zero; never in the map */
  if (h == NULL) return va_enomem();
  h->opts = *o;
  h->src = src;
  h->hot_key = ~(uintptr_t)0;
  h->free_key = va_mix64(va_seed(o->seed, h) ^ 0x66726565) | (uint64_t)1 << 63;
  h->idle_decay = o->page_decay_ns;
  h->heap_bytes = bytes;
  sl_pages_init(h);
  sl_map_init(h);
  return h;
}

void *sl_heap_create_in(const va_options_t *opts, sl_source_t *src) {
  va_options_t o = opts ? *opts : va_options_default();
  return sl_create_on(&o, src);
}

static void *sl_create(const va_options_t *opts) {
  va_options_t o = opts ? *opts : va_options_default();
  sl_source_t *src;
  if (!sl_source_from(&o, &src)) return NULL;
  return sl_create_on(&o, src);
}

static void sl_destroy(void *heap) {
  sl_heap_t *h = heap;
  if (h == NULL) return;
  sl_pages_release_all(h);
  sl_large_release_all(h);
  sl_seg_release_all(h);
  sl_map_release(h);
  /* The map's top slots are clear; with the record cleared too the whole
   * mapping goes back as zero (a region then need not clear it again). */
  sl_source_t *src = h->src;
  size_t bytes = h->heap_bytes;
  memset(h, 0, sizeof *h);
  sl_os_unmap_zero(src, h, bytes);
}

/* ---------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------- */
bool sl_block_info(void *heap, const void *p, size_t *class_idx, void **page) {
  sl_heap_t *h = heap;
  void *owner = p ? sl_map_get(h, p) : NULL;
  if (owner == NULL || sl_check_ptr(h, owner, p) != 0) return false;
  if (class_idx)
    *class_idx = sl_obj_kind(owner) != SL_KIND_PAGE ? SIZE_MAX
                                                    : sl_page_class_idx(owner);
  if (page) *page = owner;
  return true;
}

size_t sl_touch_peak(void *heap) { return ((sl_heap_t *)heap)->touch_peak; }

_Static_assert(SL_CLASS_COUNT <= SL_CENSUS_CLASSES, "the census has a row for every class");

void sl_heap_census(void *heap, sl_census_t *c) {
  const sl_heap_t *h = heap;
  memset(c, 0, sizeof *c);
  for (size_t k = 0; k < SL_CLASS_COUNT; k++) {
    sl_page_t *head = h->avail[k];
    c->class_pages[k] = h->cls[k].pages;
    c->class_reserve[k] = h->cls[k].reserve_count;
    c->class_avail[k] = sl_page_freelist(head) != NULL;
    c->head_empty[k] = head != SL_NONE && sl_page_used(head) == 0;
  }
  for (size_t k = 0; k < 2; k++) {
    for (sl_page_t *pg = h->idle[k]; pg; pg = sl_page_next(pg)) c->idle_pages[k]++;
    c->idle_newest_class[k] = h->idle[k] ? sl_page_class_idx(h->idle[k]) : SIZE_MAX;
  }
  c->idle_bytes = h->idle_bytes;
  c->idle_budget = sl_idle_budget(h);
  c->page_reserve = h->opts.page_reserve;
  c->pages_mapped = h->pages_mapped;
  c->pages_unmapped = h->pages_unmapped;
  c->pages_reformatted = h->pages_reformatted;
  c->large_live = h->large_count;
  c->large_cached = h->cache_count;
  c->cache_bytes = h->cache_bytes;
  c->cache_resident = h->cache_resident;
  c->large_mapped = h->large_mapped;
  c->large_cache = h->opts.large_cache;
  c->large_resident = h->opts.large_resident;
  c->large_resident_ratio = h->opts.large_resident_ratio;
  c->footprint = h->footprint;
  c->large_cache_min = h->opts.large_cache_min;
  c->large_offset = SL_LARGE_HDR;
  c->chunk = SL_CHUNK;
  c->cache_entries_max = SL_LARGE_CACHE_MAX;
  c->os_page = SL_OS_PAGE;
  c->carve_max = SL_SEG_CARVE_MAX;
  c->segments = h->seg_count;
  c->segs_mapped = h->segs_mapped;
  c->segs_unmapped = h->segs_unmapped;
  c->seg_decommits = h->seg_decommits;
  c->seg_free_resident = h->seg_dirty * SL_CHUNK; /* the checker proves the count */
  for (const sl_seg_t *seg = h->segs; seg; seg = seg->next)
    if (seg->used == 1) c->segs_empty++;
}

bool sl_block_place(void *heap, const void *p, sl_block_place_t *out) {
  sl_heap_t *h = heap;
  void *owner = NULL;
  size_t c;
  if (!sl_block_info(heap, p, &c, &owner)) return false;
  memset(out, 0, sizeof *out);
  out->class_idx = c;
  if (c == SIZE_MAX) {
    out->bytes = sl_large_map_size(owner);
    return true;
  }
  sl_page_t *pg = owner;
  out->used = sl_page_used(pg);
  out->capacity = sl_page_capacity(pg);
  out->avail_head = h->avail[c] == pg;
  out->keep_empty = sl_page_keep_empty(pg);
  out->full = sl_page_freelist(pg) == NULL;
  out->bytes = sl_page_page_size(pg);
  out->block_size = sl_page_block_size(pg);
  out->index = (size_t)((const uint8_t *)p - sl_page_blocks(pg)) / out->block_size;
  out->sliced = sl_page_bumped(pg);
  return true;
}

/* Empty pages: the reserves, an avail head with no live block, the pool;
 * and the large cache. */
void sl_heap_trim(void *heap) {
  sl_heap_t *h = heap;
  sl_pages_trim(h);
  sl_large_cache_flush(h);
  sl_seg_trim(h);
  sl_debug_check(h);
}

/* ---------------------------------------------------------------------------
 * Threads (slab.h, types.h)
 * ------------------------------------------------------------------------- */
bool sl_heap_share(void *heap, sl_shared_map_t *map, void *ctx) {
  sl_heap_t *h = heap;
  if (h->page_count || h->large_count || h->cache_count || h->shared) {
    errno = EINVAL; /* chunks mapped before would be missing from the map */
    return false;
  }
  h->shared = map;
  h->share_ctx = ctx;
  return true;
}

va_error_kind_t sl_unheld_kind(const void *heap, const void *p) {
  return sl_seg_freed_block(heap, p) ? VA_ERR_DOUBLE_FREE : VA_ERR_INVALID_FREE;
}

/* The instance defaults (2 pages, 64 MiB cache) are sized for one heap;
 * a thread's heap keeps one empty page per class and a 64 MiB large
 * cache whose pages go back by the decay (large.c) and by the adaptive
 * share, not by a fixed cap: a cap small enough to matter made every
 * reuse of a multi-MiB block fault its pages in again (7.6x glibc's time
 * on 5-25 MiB blocks), while the share follows the largest block cached.
 * Carved blocks (up to 1 MiB) are not cached but go back to their segment:
 * cached, they kept chunks only a large block of about their size could
 * reuse, and shedding their pages was one madvise each (size-mix: 616
 * madvise, 2.8x glibc's calls, at 112 MB); back in the segment, any carve
 * reuses them warm (293 madvise, 108 MB). Even two cached carved entries
 * cost 7 MB of peak RSS there. */
va_options_t sl_thread_heap_options(void) {
  va_options_t o = va_options_default();
  o.page_reserve = 1;        /* empty pages kept per class */
  o.large_cache = 64u << 20; /* freed large mappings kept for reuse */
  o.large_resident_ratio = 8; /* ... their pages within the adaptive share */
  o.large_cache_min = SL_SEG_CARVE_MAX + SL_CHUNK; /* carved runs go back to their segment */
  o.dirty_ratio = 2;          /* ... whose free chunks stay resident within 1/2 */
  return o;
}

/* What freeing p would be, from another thread: the immutable fields of
 * p's header, bumped, p's first word and its remote-free word (relaxed
 * reads; exact for a live block, whose words only the freeing thread may
 * change). A block freed remotely and not yet taken back is free. A block
 * that looks free is a double free: the holder's list is not to be walked
 * from here, and a live block looks free only by a 1 in 2^45 chance or
 * bytes made with the heap's secret key (types.h, Page layout). */
static va_error_kind_t sl_remote_check_ptr(const void *owner, const void *p,
                                           uint32_t *idx) {
  if (sl_obj_kind(owner) != SL_KIND_PAGE) {
    va_error_kind_t bad = sl_large_check_ptr(NULL, owner, p);
    if (bad) return bad;
    return sl_rword_get(&((const sl_large_t *)owner)->remote) & 1 ? VA_ERR_DOUBLE_FREE : 0;
  }
  *idx = sl_page_index(owner, p);
  const uint64_t *remote = sl_page_remote(owner);
  va_error_kind_t bad =
      *idx == UINT32_MAX || *idx >= sl_page_bumped(owner) ? VA_ERR_NOT_A_BLOCK
      : sl_block_looks_free(owner, p)                    ? VA_ERR_DOUBLE_FREE
      : remote && (sl_rword_get(remote + *idx / SL_RBITS) >> (*idx % SL_RBITS) & 1)
          ? VA_ERR_DOUBLE_FREE
          : 0;
  if (VA_UNLIKELY(bad) && sl_page_guard(owner) != SL_PAGE_GUARD) return VA_ERR_CORRUPTION;
  return bad;
}

static sl_heap_t *sl_owner_heap(const void *owner) {
  return sl_obj_kind(owner) == SL_KIND_PAGE ? sl_page_heap(owner) : sl_large_heap(owner);
}

const char *sl_shared_fault(const sl_shared_map_t *map, const void *p, const void **hdr) {
  const void *owner = sl_shared_get(map, p);
  *hdr = owner;
  return owner ? sl_owner_fault(NULL, owner) : NULL;
}

void *sl_shared_owner(const sl_shared_map_t *map, const void *p, size_t *usable,
                      va_error_kind_t *bad) {
  void *owner = sl_shared_get(map, p);
  uint32_t idx = 0;
  va_error_kind_t why = owner ? sl_remote_check_ptr(owner, p, &idx) : VA_ERR_INVALID_FREE;
  if (bad) *bad = why;
  if (why == VA_ERR_CORRUPTION) return NULL; /* its heap field is not to be followed */
  if (usable)
    *usable = owner == NULL || why ? 0
              : sl_obj_kind(owner) == SL_KIND_PAGE ? sl_page_block_size(owner)
                                                   : sl_large_usable(owner);
  return owner ? sl_owner_heap(owner)->share_ctx : NULL;
}

/* Queue node n (its word just got its first block) on heap h. The last
 * touch of the page: once n is on the queue the holder may take the block
 * back and release the page. */
static void sl_remote_enqueue(sl_heap_t *h, sl_rnode_t *n) {
  sl_rnode_t *head = atomic_load_explicit(&h->remote_queue, memory_order_relaxed);
  do {
    sl_rnode_set_next(n, head);
  } while (!atomic_compare_exchange_weak_explicit(&h->remote_queue, &head, n,
                                                  memory_order_release,
                                                  memory_order_relaxed));
}

void *sl_remote_free(const sl_shared_map_t *map, void *p, va_error_kind_t *bad) {
  void *owner = sl_shared_get(map, p);
  uint32_t idx = 0;
  *bad = owner ? sl_remote_check_ptr(owner, p, &idx) : VA_ERR_INVALID_FREE;
  if (*bad) return owner && *bad != VA_ERR_CORRUPTION ? sl_owner_heap(owner)->share_ctx : NULL;
  sl_heap_t *h = sl_owner_heap(owner);
  uint64_t *word, bit;
  sl_rnode_t *node;
  if (sl_obj_kind(owner) == SL_KIND_PAGE) {
    word = sl_page_remote(owner) + idx / SL_RBITS;
    bit = (uint64_t)1 << (idx % SL_RBITS);
    node = sl_page_rnode(owner) + idx / SL_RBITS;
  } else {
    word = &((sl_large_t *)owner)->remote;
    bit = 1;
    node = &((sl_large_t *)owner)->rnode;
  }
  uint64_t old = sl_rword_or(word, bit | SL_RQUEUED);
  if (old & bit) *bad = VA_ERR_DOUBLE_FREE; /* freed remotely already */
  else if (!(old & SL_RQUEUED)) sl_remote_enqueue(h, node);
  return h->share_ctx;
}

/* Block idx of pg, freed by another thread, comes back. */
/* One more block taken back from another thread. A relaxed store, not an
 * add: only the holder writes, and a reader on another thread
 * (vedalloc_stats) must see a whole word. */
static void sl_count_remote(sl_heap_t *h) {
  __atomic_store_n(&h->remote_frees, h->remote_frees + 1, __ATOMIC_RELAXED);
}

static void sl_remote_take_block(sl_heap_t *h, sl_page_t *pg, uint32_t idx) {
  void *p = sl_page_blocks(pg) + (size_t)idx * sl_page_block_size(pg);
  sl_touch_begin(h);
  va_error_kind_t bad = sl_small_check_ptr(pg, p, idx);
  if (bad) sl_raise(h, bad, "free", p);
  else {
    sl_free_block(h, pg, p);
    sl_count_remote(h);
  }
  sl_touch_end(h);
}

/* The blocks of one queued word (a page's, or a large mapping's). The page
 * cannot be released meanwhile by another node's blocks: a queued word
 * holds at least one live block of its page. */
static void sl_remote_take_node(sl_heap_t *h, sl_rnode_t *n) {
  void *hdr = sl_rnode_hdr(n);
  if (sl_obj_kind(hdr) != SL_KIND_PAGE) {
    sl_large_t *lg = hdr;
    if (!(sl_rword_take(&lg->remote) & 1)) return;
    if (sl_large_state(lg) != SL_LARGE_LIVE) sl_raise(h, VA_ERR_DOUBLE_FREE, "free", sl_large_payload(lg));
    else {
      sl_large_free(h, lg, false);
      sl_count_remote(h);
    }
    return;
  }
  sl_page_t *pg = hdr;
  size_t w = (size_t)(n - sl_page_rnode(pg));
  uint64_t bits = sl_rword_take(sl_page_remote(pg) + w) & ~SL_RQUEUED;
  for (; bits; bits &= bits - 1)
    sl_remote_take_block(h, pg, (uint32_t)(w * SL_RBITS + (unsigned)__builtin_ctzll(bits)));
}

/* Why queue node n cannot be followed, or NULL: it lies in metadata the
 * map gives h (a page's node array, a large header's node), names that
 * header, and the header is sound. Read nothing of n before this: an
 * underflow may have rewritten a page's nodes, or a large header. */
static const char *sl_rnode_fault(const sl_heap_t *h, const sl_rnode_t *n, const void **near) {
  const void *owner = sl_map_get(h, n);
  *near = owner ? owner : (const void *)n;
  if (owner == NULL) return "V2 sl.remote: a queued node lies outside the heap";
  const char *why = sl_owner_fault(h, owner);
  if (why) return why;
  bool large = sl_obj_kind(owner) != SL_KIND_PAGE;
  const sl_rnode_t *first = large ? &((const sl_large_t *)owner)->rnode : sl_page_rnode(owner);
  size_t words = large ? 1 : sl_page_rwords(owner);
  if (n < first || n >= first + words || sl_rnode_hdr(n) != owner)
    return "V2 sl.remote: a queued node is not its header's";
  return NULL;
}

void sl_remote_drain(void *heap) {
  sl_heap_t *h = heap;
  sl_rnode_t *n = atomic_exchange_explicit(&h->remote_queue, NULL, memory_order_acquire);
  while (n) {
    const void *near;
    const char *why = sl_rnode_fault(h, n, &near);
    if (VA_UNLIKELY(why != NULL)) { /* reported; the rest is dropped, not followed */
      va_raise_corrupt(&h->opts, "free", near, why);
      break;
    }
    sl_rnode_t *next = sl_rnode_next(n); /* before the take: a pusher may requeue n */
    sl_remote_take_node(h, n);
    n = next;
  }
  sl_debug_check(h);
}

/* ---------------------------------------------------------------------------
 * The allocator tables
 * ------------------------------------------------------------------------- */
const va_allocator_t sl_allocator = {
    .name = "slab",
    .create = sl_create,
    .destroy = sl_destroy,
    .malloc = sl_malloc,
    .free = sl_free,
    .realloc = sl_realloc,
    .calloc = sl_calloc,
    .memalign = sl_memalign,
    .usable_size = sl_usable_size,
    .check = sl_check,
    .stats = sl_stats,
    .check_empty = sl_check_empty,
    .walk = sl_walk,
};

/* The same allocator with each instance entered from birth in a shared map
 * of its own, as the drop-in's per-thread heaps are, so the harnesses drive
 * that path too and the checker verifies "sl.shared" after every op. */
static void *sl_create_shared(const va_options_t *opts) {
  sl_heap_t *h = sl_create(opts);
  if (h == NULL) return NULL;
  sl_shared_map_t *map = sl_shared_map_create_in(h->src); /* the heap's source */
  if (map == NULL || !sl_heap_share(h, map, h)) {
    sl_destroy(h);
    sl_shared_map_destroy(map);
    return va_enomem();
  }
  return h;
}

static void sl_destroy_shared(void *heap) {
  if (heap == NULL) return;
  sl_shared_map_t *map = ((sl_heap_t *)heap)->shared;
  sl_destroy(heap);
  sl_shared_map_destroy(map);
}

const va_allocator_t sl_shared_allocator = {
    .name = "slab-shared",
    .create = sl_create_shared,
    .destroy = sl_destroy_shared,
    .malloc = sl_malloc,
    .free = sl_free,
    .realloc = sl_realloc,
    .calloc = sl_calloc,
    .memalign = sl_memalign,
    .usable_size = sl_usable_size,
    .check = sl_check,
    .stats = sl_stats,
    .check_empty = sl_check_empty,
    .walk = sl_walk,
};
