/* vedalloc V1 — private helpers shared by the .c files of alloc/firstfit.
 *
 * Metadata accessors. Headers live in memory ASan sees as poisoned (so a
 * caller's overflow into a header is reported), so every header read or
 * write goes through these tiny functions, which ASan does not instrument.
 * Without ASan they are plain field accesses and inline away.
 */
#ifndef VEDALLOC_FIRSTFIT_INTERNAL_H
#define VEDALLOC_FIRSTFIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/firstfit/types.h"
#include "alloc/internal.h"

#ifdef VA_ASAN
#define FF_META __attribute__((no_sanitize("address"))) VA_NO_COVERAGE static inline
#else
#define FF_META VA_NO_COVERAGE static inline
#endif

/* ---- header fields ------------------------------------------------------ */
FF_META uint32_t ff_magic(const ff_block_t *b) { return b->magic; }
FF_META uint32_t ff_flags(const ff_block_t *b) { return b->flags; }
FF_META size_t ff_size(const ff_block_t *b) { return b->size; }
FF_META ff_block_t *ff_prev(const ff_block_t *b) { return b->prev; }
FF_META ff_block_t *ff_next(const ff_block_t *b) { return b->next; }
FF_META void ff_set_magic(ff_block_t *b, uint32_t m) { b->magic = m; }
FF_META void ff_set_flags(ff_block_t *b, uint32_t f) { b->flags = f; }
FF_META void ff_set_size(ff_block_t *b, size_t s) { b->size = s; }
FF_META void ff_set_prev(ff_block_t *b, ff_block_t *p) { b->prev = p; }
FF_META void ff_set_next(ff_block_t *b, ff_block_t *n) { b->next = n; }

FF_META void ff_hdr_write(ff_block_t *b, uint32_t flags, size_t size,
                          ff_block_t *prev, ff_block_t *next) {
  b->magic = FF_MAGIC;
  b->flags = flags;
  b->size = size;
  b->prev = prev;
  b->next = next;
}

/* The free canary: FF_CANARY bytes of FF_BYTE_FREE at the payload start. */
FF_META void ff_canary_write(ff_block_t *b) {
  volatile uint64_t *w = (volatile uint64_t *)(b + 1);
  w[0] = 0x0101010101010101ull * FF_BYTE_FREE;
  w[1] = 0x0101010101010101ull * FF_BYTE_FREE;
}
FF_META bool ff_canary_ok(const ff_block_t *b) {
  const volatile uint64_t *w = (const volatile uint64_t *)(b + 1);
  uint64_t want = 0x0101010101010101ull * FF_BYTE_FREE;
  return w[0] == want && w[1] == want;
}

static inline bool ff_is_used(const ff_block_t *b) { return ff_flags(b) & FF_F_USED; }
static inline bool ff_is_free(const ff_block_t *b) { return !ff_is_used(b); }
static inline bool ff_is_fence(const ff_block_t *b) { return ff_flags(b) & FF_F_FENCE; }
static inline void *ff_payload(const ff_block_t *b) { return (char *)b + FF_HDR; }
static inline ff_block_t *ff_block_of(const void *p) {
  return (ff_block_t *)((char *)p - FF_HDR);
}
static inline size_t ff_psize(const ff_block_t *b) { return ff_size(b) - FF_HDR; }
static inline ff_segment_t *ff_seg_last(ff_heap_t *h) { return &h->seg[h->nseg - 1]; }

/* A free block appeared at b: the first-fit hint (h->low) may have to come
 * down to it. Every other block below the old hint is used, so b is then
 * the lowest free block. */
static inline void ff_low_lower(ff_heap_t *h, ff_block_t *b) {
  if ((uintptr_t)b < (uintptr_t)h->low) h->low = b;
}

/* ---- accounting and header death: used by block.c and heap.c alike ------- */
static inline void ff_acct_add(ff_heap_t *h, const ff_block_t *b) {
  if (ff_is_fence(b)) return;
  if (ff_is_used(b)) {
    h->live_blocks++;
    h->live_bytes += ff_psize(b);
  } else {
    h->free_blocks++;
    h->free_bytes += ff_psize(b);
  }
}

static inline void ff_acct_sub(ff_heap_t *h, const ff_block_t *b) {
  if (ff_is_fence(b)) return;
  if (ff_is_used(b)) {
    h->live_blocks--;
    h->live_bytes -= ff_psize(b);
  } else {
    h->free_blocks--;
    h->free_bytes -= ff_psize(b);
  }
}

/* A header leaves the list; the rover must not point at it. */
/* heir is always dead's lower neighbour, so it may take over the hint. */
static inline void ff_block_kill(ff_heap_t *h, ff_block_t *dead, ff_block_t *heir) {
  ff_set_magic(dead, FF_MAGIC_DEAD);
  if (h->rover == dead) h->rover = heir;
  if (h->low == dead) h->low = heir;
}

/* ---- os.c: the only file that talks to the OS ---------------------------- */
bool ff_os_open(ff_os_t *os, const va_options_t *o);
uintptr_t ff_os_break(const ff_os_t *os);
bool ff_os_extend(ff_os_t *os, size_t min, uintptr_t *lo, uintptr_t *hi);
void ff_os_retract(ff_os_t *os, uintptr_t top);
void ff_os_close(ff_os_t *os);

/* ---- heap.c ----------------------------------------------------------------- */
ff_heap_t *ff_heap_create(const va_options_t *opts);
void ff_heap_destroy(ff_heap_t *h);
bool ff_heap_break_is_ours(const ff_heap_t *h);
ff_block_t *ff_heap_grow(ff_heap_t *h, size_t want);
void ff_heap_maybe_trim(ff_heap_t *h, ff_block_t *b);
uintptr_t ff_heap_trim_target(const ff_heap_t *h, const ff_block_t *b);
int ff_heap_segment_of(const ff_heap_t *h, uintptr_t a);

/* ---- block.c ----------------------------------------------------------------- */
bool ff_size_for(size_t n, size_t *need);
ff_block_t *ff_fit(ff_heap_t *h, size_t need);
void ff_block_take(ff_heap_t *h, ff_block_t *b, size_t need);
ff_block_t *ff_block_split(ff_heap_t *h, ff_block_t *b, size_t need);
ff_block_t *ff_block_split_front(ff_heap_t *h, ff_block_t *b, size_t lead);
void ff_block_absorb_next(ff_heap_t *h, ff_block_t *b);
void ff_block_release(ff_heap_t *h, ff_block_t *b);
void ff_block_shrink(ff_heap_t *h, ff_block_t *b, size_t need);
bool ff_block_grow_in_place(ff_heap_t *h, ff_block_t *b, size_t need);
va_error_kind_t ff_block_classify(const ff_heap_t *h, const void *p, ff_block_t **out,
                                  const char **why, const void **near);

/* ---- check.c ----------------------------------------------------------------- */
bool ff_check(void *heap, va_report_t *r);
bool ff_check_empty(void *heap, va_report_t *r);
void ff_stats(void *heap, va_stats_t *st);
void ff_check_or_die(ff_heap_t *h, const char *op);

/* Whole-heap check after every operation at VA_CHECK_LEVEL 3. */
#define FF_DEBUG_CHECK(h, op)                                                  \
  do {                                                                         \
    if (VA_EXPENSIVE) ff_check_or_die((h), (op));                              \
  } while (0)

#endif /* VEDALLOC_FIRSTFIT_INTERNAL_H */
