/* vedalloc — property cases: the registry of properties, the seeded program
 * generator, and the small helpers properties use to drive an instance.
 *
 * Generation is a pure function of the case seed (splitmix64 stream), so a
 * printed seed replays exactly. Programs are biased the way allocator bugs
 * like: few slots (so frees and reallocs hit live blocks), sizes from bands
 * (tiny, class boundaries +-1, page multiples, large, and optionally huge
 * values near SIZE_MAX), and a length drawn small-first (a quarter of the
 * cases are at most 8 ops), since small programs shrink fast and most
 * bugs need few ops.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "props/prop.h"

/* ---------------------------------------------------------------------------
 * Registry of properties (filled by constructors from PROP()).
 * ------------------------------------------------------------------------- */
#define PROP_MAX_PROPS 128

static const prop_t *prop_table[PROP_MAX_PROPS];
static size_t prop_table_len;

void prop_register(const prop_t *p) {
  if (prop_table_len < PROP_MAX_PROPS) prop_table[prop_table_len++] = p;
}
size_t prop_count(void) { return prop_table_len; }
const prop_t *prop_at(size_t i) { return i < prop_table_len ? prop_table[i] : NULL; }

const prop_t *prop_find(const char *name) {
  for (size_t i = 0; i < prop_table_len; i++)
    if (strcmp(prop_table[i]->name, name) == 0) return prop_table[i];
  return NULL;
}

bool prop_fail(prop_case_t *c, size_t at, const char *key, const char *fmt, ...) {
  snprintf(c->key, sizeof c->key, "%s", key);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->why, sizeof c->why, fmt, ap);
  va_end(ap);
  c->at = at;
  return false;
}

/* ---------------------------------------------------------------------------
 * Filters.
 * ------------------------------------------------------------------------- */
bool prop_any(const va_entry_t *e) { (void)e; return true; }
bool prop_is_v1(const va_entry_t *e) { return e->family == VA_FAMILY_V1; }
bool prop_is_v2(const va_entry_t *e) { return e->family == VA_FAMILY_V2; }
bool prop_is_ours(const va_entry_t *e) { return e->family != VA_FAMILY_REFERENCE; }
bool prop_has_check(const va_entry_t *e) { return e->checker; }
bool prop_has_empty(const va_entry_t *e) { return e->checker; }

/* ---------------------------------------------------------------------------
 * Random stream.
 * ------------------------------------------------------------------------- */
static uint64_t prop_rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0; the modulo bias is irrelevant here). */
uint64_t prop_rng_below(uint64_t *s, uint64_t n) {
  return prop_rng_next(s) % n;
}

/* A size from one of the bands, at most g->max_size unless huge; or from
 * the property's menu. */
static size_t prop_gen_size(uint64_t *s, const prop_gen_t *g) {
  size_t max = g->max_size;
  size_t n;
  if (g->nsizes) {
    n = g->sizes[prop_rng_below(s, g->nsizes)];
    return prop_rng_below(s, 8) == 0 && n ? n - 1 : n;
  }
  switch (prop_rng_below(s, 12)) {
  case 0: n = prop_rng_below(s, 17); break;                      /* 0..16 */
  case 1: case 2: case 3: n = 1 + prop_rng_below(s, 256); break; /* small */
  case 4: case 5:                                                /* 2^k +-1 */
    n = ((size_t)1 << (3 + prop_rng_below(s, 11))) + prop_rng_below(s, 3) - 1;
    break;
  case 6: n = 1 + prop_rng_below(s, 4096); break;
  case 7: /* page multiples minus a header-ish amount */
    n = 4096 * (1 + prop_rng_below(s, 16)) - prop_rng_below(s, 65);
    break;
  case 8: n = 1 + prop_rng_below(s, 65536); break;
  case 9: n = 1 + prop_rng_below(s, max); break;
  case 10: n = 16 * prop_rng_below(s, 64); break;                /* grid */
  default:
    if (g->huge) {
      static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 8191, SIZE_MAX - 15,
                                    (size_t)PTRDIFF_MAX + 1, (size_t)1 << 62};
      return huge[prop_rng_below(s, sizeof huge / sizeof huge[0])];
    }
    n = prop_rng_below(s, 33);
  }
  return n > max ? n % (max + 1) : n;
}

