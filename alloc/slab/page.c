/* vedalloc V2 — pages: layout, slicing, the class lists, the reserve and
 * the idle pool.
 *
 * Policy. Each class keeps a list of pages with a free block (avail); the
 * head is where malloc pops. A page whose list runs dry is refilled from
 * its bump region, or leaves the list when full; a full page that gets a
 * block back rejoins at the tail. An empty page stays at the head while
 * the reserve has room (keep_empty), else goes to the class's reserve list
 * (at most opts.page_reserve pages with the head), else to the heap-wide
 * idle pool, from which any class of the same page size takes it before a
 * new page is mapped. The pool keeps at most sl_idle_budget bytes of pages
 * that have been idle longer than the decay; over it, the oldest go back
 * to the OS in one batch down to half the budget, so a heap hovering at
 * the limit does not unmap on every free. (types.h has the invariants.)
 *
 * Complexity: O(1) per call, but slicing (<= SL_SLICE_BYTES of stores) and
 * an idle release pass (amortised by the halving). Every function here is
 * a slow path; the fast paths are fast.h's.
 */
#include "alloc/slab/page.h"

#include "alloc/slab/class.h"
#include "alloc/slab/map.h"
#include "alloc/slab/segment.h"

const sl_page_t sl_page_none = {.kind = SL_KIND_PAGE, .freelist = NULL};

/* ---------------------------------------------------------------------------
 * Class lists: avail (doubly linked, head in h->avail), reserve (singly)
 * ------------------------------------------------------------------------- */
/* Recompute the head's keep_empty after the head or reserve_count changed. */
static void sl_class_keep_update(sl_heap_t *h, size_t c) {
  sl_page_t *head = h->avail[c];
  if (head != SL_NONE)
    sl_page_set_keep_empty(head, h->cls[c].reserve_count < h->opts.page_reserve);
}

/* The one writer of avail[c]: keeps direct[] and keep_empty in step. */
static void sl_avail_set_head(sl_heap_t *h, size_t c, sl_page_t *pg) {
  if (h->avail[c] && h->avail[c] != SL_NONE) sl_page_set_keep_empty(h->avail[c], 0);
  h->avail[c] = pg;
  sl_class_keep_update(h, c);
  if (sl_class_sizes[c] > SL_MEDIUM_MIN) return;
  size_t k, hi;
  for (sl_class_direct_range(c, &k, &hi); k <= hi; k++) h->direct[k] = pg;
}

static void sl_avail_push_head(sl_heap_t *h, sl_page_t *pg) {
  size_t c = sl_page_class_idx(pg);
  sl_page_t *head = h->avail[c];
  sl_page_set_list(pg, SL_LIST_AVAIL);
  sl_page_set_prev(pg, NULL);
  sl_page_set_next(pg, head == SL_NONE ? NULL : head);
  if (head == SL_NONE) h->cls[c].avail_tail = pg;
  else sl_page_set_prev(head, pg), sl_touch_more(h);
  sl_avail_set_head(h, c, pg);
}

static void sl_avail_append(sl_heap_t *h, sl_page_t *pg) {
  size_t c = sl_page_class_idx(pg);
  sl_page_t *tail = h->cls[c].avail_tail;
  if (tail == NULL) {
    sl_avail_push_head(h, pg);
    return;
  }
  sl_page_set_list(pg, SL_LIST_AVAIL);
  sl_page_set_prev(pg, tail);
  sl_page_set_next(pg, NULL);
  sl_page_set_next(tail, pg);
  h->cls[c].avail_tail = pg;
  sl_touch_more(h);
}

static void sl_avail_remove(sl_heap_t *h, sl_page_t *pg) {
  size_t c = sl_page_class_idx(pg);
  sl_page_t *prev = sl_page_prev(pg), *next = sl_page_next(pg);
  if (prev) sl_page_set_next(prev, next), sl_touch_more(h);
  else sl_avail_set_head(h, c, next ? next : SL_NONE);
  if (next) sl_page_set_prev(next, prev), sl_touch_more(h);
  else h->cls[c].avail_tail = prev;
  sl_page_set_next(pg, NULL);
  sl_page_set_prev(pg, NULL);
}

