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
 *                        block handed out by malloc, calloc or realloc (in
 *                        place, grown or shrunk, or moved) keeps less slack
 *                        than a header plus a minimum payload: the rest of
 *                        its free block should have been split off;
 *   v1_trim              after every op, a free block ending the heap is not
 *                        larger than the trim threshold unless giving it
 *                        back would not move the break: predicted from the
 *                        walk (the break would go to the page boundary after
 *                        that block's header and a minimum block, never
 *                        below where the heap started), on a region source
 *                        so the break is always V1's own.
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

static void prop_v1_visit(void *ctx, const va_region_t *r) {
  prop_v1_walk_t *w = ctx;
  if (w->n == PROP_V1_MAX_BLOCKS) {
    w->overflow = true;
    return;
  }
  w->b[w->n++] = (prop_v1_block_t){(uintptr_t)r->addr, r->size, r->kind == VA_REGION_FREE};
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
 * hands the walk to `each`, with the block the op's allocating call
 * returned (NULL for other ops) and its request. */
typedef struct prop_v1_watch prop_v1_watch_t;
typedef bool (*prop_v1_each_fn)(prop_v1_watch_t *x, size_t at, const va_op_t *op);

struct prop_v1_watch {
  prop_case_t *c;
  prop_v1_walk_t *w;
  prop_v1_each_fn each;
  void *fresh;      /* the current op's allocating call's block */
  size_t req;       /* ... and its request */
  uintptr_t start;  /* end of the heap right after create (v1_trim) */
};

static bool prop_v1_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v1_watch_t *x = ctx;
  (void)in;
  if (call->kind != VA_CALL_FREE && !call->bad && call->result)
    x->fresh = call->result, x->req = call->req;
  return true;
}

static bool prop_v1_op_end(void *ctx, va_interp_t *in, const va_op_t *op) {
  prop_v1_watch_t *x = ctx;
  prop_v1_walk(in->heap, x->w);
  bool ok = x->each(x, in->op_index, op);
  x->fresh = NULL;
  return ok;
}

/* The heap's end: one fence header past the last block. */
static uintptr_t prop_v1_end(const prop_v1_walk_t *w) {
  const prop_v1_block_t *last = &w->b[w->n - 1];
  return last->payload + last->size + ff_header_size();
}

static bool prop_v1_start(void *ctx, va_interp_t *in) {
  prop_v1_watch_t *x = ctx;
  prop_v1_walk(in->heap, x->w);
  x->start = x->w->n ? prop_v1_end(x->w) : 0;
  return true;
}

static bool prop_v1_drive_with(prop_case_t *c, prop_v1_each_fn each) {
  prop_v1_watch_t x = {.c = c, .w = malloc(sizeof(prop_v1_walk_t)), .each = each};
  PROP_REQUIRE(c, 0, x.w, "v1.setup", "no memory for the walk");
  va_observer_t obs = {.ctx = &x, .start = prop_v1_start, .after = prop_v1_after,
                       .op_end = prop_v1_op_end};
  bool ok = prop_interp(c, &obs, 1);
  free(x.w);
  return ok;
}

static bool prop_v1_drive(prop_case_t *c, prop_v1_each_fn each) {
  return prop_v1_drive_with(c, each);
}

static bool prop_v1_adjacent_each(prop_v1_watch_t *x, size_t at, const va_op_t *op) {
  (void)op;
  return prop_v1_adjacent_ok(x->c, at, x->w);
}

PROP(v1_no_adjacent_free, prop_is_v1, .gen = {.kinds = PROP_V1_KINDS, .max_ops = 128}) {
  return prop_v1_drive(c, prop_v1_adjacent_each);
}

static bool prop_v1_split_each(prop_v1_watch_t *x, size_t at, const va_op_t *op) {
  prop_case_t *c = x->c;
  (void)op;
  if (!prop_v1_min_ok(c, at, x->w)) return false;
  if (!x->fresh) return true;
  const prop_v1_block_t *b = prop_v1_find(x->w, (uintptr_t)x->fresh);
  PROP_REQUIRE(c, at, b, "v1.walk", "fresh block %p not found by ff_walk", x->fresh);
  size_t need = prop_v1_need(x->req);
  PROP_REQUIRE(c, at, b->size - need < ff_header_size() + ff_min_payload(),
               "v1.split_slack",
               "block %p of %zu B for a need of %zu: the rest should have split off",
               x->fresh, b->size, need);
  return true;
}

PROP(v1_split_min, prop_is_v1, .gen = {.kinds = PROP_V1_KINDS, .max_ops = 128}) {
  return prop_v1_drive(c, prop_v1_split_each);
}

/* ---------------------------------------------------------------------------
 * Trimming.
 * ------------------------------------------------------------------------- */
#define PROP_V1_REGION ((size_t)16 << 20)
#define PROP_V1_PAGE ((uintptr_t)4096)

static bool prop_v1_trim_each(prop_v1_watch_t *x, size_t at, const va_op_t *op) {
  const prop_v1_walk_t *w = x->w;
  (void)op;
  if (w->n == 0 || w->overflow || !w->b[w->n - 1].is_free) return true;
  const prop_v1_block_t *t = &w->b[w->n - 1];
  size_t hdr = ff_header_size(), block = t->size + hdr;
  if (block <= x->c->opts.trim_threshold) return true;
  uintptr_t start = t->payload - hdr, end = prop_v1_end(w);
  uintptr_t keep = start + hdr + ff_min_payload() + hdr; /* a minimum block, the fence */
  uintptr_t top = (keep + PROP_V1_PAGE - 1) & ~(PROP_V1_PAGE - 1);
  if (top < x->start) top = x->start;
  PROP_REQUIRE(x->c, at, top >= end, "v1.trim",
               "free tail block %p of %zu B above the threshold %zu: the break "
               "should be at %p, it is at %p", (void *)start, block,
               x->c->opts.trim_threshold, (void *)top, (void *)end);
  return true;
}

PROP(v1_trim, prop_is_v1,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC | PROP_K_CALLOC,
             .max_ops = 96, .slots = 12, .max_size = 200000}) {
  void *region = aligned_alloc(4096, PROP_V1_REGION);
  PROP_REQUIRE(c, 0, region, "v1.setup", "no memory for the region");
  va_options_t saved = c->opts;
  c->opts.source = VA_SOURCE_REGION;
  c->opts.region = region;
  c->opts.region_size = PROP_V1_REGION;
  c->opts.trim_threshold = 16384 + (size_t)(c->param[0] % 4) * 24576; /* 16..90 KiB */
  bool ok = prop_v1_drive_with(c, prop_v1_trim_each);
  c->opts = saved;
  free(region);
  return ok;
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
