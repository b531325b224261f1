/* vedalloc — the property test driver: regression cases first, then every
 * registered property over every registry entry it applies to, then a
 * summary ("N passed, N failed") and trials per property.
 *
 * Regression files (props/regressions/ *.txt) are text programs that always
 * run; directives, then ops in the fuzz text form (fuzz/ops.h):
 *     # why this case exists
 *     prop exec_mixed            property name (required)
 *     entry v1-firstfit          entries to run on (repeatable; default: all
 *                                entries the property applies to)
 *     param 0 0 0 0              generated parameters (default 0)
 *     seed 0x1234                instead of ops: the generated case of a seed
 *     alloc 0 4040
 *     alloc 1 8
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "props/prop.h"

#define PROP_MAX_ENTRIES 8

typedef struct prop_regression {
  const prop_t *p;
  const char *entries[PROP_MAX_ENTRIES];
  size_t n_entries;
  uint64_t param[PROP_PARAMS];
  bool has_seed;
  uint64_t seed;
  va_op_t ops[PROP_MAX_OPS];
  size_t n;
  char names[PROP_MAX_ENTRIES][64];
  char prop_name[64];
} prop_regression_t;

static char *prop_trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
  return s;
}

/* Parse one directive or op line; false on a syntax error. */
static bool prop_regression_line(prop_regression_t *g, char *s) {
  if (!*s || *s == '#') return true;
  if (strncmp(s, "prop ", 5) == 0) {
    snprintf(g->prop_name, sizeof g->prop_name, "%s", prop_trim(s + 5));
    g->p = prop_find(g->prop_name);
    return true;
  }
  if (strncmp(s, "entry ", 6) == 0) {
    if (g->n_entries == PROP_MAX_ENTRIES) return false;
    snprintf(g->names[g->n_entries], 64, "%s", prop_trim(s + 6));
    g->entries[g->n_entries] = g->names[g->n_entries];
    g->n_entries++;
    return true;
  }
  if (strncmp(s, "param", 5) == 0) {
    char *q = s + 5;
    for (int i = 0; i < PROP_PARAMS; i++) g->param[i] = strtoull(q, &q, 0);
    return true;
  }
  if (strncmp(s, "seed ", 5) == 0) {
    g->has_seed = true;
    g->seed = strtoull(s + 5, NULL, 0);
    return true;
  }
  return g->n < PROP_MAX_OPS && va_op_parse(s, &g->ops[g->n++]);
}

static bool prop_regression_load(const char *path, prop_regression_t *g) {
  memset(g, 0, sizeof *g);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char line[512];
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) ok = prop_regression_line(g, prop_trim(line));
  fclose(f);
  return ok && g->prop_name[0];
}

static bool prop_regression_wants(const prop_regression_t *g, const va_entry_t *e) {
  if (g->n_entries == 0) return g->p->applies(e);
  for (size_t i = 0; i < g->n_entries; i++)
    if (strcmp(g->entries[i], e->name) == 0) return true;
  return false;
}

/* Run one loaded regression on every entry it names; returns failures. */
static size_t prop_regression_run(const char *path, prop_regression_t *g,
                                  const prop_config_t *cfg, size_t *ran) {
  size_t failed = 0;
  for (size_t k = 0; k < va_registry_len; k++) {
    const va_entry_t *e = &va_registry[k];
    if (!prop_regression_wants(g, e)) continue;
    prop_result_t *r = calloc(1, sizeof *r);
    if (g->has_seed) {
      r->n = prop_generate(g->p, e, g->seed, r->ops, r->param);
      r->seed = g->seed;
    } else {
      memcpy(r->ops, g->ops, g->n * sizeof *g->ops);
      r->n = g->n;
      memcpy(r->param, g->param, sizeof r->param);
    }
    prop_case_t c;
    bool fork_it = prop_should_fork(g->p, cfg);
    (*ran)++;
    if (!prop_check_case(g->p, e, r->ops, r->n, r->param, fork_it,
                         cfg->timeout_s, false, &c)) {
      failed++;
      printf("FAIL regression %s on %s: %s: %s\n", path, e->name, c.key, c.why);
      va_ops_print(r->ops, r->n, stdout);
    } else if (cfg->verbose) {
      printf("ok   regression %s on %s\n", path, e->name);
    }
    free(r);
  }
  return failed;
}

static int prop_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t prop_run_regressions(const char *dir, const prop_config_t *cfg,
                            bool strict, size_t *ran) {
  DIR *d = opendir(dir);
  if (!d) return strict ? 1 : 0;
  char *names[512];
  size_t count = 0, failed = 0;
  for (struct dirent *de; (de = readdir(d)) && count < 512;) {
    size_t len = strlen(de->d_name);
    if (len > 4 && strcmp(de->d_name + len - 4, ".txt") == 0)
      names[count++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof *names, prop_name_cmp);
  prop_regression_t *g = malloc(sizeof *g);
  for (size_t i = 0; i < count; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (!prop_regression_load(path, g)) {
      printf("FAIL regression %s: cannot parse\n", path);
      failed++;
    } else if (!g->p) {
      if (strict) {
        printf("FAIL regression %s: unknown property '%s'\n", path, g->prop_name);
        failed++;
      }
    } else {
      failed += prop_regression_run(path, g, cfg, ran);
    }
    free(names[i]);
  }
  free(g);
  return failed;
}

/* ---------------------------------------------------------------------------
 * The driver.
 * ------------------------------------------------------------------------- */
static const char *prop_flag(int argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  return NULL;
}

static bool prop_has_flag(int argc, char **argv, const char *name) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return true;
  return false;
}

