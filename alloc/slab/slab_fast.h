/* vedalloc V2 — the malloc and free fast paths, inlinable by a layer above.
 *
 * Why: the drop-in (alloc/malloc/vm_heaps.c) pays a call per operation to
 * reach sl_malloc / sl_free_local in another file. These are the same fast
 * paths as slab.c's, over the private layout (types.h), for that one
 * caller; anything off the fast path goes to the out-of-line function,
 * which starts over (nothing is mutated before the decision). Same contracts as
 * sl_malloc / sl_free_local in slab.h.
 *
 * Sanitized builds (ASan poisoning) and VA_CHECK_LEVEL 3 (whole-heap check
 * after every op) always take the out-of-line functions, which do both.
 */
#ifndef VEDALLOC_SLAB_FAST_H
#define VEDALLOC_SLAB_FAST_H

#include "alloc/slab/types.h"

#if defined(VA_SANITIZED) || defined(VA_ASAN) || VA_EXPENSIVE
#define SL_FAST_INLINE 0
#else
#define SL_FAST_INLINE 1
#endif

/* sl_malloc: pop the head of direct[]'s page when that leaves the page
 * non-full (no refill); otherwise sl_malloc. */
static inline void *sl_malloc_fast(void *heap, size_t n) {
#if SL_FAST_INLINE
  sl_heap_t *h = heap;
  if (VA_LIKELY(n <= SL_MEDIUM_MIN)) {
    sl_page_t *pg = h->direct[(n + 7) >> 3];
    sl_block_t *b = pg->free;
    if (VA_LIKELY(b != NULL) && VA_LIKELY(b->next != NULL)) {
      size_t idx = (((uintptr_t)b - (uintptr_t)pg->blocks) * pg->div_magic) >> 32;
      pg->free = b->next;
      pg->used++;
      pg->bitmap[idx >> 6] |= (uint64_t)1 << (idx & 63);
      h->last_touched = 1;
      return b;
    }
  }
#endif
  return sl_malloc(heap, n);
}

/* Free p and return true when it is a valid block of heap's small page
 * that stays non-full and non-idle after the free. Otherwise do nothing
 * and return false: the caller then calls sl_free_local, which takes the
 * slow paths and reports misuse (kept out of here so the caller's fast
 * path saves no registers). */
static inline bool sl_free_try_fast(void *heap, void *p) {
#if SL_FAST_INLINE
  sl_heap_t *h = heap;
  sl_page_t *pg = sl_map_get(h, p);
  if (VA_LIKELY(pg != NULL) && VA_LIKELY(pg->kind == SL_KIND_PAGE)) {
    size_t off = (uintptr_t)p - (uintptr_t)pg->blocks; /* huge if p < blocks */
    size_t idx = (off * pg->div_magic) >> 32;
    uint64_t *word = &pg->bitmap[idx >> 6], bit = (uint64_t)1 << (idx & 63);
    sl_block_t *old = pg->free;
    if (VA_LIKELY(off < pg->grid_bytes) && VA_LIKELY(idx * pg->block_size == off) &&
        VA_LIKELY(*word & bit) && VA_LIKELY(old != NULL) &&
        VA_LIKELY(pg->used > 1 || pg->keep)) {
      *word ^= bit;
      ((sl_block_t *)p)->next = old;
      pg->free = p;
      pg->used--;
      h->last_touched = 1;
      return true;
    }
  }
#else
  (void)heap, (void)p;
#endif
  return false;
}

#endif /* VEDALLOC_SLAB_FAST_H */
