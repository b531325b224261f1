/* vedalloc — the property runner: trials, forked children, reports.
 *
 * Policy. Every (property, registry entry) pair runs `trials * weight/100`
 * cases; case i's seed is a hash of (run seed, property, entry, i), and a
 * case is a pure function of its seed, so the printed seed replays it alone
 * (PROP_SEED). Crash-prone properties run in a forked child: one child runs
 * a whole batch of trials (fork cost paid once), publishing the index and
 * seed of the trial in progress in a shared page, so a signal or an alarm
 * timeout still names the case, which then shrinks like any failure (each
 * shrink candidate gets its own child, with its output muted).
 *
 * Complexity: one fork per (property, entry) plus one per shrink candidate
 * (bounded by shrink_budget). Non-goals: parallel trials (Bazel runs the test
 * targets in parallel instead), coverage guidance (that is the fuzzer's job).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "props/prop.h"

#define PROP_DEFAULT_RUN_SEED 0x5eedf00dcafe2024ull
#define PROP_DEFAULT_TRIALS 1000

/* Under sanitizers every op costs ~10x; keep the suite inside its minute. */
#ifdef VA_SANITIZED
#define PROP_SANITIZER_DIVISOR 5
#else
#define PROP_SANITIZER_DIVISOR 1
#endif

/* ---------------------------------------------------------------------------
 * Configuration.
 * ------------------------------------------------------------------------- */
static uint64_t prop_env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  return strtoull(v, NULL, 0);
}

static double prop_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

prop_config_t prop_config_from_env(void) {
  prop_config_t c;
  memset(&c, 0, sizeof c);
  const char *rs = getenv("PROP_RUN_SEED");
  c.seconds = (double)prop_env_u64("PROP_TIME", 0);
  if ((rs && strcmp(rs, "random") == 0) || (!rs && c.seconds > 0))
    c.run_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
  else
    c.run_seed = prop_env_u64("PROP_RUN_SEED", PROP_DEFAULT_RUN_SEED);
  c.one_seed = getenv("PROP_SEED") != NULL;
  c.seed = prop_env_u64("PROP_SEED", 0);
  c.trials = prop_env_u64("PROP_TRIALS", PROP_DEFAULT_TRIALS / PROP_SANITIZER_DIVISOR);
  const char *f = getenv("PROP_FORK");
  c.fork = f && *f ? atoi(f) != 0 : -1;
  c.timeout_s = (unsigned)prop_env_u64("PROP_TIMEOUT", 10);
  c.shrink_budget = prop_env_u64("PROP_SHRINK_BUDGET", 4000);
  c.out_dir = getenv("PROP_OUT");
  if (!c.out_dir) c.out_dir = getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (!c.out_dir) c.out_dir = "/tmp";
  c.verbose = prop_env_u64("PROP_VERBOSE", 0) != 0;
  return c;
}

