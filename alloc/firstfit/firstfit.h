/* vedalloc V1 — first-fit block-list allocator (public header).
 *
 * One instance is a heap grown from a break (sbrk by default, or a private
 * MMAP reservation or caller REGION), tiled by a doubly linked list of
 * blocks; placement first/next/best fit by opts->fit. See types.h for the
 * layout and invariants, api.c for the algorithm. No structs are exposed.
 */
#ifndef VEDALLOC_FIRSTFIT_H
#define VEDALLOC_FIRSTFIT_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- standard: the allocator table (name "firstfit") ------------------- */
extern const va_allocator_t ff_allocator;

/* ---- introspection (tests, properties, benchmarks) ---------------------- */

/* The table's walk: every block in address order, a LIVE or FREE region
 * of its payload (segment fences are internal and not visited). */
void ff_walk(void *heap, va_walk_fn fn, void *ctx);

/* Blocks in the heap, free and live (fences excluded). */
size_t ff_block_count(void *heap);

/* Segments: 1 unless somebody else moved the break while the heap grew. */
size_t ff_segment_count(void *heap);

/* Address of the first block header: payload addresses relative to it are
 * deterministic for a given op sequence on MMAP and REGION sources. */
const void *ff_heap_base(void *heap);

/* Smallest payload a block has (malloc(0) gets this many usable bytes). */
size_t ff_min_payload(void);

/* Bytes of header before every payload. */
size_t ff_header_size(void);

/* External fragmentation in percent, as the original measured it:
 * 100 * (1 - largest_free / total_free) over free payload bytes (headers
 * excluded, trailing free block included); 0 when nothing is free. */
double ff_fragmentation(void *heap);

#ifdef __cplusplus
}
#endif
#endif /* VEDALLOC_FIRSTFIT_H */
