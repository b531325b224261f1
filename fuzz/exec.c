/* vedalloc — the executor: an op program against one fresh allocator
 * instance, watched by the shadow model.
 *
 * Policy: run each op through the allocator table exactly as a program
 * would, then assert every invariant the shadow can see (exec.h lists them)
 * in a fixed order: error hook, NULL/errno, alignment, overlap, usable size,
 * contents. The first violation fills a va_failure_t and stops the run; the
 * executor never aborts, so the property runner can shrink a failing
 * program in-process and the fuzz harness decides how to die.
 *
 * Basic algorithm, per op:
 *   1. free the slot first if the op refills it (verifying its contents),
 *   2. classify the request: impossible (must fail with ENOMEM), may fail,
 *      must succeed, or skipped (exec.h),
 *   3. call the allocator with errno = 0 and the error hook armed,
 *   4. check the result, index it (overlap), fill its whole usable size,
 *   5. every check_every ops run the allocator's checker, every
 *      contents_every ops verify every live block.
 * At the end every block is freed (verified), check() and check_empty() run,
 * and the instance is destroyed.
 *
 * Complexity: O(log VA_SLOTS) per overlap check, O(usable) per fill/verify.
 * Non-goals: thread interleavings; detecting leaks of a reference allocator
 * (LSan does that).
 */
#include "fuzz/exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/shadow.h"

/* ---------------------------------------------------------------------------
 * Types.
 * ------------------------------------------------------------------------- */
typedef struct fz_slot {
  uint8_t *ptr;   /* live block, NULL when empty */
  size_t req;     /* bytes requested */
  size_t usable;  /* usable_size() when it was obtained */
  fz_image_t img; /* what it should contain */
} fz_slot_t;

/* What a request may do (exec.h: "When may a possible request fail"). */
typedef enum fz_class {
  FZ_MUST,       /* must succeed */
  FZ_MAY,        /* may fail with ENOMEM */
  FZ_IMPOSSIBLE, /* must fail with ENOMEM */
  FZ_SKIP,       /* not run (cfg->skip_above) */
} fz_class_t;

typedef struct fz_state {
  const va_allocator_t *a;
  void *heap;
  va_options_t opts;          /* the caller's, with our error hook */
  const va_exec_config_t *cfg;
  fz_slot_t slot[VA_SLOTS];
  fz_index_t index;
  size_t live_usable;         /* sum of usable over live slots */
  uint64_t gen;               /* fills so far: a fresh pattern per fill */
  uint8_t *pending;           /* block returned by the current op, not yet accepted */
  int error_kind;             /* first error hook call during the current op */
  const char *error_op;
  va_failure_t *fail;
  size_t op_index;
  va_op_t op;
} fz_state_t;

/* ---------------------------------------------------------------------------
 * Failure reporting.
 * ------------------------------------------------------------------------- */
static bool fz_fail(fz_state_t *st, const char *inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fz_fail(fz_state_t *st, const char *inv, const char *fmt, ...) {
  va_failure_t *f = st->fail;
  f->op_index = st->op_index;
  f->op = st->op;
  f->invariant = inv;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->detail, sizeof f->detail, fmt, ap);
  va_end(ap);
  return false;
}

/* An invariant name built at run time ("check:ff.tiling"). */
static const char *fz_name(fz_state_t *st, const char *prefix, const char *name) {
  snprintf(st->fail->invariant_buf, sizeof st->fail->invariant_buf, "%s%s",
           prefix, name ? name : "?");
  return st->fail->invariant_buf;
}

static void fz_on_error(void *ctx, va_error_kind_t kind, const char *op,
                        const void *ptr, const char *message) {
  fz_state_t *st = ctx;
  if (!st->error_kind) st->error_kind = (int)kind, st->error_op = op;
}

