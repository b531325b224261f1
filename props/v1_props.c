/* vedalloc — V1 (first-fit block list) properties, through its public
 * introspection (ff_walk, ff_header_size, ff_min_payload):
 *
 *   v1_no_adjacent_free  after every op, no two address-adjacent blocks are
 *                        both free (coalescing is complete);
 *   v1_placement         every malloc lands where the policy says, predicted
 *                        from a walk just before it:
 *                          first: the lowest free block that fits;
 *                          best:  the smallest that fits, lowest on ties;
 *                          next:  the first that fits at or after the rover,
 *                                 wrapping once, the wilderness (a free last
 *                                 block) tried last. V1 does not expose its rover,
 *                                 so the property models it: the address just
 *                                 past the block last handed out by malloc (or
 *                                 a moving realloc); a block merged over that
 *                                 address carries it (the heir).
 *                        When nothing fits the heap grows: the block must not
 *                        lie below the last block of the walk;
 *   v1_split_min         every block's payload >= the minimum payload, and a
 *                        fresh malloc block keeps less slack than a header
 *                        plus a minimum payload (else it should have split).
 * memalign is left out of these programs: it splits off leading pieces on
 * purpose, which the placement model does not describe.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "props/prop.h"

#define PROP_V1_MAX_BLOCKS 4096

typedef struct prop_v1_block {
  uintptr_t payload;
  size_t size; /* payload bytes */
  bool is_free;
} prop_v1_block_t;

typedef struct prop_v1_walk {
  prop_v1_block_t b[PROP_V1_MAX_BLOCKS];
  size_t n;
  bool overflow;
} prop_v1_walk_t;

static void prop_v1_visit(void *ctx, void *payload, size_t size, bool is_free) {
  prop_v1_walk_t *w = ctx;
  if (w->n == PROP_V1_MAX_BLOCKS) {
    w->overflow = true;
    return;
  }
  w->b[w->n++] = (prop_v1_block_t){(uintptr_t)payload, size, is_free};
}

static void prop_v1_walk(void *heap, prop_v1_walk_t *w) {
  w->n = 0;
  w->overflow = false;
  ff_walk(heap, prop_v1_visit, w);
}

/* Payload bytes V1 reserves for a request of n. */
static size_t prop_v1_need(size_t n) {
  size_t m = ff_min_payload();
  return n < m ? m : (n + 15) & ~(size_t)15;
}

#define PROP_V1_KINDS                                                          \
  (PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC | PROP_K_CALLOC | PROP_K_CHECK |  \
   PROP_K_WRITE | PROP_K_BAD)

/* ---------------------------------------------------------------------------
 * No adjacent free blocks; minimum split.
 * ------------------------------------------------------------------------- */
static bool prop_v1_adjacent_ok(prop_case_t *c, size_t at, const prop_v1_walk_t *w) {
  size_t hdr = ff_header_size();
  for (size_t i = 0; i + 1 < w->n; i++) {
    const prop_v1_block_t *a = &w->b[i], *b = &w->b[i + 1];
    bool touching = a->payload + a->size + hdr == b->payload;
    PROP_REQUIRE(c, at, !(touching && a->is_free && b->is_free), "v1.adjacent_free",
                 "free blocks at %p (%zu B) and %p (%zu B) are adjacent",
                 (void *)a->payload, a->size, (void *)b->payload, b->size);
  }
  return true;
}

static bool prop_v1_min_ok(prop_case_t *c, size_t at, const prop_v1_walk_t *w) {
  for (size_t i = 0; i < w->n; i++)
    PROP_REQUIRE(c, at, w->b[i].size >= ff_min_payload(), "v1.split_min",
                 "block %p has a payload of %zu < minimum %zu",
                 (void *)w->b[i].payload, w->b[i].size, ff_min_payload());
  return true;
}

static const prop_v1_block_t *prop_v1_find(const prop_v1_walk_t *w, uintptr_t p) {
  for (size_t i = 0; i < w->n; i++)
    if (w->b[i].payload == p) return &w->b[i];
  return NULL;
}