/* calloc arguments: usually small counts; with huge, overflowing pairs. */
static void prop_gen_calloc(uint64_t *s, const prop_gen_t *g, va_op_t *op) {
  if (g->huge && prop_rng_below(s, 8) == 0) {
    size_t a = ((size_t)1 << 33) + prop_rng_below(s, 5), b = ((size_t)1 << 31) + 1;
    bool swap = prop_rng_below(s, 2);
    op->arg = swap ? b : a;
    op->size = swap ? a : b;
    return;
  }
  op->arg = prop_rng_below(s, 17);
  op->size = prop_gen_size(s, g) / (op->arg ? op->arg : 1);
}

static prop_gen_t prop_gen_defaults(const prop_t *p, const va_entry_t *e) {
  prop_gen_t g = p->gen;
  if (!g.kinds) g.kinds = PROP_K_ALL;
  if (!e->alloc->memalign) g.kinds &= ~PROP_K_MEMALIGN;
  if (!e->reports_misuse) g.kinds &= ~PROP_K_BAD;
  if (!g.kinds) g.kinds = PROP_K_ALLOC;
  if (!g.max_ops) g.max_ops = 64;
  if (g.max_ops > PROP_MAX_OPS) g.max_ops = PROP_MAX_OPS;
  if (!g.max_size) g.max_size = 256 * 1024;
  if (!g.slots) g.slots = 8;
  if (g.slots > VA_SLOTS) g.slots = VA_SLOTS;
  return g;
}

/* Kind weights in percent-ish units, before masking. */
static const unsigned prop_kind_weight[VA_OP_KINDS] = {
    [VA_OP_ALLOC] = 36,  [VA_OP_FREE] = 28,   [VA_OP_REALLOC] = 14,
    [VA_OP_CALLOC] = 10, [VA_OP_CHECK] = 4,   [VA_OP_MEMALIGN] = 8,
    [VA_OP_WRITE] = 8,   [VA_OP_THREAD] = 6,  [VA_OP_EXIT] = 2,
    [VA_OP_BADFREE] = 3, [VA_OP_BADREALLOC] = 2,
};

static unsigned prop_weight(const prop_gen_t *g, unsigned k) {
  return g->weights[k] ? g->weights[k] : prop_kind_weight[k];
}

static uint8_t prop_gen_kind(uint64_t *s, const prop_gen_t *g) {
  unsigned total = 0;
  for (unsigned k = 0; k < VA_OP_KINDS; k++)
    if (g->kinds & PROP_K(k)) total += prop_weight(g, k);
  unsigned r = (unsigned)prop_rng_below(s, total);
  for (unsigned k = 0; k < VA_OP_KINDS; k++) {
    if (!(g->kinds & PROP_K(k))) continue;
    if (r < prop_weight(g, k)) return (uint8_t)k;
    r -= prop_weight(g, k);
  }
  return VA_OP_ALLOC;
}

/* Words a write op stores: values that imitate metadata (magics, small
 * sizes, all-ones), extended by prop_add_word. */
#define PROP_MAX_WORDS 16
static uint64_t prop_words[PROP_MAX_WORDS] = {0, 1, UINT64_MAX, 0xdeadbeefull,
                                               0x56314646ull, 4096, 48};
static size_t prop_nwords = 7;

void prop_add_word(uint64_t w) {
  if (prop_nwords < PROP_MAX_WORDS) prop_words[prop_nwords++] = w;
}

/* A user word that may imitate metadata: a dictionary value or random. */
static void prop_gen_write(uint64_t *s, va_op_t *op) {
  /* Offsets: the start, the last words of a block of a power-of-two size
   * (where the next block's header or magic would sit), every word (spray),
   * or anywhere. */
  switch (prop_rng_below(s, 4)) {
  case 0: op->size = 0; break;
  case 3: op->size = VA_WRITE_SPRAY; break;
  case 1:
    op->size = ((size_t)16 << prop_rng_below(s, 8)) - 8 * (1 + prop_rng_below(s, 2));
    break;
  default: op->size = prop_rng_below(s, 4096);
  }
  op->arg = prop_rng_below(s, 3) ? prop_words[prop_rng_below(s, prop_nwords)]
                                 : prop_rng_next(s);
}

