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
 *   3. when strace is installed, each pair that ran runs once more, untimed,
 *      under `strace -f -c` as `--child ENTRY WORKLOAD --quick` (the metered
 *      warm-up plus one timed run: the same work for every allocator), and
 *      its summary gives the pair's syscall counts;
 *   4. fast path: `--child ENTRY fastpath` for V2, its drop-in and the references;
 *   5. programs (--suite=programs, --full): each program of programs.c,
 *      inputs made once, runs in N rounds, each round once under every
 *      process-wide allocator (LD_PRELOAD), then once per allocator under
 *      strace; its output must equal glibc's;
 *   6. ratios to glibc, then the table, JSON, CSV, SVG and Markdown, and
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
#include <ftw.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

#define BENCH_MAX_ALLOCS 32
#define BENCH_MAX_ROUNDS 9 /* --rounds */

static int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sort v[0..n) and return its median (the upper one for an even n: a
 * measured value, as a child's odd repeats give). n > 0. */
static double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return v[n / 2];
}

/* One allocator as the driver sees it. */
typedef struct bench_alloc {
  const char *name;  /* display name: "v2-slab", "glibc", "jemalloc", ... */
  const char *entry; /* registry entry the child runs */
  char preload[512]; /* LD_PRELOAD value; empty for none */
  const char *expect_symbol; /* a symbol only the preloaded library defines */
  bool reference;    /* glibc or a preloaded reference */
  bool dropin;       /* one of our drop-in libraries, preloaded like a reference */
  const char *mode;  /* NAME=VALUE the drop-in runs under (its hardened mode), or NULL */
  bool on_request;   /* runs only when --alloc names it (one hardening feature) */
  bool available;
  char note[200];    /* why not available */
} bench_alloc_t;

/* Which rows a session runs when --workload does not name them. */
typedef enum bench_suite {
  BENCH_SUITE_DEFAULT = 0, /* workloads; with --full, workloads and programs */
  BENCH_SUITE_WORKLOADS,
  BENCH_SUITE_PROGRAMS,
  BENCH_SUITE_ALL,
} bench_suite_t;

typedef struct bench_flags {
  bench_mode_t mode;
  bench_suite_t suite;
  bool no_syscalls;   /* skip the strace runs */
  const char *alloc_filter, *workload_filter;
  const char *json, *csv, *svg, *markdown;
  const char *trace_dir;
  bool list, save, update_readme; /* --save, --update-readme: write into the tree */
  double timeout_s;   /* the driver kills a child after this long */
  double run_limit_s; /* a child stops its pair when one run takes longer */
  int threads;        /* worker threads of the multi-threaded workloads; 0: theirs */
  int rounds;         /* processes per workload pair, run in interleaved rounds */
} bench_flags_t;

static void bench_usage(FILE *f) {
  fprintf(f,
          "usage: compare [--quick | --full] [--suite=workloads|programs|all]\n"
          "               [--alloc=A,B] [--workload=X,Y] [--no-syscalls]\n"
          "               [--json FILE] [--csv FILE] [--svg FILE] [--markdown FILE]\n"
          "               [--save] [--update-readme] [--run-limit=SECONDS] [--timeout=SECONDS]\n"
          "               [--traces=DIR] [--threads=N] [--rounds=N] [--list]\n"
          "  Runs every (allocator, workload) pair in a fresh process and compares\n"
          "  them with glibc. Allocators: ours from the registry plus glibc,\n"
          "  jemalloc, mimalloc, tcmalloc, and our drop-in libraries (dropin-v2,\n"
          "  dropin-v1) preloaded the same way. Workload 'fastpath' is the micro benchmark.\n"
          "  --suite: workloads (the default), programs (real programs under LD_PRELOAD,\n"
          "  rows prog:NAME), or all (the --full default). --workload names override it.\n"
          "  --no-syscalls: skip the extra untimed run of each pair under strace -f -c.\n"
          "  --threads: workers of the multi-threaded workloads (default 2).\n"
          "  --rounds: processes per workload pair (default 1, --full 3), run in\n"
          "  rounds of every allocator in turn; the time is the median of theirs\n"
          "  (each the median of its share of the repeats). Pairs whose runs take\n"
          "  0.5 s or more run in one process.\n"
          "  --run-limit: one run slower than this stops its pair (default 3 s,\n"
          "  --full 60 s, --quick 10 s; a program's whole run: 4x that, at most 60 s):\n"
          "  a quadratic allocator is reported, not waited for.\n"
          "  --timeout: a child running longer is killed (default 60 s, --full 600 s).\n"
          "  Relative output paths are resolved against $BUILD_WORKING_DIRECTORY.\n"
          "  The source tree is left as it was unless asked: under `bazel run`,\n"
          "  --save writes bench/results/latest.{json,md,svg}, and --update-readme\n"
          "  (a run of every allocator and workload only) the README's results.\n"
          "  --no-save is accepted and changes nothing (it is the default).\n");
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
  static const char *const features[][2] = { /* one hardening feature each (alloc/harden) */
      {"dropin-v2-harden-trailer", "VEDALLOC_HARDEN=trailer"},
      {"dropin-v2-harden-canary", "VEDALLOC_HARDEN=canary"},
      {"dropin-v2-harden-guard", "VEDALLOC_HARDEN=guard"},
      {"dropin-v2-harden-zero", "VEDALLOC_HARDEN=zero"},
      {"dropin-v2-harden-quarantine", "VEDALLOC_HARDEN=quarantine"},
      {"dropin-v2-harden-zero-size", "VEDALLOC_HARDEN=zero-size"}};
  size_t nf = sizeof features / sizeof features[0];
  for (size_t i = 0; i < va_registry_len && n < BENCH_MAX_ALLOCS - 7 - nf; i++) {
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
  /* The same library as dropin-v2, in its hardened mode (alloc/harden). */
  bench_add_dropin(&out[n], "dropin-v2-hardened", "VA_BENCH_VEDALLOC", "alloc/malloc/libvedalloc.so");
  out[n++].mode = "VEDALLOC_HARDEN=1";
  for (size_t k = 0; k < nf; k++) { /* the layer with one feature: its cost alone */
    bench_add_dropin(&out[n], features[k][0], "VA_BENCH_VEDALLOC", "alloc/malloc/libvedalloc.so");
    out[n].mode = features[k][1];
    out[n++].on_request = true;
  }
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
    else if (strcmp(a, "--no-save") == 0) f->save = false;
    else if (strcmp(a, "--save") == 0) f->save = true;
    else if (strcmp(a, "--update-readme") == 0) f->update_readme = true;
    else if (strcmp(a, "--no-syscalls") == 0) f->no_syscalls = true;
    else if ((v = bench_flag_value("--suite", argc, argv, &i))) {
      if (strcmp(v, "workloads") == 0) f->suite = BENCH_SUITE_WORKLOADS;
      else if (strcmp(v, "programs") == 0) f->suite = BENCH_SUITE_PROGRAMS;
      else if (strcmp(v, "all") == 0) f->suite = BENCH_SUITE_ALL;
      else return false;
    }
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
    } else if ((v = bench_flag_value("--rounds", argc, argv, &i))) {
      char *end;
      long n = strtol(v, &end, 10);
      if (!*v || *end || n < 1 || n > BENCH_MAX_ROUNDS) return false;
      f->rounds = (int)n;
    } else return false;
  }
  if (f->suite == BENCH_SUITE_DEFAULT)
    f->suite = f->mode == BENCH_FULL ? BENCH_SUITE_ALL : BENCH_SUITE_WORKLOADS;
  if (f->rounds == 0) f->rounds = f->mode == BENCH_FULL ? 3 : 1;
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

