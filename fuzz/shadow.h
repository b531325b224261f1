/* vedalloc — the shadow model's private parts: fill patterns and the
 * address index. Used by exec.c only.
 *
 * Pattern: byte o of a block with seed s is byte (o & 7) (little-endian) of
 *     T[w % 512] ^ fz_word(s, w / 512),   w = o >> 3,   s = fz_seed(slot, generation)
 * where T is a fixed table of 512 random words (shadow.c)
 * so it depends on slot, offset and the op that filled the block, and a
 * block swapped, shifted or copied from a stale generation is caught.
 * A `write` op overrides 8 bytes; overrides are applied after the pattern.
 * A spraying write replaces the pattern: every word is the sprayed value.
 *
 * Index: live blocks as half-open spans [start, end), sorted by start,
 * pairwise disjoint:   index[i].end <= index[i+1].start   for all i.
 * Insert finds its place by binary search and checks only the two
 * neighbours: O(log n) compares (plus an O(n) memmove of <= VA_SLOTS spans).
 *
 *   index:  [a0----a1)  [b0--b1)     [c0-------c1)
 *                     ^ new [x0, x1) must satisfy a1 <= x0 and x1 <= b0
 */
#ifndef VEDALLOC_FUZZ_SHADOW_H
#define VEDALLOC_FUZZ_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz/interp.h"
#include "fuzz/ops.h"

#define FZ_MAX_OVERRIDES VA_WRITES_PER_BLOCK /* write ops remembered per block */

typedef struct fz_override {
  size_t off;   /* byte offset in the block; off + 8 <= filled length */
  uint64_t val; /* the word stored there, little-endian */
} fz_override_t;

/* What a block should contain: its fill seed and the words written over it. */
typedef struct fz_image {
  uint64_t seed;                             /* fz_seed(slot, generation) */
  bool spray;                                /* every word is spray_val, not fz_word */
  uint64_t spray_val;
  size_t nover;                              /* overrides in use */
  fz_override_t over[FZ_MAX_OVERRIDES];      /* applied in order */
} fz_image_t;

typedef struct fz_span {
  uintptr_t start, end; /* [start, end), end > start */
  unsigned slot;        /* owner */
} fz_span_t;

typedef struct fz_index {
  fz_span_t span[VA_SLOTS + 1]; /* sorted by start, disjoint */
  size_t n;                     /* spans in use */
} fz_index_t;

uint64_t fz_seed(unsigned slot, uint64_t generation);

/* Write the image over every owned range (ops.h, va_owned_ranges) of [p, p + usable). */
void fz_fill(uint8_t *p, size_t usable, const fz_image_t *img);

/* Compare [p, p + min(limit, usable)) in the owned ranges of `usable` with
 * the image (img NULL: zeros). Returns true if equal; else the first bad
 * offset, the byte found and the byte expected. */
bool fz_verify(const uint8_t *p, size_t usable, size_t limit,
               const fz_image_t *img, size_t *bad_off, uint8_t *got,
               uint8_t *want);

/* Insert [start, start + len) for slot; on overlap returns false and the
 * span it hits in *hit (nothing inserted). */
bool fz_index_insert(fz_index_t *ix, uintptr_t start, size_t len,
                     unsigned slot, fz_span_t *hit);

/* Remove the span that starts at start (no-op if absent). */
void fz_index_remove(fz_index_t *ix, uintptr_t start);
/* The span starting exactly at start, or NULL. */
const fz_span_t *fz_index_find(const fz_index_t *ix, uintptr_t start);

#endif
