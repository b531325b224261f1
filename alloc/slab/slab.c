/* vedalloc V2 — slab allocator: size classes, pages, the entry points.
 *
 * Policy. A request n <= 32 KiB is served by the class of the smallest block
 * size >= n (41 classes, types.h); larger requests get their own mapping
 * (large.c). Each class keeps a list of pages with a free block; malloc pops
 * the head page's LIFO free list, free pushes onto the block's own page, so
 * a freed block is the next one handed out (cache-warm). Fresh pages are
 * sliced lazily, SL_SLICE_BYTES at a time. A page whose list runs dry is
 * refilled from its bump region, or leaves the list when full; a full page
 * that gets a block back rejoins at the tail. Empty pages beyond
 * opts.page_reserve per class go back to the OS.
 *
 * Safety. free() trusts nothing in the block or just before it: the page
 * map (per instance) says whether the chunk is ours and which header owns
 * it; the grid says whether p is a block start; the page's bitmap says
 * whether the block is live. Foreign, interior and double frees are
 * reported through the error hook and change nothing.
 *
 * Complexity. malloc, free, calloc (plus the memset), realloc within a
 * class: O(1), no loop over pages or blocks, except slicing (bounded) and
 * large mappings (O(chunks) map writes, below the cost of faulting them).
 *
 * Threads. An instance is single-threaded; sl_heap_share and the shared
 * map (shared.c, types.h) let a layer above run one instance per thread.
 * Non-goals. Locking inside the instance; caller-given
 * regions or sbrk as a source (V2 is mmap by design: create refuses them).
 */
#include <stdio.h>
#include <string.h>

#include "alloc/slab/types.h"

/* ---------------------------------------------------------------------------
 * Immutable tables
 * ------------------------------------------------------------------------- */
const uint32_t sl_class_sizes[SL_CLASS_COUNT] = {
    8,     16,    32,    48,    64,    80,    96,    112,  128,  /* 16 B steps */
    160,   192,   224,   256,   320,   384,   448,   512,        /* 4 per 2^k */
    640,   768,   896,   1024,  1280,  1536,  1792,  2048,
    2560,  3072,  3584,  4096,  5120,  6144,  7168,  8192,
    10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
};

const uint8_t sl_class_by8[SL_MEDIUM_MIN / 8 + 1] = {
    0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
    8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12,
    12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14,
    14, 15, 15, 15, 15, 15, 15, 15, 15, 16, 16, 16, 16, 16, 16, 16,
    16, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17,
    17, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
    19, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20,
};

const sl_page_t sl_page_none = {.kind = SL_KIND_PAGE, .free = NULL};

/* Whole-heap check after every operation at VA_CHECK_LEVEL 3. */
static void sl_debug_check(sl_heap_t *h) {
  if (!VA_EXPENSIVE) return;
  va_report_t r;
  if (!sl_check(h, &r)) {
    char msg[300];
    snprintf(msg, sizeof msg, "sl_check: %s at %p: %s", r.invariant, r.addr,
             r.detail);
    va_assert_fail(msg, __FILE__, __LINE__);
  }
}

SL_META __attribute__((noinline)) void sl_raise(sl_heap_t *h,
                                               va_error_kind_t kind,
                                               const char *op, const void *p) {
  va_options_t opts = h->opts;
  va_raise(&opts, kind, op, p);
}

/* ---------------------------------------------------------------------------
 * Page map and footprint
 * ------------------------------------------------------------------------- */
SL_META void sl_footprint_add(sl_heap_t *h, size_t bytes) {
  h->footprint += bytes;
  if (h->footprint > h->peak_footprint) h->peak_footprint = h->footprint;
}

/* Count OS page i of the heap mapping as metadata, once. */
SL_META static void sl_meta_touch_heap(sl_heap_t *h, size_t i) {
  if (sl_touch(h->heap_touched, i)) {
    h->meta_bytes += SL_OS_PAGE;
    sl_footprint_add(h, SL_OS_PAGE);
  }
}