/* A misuse op: its bad pointer kind, k, and a realloc size. */
static void prop_gen_bad(uint64_t *s, const prop_gen_t *g, va_op_t *op) {
  unsigned how = (unsigned)prop_rng_below(s, VA_BAD_KINDS);
  op->arg = VA_BAD_ARG(how, prop_rng_next(s));
  if (op->kind == VA_OP_BADREALLOC) op->size = prop_gen_size(s, g);
}

static void prop_gen_op(uint64_t *s, const prop_gen_t *g, va_op_t *op) {
  memset(op, 0, sizeof *op);
  op->kind = prop_gen_kind(s, g);
  op->slot = (uint8_t)prop_rng_below(s, g->slots);
  switch (op->kind) {
  case VA_OP_THREAD:
  case VA_OP_EXIT: op->slot = (uint8_t)prop_rng_below(s, VA_THREADS); break;
  case VA_OP_BADFREE:
  case VA_OP_BADREALLOC: prop_gen_bad(s, g, op); break;
  case VA_OP_ALLOC: case VA_OP_REALLOC: op->size = prop_gen_size(s, g); break;
  case VA_OP_CALLOC: prop_gen_calloc(s, g, op); break;
  case VA_OP_MEMALIGN:
    op->arg = (size_t)8 << prop_rng_below(s, 10); /* 8 .. 4096 */
    op->size = prop_gen_size(s, g);
    break;
  case VA_OP_WRITE: prop_gen_write(s, op); break;
  default: break;
  }
  va_op_normalize(op);
}

size_t prop_generate(const prop_t *p, const va_entry_t *e, uint64_t seed,
                     va_op_t *ops, uint64_t param[PROP_PARAMS]) {
  prop_gen_t g = prop_gen_defaults(p, e);
  uint64_t s = seed;
  for (int i = 0; i < PROP_PARAMS; i++) param[i] = prop_rng_next(&s);
  if (g.program) {
    size_t n = g.program(&s, &g, ops);
    for (size_t i = 0; i < n; i++) va_op_normalize(&ops[i]);
    return n;
  }
  size_t cap = prop_rng_below(&s, 4) == 0 ? (g.max_ops < 8 ? g.max_ops : 8)
                                          : g.max_ops;
  size_t n = 1 + prop_rng_below(&s, cap);
  for (size_t i = 0; i < n; i++) prop_gen_op(&s, &g, &ops[i]);
  return n;
}

/* ---------------------------------------------------------------------------
 * Running a case's program.
 * ------------------------------------------------------------------------- */
va_interp_config_t prop_interp_config(const prop_case_t *c) {
  return (va_interp_config_t){.misuse = c->entry->reports_misuse};
}

bool prop_interp(prop_case_t *c, const va_observer_t *obs, size_t nobs) {
  va_interp_config_t ic = prop_interp_config(c);
  va_failure_t f;
  c->key[0] = 0;
  if (va_interp_run(c->alloc, &c->opts, &ic, obs, nobs, c->ops, c->n, &f)) return true;
  if (c->key[0]) return false; /* an observer failed the case itself */
  return prop_fail(c, f.op_index, f.invariant ? f.invariant : "interp", "%s", f.detail);
}

bool prop_exec(prop_case_t *c, const va_exec_config_t *cfg) {
  return prop_exec_observed(c, cfg, NULL, 0);
}

bool prop_exec_observed(prop_case_t *c, const va_exec_config_t *cfg,
                        const va_observer_t *obs, size_t nobs) {
  va_exec_config_t def = va_exec_config_default();
  va_exec_config_t run = cfg ? *cfg : def;
  run.misuse = c->entry->reports_misuse;
  va_failure_t f;
  memset(&f, 0, sizeof f);
  c->key[0] = 0;
  if (va_exec_observed(c->alloc, &c->opts, c->ops, c->n, &run, obs, nobs, &f))
    return true;
  if (c->key[0]) return false;
  return prop_fail(c, f.op_index, f.invariant ? f.invariant : "exec", "%s", f.detail);
}
