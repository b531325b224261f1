/* vedalloc bench — the issues' targets, checked against one session.
 *
 * A benchmark, not a timed test: nothing here fails the run. Each target is
 * one line, computed only from the numbers of the session being reported
 * (so ratios compare runs made minutes apart on the same machine):
 *
 *   met      every workload the target covers was measured and passes;
 *   MISSED   lists the worst offenders and by how much (the ratio against
 *            the bound, e.g. "1.31x, limit 1.10x");
 *   n/a      no workload the target covers has numbers in this session
 *            (filtered out, a library missing, or every pair timed out).
 * A pair that timed out or failed is named in the detail and makes the
 * target missed (a timeout is not a pass); a skipped pair (n/a for a
 * single-threaded instance, a library missing) is not covered.
 *
 * Subjects: the foundation issue's time targets are V2's, measured as the
 * `v2-slab` instance; the drop-in issue's (multi-threaded, peak RSS) are the
 * drop-in library's, `dropin-v2`. Peak RSS is the child's VmHWM (baseline
 * included), the figure a user of the drop-in would see; for a program, the
 * ru_maxrss of its process tree. Syscalls are the counts of the untimed
 * strace run (n/a when strace is missing).
 *
 * The targets are one table, bench_targets[], in the order printed.
 */
#include <math.h>
#include <string.h>

#include "bench/bench.h"

/* Which workloads a target covers. */
typedef enum bench_tset {
  BENCH_SET_ORIGINAL, /* the original benchmark's six */
  BENCH_SET_SINGLE,   /* every single-threaded workload */
  BENCH_SET_MT,       /* every multi-threaded workload */
  BENCH_SET_ALL,       /* every workload */
  BENCH_SET_PROGRAMS,  /* every program (prog:NAME) */
  BENCH_SET_EVERY,     /* every workload and every program */
} bench_tset_t;

/* The figure a target compares; NAN if the pair has none. */
typedef double (*bench_metric_fn)(const bench_result_t *r);

static double bench_m_time(const bench_result_t *r) {
  return r->status == BENCH_OK && r->median_s > 0 ? r->median_s : NAN;
}

static double bench_m_rss(const bench_result_t *r) {
  return r->status == BENCH_OK && r->peak_rss_kb > 0 ? (double)r->peak_rss_kb : NAN;
}

static double bench_m_syscalls(const bench_result_t *r) {
  return r->status == BENCH_OK && r->syscalls > 0 ? r->syscalls : NAN;
}

static bool bench_in_set(const char *workload, bench_tset_t set) {
  bool program = bench_program_find(workload) != NULL;
  if (set == BENCH_SET_PROGRAMS || set == BENCH_SET_EVERY)
    if (program) return true;
  if (set == BENCH_SET_PROGRAMS) return false;
  if (set == BENCH_SET_EVERY) set = BENCH_SET_ALL;
  const bench_workload_t *w = bench_workload_find(workload);
  if (!w) return false;
  switch (set) {
  case BENCH_SET_ORIGINAL: return w->original;
  case BENCH_SET_SINGLE: return w->threads <= 1;
  case BENCH_SET_MT: return w->threads > 1;
  case BENCH_SET_ALL: return true;
  case BENCH_SET_PROGRAMS:
  case BENCH_SET_EVERY: return false; /* handled above */
  }
  return false;
}

/* One verdict being built: how many covered and passed, what missed. */
typedef struct bench_verdict {
  int covered, passed;
  char misses[400]; /* "mixed 1.05x (limit 1.00x), bulk-1m no number" */
  char worst[96];   /* the worst measured figure, when every one passed */
} bench_verdict_t;

static void bench_verdict_miss(bench_verdict_t *v, const char *what) {
  size_t used = strlen(v->misses);
  if (used + strlen(what) + 8 >= sizeof v->misses) {
    if (!strstr(v->misses, ", ...")) snprintf(v->misses + used, sizeof v->misses - used, ", ...");
    return;
  }
  snprintf(v->misses + used, sizeof v->misses - used, "%s%s", used ? ", " : "", what);
}

static void bench_target_print(FILE *f, bool md, const char *target, const char *subject,
                               const bench_verdict_t *v) {
  const char *verdict = v->covered == 0 ? "n/a" : v->passed == v->covered ? "met" : "MISSED";
  if (md) fprintf(f, "- **%s** %s (`%s`): ", verdict, target, subject);
  else fprintf(f, "  %-6s %s (%s): ", verdict, target, subject);
  if (v->covered == 0) fprintf(f, "no numbers in this run\n");
  else if (v->passed == v->covered) fprintf(f, "%d/%d; worst %s\n", v->passed, v->covered, v->worst);
  else fprintf(f, "%d/%d pass; %s\n", v->passed, v->covered, v->misses);
}

/* alloc's metric over ref's on every workload of the set, below bound
 * (strictly when strict). Workloads where ref has no number are not covered. */