static const char *fz_error_invariant(int kind) {
  switch (kind) {
  case VA_ERR_INVALID_FREE: return "error:invalid_free";
  case VA_ERR_NOT_A_BLOCK: return "error:not_a_block";
  case VA_ERR_DOUBLE_FREE: return "error:double_free";
  case VA_ERR_CORRUPTION: return "error:corruption";
  }
  return "error:unknown";
}

/* After every allocator call: did it raise its error hook on a valid op? */
static bool fz_no_error(fz_state_t *st) {
  if (!st->error_kind) return true;
  return fz_fail(st, fz_error_invariant(st->error_kind),
                 "%s() raised \"%s\" on a valid call", st->error_op,
                 va_error_name((va_error_kind_t)st->error_kind));
}

/* ---------------------------------------------------------------------------
 * Shadow bookkeeping.
 * ------------------------------------------------------------------------- */
static bool fz_verify_slot(fz_state_t *st, unsigned s, size_t limit, const char *inv) {
  fz_slot_t *b = &st->slot[s];
  size_t off;
  uint8_t got, want;
  if (fz_verify(b->ptr, b->usable, limit, &b->img, &off, &got, &want)) return true;
  return fz_fail(st, inv, "slot %u block %p (req %zu, usable %zu): byte %zu is 0x%02x, wrote 0x%02x",
                 s, (void *)b->ptr, b->req, b->usable, off, got, want);
}

static bool fz_verify_all(fz_state_t *st) {
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (st->slot[s].ptr && !fz_verify_slot(st, s, SIZE_MAX, "shadow.contents")) return false;
  return true;
}

static void fz_forget(fz_state_t *st, unsigned s) {
  fz_slot_t *b = &st->slot[s];
  fz_index_remove(&st->index, (uintptr_t)b->ptr);
  st->live_usable -= b->usable;
  memset(b, 0, sizeof *b);
}

/* Free slot s (verifying its contents first). */
static bool fz_free_slot(fz_state_t *st, unsigned s) {
  fz_slot_t *b = &st->slot[s];
  if (!b->ptr) return true;
  if (!fz_verify_slot(st, s, SIZE_MAX, "shadow.contents")) return false;
  void *p = b->ptr;
  fz_forget(st, s);
  st->a->free(st->heap, p);
  return fz_no_error(st);
}

static size_t fz_min_align(size_t req) {
  return req >= VA_ALIGNMENT ? VA_ALIGNMENT : req >= 8 ? 8 : 1;
}

static fz_class_t fz_classify(const fz_state_t *st, size_t bytes, bool overflow, size_t extra) {
  if (overflow || bytes > (size_t)PTRDIFF_MAX) return FZ_IMPOSSIBLE;
  size_t until = st->cfg->skip_until ? st->cfg->skip_until : (size_t)PTRDIFF_MAX;
  if (st->cfg->skip_above && bytes > st->cfg->skip_above && bytes <= until) return FZ_SKIP;
  size_t total = bytes + extra < bytes ? SIZE_MAX : bytes + extra;
  if (total > st->cfg->max_request) return FZ_MAY;
  if (st->opts.source == VA_SOURCE_REGION) {
    size_t cap = st->opts.region_size;
    if (st->live_usable + total > cap / 2 || total > cap / (2 * (VA_SLOTS + 1)))
      return FZ_MAY;
  }
  return FZ_MUST;
}

/* A request returned NULL: allowed by its class, with errno ENOMEM (or
 * EINVAL when `einval_ok`)? */
static bool fz_check_null(fz_state_t *st, fz_class_t cls, int err, bool einval_ok, const char *what) {
  if (cls == FZ_MUST)
    return fz_fail(st, "shadow.null", "%s returned NULL (errno %d) for a request that must succeed", what, err);
  if (err != ENOMEM && !(einval_ok && err == EINVAL))
    return fz_fail(st, "shadow.errno", "%s returned NULL with errno %d, not ENOMEM", what, err);
  return true;
}

