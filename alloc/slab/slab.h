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

#ifdef __cplusplus
}
#endif
#endif /* VEDALLOC_SLAB_H */
