/* vedalloc V2 — page maps (map.c): chunk -> the header that owns it.
 *
 * Two maps of one shape: the heap's own (heap->map: a top array of
 * 2^SL_TOP_BITS leaf pointers, 2^SL_LEAF_BITS entries per leaf), and the
 * shared map of a set of heaps (types.h, Threads), whose entries are atomic.
 * An address a splits as
 *     a = [ top: SL_TOP_BITS | slot: SL_LEAF_BITS | offset: SL_CHUNK_SHIFT ]
 * and sl_map_top / sl_map_slot are the only spelling of that split.
 */
#ifndef VEDALLOC_SLAB_MAP_H
#define VEDALLOC_SLAB_MAP_H

#include "alloc/slab/types.h"

/* Index in the top array of the leaf covering a. */
static inline uintptr_t sl_map_top(uintptr_t a) {
  return a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS);
}
/* Index of a's chunk inside its leaf. */
static inline size_t sl_map_slot(uintptr_t a) {
  return (size_t)(a >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1);
}
/* Is a beyond the address space the maps cover? */
static inline bool sl_map_outside(uintptr_t a) { return (a >> SL_ADDR_BITS) != 0; }

/* Map entry of the chunk holding p, or NULL if p is not in this heap.
 * The leaf of the first page (hot_leaf: nearly every pointer of a heap under
 * 4 GiB) is reached without the top-level load, shortening free's chain of
 * dependent loads by one. */
VA_NO_COVERAGE static inline void *sl_map_get(const sl_heap_t *h, const void *p) {
  uintptr_t a = (uintptr_t)p, key = sl_map_top(a);
  void **leaf = h->hot_leaf;
  if (VA_UNLIKELY(key != h->hot_key)) {
    if (VA_UNLIKELY(sl_map_outside(a))) return NULL;
    leaf = h->map[key];
    if (VA_UNLIKELY(leaf == NULL)) return NULL;
  }
  return leaf[sl_map_slot(a)];
}

/* Set the map entries of [base, base+size) to v (NULL clears), in the
 * heap's map and, for a member heap, in its shared map; false if a leaf
 * could not be mapped (nothing changed then). */
bool sl_map_set(sl_heap_t *h, void *base, size_t size, void *v);

/* Count the heap record's own pages as metadata (create). */
void sl_map_init(sl_heap_t *h);

/* Unmap the heap's leaves (destroy; every entry must be clear). */
void sl_map_release(sl_heap_t *h);

/* The shared map (created and destroyed through slab.h): set
 * [base, base+size) to v (false if a leaf could not be mapped: nothing
 * changed), and read p's entry from any thread. */
bool sl_shared_set(sl_shared_map_t *m, void *base, size_t size, void *v);
void *sl_shared_get(const sl_shared_map_t *m, const void *p);

#endif /* VEDALLOC_SLAB_MAP_H */