/* A block p was returned for slot s (request req, alignment `align`, 0 for
 * the default rule): check alignment, overlap and usable size, then record
 * it. `zeros` bytes at its start must be zero (calloc). `prev` (realloc) is
 * the old block's image and prefix length to verify. */
static bool fz_accept(fz_state_t *st, unsigned s, uint8_t *p, fz_class_t cls,
                      size_t req, size_t align, size_t zeros,
                      const fz_slot_t *prev, size_t prefix, const char *what) {
  st->pending = p;
  if (cls == FZ_IMPOSSIBLE)
    return fz_fail(st, "shadow.null", "%s returned %p for an impossible request (ENOMEM expected)", what, (void *)p);
  size_t need = fz_min_align(req);
  if ((uintptr_t)p % need)
    return fz_fail(st, "shadow.align", "%s returned %p, not %zu-aligned", what, (void *)p, need);
  if (align && (uintptr_t)p % align)
    return fz_fail(st, "shadow.memalign", "%s returned %p, not %zu-aligned as asked", what, (void *)p, align);
  size_t usable = st->a->usable_size(st->heap, p);
  size_t span = usable > req ? usable : req;
  fz_span_t hit;
  if (!fz_index_insert(&st->index, (uintptr_t)p, span ? span : 1, s, &hit))
    return fz_fail(st, "shadow.overlap", "%s returned [%p, +%zu) overlapping slot %u's block [%p, %p)",
                   what, (void *)p, span, hit.slot, (void *)hit.start, (void *)hit.end);
  if (usable < req)
    return fz_fail(st, "shadow.usable", "%s returned %p with usable_size %zu < %zu requested", what, (void *)p, usable, req);
  fz_slot_t *b = &st->slot[s];
  *b = (fz_slot_t){.ptr = p, .req = req, .usable = usable};
  st->live_usable += usable;
  size_t off;
  uint8_t got, want;
  if (zeros && !fz_verify(p, usable, zeros, NULL, &off, &got, &want))
    return fz_fail(st, "shadow.calloc", "%s returned %p whose byte %zu is 0x%02x, not zero", what, (void *)p, off, got);
  if (prev && !fz_verify(p, prev->usable, prefix, &prev->img, &off, &got, &want))
    return fz_fail(st, "shadow.realloc", "%s moved %p -> %p and byte %zu of the first %zu is 0x%02x, was 0x%02x",
                   what, (void *)prev->ptr, (void *)p, off, prefix, got, want);
  b->img.seed = fz_seed(s, ++st->gen);
  fz_fill(p, usable, &b->img);
  st->pending = NULL;
  return true;
}

/* ---------------------------------------------------------------------------
 * The ops.
 * ------------------------------------------------------------------------- */
static bool fz_op_alloc(fz_state_t *st, const va_op_t *op) {
  fz_class_t cls = fz_classify(st, op->size, false, 0);
  if (cls == FZ_SKIP) return true;
  if (!fz_free_slot(st, op->slot)) return false;
  cls = fz_classify(st, op->size, false, 0);
  errno = 0;
  uint8_t *p = st->a->malloc(st->heap, op->size);
  int err = errno;
  if (!fz_no_error(st)) return false;
  if (!p) return fz_check_null(st, cls, err, false, "malloc");
  return fz_accept(st, op->slot, p, cls, op->size, 0, 0, NULL, 0, "malloc");
}

static bool fz_op_calloc(fz_state_t *st, const va_op_t *op) {
  size_t bytes;
  bool overflow = __builtin_mul_overflow(op->arg, op->size, &bytes);
  fz_class_t cls = fz_classify(st, bytes, overflow, 0);
  if (cls == FZ_SKIP) return true;
  if (!fz_free_slot(st, op->slot)) return false;
  cls = fz_classify(st, bytes, overflow, 0);
  errno = 0;
  uint8_t *p = st->a->calloc(st->heap, op->arg, op->size);
  int err = errno;
  if (!fz_no_error(st)) return false;
  if (!p) return fz_check_null(st, cls, err, false, "calloc");
  return fz_accept(st, op->slot, p, cls, bytes, 0, bytes, NULL, 0, "calloc");
}

