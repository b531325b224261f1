/* vedalloc V2 — size classes: the one place that maps sizes to classes.
 *
 * Size classes (41), chosen for internal waste <= 25% with O(1) lookup:
 *   idx 0        8                      (requests 0..8; 8-byte aligned)
 *   idx 1..8     16, 32, 48, ... 128    (16-byte steps: the common sizes)
 *   idx 9..40    4 per power of two: 160 192 224 256 | 320 .. 512 | ...
 *                ... | 20480 24576 28672 32768
 * 16-byte steps below 128 keep the waste of typical small objects low; 4
 * classes per doubling bound it at 25%; a 32 KiB top class keeps typical
 * program sizes off the large-mapping path.
 * Lookup is O(1): n <= 1024 by a 129-byte table indexed by (n + 7) / 8
 * (one load, no data-dependent branch, which matters when sizes alternate);
 * above, arithmetic from the top bit of n - 1 and the next two bits.
 */
#ifndef VEDALLOC_SLAB_CLASS_H
#define VEDALLOC_SLAB_CLASS_H

#include "alloc/slab/types.h"

extern const uint32_t sl_class_sizes[SL_CLASS_COUNT];
/* Class of every n <= 1024 by (n + 7) / 8 (class sizes are multiples of 8,
 * so no boundary falls strictly inside an 8-byte step): one load. */
extern const uint8_t sl_class_by8[SL_DIRECT];

/* Class of a request 0 <= n <= SL_MAX_SMALL (O(1) arithmetic). */
static inline size_t sl_class_of(size_t n) {
  if (VA_LIKELY(n <= SL_MEDIUM_MIN)) return sl_class_by8[(n + 7) >> 3];
  unsigned b = 63u - (unsigned)__builtin_clzl(n - 1); /* 2^b < n <= 2^(b+1) */
  return 9 + (b - 7) * 4 + ((n - 1 - ((size_t)1 << b)) >> (b - 2));
}

/* Bytes of a page of class c. */
static inline size_t sl_class_page_size(size_t c) {
  return sl_class_sizes[c] <= SL_MEDIUM_MIN ? SL_SMALL_PAGE : SL_MEDIUM_PAGE;
}

/* The class serving memalign(align, n), align a power of two in (8, 4096]
 * and n <= SL_MAX_SMALL: the first class at or above max(n, align) whose
 * block size is a multiple of align (its grid is aligned to it). */
static inline size_t sl_class_aligned(size_t align, size_t n) {
  size_t c = sl_class_of(n < align ? align : n);
  while (sl_class_sizes[c] % align) c++; /* stops at 32768 at the latest */
  return c;
}

/* The direct[] entries of class c: sizes (prev class, c] by 8 (c's size
 * <= 1 KiB), as [*lo, *hi]. */
static inline void sl_class_direct_range(size_t c, size_t *lo, size_t *hi) {
  *lo = c ? sl_class_sizes[c - 1] / 8 + 1 : 0;
  *hi = sl_class_sizes[c] / 8;
}

#endif /* VEDALLOC_SLAB_CLASS_H */
