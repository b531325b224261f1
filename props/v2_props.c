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
 * Misuse the op language cannot aim: a pointer into the part of a page's
 * grid never sliced. It is on the grid, in a page of the heap, and no block
 * was ever there: "not a block" (not "double free"), and the heap as before.
 * ------------------------------------------------------------------------- */
static bool prop_v2_unsliced_ok(void *ctx, va_interp_t *in, const va_op_t *op) {
  const va_slot_t *b = &in->slot[op->slot];
  sl_block_place_t pl;
  if (!b->ptr || !sl_block_place(in->heap, b->ptr, &pl) || pl.class_idx == SIZE_MAX ||
      pl.sliced >= pl.capacity)
    return true;
  uint8_t *q = b->ptr + (pl.sliced - pl.index) * pl.block_size;
  int raised = va_interp_probe_free(in, q);
  if (raised != VA_ERR_NOT_A_BLOCK)
    return prop_fail(ctx, in->op_index, "v2.unsliced_free",
                     "free(%p), block %zu of a page with %zu sliced, raised \"%s\"",
                     (void *)q, pl.sliced, pl.sliced,
                     raised ? va_error_name((va_error_kind_t)raised) : "nothing");
  va_report_t r = {0};
  if (!in->a->check(in->heap, &r))
    return prop_fail(ctx, in->op_index, "v2.unsliced_free", "after free(%p): %s: %s",
                     (void *)q, r.invariant, r.detail);
  return true;
}