SL_META static void **sl_map_leaf(sl_heap_t *h, uintptr_t a, bool create) {
  void ***slot = &h->map[a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS)];
  if (*slot || !create) return *slot;
  void **leaf = sl_os_map(SL_LEAF_BYTES, 4096);
  if (!leaf) return NULL;
  VA_POISON(leaf, SL_LEAF_BYTES);
  *slot = leaf;
  sl_meta_touch_heap(h, (size_t)((uint8_t *)slot - (uint8_t *)h) / SL_OS_PAGE);
  if (h->hot_leaf == NULL) {
    h->hot_leaf = leaf;
    h->hot_key = a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS);
  }
  if (h->leaves < SL_LEAF_TRACK) {
    h->leaf_keys[h->leaves] = (uint32_t)(a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS));
  } else { /* untracked: counted whole */
    h->meta_bytes += SL_LEAF_BYTES;
    sl_footprint_add(h, SL_LEAF_BYTES);
  }
  h->leaves++;
  return leaf;
}

/* Touched-page bits of the leaf with top index key, or NULL if untracked. */
SL_META static uint64_t *sl_leaf_bits(sl_heap_t *h, uintptr_t key) {
  size_t n = h->leaves < SL_LEAF_TRACK ? h->leaves : SL_LEAF_TRACK;
  for (size_t i = 0; i < n; i++)
    if (h->leaf_keys[i] == key) return h->leaf_touched[i];
  return NULL;
}

