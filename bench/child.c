/* vedalloc bench — one (allocator, workload) pair, run inside a fresh child.
 *
 * Basic algorithm:
 *   1. create one instance; prepare the workload's scratch and data;
 *   2. read the resident set size (the baseline: binary, scratch, trace);
 *   3. warm-up = the metered run: counts usable bytes and calls, snapshots
 *      the allocator's statistics, and its time sizes the repeat count;
 *   4. N timed runs on the same (now warm) instance (N sized from the
 *      faster of the warm-up and the first timed run);
 *   5. report one RESULT line on stdout for the driver to parse.
 * Footprint: va_stats.peak_footprint where the allocator keeps statistics
 * (our allocators: bytes mapped from the OS); otherwise the peak growth of
 * anonymous resident memory over the baseline (the reference allocators,
 * whose whole-process malloc this is). The metered run writes one byte per
 * page of every block, so RSS sees every page a block spans, as it would in
 * a program that uses its memory. The RSS growth is reported for every
 * allocator too (rss_growth), the one measure that is the same for all.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "alloc/registry.h"
#include "bench/bench.h"
#include "bench/child.h"

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident-set figures from /proc/self/status, in bytes. */
typedef struct bench_rss {
  double rss;   /* VmRSS */
  double hwm;   /* VmHWM: peak since start or since the last reset */
  double file;  /* RssFile: mapped file pages (code, libraries) */
  double shmem; /* RssShmem */
} bench_rss_t;

static double bench_status_field(const char *text, const char *key) {
  const char *p = strstr(text, key);
  return p ? strtod(p + strlen(key), NULL) * 1024.0 : 0; /* values are in kB */
}

/* Reads with read(2), not stdio, so it calls no malloc (V1 shares the
 * program break with the process malloc). */
static bench_rss_t bench_rss_read(void) {
  bench_rss_t r = {0};
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return r;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return r;
  buf[n] = 0;
  r.rss = bench_status_field(buf, "VmRSS:");
  r.hwm = bench_status_field(buf, "VmHWM:");
  r.file = bench_status_field(buf, "RssFile:");
  r.shmem = bench_status_field(buf, "RssShmem:");
  return r;
}

/* Resets the peak RSS to the current RSS (Linux >= 4.0), so setup (trace
 * parsing) cannot hide the workload's own peak. */
static void bench_rss_reset_peak(void) {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "5", 1) != 1) { /* not fatal: the peak then covers setup too */ }
  close(fd);
}

/* Peak growth of anonymous memory over the baseline: the peak RSS minus the
 * baseline, minus file and shared pages faulted in since (code paths run
 * for the first time), which are not the allocator's footprint. */
static double bench_rss_growth(const bench_rss_t *base, const bench_rss_t *end) {
  double g = (end->hwm - base->rss) - (end->file - base->file) - (end->shmem - base->shmem);
  return g > 0 ? g : 0;
}

#define BENCH_MAX_REPEATS 501

static int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Timed runs for a warm-up that took `warm` seconds, in one of `rounds`
 * processes of the pair (each times its share of the budget). */
static int bench_repeats(bench_mode_t mode, double warm, int rounds) {
  double budget = (mode == BENCH_QUICK ? 0.0 : mode == BENCH_FULL ? 3.0 : 0.4) / rounds;
  int lo = (mode == BENCH_QUICK ? 1 : mode == BENCH_FULL ? 11 : 3) / rounds;
  int hi = (mode == BENCH_QUICK ? 1 : mode == BENCH_FULL ? BENCH_MAX_REPEATS : 51) / rounds;
  if (lo < 1) lo = 1;
  if (hi < lo) hi = lo;
  double fit = warm > 0 ? budget / warm : hi;
  int n = fit > hi ? hi : (int)fit;
  if (n < lo) n = warm * lo <= 3 * budget || mode == BENCH_QUICK ? lo : 1;
  return n | 1; /* odd: the median is a measured run */
}

/* A preloaded reference must really be the malloc in use. */
static bool bench_preload_active(void) {
  const char *sym = getenv("VA_BENCH_EXPECT_SYMBOL");
  return sym == NULL || *sym == 0 || dlsym(RTLD_DEFAULT, sym) != NULL;
}

