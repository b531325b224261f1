/* vedalloc — API edges, differential and determinism properties.
 *
 * api_edges: after a generated program has put the heap in some state, each
 * edge of the contract (alloc/allocator.h) holds with its return value and
 * errno: malloc(0), SIZE_MAX, above PTRDIFF_MAX, calloc overflow in both
 * argument orders, calloc with a zero factor, realloc(NULL, n), realloc(p, 0)
 * (a fresh minimum block; p released), a failed realloc (p intact),
 * free(NULL).
 *
 * differential: the same program on this allocator and on the process
 * malloc gives the same observables: NULL-or-not (and errno) for every size
 * at most PROP_DIFF_BOUND or above PTRDIFF_MAX (in between, success depends
 * on the machine), and the same bytes read back at every free and realloc.
 *
 * determinism: the same program on two fresh instances gives the same
 * addresses, made comparable by a canonical form:
 *   V1  on a REGION source: offset from the region base (exact layout);
 *   V2  (its pages come from mmap at addresses the kernel picks): (ordinal
 *       of the block's page in order of first appearance, offset in page).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/slab/slab.h"
#include "props/prop.h"

#define PROP_DIFF_BOUND ((size_t)1 << 24) /* 16 MiB: always possible here */

/* ---------------------------------------------------------------------------
 * API edges.
 * ------------------------------------------------------------------------- */
typedef struct prop_edge {
  prop_case_t *c;
  const va_allocator_t *a;
  void *heap;
  bool done; /* the edges ran */
} prop_edge_t;

static bool prop_edge_fails(prop_edge_t *x, void *p, int err, const char *what) {
  if (p) {
    x->a->free(x->heap, p);
    return prop_fail(x->c, x->c->n, "api.null", "%s returned %p, want NULL", what, p);
  }
  if (err != ENOMEM)
    return prop_fail(x->c, x->c->n, "api.errno", "%s: errno %d, want ENOMEM", what, err);
  return true;
}

/* The "impossible request" edges: NULL with ENOMEM. */
static bool prop_edges_impossible(prop_edge_t *x) {
  const va_allocator_t *a = x->a;
  uint64_t q = x->c->param[0];
  size_t above = (size_t)PTRDIFF_MAX + 1 + (size_t)(q % (1u << 20));
  unsigned k = 1 + (unsigned)(q >> 20) % 62; /* a = 2^k + d, b = 2^(64-k) + 1 */
  size_t ca = ((size_t)1 << k) + (size_t)(x->c->param[1] % 7);
  size_t cb = ((size_t)1 << (64 - k)) + 1;
  void *p;
  errno = 0;
  p = a->malloc(x->heap, SIZE_MAX);
  if (!prop_edge_fails(x, p, errno, "malloc(SIZE_MAX)")) return false;
  errno = 0;
  p = a->malloc(x->heap, above);
  if (!prop_edge_fails(x, p, errno, "malloc(> PTRDIFF_MAX)")) return false;
  errno = 0;
  p = a->calloc(x->heap, ca, cb);
  if (!prop_edge_fails(x, p, errno, "calloc(a, b) overflowing")) return false;
  errno = 0;
  p = a->calloc(x->heap, cb, ca);
  if (!prop_edge_fails(x, p, errno, "calloc(b, a) overflowing")) return false;
  errno = 0;
  p = a->realloc(x->heap, NULL, above);
  return prop_edge_fails(x, p, errno, "realloc(NULL, > PTRDIFF_MAX)");
}

/* A fresh valid block: non-NULL, usable >= n, writable. */
static bool prop_edge_block(prop_edge_t *x, void *p, size_t n, const char *what) {
  if (!p) return prop_fail(x->c, x->c->n, "api.null", "%s returned NULL", what);
  size_t u = x->a->usable_size(x->heap, p);
  if (u < n)
    return prop_fail(x->c, x->c->n, "api.usable", "%s: usable %zu < %zu", what, u, n);
  memset(p, 0xA5, u);
  return true;
}

static bool prop_edges_zero(prop_edge_t *x) {
  const va_allocator_t *a = x->a;
  void *p = a->malloc(x->heap, 0), *q = a->malloc(x->heap, 0);
  if (!prop_edge_block(x, p, 0, "malloc(0)") || !prop_edge_block(x, q, 0, "malloc(0)"))
    return false;
  PROP_REQUIRE(x->c, x->c->n, p != q, "api.unique", "two malloc(0) gave %p twice", p);
  a->free(x->heap, q);
  q = a->calloc(x->heap, 0, SIZE_MAX);
  if (!prop_edge_block(x, q, 0, "calloc(0, SIZE_MAX)")) return false;
  a->free(x->heap, q);
  q = a->calloc(x->heap, SIZE_MAX, 0);
  if (!prop_edge_block(x, q, 0, "calloc(SIZE_MAX, 0)")) return false;
  a->free(x->heap, q);
  /* realloc(p, 0): a fresh minimum block, never NULL on success. */
  q = a->realloc(x->heap, p, 0);
  if (!prop_edge_block(x, q, 0, "realloc(p, 0)")) return false;
  a->free(x->heap, q);
  a->free(x->heap, NULL); /* free(NULL): nothing */
  return true;
}

