/* vedalloc — the property runner: seeded cases, forked trials, greedy
 * shrinking. A property states what an allocator promises, over a generated
 * op program and a few generated parameters, against a fresh instance.
 *
 * Writing one (a few lines):
 *
 *     PROP(calloc_zero, prop_any, .gen = {.kinds = PROP_K_CALLOC | PROP_K_FREE}) {
 *       return prop_exec(c, NULL);           // c is the prop_case_t *
 *     }
 *
 *     PROP(v1_no_adjacent_free, prop_is_v1) {
 *       ...
 *       PROP_REQUIRE(c, i, !adjacent, "ff.coalesce", "free %p next to free %p", a, b);
 *       return true;
 *     }
 *
 * A case is a pure function of its 64-bit seed: seed -> (ops, params). The
 * property must be a pure function of (entry, ops, params) so a case replays
 * and shrinks; it reports a failure with a stable *key* (e.g.
 * "shadow.overlap", "crash") and a sentence. Shrinking keeps a candidate only
 * when it fails with the same key, so it cannot slide onto a different bug.
 *
 *   seed ──gen──> case{ops[n], param[4]} ──fork──> child: prop(case)
 *                       ^                            | pass / fail{key,why} /
 *                       |                            | signal / SIGALRM
 *                  shrink (greedy) <─────────────────┘
 *
 * Environment (every run prints the seed to replay):
 *   PROP_SEED=0x..   run exactly this case seed (per selected property/entry)
 *   PROP_TRIALS=n    cases per (property, entry), times the property's weight
 *   PROP_TIME=s      time-bounded long mode: round-robin until s seconds pass
 *   PROP_RUN_SEED=x  base seed of the run (default fixed; "random": from time)
 *   PROP_FILTER=sub  only properties whose name contains sub
 *   PROP_ENTRY=sub   only registry entries whose name contains sub
 *   PROP_FORK=0|1    force forking off / on (default: per property)
 *   PROP_TIMEOUT=s   per-trial alarm in a forked child (default 10)
 *   PROP_OUT=dir     where counterexamples go (default
 *                    $TEST_UNDECLARED_OUTPUTS_DIR, else /tmp)
 *   PROP_VERBOSE=1   print every property/entry line, not only failures
 */
#ifndef VEDALLOC_PROPS_PROP_H
#define VEDALLOC_PROPS_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"
#include "alloc/registry.h"
#include "fuzz/exec.h"
#include "fuzz/interp.h"
#include "fuzz/ops.h"

#define PROP_PARAMS 4     /* generated parameters per case */
#define PROP_MAX_OPS 512  /* longest generated program */
#define PROP_KEY_LEN 64   /* failure key, e.g. "shadow.overlap" */
#define PROP_WHY_LEN 320  /* failure sentence */

/* Op kinds a generator may emit (bit per va_op_kind_t). */
#define PROP_K(kind) (1u << (kind))
#define PROP_K_ALLOC PROP_K(VA_OP_ALLOC)
#define PROP_K_FREE PROP_K(VA_OP_FREE)
#define PROP_K_REALLOC PROP_K(VA_OP_REALLOC)
#define PROP_K_CALLOC PROP_K(VA_OP_CALLOC)
#define PROP_K_CHECK PROP_K(VA_OP_CHECK)
#define PROP_K_MEMALIGN PROP_K(VA_OP_MEMALIGN)
#define PROP_K_WRITE PROP_K(VA_OP_WRITE)
#define PROP_K_THREADS (PROP_K(VA_OP_THREAD) | PROP_K(VA_OP_EXIT))
#define PROP_K_BAD (PROP_K(VA_OP_BADFREE) | PROP_K(VA_OP_BADREALLOC))
#define PROP_K_ALL ((1u << VA_OP_KINDS) - 1) /* misuse only where reported */

/* How a property's programs are generated. Zero fields take defaults. */
typedef struct prop_gen prop_gen_t;
struct prop_gen {
  unsigned kinds;   /* PROP_K_* mask (0: every kind the allocator supports) */
  size_t max_ops;   /* longest program (0: 64) */
  size_t max_size;  /* largest ordinary size (0: 256 KiB) */
  unsigned slots;   /* distinct slots used (0: 8); few slots = many frees */
  bool huge;        /* also emit sizes near SIZE_MAX / above PTRDIFF_MAX */
  const size_t *sizes; /* when set: sizes come from this menu (nsizes of them,
                          now and then one less), e.g. sizes that fill pages */
  size_t nsizes;
  /* when set: the program comes from this instead of op by op (it gets the
   * case's random stream and the defaults above; returns its length, at
   * most max_ops) */
  size_t (*program)(uint64_t *rng, const struct prop_gen *g, va_op_t *ops);
  uint8_t weights[VA_OP_KINDS]; /* relative weight per op kind (0: the default mix) */
};

