/* vedalloc bench — `bazel run //bench:compare`: every allocator against
 * glibc, jemalloc, mimalloc and tcmalloc, one fresh process per pair.
 *
 * Basic algorithm:
 *   1. parse flags; list the allocators (ours from the registry, the
 *      references as the registry's "system" entry run under LD_PRELOAD of
 *      the reference's shared object, and our drop-in libraries the same
 *      way, found in the runfiles; a missing one is skipped with a note);
 *   2. for each workload, for each allocator: re-exec this binary as
 *      `compare --child ENTRY WORKLOAD`, read its RESULT line through a pipe,
 *      kill it past the per-pair time limit;
 *   3. fast path: `--child ENTRY fastpath` for V2, its drop-in and the references;
 *   4. ratios to glibc, then the table, JSON, CSV, SVG and Markdown, and
 *      the targets checked against this run's numbers.
 * Multi-threaded workloads run only where one allocator serves every thread
 * (glibc, the references and the drop-ins); a registry instance is single-
 * threaded and its cell says n/a.
 * Workloads run in the outer loop so each workload's allocators run close
 * together in time: a burst of load from another job on this shared machine
 * then skews a whole row less than it would skew a column.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/registry.h"
#include "bench/bench.h"
#include "bench/child.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif
#if !defined(BENCH_SANITIZED) && (defined(VA_SANITIZED) || defined(__SANITIZE_ADDRESS__))
#define BENCH_SANITIZED 1
#endif

#define BENCH_MAX_ALLOCS 16

/* One allocator as the driver sees it. */
typedef struct bench_alloc {
  const char *name;  /* display name: "v2-slab", "glibc", "jemalloc", ... */
  const char *entry; /* registry entry the child runs */
  char preload[512]; /* LD_PRELOAD value; empty for none */
  const char *expect_symbol; /* a symbol only the preloaded library defines */
  bool reference;    /* glibc or a preloaded reference */
  bool dropin;       /* one of our drop-in libraries, preloaded like a reference */
  bool available;
  char note[200];    /* why not available */
} bench_alloc_t;

typedef struct bench_flags {
  bench_mode_t mode;
  const char *alloc_filter, *workload_filter;
  const char *json, *csv, *svg, *markdown;
  const char *trace_dir;
  bool list, no_save;
  double timeout_s;   /* the driver kills a child after this long */
  double run_limit_s; /* a child stops its pair when one run takes longer */
  int threads;        /* worker threads of the multi-threaded workloads; 0: theirs */
} bench_flags_t;

static void bench_usage(FILE *f) {
  fprintf(f,
          "usage: compare [--quick | --full] [--alloc=A,B] [--workload=X,Y]\n"
          "               [--json FILE] [--csv FILE] [--svg FILE] [--markdown FILE]\n"
          "               [--no-save] [--run-limit=SECONDS] [--timeout=SECONDS]\n"
          "               [--traces=DIR] [--threads=N] [--list]\n"
          "  Runs every (allocator, workload) pair in a fresh process and compares\n"
          "  them with glibc. Allocators: ours from the registry plus glibc,\n"
          "  jemalloc, mimalloc, tcmalloc, and our drop-in libraries (dropin-v2,\n"
          "  dropin-v1) preloaded the same way. Workload 'fastpath' is the micro benchmark.\n"
          "  --threads: workers of the multi-threaded workloads (default 2).\n"
          "  --run-limit: one run slower than this stops its pair (default 3 s,\n"
          "  --full 60 s, --quick 10 s): a quadratic allocator is reported, not waited for.\n"
          "  --timeout: a child running longer is killed (default 60 s, --full 600 s).\n"
          "  Relative output paths are resolved against $BUILD_WORKING_DIRECTORY.\n"
          "  Under `bazel run`, also writes bench/results/latest.{json,md,svg}\n"
          "  in the source tree unless --no-save.\n");
}

/* ---------------------------------------------------------------------------
 * Allocators.
 * ------------------------------------------------------------------------- */
static bool bench_find_lib(const char *const *names, char *out, size_t outlen) {
  static const char *const dirs[] = {
      "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
      "/usr/lib64", "/usr/lib", "/usr/local/lib", "/usr/local/lib64"};
  for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
    for (size_t n = 0; names[n]; n++) {
      snprintf(out, outlen, "%s/%s", dirs[d], names[n]);
      if (access(out, R_OK) == 0) return true;
    }
  out[0] = 0;
  return false;
}