SL_META bool sl_map_set(sl_heap_t *h, void *base, size_t size, void *v) {
  uintptr_t a = (uintptr_t)base, end = a + size;
  if (end >> SL_ADDR_BITS) return false; /* outside the mapped address space */
  /* Create every leaf first, so a failure leaves the map unchanged. */
  for (uintptr_t c = a; c < end; c += SL_CHUNK)
    if (v && !sl_map_leaf(h, c, true)) return false;
  if (h->shared && !sl_shared_set(base, size, v)) return false;
  uintptr_t bits_key = ~(uintptr_t)0;
  uint64_t *bits = NULL;
  for (uintptr_t c = a; c < end; c += SL_CHUNK) {
    void **leaf = sl_map_leaf(h, c, false);
    if (leaf == NULL) continue;
    size_t i = (c >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1);
    leaf[i] = v;
    uintptr_t key = c >> (SL_CHUNK_SHIFT + SL_LEAF_BITS);
    if (key != bits_key) bits_key = key, bits = sl_leaf_bits(h, key);
    if (bits && sl_touch(bits, i * sizeof(void *) / SL_OS_PAGE)) {
      h->meta_bytes += SL_OS_PAGE;
      sl_footprint_add(h, SL_OS_PAGE);
    }
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Class lists: avail (doubly linked, head in h->avail), empty (singly)
 * ------------------------------------------------------------------------- */
/* Recompute the head's keep flag after the head or empty_count changed. */
SL_META static void sl_class_keep_update(sl_heap_t *h, size_t c) {
  sl_page_t *head = h->avail[c];
  if (head != SL_NONE)
    head->keep = h->cls[c].empty_count < h->opts.page_reserve;
}

/* The one writer of avail[c]: keeps direct[] and the keep flags in step. */
SL_META static void sl_avail_set_head(sl_heap_t *h, size_t c, sl_page_t *pg) {
  if (h->avail[c] && h->avail[c] != SL_NONE) h->avail[c]->keep = 0;
  h->avail[c] = pg;
  sl_class_keep_update(h, c);
  if (sl_class_sizes[c] > SL_MEDIUM_MIN) return;
  size_t k = c ? sl_class_sizes[c - 1] / 8 + 1 : 0;
  for (; k <= sl_class_sizes[c] / 8; k++) h->direct[k] = pg;
}

SL_META static void sl_avail_push_head(sl_heap_t *h, sl_page_t *pg) {
  size_t c = pg->class_idx;
  sl_page_t *head = h->avail[c];
  pg->list = SL_LIST_AVAIL;
  pg->prev = NULL;
  pg->next = head == SL_NONE ? NULL : head;
  if (head == SL_NONE) h->cls[c].avail_tail = pg;
  else head->prev = pg, h->last_touched++;
  sl_avail_set_head(h, c, pg);
}

SL_META static void sl_avail_append(sl_heap_t *h, sl_page_t *pg) {
  size_t c = pg->class_idx;
  sl_page_t *tail = h->cls[c].avail_tail;
  if (tail == NULL) {
    sl_avail_push_head(h, pg);
    return;
  }
  pg->list = SL_LIST_AVAIL;
  pg->prev = tail;
  pg->next = NULL;
  tail->next = pg;
  h->cls[c].avail_tail = pg;
  h->last_touched++;
}

SL_META static void sl_avail_remove(sl_heap_t *h, sl_page_t *pg) {
  size_t c = pg->class_idx;
  if (pg->prev) pg->prev->next = pg->next, h->last_touched++;
  else sl_avail_set_head(h, c, pg->next ? pg->next : SL_NONE);
  if (pg->next) pg->next->prev = pg->prev, h->last_touched++;
  else h->cls[c].avail_tail = pg->prev;
  pg->next = pg->prev = NULL;
}

/* ---------------------------------------------------------------------------
 * Pages
 * ------------------------------------------------------------------------- */

/* Slice the next SL_SLICE_BYTES (at least one block) of the bump region
 * onto the free list, in address order. Called with pg->free == NULL. */
SL_META static void sl_page_slice(sl_page_t *pg) {
  uint32_t bs = pg->block_size;
  uint32_t n = SL_SLICE_BYTES / bs ? SL_SLICE_BYTES / bs : 1;
  if (n > pg->capacity - pg->bumped) n = pg->capacity - pg->bumped;
  uint8_t *first = pg->blocks + (size_t)pg->bumped * bs;
  for (uint32_t i = 0; i + 1 < n; i++)
    ((sl_block_t *)(first + (size_t)i * bs))->next =
        (sl_block_t *)(first + (size_t)(i + 1) * bs);
  ((sl_block_t *)(first + (size_t)(n - 1) * bs))->next = pg->free;
  pg->free = (sl_block_t *)first;
  pg->bumped += n;
}

/* Lay out page pg (fresh, or an idle page of another class) for class c:
 * header, bitmap, grid (types.h), and slice its first blocks. A reused
 * page's bitmap area may hold old blocks' bytes: `dirty` clears it. */
SL_META static void sl_page_format(sl_page_t *pg, size_t c, bool dirty) {
  size_t ps = sl_class_page_size(c), bs = sl_class_sizes[c];
  size_t hdr = (size_t)pg->color * 64 + sizeof(sl_page_t);
  size_t words = ((ps - hdr) / bs + 63) / 64;
  size_t ga = bs & (~bs + 1); /* lowest set bit: the grid's alignment */
  if (ga > SL_GRID_ALIGN_MAX) ga = SL_GRID_ALIGN_MAX;
  if (ga < VA_ALIGNMENT) ga = VA_ALIGNMENT;
  size_t grid = VA_ALIGN_UP(hdr + words * 8, ga); /* from the mapping start */
  pg->kind = SL_KIND_PAGE;
  pg->class_idx = (uint8_t)c;
  pg->keep = 0;
  pg->used = 0;
  pg->bumped = 0;
  pg->free = NULL;
  pg->block_size = (uint32_t)bs;
  pg->page_size = (uint32_t)ps;
  pg->blocks = SL_PAGE_BASE(pg) + grid;
  pg->capacity = (uint32_t)((ps - grid) / bs);
  pg->grid_bytes = (uint32_t)(pg->capacity * bs);
  pg->div_magic = (((uint64_t)1 << 32) + bs - 1) / bs;
  if (dirty) { /* memset is checked by ASan: lift the poison around it */
    VA_UNPOISON(pg->bitmap, words * 8);
    memset(pg->bitmap, 0, words * 8);
    VA_POISON(pg->bitmap, words * 8);
  }
  sl_page_slice(pg);
}

SL_META static sl_page_t *sl_page_create(sl_heap_t *h, size_t c) {
  size_t ps = sl_class_page_size(c), color = h->next_color % SL_COLORS;
  uint8_t *mem = sl_os_map(ps, SL_CHUNK);
  if (mem == NULL) return NULL;
  sl_page_t *pg = (sl_page_t *)(mem + color * 64);
  if (!sl_map_set(h, mem, ps, pg)) {
    sl_os_unmap(mem, ps);
    return NULL;
  }
  h->next_color++;
  VA_POISON(mem, ps); /* header, bitmap, grid: all ours until handed out */
  pg->color = (uint8_t)color;
  pg->heap = h;
  sl_page_format(pg, c, false);
  /* The heap's all-list, newest first. */
  pg->all_prev = NULL;
  pg->all_next = h->all;
  if (h->all) h->all->all_prev = pg;
  h->all = pg;
  h->page_count++;
  sl_footprint_add(h, ps);
  return pg;
}

SL_META static void sl_page_release(sl_heap_t *h, sl_page_t *pg) {
  if (pg->all_prev) pg->all_prev->all_next = pg->all_next;
  else h->all = pg->all_next;
  if (pg->all_next) pg->all_next->all_prev = pg->all_prev;
  h->page_count--;
  size_t ps = pg->page_size;
  uint8_t *base = SL_PAGE_BASE(pg);
  sl_map_set(h, base, ps, NULL);
  h->footprint -= ps;
  sl_os_unmap(base, ps);
}

/* ---------------------------------------------------------------------------
 * The idle pool: empty pages beyond the per-class reserve, any class, kept
 * up to sl_idle_budget bytes so that a working set that empties and refills
 * pages (a loop that frees everything it allocated, a phase change between
 * classes) reuses them instead of paying munmap + mmap + page faults each
 * time. Over the budget the oldest pages go back in one batch, down to half
 * the budget: a heap hovering at the limit does not unmap on every free.
 * ------------------------------------------------------------------------- */
SL_META static void sl_idle_unlink(sl_heap_t *h, sl_page_t *pg) {
  size_t k = pg->page_size == SL_MEDIUM_PAGE;
  if (pg->prev) pg->prev->next = pg->next;
  else h->idle[k] = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
  else h->idle_tail[k] = pg->prev;
  pg->next = pg->prev = NULL;
  h->idle_count--;
  h->idle_bytes -= pg->page_size;
}

/* Unmap the oldest idle pages (large pages first) until idle_bytes <=
 * target, skipping pages that entered the pool after `young` (ns). */
SL_META static void sl_idle_shrink(sl_heap_t *h, size_t target,
                                   uint64_t young) {
  for (size_t k = 2; k-- > 0;)
    while (h->idle_bytes > target && h->idle_tail[k] &&
           h->idle_tail[k]->idle_since <= young) {
      sl_page_t *pg = h->idle_tail[k];
      sl_idle_unlink(h, pg);
      sl_page_release(h, pg);
    }
}

SL_META static void sl_idle_put(sl_heap_t *h, sl_page_t *pg) {
  size_t k = pg->page_size == SL_MEDIUM_PAGE;
  h->cls[pg->class_idx].pages--;
  pg->list = SL_LIST_IDLE;
  pg->keep = 0;
  pg->prev = NULL;
  pg->next = h->idle[k];
  if (pg->next) pg->next->prev = pg;
  else h->idle_tail[k] = pg;
  h->idle[k] = pg;
  h->idle_count++;
  h->idle_bytes += pg->page_size;
  size_t budget = sl_idle_budget(h);
  uint64_t now = h->idle_decay ? sl_now_ns() : 0;
  pg->idle_since = now;
  if (h->idle_bytes > budget) {
    h->idle_clock = now;
    sl_idle_shrink(h, budget / 2, now > h->idle_decay ? now - h->idle_decay : 0);
  }
}

/* The newest idle page of class c's page size, laid out for c; or NULL. */
SL_META static sl_page_t *sl_idle_take(sl_heap_t *h, size_t c) {
  sl_page_t *pg = h->idle[sl_class_page_size(c) == SL_MEDIUM_PAGE];
  if (pg == NULL) return NULL;
  sl_idle_unlink(h, pg);
  if (pg->class_idx != c) sl_page_format(pg, c, true);
  return pg;
}

/* A page for class c whose free list is not empty, at the avail head:
 * an empty page of the class, else an idle one, else a new one. */
SL_META static sl_page_t *sl_page_acquire(sl_heap_t *h, size_t c) {
  sl_class_t *k = &h->cls[c];
  sl_page_t *pg = k->empty;
  if (pg) {
    k->empty = pg->next;
    k->empty_count--;
  } else {
    pg = sl_idle_take(h, c);
    if (pg == NULL) pg = sl_page_create(h, c);
    if (pg == NULL) return NULL;
    k->pages++;
  }
  sl_avail_push_head(h, pg);
  return pg;
}

/* The free list of the head page ran dry: slice more, or retire it as full. */
SL_META __attribute__((noinline)) static void sl_page_refill(sl_heap_t *h,
                                                             sl_page_t *pg) {
  if (pg->bumped < pg->capacity) {
    sl_page_slice(pg);
    return;
  }
  sl_avail_remove(h, pg);
  pg->list = SL_LIST_FULL;
}

/* A page just became empty and is not a head we may keep: park it on the
 * empty list if the reserve has room, else in the idle pool. The reserve
 * counts the empty list plus the avail head when that is empty. */
SL_META __attribute__((noinline)) static void sl_page_idle(sl_heap_t *h,
                                                           sl_page_t *pg) {
  size_t c = pg->class_idx;
  sl_class_t *k = &h->cls[c];
  sl_page_t *head = h->avail[c];
  size_t held = k->empty_count + (head != pg && head->used == 0);
  sl_avail_remove(h, pg);
  if (head != pg && held < h->opts.page_reserve) {
    pg->list = SL_LIST_EMPTY;
    pg->next = k->empty;
    k->empty = pg;
    k->empty_count++;
    sl_class_keep_update(h, c);
    return;
  }
  sl_idle_put(h, pg);
}

/* After a free left pg with used == 0: the head page stays put while the
 * reserve allows (pg->keep: the common malloc/free ping-pong), else
 * sl_page_idle. */
SL_META static inline void sl_page_on_empty(sl_heap_t *h, sl_page_t *pg) {
  if (VA_LIKELY(pg->keep)) return;
  sl_page_idle(h, pg);
}

/* A full page got a block back: it rejoins its class at the tail. */
SL_META __attribute__((noinline)) static void sl_page_unfull(sl_heap_t *h,
                                                             sl_page_t *pg) {
  sl_avail_append(h, pg);
  if (pg->used == 0) sl_page_on_empty(h, pg);
}

/* Hand out block b, the head of pg's free list. */
SL_META static inline void *sl_page_take(sl_heap_t *h, sl_page_t *pg,
                                         sl_block_t *b) {
  sl_block_t *next = b->next;
  pg->free = next;
  pg->used++;
  size_t idx = (((uintptr_t)b - (uintptr_t)pg->blocks) * pg->div_magic) >> 32;
  VA_ASSERT_LOCAL(!(pg->bitmap[idx >> 6] & ((uint64_t)1 << (idx & 63))));
  pg->bitmap[idx >> 6] |= (uint64_t)1 << (idx & 63);
  if (VA_UNLIKELY(next == NULL)) sl_page_refill(h, pg);
  VA_UNPOISON(b, pg->block_size);
  return b;
}

/* ---------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------- */

/* A block of class c (the avail head, or a page acquired for it). */
SL_META static void *sl_alloc_class(sl_heap_t *h, size_t c) {
  sl_page_t *pg = h->avail[c];
  h->last_touched = 1;
  if (pg->free == NULL) {
    pg = sl_page_acquire(h, c);
    if (pg == NULL) return va_enomem();
  }
  return sl_page_take(h, pg, pg->free);
}

/* Slow path: no page with a free block in the class, a request above 1 KiB
 * (its class by arithmetic), or a large request. */
SL_META __attribute__((noinline)) static void *sl_malloc_generic(sl_heap_t *h,
                                                                 size_t n) {
  void *p;
  h->last_touched = 1;
  if (n > SL_MAX_SMALL) {
    bool fresh;
    p = n > VA_MAX_REQUEST ? va_enomem() : sl_large_alloc(h, n, 0, &fresh);
  } else {
    p = sl_alloc_class(h, sl_class_of(n));
  }
  sl_debug_check(h);
  return p;
}

/* Fast path: one load finds the page (direct[] by size), pop its list and
 * set the block's bit; everything else is sl_malloc_generic. ~30
 * instructions; see types.h for the measured cost. */
SL_META void *sl_malloc(void *heap, size_t n) {
  sl_heap_t *h = heap;
  if (VA_LIKELY(n <= SL_MEDIUM_MIN)) { /* blocks above 1 KiB: generic */
    sl_page_t *pg = h->direct[(n + 7) >> 3];
    sl_block_t *b = pg->free;
    if (VA_LIKELY(b != NULL)) {
      h->last_touched = 1;
      void *p = sl_page_take(h, pg, b);
      sl_debug_check(h);
      return p;
    }
  }
  return sl_malloc_generic(h, n);
}

/* ---------------------------------------------------------------------------
 * Free
 * ------------------------------------------------------------------------- */

/* Report why p is not a live block of pg. */
SL_META __attribute__((noinline)) static void
sl_small_bad(sl_heap_t *h, sl_page_t *pg, const void *p, const char *op) {
  uint32_t idx = sl_page_index(pg, p);
  va_error_kind_t kind = idx == UINT32_MAX || idx >= pg->bumped
                             ? VA_ERR_NOT_A_BLOCK
                             : VA_ERR_DOUBLE_FREE;
  sl_raise(h, kind, op, p);
}

/* Is p a live block of pg? Reports through the hook when not. */
SL_META static inline bool sl_small_valid(sl_heap_t *h, sl_page_t *pg,
                                          const void *p, const char *op) {
  uint32_t idx = sl_page_index(pg, p);
  if (VA_LIKELY(idx != UINT32_MAX) &&
      VA_LIKELY(pg->bitmap[idx >> 6] & ((uint64_t)1 << (idx & 63))))
    return true;
  sl_small_bad(h, pg, p, op);
  return false;
}

/* Free p, found in pg (the map entry of its chunk). Inlined into both
 * entry points below: grid check by multiply, bitmap test and clear, push
 * (~50 instructions with the lookup, types.h); a page changing state (full
 * -> not, or empty and not `keep`) takes a named slow path. */
SL_META __attribute__((always_inline)) static inline void
sl_free_in(sl_heap_t *h, sl_page_t *pg, void *p) {
  h->last_touched = 1;
  if (VA_UNLIKELY(pg->kind != SL_KIND_PAGE)) {
    sl_large_free(h, (sl_large_t *)pg, p, "free");
    sl_debug_check(h);
    return;
  }
  /* Inline sl_small_valid: one offset, one multiply, one bitmap word. */
  size_t off = (uintptr_t)p - (uintptr_t)pg->blocks; /* huge if p < blocks */
  if (VA_UNLIKELY(off >= pg->grid_bytes)) goto bad;
  size_t idx = (off * pg->div_magic) >> 32;
  uint64_t *word = &pg->bitmap[idx >> 6], bit = (uint64_t)1 << (idx & 63);
  if (VA_UNLIKELY(idx * pg->block_size != off || !(*word & bit))) goto bad;
  *word ^= bit;
  VA_POISON(p, pg->block_size);
  sl_block_t *b = p, *old = pg->free;
  b->next = old;
  pg->free = b;
  uint32_t used = --pg->used;
  if (VA_UNLIKELY(old == NULL)) sl_page_unfull(h, pg);
  else if (VA_UNLIKELY(used == 0)) sl_page_on_empty(h, pg);
  sl_debug_check(h);
  return;
bad:
  sl_small_bad(h, pg, p, "free");
}

/* Fast path: map lookup, then sl_free_in. */
SL_META static void sl_free(void *heap, void *p) {
  if (p == NULL) return;
  sl_heap_t *h = heap;
  sl_page_t *pg = sl_map_get(h, p);
  if (VA_UNLIKELY(pg == NULL)) {
    sl_raise(h, VA_ERR_INVALID_FREE, "free", p);
    return;
  }
  sl_free_in(h, pg, p);
}

/* The same, but a pointer outside the heap is the caller's to route (to
 * the heap that owns it), not misuse. */
SL_META bool sl_free_local(void *heap, void *p) {
  sl_heap_t *h = heap;
  sl_page_t *pg = sl_map_get(h, p);
  if (VA_UNLIKELY(pg == NULL)) return false;
  sl_free_in(h, pg, p);
  return true;
}

/* ---------------------------------------------------------------------------
 * realloc, calloc, memalign, usable_size
 * ------------------------------------------------------------------------- */
SL_META void *sl_realloc(void *heap, void *p, size_t n) {
  sl_heap_t *h = heap;
  if (p == NULL) return sl_malloc(h, n);
  void *owner = sl_map_get(h, p);
  if (owner == NULL) {
    sl_raise(h, VA_ERR_INVALID_FREE, "realloc", p);
    errno = EINVAL;
    return NULL;
  }
  h->last_touched = 1;
  if (((sl_page_t *)owner)->kind != SL_KIND_PAGE) {
    sl_large_t *lg = owner;
    if (!sl_large_valid(h, lg, p, "realloc")) return errno = EINVAL, NULL;
    if (n > VA_MAX_REQUEST) return va_enomem();
    void *q = sl_large_realloc(h, lg, p, n);
    sl_debug_check(h);
    return q;
  }
  sl_page_t *pg = owner;
  if (!sl_small_valid(h, pg, p, "realloc")) return errno = EINVAL, NULL;
  if (n > VA_MAX_REQUEST) return va_enomem();
  if (n <= SL_MAX_SMALL && sl_class_of(n) == pg->class_idx) return p;
  void *q = sl_malloc(h, n);
  if (q == NULL) return NULL;
  memcpy(q, p, n < pg->block_size ? n : pg->block_size);
  sl_free(h, p);
  return q;
}

SL_META void *sl_calloc(void *heap, size_t count, size_t size) {
  sl_heap_t *h = heap;
  size_t total;
  if (!va_mul_ok(count, size, &total) || total > VA_MAX_REQUEST)
    return va_enomem();
  if (total > SL_MAX_SMALL) {
    bool fresh;
    h->last_touched = 1;
    void *p = sl_large_alloc(h, total, 0, &fresh);
    if (p && !fresh) memset(p, 0, total); /* a fresh mapping is zero */
    sl_debug_check(h);
    return p;
  }
  void *p = sl_malloc(h, total);
  if (p) memset(p, 0, total); /* slicing wrote links into fresh blocks too */
  return p;
}

/* Alignments <= 8: any block. <= 4096 with a small size: the first class at
 * or above the size whose block size is a multiple of the alignment (its
 * grid is aligned to it). Otherwise a large mapping with an aligned payload. */
SL_META void *sl_memalign(void *heap, size_t align, size_t n) {
  sl_heap_t *h = heap;
  if (!VA_IS_POW2(align)) {
    errno = EINVAL;
    return NULL;
  }
  if (n > VA_MAX_REQUEST) return va_enomem();
  if (align <= 8) return sl_malloc(h, n);
  void *p;
  if (align <= SL_GRID_ALIGN_MAX && n <= SL_MAX_SMALL) {
    size_t c = sl_class_of(n < align ? align : n);
    while (sl_class_sizes[c] % align) c++; /* stops at 32768 at the latest */
    p = sl_alloc_class(h, c);
  } else {
    bool fresh;
    h->last_touched = 1;
    p = sl_large_alloc(h, n, align, &fresh);
  }
  sl_debug_check(h);
  return p;
}

SL_META static size_t sl_usable_size(void *heap, const void *p) {
  sl_heap_t *h = heap;
  if (p == NULL) return 0;
  void *owner = sl_map_get(h, p);
  if (owner == NULL) {
    sl_raise(h, VA_ERR_INVALID_FREE, "usable_size", p);
    return 0;
  }
  if (((sl_page_t *)owner)->kind != SL_KIND_PAGE)
    return sl_large_valid(h, owner, p, "usable_size") ? sl_large_usable(owner)
                                                       : 0;
  sl_page_t *pg = owner;
  return sl_small_valid(h, pg, p, "usable_size") ? pg->block_size : 0;
}

/* ---------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------- */
SL_META static void *sl_create(const va_options_t *opts) {
  va_options_t o = opts ? *opts : va_options_default();
  if (o.source != VA_SOURCE_DEFAULT && o.source != VA_SOURCE_MMAP) {
    errno = EINVAL; /* V2 maps its own pages; see the non-goals above */
    return NULL;
  }
  size_t bytes = VA_ALIGN_UP(
      sizeof(sl_heap_t) + (sizeof(void **) << SL_TOP_BITS), 4096);
  sl_heap_t *h = sl_os_map(bytes, 4096); /* never in the map: no chunk */
  if (h == NULL) return va_enomem();
  VA_POISON(h, bytes);
  h->opts = o;
  h->hot_key = ~(uintptr_t)0;
  h->idle_decay = SL_IDLE_DECAY_NS;
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) sl_avail_set_head(h, c, SL_NONE);
  h->heap_bytes = bytes;
  for (size_t i = 0; i * SL_OS_PAGE < sizeof(sl_heap_t); i++)
    sl_meta_touch_heap(h, i); /* the struct; map[] counts as slots are set */
  return h;
}

SL_META static void sl_destroy(void *heap) {
  sl_heap_t *h = heap;
  if (h == NULL) return;
  while (h->all) sl_page_release(h, h->all);
  sl_large_destroy_all(h);
  /* Reading all of map[] would fault in 256 KiB of zero pages: walk the
   * remembered leaves, and the whole top only past SL_LEAF_TRACK leaves. */
  if (h->leaves <= SL_LEAF_TRACK) {
    for (size_t i = 0; i < h->leaves; i++)
      sl_os_unmap(h->map[h->leaf_keys[i]], SL_LEAF_BYTES);
  } else {
    for (size_t t = 0; t < ((size_t)1 << SL_TOP_BITS); t++)
      if (h->map[t]) sl_os_unmap(h->map[t], SL_LEAF_BYTES);
  }
  sl_os_unmap(h, h->heap_bytes);
}

/* ---------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------- */
size_t sl_class_count(void) { return SL_CLASS_COUNT; }
size_t sl_max_small(void) { return SL_MAX_SMALL; }
size_t sl_size_class(size_t n) { return sl_class_of(n); }
size_t sl_class_size(size_t idx) {
  return idx < SL_CLASS_COUNT ? sl_class_sizes[idx] : 0;
}

SL_META bool sl_block_info(void *heap, const void *p, size_t *class_idx,
                           void **page) {
  sl_heap_t *h = heap;
  void *owner = p ? sl_map_get(h, p) : NULL;
  if (owner == NULL) return false;
  if (((sl_page_t *)owner)->kind != SL_KIND_PAGE) {
    sl_large_t *lg = owner;
    if (lg->state != SL_LARGE_LIVE || lg->payload != p) return false;
    if (class_idx) *class_idx = SIZE_MAX;
  } else {
    sl_page_t *pg = owner;
    uint32_t idx = sl_page_index(pg, p);
    if (idx == UINT32_MAX || !(pg->bitmap[idx >> 6] & ((uint64_t)1 << (idx & 63))))
      return false;
    if (class_idx) *class_idx = pg->class_idx;
  }
  if (page) *page = owner;
  return true;
}

SL_META bool sl_heap_share(void *heap, void *ctx) {
  sl_heap_t *h = heap;
  if (h->page_count || h->large_count || h->cache_count) {
    errno = EINVAL; /* chunks mapped before would be missing from the map */
    return false;
  }
  h->shared = true;
  h->share_ctx = ctx;
  return true;
}

/* Empty pages: the empty lists, and an avail head with no live block. */
SL_META void sl_heap_trim(void *heap) {
  sl_heap_t *h = heap;
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) {
    sl_class_t *k = &h->cls[c];
    while (k->empty) {
      sl_page_t *pg = k->empty;
      k->empty = pg->next;
      k->empty_count--;
      k->pages--;
      sl_page_release(h, pg);
    }
    sl_page_t *head = h->avail[c];
    if (head != SL_NONE && head->used == 0) {
      sl_avail_remove(h, head);
      k->pages--;
      sl_page_release(h, head);
    }
    sl_class_keep_update(h, c);
  }
  sl_idle_shrink(h, 0, UINT64_MAX);
  sl_large_cache_flush(h);
  sl_debug_check(h);
}

SL_META size_t sl_last_touched(void *heap) {
  return ((sl_heap_t *)heap)->last_touched;
}

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
};

/* The same allocator with each instance entered in the process-wide map
 * from birth, as the drop-in's per-thread heaps are, so the harnesses drive
 * that path too and the checker verifies "sl.shared" after every op. */
static void *sl_create_shared(const va_options_t *opts) {
  void *h = sl_create(opts);
  if (h != NULL && !sl_heap_share(h, h)) {
    sl_destroy(h);
    return NULL;
  }
  return h;
}

const va_allocator_t sl_shared_allocator = {
    .name = "slab-shared",
    .create = sl_create_shared,
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
};
