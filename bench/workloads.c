/* vedalloc bench — the workloads: plain functions over the allocator table.
 *
 * The first six are the original benchmark's, with its exact parameters
 * (ITER = 1,000,000, BULK = 1000, STRESS_OPS = 200,000) and its exact call
 * sequence; the original's srand(42)/rand() is replaced by bench_rand seeded
 * 42 in the same role, so every allocator sees the same sequence on every
 * libc. The rest are scaled or realistic: 1M live objects, realloc growth,
 * a size mix with a long tail, and replays of recorded traces.
 *
 * Every workload frees all it allocates, so one instance serves the warm-up
 * and all timed runs of a pair. Scratch arrays are mmap'd and pre-touched by
 * the runner before any measurement, so they never come from the allocator
 * under test and never show up as its page faults.
 *
 * Adding a workload: write `static uint64_t bench_wl_x(bench_ctx_t *c)` and
 * one row in bench_workloads[]. A multi-threaded one (workloads_mt.c) sets
 * `threads` to its default worker count; its scratch is per thread.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/trace.h"

#define BENCH_ITER 1000000
#define BENCH_BULK 1000
#define BENCH_STRESS_OPS 200000
#define BENCH_STRESS_SLOTS 1000
#define BENCH_BIG 1000000 /* objects live at once in the scaled bulk/reverse */

void bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(3);
}

void bench_check_deadline(const bench_ctx_t *c) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  if (c->deadline <= 0 || now < c->deadline) return;
  /* In a multi-threaded run this is one worker's count: the driver says so. */
  printf("SLOW calls=%llu threads=%d\n", (unsigned long long)c->calls,
         c->threads > 1 ? c->threads : 1);
  fflush(stdout);
  _exit(0);
}

/* Metered run: count bytes, and write one byte per page of the block so
 * the resident set sees every page it spans. */
void bench_meter_alloc(bench_ctx_t *c, void *p, size_t n) {
  c->requested_total += (double)n;
  c->usable_total += (double)c->a->usable_size(c->heap, p);
  for (size_t off = 0; off < n; off += 4096) ((volatile char *)p)[off] = 0;
}

void bench_snapshot(bench_ctx_t *c) {
  if (!c->meter || c->a->stats == NULL) return;
  va_stats_t st;
  memset(&st, 0, sizeof st);
  c->a->stats(c->heap, &st);
  c->ext_frag = va_stats_ext_frag(&st);
}

/* ---------------------------------------------------------------------------
 * The original benchmark's workloads.
 * ------------------------------------------------------------------------- */

/* single: 1M x (alloc 32, free). */
static uint64_t bench_wl_single(bench_ctx_t *c) {
  for (int i = 0; i < BENCH_ITER; i++) bench_free(c, bench_malloc(c, 32), 32);
  return c->sink;
}

/* mixed: 1M x (alloc sizes[i % 7], free). */
static uint64_t bench_wl_mixed(bench_ctx_t *c) {
  static const size_t sizes[7] = {8, 16, 32, 64, 128, 256, 512};
  for (int i = 0; i < BENCH_ITER; i++) {
    size_t n = sizes[i % 7];
    bench_free(c, bench_malloc(c, n), n);
  }
  return c->sink;
}

/* count x alloc 64, then free in allocation order (or reverse). */
static uint64_t bench_bulk(bench_ctx_t *c, size_t count, bool reverse) {
  void **p = c->slots;
  for (size_t i = 0; i < count; i++) p[i] = bench_malloc(c, 64);
  if (reverse) {
    for (size_t i = count; i-- > 0;) bench_free(c, p[i], 64);
  } else {
    for (size_t i = 0; i < count; i++) bench_free(c, p[i], 64);
  }
  return c->sink;
}