static bool prop_edges_realloc(prop_edge_t *x) {
  const va_allocator_t *a = x->a;
  size_t n = 1 + (size_t)(x->c->param[2] % 4096);
  void *p = a->realloc(x->heap, NULL, n);
  if (!prop_edge_block(x, p, n, "realloc(NULL, n)")) return false;
  memset(p, 0x3C, n);
  errno = 0;
  void *q = a->realloc(x->heap, p, SIZE_MAX - (size_t)(x->c->param[3] % 4096));
  int err = errno;
  if (q) {
    a->free(x->heap, q);
    return prop_fail(x->c, x->c->n, "api.null", "realloc(p, ~SIZE_MAX) succeeded");
  }
  PROP_REQUIRE(x->c, x->c->n, err == ENOMEM, "api.errno",
               "failed realloc: errno %d, want ENOMEM", err);
  for (size_t i = 0; i < n; i++)
    PROP_REQUIRE(x->c, x->c->n, ((unsigned char *)p)[i] == 0x3C, "api.realloc_failed",
                 "failed realloc changed byte %zu of %zu", i, n);
  a->free(x->heap, p);
  return true;
}

static bool prop_edges_checked(prop_edge_t *x) {
  va_report_t rep;
  if (x->a->check && !x->a->check(x->heap, &rep))
    return prop_fail(x->c, x->c->n, "api.check", "check after the edges: %s: %s",
                     rep.invariant ? rep.invariant : "?", rep.detail);
  return true;
}

/* The edges run on the heap the program left, before its teardown. */
static bool prop_edges_all(prop_edge_t *x) {
  return prop_edges_impossible(x) && prop_edges_zero(x) && prop_edges_realloc(x) &&
         prop_edges_checked(x);
}

static bool prop_edges_at_end(void *ctx, va_interp_t *in, const va_op_t *op) {
  prop_edge_t *x = ctx;
  (void)op;
  if (in->op_index + 1 != x->c->n) return true;
  x->heap = in->heap;
  x->done = true;
  return prop_edges_all(x);
}

static bool prop_edges_if_empty(void *ctx, va_interp_t *in) {
  prop_edge_t *x = ctx;
  x->heap = in->heap;
  return x->done || prop_edges_all(x); /* a program of no ops */
}

PROP(api_edges, prop_any,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC | PROP_K_THREADS,
             .max_ops = 24},
     .weight = 50) {
  prop_edge_t x = {.c = c, .a = c->alloc};
  va_observer_t obs = {.ctx = &x, .op_end = prop_edges_at_end, .end = prop_edges_if_empty};
  return prop_interp(c, &obs, 1);
}

/* ---------------------------------------------------------------------------
 * Differential against the process malloc.
 * ------------------------------------------------------------------------- */
typedef struct prop_obs {
  bool null;      /* the op's allocation failed */
  int err;        /* errno then */
  uint64_t hash;  /* bytes read back (free / realloc), else 0 */
  bool care;      /* NULL-ness must agree */
} prop_obs_t;

static uint64_t prop_hash_bytes(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* Write a pattern of (slot, op index) into a fresh block of n bytes. */
static void prop_fill(void *p, size_t n, size_t old, unsigned slot, size_t i) {
  unsigned char *b = p;
  for (size_t k = old; k < n && k < (1u << 16); k++)
    b[k] = (unsigned char)(slot * 31 + i * 7 + k);
}

/* One observable per op, from the calls the interpreter makes. */
static bool prop_obs_before(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_obs_t *o = &((prop_obs_t *)ctx)[in->op_index];
  bool gives_back = call->kind == VA_CALL_FREE || call->kind == VA_CALL_REALLOC;
  if (!call->bad && gives_back && call->old.ptr)
    o->hash = prop_hash_bytes(call->old.ptr, call->old.req < (1u << 16) ? call->old.req
                                                                        : (1u << 16));
  return true;
}

static bool prop_obs_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_obs_t *o = &((prop_obs_t *)ctx)[in->op_index];
  if (call->bad || call->kind == VA_CALL_FREE) return true;
  size_t req = call->req, t;
  if (call->kind == VA_CALL_MEMALIGN && __builtin_add_overflow(call->align, req, &t))
    req = SIZE_MAX;
  else if (call->kind == VA_CALL_MEMALIGN)
    req = t;
  o->null = call->result == NULL;
  o->err = call->result ? 0 : call->err;
  o->care = req <= PROP_DIFF_BOUND || req > (size_t)PTRDIFF_MAX;
  if (call->result && call->kind != VA_CALL_CALLOC) {
    size_t kept = call->kind == VA_CALL_REALLOC && call->old.ptr
                      ? (call->old.req < call->req ? call->old.req : call->req)
                      : 0;
    prop_fill(call->result, call->req, kept, call->slot, in->op_index);
  }
  return true;
}