/* The program under an observer that walks the heap after every op and
 * hands the walk to `each`, with the block the op's malloc or calloc
 * returned (NULL for other ops). */
typedef bool (*prop_v1_each_fn)(prop_case_t *c, size_t at, const prop_v1_walk_t *w,
                                const va_op_t *op, void *fresh);

typedef struct prop_v1_watch {
  prop_case_t *c;
  prop_v1_walk_t *w;
  prop_v1_each_fn each;
  void *fresh; /* the current op's malloc/calloc result */
} prop_v1_watch_t;

static bool prop_v1_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v1_watch_t *x = ctx;
  (void)in;
  if (call->kind == VA_CALL_MALLOC || call->kind == VA_CALL_CALLOC) x->fresh = call->result;
  return true;
}

static bool prop_v1_op_end(void *ctx, va_interp_t *in, const va_op_t *op) {
  prop_v1_watch_t *x = ctx;
  prop_v1_walk(in->heap, x->w);
  bool ok = x->each(x->c, in->op_index, x->w, op, x->fresh);
  x->fresh = NULL;
  return ok;
}

static bool prop_v1_drive(prop_case_t *c, prop_v1_each_fn each) {
  prop_v1_watch_t x = {.c = c, .w = malloc(sizeof(prop_v1_walk_t)), .each = each};
  PROP_REQUIRE(c, 0, x.w, "v1.setup", "no memory for the walk");
  va_observer_t obs = {.ctx = &x, .after = prop_v1_after, .op_end = prop_v1_op_end};
  bool ok = prop_interp(c, &obs, 1);
  free(x.w);
  return ok;
}

static bool prop_v1_adjacent_each(prop_case_t *c, size_t at, const prop_v1_walk_t *w,
                                  const va_op_t *op, void *fresh) {
  return prop_v1_adjacent_ok(c, at, w);
}

PROP(v1_no_adjacent_free, prop_is_v1, .gen = {.kinds = PROP_V1_KINDS, .max_ops = 128}) {
  return prop_v1_drive(c, prop_v1_adjacent_each);
}

static bool prop_v1_split_each(prop_case_t *c, size_t at, const prop_v1_walk_t *w,
                               const va_op_t *op, void *fresh) {
  if (!prop_v1_min_ok(c, at, w)) return false;
  if (!fresh || (op->kind != VA_OP_ALLOC && op->kind != VA_OP_CALLOC)) return true;
  const prop_v1_block_t *b = prop_v1_find(w, (uintptr_t)fresh);
  PROP_REQUIRE(c, at, b, "v1.walk", "fresh block %p not found by ff_walk", fresh);
  size_t req = op->kind == VA_OP_CALLOC ? op->arg * op->size : op->size;
  size_t need = prop_v1_need(req);
  PROP_REQUIRE(c, at, b->size - need < ff_header_size() + ff_min_payload(),
               "v1.split_slack",
               "block %p of %zu B for a need of %zu: the rest should have split off",
               fresh, b->size, need);
  return true;
}

PROP(v1_split_min, prop_is_v1, .gen = {.kinds = PROP_V1_KINDS, .max_ops = 128}) {
  return prop_v1_drive(c, prop_v1_split_each);
}

/* ---------------------------------------------------------------------------
 * Placement conformance.
 * ------------------------------------------------------------------------- */
typedef struct prop_v1_place {
  uintptr_t rover; /* modelled next-fit rover (address past the last block taken) */
} prop_v1_place_t;

/* Index of the block whose extent (header included) holds address a; n if none. */
static size_t prop_v1_holding(const prop_v1_walk_t *w, uintptr_t a) {
  size_t hdr = ff_header_size();
  for (size_t i = 0; i < w->n; i++)
    if (w->b[i].payload - hdr <= a && a < w->b[i].payload + w->b[i].size) return i;
  return w->n;
}

