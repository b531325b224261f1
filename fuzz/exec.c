/* vedalloc — the executor: the shadow model, an observer of the op
 * interpreter (fuzz/interp.h).
 *
 * Policy: the interpreter makes every call; the shadow judges each one in a
 * fixed order (NULL/errno, alignment, overlap, usable size, contents) and
 * keeps what each live block must contain: a fill pattern written over the
 * whole block when it is handed out, and the words the program wrote over
 * it. The first violation fills the failure and stops the run; nothing
 * aborts, so the property runner can shrink a failing program in-process
 * and the fuzz harness decides how to die.
 *
 * Basic algorithm, per call:
 *   1. before: verify the block a free or realloc gives back; classify a
 *      request: impossible (must fail with ENOMEM), may fail, must succeed
 *      (exec.h); note what a bad op must be reported as;
 *   2. after: check the result, index it (overlap), fill its owned bytes;
 *      a bad op: exactly one report of the right kind, then the checker
 *      and every live block;
 *   3. every check_every ops the allocator's checker, every contents_every
 *      ops every live block and the instance's walk (its live blocks must
 *      be the slots'); a check op does all.
 * At the end (after the interpreter freed everything): check() and
 * check_empty().
 *
 * Complexity: O(log VA_SLOTS) per overlap check, O(owned bytes) per
 * fill/verify. Non-goals: detecting leaks of a reference allocator (LSan
 * does that).
 */
#include "fuzz/exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/shadow.h"

/* What a request may do (exec.h: "When may a possible request fail"). */
typedef enum fz_class {
  FZ_MUST,       /* must succeed */
  FZ_MAY,        /* may fail with ENOMEM */
  FZ_IMPOSSIBLE, /* must fail with ENOMEM */
} fz_class_t;

typedef struct fz_shadow {
  const va_exec_config_t *cfg;
  fz_image_t img[VA_SLOTS];   /* what each live slot's block must contain */
  fz_index_t index;           /* live blocks by address */
  size_t live_usable;         /* sum of usable over live slots */
  uint64_t gen;               /* fills so far: a fresh pattern per fill */
  fz_class_t cls;             /* the class of the request in progress */
  bool bad_align;             /* its memalign alignment is invalid */
  int expect_kind;            /* a bad op: the kind it must raise (0: any of
                                 the stale set) */
} fz_shadow_t;

/* What a block returned for a request must satisfy. */
typedef struct fz_expect {
  unsigned slot;            /* the slot it fills */
  size_t req;               /* bytes requested */
  size_t align;             /* memalign's alignment (0: the default rule) */
  size_t zeros;             /* leading bytes that must be zero (calloc) */
  const fz_image_t *prev;   /* realloc: the old block's image ... */
  size_t prev_usable;       /* ... its usable size ... */
  size_t prefix;            /* ... and how many of its bytes must survive */
  const char *what;         /* the call, for messages */
} fz_expect_t;

/* ---------------------------------------------------------------------------
 * Contents
 * ------------------------------------------------------------------------- */
static bool fz_verify_slot(fz_shadow_t *st, va_interp_t *in, unsigned s,
                           const char *inv) {
  const va_slot_t *b = &in->slot[s];
  size_t off;
  uint8_t got, want;
  if (fz_verify(b->ptr, b->usable, SIZE_MAX, &st->img[s], &off, &got, &want)) return true;
  return va_interp_fail(in, inv,
                        "slot %u block %p (req %zu, usable %zu): byte %zu is 0x%02x, wrote 0x%02x",
                        s, (void *)b->ptr, b->req, b->usable, off, got, want);
}

static bool fz_verify_all(fz_shadow_t *st, va_interp_t *in) {
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (in->slot[s].ptr && !fz_verify_slot(st, in, s, "shadow.contents")) return false;
  return true;
}

static bool fz_run_check(va_interp_t *in) {
  if (!in->a->check) return true;
  va_report_t r = {0};
  if (in->a->check(in->heap, &r)) return true;
  return va_interp_fail(in, va_interp_name(in, "check:", r.invariant), "at %p: %s",
                        r.addr, r.detail);
}

/* The instance's walk (allocator.h) against the shadow: its LIVE regions
 * are exactly the live slots, each at its pointer with its usable size. */
typedef struct fz_walk {
  const fz_shadow_t *st;
  const va_interp_t *in;
  size_t live;        /* LIVE regions seen */
  const void *stray;  /* the first LIVE region that is no slot's block */
  size_t stray_size;
} fz_walk_t;

static void fz_walk_region(void *ctx, const va_region_t *r) {
  fz_walk_t *w = ctx;
  if (r->kind != VA_REGION_LIVE) return;
  w->live++;
  const fz_span_t *s = fz_index_find(&w->st->index, (uintptr_t)r->addr);
  if (w->stray == NULL && (s == NULL || w->in->slot[s->slot].usable != r->size))
    w->stray = r->addr, w->stray_size = r->size;
}

