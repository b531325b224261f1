/* vedalloc heapmap — replay an op sequence on one registry entry, sampling.
 *
 * Basic algorithm:
 *   1. create a fresh instance (V1 on a private mapping: sbrk is shared
 *      with the process malloc, which a `system` column also draws);
 *   2. run the ops in order, keeping each slot's pointer and usable size;
 *   3. at the end of every bin, read the heap: the entry's walk (every
 *      region), or, with no walk, the live slots themselves; merge the
 *      regions into bands (hm_bands_normalize) and coarsen a bin that still
 *      has more than HM_BAND_CAP block bands; read stats for the footprint,
 *      free bytes and largest free block;
 *   4. free what the ops left live, destroy the instance.
 * Cost: the replay, plus one walk per bin (O(regions)).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/heapmap/heapmap.h"

/* One replayed slot. */
typedef struct hm_slot {
  void *p;
  size_t usable;
} hm_slot_t;

/* What a replay keeps between bins. live == sum of slots' usable. */
typedef struct hm_replay {
  const va_allocator_t *a;
  void *heap;
  hm_slot_t *slots;  /* nids entries, in mem */
  hm_buf_t mem;
  size_t live;       /* usable bytes live */
  size_t heap_base;  /* walk==NULL: the process heap's size before the replay */
  hm_buf_t scratch;  /* this bin's bands before they are merged */
  size_t last[HM_K_COUNT]; /* 1 + index in scratch of each kind's newest band */
} hm_replay_t;

/* The walk's view of one bin. */
typedef struct hm_walk_ctx {
  hm_replay_t *r;
  hm_cls_t *cls;        /* this bin's HM_MAX_CLS entries */
  hm_column_t *col;
  size_t walk_live;
} hm_walk_ctx_t;

static bool hm_kind_is_block(uint32_t k) {
  return k == HM_K_LIVE || k == HM_K_FREE || k == HM_K_CACHED;
}

/* ---------------------------------------------------------------------------
 * Bands.
 * ------------------------------------------------------------------------- */