void sl_pages_init(sl_heap_t *h) {
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) h->avail[c] = SL_NONE;
  for (size_t k = 0; k < SL_DIRECT; k++) h->direct[k] = SL_NONE;
}

/* ---------------------------------------------------------------------------
 * One page: layout, slicing, mapping
 * ------------------------------------------------------------------------- */

/* Slice the next SL_SLICE_BYTES (at least one block) of the bump region
 * onto the free list, in address order. Called with an empty free list.
 * A metadata accessor (SL_META): it writes the link word of up to 512
 * free blocks, one loop with the
 * accessors inlined, not a call apiece. */
SL_META void sl_page_slice(sl_page_t *pg) {
  uint32_t bs = sl_page_block_size(pg), bumped = sl_page_bumped(pg);
  uint32_t n = SL_SLICE_BYTES / bs ? SL_SLICE_BYTES / bs : 1;
  if (n > sl_page_capacity(pg) - bumped) n = sl_page_capacity(pg) - bumped;
  uint8_t *first = sl_page_blocks(pg) + (size_t)bumped * bs;
  for (uint32_t i = 0; i < n; i++) {
    sl_block_t *b = (sl_block_t *)(first + (size_t)i * bs);
    sl_block_set_next(pg, b, i + 1 < n ? (sl_block_t *)(first + (size_t)(i + 1) * bs)
                                       : sl_page_freelist(pg));
  }
  sl_page_set_freelist(pg, (sl_block_t *)first);
  sl_page_set_bumped(pg, bumped + n);
}

/* Where a page's metadata ends and its grid starts (types.h, Page layout):
 * header, and for a shared heap's page the remote-free words (a cache
 * line of their own: other threads write them) and their nodes. */
typedef struct sl_page_geometry {
  size_t remote, rnode; /* offsets from the mapping start (0: none) */
  size_t rwords;        /* remote-free words */
  size_t grid;          /* offset of block 0 */
  size_t capacity;      /* blocks */
} sl_page_geometry_t;

static sl_page_geometry_t sl_page_geometry(size_t c, size_t color, bool shared) {
  sl_page_geometry_t g = {0};
  size_t ps = sl_class_page_size(c), bs = sl_class_sizes[c];
  size_t hdr = color * 64 + sizeof(sl_page_t), most = (ps - hdr) / bs;
  size_t meta = hdr;
  if (shared) {
    g.rwords = (most + SL_RBITS - 1) / SL_RBITS;
    g.remote = VA_ALIGN_UP(meta, 64);
    g.rnode = g.remote + g.rwords * 8;
    meta = g.rnode + g.rwords * sizeof(sl_rnode_t);
  }
  meta += 8;                  /* the guard word below block 0 */
  size_t ga = bs & (~bs + 1); /* lowest set bit: the grid's alignment */
  if (ga > SL_GRID_ALIGN_MAX) ga = SL_GRID_ALIGN_MAX;
  if (ga < VA_ALIGNMENT) ga = VA_ALIGNMENT;
  g.grid = VA_ALIGN_UP(meta, ga);
  g.capacity = (ps - g.grid) / bs; /* <= most: the remote words cover it */
  return g;
}

/* Set the guard, and set the remote-free words empty, each node naming
 * pg. A metadata accessor (SL_META), as slicing. */
SL_META void sl_page_meta_init(sl_page_t *pg, const sl_page_t *t) {
  sl_page_set_guard(t);
  for (size_t w = 0; w < t->rwords; w++) { /* an empty page has none pending */
    sl_rword_take(&t->remote[w]);
    sl_rnode_set_next(&t->rnode[w], NULL);
    sl_rnode_set_hdr(&t->rnode[w], pg);
  }
}

/* Lay out page pg (fresh, or an idle page of another class) for class c:
 * header, remote words, grid (types.h), and slice its first blocks. The
 * header is built in plain memory and stored once. */