/* Does `name` contain any of the comma-separated substrings in `list`? */
static bool prop_matches(const char *name, const char *list) {
  if (!list || !*list) return true;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
    if (strstr(name, t)) return true;
  return false;
}

static double prop_wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct prop_tally {
  size_t pairs_ok, pairs_failed, trials;
} prop_tally_t;

/* Run property p over every selected entry. */
static void prop_main_one(const prop_t *p, const char *entry_filter,
                          const prop_config_t *cfg, size_t pairs_left,
                          prop_tally_t *t) {
  prop_result_t *r = malloc(sizeof *r);
  for (size_t k = 0; k < va_registry_len; k++) {
    const va_entry_t *e = &va_registry[k];
    if (!p->applies(e) || !prop_matches(e->name, entry_filter)) continue;
    double t0 = prop_wall();
    prop_config_t c = *cfg;
    if (c.seconds > 0) c.seconds = cfg->seconds / (double)(pairs_left ? pairs_left : 1);
    bool ok = prop_run(p, e, &c, r);
    t->trials += r->trials;
    if (ok) {
      t->pairs_ok++;
      if (!cfg->quiet)
        printf("ok   %-28s %-12s %7zu trials %7.2fs\n", p->name, e->name,
               r->trials, prop_wall() - t0);
    } else {
      t->pairs_failed++;
      prop_report(p, e, cfg, r);
    }
  }
  free(r);
}

static size_t prop_pairs(const char *prop_filter, const char *entry_filter) {
  size_t n = 0;
  for (size_t i = 0; i < prop_count(); i++) {
    const prop_t *p = prop_at(i);
    if (!prop_matches(p->name, prop_filter)) continue;
    for (size_t k = 0; k < va_registry_len; k++)
      if (p->applies(&va_registry[k]) && prop_matches(va_registry[k].name, entry_filter))
        n++;
  }
  return n;
}

int prop_main(int argc, char **argv) {
  prop_config_t cfg = prop_config_from_env();
  const char *entry_filter = getenv("PROP_ENTRY");
  if (!entry_filter) entry_filter = prop_flag(argc, argv, "--entry");
  const char *prop_filter = getenv("PROP_FILTER");
  if (!prop_filter) prop_filter = prop_flag(argc, argv, "--filter");
  const char *regdir = prop_flag(argc, argv, "--regressions");
  if (!regdir) regdir = "props/regressions";
  bool strict = prop_has_flag(argc, argv, "--strict-regressions");
  const char *trials = prop_flag(argc, argv, "--trials");
  if (trials && !getenv("PROP_TRIALS")) cfg.trials = strtoull(trials, NULL, 0);
  bool run_props = cfg.trials > 0 || cfg.seconds > 0 || cfg.one_seed;

  printf("props: run seed 0x%016llx (replay the run: PROP_RUN_SEED=0x%016llx), "
         "%zu trials per pair%s%s\n",
         (unsigned long long)cfg.run_seed, (unsigned long long)cfg.run_seed,
         cfg.trials, cfg.seconds > 0 ? ", time-bounded" : "",
         cfg.one_seed ? ", single case seed" : "");
  fflush(stdout);
  size_t reg_ran = 0;
  size_t reg_failed = cfg.one_seed ? 0 : prop_run_regressions(regdir, &cfg, strict, &reg_ran);
  printf("props: %zu regression run(s), %zu failed\n", reg_ran, reg_failed);

  prop_tally_t t = {0, 0, 0};
  size_t pairs = prop_pairs(prop_filter, entry_filter);
  double start = (double)time(NULL);
  for (size_t i = 0; i < prop_count(); i++) {
    const prop_t *p = prop_at(i);
    if (!run_props || !prop_matches(p->name, prop_filter)) continue;
    prop_config_t c = cfg;
    if (cfg.seconds > 0) { /* share what is left among the pairs left */
      double left = cfg.seconds - ((double)time(NULL) - start);
      size_t done = t.pairs_ok + t.pairs_failed;
      c.seconds = left > 1 ? left : 1;
      prop_main_one(p, entry_filter, &c, pairs - done, &t);
    } else {
      prop_main_one(p, entry_filter, &c, 0, &t);
    }
  }
  printf("props: %zu property/entry pairs, %zu trials in all\n",
         t.pairs_ok + t.pairs_failed, t.trials);
  printf("%zu passed, %zu failed\n", t.pairs_ok + reg_ran - reg_failed,
         t.pairs_failed + reg_failed);
  return t.pairs_failed + reg_failed ? 1 : 0;
}