static void bench_add_reference(bench_alloc_t *a, const char *name, const char *env,
                                const char *symbol, const char *const *libs) {
  memset(a, 0, sizeof *a);
  a->name = name;
  a->entry = "system";
  a->reference = true;
  a->expect_symbol = symbol;
  const char *override = getenv(env);
  if (override && *override) {
    snprintf(a->preload, sizeof a->preload, "%s", override);
    a->available = access(a->preload, R_OK) == 0;
  } else {
    a->available = bench_find_lib(libs, a->preload, sizeof a->preload);
  }
  if (!a->available)
    snprintf(a->note, sizeof a->note, "%s skipped: shared object not found (%s, or set %s)",
             name, libs[0], env);
#ifdef BENCH_SANITIZED
  if (a->available) {
    a->available = false;
    snprintf(a->note, sizeof a->note, "%s skipped: sanitizer build cannot LD_PRELOAD it", name);
  }
#endif
}

/* A file of this build's runfiles (e.g. "alloc/malloc/libvedalloc.so"), as
 * an absolute path: under `bazel run` (RUNFILES_DIR or the working
 * directory), in a test (TEST_SRCDIR) or beside the binary (exe.runfiles). */
static bool bench_runfile(const char *rel, char *out, size_t outlen) {
  char exe[2048] = {0}, cand[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  const char *roots[] = {getenv("RUNFILES_DIR"), getenv("TEST_SRCDIR"), n > 0 ? exe : NULL, "."};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    if (!roots[i] || !*roots[i]) continue;
    if (i == 2) snprintf(cand, sizeof cand, "%s.runfiles/vedalloc/%s", roots[i], rel);
    else if (i == 3) snprintf(cand, sizeof cand, "%s", rel);
    else snprintf(cand, sizeof cand, "%s/vedalloc/%s", roots[i], rel);
    if (access(cand, R_OK) == 0 && realpath(cand, exe)) {
      snprintf(out, outlen, "%s", exe);
      return true;
    }
  }
  out[0] = 0;
  return false;
}

/* Our drop-in library, preloaded exactly like a reference (VA_BENCH_VEDALLOC
 * and VA_BENCH_VEDALLOC_V1 override the runfiles path). */
static void bench_add_dropin(bench_alloc_t *a, const char *name, const char *env,
                             const char *rel) {
  memset(a, 0, sizeof *a);
  a->name = name;
  a->entry = "system";
  a->dropin = true;
  a->expect_symbol = "vm_backend_name";
  const char *override = getenv(env);
  if (override && *override) {
    snprintf(a->preload, sizeof a->preload, "%s", override);
    a->available = access(a->preload, R_OK) == 0;
  } else {
    a->available = bench_runfile(rel, a->preload, sizeof a->preload);
  }
  if (!a->available)
    snprintf(a->note, sizeof a->note, "%s skipped: %s not in the runfiles (or set %s)", name,
             rel, env);
#ifdef BENCH_SANITIZED
  if (a->available) {
    a->available = false;
    snprintf(a->note, sizeof a->note, "%s skipped: sanitizer build cannot LD_PRELOAD it", name);
  }
#endif
}

static size_t bench_list_allocs(bench_alloc_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < va_registry_len && n < BENCH_MAX_ALLOCS - 6; i++) {
    if (va_registry[i].family == VA_FAMILY_REFERENCE) continue;
    if (va_registry[i].harness_only) continue;
    memset(&out[n], 0, sizeof out[n]);
    out[n].name = out[n].entry = va_registry[i].name;
    out[n].available = true;
    n++;
  }
  bench_add_dropin(&out[n++], "dropin-v2", "VA_BENCH_VEDALLOC", "alloc/malloc/libvedalloc.so");
  bench_add_dropin(&out[n++], "dropin-v1", "VA_BENCH_VEDALLOC_V1",
                   "alloc/malloc/libvedalloc_v1.so");
  memset(&out[n], 0, sizeof out[n]);
  out[n].name = "glibc";
  out[n].entry = "system";
  out[n].reference = out[n].available = true;
  n++;
  static const char *const je[] = {"libjemalloc.so.2", "libjemalloc.so", NULL};
  static const char *const mi[] = {"libmimalloc.so.2", "libmimalloc.so", NULL};
  static const char *const tc[] = {"libtcmalloc_minimal.so.4", "libtcmalloc_minimal.so", NULL};
  bench_add_reference(&out[n++], "jemalloc", "VA_BENCH_JEMALLOC", "mallctl", je);
  bench_add_reference(&out[n++], "mimalloc", "VA_BENCH_MIMALLOC", "mi_version", mi);
  bench_add_reference(&out[n++], "tcmalloc", "VA_BENCH_TCMALLOC", "tc_malloc", tc);
  return n;
}