static void sl_page_format(sl_page_t *pg, size_t c) {
  sl_page_t t;
  sl_meta_copy(&t, pg, sizeof t); /* keep colour, links and owner */
  size_t ps = sl_class_page_size(c), bs = sl_class_sizes[c];
  uint8_t *base = (uint8_t *)pg - (size_t)t.color * 64;
  sl_page_geometry_t g = sl_page_geometry(c, t.color, t.heap->shared != NULL);
  t.kind = SL_KIND_PAGE;
  t.class_idx = (uint8_t)c;
  t.keep_empty = 0;
  t.used = 0;
  t.bumped = 0;
  t.freelist = NULL;
  t.block_size = (uint32_t)bs;
  t.page_size = (uint32_t)ps;
  t.blocks = base + g.grid;
  t.capacity = (uint32_t)g.capacity;
  t.grid_bytes = (uint32_t)(g.capacity * bs);
  t.div_magic = sl_div_magic(bs);
  t.free_key = t.heap->free_key;
  t.remote = g.rwords ? (uint64_t *)(base + g.remote) : NULL;
  t.rnode = g.rwords ? (sl_rnode_t *)(base + g.rnode) : NULL;
  t.rwords = (uint32_t)g.rwords;
  sl_meta_copy(pg, &t, sizeof t);
  sl_page_meta_init(pg, &t);
  sl_page_slice(pg);
}

static sl_page_t *sl_page_create(sl_heap_t *h, size_t c) {
  size_t ps = sl_class_page_size(c), color = h->next_color % SL_COLORS;
  uint8_t *mem = sl_seg_map(h, ps, SL_CHUNK, NULL);
  if (mem == NULL) return NULL;
  sl_page_t *pg = (sl_page_t *)(mem + color * 64);
  if (!sl_map_set(h, mem, ps, pg)) {
    sl_seg_unmap(h, mem, ps);
    return NULL;
  }
  h->next_color++;
  VA_POISON(mem, ps); /* header, grid: all ours until handed out */
  sl_page_t t = {.color = (uint8_t)color, .heap = h, .all_next = h->all};
  sl_meta_copy(pg, &t, sizeof t);
  sl_page_format(pg, c);
  /* The heap's all-list, newest first. */
  if (h->all) sl_page_set_all_prev(h->all, pg);
  h->all = pg;
  h->page_count++;
  h->pages_mapped++;
  sl_footprint_add(h, ps);
  return pg;
}

static void sl_page_release(sl_heap_t *h, sl_page_t *pg) {
  sl_page_t *prev = sl_page_all_prev(pg), *next = sl_page_all_next(pg);
  if (prev) sl_page_set_all_next(prev, next);
  else h->all = next;
  if (next) sl_page_set_all_prev(next, prev);
  h->page_count--;
  size_t ps = sl_page_page_size(pg);
  uint8_t *base = sl_page_base(pg);
  sl_map_set(h, base, ps, NULL);
  h->footprint -= ps;
  h->pages_unmapped++;
  sl_seg_unmap(h, base, ps);
}

/* ---------------------------------------------------------------------------
 * The idle pool
 * ------------------------------------------------------------------------- */
static size_t sl_idle_kind(const sl_page_t *pg) {
  return sl_page_page_size(pg) == SL_MEDIUM_PAGE;
}

static void sl_idle_unlink(sl_heap_t *h, sl_page_t *pg) {
  size_t k = sl_idle_kind(pg);
  sl_page_t *prev = sl_page_prev(pg), *next = sl_page_next(pg);
  if (prev) sl_page_set_next(prev, next);
  else h->idle[k] = next;
  if (next) sl_page_set_prev(next, prev);
  else h->idle_tail[k] = prev;
  sl_page_set_next(pg, NULL);
  sl_page_set_prev(pg, NULL);
  h->idle_count--;
  h->idle_bytes -= sl_page_page_size(pg);
}

/* Unmap the oldest idle pages (large pages first) until idle_bytes <=
 * target, skipping pages that entered the pool after `young` (ns). */
static void sl_idle_shrink(sl_heap_t *h, size_t target, uint64_t young) {
  for (size_t k = 2; k-- > 0;)
    while (h->idle_bytes > target && h->idle_tail[k] &&
           sl_page_idle_since(h->idle_tail[k]) <= young) {
      sl_page_t *pg = h->idle_tail[k];
      sl_idle_unlink(h, pg);
      sl_page_release(h, pg);
    }
}