/* Random numbers for a program generator: uniform in [0, n), n > 0. */
uint64_t prop_rng_below(uint64_t *s, uint64_t n);

/* One case handed to a property; the property fills the failure fields. */
typedef struct prop_case {
  const va_entry_t *entry;      /* registry entry (or a test's own entry) */
  const va_allocator_t *alloc;  /* == entry->alloc */
  va_options_t opts;            /* va_entry_options(entry) */
  const va_op_t *ops;           /* the program */
  size_t n;                     /* its length */
  uint64_t param[PROP_PARAMS];  /* generated parameters (shrink toward 0) */
  /* out, on failure: */
  char key[PROP_KEY_LEN];       /* stable failure name */
  char why[PROP_WHY_LEN];       /* one sentence */
  size_t at;                    /* op index that exposed it (n: after the program) */
} prop_case_t;

typedef bool (*prop_fn_t)(prop_case_t *c);
typedef bool (*prop_applies_t)(const va_entry_t *e);

#define PROP_FORK_AUTO 0
#define PROP_NOFORK 1u  /* flag: property cannot crash the process (pure maths) */

typedef struct prop {
  const char *name;        /* unique, snake_case */
  prop_fn_t fn;            /* the property */
  prop_applies_t applies;  /* which registry entries it runs on */
  prop_gen_t gen;          /* program generator */
  unsigned flags;          /* PROP_NOFORK */
  unsigned weight;         /* trials = PROP_TRIALS * weight / 100 (0: 100) */
} prop_t;

/* Define and register a property; the body sees `prop_case_t *c`. */
#define PROP(id, filter, ...)                                                  \
  static bool prop_body_##id(prop_case_t *c);                                  \
  static const prop_t prop_def_##id = {                                        \
      .name = #id, .fn = prop_body_##id, .applies = filter, __VA_ARGS__};      \
  __attribute__((constructor)) static void prop_reg_##id(void) {               \
    prop_register(&prop_def_##id);                                             \
  }                                                                            \
  static bool prop_body_##id(prop_case_t *c)

