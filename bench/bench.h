/* vedalloc bench — the types shared by the workloads, the child runner and
 * the driver of `bazel run //bench:compare`.
 *
 * Terms:
 *   pair      one (allocator, workload) combination; runs in its own process.
 *   run       one execution of a workload function over one instance.
 *   metered   the first run of a pair (the warm-up): it also counts requested
 *             and usable bytes and snapshots the allocator's statistics. The
 *             timed runs that follow count nothing but live requested bytes.
 *
 * Invariants of a context after a run that freed everything it allocated:
 *   live_bytes == 0
 *   peak_live_bytes >= every live_bytes observed during the run
 *   usable_total >= requested_total            (metered run only)
 */
#ifndef VEDALLOC_BENCH_H
#define VEDALLOC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc/allocator.h"

/* Scale of a whole benchmark session. */
typedef enum bench_mode {
  BENCH_QUICK = 0, /* smoke test: one or two runs, exact workloads */
  BENCH_DEFAULT,   /* about two minutes on two cores */
  BENCH_FULL,      /* longer and steadier */
} bench_mode_t;

/* What a workload function sees. One per process; reused by every run. */
typedef struct bench_ctx {
  const va_allocator_t *a; /* the table every call goes through */
  void *heap;              /* the instance */
  bool meter;              /* metered (warm-up) run: count usable bytes, snapshot stats */
  uint64_t sink;           /* pointers folded in, so no call can be elided */
  uint64_t calls;          /* allocator calls made (malloc, free, realloc) */
  double deadline;         /* CLOCK_MONOTONIC seconds: a run past it stops the pair */
  size_t live_bytes;       /* requested bytes live now */
  size_t peak_live_bytes;  /* max of live_bytes over the run */
  double requested_total;  /* metered: sum of requested sizes */
  double usable_total;     /* metered: sum of usable_size() of the same blocks */
  double ext_frag;         /* metered: 1 - largest_free/free_bytes at the snapshot; <0: none */
  void **slots;            /* scratch: workload->slots pointers (mmap'd, pre-touched) */
  size_t *sizes;           /* scratch: requested size per slot */
  const void *data;        /* workload data prepared by setup (e.g. a parsed trace) */
  int threads;             /* worker threads of a multi-threaded workload (>= 2) */
} bench_ctx_t;

/* A workload: a plain function over the allocator interface. */
typedef struct bench_workload {
  const char *name;
  const char *summary;
  uint64_t (*run)(bench_ctx_t *c); /* returns a checksum; frees all it allocates */
  size_t slots;                    /* scratch slots it needs (0: setup decides) */
  int threads;                     /* 1: runs on the calling thread; >1: default worker count */
  bool original;                   /* one of the original benchmark's workloads */
  const char *arg;                 /* e.g. the trace file, relative to the runfiles root */
} bench_workload_t;

extern const bench_workload_t bench_workloads[];
extern const size_t bench_workloads_len;
const bench_workload_t *bench_workload_find(const char *name);

/* The multi-threaded workloads (workloads_mt.c). They need a thread-safe,
 * process-wide allocator: the driver runs them only on the "system" entry
 * (glibc, or a library preloaded in its place). */
uint64_t bench_wl_prodcons(bench_ctx_t *c);
uint64_t bench_wl_larson(bench_ctx_t *c);
size_t bench_larson_slots(void); /* scratch slots per thread */

/* Prepares c->data and the scratch arrays for w (loads a trace) before any
 * measurement. Returns false with a message in err when w cannot run. */
bool bench_workload_setup(const bench_workload_t *w, bench_ctx_t *c,
                          const char *trace_dir, char *err, size_t errlen);

/* ---------------------------------------------------------------------------
 * The call path every workload uses: one indirect call, plus counters that
 * cost every allocator the same few instructions.
 * ------------------------------------------------------------------------- */
void bench_meter_alloc(bench_ctx_t *c, void *p, size_t n);
/* Past the deadline: prints a SLOW line and ends the child (exit 0). */
void bench_check_deadline(const bench_ctx_t *c);

/* Every 4096 allocations, look at the clock: a pathological allocator
 * (quadratic on some workload) then costs seconds, not minutes. */