static uint64_t bench_wl_bulk(bench_ctx_t *c) { return bench_bulk(c, BENCH_BULK, false); }
static uint64_t bench_wl_reverse(bench_ctx_t *c) { return bench_bulk(c, BENCH_BULK, true); }
static uint64_t bench_wl_bulk_1m(bench_ctx_t *c) { return bench_bulk(c, BENCH_BIG, false); }
static uint64_t bench_wl_reverse_1m(bench_ctx_t *c) { return bench_bulk(c, BENCH_BIG, true); }

/* stress: 200k ops over 1000 slots; a full slot is freed, an empty one gets
 * alloc(rand() % 256 + 1). The fragmentation snapshot is taken where the
 * original printed it: after the loop, before anything else is freed. */
static uint64_t bench_wl_stress(bench_ctx_t *c) {
  void **slot = c->slots;
  size_t *size = c->sizes;
  bench_rng_t r = bench_srand(42);
  memset(slot, 0, BENCH_STRESS_SLOTS * sizeof *slot);
  for (int i = 0; i < BENCH_STRESS_OPS; i++) {
    uint32_t idx = bench_rand(&r) % BENCH_STRESS_SLOTS;
    if (slot[idx]) {
      bench_free(c, slot[idx], size[idx]);
      slot[idx] = NULL;
    } else {
      size[idx] = bench_rand(&r) % 256 + 1;
      slot[idx] = bench_malloc(c, size[idx]);
    }
  }
  bench_snapshot(c);
  for (int i = 0; i < BENCH_STRESS_SLOTS; i++)
    if (slot[i]) bench_free(c, slot[i], size[i]);
  return c->sink;
}

/* fragment-reuse (deleted from the original later): 1M x {a=100, b=200,
 * c=300; free b; d=150; free a, c, d}. */
static uint64_t bench_wl_fragment_reuse(bench_ctx_t *c) {
  for (int i = 0; i < BENCH_ITER; i++) {
    void *a = bench_malloc(c, 100);
    void *b = bench_malloc(c, 200);
    void *cc = bench_malloc(c, 300);
    bench_free(c, b, 200);
    void *d = bench_malloc(c, 150);
    bench_free(c, a, 100);
    bench_free(c, cc, 300);
    bench_free(c, d, 150);
  }
  return c->sink;
}

/* ---------------------------------------------------------------------------
 * Realistic workloads.
 * ------------------------------------------------------------------------- */

#define BENCH_BUILDERS 8        /* string builders growing at once */
#define BENCH_BUILT 2000        /* strings built per run */

/* realloc growth: BENCH_BUILDERS buffers grown in round robin by appends of
 * 1..64 bytes, each append a realloc to the exact new length (a naive string
 * builder), until each reaches its target (mostly <= 4 KiB, 1 in 16 up to
 * 256 KiB); a finished string is freed and a new one started. Interleaving
 * means growing in place is not always possible. */
static size_t bench_builder_target(bench_rng_t *r) {
  if (bench_rand(r) % 16 == 0) return 4096 + bench_rand(r) % (252 * 1024);
  return 64 + bench_rand(r) % 4032;
}

static uint64_t bench_wl_realloc_growth(bench_ctx_t *c) {
  bench_rng_t r = bench_srand(42);
  char *buf[BENCH_BUILDERS] = {0};
  size_t len[BENCH_BUILDERS] = {0}, target[BENCH_BUILDERS];
  for (int b = 0; b < BENCH_BUILDERS; b++) target[b] = bench_builder_target(&r);
  int done = 0;
  while (done < BENCH_BUILT) {
    for (int b = 0; b < BENCH_BUILDERS; b++) {
      size_t add = 1 + bench_rand(&r) % 64;
      buf[b] = bench_realloc(c, buf[b], len[b], len[b] + add);
      memset(buf[b] + len[b], 'a' + b, add);
      len[b] += add;
      if (len[b] < target[b]) continue;
      c->sink += (uint8_t)buf[b][len[b] / 2];
      bench_free(c, buf[b], len[b]);
      buf[b] = NULL;
      len[b] = 0;
      target[b] = bench_builder_target(&r);
      done++;
    }
  }
  for (int b = 0; b < BENCH_BUILDERS; b++)
    if (buf[b]) bench_free(c, buf[b], len[b]);
  return c->sink;
}

