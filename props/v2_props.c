/* vedalloc — V2 (slab) properties, through its public introspection
 * (sl_size_class, sl_class_size, sl_class_count, sl_max_small,
 * sl_block_info, sl_touch_peak):
 *
 *   v2_class_smallest  for generated n <= sl_max_small() (and n +- 1, and
 *                      every class boundary +- 1): class(n) is the smallest
 *                      class whose size >= n; classes strictly increase;
 *                      n1 <= n2 => class(n1) <= class(n2)  (pure, no fork);
 *   v2_block_in_class  after every op, every live block is a block of this
 *                      heap, in a page of a class whose size >= its request
 *                      (exactly the smallest such class for malloc/calloc),
 *                      lying inside its page (page <= p < page + 512 KiB);
 *                      requests above sl_max_small() live in a large mapping;
 *   v2_bounded_touch   no malloc/free/realloc touches more than
 *                      PROP_V2_TOUCH_MAX pages' metadata (O(1), not
 *                      O(pages)), on programs holding many pages: the
 *                      heap's peak witness stays within it after every op.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc/slab/slab.h"
#include "props/prop.h"

#define PROP_V2_PAGE_MAX ((uintptr_t)512 << 10) /* the larger page size */
#define PROP_V2_TOUCH_MAX 8

/* ---------------------------------------------------------------------------
 * Class mapping.
 * ------------------------------------------------------------------------- */
static bool prop_v2_class_at(prop_case_t *c, size_t n) {
  size_t idx = sl_size_class(n), count = sl_class_count();
  PROP_REQUIRE(c, 0, idx < count, "v2.class_range", "class(%zu) = %zu >= %zu", n, idx,
               count);
  PROP_REQUIRE(c, 0, sl_class_size(idx) >= n, "v2.class_fits",
               "class(%zu) = %zu has size %zu < n", n, idx, sl_class_size(idx));
  PROP_REQUIRE(c, 0, idx == 0 || sl_class_size(idx - 1) < n, "v2.class_smallest",
               "class(%zu) = %zu (size %zu) but class %zu (size %zu) fits", n, idx,
               sl_class_size(idx), idx - 1, sl_class_size(idx - 1));
  return true;
}

static bool prop_v2_classes_increase(prop_case_t *c) {
  for (size_t i = 1; i < sl_class_count(); i++)
    PROP_REQUIRE(c, 0, sl_class_size(i - 1) < sl_class_size(i), "v2.class_order",
                 "class %zu size %zu !< class %zu size %zu", i - 1,
                 sl_class_size(i - 1), i, sl_class_size(i));
  PROP_REQUIRE(c, 0, sl_class_size(sl_class_count() - 1) == sl_max_small(),
               "v2.class_top", "top class %zu != max small %zu",
               sl_class_size(sl_class_count() - 1), sl_max_small());
  return true;
}

PROP(v2_class_smallest, prop_is_v2, .gen = {.kinds = PROP_K_CHECK, .max_ops = 1},
     .flags = PROP_NOFORK) {
  size_t max = sl_max_small();
  if (!prop_v2_classes_increase(c)) return false;
  size_t a = (size_t)(c->param[0] % (max + 1)), b = (size_t)(c->param[1] % (max + 1));
  if (a > b) { size_t t = a; a = b; b = t; }
  size_t probes[] = {a, b, a ? a - 1 : 0, a < max ? a + 1 : max};
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
    if (!prop_v2_class_at(c, probes[i])) return false;
  PROP_REQUIRE(c, 0, sl_size_class(a) <= sl_size_class(b), "v2.class_monotonic",
               "%zu <= %zu but class %zu > class %zu", a, b, sl_size_class(a),
               sl_size_class(b));
  size_t k = (size_t)(c->param[2] % sl_class_count()), s = sl_class_size(k);
  return prop_v2_class_at(c, s) && prop_v2_class_at(c, s - 1) &&
         (s == max || prop_v2_class_at(c, s + 1));
}

