/* vedalloc V2 — large blocks (large.c), for the entry points. Misuse is
 * not reported here: a check returns what is wrong and slab.c reports it;
 * but damage a cache walk meets in another, cached header is reported
 * where it is met (that walk's op: "malloc" or "free"), ending the walk. */
#ifndef VEDALLOC_SLAB_LARGE_H
#define VEDALLOC_SLAB_LARGE_H

#include "alloc/slab/types.h"

/* A block of n bytes (payload aligned to align, 0 for the default) from
 * the cache or a new mapping; *fresh: it is known to be zero.
 * NULL + ENOMEM when it cannot be had. */
void *sl_large_alloc(sl_heap_t *h, size_t n, size_t align, bool *fresh);

/* Why header lg, named by h's page map, cannot be trusted (the invariant
 * broken, "V2 sl.large.<part>: ..."), or NULL: its fields against each
 * other and against what the user cannot reach (the page map, the list
 * neighbours' links, h itself). h NULL (a thread that does not hold lg):
 * the header's own fields only. */
const char *sl_large_fault(const sl_heap_t *h, const sl_large_t *lg);

/* 0 when p is lg's live payload; else what freeing p would be:
 * VA_ERR_CORRUPTION when lg fails sl_large_fault(h, lg) (h as there). */
va_error_kind_t sl_large_check_ptr(const sl_heap_t *h, const sl_large_t *lg, const void *p);

/* Free lg's live block (into the cache, or back to its segment or the
 * OS). moved: a realloc copied the payload out, the data outgrew it; a
 * carved run the cache does not take goes back to its segment
 * decommitted, since what grows rarely wants its old size back soon. */
void sl_large_free(sl_heap_t *h, sl_large_t *lg, bool moved);

/* The chunks lg keeps for a block of n <= usable bytes: all of them, or,
 * when that is half the mapping or less, those n needs. */
static inline size_t sl_large_keep(const sl_large_t *lg, size_t n) {
  size_t off = (size_t)(sl_large_payload(lg) - (const uint8_t *)lg);
  size_t keep = VA_ALIGN_UP(off + n, SL_CHUNK);
  return keep <= sl_large_map_size(lg) / 2 ? keep : sl_large_map_size(lg);
}

/* Does lg's live block take n > SL_MAX_SMALL bytes as it is: no growth,
 * and no shrink that gives its tail back (sl_large_resize would change
 * nothing)? */
static inline bool sl_large_fits(const sl_large_t *lg, size_t n) {
  return n <= sl_large_usable(lg) && sl_large_keep(lg, n) == sl_large_map_size(lg);
}

/* Resize lg's live block to n > SL_MAX_SMALL bytes in place (a shrink, or
 * growth by mremap): true when done; false when it must move (the caller
 * then allocates, copies and frees). */
bool sl_large_resize(sl_heap_t *h, sl_large_t *lg, size_t n);

/* Unmap every cached mapping; unmap everything (destroy). */
void sl_large_cache_flush(sl_heap_t *h);
void sl_large_release_all(sl_heap_t *h);

#endif /* VEDALLOC_SLAB_LARGE_H */