static int hm_band_cmp(const void *x, const void *y) {
  const hm_band_t *a = x, *b = y;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int hm_band_cmp_lo(const void *x, const void *y) {
  const hm_band_t *a = x, *b = y;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

size_t hm_bands_normalize(hm_band_t *b, size_t n, uint64_t slack) {
  if (n == 0) return 0;
  qsort(b, n, sizeof *b, hm_band_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    hm_band_t *last = &b[out];
    if (b[i].kind == last->kind && b[i].lo <= last->hi + slack) {
      if (b[i].hi > last->hi) last->hi = b[i].hi;
    } else {
      b[++out] = b[i];
    }
  }
  return out + 1;
}

bool hm_bands_tile(const hm_band_t *b, size_t n, uint64_t slack) {
  hm_buf_t tmp = {0};
  for (size_t i = 0; i < n; i++)
    if (hm_kind_is_block(b[i].kind)) hm_buf_push(&tmp, &b[i], sizeof *b);
  hm_band_t *t = (hm_band_t *)tmp.p;
  size_t m = tmp.len / sizeof *b;
  if (m) qsort(t, m, sizeof *t, hm_band_cmp_lo);
  bool ok = true;
  for (size_t i = 0; i < m && ok; i++) {
    ok = t[i].lo < t[i].hi;
    if (ok && i > 0) ok = t[i].lo >= t[i - 1].hi && t[i].lo - t[i - 1].hi <= slack;
  }
  hm_buf_free(&tmp);
  return ok;
}

/* Merges block bands of b[0..n) (sorted by lo) closer than `grain` into one,
 * of the kind that covers most of it; returns the new count. */
static size_t hm_bands_coarsen(hm_band_t *b, size_t n, uint64_t grain) {
  size_t out = 0;
  uint64_t cover[HM_K_COUNT] = {0};
  cover[b[0].kind] = b[0].hi - b[0].lo;
  for (size_t i = 1; i <= n; i++) {
    if (i < n && b[i].lo <= b[out].hi + grain) {
      if (b[i].hi > b[out].hi) b[out].hi = b[i].hi;
      cover[b[i].kind] += b[i].hi - b[i].lo;
      continue;
    }
    uint32_t best = b[out].kind;
    for (uint32_t k = 0; k < HM_K_COUNT; k++)
      if (cover[k] > cover[best]) best = k;
    b[out].kind = best;
    if (i == n) break;
    memset(cover, 0, sizeof cover);
    b[++out] = b[i];
    cover[b[i].kind] = b[i].hi - b[i].lo;
  }
  return out + 1;
}

/* Keeps a bin's block bands within HM_BAND_CAP by merging at a grain that
 * doubles from 1/HM_BAND_CAP of their span: finer detail than that is
 * below one row of the map anyway. Blocks sort before containers (kind
 * order); the containers are kept as they are. */
static size_t hm_bands_cap(hm_band_t *b, size_t n) {
  size_t m = 0;
  while (m < n && hm_kind_is_block(b[m].kind)) m++;
  if (m <= HM_BAND_CAP) return n;
  size_t ncont = n - m;
  qsort(b, m, sizeof *b, hm_band_cmp_lo);
  uint64_t grain = (b[m - 1].hi - b[0].lo) / HM_BAND_CAP + 1;
  size_t k = m;
  while (k > HM_BAND_CAP) {
    k = hm_bands_coarsen(b, k, grain);
    grain *= 2;
  }
  qsort(b, k, sizeof *b, hm_band_cmp);
  memmove(b + k, b + m, ncont * sizeof *b);
  return k + ncont;
}

/* Walks report neighbours one after another (V1's list, a page's slots),
 * so a region that continues its kind's newest band extends it: a million
 * adjacent live blocks cost one band, not a sort of a million. */
static void hm_scratch_add(hm_replay_t *r, uint32_t kind, const void *addr, size_t size) {
  if (size == 0) return;
  uint64_t lo = (uintptr_t)addr;
  hm_band_t *b = (hm_band_t *)r->scratch.p;
  if (r->last[kind]) {
    hm_band_t *prev = &b[r->last[kind] - 1];
    if (lo >= prev->hi && lo <= prev->hi + HM_BAND_SLACK) {
      prev->hi = lo + size;
      return;
    }
  }
  hm_band_t band = {lo, lo + size, kind};
  hm_buf_push(&r->scratch, &band, sizeof band);
  r->last[kind] = r->scratch.len / sizeof band;
}

/* ---------------------------------------------------------------------------
 * Reading the heap.
 * ------------------------------------------------------------------------- */
static void hm_walk_region(void *ctx, const va_region_t *reg) {
  hm_walk_ctx_t *w = ctx;
  static const uint32_t kind_of[] = {
      [VA_REGION_LIVE] = HM_K_LIVE,     [VA_REGION_FREE] = HM_K_FREE,
      [VA_REGION_CACHED] = HM_K_CACHED, [VA_REGION_PAGE] = HM_K_PAGE,
      [VA_REGION_SEGMENT] = HM_K_SEGMENT,
  };
  if ((unsigned)reg->kind > VA_REGION_SEGMENT) return;
  hm_scratch_add(w->r, kind_of[reg->kind], reg->addr, reg->size);
  if (reg->kind == VA_REGION_LIVE) w->walk_live += reg->size;
  if (reg->cls < 0 || reg->cls >= HM_MAX_CLS) return;
  hm_cls_t *c = &w->cls[reg->cls];
  if (reg->kind == VA_REGION_PAGE) {
    c->pages++;
    w->col->has_pages = true;
    w->col->cls_block[reg->cls] = reg->block_size;
  } else if (reg->kind == VA_REGION_LIVE || reg->kind == VA_REGION_FREE) {
    c->slots++;
    c->live += reg->kind == VA_REGION_LIVE;
  }
}

/* With no walk (the process malloc), the live blocks are the slots. */
static void hm_read_slots(hm_replay_t *r, size_t nids) {
  for (size_t i = 0; i < nids; i++)
    if (r->slots[i].p) hm_scratch_add(r, HM_K_LIVE, r->slots[i].p, r->slots[i].usable);
}

/* Bytes the process heap holds from the OS (glibc's own count; 0 when the
 * malloc in use, e.g. a sanitizer's, does not keep one). */
static size_t hm_process_heap(void) {
  struct mallinfo2 m = mallinfo2();
  return m.arena + m.hblkhd;
}

static void hm_read_stats(hm_replay_t *r, hm_column_t *col, hm_bin_t *bin) {
  bin->ext_frag = -1;
  if (r->a->stats == NULL) {
    size_t now = hm_process_heap();
    bin->footprint = now > r->heap_base ? now - r->heap_base : 0;
    return;
  }
  va_stats_t st = {0};
  r->a->stats(r->heap, &st);
  bin->footprint = st.footprint;
  bin->free_bytes = st.free_bytes;
  bin->largest_free = st.largest_free;
  bin->ext_frag = va_stats_ext_frag(&st);
  if (st.peak_footprint > col->peak_footprint) col->peak_footprint = st.peak_footprint;
}

static void hm_sample_bin(hm_replay_t *r, hm_column_t *col, size_t b, size_t op_end,
                          size_t nids) {
  hm_bin_t *bin = &col->bins[b];
  hm_walk_ctx_t w = {.r = r, .cls = col->cls + b * HM_MAX_CLS, .col = col};
  r->scratch.len = 0;
  memset(r->last, 0, sizeof r->last);
  if (r->a->walk) r->a->walk(r->heap, hm_walk_region, &w);
  else hm_read_slots(r, nids);
  hm_band_t *sb = (hm_band_t *)r->scratch.p;
  size_t n = hm_bands_normalize(sb, r->scratch.len / sizeof *sb, HM_BAND_SLACK);
  n = hm_bands_cap(sb, n);
  bin->op_end = op_end;
  bin->band_first = col->bands.len / sizeof(hm_band_t);
  bin->nbands = n;
  hm_buf_push(&col->bands, sb, n * sizeof *sb);
  bin->live_bytes = r->live;
  bin->walk_live = w.walk_live;
  hm_read_stats(r, col, bin);
}

/* ---------------------------------------------------------------------------
 * Replay.
 * ------------------------------------------------------------------------- */
static bool hm_replay_op(hm_replay_t *r, const bench_trace_op_t *op, size_t i, char *err,
                         size_t errlen) {
  hm_slot_t *s = &r->slots[op->id];
  size_t n = (size_t)op->size;
  if (op->kind == BENCH_TRACE_FREE) {
    r->a->free(r->heap, s->p);
    r->live -= s->usable;
    *s = (hm_slot_t){0};
    return true;
  }
  void *p = op->kind == BENCH_TRACE_ALLOC ? r->a->malloc(r->heap, n)
                                          : r->a->realloc(r->heap, s->p, n);
  if (p == NULL) {
    snprintf(err, errlen, "%s: %s(%zu) returned NULL at op %zu", r->a->name,
             op->kind == BENCH_TRACE_ALLOC ? "malloc" : "realloc", n, i);
    return false;
  }
  r->live -= s->usable;
  s->p = p;
  s->usable = r->a->usable_size(r->heap, p);
  r->live += s->usable;
  return true;
}

static va_options_t hm_entry_options(const va_entry_t *e) {
  va_options_t o = va_entry_options(e);
  if (e->sources & VA_SRC(VA_SOURCE_MMAP)) o.source = VA_SOURCE_MMAP;
  return o;
}

static void hm_column_summary(hm_column_t *col) {
  double sum = 0;
  for (size_t b = 0; b < col->nbins; b++) {
    const hm_bin_t *bin = &col->bins[b];
    if (bin->footprint > col->peak_footprint && !col->has_stats)
      col->peak_footprint = bin->footprint;
    if (bin->live_bytes > col->peak_live) {
      col->peak_live = bin->live_bytes;
      col->frag_at_peak = bin->ext_frag;
    }
    sum += bin->ext_frag;
  }
  col->frag_mean = col->has_stats && col->nbins ? sum / (double)col->nbins : -1;
  if (!col->has_stats) col->frag_at_peak = -1;
}

static void hm_column_init(hm_column_t *col, const va_entry_t *e, size_t nbins) {
  *col = (hm_column_t){.entry = e, .nbins = nbins};
  col->bins = hm_buf_push(&col->bins_mem, NULL, nbins * sizeof(hm_bin_t));
  col->cls = hm_buf_push(&col->cls_mem, NULL, nbins * HM_MAX_CLS * sizeof(hm_cls_t));
  col->walked = e->alloc->walk != NULL;
  col->has_stats = e->alloc->stats != NULL;
}

static void hm_replay_end(hm_replay_t *r, size_t nids) {
  for (size_t i = 0; i < nids; i++)
    if (r->slots[i].p) r->a->free(r->heap, r->slots[i].p);
  r->a->destroy(r->heap);
  hm_buf_free(&r->mem);
  hm_buf_free(&r->scratch);
}

bool hm_sample(const va_entry_t *e, const hm_ops_t *ops, size_t nbins,
               hm_progress_fn progress, void *pctx, hm_column_t *col,
               char *err, size_t errlen) {
  if (nbins > ops->nops) nbins = ops->nops ? ops->nops : 1;
  hm_column_init(col, e, nbins);
  va_options_t o = hm_entry_options(e);
  hm_replay_t r = {.a = e->alloc};
  if (e->alloc->stats == NULL) malloc_trim(0);
  r.heap_base = hm_process_heap();
  r.heap = e->alloc->create(&o);
  if (r.heap == NULL) {
    snprintf(err, errlen, "%s: create failed", e->name);
    return false;
  }
  r.slots = hm_buf_push(&r.mem, NULL, (ops->nids + 1) * sizeof(hm_slot_t));
  size_t i = 0, tenth = ops->nops / 10 + 1;
  bool ok = true;
  for (size_t b = 0; b < nbins && ok; b++) {
    size_t end = ops->nops * (b + 1) / nbins;
    for (; i < end && ok; i++) {
      ok = hm_replay_op(&r, &ops->ops[i], i, err, errlen);
      if (progress && (i + 1) % tenth == 0) progress(pctx, e->name, i + 1, ops->nops);
    }
    if (ok) hm_sample_bin(&r, col, b, end, ops->nids);
  }
  hm_replay_end(&r, ops->nids);
  hm_column_summary(col);
  return ok;
}

void hm_column_free(hm_column_t *col) {
  hm_buf_free(&col->bands);
  hm_buf_free(&col->bins_mem);
  hm_buf_free(&col->cls_mem);
}