static bool fz_run_walk(fz_shadow_t *st, va_interp_t *in) {
  if (!in->a->walk) return true;
  fz_walk_t w = {.st = st, .in = in};
  in->a->walk(in->heap, fz_walk_region, &w);
  size_t slots = 0;
  for (unsigned s = 0; s < VA_SLOTS; s++) slots += in->slot[s].ptr != NULL;
  if (w.stray)
    return va_interp_fail(in, "walk.live", "walk reports a live block %p of %zu bytes that "
                          "no slot holds with that usable size", w.stray, w.stray_size);
  if (w.live != slots)
    return va_interp_fail(in, "walk.live", "walk reports %zu live blocks, the slots hold %zu",
                          w.live, slots);
  return true;
}

/* Slot s's block leaves the shadow. */
static void fz_forget(fz_shadow_t *st, const va_slot_t *old, unsigned s) {
  fz_index_remove(&st->index, (uintptr_t)old->ptr);
  st->live_usable -= old->usable;
  memset(&st->img[s], 0, sizeof st->img[s]);
}

/* ---------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------- */
static fz_class_t fz_classify(const fz_shadow_t *st, const va_interp_t *in,
                              size_t bytes, bool overflow, size_t extra) {
  if (overflow || bytes > (size_t)PTRDIFF_MAX) return FZ_IMPOSSIBLE;
  size_t total = bytes + extra < bytes ? SIZE_MAX : bytes + extra;
  if (total > st->cfg->max_request) return FZ_MAY;
  if (in->opts.source == VA_SOURCE_REGION) {
    size_t cap = in->opts.region_size;
    if (st->live_usable + total > cap / 2 || total > cap / (2 * (VA_SLOTS + 1)))
      return FZ_MAY;
  }
  return FZ_MUST;
}

/* A request returned NULL: allowed by its class, with errno ENOMEM (or
 * EINVAL when `einval_ok`)? */
static bool fz_check_null(fz_shadow_t *st, va_interp_t *in, const va_call_t *c,
                          bool einval_ok) {
  if (st->cls == FZ_MUST)
    return va_interp_fail(in, "shadow.null",
                          "%s returned NULL (errno %d) for a request that must succeed",
                          c->name, c->err);
  if (c->err != ENOMEM && !(einval_ok && c->err == EINVAL))
    return va_interp_fail(in, "shadow.errno", "%s returned NULL with errno %d, not ENOMEM",
                          c->name, c->err);
  return true;
}

static size_t fz_min_align(size_t req) {
  return req >= VA_ALIGNMENT ? VA_ALIGNMENT : req >= 8 ? 8 : 1;
}

/* Block p (usable bytes) was returned: check it against e, then record it
 * and fill it. */
static bool fz_accept(fz_shadow_t *st, va_interp_t *in, uint8_t *p, size_t usable,
                      const fz_expect_t *e) {
  if (st->cls == FZ_IMPOSSIBLE)
    return va_interp_fail(in, "shadow.null",
                          "%s returned %p for an impossible request (ENOMEM expected)",
                          e->what, (void *)p);
  size_t need = fz_min_align(e->req);
  if ((uintptr_t)p % need)
    return va_interp_fail(in, "shadow.align", "%s returned %p, not %zu-aligned", e->what,
                          (void *)p, need);
  if (e->align && (uintptr_t)p % e->align)
    return va_interp_fail(in, "shadow.memalign", "%s returned %p, not %zu-aligned as asked",
                          e->what, (void *)p, e->align);
  size_t span = usable > e->req ? usable : e->req;
  fz_span_t hit;
  if (!fz_index_insert(&st->index, (uintptr_t)p, span ? span : 1, e->slot, &hit))
    return va_interp_fail(in, "shadow.overlap",
                          "%s returned [%p, +%zu) overlapping slot %u's block [%p, %p)",
                          e->what, (void *)p, span, hit.slot, (void *)hit.start,
                          (void *)hit.end);
  if (usable < e->req)
    return va_interp_fail(in, "shadow.usable", "%s returned %p with usable_size %zu < %zu requested",
                          e->what, (void *)p, usable, e->req);
  st->live_usable += usable;
  size_t off;
  uint8_t got, want;
  if (e->zeros && !fz_verify(p, usable, e->zeros, NULL, &off, &got, &want))
    return va_interp_fail(in, "shadow.calloc", "%s returned %p whose byte %zu is 0x%02x, not zero",
                          e->what, (void *)p, off, got);
  if (e->prev && !fz_verify(p, e->prev_usable, e->prefix, e->prev, &off, &got, &want))
    return va_interp_fail(in, "shadow.realloc",
                          "%s moved to %p and byte %zu of the first %zu is 0x%02x, was 0x%02x",
                          e->what, (void *)p, off, e->prefix, got, want);
  st->img[e->slot] = (fz_image_t){.seed = fz_seed(e->slot, ++st->gen)};
  fz_fill(p, usable, &st->img[e->slot]);
  return true;
}