static double bench_run_once(const bench_workload_t *w, bench_ctx_t *c, double limit) {
  c->live_bytes = 0;
  double t0 = bench_now();
  c->deadline = limit > 0 ? t0 + limit : 0;
  c->sink += w->run(c);
  double t = bench_now() - t0;
  if (c->live_bytes != 0) bench_die("%s leaked %zu bytes", w->name, c->live_bytes);
  return t;
}

static void bench_child_print(FILE *out, const double *t, int n, const bench_ctx_t *c,
                              uint64_t calls, const bench_rss_t *base) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  bench_rss_t end = bench_rss_read();
  double growth = bench_rss_growth(base, &end);
  long peak_kb = end.hwm > 0 ? (long)(end.hwm / 1024) : ru.ru_maxrss;
  double footprint = growth;
  const char *src = "rss";
  if (c->a->stats) {
    va_stats_t st;
    memset(&st, 0, sizeof st);
    c->a->stats(c->heap, &st);
    footprint = (double)st.peak_footprint;
    src = "stats";
  }
  double ifrag = c->usable_total > 0 ? 1.0 - c->requested_total / c->usable_total : NAN;
  fprintf(out, "RESULT median=%.9g min=%.9g max=%.9g repeats=%d calls=%llu rss_kb=%ld "
          "footprint=%.0f source=%s rss_growth=%.0f peak_live=%zu frag=%.6g ifrag=%.6g checksum=%llu\n",
          t[n / 2], t[0], t[n - 1], n, (unsigned long long)calls, peak_kb, footprint,
          src, growth, c->peak_live_bytes, c->ext_frag < 0 ? NAN : c->ext_frag, ifrag,
          (unsigned long long)(c->sink & 0xffff));
}

/* Only the process malloc ("system", glibc or a preloaded library) is one
 * allocator shared by every thread; our registry instances are not locked. */
static bool bench_thread_safe(const va_entry_t *e) { return e->thread_safe; }

int bench_child_main(const char *alloc, const char *workload, bench_mode_t mode,
                     const char *trace_dir, double run_limit, int threads, int rounds,
                     FILE *out) {
  const va_entry_t *e = va_registry_find(alloc);
  if (!e) bench_die("no allocator '%s' in the registry", alloc);
  if (!bench_preload_active()) bench_die("the preloaded library is not the malloc in use");
  va_options_t opts = va_entry_options(e);
  bench_ctx_t c = {.a = e->alloc, .ext_frag = -1};
  c.heap = e->alloc->create(&opts);
  if (!c.heap) bench_die("create() failed for %s", alloc);
  if (strcmp(workload, "fastpath") == 0) {
    bench_fast_run(c.a, c.heap, mode, out);
    c.a->destroy(c.heap);
    return 0;
  }
  const bench_workload_t *w = bench_workload_find(workload);
  if (!w) bench_die("no workload '%s'", workload);
  if (w->threads > 1 && !bench_thread_safe(e)) {
    fprintf(out, "SKIP n/a: instance is single-threaded\n");
    return 0;
  }
  c.threads = threads > 0 ? threads : w->threads;
  if (c.threads > 64) c.threads = 64;
  if (w->threads > 1 && c.threads < 2) c.threads = 2;
  char err[512];
  if (!bench_workload_setup(w, &c, trace_dir, err, sizeof err)) {
    fprintf(out, "SKIP %s\n", err);
    return 0;
  }
  bench_rss_reset_peak();
  bench_rss_t base = bench_rss_read();
  c.meter = true;
  double warm = bench_run_once(w, &c, run_limit);
  uint64_t calls = c.calls;
  c.meter = false;
  /* The first timed run also sizes the count: a warm-up slowed by a burst
   * of load, or by threads setting up (arenas, stacks), would otherwise
   * leave a single timed run. */
  double t[BENCH_MAX_REPEATS];
  t[0] = bench_run_once(w, &c, run_limit);
  int n = bench_repeats(mode, t[0] < warm ? t[0] : warm, rounds > 1 ? rounds : 1);
  for (int i = 1; i < n; i++) t[i] = bench_run_once(w, &c, run_limit);
  qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
  bench_child_print(out, t, n, &c, calls, &base);
  c.a->destroy(c.heap);
  return 0;
}