/* ---------------------------------------------------------------------------
 * Blocks and pages.
 * ------------------------------------------------------------------------- */
static bool prop_v2_live_ok(prop_case_t *c, size_t at, void *heap, void *p,
                            size_t req, bool exact) {
  size_t cls = 0;
  void *page = NULL;
  PROP_REQUIRE(c, at, sl_block_info(heap, p, &cls, &page), "v2.block_info",
               "live block %p (%zu B) is not a block of the heap", p, req);
  if (req > sl_max_small()) {
    PROP_REQUIRE(c, at, cls == SIZE_MAX, "v2.large",
                 "%zu B block %p is in class %zu, not a large mapping", req, p, cls);
    return true;
  }
  if (cls == SIZE_MAX) return !exact ||
      prop_fail(c, at, "v2.large", "%zu B malloc block %p is in a large mapping", req, p);
  PROP_REQUIRE(c, at, sl_class_size(cls) >= req, "v2.block_class",
               "%zu B block %p in class %zu of size %zu", req, p, cls,
               sl_class_size(cls));
  PROP_REQUIRE(c, at, !exact || cls == sl_size_class(req), "v2.block_class",
               "malloc(%zu) block %p in class %zu, want %zu", req, p, cls,
               sl_size_class(req));
  PROP_REQUIRE(c, at, (uintptr_t)page <= (uintptr_t)p &&
                          (uintptr_t)p + req <= (uintptr_t)page + PROP_V2_PAGE_MAX,
               "v2.block_page", "block %p (%zu B) outside its page %p", p, req, page);
  return true;
}

/* After every op every live block is checked; `exact` remembers, per
 * slot, whether its block came from malloc or calloc (its class is then
 * exactly the request's). */
typedef struct prop_v2_watch {
  prop_case_t *c;
  bool exact[VA_SLOTS];
} prop_v2_watch_t;

static bool prop_v2_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v2_watch_t *x = ctx;
  (void)in;
  if (call->result && !call->bad)
    x->exact[call->slot] = call->kind == VA_CALL_MALLOC || call->kind == VA_CALL_CALLOC;
  return true;
}

static bool prop_v2_blocks_ok(void *ctx, va_interp_t *in, const va_op_t *op) {
  prop_v2_watch_t *x = ctx;
  (void)op;
  for (unsigned j = 0; j < VA_SLOTS; j++) {
    const va_slot_t *b = &in->slot[j];
    if (b->ptr && !prop_v2_live_ok(x->c, in->op_index, in->heap, b->ptr, b->req, x->exact[j]))
      return false;
  }
  return true;
}

PROP(v2_block_in_class, prop_is_v2,
     .gen = {.kinds = PROP_K_ALL & ~PROP_K_MEMALIGN, .max_size = 100000, .slots = 16}) {
  prop_v2_watch_t x = {.c = c};
  va_observer_t obs = {.ctx = &x, .after = prop_v2_after, .op_end = prop_v2_blocks_ok};
  return prop_interp(c, &obs, 1);
}

/* ---------------------------------------------------------------------------
 * O(1) pages touched.
 * ------------------------------------------------------------------------- */
static bool prop_v2_touch_ok(void *ctx, va_interp_t *in, const va_op_t *op) {
  size_t t = sl_touch_peak(in->heap);
  (void)op;
  if (t <= PROP_V2_TOUCH_MAX) return true;
  return prop_fail(ctx, in->op_index, "v2.touched", "an op touched %zu pages (max %d)",
                   t, PROP_V2_TOUCH_MAX);
}

PROP(v2_bounded_touch, prop_is_v2,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC, .max_ops = 300,
             .slots = 64, .max_size = 70000}, .weight = 50) {
  va_observer_t obs = {.ctx = c, .op_end = prop_v2_touch_ok};
  return prop_interp(c, &obs, 1);
}