static void bench_target_ratio(FILE *f, bool md, const bench_session_t *s, const char *target,
                               const char *alloc, const char *ref, bench_tset_t set,
                               bench_metric_fn metric, double bound, bool strict) {
  const char *wl[64];
  size_t nw = bench_workload_order(s, wl, 64);
  bench_verdict_t v = {0};
  double worst = -1;
  char what[128];
  for (size_t w = 0; w < nw; w++) {
    if (!bench_in_set(wl[w], set)) continue;
    const bench_result_t *a = bench_result_find(s, alloc, wl[w]);
    const bench_result_t *b = bench_result_find(s, ref, wl[w]);
    /* skipped (n/a, library missing) is not covered; a timeout is a miss */
    if (!a || !b || isnan(metric(b)) || a->status == BENCH_SKIPPED) continue;
    v.covered++;
    double ratio = metric(a) / metric(b);
    if (isnan(ratio)) {
      snprintf(what, sizeof what, "%s no number (%s)", wl[w], a->status == BENCH_TIMEOUT
               ? "timeout" : a->status == BENCH_FAILED ? "failed" : "not measured");
      bench_verdict_miss(&v, what);
      continue;
    }
    if (ratio > worst) {
      worst = ratio;
      snprintf(v.worst, sizeof v.worst, "%s %.2fx (limit %s %.2fx)", wl[w], ratio,
               strict ? "<" : "<=", bound);
    }
    if (strict ? ratio < bound : ratio <= bound) {
      v.passed++;
      continue;
    }
    snprintf(what, sizeof what, "%s %.2fx (limit %.2fx)", wl[w], ratio, bound);
    bench_verdict_miss(&v, what);
  }
  bench_target_print(f, md, target, alloc, &v);
}

/* A fast-path figure: alloc's pair at one size, or NULL. */
static const bench_fast_t *bench_fast_find(const bench_session_t *s, const char *alloc,
                                           size_t size) {
  for (size_t i = 0; i < s->nfast; i++)
    if (s->fast[i].size == size && strcmp(s->fast[i].alloc, alloc) == 0) return &s->fast[i];
  return NULL;
}

/* The fast path: every size's malloc+free pair at most bound ns, or (ref
 * set) at most bound times ref's pair at the same size in the same run. */
static void bench_target_fast(FILE *f, bool md, const bench_session_t *s, const char *alloc,
                              const char *ref, const char *target, double bound) {
  bench_verdict_t v = {0};
  double worst = -1;
  char what[128], limit[48];
  if (ref) snprintf(limit, sizeof limit, "%.2fx %s", bound, ref);
  else snprintf(limit, sizeof limit, "%.1f ns", bound);
  for (size_t i = 0; i < s->nfast; i++) {
    const bench_fast_t *fp = &s->fast[i];
    if (strcmp(fp->alloc, alloc) != 0) continue;
    const bench_fast_t *rp = ref ? bench_fast_find(s, ref, fp->size) : NULL;
    if (ref && (rp == NULL || !(rp->pair_ns > 0))) continue; /* no figure to compare */
    double x = ref ? fp->pair_ns / rp->pair_ns : fp->pair_ns;
    v.covered++;
    if (x > worst) {
      worst = x;
      if (ref)
        snprintf(v.worst, sizeof v.worst, "%.2f ns at %zu B = %.2fx (limit <= %s)", fp->pair_ns,
                 fp->size, x, limit);
      else
        snprintf(v.worst, sizeof v.worst, "%.2f ns at %zu B (limit <= %s)", fp->pair_ns,
                 fp->size, limit);
    }
    if (x <= bound) {
      v.passed++;
      continue;
    }
    if (ref) snprintf(what, sizeof what, "%zu B %.2fx (limit %s)", fp->size, x, limit);
    else snprintf(what, sizeof what, "%zu B %.2f ns (limit %s)", fp->size, fp->pair_ns, limit);
    bench_verdict_miss(&v, what);
  }
  bench_target_print(f, md, target, alloc, &v);
}

/* V1's external fragmentation after stress, below the original's figure. */
static void bench_target_frag(FILE *f, bool md, const bench_session_t *s, const char *alloc,
                              double bound, const char *target) {
  bench_verdict_t v = {0};
  const bench_result_t *r = bench_result_find(s, alloc, "stress");
  char what[128];
  if (r) {
    v.covered = 1;
    double x = r->status == BENCH_OK ? r->fragmentation : NAN;
    snprintf(v.worst, sizeof v.worst, "stress %.1f%% (limit < %.0f%%)", 100 * x, 100 * bound);
    if (x < bound) v.passed = 1;
    else {
      if (isnan(x)) snprintf(what, sizeof what, "stress: no number");
      else snprintf(what, sizeof what, "stress %.1f%% (limit %.0f%%)", 100 * x, 100 * bound);
      bench_verdict_miss(&v, what);
    }
  }
  bench_target_print(f, md, target, alloc, &v);
}