/* ---------------------------------------------------------------------------
 * Misuse
 * ------------------------------------------------------------------------- */
/* Does p lie strictly inside a live block? */
static bool fz_inside_live(const fz_shadow_t *st, const void *p) {
  fz_span_t hit;
  fz_index_t probe = st->index; /* a copy: insert only tests */
  return !fz_index_insert(&probe, (uintptr_t)p, 1, 0, &hit) && hit.start != (uintptr_t)p;
}

static void fz_bad_before(fz_shadow_t *st, const va_call_t *c) {
  switch (c->how) {
  case VA_BAD_INTERIOR:
  case VA_BAD_UNALIGNED: st->expect_kind = VA_ERR_NOT_A_BLOCK; break;
  case VA_BAD_STALE:
    st->expect_kind = fz_inside_live(st, c->ptr) ? VA_ERR_NOT_A_BLOCK : 0;
    break;
  default: st->expect_kind = VA_ERR_INVALID_FREE; break;
  }
}

static bool fz_bad_after(fz_shadow_t *st, va_interp_t *in, const va_call_t *c) {
  const char *how = va_bad_name(c->how);
  if (c->raised_count == 0)
    return va_interp_fail(in, "misuse.unreported", "%s() of a %s pointer %p was not reported",
                          c->name, how, c->ptr);
  bool stale_ok = st->expect_kind == 0 && (c->raised == VA_ERR_DOUBLE_FREE ||
                                           c->raised == VA_ERR_NOT_A_BLOCK ||
                                           c->raised == VA_ERR_INVALID_FREE);
  if (c->raised != st->expect_kind && !stale_ok)
    return va_interp_fail(in, "misuse.kind", "%s() of a %s pointer %p reported \"%s\", not \"%s\"",
                          c->name, how, c->ptr, va_error_name((va_error_kind_t)c->raised),
                          st->expect_kind ? va_error_name((va_error_kind_t)st->expect_kind)
                                          : "double free");
  if (c->raised_count > 1)
    return va_interp_fail(in, "misuse.repeated", "%s() of a %s pointer %p reported %d times",
                          c->name, how, c->ptr, c->raised_count);
  if (c->kind == VA_CALL_REALLOC && (c->result != NULL || c->err != EINVAL))
    return va_interp_fail(in, "misuse.result",
                          "realloc() of a %s pointer %p returned %p with errno %d, not NULL "
                          "with EINVAL", how, c->ptr, c->result, c->err);
  return fz_run_check(in) && fz_verify_all(st, in);
}

/* ---------------------------------------------------------------------------
 * The observer
 * ------------------------------------------------------------------------- */
static bool fz_before(void *ctx, va_interp_t *in, const va_call_t *c) {
  fz_shadow_t *st = ctx;
  if (c->bad) {
    fz_bad_before(st, c);
    return true;
  }
  switch (c->kind) {
  case VA_CALL_FREE: return fz_verify_slot(st, in, c->slot, "shadow.contents");
  case VA_CALL_REALLOC:
    if (c->ptr && !fz_verify_slot(st, in, c->slot, "shadow.contents")) return false;
    st->cls = fz_classify(st, in, c->req, false, 0);
    return true;
  case VA_CALL_MEMALIGN:
    st->bad_align = !(c->align && (c->align & (c->align - 1)) == 0) || c->align < sizeof(void *);
    st->cls = fz_classify(st, in, c->req, false, c->align);
    if (st->bad_align && st->cls == FZ_MUST) st->cls = FZ_MAY;
    return true;
  default: st->cls = fz_classify(st, in, c->req, c->overflow, 0); return true;
  }
}

static bool fz_after_realloc(fz_shadow_t *st, va_interp_t *in, const va_call_t *c) {
  unsigned s = c->slot;
  if (!c->result) {
    if (!fz_check_null(st, in, c, false)) return false;
    return !c->ptr || fz_verify_slot(st, in, s, "shadow.realloc_failed");
  }
  fz_image_t old = st->img[s];
  if (c->ptr) fz_forget(st, &c->old, s);
  fz_expect_t e = {.slot = s, .req = c->req, .what = "realloc"};
  if (c->ptr) {
    e.prev = &old;
    e.prev_usable = c->old.usable;
    e.prefix = c->old.req < c->req ? c->old.req : c->req;
  }
  return fz_accept(st, in, c->result, c->usable, &e);
}