static bool fz_op_memalign(fz_state_t *st, const va_op_t *op) {
  if (!st->a->memalign) return true; /* not offered: the op is a no-op */
  size_t align = op->arg;
  bool bad_align = !(align && (align & (align - 1)) == 0) || align < sizeof(void *);
  fz_class_t cls = fz_classify(st, op->size, false, align);
  if (cls == FZ_SKIP || (st->cfg->skip_above && align > st->cfg->skip_above)) return true;
  if (!fz_free_slot(st, op->slot)) return false;
  cls = fz_classify(st, op->size, false, align);
  if (bad_align && cls == FZ_MUST) cls = FZ_MAY;
  errno = 0;
  uint8_t *p = st->a->memalign(st->heap, align, op->size);
  int err = errno;
  if (!fz_no_error(st)) return false;
  if (!p) return fz_check_null(st, cls, err, bad_align || cls == FZ_IMPOSSIBLE, "memalign");
  return fz_accept(st, op->slot, p, cls, op->size, bad_align ? 0 : align, 0, NULL, 0, "memalign");
}

static bool fz_op_realloc(fz_state_t *st, const va_op_t *op) {
  unsigned s = op->slot;
  fz_slot_t old = st->slot[s];
  size_t extra = 0;
  fz_class_t cls = fz_classify(st, op->size, false, extra);
  if (cls == FZ_SKIP) return true;
  if (old.ptr && !fz_verify_slot(st, s, SIZE_MAX, "shadow.contents")) return false;
  errno = 0;
  uint8_t *q = st->a->realloc(st->heap, old.ptr, op->size);
  int err = errno;
  if (!fz_no_error(st)) return false;
  if (!q) {
    if (!fz_check_null(st, cls, err, false, "realloc")) return false;
    return !old.ptr || fz_verify_slot(st, s, SIZE_MAX, "shadow.realloc_failed");
  }
  if (old.ptr) fz_forget(st, s);
  size_t prefix = old.req < op->size ? old.req : op->size;
  return fz_accept(st, s, q, cls, op->size, 0, 0, old.ptr ? &old : NULL, prefix, "realloc");
}

static bool fz_op_write(fz_state_t *st, const va_op_t *op) {
  fz_slot_t *b = &st->slot[op->slot];
  if (b->ptr && op->size >= VA_WRITE_SPRAY) { /* the whole block becomes the word */
    b->img.spray = true, b->img.spray_val = (uint64_t)op->arg, b->img.nover = 0;
    fz_fill(b->ptr, b->usable, &b->img);
    return true;
  }
  size_t filled = b->usable < FZ_FILL_EDGE ? b->usable : FZ_FILL_EDGE;
  if (!b->ptr || filled < 8 || b->img.nover >= FZ_MAX_OVERRIDES) return true;
  size_t off = op->size % (filled - 7);
  uint64_t v = (uint64_t)op->arg;
  for (int i = 0; i < 8; i++) b->ptr[off + i] = (uint8_t)(v >> (8 * i));
  b->img.over[b->img.nover++] = (fz_override_t){off, v};
  return true;
}

static bool fz_run_check(fz_state_t *st) {
  if (!st->a->check) return true;
  va_report_t r = {0};
  if (st->a->check(st->heap, &r)) return fz_no_error(st);
  return fz_fail(st, fz_name(st, "check:", r.invariant), "at %p: %s", r.addr, r.detail);
}