/* One target: what it says, whose figure, against what. */
typedef enum bench_tkind {
  BENCH_T_RATIO, /* metric(subject) / metric(ref) on every row of set, below bound */
  BENCH_T_FAST,  /* subject's fast path: every size at most bound ns, or
                    (ref set) at most bound times ref's */
  BENCH_T_FRAG,  /* subject's external fragmentation after stress below bound */
} bench_tkind_t;

typedef struct bench_target {
  bench_tkind_t kind;
  const char *what;     /* the target as printed */
  const char *subject;  /* the allocator it is about */
  const char *ref;      /* BENCH_T_RATIO, BENCH_T_FAST: the allocator it is
                           compared with (BENCH_T_FAST: NULL, in ns) */
  bench_tset_t set;     /* BENCH_T_RATIO: the rows it covers */
  bench_metric_fn metric;
  double bound;
  bool strict;          /* ratio < bound rather than <= */
} bench_target_t;

static const bench_target_t bench_targets[] = {
    /* the foundation issue: V2's instance */
    {.kind = BENCH_T_RATIO, .what = "faster than glibc on every original workload",
     .subject = "v2-slab", .ref = "glibc", .set = BENCH_SET_ORIGINAL, .metric = bench_m_time,
     .bound = 1.0, .strict = true},
    {.kind = BENCH_T_RATIO, .what = "within 10% of mimalloc on single-threaded workloads",
     .subject = "v2-slab", .ref = "mimalloc", .set = BENCH_SET_SINGLE, .metric = bench_m_time,
     .bound = 1.1},
    {.kind = BENCH_T_FAST, .what = "fast path <= 6 ns per malloc+free pair, every size",
     .subject = "v2-slab", .bound = 6.0},
    {.kind = BENCH_T_FRAG, .what = "external fragmentation < 53% after stress",
     .subject = "v1-firstfit", .bound = 0.53},
    {.kind = BENCH_T_FRAG, .what = "external fragmentation < 35% after stress",
     .subject = "v1-bestfit", .bound = 0.35},
    /* the drop-in issue: the library users preload */
    {.kind = BENCH_T_RATIO, .what = "multi-threaded: faster than glibc", .subject = "dropin-v2",
     .ref = "glibc", .set = BENCH_SET_MT, .metric = bench_m_time, .bound = 1.0, .strict = true},
    {.kind = BENCH_T_RATIO, .what = "multi-threaded: within 1.2x of mimalloc",
     .subject = "dropin-v2", .ref = "mimalloc", .set = BENCH_SET_MT, .metric = bench_m_time,
     .bound = 1.2},
    {.kind = BENCH_T_RATIO, .what = "faster than glibc on every workload and program",
     .subject = "dropin-v2", .ref = "glibc", .set = BENCH_SET_EVERY, .metric = bench_m_time,
     .bound = 1.0, .strict = true},
    {.kind = BENCH_T_RATIO, .what = "within 1.1x of mimalloc on every workload and program",
     .subject = "dropin-v2", .ref = "mimalloc", .set = BENCH_SET_EVERY, .metric = bench_m_time,
     .bound = 1.1},
    {.kind = BENCH_T_RATIO, .what = "peak RSS within 1.2x of glibc's on every workload and program",
     .subject = "dropin-v2", .ref = "glibc", .set = BENCH_SET_EVERY, .metric = bench_m_rss,
     .bound = 1.2},
    {.kind = BENCH_T_FAST, .what = "drop-in fast path <= 4.0 ns per malloc+free pair, every size",
     .subject = "dropin-v2", .bound = 4.0},
    {.kind = BENCH_T_FAST, .what = "drop-in fast path ahead of tcmalloc's, every size",
     .subject = "dropin-v2", .ref = "tcmalloc", .bound = 1.0},
    {.kind = BENCH_T_RATIO, .what = "syscalls within 2x of glibc's on every workload and program",
     .subject = "dropin-v2", .ref = "glibc", .set = BENCH_SET_EVERY, .metric = bench_m_syscalls,
     .bound = 2.0},
    {.kind = BENCH_T_RATIO, .what = "peak RSS within 1.2x of glibc's on every workload",
     .subject = "v2-slab", .ref = "glibc", .set = BENCH_SET_ALL, .metric = bench_m_rss,
     .bound = 1.2},
};

void bench_report_targets(FILE *f, const bench_session_t *s, bool md) {
  if (md) fprintf(f, "\n## Targets (from this run's numbers; a benchmark, not a test)\n\n");
  else fprintf(f, "\n== targets (from this run's numbers; a benchmark, not a test) ==\n");
  for (size_t i = 0; i < sizeof bench_targets / sizeof bench_targets[0]; i++) {
    const bench_target_t *t = &bench_targets[i];
    switch (t->kind) {
    case BENCH_T_RATIO:
      bench_target_ratio(f, md, s, t->what, t->subject, t->ref, t->set, t->metric, t->bound,
                         t->strict);
      break;
    case BENCH_T_FAST: bench_target_fast(f, md, s, t->subject, t->ref, t->what, t->bound); break;
    case BENCH_T_FRAG: bench_target_frag(f, md, s, t->subject, t->bound, t->what); break;
    }
  }
}
