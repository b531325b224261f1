/* vedalloc V2 — the malloc and free fast paths: the one definition, used
 * by the instance's entry points (slab.c) and inlined by the drop-in
 * (alloc/malloc/vm_heaps.c), in every build (sanitized ones poison and
 * unpoison inside it). Each hands anything else to a named slow path in
 * slab.c, passing what it already found, so no lookup is repeated
 * (mimalloc's _mi_page_malloc / mi_free_generic).
 *
 *   malloc(n <= 1 KiB): one load of direct[] finds the page; pop its free
 *     list when the block's link decodes into the page's grid, zeroing
 *     the link word. Else (the page's last free block, or a link the user
 *     overwrote): sl_malloc_last(page, block) refills or retires the page,
 *     and reports a damaged link instead of following it. No page, or
 *     n > 1 KiB: sl_malloc_generic.
 *   free(p): the map entry of p's chunk, grid check by multiply, p sliced
 *     (an unsliced block's bytes are the page's old contents), p does
 *     not look free (one load of p's own line: a first word that decodes
 *     to a link may be a double free), push, when the page neither stops
 *     being full nor becomes an empty page it may not keep. Anything
 *     else: sl_free_generic(page, p) (large blocks, misuse, page state
 *     changes).
 * Both slow paths are called in tail position, so the caller's fast path
 * saves no registers.
 *   realloc(p, n) that keeps the block as it is (the same class, or a
 *   large block that fits): sl_realloc_stays, a predicate; anything else
 *   is sl_realloc_in's.
 */
#ifndef VEDALLOC_SLAB_FAST_H
#define VEDALLOC_SLAB_FAST_H

#include "alloc/slab/class.h"
#include "alloc/slab/large.h"
#include "alloc/slab/map.h"
#include "alloc/slab/page.h"
#include "alloc/slab/types.h"

/* The slow paths (slab.c), called with what the fast path found. */
void *sl_malloc_generic(sl_heap_t *h, size_t n);
void *sl_malloc_last(sl_heap_t *h, sl_page_t *pg, sl_block_t *b);
void sl_free_generic(sl_heap_t *h, void *owner, void *p);
void sl_debug_check(sl_heap_t *h); /* whole-heap check, VA_CHECK_LEVEL 3 */

/* Have other threads freed blocks of h that h has not taken back yet
 * (slab.h, sl_remote_drain)? One relaxed load of a line they write. */
static inline bool sl_remote_pending(const sl_heap_t *h) {
  return atomic_load_explicit(&h->remote_queue, memory_order_relaxed) != NULL;
}

/* malloc(n) on heap h, n <= VA_MAX_REQUEST; NULL + ENOMEM on failure. */
static inline void *sl_malloc_fast(sl_heap_t *h, size_t n) {
  if (VA_LIKELY(n <= SL_MEDIUM_MIN)) {
    sl_page_t *pg = h->direct[(n + 7) >> 3];
    sl_block_t *b = sl_page_freelist(pg);
    if (VA_LIKELY(b != NULL)) {
      sl_block_t *next = sl_block_next(pg, b);
      if (VA_UNLIKELY(!sl_page_holds(pg, next))) return sl_malloc_last(h, pg, b);
      sl_page_pop(pg, b, next);
      if (VA_EXPENSIVE) sl_debug_check(h);
      return b;
    }
  }
  return sl_malloc_generic(h, n);
}

/* free(p) on heap h, p != NULL: true when p's chunk is h's (freed, or the
 * misuse reported through h's hook); false, doing nothing, when it is not
 * (the caller decides: another heap's block, or an invalid pointer). */
static inline bool sl_free_fast(sl_heap_t *h, void *p) {
  sl_page_t *pg = sl_map_get(h, p);
  if (VA_UNLIKELY(pg == NULL)) return false;
  if (VA_LIKELY(sl_obj_kind(pg) == SL_KIND_PAGE)) {
    size_t idx;
    if (VA_LIKELY(sl_page_slot_below(pg, (uintptr_t)p - (uintptr_t)sl_page_blocks(pg),
                                     sl_page_bumped(pg), &idx)) &&
        VA_LIKELY(!sl_block_looks_free(pg, p)) && VA_LIKELY(sl_page_freelist(pg) != NULL) &&
        VA_LIKELY(sl_page_used(pg) > 1 || sl_page_keep_empty(pg))) {
      sl_page_push(pg, p);
      if (VA_EXPENSIVE) sl_debug_check(h);
      return true;
    }
  }
  sl_free_generic(h, pg, p);
  return true;
}

/* What freeing p would be, p in page pg at grid index idx (UINT32_MAX: off
 * the grid): 0 for a live block. A free block on the grid is a double
 * free (p looks free, and the free list holds it: the walk runs only for
 * a p that looks free); off the grid, or in the never-sliced bump region,
 * not a block; either is corruption instead while the page's guard is
 * overwritten (an underflow out of block 0 reaches it first). */
static inline va_error_kind_t sl_small_check_ptr(const sl_page_t *pg, const void *p,
                                                 uint32_t idx) {
  va_error_kind_t bad = idx == UINT32_MAX || idx >= sl_page_bumped(pg) ? VA_ERR_NOT_A_BLOCK
                        : !sl_block_looks_free(pg, p) || !sl_page_on_freelist(pg, p)
                            ? 0
                            : VA_ERR_DOUBLE_FREE;
  if (VA_UNLIKELY(bad) && sl_page_guard(pg) != SL_PAGE_GUARD) return VA_ERR_CORRUPTION;
  return bad;
}

/* Does realloc(p, n), p != NULL, n <= VA_MAX_REQUEST, keep block p, whose
 * chunk its heap's page map names owner, as it is? True only for a live
 * block that takes n unchanged: a small one whose class n maps to (its
 * first word read), or a large one that fits n (sl_large_fits; its
 * header's own words checked, as nothing is written or followed, not its
 * list neighbours', whose headers lie on other pages). False for
 * everything else, misuse included: the slow path (sl_realloc_in) checks
 * and reports. A block another thread freed still reads live until h
 * takes it back: callers with remote frees pending take the slow path.
 * The callers look owner up, once. */
static inline bool sl_realloc_stays(const void *owner, void *p, size_t n) {
  if (VA_LIKELY(sl_obj_kind(owner) == SL_KIND_PAGE)) {
    return n <= SL_MAX_SMALL && sl_class_of(n) == sl_page_class_idx(owner) &&
           sl_small_check_ptr(owner, p, sl_page_index(owner, p)) == 0;
  }
  return n > SL_MAX_SMALL && sl_large_fits(owner, n) && sl_large_check_ptr(NULL, owner, p) == 0;
}

#endif /* VEDALLOC_SLAB_FAST_H */