PROP(v2_unsliced_free, prop_is_v2,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_CALLOC, .max_size = 4096, .slots = 16}) {
  va_observer_t obs = {.ctx = c, .op_end = prop_v2_unsliced_ok};
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

/* ---------------------------------------------------------------------------
 * Giving pages back, and reusing them.
 *
 *   v2_pages   every small malloc, calloc, memalign and free does to the
 *              heap's pages exactly what the policy says, predicted from
 *              the census before the call (page decay 0: the idle budget is
 *              a hard limit):
 *     free that empties its page: stays when it is the head and may stay
 *       (keep_empty); else to the class's reserve when the reserve (its
 *       list and an empty head) has room; else to the idle pool, which,
 *       over its budget, gives back its oldest pages, 512 KiB ones first,
 *       down to half the budget;
 *     allocation of class c with no free block at c's head: a reserve page
 *       of c, else the newest idle page of c's page size (laid out anew if
 *       it served another class), else a page mapped fresh;
 *     anything else: no page changes hands.
 *   v2_large_cache  every large malloc, calloc, memalign and free does to
 *              the large cache exactly what the policy says, against a
 *              model of the cache (entries newest first, with their size
 *              and resident bytes): a freed mapping is kept when it fits
 *              the budget and is not below opts.large_cache_min, oldest
 *              entries unmapped first to make room (and below the entry
 *              limit), oldest entries shed to one page each while the
 *              resident budget or the adaptive share (opts.
 *              large_resident_ratio n: twice the largest mapping cached, or
 *              1/n of the rest of the footprint, plus a page per entry) is
 *              exceeded, then this one cut to the resident budget; with a
 *              ratio, half the cases lift the resident budget (the
 *              drop-in's own setting, where the share alone sheds);
 *              a request takes the newest entry of at least its size and at
 *              most twice it; else, above the carve limit, splits the
 *              smallest larger mapping of its own (its tail cached like a
 *              freed one) or moves the largest smaller one; else maps a
 *              fresh one (page decay 0: no entry ages).
 * Both record which decisions their runs reached (prop_v2_reached), so a
 * test can require that the generators reach every page state the drop-in's
 * settings reach.
 * ------------------------------------------------------------------------- */
#include "props/v2_props.h"

prop_v2_reached_t prop_v2_reached;

/* The class of a small request, or SIZE_MAX when it goes to a large
 * mapping (or is not served: a bad alignment). */
static size_t prop_v2_class_of(const va_call_t *call) {
  size_t n = call->req, a = call->align, max = sl_max_small();
  if (call->kind == VA_CALL_MEMALIGN) {
    if (!a || (a & (a - 1))) return SIZE_MAX;
    if (a > 8) {
      if (a > 4096 || n > max) return SIZE_MAX;
      size_t c = sl_size_class(n < a ? a : n);
      while (sl_class_size(c) % a) c++;
      return c;
    }
  }
  return call->overflow || n > max ? SIZE_MAX : sl_size_class(n);
}

static size_t prop_v2_kind_of_class(size_t c) { return sl_class_size(c) > 1024; }

typedef struct prop_v2_pages {
  prop_case_t *c;
  sl_census_t want;  /* the census the call must leave */
  bool predicted;
} prop_v2_pages_t;

/* An empty page goes to the idle pool, which may then shrink. */
static void prop_v2_to_idle(sl_census_t *w, size_t c, size_t bytes) {
  w->class_pages[c]--;
  w->idle_pages[bytes > 65536]++;
  w->idle_bytes += bytes;
  prop_v2_reached.emptied_idle++;
  if (w->idle_bytes <= w->idle_budget) return;
  size_t target = w->idle_budget / 2;
  for (size_t k = 2; k-- > 0;)
    while (w->idle_bytes > target && w->idle_pages[k]) {
      w->idle_pages[k]--;
      w->idle_bytes -= k ? 512 * 1024 : 65536;
      w->pages_unmapped++;
      prop_v2_reached.idle_released++;
    }
}

static void prop_v2_predict_free(sl_census_t *w, const sl_block_place_t *pl) {
  size_t c = pl->class_idx;
  if (pl->used != 1) return; /* the page keeps live blocks */
  if (pl->keep_empty) {
    prop_v2_reached.emptied_stays++;
    return;
  }
  size_t held = w->class_reserve[c] + (!pl->avail_head && w->head_empty[c]);
  if (!pl->avail_head && held < w->page_reserve) {
    w->class_reserve[c]++;
    prop_v2_reached.emptied_reserve++;
    return;
  }
  prop_v2_to_idle(w, c, pl->bytes);
}

static void prop_v2_predict_alloc(sl_census_t *w, size_t c) {
  if (w->class_avail[c]) return;
  size_t k = prop_v2_kind_of_class(c);
  if (w->class_reserve[c]) {
    w->class_reserve[c]--;
    prop_v2_reached.took_reserve++;
  } else if (w->idle_pages[k]) {
    w->idle_pages[k]--;
    w->idle_bytes -= k ? 512 * 1024 : 65536;
    w->class_pages[c]++;
    if (w->idle_newest_class[k] != c) w->pages_reformatted++, prop_v2_reached.took_idle_other++;
    else prop_v2_reached.took_idle_same++;
  } else {
    w->pages_mapped++;
    w->class_pages[c]++;
    prop_v2_reached.mapped_fresh++;
  }
}

static bool prop_v2_pages_before(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v2_pages_t *x = ctx;
  sl_heap_census(in->heap, &x->want);
  x->predicted = !call->bad && call->kind != VA_CALL_REALLOC;
  if (!x->predicted) return true;
  if (call->kind == VA_CALL_FREE) {
    sl_block_place_t pl;
    if (sl_block_place(in->heap, call->ptr, &pl) && pl.class_idx != SIZE_MAX)
      prop_v2_predict_free(&x->want, &pl);
    return true;
  }
  size_t c = prop_v2_class_of(call);
  if (c != SIZE_MAX) prop_v2_predict_alloc(&x->want, c);
  return true;
}

static bool prop_v2_pages_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v2_pages_t *x = ctx;
  if (!x->predicted) return true;
  sl_census_t got;
  sl_heap_census(in->heap, &got);
  const sl_census_t *w = &x->want;
  for (size_t k = 0; k < sl_class_count(); k++)
    if (got.class_pages[k] != w->class_pages[k] || got.class_reserve[k] != w->class_reserve[k])
      return prop_fail(x->c, in->op_index, "v2.pages",
                       "%s: class %zu holds %zu pages (%zu in reserve), the policy says "
                       "%zu (%zu)", call->name, k, got.class_pages[k], got.class_reserve[k],
                       w->class_pages[k], w->class_reserve[k]);
  if (got.idle_pages[0] != w->idle_pages[0] || got.idle_pages[1] != w->idle_pages[1] ||
      got.pages_mapped != w->pages_mapped || got.pages_unmapped != w->pages_unmapped ||
      got.pages_reformatted != w->pages_reformatted)
    return prop_fail(x->c, in->op_index, "v2.pages",
                     "%s: idle %zu+%zu pages, %zu mapped, %zu unmapped, %zu laid out anew; "
                     "the policy says %zu+%zu, %zu, %zu, %zu", call->name, got.idle_pages[0],
                     got.idle_pages[1], got.pages_mapped, got.pages_unmapped,
                     got.pages_reformatted, w->idle_pages[0], w->idle_pages[1],
                     w->pages_mapped, w->pages_unmapped, w->pages_reformatted);
  return true;
}