/* The value of `key=` in a RESULT line, or NAN. */
static double bench_field(const char *line, const char *key) {
  char pat[40];
  snprintf(pat, sizeof pat, " %s=", key);
  const char *p = strstr(line, pat);
  return p ? strtod(p + strlen(pat), NULL) : NAN;
}

static double bench_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One process to start: a workload child or a program, maybe under strace.
 * Every child is started and reaped by bench_cmd_run, in a process group of
 * its own, so a limit kills the whole tree (strace and its tracees, gcc and
 * cc1) and a Ctrl-C of the driver does too. */
typedef struct bench_cmd {
  char *const *argv;      /* argv[0]: the file executed; NULL-terminated */
  const bench_alloc_t *a; /* whose LD_PRELOAD and expected symbol it gets */
  char *const *env;       /* NAME=VALUE added to the environment; NULL-terminated or NULL */
  const char *cwd;        /* NULL: the driver's */
  const char *in;         /* stdin; NULL: /dev/null */
  int out_fd, err_fd;     /* stdout, stderr; -1: the driver's */
  const char *strace_out; /* non-NULL: run under strace -f -c, the summary written here */
  double limit_s;         /* wall seconds before the group is killed */
} bench_cmd_t;

typedef struct bench_exit {
  bool started, timed_out;
  int status;     /* waitpid status */
  double wall_s;  /* fork to exit */
  long maxrss_kb; /* ru_maxrss: the largest of the child and its reaped descendants */
} bench_exit_t;

static volatile pid_t bench_running; /* the process group to kill on SIGINT/SIGTERM */

