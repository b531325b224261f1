/* vedalloc — helpers shared by the allocator implementations (not by harnesses).
 *
 * Three tiers of checks, switched in this one place (dlmalloc, mimalloc):
 *   VA_CHECK_LEVEL 0  caller-misuse checks only (invalid / double free: always on)
 *               1  + cheap internal asserts                     (default)
 *               2  + per-operation local checks (neighbours, list links)
 *               3  + whole-heap check after every operation     (--config=debug)
 * A disabled check still compiles its expression, so it cannot rot.
 */
#ifndef VEDALLOC_INTERNAL_H
#define VEDALLOC_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"

#ifndef VA_CHECK_LEVEL
#define VA_CHECK_LEVEL 1
#endif

#define VA_LIKELY(x) __builtin_expect(!!(x), 1)
#define VA_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Largest request any allocator accepts: above this, ENOMEM (C requires object sizes <= PTRDIFF_MAX). */
#define VA_MAX_REQUEST ((size_t)PTRDIFF_MAX)

/* Round n up to a multiple of a (a power of two). Caller guarantees no overflow. */
#define VA_ALIGN_UP(n, a) (((n) + ((a) - 1)) & ~((size_t)(a) - 1))
#define VA_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

/* Around a checker's functions: a checker is the harness's eyes, not code
 * for libFuzzer to explore, and its loops' comparison tracing cost more
 * than the allocator itself. */
#if defined(__clang__) && __clang_major__ >= 13
#define VA_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#define VA_CHECKER_BEGIN                                                       \
  _Pragma("clang attribute push(__attribute__((no_sanitize(\"coverage\"))), apply_to = function)")
#define VA_CHECKER_END _Pragma("clang attribute pop")
#else
#define VA_NO_COVERAGE
#define VA_CHECKER_BEGIN
#define VA_CHECKER_END
#endif

/* Internal assert at level >= lvl; the expression is always type-checked. */
#define VA_ASSERT_AT(lvl, e)                                                   \
  do {                                                                         \
    if (VA_CHECK_LEVEL >= (lvl) && VA_UNLIKELY(!(e)))                          \
      va_assert_fail(#e, __FILE__, __LINE__);                                  \
  } while (0)
#define VA_ASSERT(e) VA_ASSERT_AT(1, e)
#define VA_ASSERT_LOCAL(e) VA_ASSERT_AT(2, e)
#define VA_EXPENSIVE (VA_CHECK_LEVEL >= 3)

_Noreturn void va_assert_fail(const char *expr, const char *file, int line);

/* n * size without overflow; false on overflow. */
static inline bool va_mul_ok(size_t n, size_t size, size_t *out) {
  return !__builtin_mul_overflow(n, size, out);
}

/* Set errno = ENOMEM and return NULL: the one way an impossible request
 * fails. Out of line, its NULL hidden from the optimiser (the empty asm):
 * a fast path that may fail this way then ends in a tail jump here and
 * needs no stack frame of its own. */
static inline __attribute__((noinline)) void *va_enomem(void) {
  errno = ENOMEM;
  void *none = NULL;
  __asm__("" : "+r"(none));
  return none;
}

/* splitmix64's finaliser: a bijection that spreads every input bit. */
static inline uint64_t va_mix64(uint64_t x) {
  x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27, x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The seed of an instance's keys: opts.seed when set (reproducible runs),
 * else from the OS (getrandom), else, with no entropy yet, from addresses
 * (ASLR) and `salt` (the instance). */
uint64_t va_seed(uint64_t seed, const void *salt);

/* Fill a checker report; returns false so a checker can `return va_fail(...)`. */
bool va_fail(va_report_t *r, const char *invariant, const void *addr,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Mark a report as clean; returns true. */
bool va_pass(va_report_t *r);

/* Report misuse through the hook in opts (or the default hook). */
void va_raise(const va_options_t *opts, va_error_kind_t kind, const char *op,
              const void *ptr);

/* Report metadata found damaged while serving `op` (VA_ERR_CORRUPTION),
 * near the damaged header; `check` names the allocator and the check that
 * failed ("V1 ff.links: ..."), so the message reads
 *   vedalloc: free(): heap corruption detected (V1 ff.links: ...) near 0x...
 * The damaged header is never followed: the caller abandons the call. */
void va_raise_corrupt(const va_options_t *opts, const char *op, const void *near,
                      const char *check);

/* ---------------------------------------------------------------------------
 * AddressSanitizer: let it see inside our arenas. Metadata and free payloads
 * are poisoned; a payload is unpoisoned while live. No-ops without ASan.
 * ------------------------------------------------------------------------- */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VA_ASAN 1
#endif
#endif
#if !defined(VA_ASAN) && defined(__SANITIZE_ADDRESS__)
#define VA_ASAN 1
#endif

#ifdef VA_ASAN
#include <sanitizer/asan_interface.h>
#define VA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define VA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define VA_POISON(p, n) ((void)(p), (void)(n))
#define VA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif /* VEDALLOC_INTERNAL_H */