/* Sizes whose pages 64 slots can fill (about 62 blocks of 1 KiB in a
 * 64 KiB page; 15 to 31 in a 512 KiB one), classes that share a page size
 * (so the idle pool serves another class), and a few others. */
static const size_t prop_v2_page_sizes[] = {1024, 896, 768, 32768, 28672, 20480,
                                            16384, 8192, 48, 100000};

/* Bursts: fill slots with blocks of one size, then free most of them in a
 * random order, a few stray ops between; pages fill, empty, go to the
 * reserve and the pool, and come back for the same or another class. */
static size_t prop_v2_bursts(uint64_t *rng, const prop_gen_t *g, va_op_t *ops) {
  size_t n = 0, max = g->max_ops;
  while (n + 2 * VA_SLOTS + 4 <= max) {
    size_t size = g->sizes[prop_rng_below(rng, g->nsizes)];
    size_t k = 8 + prop_rng_below(rng, VA_SLOTS - 7), first = prop_rng_below(rng, VA_SLOTS);
    uint8_t order[VA_SLOTS];
    for (size_t j = 0; j < k; j++) {
      va_op_t *op = &ops[n++];
      *op = (va_op_t){.kind = VA_OP_ALLOC, .slot = (uint8_t)((first + j) % VA_SLOTS), .size = size};
      if (prop_rng_below(rng, 8) == 0) op->kind = VA_OP_CALLOC, op->arg = 1;
      if (prop_rng_below(rng, 16) == 0) op->kind = VA_OP_MEMALIGN, op->arg = 64;
      order[j] = op->slot;
    }
    for (size_t j = k; j > 1; j--) { /* shuffle, then free most */
      size_t i = prop_rng_below(rng, j);
      uint8_t t = order[i];
      order[i] = order[j - 1], order[j - 1] = t;
    }
    size_t frees = k - prop_rng_below(rng, k / 4 + 1);
    for (size_t j = 0; j < frees; j++)
      ops[n++] = (va_op_t){.kind = VA_OP_FREE, .slot = order[j]};
    for (size_t j = prop_rng_below(rng, 4); j > 0; j--)
      ops[n++] = (va_op_t){.kind = prop_rng_below(rng, 2) ? VA_OP_ALLOC : VA_OP_FREE,
                           .slot = (uint8_t)prop_rng_below(rng, VA_SLOTS),
                           .size = g->sizes[prop_rng_below(rng, g->nsizes)]};
    if (prop_rng_below(rng, 3) == 0) break;
  }
  return n;
}

PROP(v2_pages, prop_is_v2,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_CALLOC | PROP_K_MEMALIGN,
             .max_ops = 512, .slots = 64, .sizes = prop_v2_page_sizes,
             .nsizes = sizeof prop_v2_page_sizes / sizeof prop_v2_page_sizes[0],
             .program = prop_v2_bursts},
     .weight = 50) {
  prop_v2_pages_t x = {.c = c};
  va_options_t saved = c->opts;
  c->opts.page_decay_ns = 0;
  va_observer_t obs = {.ctx = &x, .before = prop_v2_pages_before, .after = prop_v2_pages_after};
  bool ok = prop_interp(c, &obs, 1);
  c->opts = saved;
  return ok;
}

/* ---- the large cache ----------------------------------------------------- */
#define PROP_V2_CACHE_MAX 64

typedef struct prop_v2_entry {
  size_t size, resident;
} prop_v2_entry_t;

typedef struct prop_v2_cache {
  prop_case_t *c;
  prop_v2_entry_t e[PROP_V2_CACHE_MAX]; /* newest first */
  size_t n, resident, mapped;
  size_t peak;                           /* the largest mapping ever cached */
  size_t footprint;                      /* the heap's, as the call began (the census
                                            after the last call, or at the start) */
  sl_census_t k;                         /* constants and budgets */
  bool predicted;
} prop_v2_cache_t;

