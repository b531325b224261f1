/* vedalloc V2 — fixtures shared by the slab unit tests (the checks and the
 * summary come from alloc/testing/check.h). */
#ifndef VEDALLOC_SLAB_TEST_UTIL_H
#define VEDALLOC_SLAB_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc/allocator.h"
#include "alloc/slab/slab.h"
#include "alloc/slab/types.h"

/* Tests that read or corrupt poisoned metadata directly (types.h, "What
 * ASan sees") are exempt from ASan like the accessors. */
#ifdef VA_ASAN
#define SL_T_META __attribute__((no_sanitize("address")))
#else
#define SL_T_META
#endif

/* An error hook that records what it saw instead of aborting. */
typedef struct sl_t_hook {
  int calls;
  va_error_kind_t kind;
  const char *op;
  const void *ptr;
  char msg[256]; /* the last message */
} sl_t_hook_t;

static void sl_t_on_error(void *ctx, va_error_kind_t kind, const char *op,
                          const void *ptr, const char *message) {
  sl_t_hook_t *h = ctx;
  snprintf(h->msg, sizeof h->msg, "%s", message);
  h->calls++;
  h->kind = kind;
  h->op = op;
  h->ptr = ptr;
}

/* Options with the recording hook installed. */
static inline va_options_t sl_t_options(sl_t_hook_t *hook) {
  va_options_t o = va_options_default();
  o.on_error = sl_t_on_error;
  o.error_ctx = hook;
  return o;
}

/* Run V2's heap checker; print its report when it objects. */
static inline bool sl_t_checks(void *h) {
  va_report_t r;
  bool ok = sl_allocator.check(h, &r);
  if (!ok) fprintf(stderr, "check: %s at %p: %s\n", r.invariant, r.addr, r.detail);
  return ok;
}

/* Resident OS pages of [p, p + n) (whole pages, from p's), n <= 64 MiB. */
static inline size_t sl_t_resident(const void *p, size_t n) {
  static unsigned char v[(64u << 20) / 4096];
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
  n += (uintptr_t)p - a;
  if (n > sizeof v * 4096 || mincore((void *)a, n, v) != 0) abort();
  size_t count = 0;
  for (size_t i = 0; i < (n + 4095) / 4096; i++) count += v[i] & 1;
  return count;
}

#endif