static bool fz_after(void *ctx, va_interp_t *in, const va_call_t *c) {
  fz_shadow_t *st = ctx;
  if (c->bad) return fz_bad_after(st, in, c);
  if (c->kind == VA_CALL_FREE) {
    fz_forget(st, &c->old, c->slot);
    return true;
  }
  if (c->kind == VA_CALL_REALLOC) return fz_after_realloc(st, in, c);
  bool memalign = c->kind == VA_CALL_MEMALIGN;
  if (!c->result)
    return fz_check_null(st, in, c, memalign && (st->bad_align || st->cls == FZ_IMPOSSIBLE));
  fz_expect_t e = {.slot = c->slot,
                   .req = c->req,
                   .align = memalign && !st->bad_align ? c->align : 0,
                   .zeros = c->kind == VA_CALL_CALLOC ? c->req : 0,
                   .what = c->name};
  return fz_accept(st, in, c->result, c->usable, &e);
}

static bool fz_wrote(void *ctx, va_interp_t *in, unsigned s, size_t off, uint64_t v,
                     bool spray) {
  fz_image_t *img = &((fz_shadow_t *)ctx)->img[s];
  (void)in;
  if (spray) {
    img->spray = true, img->spray_val = v, img->nover = 0;
  } else if (img->nover < FZ_MAX_OVERRIDES) {
    img->over[img->nover++] = (fz_override_t){off, v};
  }
  return true;
}

static bool fz_op_end(void *ctx, va_interp_t *in, const va_op_t *op) {
  fz_shadow_t *st = ctx;
  size_t i = in->op_index + 1;
  bool check = op->kind == VA_OP_CHECK ||
               (st->cfg->check_every && i % st->cfg->check_every == 0);
  bool contents = op->kind == VA_OP_CHECK ||
                  (st->cfg->contents_every && i % st->cfg->contents_every == 0);
  return (!check || fz_run_check(in)) &&
         (!contents || (fz_verify_all(st, in) && fz_run_walk(st, in)));
}

static bool fz_end(void *ctx, va_interp_t *in) {
  fz_shadow_t *st = ctx;
  if (!st->cfg->check_empty_at_end || !in->a->check_empty) return fz_run_check(in);
  va_report_t r = {0}; /* check_empty runs check() first (allocator.h) */
  if (in->a->check_empty(in->heap, &r)) return true;
  return va_interp_fail(in, va_interp_name(in, "empty:", r.invariant), "at %p: %s",
                        r.addr, r.detail);
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */
va_exec_config_t va_exec_config_default(void) {
  return (va_exec_config_t){.check_every = 1,
                            .contents_every = 16,
                            .check_empty_at_end = true,
                            .max_request = (size_t)64 << 20,
                            .skip_above = 0,
                            .skip_until = 0,
                            .misuse = false};
}

static va_spare_t fz_shadow_spare;

bool va_exec_observed(const va_allocator_t *a, const va_options_t *opts,
                      const va_op_t *ops, size_t n, const va_exec_config_t *cfg,
                      const va_observer_t *extra, size_t nextra,
                      va_failure_t *fail) {
  va_exec_config_t def = va_exec_config_default();
  fz_shadow_t *st = va_state_take(&fz_shadow_spare, sizeof *st); /* off the fuzzer's stack */
  va_observer_t obs[VA_MAX_OBSERVERS];
  if (!st || nextra >= VA_MAX_OBSERVERS) {
    if (st) va_state_give(&fz_shadow_spare, st);
    if (fail) {
      memset(fail, 0, sizeof *fail);
      fail->invariant = "interp.setup";
      snprintf(fail->detail, sizeof fail->detail, "the shadow could not get its state");
    }
    return false;
  }
  st->cfg = cfg ? cfg : &def;
  obs[0] = (va_observer_t){.ctx = st, .before = fz_before, .after = fz_after,
                           .wrote = fz_wrote, .op_end = fz_op_end, .end = fz_end};
  for (size_t i = 0; i < nextra; i++) obs[1 + i] = extra[i];
  va_interp_config_t ic = {.skip_above = st->cfg->skip_above,
                           .skip_until = st->cfg->skip_until,
                           .misuse = st->cfg->misuse,
                           .canaries = st->cfg->canaries};
  bool ok = va_interp_run(a, opts, &ic, obs, 1 + nextra, ops, n, fail);
  va_state_give(&fz_shadow_spare, st);
  return ok;
}

bool va_exec(const va_allocator_t *a, const va_options_t *opts, const va_op_t *ops,
             size_t n, const va_exec_config_t *cfg, va_failure_t *fail) {
  return va_exec_observed(a, opts, ops, n, cfg, NULL, 0, fail);
}