static bool fz_op(fz_state_t *st, const va_op_t *op) {
  switch (op->kind) {
  case VA_OP_ALLOC: return fz_op_alloc(st, op);
  case VA_OP_FREE: return fz_free_slot(st, op->slot);
  case VA_OP_REALLOC: return fz_op_realloc(st, op);
  case VA_OP_CALLOC: return fz_op_calloc(st, op);
  case VA_OP_CHECK: return fz_run_check(st) && fz_verify_all(st);
  case VA_OP_MEMALIGN: return fz_op_memalign(st, op);
  case VA_OP_WRITE: return fz_op_write(st, op);
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Entry points.
 * ------------------------------------------------------------------------- */
va_exec_config_t va_exec_config_default(void) {
  return (va_exec_config_t){.check_every = 1,
                            .contents_every = 16,
                            .check_empty_at_end = true,
                            .max_request = (size_t)64 << 20,
                            .skip_above = 0,
                            .skip_until = 0};
}

/* Free everything, then the heap must be back at its empty state. */
static bool fz_teardown(fz_state_t *st) {
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (!fz_free_slot(st, s)) return false;
  if (!fz_run_check(st)) return false;
  if (!st->cfg->check_empty_at_end || !st->a->check_empty) return true;
  va_report_t r = {0};
  if (st->a->check_empty(st->heap, &r)) return true;
  return fz_fail(st, fz_name(st, "empty:", r.invariant), "at %p: %s", r.addr, r.detail);
}

/* After a failure: a reference allocator (no checker) cannot reclaim blocks
 * on destroy, so give back the ones the shadow still trusts. */
static void fz_abandon(fz_state_t *st) {
  if (st->a->check) return;
  bool pending_free = st->pending != NULL;
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (st->slot[s].ptr == st->pending) pending_free = false; /* same block twice */
  if (pending_free) st->a->free(st->heap, st->pending);
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (st->slot[s].ptr) {
      void *p = st->slot[s].ptr;
      fz_forget(st, s);
      st->a->free(st->heap, p);
    }
}

bool va_exec(const va_allocator_t *a, const va_options_t *opts,
             const va_op_t *ops, size_t n, const va_exec_config_t *cfg,
             va_failure_t *fail) {
  static fz_state_t zero;
  fz_state_t *st = malloc(sizeof *st); /* ~4 KiB: keep it off the fuzzer's stack */
  va_exec_config_t def = va_exec_config_default();
  va_failure_t scratch;
  if (!st) return true;
  *st = zero;
  st->a = a;
  st->cfg = cfg ? cfg : &def;
  st->fail = fail ? fail : &scratch;
  memset(st->fail, 0, sizeof *st->fail);
  st->opts = opts ? *opts : va_options_default();
  st->opts.on_error = fz_on_error;
  st->opts.error_ctx = st;
  st->heap = a->create(&st->opts);
  bool ok = true;
  if (!st->heap) {
    ok = fz_fail(st, "shadow.null", "create() failed (errno %d)", errno);
    free(st);
    return ok;
  }
  for (size_t i = 0; ok && i < n; i++) {
    st->op_index = i, st->op = ops[i], st->error_kind = 0, st->pending = NULL;
    va_op_normalize(&st->op);
    ok = fz_op(st, &st->op);
    if (ok && st->cfg->check_every && (i + 1) % st->cfg->check_every == 0) ok = fz_run_check(st);
    if (ok && st->cfg->contents_every && (i + 1) % st->cfg->contents_every == 0) ok = fz_verify_all(st);
  }
  if (ok) {
    st->op_index = n, st->op = (va_op_t){.kind = VA_OP_CHECK}, st->error_kind = 0;
    ok = fz_teardown(st);
  }
  if (!ok) fz_abandon(st);
  a->destroy(st->heap);
  free(st);
  return ok;
}

void va_failure_print(const va_failure_t *f, void *file) {
  FILE *out = file ? (FILE *)file : stderr;
  char buf[96];
  fprintf(out, "op #%zu (%s): %s: %s\n", f->op_index, va_op_format(&f->op, buf, sizeof buf),
          f->invariant ? f->invariant : "(none)", f->detail);
}
