/* vedalloc V2 — a tiny test harness shared by the slab unit tests. */
#ifndef VEDALLOC_SLAB_TEST_UTIL_H
#define VEDALLOC_SLAB_TEST_UTIL_H

#include <stdio.h>

#include "alloc/allocator.h"

static int sl_t_passed, sl_t_failed;

/* Record one check; on failure print where and keep going. */
#define T_ASSERT(e)                                                            \
  do {                                                                         \
    if (e) {                                                                   \
      sl_t_passed++;                                                           \
    } else {                                                                   \
      sl_t_failed++;                                                           \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #e);          \
    }                                                                          \
  } while (0)

/* Print the summary line and give the exit status. */
static inline int sl_t_summary(void) {
  printf("%d passed, %d failed\n", sl_t_passed, sl_t_failed);
  return sl_t_failed ? 1 : 0;
}

/* An error hook that records what it saw instead of aborting. */
typedef struct sl_t_hook {
  int calls;
  va_error_kind_t kind;
  const char *op;
  const void *ptr;
} sl_t_hook_t;

static void sl_t_on_error(void *ctx, va_error_kind_t kind, const char *op,
                          const void *ptr, const char *message) {
  (void)message;
  sl_t_hook_t *h = ctx;
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

#endif
