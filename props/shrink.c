/* vedalloc — greedy shrinking of a failing case to a local minimum.
 *
 * A candidate is kept only if it still fails with the same key. Passes, each
 * repeated until the whole set makes no progress (or the budget runs out):
 *   1. cut everything after the op that exposed the failure;
 *   2. drop chunks of ops: halves, quarters, ... single ops;
 *   3. simplify each op: realloc/calloc/memalign -> alloc; sizes toward 0,
 *      then to the powers of two (class boundaries) below, then halve the
 *      distance to the boundary below; calloc counts and alignments down;
 *   4. renumber slots to the lowest, in order of first use;
 *   5. parameters toward 0.
 * The shrinker knows nothing of properties or allocators: the caller's
 * "still fails" callback runs a candidate (runner.c forks it when the
 * property may crash), so calls go runner.c -> shrink.c only.
 * Cost: each candidate is one case evaluation (a fork for crash-prone
 * properties); a typical shrink of a 60-op case to <= 6 ops takes a few
 * hundred evaluations.
 */
#include <stdio.h>
#include <string.h>

#include "props/prop.h"

typedef struct prop_shrinker {
  prop_still_fails_t fails; /* the caller's judge: runs a candidate */
  void *ctx;
  size_t budget;            /* candidates at most */
  prop_result_t *r;
} prop_shrinker_t;

/* Evaluate a candidate; adopt it into r if it fails the same way. */
static bool prop_shrink_try(prop_shrinker_t *s, const va_op_t *ops, size_t n,
                            const uint64_t param[PROP_PARAMS]) {
  prop_result_t *r = s->r;
  if (r->shrink_evals >= s->budget) return false;
  r->shrink_evals++;
  prop_case_t c;
  if (!s->fails(s->ctx, ops, n, param, &c)) return false;
  if (strcmp(c.key, r->key) != 0) return false;
  static va_op_t tmp[PROP_MAX_OPS];
  memcpy(tmp, ops, n * sizeof *ops);
  memcpy(r->ops, tmp, n * sizeof *ops);
  r->n = n;
  memcpy(r->param, param, sizeof r->param);
  snprintf(r->why, sizeof r->why, "%s", c.why);
  r->at = c.at;
  return true;
}

static bool prop_shrink_tail(prop_shrinker_t *s) {
  prop_result_t *r = s->r;
  if (r->at == (size_t)-1 || r->at + 1 >= r->n) return false;
  return prop_shrink_try(s, r->ops, r->at + 1, r->param);
}

static bool prop_shrink_drop(prop_shrinker_t *s) {
  static va_op_t cand[PROP_MAX_OPS];
  prop_result_t *r = s->r;
  bool any = false;
  for (size_t k = r->n / 2 ? r->n / 2 : 1; k >= 1; k /= 2) {
    for (size_t i = 0; i < r->n && r->n > 1;) {
      size_t cut = i + k <= r->n ? k : r->n - i;
      memcpy(cand, r->ops, i * sizeof *cand);
      memcpy(cand + i, r->ops + i + cut, (r->n - i - cut) * sizeof *cand);
      if (prop_shrink_try(s, cand, r->n - cut, r->param))
        any = true; /* same i now names the next chunk */
      else
        i += k;
    }
    if (k == 1) break;
  }
  return any;
}

/* Try op i replaced by `op`. */
static bool prop_shrink_op_to(prop_shrinker_t *s, size_t i, const va_op_t *op) {
  static va_op_t cand[PROP_MAX_OPS];
  prop_result_t *r = s->r;
  if (memcmp(op, &r->ops[i], sizeof *op) == 0) return false;
  memcpy(cand, r->ops, r->n * sizeof *cand);
  cand[i] = *op;
  return prop_shrink_try(s, cand, r->n, r->param);
}

/* Shrink one size_t field of op i: 0, powers of two below, then toward the
 * boundary below by halving the distance. */