static inline void bench_tick(bench_ctx_t *c) {
  if (__builtin_expect((++c->calls & 4095) == 0, 0)) bench_check_deadline(c);
}
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static inline void bench_live_add(bench_ctx_t *c, size_t n) {
  c->live_bytes += n;
  if (c->live_bytes > c->peak_live_bytes) c->peak_live_bytes = c->live_bytes;
}

static inline void *bench_malloc(bench_ctx_t *c, size_t n) {
  void *p = c->a->malloc(c->heap, n);
  if (__builtin_expect(p == NULL, 0)) bench_die("malloc(%zu) returned NULL", n);
  bench_live_add(c, n);
  bench_tick(c);
  if (c->meter) bench_meter_alloc(c, p, n);
  c->sink ^= (uintptr_t)p;
  return p;
}

static inline void bench_free(bench_ctx_t *c, void *p, size_t n) {
  c->live_bytes -= n;
  c->calls++;
  c->a->free(c->heap, p);
}

static inline void *bench_realloc(bench_ctx_t *c, void *p, size_t old, size_t n) {
  void *q = c->a->realloc(c->heap, p, n);
  if (__builtin_expect(q == NULL, 0)) bench_die("realloc(%zu) returned NULL", n);
  c->live_bytes -= old;
  bench_live_add(c, n);
  bench_tick(c);
  if (c->meter) bench_meter_alloc(c, q, n);
  c->sink ^= (uintptr_t)q;
  return q;
}

/* Metered run only: record the allocator's external fragmentation now. */
void bench_snapshot(bench_ctx_t *c);

/* ---------------------------------------------------------------------------
 * The PRNG standing in for the original's srand(42)/rand(): xorshift64*,
 * 31-bit outputs like glibc's rand(), identical for every allocator.
 * ------------------------------------------------------------------------- */
typedef struct bench_rng {
  uint64_t s;
} bench_rng_t;

static inline bench_rng_t bench_srand(uint64_t seed) {
  bench_rng_t r = {seed ? seed : 0x9E3779B97F4A7C15ull};
  return r;
}

static inline uint32_t bench_rand(bench_rng_t *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return (uint32_t)((r->s * 0x2545F4914F6CDD1Dull) >> 33); /* 0 .. 2^31-1 */
}

/* ---------------------------------------------------------------------------
 * One pair's result, as the child reports it and the driver stores it.
 * ------------------------------------------------------------------------- */
typedef enum bench_status {
  BENCH_OK = 0,
  BENCH_SKIPPED, /* reference library missing, or workload data missing */
  BENCH_FAILED,  /* child crashed or reported an error */
  BENCH_TIMEOUT, /* child exceeded the per-pair time limit */
} bench_status_t;

typedef struct bench_result {
  char alloc[32];
  char workload[32];
  bench_status_t status;
  char note[160];
  double median_s, min_s, max_s; /* per run (over every process of the pair) */
  int repeats;                    /* timed runs (of the first process) */
  int rounds;                     /* processes whose medians median_s is the
                                     median of (--rounds; 1: one process) */
  double ops;                     /* allocator calls per run */
  double ratio_vs_glibc;          /* median / glibc's median; NAN if undefined */
  long peak_rss_kb;               /* workload: the child's VmHWM; program: ru_maxrss of its tree */
  double rss_ratio_vs_glibc;      /* peak_rss_kb / glibc's; NAN if undefined */
  double syscalls;                /* calls in one extra run under strace -f -c; NAN unknown */
  double mm_syscalls;             /* of which mmap, munmap, mremap, madvise, brk, mprotect */
  double syscalls_ratio_vs_glibc; /* syscalls / glibc's; NAN if undefined */
  bool program;                   /* a row of the programs suite (workload = "prog:NAME") */
  double footprint_bytes;         /* peak bytes from the OS; <0 unknown */
  const char *footprint_source;   /* "stats" (va_stats) or "rss" (RSS growth) */
  double rss_growth_bytes;        /* peak anonymous RSS growth: same measure for all */
  double peak_live_bytes;         /* peak requested bytes live */
  double utilization;             /* peak_live_bytes / footprint_bytes; NAN */
  double fragmentation;           /* external, fraction; NAN where undefined */
  double internal_frag;           /* 1 - requested/usable, fraction; NAN */
  uint64_t checksum;               /* workload: pointer fold; program: hash of its output */
} bench_result_t;

