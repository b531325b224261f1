/* vedalloc — option defaults, the default error hook and report helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "alloc/internal.h"

uint64_t va_seed(uint64_t seed, const void *salt) {
  if (seed == 0 && getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
    seed = (uintptr_t)salt ^ (uintptr_t)&seed; /* no entropy yet: addresses (ASLR) */
  return seed;
}

va_options_t va_options_default(void) {
  va_options_t o = {0};
  o.source = VA_SOURCE_DEFAULT;
  o.fit = VA_FIT_FIRST;
  o.trim_threshold = 128 * 1024; /* like glibc's M_TRIM_THRESHOLD */
  o.page_reserve = 2;            /* empty pages kept per class */
  o.large_cache = 64u << 20;     /* freed large mappings kept for reuse */
  o.large_resident = SIZE_MAX;   /* ... with all their pages */
  o.page_decay_ns = 20000000;    /* 20 ms: a burst does not unmap its pages */
  o.on_error = NULL;
  return o;
}

const char *va_error_name(va_error_kind_t kind) {
  switch (kind) {
  case VA_ERR_INVALID_FREE: return "invalid pointer (not from this heap)";
  case VA_ERR_NOT_A_BLOCK: return "invalid pointer (not the start of a block)";
  case VA_ERR_DOUBLE_FREE: return "double free";
  case VA_ERR_CORRUPTION: return "heap corruption detected";
  }
  return "unknown error";
}

void va_error_default(void *ctx, va_error_kind_t kind, const char *op,
                      const void *ptr, const char *message) {
  (void)ctx;
  /* No stdio buffering: the heap may be the thing that is broken. */
  char buf[320];
  int n = snprintf(buf, sizeof buf, "vedalloc: %s(): %s %s %p\n", op, message,
                   kind == VA_ERR_CORRUPTION ? "near" : "of", ptr);
  if (n > 0) fputs(buf, stderr);
  abort();
}

void va_raise(const va_options_t *opts, va_error_kind_t kind, const char *op,
              const void *ptr) {
  va_error_fn fn = opts && opts->on_error ? opts->on_error : va_error_default;
  fn(opts ? opts->error_ctx : NULL, kind, op, ptr, va_error_name(kind));
}

void va_raise_corrupt(const va_options_t *opts, const char *op, const void *near,
                      const char *check) {
  va_error_fn fn = opts && opts->on_error ? opts->on_error : va_error_default;
  char msg[224];
  snprintf(msg, sizeof msg, "%s (%s)", va_error_name(VA_ERR_CORRUPTION), check);
  fn(opts ? opts->error_ctx : NULL, VA_ERR_CORRUPTION, op, near, msg);
}

void va_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "vedalloc: internal assertion failed: %s (%s:%d)\n", expr,
          file, line);
  abort();
}

bool va_fail(va_report_t *r, const char *invariant, const void *addr,
             const char *fmt, ...) {
  if (!r) return false;
  r->invariant = invariant;
  r->addr = addr;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->detail, sizeof r->detail, fmt, ap);
  va_end(ap);
  return false;
}

bool va_pass(va_report_t *r) {
  if (r) {
    r->invariant = NULL;
    r->addr = NULL;
    r->detail[0] = '\0';
  }
  return true;
}