static bool prop_shrink_field(prop_shrinker_t *s, size_t i, size_t *(*field)(va_op_t *)) {
  bool any = false;
  va_op_t op = s->r->ops[i];
  size_t v = *field(&op);
  if (v == 0) return false;
  *field(&op) = 0;
  if (prop_shrink_op_to(s, i, &op)) return true;
  for (unsigned b = 0; b < 64 && ((size_t)1 << b) < v; b++) {
    op = s->r->ops[i];
    *field(&op) = (size_t)1 << b;
    if (prop_shrink_op_to(s, i, &op)) return true;
  }
  for (;;) {
    op = s->r->ops[i];
    v = *field(&op);
    size_t floor2 = (size_t)1 << (63 - __builtin_clzll((unsigned long long)v));
    size_t mid = v - (v - floor2 + 1) / 2;
    if (mid >= v || mid <= floor2) break;
    *field(&op) = mid;
    if (!prop_shrink_op_to(s, i, &op)) break;
    any = true;
  }
  return any;
}

static size_t *prop_field_size(va_op_t *op) { return &op->size; }
static size_t *prop_field_arg(va_op_t *op) { return &op->arg; }

static bool prop_shrink_kind(prop_shrinker_t *s, size_t i) {
  va_op_t op = s->r->ops[i];
  if (op.kind != VA_OP_REALLOC && op.kind != VA_OP_CALLOC &&
      op.kind != VA_OP_MEMALIGN)
    return false;
  if (op.kind == VA_OP_CALLOC &&
      __builtin_mul_overflow(op.arg, op.size, &op.size))
    op.size = SIZE_MAX;
  op.kind = VA_OP_ALLOC;
  op.arg = 0;
  return prop_shrink_op_to(s, i, &op);
}

static bool prop_shrink_ops(prop_shrinker_t *s) {
  bool any = false;
  for (size_t i = 0; i < s->r->n; i++) {
    any |= prop_shrink_kind(s, i);
    uint8_t k = s->r->ops[i].kind;
    if (k == VA_OP_ALLOC || k == VA_OP_REALLOC || k == VA_OP_CALLOC ||
        k == VA_OP_MEMALIGN)
      any |= prop_shrink_field(s, i, prop_field_size);
    if (k == VA_OP_CALLOC) any |= prop_shrink_field(s, i, prop_field_arg);
  }
  return any;
}

static bool prop_shrink_slots(prop_shrinker_t *s) {
  static va_op_t cand[PROP_MAX_OPS];
  prop_result_t *r = s->r;
  int map[VA_SLOTS];
  int next = 0;
  for (int k = 0; k < VA_SLOTS; k++) map[k] = -1;
  memcpy(cand, r->ops, r->n * sizeof *cand);
  for (size_t i = 0; i < r->n; i++) {
    if (cand[i].kind == VA_OP_CHECK) continue;
    unsigned k = cand[i].slot % VA_SLOTS;
    if (map[k] < 0) map[k] = next++;
    cand[i].slot = (uint8_t)map[k];
  }
  if (memcmp(cand, r->ops, r->n * sizeof *cand) == 0) return false;
  return prop_shrink_try(s, cand, r->n, r->param);
}

static bool prop_shrink_params(prop_shrinker_t *s) {
  bool any = false;
  for (int j = 0; j < PROP_PARAMS; j++) {
    uint64_t p[PROP_PARAMS];
    while (s->r->param[j] != 0) {
      memcpy(p, s->r->param, sizeof p);
      p[j] = 0;
      if (prop_shrink_try(s, s->r->ops, s->r->n, p)) { any = true; break; }
      p[j] = s->r->param[j] / 2;
      if (!prop_shrink_try(s, s->r->ops, s->r->n, p)) break;
      any = true;
    }
  }
  return any;
}

prop_shrink_result_t prop_shrink(prop_still_fails_t fails, void *ctx, size_t budget,
                                 prop_result_t *r) {
  prop_shrinker_t s = {fails, ctx, budget, r};
  bool progress = true;
  prop_shrink_tail(&s);
  while (progress && r->shrink_evals < budget) {
    progress = prop_shrink_drop(&s);
    progress |= prop_shrink_ops(&s);
    progress |= prop_shrink_slots(&s);
    progress |= prop_shrink_params(&s);
  }
  return progress ? PROP_SHRINK_BUDGET : PROP_SHRINK_MINIMAL;
}