/* ---------------------------------------------------------------------------
 * Flags.
 * ------------------------------------------------------------------------- */

/* Is name in the comma-separated list (NULL list: everything)? */
static bool bench_in_list(const char *list, const char *name) {
  if (list == NULL) return true;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return true;
    if (len == 6 && strncmp(p, "system", 6) == 0 && strcmp(name, "glibc") == 0) return true;
    p += len + (comma ? 1 : 0);
  }
  return false;
}

/* "--name=value" or "--name value"; returns the value or NULL. */
static const char *bench_flag_value(const char *flag, int argc, char **argv, int *i) {
  size_t n = strlen(flag);
  if (strncmp(argv[*i], flag, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] == 0 && *i + 1 < argc) return argv[++*i];
  return NULL;
}

static bool bench_parse_seconds(const char *v, double *out) {
  char *end;
  *out = strtod(v, &end);
  return *v && *end == 0 && *out > 0;
}

static bool bench_parse_flags(int argc, char **argv, bench_flags_t *f) {
  memset(f, 0, sizeof *f);
  f->mode = BENCH_DEFAULT;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--quick") == 0) f->mode = BENCH_QUICK;
    else if (strcmp(a, "--full") == 0) f->mode = BENCH_FULL;
    else if (strcmp(a, "--list") == 0) f->list = true;
    else if (strcmp(a, "--no-save") == 0) f->no_save = true;
    else if ((v = bench_flag_value("--alloc", argc, argv, &i))) f->alloc_filter = v;
    else if ((v = bench_flag_value("--workload", argc, argv, &i))) f->workload_filter = v;
    else if ((v = bench_flag_value("--json", argc, argv, &i))) f->json = v;
    else if ((v = bench_flag_value("--csv", argc, argv, &i))) f->csv = v;
    else if ((v = bench_flag_value("--svg", argc, argv, &i))) f->svg = v;
    else if ((v = bench_flag_value("--markdown", argc, argv, &i))) f->markdown = v;
    else if ((v = bench_flag_value("--traces", argc, argv, &i))) f->trace_dir = v;
    else if ((v = bench_flag_value("--timeout", argc, argv, &i))) {
      if (!bench_parse_seconds(v, &f->timeout_s)) return false;
    } else if ((v = bench_flag_value("--run-limit", argc, argv, &i))) {
      if (!bench_parse_seconds(v, &f->run_limit_s)) return false;
    } else if ((v = bench_flag_value("--threads", argc, argv, &i))) {
      char *end;
      long t = strtol(v, &end, 10);
      if (!*v || *end || t < 2 || t > 64) return false;
      f->threads = (int)t;
    } else return false;
  }
  if (f->timeout_s == 0) f->timeout_s = f->mode == BENCH_FULL ? 600 : 60;
  if (f->run_limit_s == 0) f->run_limit_s = f->mode == BENCH_FULL ? 60 : f->mode == BENCH_QUICK ? 10 : 3;
  return true;
}

/* ---------------------------------------------------------------------------
 * Paths.
 * ------------------------------------------------------------------------- */

/* A user-given path, resolved against the directory `bazel run` started in. */
static const char *bench_user_path(const char *p, char *buf, size_t len) {
  const char *wd = getenv("BUILD_WORKING_DIRECTORY");
  if (p == NULL || p[0] == '/' || wd == NULL || *wd == 0) return p;
  snprintf(buf, len, "%s/%s", wd, p);
  return buf;
}

/* Where the traces are: --traces, the runfiles tree, or the source tree. */
static const char *bench_trace_dir(const char *flag, char *buf, size_t len) {
  if (flag) return flag;
  if (access("bench/traces", R_OK) == 0) return "bench/traces";
  char exe[2048] = {0};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    snprintf(buf, len, "%s.runfiles/vedalloc/bench/traces", exe);
    if (access(buf, R_OK) == 0) return buf;
  }
  const char *ws = getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws) snprintf(buf, len, "%s/bench/traces", ws);
  return ws ? buf : "bench/traces";
}