#define BENCH_MIX_SLOTS 20000
#define BENCH_MIX_OPS 1000000

/* A size like real programs ask for: 60% 8-64 B, 25% 65-256, 10% 257-1024,
 * 4% 1-16 KiB, 1% 16 KiB-1 MiB (above any slab class). */
static size_t bench_mix_size(bench_rng_t *r) {
  uint32_t u = bench_rand(r) % 1000;
  uint32_t v = bench_rand(r);
  if (u < 600) return 8 + v % 57;
  if (u < 850) return 65 + v % 192;
  if (u < 950) return 257 + v % 768;
  if (u < 990) return 1025 + v % (15 * 1024);
  return 16385 + v % (1008 * 1024);
}

/* size-mix: 1M ops over 20000 slots picked at random: a full slot is freed
 * (short and long lifetimes mix), an empty one gets a block of a mixed
 * size whose first byte is written, as a program would. */
static uint64_t bench_wl_size_mix(bench_ctx_t *c) {
  void **slot = c->slots;
  size_t *size = c->sizes;
  bench_rng_t r = bench_srand(42);
  memset(slot, 0, BENCH_MIX_SLOTS * sizeof *slot);
  for (int i = 0; i < BENCH_MIX_OPS; i++) {
    uint32_t idx = bench_rand(&r) % BENCH_MIX_SLOTS;
    if (slot[idx]) {
      bench_free(c, slot[idx], size[idx]);
      slot[idx] = NULL;
      continue;
    }
    size[idx] = bench_mix_size(&r);
    slot[idx] = bench_malloc(c, size[idx]);
    *(volatile char *)slot[idx] = (char)i;
  }
  bench_snapshot(c);
  for (int i = 0; i < BENCH_MIX_SLOTS; i++)
    if (slot[i]) bench_free(c, slot[i], size[i]);
  return c->sink;
}

/* trace replay: ops in order; the first byte of every non-empty block is
 * written; blocks the trace leaves live are freed at the end. */
static uint64_t bench_wl_trace(bench_ctx_t *c) {
  const bench_trace_t *t = c->data;
  void **slot = c->slots;
  size_t *size = c->sizes;
  memset(slot, 0, t->nids * sizeof *slot);
  for (size_t i = 0; i < t->nops; i++) {
    const bench_trace_op_t *op = &t->ops[i];
    size_t n = (size_t)op->size;
    if (op->kind == BENCH_TRACE_ALLOC) {
      slot[op->id] = bench_malloc(c, n);
    } else if (op->kind == BENCH_TRACE_FREE) {
      bench_free(c, slot[op->id], size[op->id]);
      slot[op->id] = NULL;
      continue;
    } else {
      slot[op->id] = bench_realloc(c, slot[op->id], size[op->id], n);
    }
    size[op->id] = n;
    if (n) *(volatile char *)slot[op->id] = (char)i;
  }
  bench_snapshot(c);
  for (size_t i = 0; i < t->nids; i++)
    if (slot[i]) bench_free(c, slot[i], size[i]);
  return c->sink;
}

/* ---------------------------------------------------------------------------
 * The table.
 * ------------------------------------------------------------------------- */
