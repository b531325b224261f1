/* vedalloc — the one assertion header for the plain-C test binaries.
 *
 *   VT_CHECK(cond)              count a check; on failure print
 *                               "file:line: check failed: cond" and go on
 *   VT_CHECKF(cond, fmt, ...)   the same, with a printf-style message after
 *                               the expression (evaluated only on failure)
 *   VT_RUN(fn)                  call a test function and print "fn  ok|FAIL"
 *   va_check_summary()          print "N passed, N failed"; the exit status:
 *                               0 only if nothing failed and something passed
 *
 * Checks keep going after a failure so one run reports every broken
 * expectation. The tally is atomic because some tests check from several
 * threads. One tally per translation unit: a test binary is one .c file.
 * Allocator-specific fixtures (heaps, hooks, checker wrappers) live beside
 * their allocator's tests, not here.
 */
#ifndef VEDALLOC_TESTING_CHECK_H
#define VEDALLOC_TESTING_CHECK_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

/* passed + failed == checks evaluated so far. */
typedef struct va_check_tally {
  atomic_int passed; /* checks whose condition held */
  atomic_int failed; /* checks whose condition did not */
} va_check_tally_t;

static va_check_tally_t va_check_tally;

/* Count one check; print where it failed. Returns `ok` for callers that
 * want to skip dependent checks. */
static inline bool va_check_at(bool ok, const char *file, int line, const char *expr) {
  if (ok) {
    atomic_fetch_add(&va_check_tally.passed, 1);
    return true;
  }
  atomic_fetch_add(&va_check_tally.failed, 1);
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
  return false;
}

/* va_check_at with a message: "file:line: check failed: expr: message". */
__attribute__((format(printf, 5, 6))) static inline bool
va_check_atf(bool ok, const char *file, int line, const char *expr, const char *fmt, ...) {
  if (ok) {
    atomic_fetch_add(&va_check_tally.passed, 1);
    return true;
  }
  atomic_fetch_add(&va_check_tally.failed, 1);
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s:%d: check failed: %s: %s\n", file, line, expr, msg); /* one write */
  return false;
}

/* How many checks have failed so far (VT_RUN compares before and after). */
static inline int va_check_failures(void) { return atomic_load(&va_check_tally.failed); }

/* Print "N passed, N failed" and give main's exit status: a test that
 * checked nothing fails too, so a skipped body cannot pass silently. */
static inline int va_check_summary(void) {
  int passed = atomic_load(&va_check_tally.passed);
  int failed = atomic_load(&va_check_tally.failed);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0 || passed == 0;
}

/* Run one test function and say whether it added failures. */
static inline void va_check_run(void (*fn)(void), const char *name) {
  int before = va_check_failures();
  fn();
  fprintf(stderr, "%-40s %s\n", name, va_check_failures() == before ? "ok" : "FAIL");
}

#define VT_CHECK(cond) va_check_at((cond) ? true : false, __FILE__, __LINE__, #cond)
#define VT_CHECKF(cond, ...)                                                   \
  va_check_atf((cond) ? true : false, __FILE__, __LINE__, #cond, __VA_ARGS__)
#define VT_RUN(fn) va_check_run((fn), #fn)

#endif
