/* vedalloc — a heap on reused memory behaves as a fresh one.
 *
 * The fuzzers run input after input on one region (fuzz/harness.h), so an
 * input's outcome must not depend on the inputs before it, or a crash
 * found in a campaign would not reproduce alone. For every registry entry
 * that takes a region, with the fuzzers' own settings: random programs
 * (every op kind, threads and misuse included) run in one order on one
 * fresh region and in the reverse order on another; each program's trace
 * (every call's result as an offset into its region, usable size, errno,
 * errors raised, the verdict) must be the same both times. The first
 * program of each order runs on memory nobody used. Every program must
 * also pass the shadow and the checkers, on dirty memory as on clean.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/registry.h"
#include "alloc/testing/check.h"
#include "fuzz/exec.h"
#include "fuzz/harness.h"
#include "fuzz/interp.h"
#include "fuzz/ops.h"

/* Under --config=asan: impossible requests must return NULL, not report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

#define T_PROGRAMS 24
#define T_OPS 80
#define T_ALIGN ((size_t)4 << 20) /* > any alignment the harness asks for */

typedef struct t_trace {
  uint8_t *base; /* the region the run is on */
  uint64_t hash; /* FNV-1a over every call's outcome */
  size_t calls;
} t_trace_t;

static void t_mix(t_trace_t *t, uint64_t v) {
  for (int i = 0; i < 8; i++) t->hash = (t->hash ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
}

static bool t_after(void *ctx, va_interp_t *in, const va_call_t *c) {
  t_trace_t *t = ctx;
  (void)in;
  uint8_t *p = c->result;
  bool inside = p >= t->base && p < t->base + VA_HARNESS_REGION;
  t_mix(t, (uint64_t)c->kind << 32 | c->slot);
  t_mix(t, inside ? (uint64_t)(p - t->base) : (p ? 1ull << 63 : 0));
  t_mix(t, c->usable);
  t_mix(t, (uint64_t)(uint32_t)c->err << 32 | (uint32_t)c->raised);
  t_mix(t, (uint64_t)c->raised_count);
  t->calls++;
  return true;
}

/* A region as the fuzzers have one, aligned so that offsets compare. */
static uint8_t *t_region(void) {
  uint8_t *m = mmap(NULL, VA_HARNESS_REGION + T_ALIGN, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return NULL;
  return (uint8_t *)(((uintptr_t)m + T_ALIGN - 1) & ~(uintptr_t)(T_ALIGN - 1));
}

static uint64_t t_rng(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static va_op_t t_prog[T_PROGRAMS][T_OPS];
static size_t t_len[T_PROGRAMS];

static void t_make_programs(void) {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  uint8_t bytes[T_OPS * VA_OP_RECORD];
  for (int i = 0; i < T_PROGRAMS; i++) {
    for (size_t b = 0; b < sizeof bytes; b++) bytes[b] = (uint8_t)t_rng(&s);
    t_len[i] = va_ops_decode(bytes, sizeof bytes, t_prog[i], T_OPS);
  }
}

/* Run program i on h's region; its trace, and whether it passed. */
static bool t_run(const va_harness_t *h, uint8_t *base, int i, t_trace_t *t) {
  *t = (t_trace_t){.base = base, .hash = 0xcbf29ce484222325ull};
  va_observer_t obs = {.ctx = t, .after = t_after};
  va_failure_t f;
  bool ok = va_exec_observed(h->entry->alloc, &h->opts, t_prog[i], t_len[i], &h->cfg,
                             &obs, 1, &f);
  if (!ok) {
    fprintf(stderr, "%s: program %d failed:\n", h->entry->name, i);
    va_failure_print(&f, stderr);
    va_ops_print(t_prog[i], t_len[i], stderr);
  }
  t_mix(t, ok);
  return ok;
}

static void t_entry(const va_entry_t *e) {
  uint8_t *r1 = t_region(), *r2 = t_region();
  va_harness_t h1, h2;
  const char *why;
  if (!VT_CHECK(r1 && r2 && va_harness_make(&h1, e, r1, &why) &&
                va_harness_make(&h2, e, r2, &why)))
    return;
  t_trace_t fwd[T_PROGRAMS], rev;
  size_t calls = 0, differ = 0;
  for (int i = 0; i < T_PROGRAMS; i++) {
    VT_CHECK(t_run(&h1, r1, i, &fwd[i]));
    calls += fwd[i].calls;
  }
  for (int i = T_PROGRAMS - 1; i >= 0; i--) {
    VT_CHECK(t_run(&h2, r2, i, &rev));
    if (rev.hash != fwd[i].hash || rev.calls != fwd[i].calls) {
      differ++;
      fprintf(stderr, "%s: program %d: %zu calls after programs 0..%d, %zu after %d..%d, "
              "outcomes differ\n", e->name, i, fwd[i].calls, i - 1, rev.calls,
              T_PROGRAMS - 1, i + 1);
    }
  }
  VT_CHECKF(differ == 0, "%s: %zu of %d programs depend on what ran before", e->name,
            differ, T_PROGRAMS);
  VT_CHECKF(calls > T_PROGRAMS * 10, "%s: only %zu calls made", e->name, calls);
  printf("%-12s %d programs, %zu calls, the same in both orders\n", e->name, T_PROGRAMS,
         calls);
  munmap(r1, VA_HARNESS_REGION); /* the aligned part: the rest stays reserved */
  munmap(r2, VA_HARNESS_REGION);
}

static void test_reused_is_fresh(void) {
  size_t n = 0;
  for (size_t i = 0; i < va_registry_len; i++)
    if (va_registry[i].sources & VA_SRC(VA_SOURCE_REGION)) {
      t_entry(&va_registry[i]);
      n++;
    }
  VT_CHECK(n >= 6); /* V1 x3, v2-slab, v2-shared, v2-dropin */
}

int main(void) {
  t_make_programs();
  VT_RUN(test_reused_is_fresh);
  return va_check_summary();
}
