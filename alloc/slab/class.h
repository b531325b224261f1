/* vedalloc V2 — size classes: the one place that maps sizes to classes.
 *
 * Size classes (61), O(1) lookup, internal waste <= 25% up to 1 KiB and
 * <= 12.5% above:
 *   idx 0        8                      (requests 0..8; 8-byte aligned)
 *   idx 1..8     16, 32, 48, ... 128    (16-byte steps: the common sizes)
 *   idx 9..20    4 per power of two: 160 192 224 256 | 320 .. 512 | .. 1024
 *   idx 21..60   8 per power of two: 1152 1280 .. 2048 | 2304 .. 4096 | ...
 *                ... | 18432 20480 .. 30720 32768
 * 16-byte steps below 128 keep the waste of typical small objects low.
 * Above 1 KiB programs' favourite sizes sit just past a power of two
 * (sqlite asks for 1024 + 8, 4096 + 8 and 4096 + 272: a page and its
 * header); with 4 classes per doubling those wasted 20-25% (measured:
 * sqlite's peak RSS 30.8 MB against glibc's 25.4), with 8 they waste at
 * most 12.5% (28.8 MB). 8 per doubling below 1 KiB too (mimalloc's
 * spacing) was measured and not kept: every class holds its own partly
 * used pages, so stress's RSS grew 172 -> 216 KiB and realloc-growth's
 * 3.3 -> 3.9 MiB. A 32 KiB top class keeps typical program sizes off the
 * large-mapping path.
 * Lookup is O(1): n <= 1024 by a 129-byte table indexed by (n + 7) / 8
 * (one load, no data-dependent branch, which matters when sizes alternate);
 * above, arithmetic from the top bit of n - 1 and the next three bits.
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
  return 21 + (b - 10) * 8 + ((n - 1 - ((size_t)1 << b)) >> (b - 3));
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