/* ---------------------------------------------------------------------------
 * Children.
 * ------------------------------------------------------------------------- */
static const char *bench_mode_flag(bench_mode_t m) {
  return m == BENCH_QUICK ? "--quick" : m == BENCH_FULL ? "--full" : "--default";
}

/* Starts `self --child ENTRY WORKLOAD MODE --traces DIR`; returns its pid. */
static pid_t bench_spawn(const bench_alloc_t *a, const char *workload,
                         const bench_flags_t *f, const char *trace_dir, int *out_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (a->preload[0]) setenv("LD_PRELOAD", a->preload, 1);
    else unsetenv("LD_PRELOAD");
    if (a->expect_symbol) setenv("VA_BENCH_EXPECT_SYMBOL", a->expect_symbol, 1);
    else unsetenv("VA_BENCH_EXPECT_SYMBOL");
    char limit[32], threads[16];
    snprintf(limit, sizeof limit, "%g", f->run_limit_s);
    snprintf(threads, sizeof threads, "%d", f->threads);
    char *argv[] = {"compare", "--child", (char *)a->entry, (char *)workload,
                    (char *)bench_mode_flag(f->mode), "--traces", (char *)trace_dir,
                    "--run-limit", limit, "--threads", threads, NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

/* Reads all of fd into buf until EOF or the deadline; false on timeout. */
static bool bench_read_all(int fd, char *buf, size_t len, double timeout_s) {
  size_t used = 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double left = timeout_s - ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    if (left <= 0) return false;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = read(fd, buf + used, len - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
    if (used == len - 1) break;
  }
  buf[used] = 0;
  return true;
}

/* The value of `key=` in a RESULT line, or NAN. */
static double bench_field(const char *line, const char *key) {
  char pat[40];
  snprintf(pat, sizeof pat, " %s=", key);
  const char *p = strstr(line, pat);
  return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* Runs one child; fills out (text = its stdout). Returns the status. */
static bench_status_t bench_run_child(const bench_alloc_t *a, const char *workload,
                                      const bench_flags_t *f, const char *trace_dir,
                                      char *text, size_t len, char *note, size_t notelen) {
  int fd;
  pid_t pid = bench_spawn(a, workload, f, trace_dir, &fd);
  if (pid < 0) {
    snprintf(note, notelen, "cannot start child: %s", strerror(errno));
    return BENCH_FAILED;
  }
  bool done = bench_read_all(fd, text, len, f->timeout_s);
  close(fd);
  if (!done) kill(pid, SIGKILL);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (!done) {
    snprintf(note, notelen, "timeout after %.0f s", f->timeout_s);
    return BENCH_TIMEOUT;
  }
  if (WIFSIGNALED(st)) {
    snprintf(note, notelen, "child killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    return BENCH_FAILED;
  }
  if (WEXITSTATUS(st) != 0) {
    snprintf(note, notelen, "child exited with status %d", WEXITSTATUS(st));
    return BENCH_FAILED;
  }
  if (strncmp(text, "SLOW ", 5) == 0) {
    double calls = bench_field(text + 4, "calls"), threads = bench_field(text + 4, "threads");
    if (threads > 1)
      snprintf(note, notelen, "a run exceeded the %g s limit (one of %.0f threads had made "
               "%.0f calls)", f->run_limit_s, threads, calls);
    else
      snprintf(note, notelen, "a run exceeded the %g s limit (%.0f calls done, >= %.2f us/call)",
               f->run_limit_s, calls, f->run_limit_s / (calls > 0 ? calls : 1) * 1e6);
    return BENCH_TIMEOUT;
  }
  if (strncmp(text, "SKIP ", 5) == 0) {
    snprintf(note, notelen, "%.*s", (int)strcspn(text + 5, "\n"), text + 5);
    return BENCH_SKIPPED;
  }
  return BENCH_OK;
}

static bool bench_parse_result(const char *text, bench_result_t *r) {
  const char *line = strstr(text, "RESULT ");
  if (!line) return false;
  r->median_s = bench_field(line, "median");
  r->min_s = bench_field(line, "min");
  r->max_s = bench_field(line, "max");
  r->repeats = (int)bench_field(line, "repeats");
  r->ops = bench_field(line, "calls");
  r->peak_rss_kb = (long)bench_field(line, "rss_kb");
  r->footprint_bytes = bench_field(line, "footprint");
  r->footprint_source = strstr(line, "source=stats") ? "stats" : "rss";
  r->peak_live_bytes = bench_field(line, "peak_live");
  r->rss_growth_bytes = bench_field(line, "rss_growth");
  r->fragmentation = bench_field(line, "frag");
  r->internal_frag = bench_field(line, "ifrag");
  r->checksum = (uint64_t)bench_field(line, "checksum");
  r->utilization = r->footprint_bytes > 0 ? r->peak_live_bytes / r->footprint_bytes : NAN;
  return !isnan(r->median_s);
}

/* ---------------------------------------------------------------------------
 * The session.
 * ------------------------------------------------------------------------- */
typedef struct bench_plan {
  bench_alloc_t allocs[BENCH_MAX_ALLOCS];
  size_t nallocs;
  const bench_workload_t *workloads[64];
  size_t nworkloads;
  bool fastpath;
  const char *trace_dir;
} bench_plan_t;

static double bench_elapsed(void) {
  static struct timespec t0;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (t0.tv_sec == 0) t0 = t;
  return (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9;
}

static void bench_progress(size_t done, size_t total, const char *alloc, const char *workload,
                           const char *what) {
  fprintf(stderr, "[%3zu/%zu %4.0f s] %-12s %-15s %s (%zu left)\n", done, total, bench_elapsed(),
          alloc, workload, what, total - done);
}

static void bench_run_pair(const bench_plan_t *p, const bench_flags_t *f, const bench_alloc_t *a,
                           const bench_workload_t *w, bench_result_t *r) {
  char text[4096];
  memset(r, 0, sizeof *r);
  snprintf(r->alloc, sizeof r->alloc, "%s", a->name);
  snprintf(r->workload, sizeof r->workload, "%s", w->name);
  r->ratio_vs_glibc = r->utilization = r->fragmentation = r->internal_frag = NAN;
  r->footprint_bytes = -1;
  r->footprint_source = "rss";
  if (!a->available) {
    r->status = BENCH_SKIPPED;
    snprintf(r->note, sizeof r->note, "%s", a->note);
    return;
  }
  r->status = bench_run_child(a, w->name, f, p->trace_dir, text, sizeof text, r->note,
                              sizeof r->note);
  if (r->status == BENCH_OK && !bench_parse_result(text, r)) {
    r->status = BENCH_FAILED;
    snprintf(r->note, sizeof r->note, "child printed no RESULT line");
  }
}

static void bench_ratios(bench_result_t *rs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (rs[i].status != BENCH_OK) continue;
    for (size_t j = 0; j < n; j++)
      if (rs[j].status == BENCH_OK && strcmp(rs[j].alloc, "glibc") == 0 &&
          strcmp(rs[j].workload, rs[i].workload) == 0 && rs[j].median_s > 0)
        rs[i].ratio_vs_glibc = rs[i].median_s / rs[j].median_s;
  }
}

/* The micro benchmark runs for V2 (instance and drop-in) and the references;
 * V1 walks its blocks (microseconds per LIFO pair), so 200k-pair runs of it
 * would cost the session seconds per size and say nothing new. */
static bool bench_fast_wanted(const bench_alloc_t *a) {
  return a->available && (a->reference || strcmp(a->name, "v2-slab") == 0 ||
                          strcmp(a->name, "dropin-v2") == 0);
}

static size_t bench_run_fast(const bench_plan_t *p, const bench_flags_t *f, bench_fast_t *out,
                             size_t *done, size_t total) {
  size_t n = 0;
  for (size_t i = 0; i < p->nallocs; i++) {
    const bench_alloc_t *a = &p->allocs[i];
    if (!bench_fast_wanted(a)) continue;
    char text[4096], note[200];
    bench_progress(++*done, total, a->name, "fastpath", "...");
    if (bench_run_child(a, "fastpath", f, p->trace_dir, text, sizeof text, note, sizeof note) !=
        BENCH_OK) {
      fprintf(stderr, "         fastpath %s: %s\n", a->name, note);
      continue;
    }
    for (const char *l = strstr(text, "FAST "); l; l = strstr(l + 1, "FAST ")) {
      bench_fast_t *fp = &out[n];
      memset(fp, 0, sizeof *fp);
      snprintf(fp->alloc, sizeof fp->alloc, "%s", a->name);
      if (sscanf(l, "FAST %zu %lf %lf", &fp->size, &fp->pair_ns, &fp->lifo_ns) == 3) n++;
    }
  }
  return n;
}

static char bench_machine_line[512];

static const char *bench_machine(void) {
  char cpu[256] = "unknown CPU";
  FILE *fc = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (fc && fgets(line, sizeof line, fc))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) snprintf(cpu, sizeof cpu, "%.*s", (int)strcspn(c + 2, "\n"), c + 2);
      break;
    }
  if (fc) fclose(fc);
  struct utsname u;
  uname(&u);
  time_t now = time(NULL);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
  snprintf(bench_machine_line, sizeof bench_machine_line,
           "%s, %ld cores online, Linux %s, glibc %s, %s", cpu, sysconf(_SC_NPROCESSORS_ONLN),
           u.release, gnu_get_libc_version(), date);
  return bench_machine_line;
}

static void bench_plan_make(bench_plan_t *p, const bench_flags_t *f, char *tbuf, size_t tlen) {
  bench_alloc_t all[BENCH_MAX_ALLOCS];
  size_t n = bench_list_allocs(all);
  p->nallocs = 0;
  for (size_t i = 0; i < n; i++)
    if (bench_in_list(f->alloc_filter, all[i].name)) p->allocs[p->nallocs++] = all[i];
  p->nworkloads = 0;
  for (size_t i = 0; i < bench_workloads_len && p->nworkloads < 64; i++)
    if (bench_in_list(f->workload_filter, bench_workloads[i].name))
      p->workloads[p->nworkloads++] = &bench_workloads[i];
  p->fastpath = bench_in_list(f->workload_filter, "fastpath");
  p->trace_dir = bench_trace_dir(f->trace_dir, tbuf, tlen);
}

/* Every name in a filter must exist: a typo is a usage error, not an empty run. */
static bool bench_check_filter(const char *list, bool allocs, const bench_plan_t *p,
                               const bench_alloc_t *all, size_t nall) {
  if (!list) return true;
  char name[64];
  for (const char *q = list; *q;) {
    size_t len = strcspn(q, ",");
    snprintf(name, sizeof name, "%.*s", (int)len, q);
    bool ok = false;
    if (allocs) {
      for (size_t i = 0; i < nall; i++) ok |= bench_in_list(name, all[i].name);
    } else {
      ok = bench_workload_find(name) != NULL || strcmp(name, "fastpath") == 0;
    }
    if (!ok) {
      fprintf(stderr, "compare: unknown %s '%s'\n", allocs ? "allocator" : "workload", name);
      return false;
    }
    q += len + (q[len] ? 1 : 0);
  }
  (void)p;
  return true;
}

static void bench_list(const bench_plan_t *p) {
  bench_alloc_t all[BENCH_MAX_ALLOCS];
  size_t n = bench_list_allocs(all);
  printf("allocators:\n");
  for (size_t i = 0; i < n; i++)
    printf("  %-12s %s\n", all[i].name,
           !all[i].available ? all[i].note : all[i].preload[0] ? all[i].preload : "");
  printf("workloads:\n");
  for (size_t i = 0; i < bench_workloads_len; i++)
    printf("  %-15s %s%s\n", bench_workloads[i].name, bench_workloads[i].summary,
           bench_workloads[i].original ? " [original]"
           : bench_workloads[i].threads > 1 ? " [multi-threaded]" : "");
  printf("  %-15s ns per malloc+free pair per size (V2, its drop-in and references)\n", "fastpath");
  printf("traces from: %s\n", p->trace_dir);
}

static void bench_save(const bench_session_t *s, const bench_flags_t *f) {
  char buf[4096];
  bool ok = true;
  if (f->json) ok &= bench_write_json(bench_user_path(f->json, buf, sizeof buf), s);
  if (f->csv) ok &= bench_write_csv(bench_user_path(f->csv, buf, sizeof buf), s);
  if (f->svg) ok &= bench_write_svg(bench_user_path(f->svg, buf, sizeof buf), s);
  if (f->markdown) ok &= bench_write_markdown(bench_user_path(f->markdown, buf, sizeof buf), s);
  const char *ws = getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws && *ws && !f->no_save) {
    snprintf(buf, sizeof buf, "%s/bench/results", ws);
    mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.json", ws);
    ok &= bench_write_json(buf, s);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.md", ws);
    ok &= bench_write_markdown(buf, s);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.svg", ws);
    ok &= bench_write_svg(buf, s);
    fprintf(stderr, "saved %s/bench/results/latest.{json,md,svg}\n", ws);
    if (!f->alloc_filter && !f->workload_filter) { /* only a complete run speaks for the README */
      snprintf(buf, sizeof buf, "%s/README.md", ws);
      if (bench_update_readme(buf, s)) fprintf(stderr, "updated the results in %s\n", buf);
    }
  }
  if (!ok) fprintf(stderr, "compare: some output files could not be written\n");
}

static int bench_session_run(const bench_flags_t *f) {
  static bench_plan_t p;
  char tbuf[4096];
  bench_plan_make(&p, f, tbuf, sizeof tbuf);
  bench_elapsed(); /* starts the session clock */
  size_t total = p.nallocs * p.nworkloads, done = 0;
  for (size_t i = 0; p.fastpath && i < p.nallocs; i++)
    total += bench_fast_wanted(&p.allocs[i]);
  bench_result_t *rs = calloc(p.nallocs * p.nworkloads + 1, sizeof *rs);
  bench_fast_t *fast = calloc(p.nallocs * BENCH_FAST_SIZES + 1, sizeof *fast);
  bench_session_t s = {.results = rs, .fast = fast, .mode = bench_mode_flag(f->mode) + 2,
                       .run_limit_s = f->run_limit_s};
  for (size_t i = 0; i < p.nallocs; i++) {
    s.allocs[s.nallocs++] = p.allocs[i].name;
    if (!p.allocs[i].available && s.nnotes < 16) s.notes[s.nnotes++] = p.allocs[i].note;
  }
  for (size_t w = 0; w < p.nworkloads; w++)
    for (size_t i = 0; i < p.nallocs; i++) {
      bench_result_t *r = &rs[s.nresults++];
      bench_progress(++done, total, p.allocs[i].name, p.workloads[w]->name, "...");
      bench_run_pair(&p, f, &p.allocs[i], p.workloads[w], r);
      if (r->status == BENCH_OK)
        fprintf(stderr, "         -> %.3f ms median of %d\n", r->median_s * 1e3, r->repeats);
      else
        fprintf(stderr, "         -> %s\n", r->note);
    }
  if (p.fastpath) s.nfast = bench_run_fast(&p, f, fast, &done, total);
  bench_ratios(rs, s.nresults);
  s.machine = bench_machine();
  fprintf(stderr, "session: %zu pairs in %.0f s\n", total, bench_elapsed());
  bench_report_table(stdout, &s);
  bench_save(&s, f);
  size_t failed = 0;
  for (size_t i = 0; i < s.nresults; i++) failed += rs[i].status == BENCH_FAILED;
  free(fast);
  free(rs);
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "--child") == 0) {
    bench_mode_t m = BENCH_DEFAULT;
    const char *traces = NULL;
    double limit = 0;
    int threads = 0;
    for (int i = 4; i < argc; i++) {
      if (strcmp(argv[i], "--run-limit") == 0 && i + 1 < argc) limit = atof(argv[++i]);
      if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
      if (strcmp(argv[i], "--quick") == 0) m = BENCH_QUICK;
      if (strcmp(argv[i], "--full") == 0) m = BENCH_FULL;
      if (strcmp(argv[i], "--traces") == 0 && i + 1 < argc) traces = argv[++i];
    }
    int rc = bench_child_main(argv[2], argv[3], m, traces, limit, threads, stdout);
    fflush(stdout);
    return rc;
  }
  bench_flags_t f;
  if (!bench_parse_flags(argc, argv, &f)) {
    bench_usage(stderr);
    return 2;
  }
  static bench_plan_t p;
  char tbuf[4096];
  bench_plan_make(&p, &f, tbuf, sizeof tbuf);
  bench_alloc_t all[BENCH_MAX_ALLOCS];
  size_t nall = bench_list_allocs(all);
  if (!bench_check_filter(f.alloc_filter, true, &p, all, nall) ||
      !bench_check_filter(f.workload_filter, false, &p, all, nall)) {
    bench_usage(stderr);
    return 2;
  }
  if (f.list) {
    bench_list(&p);
    return 0;
  }
  return bench_session_run(&f);
}