static uint64_t prop_hash_str(const char *s, uint64_t h) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* The seed of case i of (p, e) in this run. */
static uint64_t prop_case_seed(const prop_config_t *cfg, const prop_t *p,
                               const va_entry_t *e, size_t i) {
  uint64_t h = prop_hash_str(e->name, prop_hash_str(p->name, 0xcbf29ce484222325ull));
  uint64_t z = cfg->run_seed ^ h ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

bool prop_should_fork(const prop_t *p, const prop_config_t *cfg) {
  return cfg->fork < 0 ? !(p->flags & PROP_NOFORK) : cfg->fork != 0;
}

/* ---------------------------------------------------------------------------
 * One case, in-process.
 * ------------------------------------------------------------------------- */
static bool prop_call(const prop_t *p, const va_entry_t *e, const va_op_t *ops,
                      size_t n, const uint64_t param[PROP_PARAMS],
                      prop_case_t *c) {
  memset(c, 0, sizeof *c);
  c->entry = e;
  c->alloc = e->alloc;
  c->opts = va_entry_options(e);
  c->ops = ops;
  c->n = n;
  memcpy(c->param, param, sizeof c->param);
  bool ok = p->fn(c);
  if (!ok && !c->key[0]) snprintf(c->key, sizeof c->key, "%s", "fail");
  return ok;
}

/* What a child publishes to its parent. */
typedef struct prop_shared {
  volatile size_t current; /* trial in progress */
  volatile size_t done;    /* trials finished */
  volatile uint64_t seed;  /* seed of the trial in progress */
  volatile int failed;     /* the child found a failure */
  char key[PROP_KEY_LEN];
  char why[PROP_WHY_LEN];
  size_t at;
} prop_shared_t;

static prop_shared_t *prop_shared_map(void) {
  void *m = mmap(NULL, sizeof(prop_shared_t), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("props: mmap");
    exit(2);
  }
  memset(m, 0, sizeof(prop_shared_t));
  return m;
}

static void prop_mute(void) {
  int fd = open("/dev/null", O_WRONLY);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
}

/* Describe how a child ended; false if it was a failure. */
static bool prop_child_status(int status, unsigned timeout_s, prop_case_t *c,
                              const prop_shared_t *sh) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status) && sh->failed) {
    snprintf(c->key, sizeof c->key, "%s", sh->key);
    snprintf(c->why, sizeof c->why, "%s", sh->why);
    c->at = sh->at;
    return false;
  }
  c->at = (size_t)-1;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    snprintf(c->key, sizeof c->key, "timeout");
    snprintf(c->why, sizeof c->why, "trial did not finish within %us", timeout_s);
  } else if (WIFSIGNALED(status)) {
    snprintf(c->key, sizeof c->key, "crash");
    snprintf(c->why, sizeof c->why, "child killed by signal %d (%s)",
             WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else {
    snprintf(c->key, sizeof c->key, "crash");
    snprintf(c->why, sizeof c->why, "child exited with status %d",
             WEXITSTATUS(status));
  }
  return false;
}

static void prop_publish(prop_shared_t *sh, const prop_case_t *c) {
  snprintf(sh->key, sizeof sh->key, "%s", c->key);
  snprintf(sh->why, sizeof sh->why, "%s", c->why);
  sh->at = c->at;
  sh->failed = 1;
}

bool prop_check_case(const prop_t *p, const va_entry_t *e, const va_op_t *ops,
                     size_t n, const uint64_t param[PROP_PARAMS], bool fork_it,
                     unsigned timeout_s, bool mute, prop_case_t *out) {
  if (!fork_it) return prop_call(p, e, ops, n, param, out);
  prop_shared_t *sh = prop_shared_map();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    if (mute) prop_mute();
    alarm(timeout_s);
    prop_case_t c;
    bool ok = prop_call(p, e, ops, n, param, &c);
    if (!ok) prop_publish(sh, &c);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  memset(out, 0, sizeof *out);
  out->entry = e;
  out->alloc = e->alloc;
  out->ops = ops;
  out->n = n;
  bool ok = prop_child_status(status, timeout_s, out, sh);
  munmap(sh, sizeof *sh);
  return ok;
}

/* ---------------------------------------------------------------------------
 * Trials.
 * ------------------------------------------------------------------------- */
typedef struct prop_plan {
  size_t trials;   /* upper bound on cases */
  double deadline; /* prop_now() bound, 0: none */
} prop_plan_t;

static prop_plan_t prop_plan_of(const prop_t *p, const prop_config_t *cfg) {
  prop_plan_t pl = {0, 0};
  if (cfg->one_seed) {
    pl.trials = 1;
    return pl;
  }
  unsigned w = p->weight ? p->weight : 100;
  pl.trials = cfg->trials * w / 100;
  if (pl.trials == 0 && cfg->trials) pl.trials = 1;
  if (cfg->seconds > 0) {
    pl.trials = (size_t)-1;
    pl.deadline = prop_now() + cfg->seconds;
  }
  return pl;
}

/* Run trials [0, plan) in this process; returns the index of a failing one
 * (its case in *c) or plan->trials. Publishes progress to sh if non-NULL. */
static size_t prop_trials_loop(const prop_t *p, const va_entry_t *e,
                               const prop_config_t *cfg, const prop_plan_t *pl,
                               prop_shared_t *sh, prop_case_t *c) {
  static va_op_t ops[PROP_MAX_OPS];
  uint64_t param[PROP_PARAMS];
  for (size_t i = 0; i < pl->trials; i++) {
    if (pl->deadline > 0 && (i & 15) == 0 && prop_now() > pl->deadline) return i;
    uint64_t seed = cfg->one_seed ? cfg->seed : prop_case_seed(cfg, p, e, i);
    size_t n = prop_generate(p, e, seed, ops, param);
    if (sh) {
      sh->current = i;
      sh->seed = seed;
      alarm(cfg->timeout_s);
    }
    bool ok = prop_call(p, e, ops, n, param, c);
    if (sh) {
      alarm(0);
      sh->done = i + 1;
    }
    if (!ok) return i;
  }
  return pl->trials;
}

/* Record the failing case of seed in r (before shrinking). */
static void prop_result_fill(const prop_t *p, const va_entry_t *e, uint64_t seed,
                             const prop_case_t *c, prop_result_t *r) {
  r->failed = true;
  r->seed = seed;
  r->n = prop_generate(p, e, seed, r->ops, r->param);
  r->orig_n = r->n;
  snprintf(r->key, sizeof r->key, "%s", c->key);
  snprintf(r->why, sizeof r->why, "%s", c->why);
  r->at = c->at;
}

static bool prop_run_inline(const prop_t *p, const va_entry_t *e,
                            const prop_config_t *cfg, const prop_plan_t *pl,
                            prop_result_t *r) {
  prop_case_t c;
  size_t i = prop_trials_loop(p, e, cfg, pl, NULL, &c);
  bool failed = i < pl->trials && c.key[0];
  r->trials = failed ? i + 1 : i;
  if (failed)
    prop_result_fill(p, e, cfg->one_seed ? cfg->seed : prop_case_seed(cfg, p, e, i),
                     &c, r);
  return !failed;
}

static bool prop_run_forked(const prop_t *p, const va_entry_t *e,
                            const prop_config_t *cfg, const prop_plan_t *pl,
                            prop_result_t *r) {
  prop_shared_t *sh = prop_shared_map();
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    prop_case_t c;
    size_t i = prop_trials_loop(p, e, cfg, pl, sh, &c);
    if (i < pl->trials && c.key[0]) {
      prop_publish(sh, &c);
      _exit(1);
    }
    sh->done = i;
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  prop_case_t c;
  memset(&c, 0, sizeof c);
  bool ok = prop_child_status(status, cfg->timeout_s, &c, sh);
  r->trials = ok ? sh->done : sh->current + 1;
  if (!ok) prop_result_fill(p, e, sh->seed, &c, r);
  munmap(sh, sizeof *sh);
  return ok;
}

/* The shrinker's judge for property p on entry e. */
typedef struct prop_judge {
  const prop_t *p;
  const va_entry_t *e;
  const prop_config_t *cfg;
} prop_judge_t;

static bool prop_still_fails(void *ctx, const va_op_t *ops, size_t n,
                             const uint64_t param[PROP_PARAMS], prop_case_t *out) {
  const prop_judge_t *j = ctx;
  return !prop_check_case(j->p, j->e, ops, n, param, prop_should_fork(j->p, j->cfg),
                          j->cfg->timeout_s, true, out);
}

bool prop_run(const prop_t *p, const va_entry_t *e, const prop_config_t *cfg,
              prop_result_t *r) {
  memset(r, 0, sizeof *r);
  prop_plan_t pl = prop_plan_of(p, cfg);
  bool ok = prop_should_fork(p, cfg) ? prop_run_forked(p, e, cfg, &pl, r)
                                     : prop_run_inline(p, e, cfg, &pl, r);
  if (!ok) {
    prop_judge_t j = {p, e, cfg};
    r->shrunk = prop_shrink(prop_still_fails, &j, cfg->shrink_budget, r);
  }
  return ok;
}

/* ---------------------------------------------------------------------------
 * Reporting.
 * ------------------------------------------------------------------------- */
static void prop_write_files(const prop_t *p, const va_entry_t *e,
                             const prop_config_t *cfg, const prop_result_t *r) {
  if (!cfg->out_dir) return;
  char base[512], path[600];
  snprintf(base, sizeof base, "%s/%s-%s-%016llx", cfg->out_dir, p->name,
           e->name, (unsigned long long)r->seed);
  static uint8_t bytes[PROP_MAX_OPS * VA_OP_RECORD];
  size_t len = va_ops_encode(r->ops, r->n, bytes, sizeof bytes);
  snprintf(path, sizeof path, "%s.bin", base);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(bytes, 1, len, f);
    fclose(f);
    printf("  wrote %s (fuzz input format, %zu bytes)\n", path, len);
    printf("  to add it to the fuzz corpus: cp %s fuzz/corpus/<harness>/\n", path);
  }
  snprintf(path, sizeof path, "%s.txt", base);
  f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "# %s: %s (seed 0x%016llx)\nprop %s\nentry %s\nparam",
          r->key, r->why, (unsigned long long)r->seed, p->name, e->name);
  for (int i = 0; i < PROP_PARAMS; i++)
    fprintf(f, " 0x%llx", (unsigned long long)r->param[i]);
  fprintf(f, "\n");
  char line[160];
  for (size_t i = 0; i < r->n; i++)
    fprintf(f, "%s\n", va_op_format(&r->ops[i], line, sizeof line));
  fclose(f);
  printf("  wrote %s; to keep it as a regression case: cp %s props/regressions/\n",
         path, path);
}

void prop_report(const prop_t *p, const va_entry_t *e, const prop_config_t *cfg,
                 const prop_result_t *r) {
  printf("FAIL %s on %s after %zu trial(s): %s: %s\n", p->name, e->name,
         r->trials, r->key, r->why);
  printf("  seed 0x%016llx  replay: PROP_SEED=0x%016llx PROP_FILTER=%s "
         "PROP_ENTRY=%s <test binary>\n",
         (unsigned long long)r->seed, (unsigned long long)r->seed, p->name,
         e->name);
  printf("  shrunk from %zu to %zu op(s) in %zu evaluation(s)%s; params",
         r->orig_n, r->n, r->shrink_evals,
         r->shrunk == PROP_SHRINK_BUDGET ? " (budget spent: maybe not minimal)" : "");
  for (int i = 0; i < PROP_PARAMS; i++)
    printf(" 0x%llx", (unsigned long long)r->param[i]);
  printf("\n  minimal counterexample:\n");
  fflush(stdout);
  va_ops_print(r->ops, r->n, stdout);
  fflush(stdout);
  prop_write_files(p, e, cfg, r);
  fflush(stdout);
}