static void bench_on_signal(int sig) {
  if (bench_running > 0) kill(-bench_running, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* strace, or NULL: VA_BENCH_STRACE overrides /usr/bin/strace. */
static const char *bench_strace_path(void) {
  const char *p = getenv("VA_BENCH_STRACE");
  if (!p || !*p) p = "/usr/bin/strace";
  return access(p, X_OK) == 0 ? p : NULL;
}

/* In the forked child: process group, environment, descriptors, exec. Under
 * strace the preload goes to the traced command only (-E), not to strace. */
static void bench_cmd_exec(const bench_cmd_t *c) {
  setpgid(0, 0);
  unsetenv("LD_PRELOAD");
  unsetenv("VEDALLOC_HARDEN"); /* only the allocator that names it runs hardened */
  if (c->a->mode) putenv((char *)c->a->mode);
  if (c->a->expect_symbol) setenv("VA_BENCH_EXPECT_SYMBOL", c->a->expect_symbol, 1);
  else unsetenv("VA_BENCH_EXPECT_SYMBOL");
  for (size_t i = 0; c->env && c->env[i]; i++) putenv(c->env[i]);
  if (c->cwd && chdir(c->cwd) != 0) _exit(126);
  int in = open(c->in ? c->in : "/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, STDIN_FILENO) < 0) _exit(126);
  if (c->out_fd >= 0) dup2(c->out_fd, STDOUT_FILENO);
  if (c->err_fd >= 0) dup2(c->err_fd, STDERR_FILENO);
  char *argv[80], preload[600];
  size_t n = 0;
  if (c->strace_out) {
    static char *const strace_flags[] = {"-f", "-qq", "-c", "-U", "name,calls", "-o"};
    argv[n++] = (char *)bench_strace_path();
    for (size_t i = 0; i < sizeof strace_flags / sizeof strace_flags[0]; i++)
      argv[n++] = strace_flags[i];
    argv[n++] = (char *)c->strace_out;
    if (c->a->preload[0]) {
      snprintf(preload, sizeof preload, "LD_PRELOAD=%s", c->a->preload);
      argv[n++] = "-E";
      argv[n++] = preload;
    }
    argv[n++] = "--";
  } else if (c->a->preload[0]) {
    setenv("LD_PRELOAD", c->a->preload, 1);
  }
  for (size_t i = 0; c->argv[i] && n + 1 < sizeof argv / sizeof argv[0]; i++)
    argv[n++] = c->argv[i];
  argv[n] = NULL;
  if (argv[0]) execv(argv[0], argv);
  _exit(127);
}

/* Waits for pid to exit (not reaping it) for at most left seconds. */
static bool bench_wait_exit(pid_t pid, int pidfd, double left) {
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    return r > 0;
  }
  double end = bench_now() + left; /* no pidfd (Linux < 5.3): poll every millisecond */
  for (;;) {
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      return true;
    if (bench_now() >= end) return false;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

static bench_exit_t bench_cmd_run(const bench_cmd_t *c) {
  bench_exit_t x = {0};
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid < 0) return x;
  if (pid == 0) bench_cmd_exec(c);
  setpgid(pid, pid); /* also here: no window where a kill of the group misses */
  bench_running = pid;
  x.started = true;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  for (;;) {
    double left = c->limit_s - (bench_now() - t0);
    if (left <= 0) {
      x.timed_out = true;
      break;
    }
    if (bench_wait_exit(pid, pidfd, left)) break;
  }
  x.wall_s = bench_now() - t0;
  if (x.timed_out) kill(-pid, SIGKILL);
  struct rusage ru = {0};
  while (wait4(pid, &x.status, 0, &ru) < 0 && errno == EINTR) {}
  x.maxrss_kb = ru.ru_maxrss;
  bench_running = 0;
  if (pidfd >= 0) close(pidfd);
  return x;
}

/* A fresh anonymous file for a child's stdout or stderr. */
static int bench_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

/* Up to len-1 bytes of fd from its start, NUL-terminated. */
static size_t bench_fd_text(int fd, char *buf, size_t len) {
  size_t used = 0;
  for (ssize_t n; used + 1 < len && (n = pread(fd, buf + used, len - 1 - used, (off_t)used)) > 0;)
    used += (size_t)n;
  buf[used] = 0;
  return used;
}

/* Totals of a `strace -c -U name,calls` summary: every call, and the
 * memory-management subset (the calls an allocator makes to the kernel). */
static bool bench_strace_parse(const char *path, double *total, double *mm) {
  static const char *const mm_names[] = {"mmap", "munmap", "mremap", "madvise", "brk",
                                         "mprotect"};
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char line[256], name[64];
  double calls, sum = 0;
  bool found = false;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "%63s %lf", name, &calls) == 2) {
      if (strcmp(name, "total") == 0) *total = calls, found = true;
      for (size_t i = 0; i < sizeof mm_names / sizeof mm_names[0]; i++)
        if (strcmp(name, mm_names[i]) == 0) sum += calls;
    }
  fclose(f);
  *mm = sum;
  return found;
}

/* Runs `self --child ENTRY WORKLOAD MODE ...` (under strace when strace_out
 * is set); text = its stdout. Returns the status, with a note if not ok. */
static bench_status_t bench_run_child(const bench_alloc_t *a, const char *workload,
                                      const bench_flags_t *f, const char *trace_dir,
                                      bench_mode_t mode, double run_limit, const char *strace_out,
                                      char *text, size_t len, char *note, size_t notelen) {
  static char self[4096];
  if (!self[0] && readlink("/proc/self/exe", self, sizeof self - 1) < 0)
    snprintf(self, sizeof self, "/proc/self/exe");
  char limit[32], threads[16], rounds[16];
  snprintf(limit, sizeof limit, "%g", run_limit);
  snprintf(threads, sizeof threads, "%d", f->threads);
  snprintf(rounds, sizeof rounds, "%d", strace_out ? 1 : f->rounds); /* strace: one process */
  char *argv[] = {self, "--child", (char *)a->entry, (char *)workload,
                  (char *)bench_mode_flag(mode), "--traces", (char *)trace_dir,
                  "--run-limit", limit, "--threads", threads, "--rounds", rounds, NULL};
  int out = bench_memfd("bench-child");
  bench_cmd_t c = {.argv = argv, .a = a, .in = NULL, .out_fd = out, .err_fd = -1,
                   .strace_out = strace_out, .limit_s = f->timeout_s};
  bench_exit_t x = out >= 0 ? bench_cmd_run(&c) : (bench_exit_t){0};
  text[0] = 0;
  if (out >= 0) bench_fd_text(out, text, len), close(out);
  if (!x.started) {
    snprintf(note, notelen, "cannot start child: %s", strerror(errno));
    return BENCH_FAILED;
  }
  int st = x.status;
  if (x.timed_out) {
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
    double calls = bench_field(text + 4, "calls"), workers = bench_field(text + 4, "threads");
    if (workers > 1)
      snprintf(note, notelen, "a run exceeded the %g s limit (one of %.0f threads had made "
               "%.0f calls)", run_limit, workers, calls);
    else
      snprintf(note, notelen, "a run exceeded the %g s limit (%.0f calls done, >= %.2f us/call)",
               run_limit, calls, run_limit / (calls > 0 ? calls : 1) * 1e6);
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
  const bench_program_t *programs[16];
  size_t nprograms;
  bool fastpath;
  const char *trace_dir;
  const char *strace;  /* strace's path; NULL: syscalls not counted */
  char root[4096];     /* runfiles root holding bench/programs/; empty: not found */
  char tmp[4096];      /* the session's scratch directory */
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

static void bench_result_init(bench_result_t *r, const bench_alloc_t *a, const char *row) {
  memset(r, 0, sizeof *r);
  snprintf(r->alloc, sizeof r->alloc, "%s", a->name);
  snprintf(r->workload, sizeof r->workload, "%s", row);
  r->ratio_vs_glibc = r->utilization = r->fragmentation = r->internal_frag = NAN;
  r->rss_ratio_vs_glibc = r->syscalls = r->mm_syscalls = r->syscalls_ratio_vs_glibc = NAN;
  r->footprint_bytes = -1;
  r->footprint_source = "rss";
}

/* Appends "; what" to an ok row's note (a syscall count that could not be had). */
static void bench_note_add(bench_result_t *r, const char *what) {
  size_t used = strlen(r->note);
  snprintf(r->note + used, sizeof r->note - used, "%s%s", used ? "; " : "", what);
}

/* The counts of one strace run just made into path, or a note why not. */
static void bench_syscalls_take(bench_result_t *r, bench_status_t st, const char *path,
                                const char *why) {
  double total = NAN, mm = NAN;
  if (st == BENCH_OK && bench_strace_parse(path, &total, &mm)) {
    r->syscalls = total;
    r->mm_syscalls = mm;
  } else {
    char what[200];
    snprintf(what, sizeof what, "syscalls n/a: strace run %s", st == BENCH_OK ? "gave no summary"
             : why && *why ? why : "failed");
    bench_note_add(r, what);
  }
  unlink(path);
}

static void bench_run_pair(const bench_plan_t *p, const bench_flags_t *f, const bench_alloc_t *a,
                           const bench_workload_t *w, bench_result_t *r) {
  char text[4096];
  bench_result_init(r, a, w->name);
  if (!a->available) {
    r->status = BENCH_SKIPPED;
    snprintf(r->note, sizeof r->note, "%s", a->note);
    return;
  }
  r->status = bench_run_child(a, w->name, f, p->trace_dir, f->mode, f->run_limit_s, NULL, text,
                              sizeof text, r->note, sizeof r->note);
  if (r->status == BENCH_OK && !bench_parse_result(text, r)) {
    r->status = BENCH_FAILED;
    snprintf(r->note, sizeof r->note, "child printed no RESULT line");
  }
  r->rounds = r->status == BENCH_OK;
  if (r->status != BENCH_OK || !p->strace || f->no_syscalls) return;
  /* The syscall run: the --quick child (warm-up + one timed run), untimed. */
  char path[4200], note[200] = "";
  snprintf(path, sizeof path, "%s/strace.txt", p->tmp);
  bench_status_t st = bench_run_child(a, w->name, f, p->trace_dir, BENCH_QUICK,
                                      2 * f->run_limit_s, path, text, sizeof text, note,
                                      sizeof note);
  bench_syscalls_take(r, st, path, note);
}

/* One more process of pair r (round 2 and on): its median joins rmed,
 * its min and max widen r's. The first process's other figures stay. */
static void bench_run_round(const bench_plan_t *p, const bench_flags_t *f, const bench_alloc_t *a,
                            const bench_workload_t *w, bench_result_t *r, double *rmed) {
  char text[4096], note[160];
  bench_result_t x;
  bench_result_init(&x, a, w->name);
  if (bench_run_child(a, w->name, f, p->trace_dir, f->mode, f->run_limit_s, NULL, text,
                      sizeof text, note, sizeof note) != BENCH_OK ||
      !bench_parse_result(text, &x))
    return; /* a later process that fails adds nothing: the pair keeps what it has */
  rmed[r->rounds++] = x.median_s;
  if (x.min_s < r->min_s) r->min_s = x.min_s;
  if (x.max_s > r->max_s) r->max_s = x.max_s;
}

/* A pair whose runs take this long or longer (median) runs in one process:
 * V1 on the long workloads, whose ratios are not in doubt. Its process
 * timed only its share of the runs. */
#define BENCH_ROUND_MAX_RUN_S 0.5

/* The rounds after the first of workload w: every allocator in turn, each
 * round, so a slow spell of the machine or a process that drew an unlucky
 * layout moves one of a pair's medians, not its figure. */
static void bench_run_rounds(const bench_plan_t *p, const bench_flags_t *f,
                             const bench_workload_t *w, bench_result_t *row, size_t done,
                             size_t total) {
  static double rmed[BENCH_MAX_ALLOCS][BENCH_MAX_ROUNDS];
  for (size_t i = 0; i < p->nallocs; i++) rmed[i][0] = row[i].median_s;
  for (int k = 1; k < f->rounds; k++)
    for (size_t i = 0; i < p->nallocs; i++) {
      bench_result_t *r = &row[i];
      if (r->status != BENCH_OK || r->median_s > BENCH_ROUND_MAX_RUN_S) continue;
      char what[32];
      snprintf(what, sizeof what, "round %d/%d", k + 1, f->rounds);
      bench_progress(done, total, p->allocs[i].name, w->name, what);
      bench_run_round(p, f, &p->allocs[i], w, r, rmed[i]);
    }
  for (size_t i = 0; i < p->nallocs; i++)
    if (row[i].status == BENCH_OK && row[i].rounds > 1)
      row[i].median_s = bench_median(rmed[i], row[i].rounds);
}

/* ---------------------------------------------------------------------------
 * Programs: each runs in its own scratch directory under every process-wide
 * allocator; N timed runs, then one under strace.
 * ------------------------------------------------------------------------- */

/* FNV-1a of fd's contents, continuing from h. */
static uint64_t bench_hash_fd(uint64_t h, int fd) {
  char buf[65536];
  off_t off = 0;
  for (ssize_t n; (n = pread(fd, buf, sizeof buf, off)) > 0; off += n)
    for (ssize_t i = 0; i < n; i++) h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ull;
  return h;
}

/* What a run printed and wrote: stdout, then each output file (missing: its name only). */
static uint64_t bench_prog_hash(const bench_program_t *prog, const bench_prog_env_t *e, int out) {
  uint64_t h = bench_hash_fd(0xcbf29ce484222325ull, out);
  char path[4200];
  for (size_t i = 0; i < 4 && prog->outputs[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", e->dir, prog->outputs[i]);
    for (const char *c = prog->outputs[i]; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) h = bench_hash_fd(h, fd), close(fd);
  }
  return h;
}

/* One run of prog (under strace when strace_out is set). Returns its status
 * with a note; x gets the time and RSS, hash the output's. */
static bench_status_t bench_prog_once(const bench_program_t *prog, const bench_prog_env_t *e,
                                      const bench_alloc_t *a, double limit,
                                      const char *strace_out, bench_exit_t *x, uint64_t *hash,
                                      char *note, size_t notelen) {
  static char args[12][4096], envs[6][4096], in[4096];
  char *argv[13] = {0}, *env[7] = {0};
  size_t n = 0, k = 0;
  for (; n < 12 && prog->argv[n]; n++)
    argv[n] = (char *)bench_program_expand(e, prog->argv[n], args[n], sizeof args[n]);
  for (; k < 4 && prog->env[k]; k++)
    env[k] = (char *)bench_program_expand(e, prog->env[k], envs[k], sizeof envs[k]);
  snprintf(envs[k], sizeof envs[k], "LC_ALL=C");
  env[k] = envs[k];
  char path[4200];
  for (size_t i = 0; i < 4 && prog->outputs[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", e->dir, prog->outputs[i]);
    unlink(path);
  }
  int out = bench_memfd("bench-prog-out"), err = bench_memfd("bench-prog-err");
  bench_cmd_t c = {.argv = argv, .a = a, .env = env, .cwd = e->dir,
                   .in = prog->in ? bench_program_expand(e, prog->in, in, sizeof in) : NULL,
                   .out_fd = out, .err_fd = err, .strace_out = strace_out, .limit_s = limit};
  *x = out >= 0 && err >= 0 ? bench_cmd_run(&c) : (bench_exit_t){0};
  char text[600] = "";
  if (err >= 0) bench_fd_text(err, text, sizeof text);
  note[0] = 0;
  if (!x->started) snprintf(note, notelen, "cannot start %s: %s", argv[0], strerror(errno));
  else if (x->timed_out) snprintf(note, notelen, "a run exceeded the %g s limit (killed)", limit);
  else if (WIFSIGNALED(x->status))
    snprintf(note, notelen, "killed by signal %d (%s)", WTERMSIG(x->status),
             strsignal(WTERMSIG(x->status)));
  else if (WEXITSTATUS(x->status) != 0)
    snprintf(note, notelen, "exited with status %d: %.*s", WEXITSTATUS(x->status),
             (int)strcspn(text, "\n"), text);
  else if (strstr(text, "cannot be preloaded"))
    snprintf(note, notelen, "LD_PRELOAD ignored: %.*s", (int)strcspn(text, "\n"), text);
  else *hash = bench_prog_hash(prog, e, out);
  bench_status_t st = x->timed_out ? BENCH_TIMEOUT : note[0] ? BENCH_FAILED : BENCH_OK;
  if (out >= 0) close(out);
  if (err >= 0) close(err);
  return st;
}

/* A program run is a whole process (about a second on glibc), not one pass
 * of a loop: it is stopped at 4x --run-limit, but never later than 60 s (30x
 * glibc's time is slow enough to report) or --timeout. */
static double bench_program_limit(const bench_flags_t *f) {
  double limit = 4 * f->run_limit_s;
  if (limit > 60) limit = 60;
  return limit < f->timeout_s ? limit : f->timeout_s;
}

/* The timed runs of one (allocator, program) pair so far. */
typedef struct bench_prog_runs {
  double t[5], rss_kb[5]; /* wall seconds and ru_maxrss of each run */
  int n;
} bench_prog_runs_t;

/* Repeats per program: quick 1, default 3, full 5 (at most 5). */
static int bench_program_repeats(const bench_flags_t *f) {
  return f->mode == BENCH_QUICK ? 1 : f->mode == BENCH_FULL ? 5 : 3;
}

/* prog's row under a before any run: skipped with a note, or ready (ok).
 * skip: why the program cannot run this session, or NULL. */
static void bench_program_row(const bench_alloc_t *a, const bench_program_t *prog,
                              const char *skip, bench_result_t *r) {
  bench_result_init(r, a, prog->name);
  r->program = true;
  r->peak_live_bytes = NAN; /* a program's own malloc calls are not counted */
  r->status = BENCH_SKIPPED;
  if (!a->available) snprintf(r->note, sizeof r->note, "%s", a->note);
  else if (!a->reference && !a->dropin)
    snprintf(r->note, sizeof r->note, "n/a: a program calls the process malloc (preloaded); "
             "a registry instance cannot serve it");
  else if (skip) snprintf(r->note, sizeof r->note, "%s", skip);
  else r->status = BENCH_OK;
}

/* One timed run of a ready row; a failure, a timeout or an output that
 * differs from the row's first ends the row. */
static void bench_program_run(const bench_flags_t *f, const bench_alloc_t *a,
                              const bench_program_t *prog, const bench_prog_env_t *e,
                              bench_result_t *r, bench_prog_runs_t *runs) {
  bench_exit_t x;
  uint64_t h = 0;
  r->status = bench_prog_once(prog, e, a, bench_program_limit(f), NULL, &x, &h, r->note,
                              sizeof r->note);
  if (r->status != BENCH_OK) return;
  if (runs->n > 0 && h != r->checksum) {
    r->status = BENCH_FAILED;
    snprintf(r->note, sizeof r->note, "output differs between runs (not deterministic)");
    return;
  }
  r->checksum = h;
  runs->t[runs->n] = x.wall_s;
  runs->rss_kb[runs->n++] = (double)x.maxrss_kb;
}

/* The row's figures from its runs (medians), then its syscall run. */
static void bench_program_finish(const bench_plan_t *p, const bench_flags_t *f,
                                 const bench_alloc_t *a, const bench_program_t *prog,
                                 const bench_prog_env_t *e, bench_result_t *r,
                                 bench_prog_runs_t *runs) {
  int n = runs->n;
  if (r->status != BENCH_OK || n == 0) return;
  r->median_s = bench_median(runs->t, n), r->min_s = runs->t[0], r->max_s = runs->t[n - 1];
  r->repeats = n;
  double rss_kb = bench_median(runs->rss_kb, n);
  r->peak_rss_kb = (long)rss_kb;
  r->rss_growth_bytes = r->footprint_bytes = rss_kb * 1024; /* baseline: 0 */
  if (!p->strace || f->no_syscalls) return;
  char path[4200], note[200] = "";
  snprintf(path, sizeof path, "%s/strace.txt", p->tmp);
  bench_exit_t x;
  uint64_t h = 0;
  bench_status_t st = bench_prog_once(prog, e, a, f->timeout_s, path, &x, &h, note, sizeof note);
  bench_syscalls_take(r, st, path, note);
}

/* A program row whose output is not glibc's is a failure: the allocator
 * (or the program) changed what the program computes. */
static void bench_check_outputs(bench_result_t *rs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!rs[i].program || rs[i].status != BENCH_OK) continue;
    for (size_t j = 0; j < n; j++)
      if (rs[j].status == BENCH_OK && strcmp(rs[j].alloc, "glibc") == 0 &&
          strcmp(rs[j].workload, rs[i].workload) == 0 && rs[j].checksum != rs[i].checksum) {
        rs[i].status = BENCH_FAILED;
        snprintf(rs[i].note, sizeof rs[i].note, "output differs from glibc's");
      }
  }
}

/* b / a, when both are measured. */
static double bench_ratio(double b, double a) { return a > 0 && b >= 0 ? b / a : NAN; }

static void bench_ratios(bench_result_t *rs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (rs[i].status != BENCH_OK) continue;
    for (size_t j = 0; j < n; j++)
      if (rs[j].status == BENCH_OK && strcmp(rs[j].alloc, "glibc") == 0 &&
          strcmp(rs[j].workload, rs[i].workload) == 0) {
        rs[i].ratio_vs_glibc = bench_ratio(rs[i].median_s, rs[j].median_s);
        rs[i].rss_ratio_vs_glibc =
            bench_ratio((double)rs[i].peak_rss_kb, (double)rs[j].peak_rss_kb);
        rs[i].syscalls_ratio_vs_glibc = bench_ratio(rs[i].syscalls, rs[j].syscalls);
      }
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
    if (bench_run_child(a, "fastpath", f, p->trace_dir, f->mode, f->run_limit_s, NULL, text,
                        sizeof text, note, sizeof note) !=
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
    if (bench_in_list(f->alloc_filter, all[i].name) && (f->alloc_filter || !all[i].on_request))
      p->allocs[p->nallocs++] = all[i];
  /* --workload names rows of either kind; without it, the suite decides. */
  bool filtered = f->workload_filter != NULL;
  bool workloads = filtered || f->suite != BENCH_SUITE_PROGRAMS;
  bool programs = filtered || f->suite == BENCH_SUITE_PROGRAMS || f->suite == BENCH_SUITE_ALL;
  p->nworkloads = p->nprograms = 0;
  for (size_t i = 0; workloads && i < bench_workloads_len && p->nworkloads < 64; i++)
    if (bench_in_list(f->workload_filter, bench_workloads[i].name))
      p->workloads[p->nworkloads++] = &bench_workloads[i];
  for (size_t i = 0; programs && i < bench_programs_len && p->nprograms < 16; i++)
    if (bench_in_list(f->workload_filter, bench_programs[i].name))
      p->programs[p->nprograms++] = &bench_programs[i];
  p->fastpath = workloads && bench_in_list(f->workload_filter, "fastpath");
  p->trace_dir = bench_trace_dir(f->trace_dir, tbuf, tlen);
#ifdef BENCH_SANITIZED
  p->strace = NULL; /* LeakSanitizer cannot run under ptrace; shadow maps would swamp counts */
#else
  p->strace = bench_strace_path();
#endif
  static const char probe[] = "bench/programs/stdlib.py";
  char path[4096];
  p->root[0] = 0;
  if (bench_runfile(probe, path, sizeof path) && strlen(path) > sizeof probe)
    snprintf(p->root, sizeof p->root, "%.*s", (int)(strlen(path) - sizeof probe), path);
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
      ok = bench_workload_find(name) != NULL || bench_program_find(name) != NULL ||
           strcmp(name, "fastpath") == 0;
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
    printf("  %-12s %s%s\n", all[i].name,
           !all[i].available ? all[i].note : all[i].preload[0] ? all[i].preload : "",
           all[i].on_request ? " [only when --alloc names it]" : "");
  printf("workloads:\n");
  for (size_t i = 0; i < bench_workloads_len; i++)
    printf("  %-15s %s%s\n", bench_workloads[i].name, bench_workloads[i].summary,
           bench_workloads[i].original ? " [original]"
           : bench_workloads[i].threads > 1 ? " [multi-threaded]" : "");
  printf("  %-15s ns per malloc+free pair per size (V2, its drop-in and references)\n", "fastpath");
  printf("programs (--suite=programs):\n");
  for (size_t i = 0; i < bench_programs_len; i++)
    printf("  %-15s %s%s\n", bench_programs[i].name, bench_programs[i].summary,
           access(bench_programs[i].binary, X_OK) == 0 ? "" : " [not installed]");
  printf("syscalls counted by: %s\n", p->strace ? p->strace : "nothing (strace not found)");
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
  if ((f->save || f->update_readme) && !(ws && *ws))
    fprintf(stderr, "compare: --save and --update-readme need `bazel run` (the source tree); "
                    "nothing saved\n");
  if (ws && *ws && f->save) {
    snprintf(buf, sizeof buf, "%s/bench/results", ws);
    mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.json", ws);
    ok &= bench_write_json(buf, s);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.md", ws);
    ok &= bench_write_markdown(buf, s);
    snprintf(buf, sizeof buf, "%s/bench/results/latest.svg", ws);
    ok &= bench_write_svg(buf, s);
    fprintf(stderr, "saved %s/bench/results/latest.{json,md,svg}\n", ws);
  }
  if (ws && *ws && f->update_readme) {
    if (!f->alloc_filter && !f->workload_filter && f->suite != BENCH_SUITE_PROGRAMS) {
      /* only a complete run speaks for the README */
      snprintf(buf, sizeof buf, "%s/README.md", ws);
      if (bench_update_readme(buf, s)) fprintf(stderr, "updated the results in %s\n", buf);
    } else {
      fprintf(stderr, "compare: --update-readme: only a run of every allocator and workload "
                      "updates the README; not updated\n");
    }
  }
  if (!ok) fprintf(stderr, "compare: some output files could not be written\n");
}

static void bench_session_note(bench_session_t *s, const char *note) {
  if (s->nnotes < sizeof s->notes / sizeof s->notes[0]) s->notes[s->nnotes++] = note;
}

/* rm -r of the session's scratch directory. */
static int bench_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* Makes prog's inputs in its scratch directory; returns NULL, or why it is skipped. */
static const char *bench_prog_ready(const bench_plan_t *p, const bench_program_t *prog,
                                    bench_prog_env_t *e, char *dir, size_t dirlen, char *why,
                                    size_t whylen) {
  snprintf(dir, dirlen, "%s/%s", p->tmp, prog->name + 5); /* "prog:" */
  mkdir(dir, 0755);
  e->dir = dir;
  e->root = p->root;
  char err[400] = "";
  if (access(prog->binary, X_OK) != 0)
    snprintf(why, whylen, "%s skipped: %s not installed (Debian package %s; ./bazelw installs it)",
             prog->name, prog->binary, prog->package);
  else if (!p->root[0])
    snprintf(why, whylen, "%s skipped: bench/programs/ not in the runfiles", prog->name);
  else if (prog->prepare && !prog->prepare(e, err, sizeof err))
    snprintf(why, whylen, "%s skipped: %s", prog->name, err);
  else return NULL;
  return why;
}

static void bench_pair_done(const bench_result_t *r) {
  char sys[64] = "";
  if (!isnan(r->syscalls)) snprintf(sys, sizeof sys, ", %.0f syscalls", r->syscalls);
  if (r->status == BENCH_OK && r->rounds > 1)
    fprintf(stderr, "         -> %.3f ms median of %d processes' medians%s\n", r->median_s * 1e3,
            r->rounds, sys);
  else if (r->status == BENCH_OK)
    fprintf(stderr, "         -> %.3f ms median of %d%s\n", r->median_s * 1e3, r->repeats, sys);
  else
    fprintf(stderr, "         -> %s\n", r->note);
}

static int bench_session_run(const bench_flags_t *f) {
  static bench_plan_t p;
  static char skips[16][300];
  char tbuf[4096];
  bench_plan_make(&p, f, tbuf, sizeof tbuf);
  const char *tmp = getenv("TMPDIR");
  snprintf(p.tmp, sizeof p.tmp, "%s/vedalloc-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(p.tmp)) {
    fprintf(stderr, "compare: cannot make a scratch directory %s: %s\n", p.tmp, strerror(errno));
    return 1;
  }
  bench_elapsed(); /* starts the session clock */
  size_t total = p.nallocs * (p.nworkloads + p.nprograms), done = 0;
  for (size_t i = 0; p.fastpath && i < p.nallocs; i++)
    total += bench_fast_wanted(&p.allocs[i]);
  bench_result_t *rs = calloc(p.nallocs * (p.nworkloads + p.nprograms) + 1, sizeof *rs);
  bench_fast_t *fast = calloc(p.nallocs * BENCH_FAST_SIZES + 1, sizeof *fast);
  bench_session_t s = {.results = rs, .fast = fast, .mode = bench_mode_flag(f->mode) + 2,
                       .run_limit_s = f->run_limit_s, .rounds = f->rounds};
  for (size_t i = 0; i < p.nallocs; i++) {
    s.allocs[s.nallocs++] = p.allocs[i].name;
    if (!p.allocs[i].available) bench_session_note(&s, p.allocs[i].note);
  }
#ifdef BENCH_SANITIZED
  bench_session_note(&s, "syscalls: n/a, not counted in a sanitizer build (LeakSanitizer "
                         "cannot run under ptrace)");
#else
  if (f->no_syscalls) bench_session_note(&s, "syscalls: n/a, not counted (--no-syscalls)");
  else if (!p.strace)
    bench_session_note(&s, "syscalls: n/a, strace not found (/usr/bin/strace, Debian package "
                           "strace; ./bazelw installs it, VA_BENCH_STRACE overrides)");
#endif
  for (size_t w = 0; w < p.nworkloads; w++) {
    bench_result_t *row = &rs[s.nresults];
    for (size_t i = 0; i < p.nallocs; i++) {
      bench_result_t *r = &rs[s.nresults++];
      bench_progress(++done, total, p.allocs[i].name, p.workloads[w]->name, "...");
      bench_run_pair(&p, f, &p.allocs[i], p.workloads[w], r);
      if (f->rounds == 1) bench_pair_done(r);
    }
    if (f->rounds == 1) continue;
    bench_run_rounds(&p, f, p.workloads[w], row, done, total);
    for (size_t i = 0; i < p.nallocs; i++) bench_pair_done(&row[i]);
  }
  if (p.fastpath) s.nfast = bench_run_fast(&p, f, fast, &done, total);
  for (size_t k = 0; k < p.nprograms; k++) {
    char dir[4200];
    bench_prog_env_t e;
    const char *skip = bench_prog_ready(&p, p.programs[k], &e, dir, sizeof dir, skips[k],
                                        sizeof skips[k]);
    if (skip) bench_session_note(&s, skip);
    /* Repeats in the outer loop: a burst of load from another job then
     * slows one run of every allocator rather than every run of one. */
    bench_result_t *row = &rs[s.nresults];
    static bench_prog_runs_t runs[BENCH_MAX_ALLOCS];
    memset(runs, 0, sizeof runs);
    s.nresults += p.nallocs;
    int n = bench_program_repeats(f);
    for (size_t i = 0; i < p.nallocs; i++)
      bench_program_row(&p.allocs[i], p.programs[k], skip, &row[i]);
    for (int rep = 0; rep < n; rep++)
      for (size_t i = 0; i < p.nallocs; i++) {
        if (row[i].status != BENCH_OK) continue;
        char what[32];
        snprintf(what, sizeof what, "run %d/%d", rep + 1, n);
        bench_progress(done, total, p.allocs[i].name, p.programs[k]->name, what);
        bench_program_run(f, &p.allocs[i], p.programs[k], &e, &row[i], &runs[i]);
      }
    for (size_t i = 0; i < p.nallocs; i++) {
      bench_program_finish(&p, f, &p.allocs[i], p.programs[k], &e, &row[i], &runs[i]);
      bench_progress(++done, total, p.allocs[i].name, p.programs[k]->name, "done");
      bench_pair_done(&row[i]);
    }
    nftw(dir, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  if (p.nprograms && !bench_in_list(f->alloc_filter, "glibc"))
    bench_session_note(&s, "programs: outputs not checked (glibc not in this run)");
  bench_check_outputs(rs, s.nresults);
  bench_ratios(rs, s.nresults);
  nftw(p.tmp, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
    int threads = 0, rounds = 1;
    for (int i = 4; i < argc; i++) {
      if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
      if (strcmp(argv[i], "--run-limit") == 0 && i + 1 < argc) limit = atof(argv[++i]);
      if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
      if (strcmp(argv[i], "--quick") == 0) m = BENCH_QUICK;
      if (strcmp(argv[i], "--full") == 0) m = BENCH_FULL;
      if (strcmp(argv[i], "--traces") == 0 && i + 1 < argc) traces = argv[++i];
    }
    int rc = bench_child_main(argv[2], argv[3], m, traces, limit, threads, rounds, stdout);
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
  signal(SIGINT, bench_on_signal);
  signal(SIGTERM, bench_on_signal);
  return bench_session_run(&f);
}
