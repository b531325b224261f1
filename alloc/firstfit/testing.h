/* vedalloc V1 — a tiny test harness for the tests in alloc/firstfit.
 *
 * FF_T_CHECK(e) records a pass or prints file:line and the expression;
 * ff_t_run() runs one test function by name; ff_t_summary() prints
 * "N passed, N failed" and gives the exit status. Helpers build heaps on
 * private sources so tests are independent of each other and of sbrk.
 */
#ifndef VEDALLOC_FIRSTFIT_TESTING_H
#define VEDALLOC_FIRSTFIT_TESTING_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/firstfit/internal.h"

static int ff_t_passed, ff_t_failed;

#define FF_T_CHECK(e)                                                          \
  do {                                                                         \
    if (e) {                                                                   \
      ff_t_passed++;                                                           \
    } else {                                                                   \
      ff_t_failed++;                                                           \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #e);          \
    }                                                                          \
  } while (0)

/* The allocator's own checker must pass (prints the report if not). */
#define FF_T_HEAP_OK(h)                                                        \
  do {                                                                         \
    va_report_t r_;                                                            \
    bool ok_ = ff_check((h), &r_);                                             \
    if (!ok_)                                                                  \
      fprintf(stderr, "%s:%d: check: %s at %p: %s\n", __FILE__, __LINE__,      \
              r_.invariant, r_.addr, r_.detail);                               \
    FF_T_CHECK(ok_);                                                           \
  } while (0)

#define FF_T_RUN(fn)                                                           \
  do {                                                                         \
    int before_ = ff_t_failed;                                                 \
    fn();                                                                      \
    fprintf(stderr, "%-40s %s\n", #fn, ff_t_failed == before_ ? "ok" : "FAIL"); \
  } while (0)

static inline int ff_t_summary(void) {
  printf("%d passed, %d failed\n", ff_t_passed, ff_t_failed);
  return ff_t_failed != 0 || ff_t_passed == 0;
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