static size_t prop_v2_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static void prop_v2_cache_drop(prop_v2_cache_t *x, size_t i) {
  x->resident -= x->e[i].resident;
  memmove(&x->e[i], &x->e[i + 1], (x->n - i - 1) * sizeof x->e[0]);
  x->n--;
}

static size_t prop_v2_cache_bytes(const prop_v2_cache_t *x) {
  size_t b = 0;
  for (size_t i = 0; i < x->n; i++) b += x->e[i].size;
  return b;
}

static void prop_v2_cache_put(prop_v2_cache_t *x, size_t size) {
  size_t budget = x->k.large_cache, r = x->k.large_resident, page = x->k.os_page;
  if (size > budget || size < x->k.large_cache_min) {
    prop_v2_reached.cache_too_big++;
    return;
  }
  while (x->n && (prop_v2_cache_bytes(x) + size > budget || x->n >= x->k.cache_entries_max)) {
    prop_v2_reached.cache_evicted++;
    x->footprint -= x->e[x->n - 1].size; /* unmapped */
    prop_v2_cache_drop(x, x->n - 1);
  }
  /* The share (no decay: no entry is young, the peak never ages): twice
   * the largest mapping cached, or 1/ratio of the rest of the footprint;
   * the header pages stay on top of it. */
  if (size > x->peak) x->peak = size;
  size_t share = SIZE_MAX, n = x->k.large_resident_ratio;
  if (n) {
    size_t used = prop_v2_cache_bytes(x) + size;
    size_t rest = x->footprint > used ? x->footprint - used : 0;
    share = rest / n > 2 * x->peak ? rest / n : 2 * x->peak;
    share += x->n * page;
  }
  size_t keep = size;
  for (size_t i = x->n; i-- > 0;) {
    bool over_cap = r != SIZE_MAX && x->resident + keep > r;
    bool over_share = share != SIZE_MAX && x->resident + keep > share;
    if (!over_cap && !over_share) break;
    if (x->e[i].resident > page) {
      x->resident -= x->e[i].resident - page;
      x->e[i].resident = page;
      prop_v2_reached.cache_shed++;
      if (!over_cap) prop_v2_reached.cache_share_shed++;
    }
  }
  if (r != SIZE_MAX && x->resident + keep > r) {
    size_t room = r > x->resident ? r - x->resident : 0;
    keep = prop_v2_up(room > x->k.large_offset ? room : x->k.large_offset, page);
    if (keep >= size) keep = size;
    else prop_v2_reached.cache_cut++;
  }
  memmove(&x->e[1], &x->e[0], x->n * sizeof x->e[0]);
  x->e[0] = (prop_v2_entry_t){size, keep};
  x->n++;
  x->resident += keep;
  prop_v2_reached.cache_put++;
}

/* The entry a request of size bytes resizes (a mapping of its own: above
 * the carve limit): the smallest larger, else the largest; -1 if none. */
static long prop_v2_cache_near(const prop_v2_cache_t *x, size_t size) {
  long above = -1, below = -1;
  for (size_t i = 0; i < x->n; i++) {
    size_t have = x->e[i].size;
    if (have <= x->k.carve_max) continue;
    if (have >= size && (above < 0 || have < x->e[above].size)) above = (long)i;
    if (have < size && (below < 0 || have > x->e[below].size)) below = (long)i;
  }
  return above >= 0 ? above : below;
}

/* A large request of n bytes at payload offset off. */
static void prop_v2_cache_take(prop_v2_cache_t *x, size_t n, size_t off) {
  size_t size = prop_v2_up((n ? n : 1) + off, x->k.chunk);
  if (off != x->k.large_offset) {
    x->mapped++;
    prop_v2_reached.cache_miss++;
    return;
  }
  for (size_t i = 0; i < x->n; i++)
    if (x->e[i].size >= size && x->e[i].size / 2 <= size) {
      prop_v2_cache_drop(x, i);
      prop_v2_reached.cache_hit++;
      return;
    }
  long near = size > x->k.carve_max ? prop_v2_cache_near(x, size) : -1;
  if (near < 0) {
    x->mapped++;
    prop_v2_reached.cache_miss++;
    return;
  }
  size_t have = x->e[near].size;
  prop_v2_cache_drop(x, (size_t)near);
  if (have >= size) { /* split: the tail is cached as an entry of its own */
    prop_v2_reached.cache_split++;
    prop_v2_cache_put(x, have - size);
  } else { /* moved (or, when no room for it, unmapped and mapped fresh) */
    prop_v2_reached.cache_moved++;
    x->mapped++;
  }
}