static void sl_idle_put(sl_heap_t *h, sl_page_t *pg) {
  size_t k = sl_idle_kind(pg);
  h->cls[sl_page_class_idx(pg)].pages--;
  sl_page_set_list(pg, SL_LIST_IDLE);
  sl_page_set_keep_empty(pg, 0);
  sl_page_set_prev(pg, NULL);
  sl_page_set_next(pg, h->idle[k]);
  if (h->idle[k]) sl_page_set_prev(h->idle[k], pg);
  else h->idle_tail[k] = pg;
  h->idle[k] = pg;
  h->idle_count++;
  h->idle_bytes += sl_page_page_size(pg);
  size_t budget = sl_idle_budget(h);
  uint64_t now = h->idle_decay ? sl_now_ns() : 0;
  sl_page_set_idle_since(pg, now);
  if (h->idle_bytes > budget) {
    h->idle_clock = now;
    sl_idle_shrink(h, budget / 2, now > h->idle_decay ? now - h->idle_decay : 0);
  }
}

/* The newest idle page of class c's page size, laid out for c; or NULL. */
static sl_page_t *sl_idle_take(sl_heap_t *h, size_t c) {
  sl_page_t *pg = h->idle[sl_class_page_size(c) == SL_MEDIUM_PAGE];
  if (pg == NULL) return NULL;
  sl_idle_unlink(h, pg);
  if (sl_page_class_idx(pg) != c) {
    sl_page_format(pg, c);
    h->pages_reformatted++;
  }
  return pg;
}

/* ---------------------------------------------------------------------------
 * State changes (page.h)
 * ------------------------------------------------------------------------- */
sl_page_t *sl_page_acquire(sl_heap_t *h, size_t c) {
  sl_class_t *k = &h->cls[c];
  sl_page_t *pg = k->reserve;
  if (pg) {
    k->reserve = sl_page_next(pg);
    k->reserve_count--;
  } else {
    pg = sl_idle_take(h, c);
    if (pg == NULL) pg = sl_page_create(h, c);
    if (pg == NULL) return NULL;
    k->pages++;
  }
  sl_avail_push_head(h, pg);
  return pg;
}

void sl_page_refill(sl_heap_t *h, sl_page_t *pg) {
  if (sl_page_bumped(pg) < sl_page_capacity(pg)) {
    sl_page_slice(pg);
    return;
  }
  sl_avail_remove(h, pg);
  sl_page_set_list(pg, SL_LIST_FULL);
}

/* An empty page that is not a head we may keep: the reserve list if the
 * reserve has room, else the idle pool. The reserve counts the reserve
 * list plus the avail head when that is empty. */
void sl_page_emptied(sl_heap_t *h, sl_page_t *pg) {
  size_t c = sl_page_class_idx(pg);
  sl_class_t *k = &h->cls[c];
  sl_page_t *head = h->avail[c];
  size_t held = k->reserve_count + (head != pg && sl_page_used(head) == 0);
  sl_avail_remove(h, pg);
  if (head != pg && held < h->opts.page_reserve) {
    sl_page_set_list(pg, SL_LIST_RESERVE);
    sl_page_set_next(pg, k->reserve);
    k->reserve = pg;
    k->reserve_count++;
    sl_class_keep_update(h, c);
    return;
  }
  sl_idle_put(h, pg);
}

void sl_page_unfull(sl_heap_t *h, sl_page_t *pg) {
  sl_avail_append(h, pg);
  if (sl_page_used(pg) == 0 && !sl_page_keep_empty(pg)) sl_page_emptied(h, pg);
}

void sl_pages_trim(sl_heap_t *h) {
  for (size_t c = 0; c < SL_CLASS_COUNT; c++) {
    sl_class_t *k = &h->cls[c];
    while (k->reserve) {
      sl_page_t *pg = k->reserve;
      k->reserve = sl_page_next(pg);
      k->reserve_count--;
      k->pages--;
      sl_page_release(h, pg);
    }
    sl_page_t *head = h->avail[c];
    if (head != SL_NONE && sl_page_used(head) == 0) {
      sl_avail_remove(h, head);
      k->pages--;
      sl_page_release(h, head);
    }
    sl_class_keep_update(h, c);
  }
  sl_idle_shrink(h, 0, UINT64_MAX);
}

void sl_pages_release_all(sl_heap_t *h) {
  while (h->all) sl_page_release(h, h->all);
}
