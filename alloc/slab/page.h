/* vedalloc V2 — pages and their lists (page.c), for the entry points.
 *
 * The fast paths (fast.h) change a page with the two inline steps below;
 * everything that moves a page between lists is a named slow path here,
 * called with the page the caller already found.
 */
#ifndef VEDALLOC_SLAB_PAGE_H
#define VEDALLOC_SLAB_PAGE_H

#include "alloc/slab/types.h"

/* Does pg's grid hold x? False for NULL too: the one compare with which
 * malloc's fast path tests a free block's link for both the end of the
 * list and a link overwritten by the user (an overflow out of the block
 * below), which it must not follow. */
static inline bool sl_page_holds(const sl_page_t *pg, const void *x) {
  return (uintptr_t)x - (uintptr_t)sl_page_blocks(pg) < sl_page_grid_bytes(pg);
}

/* Could p, a block of pg's grid, be free? Its first word decodes to a
 * link (NULL, or a block of the grid): true for every free block, and for
 * a live one only by chance (types.h, Page layout); sl_page_on_freelist
 * decides. One load of p's own line, for free's double-free test. */
static inline bool sl_block_looks_free(const sl_page_t *pg, const sl_block_t *p) {
  sl_block_t *d = sl_block_next(pg, p);
  return d == NULL || sl_page_holds(pg, d);
}

/* Hand out b, the head of pg's free list, whose successor is next:
 * unlink, count, zero its link word (so it no longer looks free),
 * unpoison. */
static inline void *sl_page_pop(sl_page_t *pg, sl_block_t *b, sl_block_t *next) {
  sl_block_set_link(b, 0);
  sl_page_set_freelist(pg, next);
  sl_page_set_used(pg, sl_page_used(pg) + 1);
  VA_UNPOISON(b, sl_page_block_size(pg));
  return b;
}

/* Take back live block p of pg: link, poison, push. Returns the page's
 * new live count. */
static inline uint32_t sl_page_push(sl_page_t *pg, void *p) {
  sl_block_set_next(pg, p, sl_page_freelist(pg));
  VA_POISON(p, sl_page_block_size(pg));
  sl_page_set_freelist(pg, p);
  uint32_t used = sl_page_used(pg) - 1;
  sl_page_set_used(pg, used);
  return used;
}

/* Is b on pg's free list? Walks it (at most bumped nodes, stopping at a
 * link that leaves the grid): the exact answer sl_block_looks_free only
 * suggests, for the rare live block that looks free; never on a fast
 * path. A metadata accessor: it reads free blocks' links. */
SL_META bool sl_page_on_freelist(const sl_page_t *pg, const void *b) {
  const sl_block_t *n = sl_page_freelist(pg);
  for (uint32_t left = sl_page_bumped(pg); n && left; left--, n = sl_block_next(pg, n)) {
    if (n == b) return true;
    if (!sl_page_holds(pg, n)) return false; /* a damaged link: not followed */
  }
  return false;
}

/* A page of class c with a free block, at the avail head: a reserve page
 * of the class, else an idle one, else a new one (NULL: out of memory). */
sl_page_t *sl_page_acquire(sl_heap_t *h, size_t c);

/* pg's free list just ran dry: slice more, or retire it as full. */
void sl_page_refill(sl_heap_t *h, sl_page_t *pg);

/* A free changed pg's state: it was full (rejoins its class at the tail),
 * or it became empty and may not stay where it is (reserve, idle pool or
 * the OS). */
void sl_page_unfull(sl_heap_t *h, sl_page_t *pg);
void sl_page_emptied(sl_heap_t *h, sl_page_t *pg);

/* The avail head of every class, SL_NONE (create). */
void sl_pages_init(sl_heap_t *h);

/* Give back every empty page, the reserves and the idle pool included. */
void sl_pages_trim(sl_heap_t *h);

/* Unmap every page (destroy). */
void sl_pages_release_all(sl_heap_t *h);

#endif /* VEDALLOC_SLAB_PAGE_H */