const bench_workload_t bench_workloads[] = {
    {"single", "1M x (malloc 32, free)", bench_wl_single, 0, 1, true, NULL},
    {"mixed", "1M x (malloc 8..512 cycling, free)", bench_wl_mixed, 0, 1, true, NULL},
    {"bulk", "1000 x malloc 64, free in order", bench_wl_bulk, BENCH_BULK, 1, true, NULL},
    {"reverse", "1000 x malloc 64, free in reverse", bench_wl_reverse, BENCH_BULK, 1, true, NULL},
    {"stress", "200k random ops over 1000 slots, 1..256 B, seed 42", bench_wl_stress,
     BENCH_STRESS_SLOTS, 1, true, NULL},
    {"fragment-reuse", "1M x {a=100,b=200,c=300; free b; d=150; free a,c,d}",
     bench_wl_fragment_reuse, 0, 1, true, NULL},
    {"bulk-1m", "1M x malloc 64 live at once, free in order", bench_wl_bulk_1m, BENCH_BIG, 1, false, NULL},
    {"reverse-1m", "1M x malloc 64 live at once, free in reverse", bench_wl_reverse_1m,
     BENCH_BIG, 1, false, NULL},
    {"realloc-growth", "8 string builders grown by 1..64 B reallocs, 2000 strings",
     bench_wl_realloc_growth, 0, 1, false, NULL},
    {"size-mix", "1M ops over 20k slots: mostly small, long tail to 1 MiB",
     bench_wl_size_mix, BENCH_MIX_SLOTS, 1, false, NULL},
    {"trace-python", "replay: python3 running a stdlib-heavy script", bench_wl_trace, 0, 1,
     false, "bench/traces/python3-stdlib.trace"},
    {"trace-gcc", "replay: gcc (cc1) compiling a C file", bench_wl_trace, 0, 1, false,
     "bench/traces/gcc-cc1.trace"},
    {"prodcons", "MT: producers fill 400k blocks of 16..511 B, consumers check and free "
     "(batches of 64)", bench_wl_prodcons, 0, 2, false, NULL},
    {"larson", "MT: per-thread churn over 2000 slots, arrays rotate between threads "
     "(~8% remote frees)", bench_wl_larson, 0, 2, false, NULL},
};
const size_t bench_workloads_len = sizeof bench_workloads / sizeof bench_workloads[0];

const bench_workload_t *bench_workload_find(const char *name) {
  for (size_t i = 0; i < bench_workloads_len; i++)
    if (strcmp(bench_workloads[i].name, name) == 0) return &bench_workloads[i];
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Setup: scratch arrays and trace data, made before any measurement.
 * ------------------------------------------------------------------------- */
#include <sys/mman.h>

/* Zeroed, pre-touched memory that never comes from the allocator under test. */
static void *bench_map_touched(size_t bytes) {
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) bench_die("mmap of %zu scratch bytes failed", bytes);
  memset(p, 0, bytes);
  return p;
}

static bool bench_setup_trace(const bench_workload_t *w, bench_ctx_t *c,
                              const char *trace_dir, char *err, size_t errlen) {
  char path[4096];
  const char *base = strrchr(w->arg, '/');
  if (trace_dir && *trace_dir)
    snprintf(path, sizeof path, "%s/%s", trace_dir, base ? base + 1 : w->arg);
  else
    snprintf(path, sizeof path, "%s", w->arg);
  static bench_trace_t trace;
  char why[200];
  if (!bench_trace_load(path, &trace, why, sizeof why)) {
    snprintf(err, errlen, "trace %s: %s", path, why);
    return false;
  }
  c->data = &trace;
  c->slots = bench_map_touched(trace.nids * sizeof *c->slots);
  c->sizes = bench_map_touched(trace.nids * sizeof *c->sizes);
  return true;
}

bool bench_workload_setup(const bench_workload_t *w, bench_ctx_t *c,
                          const char *trace_dir, char *err, size_t errlen) {
  if (w->run == bench_wl_trace) return bench_setup_trace(w, c, trace_dir, err, errlen);
  size_t slots = w->run == bench_wl_larson ? bench_larson_slots() * (size_t)c->threads : w->slots;
  if (slots) {
    c->slots = bench_map_touched(slots * sizeof *c->slots);
    c->sizes = bench_map_touched(slots * sizeof *c->sizes);
  }
  return true;
}
