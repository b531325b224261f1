/* vedalloc V1 — fixtures for the tests in alloc/firstfit.
 *
 * The checks and the summary come from alloc/testing/check.h; here are
 * what only V1 tests need: FF_T_HEAP_OK runs the heap checker as one
 * check, and helpers build heaps on private sources so tests are
 * independent of each other and of sbrk.
 */
#ifndef VEDALLOC_FIRSTFIT_TESTING_H
#define VEDALLOC_FIRSTFIT_TESTING_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/firstfit/internal.h"
#include "alloc/testing/check.h"

/* The allocator's own checker must pass: one check, with the checker's
 * report as the message when it does not. */
#define FF_T_HEAP_OK(h) ff_t_heap_ok((h), __FILE__, __LINE__, "ff_check(" #h ")")

static inline void ff_t_heap_ok(ff_heap_t *h, const char *file, int line, const char *expr) {
  va_report_t r = {0};
  bool ok = ff_check(h, &r);
  va_check_atf(ok, file, line, expr, "%s at %p: %s", r.invariant ? r.invariant : "?", r.addr,
               r.detail);
}

/* A heap on a private MMAP reservation of `bytes` (0: 1 GiB). */
static inline ff_heap_t *ff_t_heap(va_fit_t fit, size_t trim, size_t bytes) {
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_MMAP;
  o.region_size = bytes;
  o.fit = fit;
  o.trim_threshold = trim;
  return (ff_heap_t *)ff_allocator.create(&o);
}

static inline void *ff_t_malloc(ff_heap_t *h, size_t n) { return ff_allocator.malloc(h, n); }
static inline void ff_t_free(ff_heap_t *h, void *p) { ff_allocator.free(h, p); }

/* Do two payloads [p, p+usable) overlap? */
static inline bool ff_t_overlap(ff_heap_t *h, const void *p, const void *q) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
  size_t na = ff_allocator.usable_size(h, p), nb = ff_allocator.usable_size(h, q);
  return a < b + nb && b < a + na;
}

#endif