/* Fail the case with a key and a sentence, at op index i. */
bool prop_fail(prop_case_t *c, size_t at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Check `cond`; on false, fail the case and return false from the property. */
#define PROP_REQUIRE(c, at, cond, key, ...)                                    \
  do {                                                                         \
    if (!(cond)) return prop_fail((c), (at), (key), __VA_ARGS__);              \
  } while (0)

/* Filters. */
bool prop_any(const va_entry_t *e);
bool prop_is_v1(const va_entry_t *e);      /* family V1 */
bool prop_is_v2(const va_entry_t *e);      /* family V2: the instance is a V2 heap */
bool prop_is_ours(const va_entry_t *e);    /* not a reference allocator */
bool prop_has_check(const va_entry_t *e);  /* has a checker */
bool prop_has_empty(const va_entry_t *e);  /* has an empty-state check */

void prop_register(const prop_t *p);

/* Add a word to the dictionary `write` ops draw from (e.g. a metadata magic
 * a test knows about). Call before generating. */
void prop_add_word(uint64_t w);
size_t prop_count(void);
const prop_t *prop_at(size_t i);
const prop_t *prop_find(const char *name);

/* ---------------------------------------------------------------------------
 * Helpers for properties: the case's program through the one interpreter
 * (fuzz/interp.h), watched by the property's own observers.
 * ------------------------------------------------------------------------- */

/* The interpreter settings of the case's entry (its bad ops if it reports
 * misuse). */
va_interp_config_t prop_interp_config(const prop_case_t *c);

/* Run the program with the observers alone (no shadow). An observer that
 * finds the property broken calls prop_fail on the case and returns false;
 * any other failure of the run (an error hook on a valid call) becomes the
 * case's failure with its invariant as the key. */
bool prop_interp(prop_case_t *c, const va_observer_t *obs, size_t nobs);

/* Run the program through va_exec (shadow model + check); NULL cfg:
 * default. _observed: with the property's observers watching too. */
bool prop_exec(prop_case_t *c, const va_exec_config_t *cfg);
bool prop_exec_observed(prop_case_t *c, const va_exec_config_t *cfg,
                        const va_observer_t *obs, size_t nobs);

/* ---------------------------------------------------------------------------
 * Running.
 * ------------------------------------------------------------------------- */
typedef struct prop_config {
  uint64_t run_seed;   /* base seed of the run */
  bool one_seed;       /* replay exactly `seed` */
  uint64_t seed;
  size_t trials;       /* per (property, entry), before weight */
  double seconds;      /* >0: time-bounded mode (whole run) */
  int fork;            /* -1: per property; 0: never; 1: always */
  unsigned timeout_s;  /* per-trial alarm in a child */
  size_t shrink_budget;/* max candidate evaluations */
  const char *out_dir; /* counterexample files; NULL: none */
  bool verbose;
  bool quiet;          /* no printing at all (in-process API use) */
} prop_config_t;

typedef enum prop_shrink_result {
  PROP_SHRINK_MINIMAL, /* a local minimum: no pass makes progress */
  PROP_SHRINK_BUDGET,  /* stopped after `budget` candidates */
} prop_shrink_result_t;

typedef struct prop_result {
  bool failed;
  size_t trials;                 /* cases run */
  uint64_t seed;                 /* failing case seed */
  size_t orig_n;                 /* its length before shrinking */
  va_op_t ops[PROP_MAX_OPS];     /* the shrunk counterexample */
  size_t n;
  uint64_t param[PROP_PARAMS];
  char key[PROP_KEY_LEN];
  char why[PROP_WHY_LEN];
  size_t at;
  size_t shrink_evals;           /* candidates tried */
  prop_shrink_result_t shrunk;   /* a local minimum, or the budget ran out */
} prop_result_t;

/* Defaults from the environment (see top). */
prop_config_t prop_config_from_env(void);

/* Generate the case of `seed` for property p on allocator a. */
size_t prop_generate(const prop_t *p, const va_entry_t *e, uint64_t seed,
                     va_op_t *ops, uint64_t param[PROP_PARAMS]);

/* Does a case of p run in a child? (cfg->fork < 0: unless p is PROP_NOFORK) */
bool prop_should_fork(const prop_t *p, const prop_config_t *cfg);

/* Run one case (forked if asked) and fill the failure fields. */
bool prop_check_case(const prop_t *p, const va_entry_t *e, const va_op_t *ops,
                     size_t n, const uint64_t param[PROP_PARAMS], bool fork,
                     unsigned timeout_s, bool mute, prop_case_t *out);

/* Run trials of p on e; on failure shrink. Returns true when all passed.
 * `trials` 0 means use cfg (trials * weight, or until `deadline` if set). */
bool prop_run(const prop_t *p, const va_entry_t *e, const prop_config_t *cfg,
              prop_result_t *r);

/* The shrinker's judge: run a candidate, true when it fails, with *out
 * describing the failure (its key must equal the original's to count). */
typedef bool (*prop_still_fails_t)(void *ctx, const va_op_t *ops, size_t n,
                                   const uint64_t param[PROP_PARAMS], prop_case_t *out);

/* Shrink r's counterexample in place (greedy, to a local minimum), trying
 * at most `budget` candidates (r->shrink_evals counts them). */
prop_shrink_result_t prop_shrink(prop_still_fails_t fails, void *ctx, size_t budget,
                                 prop_result_t *r);

/* Print r and write its files (fuzz binary + regression text). */
void prop_report(const prop_t *p, const va_entry_t *e, const prop_config_t *cfg,
                 const prop_result_t *r);

/* Regression programs (text, see props/regressions/README): run every file
 * in dir whose property is registered; returns failures (unknown property
 * names count as failures when strict). */
size_t prop_run_regressions(const char *dir, const prop_config_t *cfg,
                            bool strict, size_t *ran);

/* The whole driver: regressions, then every registered property over every
 * registry entry it applies to. Flags: --entry=sub --filter=sub
 * --regressions=dir --strict-regressions. Exit status 0 iff all passed. */
int prop_main(int argc, char **argv);

/* Put once in each test binary's main file (not a library: ASan only looks
 * in the executable). The reference allocator must be allowed to say "no" to
 * a possible but absurd request (2^62 bytes) as glibc does, NULL + ENOMEM,
 * not abort; ASAN_OPTIONS from the environment still win. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROP_ASAN_DEFAULTS                                                     \
  const char *__asan_default_options(void);                                    \
  const char *__asan_default_options(void) {                                   \
    return "allocator_may_return_null=1";                                      \
  }
#endif
#endif
#ifndef PROP_ASAN_DEFAULTS
#define PROP_ASAN_DEFAULTS
#endif

#endif