static bool prop_v2_cache_start(void *ctx, va_interp_t *in) {
  prop_v2_cache_t *x = ctx;
  sl_heap_census(in->heap, &x->k);
  x->mapped = x->k.large_mapped;
  x->footprint = x->k.footprint;
  return true;
}

static bool prop_v2_cache_before(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v2_cache_t *x = ctx;
  x->predicted = !call->bad && call->kind != VA_CALL_REALLOC;
  if (!x->predicted) return true;
  if (call->kind == VA_CALL_FREE) {
    sl_block_place_t pl;
    if (sl_block_place(in->heap, call->ptr, &pl) && pl.class_idx == SIZE_MAX)
      prop_v2_cache_put(x, pl.bytes);
    return true;
  }
  if (call->overflow || call->req > (size_t)PTRDIFF_MAX || prop_v2_class_of(call) != SIZE_MAX)
    return true;
  size_t a = call->kind == VA_CALL_MEMALIGN ? call->align : 0;
  if (a && (a & (a - 1))) return true; /* EINVAL */
  prop_v2_cache_take(x, call->req, a > x->k.large_offset ? a : x->k.large_offset);
  return true;
}

static bool prop_v2_cache_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_v2_cache_t *x = ctx;
  sl_census_t got;
  sl_heap_census(in->heap, &got);
  x->footprint = got.footprint; /* what the next call starts from */
  if (!x->predicted) return true;
  if (got.large_cached != x->n || got.cache_bytes != prop_v2_cache_bytes(x) ||
      got.cache_resident != x->resident || got.large_mapped != x->mapped)
    return prop_fail(x->c, in->op_index, "v2.large_cache",
                     "%s: cache of %zu mappings, %zu bytes, %zu resident, %zu mapped fresh; "
                     "the policy says %zu, %zu, %zu, %zu", call->name, got.large_cached,
                     got.cache_bytes, got.cache_resident, got.large_mapped, x->n,
                     prop_v2_cache_bytes(x), x->resident, x->mapped);
  return true;
}

/* Sizes around the cache's reuse window, up to and over the drop-in's
 * 64 MiB budget, with enough slots to fill it and pass the entry limit. */
static const size_t prop_v2_large_sizes[] = {40000,     70000,     200000,    1 << 20,
                                             3u << 20,  6u << 20,  12u << 20, 33u << 20,
                                             100000,    50000,     65u << 20};

PROP(v2_large_cache, prop_is_v2,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_CALLOC | PROP_K_MEMALIGN,
             .max_ops = 120, .slots = 40, .sizes = prop_v2_large_sizes,
             .nsizes = sizeof prop_v2_large_sizes / sizeof prop_v2_large_sizes[0],
             .weights = {[VA_OP_ALLOC] = 40, [VA_OP_FREE] = 40, [VA_OP_CALLOC] = 3,
                         [VA_OP_MEMALIGN] = 6}},
     .weight = 30) {
  prop_v2_cache_t *x = calloc(1, sizeof *x);
  PROP_REQUIRE(c, 0, x, "v2.setup", "no memory for the model");
  x->c = c;
  va_observer_t obs = {.ctx = x, .start = prop_v2_cache_start,
                       .before = prop_v2_cache_before, .after = prop_v2_cache_after};
  va_options_t saved = c->opts;
  c->opts.page_decay_ns = 0; /* no decay: the budget and the share alone shed */
  if (c->opts.large_resident_ratio && (c->param[0] & 1))
    c->opts.large_resident = SIZE_MAX; /* the drop-in's own: the share alone */
  bool ok = prop_interp(c, &obs, 1);
  c->opts = saved;
  free(x);
  return ok;
}
