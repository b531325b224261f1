/* vedalloc V2 — segments (segment.c): where pages and large blocks of up
 * to SL_SEG_CARVE_MAX get their chunks.
 *
 * A heap reserves address space SL_SEG_BYTES at a time, aligned to that
 * size, from its source (os.h), and carves chunk runs out of it; what
 * comes back stays mapped and resident until it has been idle for the
 * heap's decay (opts.page_decay_ns), then is decommitted (MADV_DONTNEED:
 * reads back zero), and a segment with nothing in use goes back to the
 * source past the decay, but for one spare kept (decommitted) as
 * hysteresis. So a heap that churns pages makes no system call per page.
 *
 * Segment layout (SL_SEG_BYTES, aligned to SL_SEG_BYTES; 64 chunks):
 *
 *   base       base + SL_CHUNK - SL_SEG_HDR    base + SL_CHUNK     base + 4 MiB
 *   +----------------------------+-----------+---------+-- ... --+---------+
 *   | chunk 0: never handed out,  | sl_seg_t  | chunk 1 |         | chunk 63|
 *   | poisoned, never touched     | (header)  | page or large runs          |
 *   +----------------------------+-----------+---------+-- ... --+---------+
 *   The header sits at the END of chunk 0: what borders it is chunk 1's
 *   start, always metadata (a page's colour pad and header, a large
 *   header), and what borders the segment's start is poisoned, so a
 *   block's overflow from any side meets poison before the header.
 *
 * Invariants (checked by check.c, names in quotes):
 *   every segment on h->segs: kind == SL_KIND_SEG, heap == h, base is
 *   SL_SEG_BYTES-aligned, bit 0 of used and of dirty set; the list is
 *   doubly linked, |segs| == seg_count, seg_tail its last; no segment
 *   with a free chunk follows one whose chunks are all used (the carve
 *   scan stops at the first full one); gone & used == 0;
 *   dirty_at <= freed_at;
 *   seg_dirty == sum over segments |dirty & ~used|
 *   (the free chunks that may be resident, which opts.dirty_ratio
 *   bounds)                                                    "sl.segment"
 *   chunk c >= 1 of a segment is used  <=>  the heap's map names an
 *   object for it; every page and carved large mapping lies in a segment
 *   of its heap                                        "sl.segment_chunks"
 */
#ifndef VEDALLOC_SLAB_SEGMENT_H
#define VEDALLOC_SLAB_SEGMENT_H

#include "alloc/slab/types.h"

/* size bytes (a chunk multiple, <= SL_SEG_CARVE_MAX) aligned to align
 * (a power of two <= SL_SEG_CARVE_MAX), or NULL; *zeroed (unless NULL):
 * it reads zero.
 * The range is addressable to ASan (the caller poisons what it keeps). */
void *sl_seg_map(sl_heap_t *h, size_t size, size_t align, bool *zeroed);

/* Give back [p, p + size), carved by sl_seg_map (or grown by sl_seg_grow). */
void sl_seg_unmap(sl_heap_t *h, void *p, size_t size);

/* The same for a carved large mapping given back whole: its first chunk
 * remembers it until carved again, so that freeing its payload p once more
 * is named a double free (sl_seg_freed_block), not a foreign pointer.
 * cool: its chunks are decommitted first and come back clean (one
 * madvise; they read zero and cost no resident memory). */
void sl_seg_unmap_block(sl_heap_t *h, void *base, size_t size, bool cool);
bool sl_seg_freed_block(const sl_heap_t *h, const void *p);

/* Extend the carved run [p, p + old) to new bytes in place, when the
 * chunks after it are free (false: nothing changed). */
bool sl_seg_grow(sl_heap_t *h, void *p, size_t old_size, size_t new_size);

/* Decommit every free chunk and give back every segment with nothing in
 * use, now (trim); and everything at destroy. */
void sl_seg_trim(sl_heap_t *h);
void sl_seg_release_all(sl_heap_t *h);

/* The segment holding a carved address, and a segment's first byte. */
static inline sl_seg_t *sl_seg_of(const void *p) {
  uintptr_t base = (uintptr_t)p & ~(uintptr_t)(SL_SEG_BYTES - 1);
  return (sl_seg_t *)(base + SL_CHUNK - SL_SEG_HDR);
}

static inline uint8_t *sl_seg_base(const sl_seg_t *seg) {
  return (uint8_t *)seg - (SL_CHUNK - SL_SEG_HDR);
}

#endif /* VEDALLOC_SLAB_SEGMENT_H */