/* Where a next-fit search starts: the block holding the rover; when the
 * rover sits on a segment's fence (not walked), the first block above it,
 * since the block list runs on through the fence into the next segment. */
static size_t prop_v1_rover_block(const prop_v1_walk_t *w, uintptr_t rover) {
  size_t i = prop_v1_holding(w, rover);
  if (i < w->n) return i;
  for (i = 0; i < w->n; i++)
    if (w->b[i].payload > rover) return i;
  return 0;
}

static bool prop_v1_fits(const prop_v1_block_t *b, size_t need) {
  return b->is_free && b->size >= need;
}

/* The block the policy picks for `need` payload bytes; w->n when none fits. */
static size_t prop_v1_predict(const prop_v1_walk_t *w, va_fit_t fit, size_t need,
                              uintptr_t rover) {
  size_t best = w->n;
  if (fit == VA_FIT_BEST) {
    for (size_t i = 0; i < w->n; i++)
      if (prop_v1_fits(&w->b[i], need) && (best == w->n || w->b[i].size < w->b[best].size))
        best = i;
    return best;
  }
  size_t start = fit == VA_FIT_NEXT ? prop_v1_rover_block(w, rover) : 0;
  /* next-fit tries the wilderness (a free last block) only when no hole fits */
  size_t wild = fit == VA_FIT_NEXT && w->n && w->b[w->n - 1].is_free ? w->n - 1 : w->n;
  for (size_t k = 0; k < w->n; k++) {
    size_t i = (start + k) % w->n;
    if (i != wild && prop_v1_fits(&w->b[i], need)) return i;
  }
  return wild < w->n && prop_v1_fits(&w->b[wild], need) ? wild : w->n;
}

typedef struct prop_v1_placer {
  prop_case_t *c;
  prop_v1_walk_t *w;
  prop_v1_place_t pl;
  size_t want; /* the block the policy picks for the malloc in progress */
} prop_v1_placer_t;

static bool prop_v1_place_before(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v1_placer_t *x = ctx;
  if (call->kind != VA_CALL_MALLOC) return true;
  prop_v1_walk(in->heap, x->w);
  x->want = prop_v1_predict(x->w, x->c->opts.fit, prop_v1_need(call->req), x->pl.rover);
  return true;
}

/* The malloc landed where the policy says (from the walk before it). */
static bool prop_v1_place_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v1_placer_t *x = ctx;
  prop_case_t *c = x->c;
  prop_v1_walk_t *w = x->w;
  void *p = call->result;
  if (call->kind != VA_CALL_MALLOC || !p || w->overflow) return true;
  size_t at = in->op_index, want = x->want;
  if (want < w->n) {
    PROP_REQUIRE(c, at, (uintptr_t)p == w->b[want].payload, "v1.placement",
                 "%s: malloc(%zu) gave %p, the policy picks %p (%zu B free)",
                 c->entry->name, call->req, p, (void *)w->b[want].payload,
                 w->b[want].size);
  } else if (w->n) {
    PROP_REQUIRE(c, at, (uintptr_t)p >= w->b[w->n - 1].payload, "v1.placement",
                 "%s: malloc(%zu) gave %p below the last block %p though nothing fit",
                 c->entry->name, call->req, p, (void *)w->b[w->n - 1].payload);
  }
  prop_v1_walk(in->heap, w);
  const prop_v1_block_t *b = prop_v1_find(w, (uintptr_t)p);
  x->pl.rover = b ? b->payload + b->size : 0;
  return true;
}

PROP(v1_placement, prop_is_v1,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE, .max_ops = 96, .slots = 16,
             .max_size = 8192}) {
  prop_v1_placer_t x = {.c = c, .w = malloc(sizeof(prop_v1_walk_t))};
  PROP_REQUIRE(c, 0, x.w, "v1.setup", "no memory for the walk");
  va_observer_t obs = {.ctx = &x, .before = prop_v1_place_before,
                       .after = prop_v1_place_after};
  bool ok = prop_interp(c, &obs, 1);
  free(x.w);
  return ok;
}
