/* vedalloc V2 — slab allocator over mmap: size classes, per-page free lists,
 * large requests in their own mappings. Design: alloc/slab/types.h. */
#ifndef VEDALLOC_SLAB_H
#define VEDALLOC_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Standard: the allocator table (name "slab"). */
extern const va_allocator_t sl_allocator;

/* The same, each instance entered in the process-wide page map at creation
 * (sl_heap_share), as the drop-in's per-thread heaps are (name "slab-shared"). */
extern const va_allocator_t sl_shared_allocator;

/* Introspection (for property tests and tools). */
size_t sl_class_count(void);        /* number of size classes */
size_t sl_max_small(void);          /* largest class size; above: a large mapping */
size_t sl_size_class(size_t n);     /* class index of a request n <= sl_max_small() */
size_t sl_class_size(size_t idx);   /* block size of class idx (< sl_class_count()) */

/* Is p a live block of heap? If so, its class (SIZE_MAX for a large
 * mapping) and its page (or large mapping) base. Never raises. */
bool sl_block_info(void *heap, const void *p, size_t *class_idx, void **page);

/* Pages or large mappings whose metadata the last malloc/free/realloc
 * touched (1 on every fast path): a witness for the O(1) property. */
size_t sl_last_touched(void *heap);

/* ---- Threads: what a layer running one heap per thread needs ------------
 * A heap stays single-threaded (one holder at a time); these let other
 * threads find a block's heap and hand blocks back (alloc/malloc/vm_heaps.c).
 * The shared functions may be called from any thread. */

/* Enter heap's chunks, from now on, in the process-wide page map, tagged
 * with ctx (the caller's per-heap object). Call before the heap's first
 * allocation; false (EINVAL) if it already holds memory. */
bool sl_heap_share(void *heap, void *ctx);

/* Options of a heap that is one of many (the drop-in's per-thread heaps):
 * footprint over speed for idle memory (values and measurements in shared.c). */
va_options_t sl_thread_heap_options(void);

/* ctx of the shared heap whose chunk holds p, or NULL when none does. When
 * usable is not NULL it receives p's block size, read from fields that do
 * not change while the block is live (so without the holder's cooperation),
 * or 0 when p is not at a block start. Exact for a live block; for a stale
 * pointer the answer is only a hint (its page may be recycled meanwhile). */
void *sl_shared_owner(const void *p, size_t *usable);

/* The table's entry points, for a layer above that links V2 in and wants
 * direct calls (the drop-in's per-thread heaps): same contracts. */
void *sl_malloc(void *heap, size_t n);
void *sl_calloc(void *heap, size_t count, size_t size);
void *sl_memalign(void *heap, size_t align, size_t n);
void *sl_realloc(void *heap, void *p, size_t n);

/* Free p if heap's own map holds it (misuse reported as free reports it)
 * and return true; return false, doing nothing, when p is not heap's. */
bool sl_free_local(void *heap, void *p);

/* Give back every empty page (the reserve included) and the large cache. */
void sl_heap_trim(void *heap);

/* Bytes V2 has mapped process-wide (pages, large blocks, heaps, maps). */
size_t sl_mapped_bytes(void);

#ifdef __cplusplus
}
#endif
#endif /* VEDALLOC_SLAB_H */