/* ---------------------------------------------------------------------------
 * The programs suite (programs.c): real programs from Debian, each run under
 * every process-wide allocator by LD_PRELOAD; the driver runs them.
 * ------------------------------------------------------------------------- */
typedef struct bench_prog_env {
  const char *dir;  /* this program's scratch directory: its inputs, cwd and outputs */
  const char *root; /* the runfiles root: bench/programs/ and the compiled sources */
} bench_prog_env_t;

typedef struct bench_program {
  const char *name;       /* the row's workload name, "prog:python" */
  const char *summary;
  const char *binary;     /* absolute path; missing: the program is skipped */
  const char *package;    /* the Debian package that ships it (./bazelw installs it) */
  const char *argv[12];   /* argv[0] = binary; "{root}" and "{dir}" expanded */
  const char *in;         /* stdin, expanded like argv; NULL: /dev/null */
  const char *env[4];     /* NAME=VALUE added to the inherited environment */
  const char *outputs[4]; /* files a run writes in dir: compared with glibc's, like stdout */
  /* Writes the inputs into e->dir once per session, before any run; NULL: none. */
  bool (*prepare)(const bench_prog_env_t *e, char *err, size_t errlen);
} bench_program_t;

extern const bench_program_t bench_programs[];
extern const size_t bench_programs_len;
const bench_program_t *bench_program_find(const char *name);
/* s with "{root}" and "{dir}" replaced, in buf (truncated to len). */
const char *bench_program_expand(const bench_prog_env_t *e, const char *s, char *buf,
                                 size_t len);

/* Fast-path micro benchmark: ns per malloc+free pair for one size. */
typedef struct bench_fast {
  char alloc[32];
  size_t size;
  double pair_ns; /* malloc then free, repeated: best of runs */
  double lifo_ns; /* 1000 mallocs then LIFO frees, per pair: best of runs */
} bench_fast_t;

#define BENCH_FAST_SIZES 7
extern const size_t bench_fast_sizes[BENCH_FAST_SIZES];

/* Runs the micro benchmark in this process and prints FAST lines to out. */
void bench_fast_run(const va_allocator_t *a, void *heap, bench_mode_t mode,
                    FILE *out);

/* ---------------------------------------------------------------------------
 * Reports (report.c).
 * ------------------------------------------------------------------------- */
typedef struct bench_session {
  bench_result_t *results;
  size_t nresults;
  bench_fast_t *fast;
  size_t nfast;
  const char *allocs[16]; /* display order */
  size_t nallocs;
  const char *machine; /* one line: CPU, cores, kernel, libc */
  const char *mode;    /* "quick", "default", "full" */
  double run_limit_s;  /* a run slower than this stopped its pair (the notes give each limit) */
  int rounds;          /* processes per workload pair (bench_result_t.rounds) */
  const char *notes[32];
  size_t nnotes;
} bench_session_t;

void bench_report_table(FILE *f, const bench_session_t *s);
bool bench_write_json(const char *path, const bench_session_t *s);
bool bench_write_csv(const char *path, const bench_session_t *s);
bool bench_write_svg(const char *path, const bench_session_t *s);
bool bench_write_markdown(const char *path, const bench_session_t *s);
/* Rewrite the results section between the README's bench markers. */
bool bench_update_readme(const char *path, const bench_session_t *s);

/* The issues' targets, checked against this session's numbers (targets.c):
 * one line each, met / missed by how much / no data. Markdown: a list. */
void bench_report_targets(FILE *f, const bench_session_t *s, bool markdown);

/* Lookups shared by the reports and the targets (session.c). */
const bench_result_t *bench_result_find(const bench_session_t *s, const char *alloc,
                                        const char *workload);
size_t bench_workload_order(const bench_session_t *s, const char **out, size_t max);
/* A row's one-line description: the workload's or the program's summary. */
const char *bench_row_summary(const char *name);

#endif /* VEDALLOC_BENCH_H */