/* Run the program on entry e, recording one observable per op. */
static bool prop_observe(const va_entry_t *e, const va_options_t *o, const va_op_t *ops,
                         size_t n, prop_obs_t *obs) {
  memset(obs, 0, n * sizeof *obs);
  va_interp_config_t ic = {.misuse = e->reports_misuse};
  va_observer_t w = {.ctx = obs, .before = prop_obs_before, .after = prop_obs_after};
  return va_interp_run(e->alloc, o, &ic, &w, 1, ops, n, NULL);
}

PROP(differential, prop_is_ours,
     .gen = {.kinds = PROP_K_ALL & ~PROP_K_WRITE, .huge = true, .max_size = 1 << 20},
     .weight = 50) {
  static prop_obs_t mine[PROP_MAX_OPS], ref[PROP_MAX_OPS];
  const va_entry_t *sys = va_registry_find("system");
  PROP_REQUIRE(c, 0, sys, "diff.setup", "no system entry in the registry");
  va_options_t so = va_entry_options(sys);
  PROP_REQUIRE(c, 0, prop_observe(c->entry, &c->opts, c->ops, c->n, mine),
               "diff.run", "the program failed on %s", c->entry->name);
  PROP_REQUIRE(c, 0, prop_observe(sys, &so, c->ops, c->n, ref),
               "diff.run", "the program failed on the system allocator");
  for (size_t i = 0; i < c->n; i++) {
    if (mine[i].care && ref[i].care)
      PROP_REQUIRE(c, i, mine[i].null == ref[i].null && mine[i].err == ref[i].err,
                   "diff.null", "%s: %s (errno %d), system: %s (errno %d)",
                   c->entry->name, mine[i].null ? "NULL" : "a block", mine[i].err,
                   ref[i].null ? "NULL" : "a block", ref[i].err);
    PROP_REQUIRE(c, i, mine[i].hash == ref[i].hash, "diff.contents",
                 "bytes read back differ from the system allocator's");
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Determinism.
 * ------------------------------------------------------------------------- */
#define PROP_REGION_SIZE ((size_t)32 << 20)
#define PROP_MAX_PAGES 1024

typedef struct prop_canon {
  void *pages[PROP_MAX_PAGES]; /* V2 pages in order of first appearance */
  size_t npages;
  uintptr_t base;              /* V1: region base */
} prop_canon_t;

/* Canonical form of an address: V1: offset; V2: ordinal << 32 | offset. */
static uint64_t prop_canonical(prop_canon_t *k, bool v2, void *heap, void *p) {
  if (!p) return UINT64_MAX;
  if (!v2) return (uint64_t)((uintptr_t)p - k->base);
  size_t cls;
  void *page = NULL;
  if (!sl_block_info(heap, p, &cls, &page)) return UINT64_MAX - 1;
  size_t i = 0;
  while (i < k->npages && k->pages[i] != page) i++;
  if (i == k->npages && k->npages < PROP_MAX_PAGES) k->pages[k->npages++] = page;
  return ((uint64_t)i << 32) | (uint64_t)((uintptr_t)p - (uintptr_t)page);
}

typedef struct prop_tracer {
  prop_canon_t *k;
  bool v2;
  uint64_t *out; /* canonical address of each op's allocating call */
} prop_tracer_t;

static bool prop_trace_after(void *ctx, va_interp_t *in, const va_call_t *call) {
  prop_tracer_t *t = ctx;
  if (call->kind != VA_CALL_FREE && !call->bad)
    t->out[in->op_index] = prop_canonical(t->k, t->v2, in->heap, call->result);
  return true;
}

static bool prop_trace(prop_case_t *c, bool v2, uint64_t *out) {
  va_options_t o = c->opts;
  prop_canon_t *k = calloc(1, sizeof *k);
  void *region = NULL;
  if (!v2) {
    region = aligned_alloc(4096, PROP_REGION_SIZE);
    o.source = VA_SOURCE_REGION;
    o.region = region;
    o.region_size = PROP_REGION_SIZE;
    k->base = (uintptr_t)region;
  }
  for (size_t i = 0; i < c->n; i++) out[i] = UINT64_MAX;
  prop_tracer_t t = {k, v2, out};
  va_observer_t w = {.ctx = &t, .after = prop_trace_after};
  va_interp_config_t ic = prop_interp_config(c);
  bool ok = k && (v2 || region) && va_interp_run(c->alloc, &o, &ic, &w, 1, c->ops, c->n, NULL);
  free(region);
  free(k);
  return ok;
}

static bool prop_v1_or_v2(const va_entry_t *e) { return prop_is_v1(e) || prop_is_v2(e); }

PROP(determinism, prop_v1_or_v2, .gen = {.max_size = 1 << 18}, .weight = 50) {
  static uint64_t a[PROP_MAX_OPS], b[PROP_MAX_OPS];
  bool v2 = prop_is_v2(c->entry);
  PROP_REQUIRE(c, 0, prop_trace(c, v2, a) && prop_trace(c, v2, b), "det.setup",
               "create failed");
  for (size_t i = 0; i < c->n; i++)
    PROP_REQUIRE(c, i, a[i] == b[i], "det.address",
                 "op #%zu: canonical address 0x%llx, then 0x%llx on a fresh heap", i,
                 (unsigned long long)a[i], (unsigned long long)b[i]);
  return true;
}
