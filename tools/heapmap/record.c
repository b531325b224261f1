/* vedalloc heapmap — the op sequence, from a workload or a trace.
 *
 * A workload is a function over the allocator table (bench/workloads.c), so
 * it is recorded by running it once against a shim: each call goes to a
 * private V2 instance (the workload writes into its blocks; not the process
 * malloc, whose arena would stay grown and hide a `system` column's growth)
 * and is logged as a trace op on a slot id. A pointer's id is found in an open-addressing
 * table keyed by address (linear probing, backward-shift deletion); freed
 * ids are reused lowest first, through a min-heap, so ids stay dense.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/heapmap/heapmap.h"

/* A live pointer and its id. key == 0: empty slot. */
typedef struct hm_rec_slot {
  uintptr_t key;
  uint32_t id;
} hm_rec_slot_t;

/* The shim's instance. count <= mask / 2 (the table at most half full). */
typedef struct hm_rec {
  hm_buf_t ops;       /* bench_trace_op_t[] recorded */
  hm_buf_t table_mem; /* hm_rec_slot_t[mask + 1] */
  hm_buf_t free_ids;  /* uint32_t min-heap of dead ids below next_id */
  size_t mask;
  size_t count;       /* live pointers */
  uint32_t next_id;   /* ids ever handed out */
  const va_allocator_t *back; /* where the blocks come from */
  void *back_heap;
} hm_rec_t;

static size_t hm_rec_hash(uintptr_t k, size_t mask) {
  return (size_t)((k >> 4) * 0x9E3779B97F4A7C15ull >> 20) & mask;
}

static hm_rec_slot_t *hm_rec_table(hm_rec_t *r) { return (hm_rec_slot_t *)r->table_mem.p; }

static void hm_rec_put(hm_rec_t *r, uintptr_t k, uint32_t id);

static void hm_rec_grow(hm_rec_t *r) {
  hm_buf_t old = r->table_mem;
  size_t old_n = r->mask + 1;
  r->mask = old.p ? old_n * 2 - 1 : 4095;
  r->table_mem = (hm_buf_t){0};
  hm_buf_push(&r->table_mem, NULL, (r->mask + 1) * sizeof(hm_rec_slot_t));
  r->count = 0;
  for (size_t i = 0; old.p && i < old_n; i++) {
    hm_rec_slot_t *s = (hm_rec_slot_t *)old.p + i;
    if (s->key) hm_rec_put(r, s->key, s->id);
  }
  hm_buf_free(&old);
}

static void hm_rec_put(hm_rec_t *r, uintptr_t k, uint32_t id) {
  if ((r->count + 1) * 2 > r->mask) hm_rec_grow(r);
  hm_rec_slot_t *t = hm_rec_table(r);
  size_t i = hm_rec_hash(k, r->mask);
  while (t[i].key) i = (i + 1) & r->mask;
  t[i] = (hm_rec_slot_t){k, id};
  r->count++;
}

/* Removes k and returns its id. Backward shift keeps every probe chain
 * unbroken without tombstones. */
static uint32_t hm_rec_take(hm_rec_t *r, uintptr_t k) {
  hm_rec_slot_t *t = hm_rec_table(r);
  size_t i = hm_rec_hash(k, r->mask);
  while (t[i].key != k) {
    if (t[i].key == 0) hm_die("recording: free of a pointer the workload never got: %#lx",
                              (unsigned long)k);
    i = (i + 1) & r->mask;
  }
  uint32_t id = t[i].id;
  for (size_t j = (i + 1) & r->mask; t[j].key; j = (j + 1) & r->mask) {
    size_t home = hm_rec_hash(t[j].key, r->mask);
    /* t[j] may move into the hole at i if its home is not in (i, j]. */
    if (((j - home) & r->mask) >= ((j - i) & r->mask)) {
      t[i] = t[j];
      i = j;
    }
  }
  t[i].key = 0;
  r->count--;
  return id;
}

/* The dead-id min-heap. */
static void hm_rec_id_release(hm_rec_t *r, uint32_t id) {
  hm_buf_push(&r->free_ids, &id, sizeof id);
  uint32_t *h = (uint32_t *)r->free_ids.p;
  for (size_t i = r->free_ids.len / sizeof id - 1; i > 0 && h[(i - 1) / 2] > h[i]; i = (i - 1) / 2) {
    uint32_t t = h[i];
    h[i] = h[(i - 1) / 2];
    h[(i - 1) / 2] = t;
  }
}

static uint32_t hm_rec_id_take(hm_rec_t *r) {
  size_t n = r->free_ids.len / sizeof(uint32_t);
  if (n == 0) return r->next_id++;
  uint32_t *h = (uint32_t *)r->free_ids.p;
  uint32_t id = h[0];
  h[0] = h[--n];
  r->free_ids.len = n * sizeof(uint32_t);
  for (size_t i = 0;;) {
    size_t m = i, a = 2 * i + 1, b = a + 1;
    if (a < n && h[a] < h[m]) m = a;
    if (b < n && h[b] < h[m]) m = b;
    if (m == i) break;
    uint32_t t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
  return id;
}

static void hm_rec_log(hm_rec_t *r, uint32_t kind, uint32_t id, size_t size) {
  bench_trace_op_t op = {.kind = kind, .id = id, .size = size};
  hm_buf_push(&r->ops, &op, sizeof op);
}

/* ---------------------------------------------------------------------------
 * The shim: the allocator table a workload runs against while recorded.
 * ------------------------------------------------------------------------- */
static void *hm_rec_malloc(void *heap, size_t n) {
  hm_rec_t *r = heap;
  void *p = r->back->malloc(r->back_heap, n);
  if (!p) return NULL;
  uint32_t id = hm_rec_id_take(r);
  hm_rec_put(r, (uintptr_t)p, id);
  hm_rec_log(r, BENCH_TRACE_ALLOC, id, n);
  return p;
}

static void hm_rec_free(void *heap, void *p) {
  hm_rec_t *r = heap;
  if (!p) return;
  uint32_t id = hm_rec_take(r, (uintptr_t)p);
  hm_rec_log(r, BENCH_TRACE_FREE, id, 0);
  hm_rec_id_release(r, id);
  r->back->free(r->back_heap, p);
}

static void *hm_rec_realloc(void *heap, void *p, size_t n) {
  hm_rec_t *r = heap;
  if (!p) return hm_rec_malloc(heap, n);
  void *q = r->back->realloc(r->back_heap, p, n);
  if (!q) return NULL;
  uint32_t id = hm_rec_take(r, (uintptr_t)p);
  hm_rec_put(r, (uintptr_t)q, id);
  hm_rec_log(r, BENCH_TRACE_REALLOC, id, n);
  return q;
}

static void *hm_rec_calloc(void *heap, size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) return NULL;
  void *p = hm_rec_malloc(heap, n);
  if (p) memset(p, 0, n);
  return p;
}

static void *hm_rec_memalign(void *heap, size_t align, size_t n) {
  (void)align; /* recorded as a plain alloc: the replay cannot ask for alignment */
  return hm_rec_malloc(heap, n);
}

static size_t hm_rec_usable(void *heap, const void *p) {
  (void)heap;
  (void)p;
  return 0; /* only a metered run asks, and the recording is not metered */
}

static const va_allocator_t hm_rec_allocator = {
    .name = "heapmap-record",
    .malloc = hm_rec_malloc,
    .free = hm_rec_free,
    .realloc = hm_rec_realloc,
    .calloc = hm_rec_calloc,
    .memalign = hm_rec_memalign,
    .usable_size = hm_rec_usable,
};

/* ---------------------------------------------------------------------------
 * Entry points.
 * ------------------------------------------------------------------------- */
bool hm_record_workload(const bench_workload_t *w, hm_ops_t *out, char *err, size_t errlen) {
  if (w->threads > 1) {
    snprintf(err, errlen, "workload '%s' is multi-threaded; heapmap replays single-threaded ones",
             w->name);
    return false;
  }
  const va_entry_t *back = va_registry_find("v2-slab");
  va_options_t o = va_entry_options(back);
  hm_rec_t r = {.back = back->alloc, .back_heap = back->alloc->create(&o)};
  if (r.back_heap == NULL) hm_die("recording: cannot create a v2-slab instance");
  bench_ctx_t c = {.a = &hm_rec_allocator, .heap = &r, .threads = 1};
  if (!bench_workload_setup(w, &c, NULL, err, errlen)) return false;
  w->run(&c);
  if (r.count != 0) hm_die("workload '%s' left %zu blocks live", w->name, r.count);
  *out = (hm_ops_t){.mem = r.ops, .nids = r.next_id};
  out->ops = (bench_trace_op_t *)out->mem.p;
  out->nops = out->mem.len / sizeof(bench_trace_op_t);
  snprintf(out->source, sizeof out->source, "workload %s (%s)", w->name, w->summary);
  hm_buf_free(&r.table_mem);
  hm_buf_free(&r.free_ids);
  r.back->destroy(r.back_heap);
  return true;
}

bool hm_record_trace(const char *path, hm_ops_t *out, char *err, size_t errlen) {
  bench_trace_t t;
  char why[200];
  if (!bench_trace_load(path, &t, why, sizeof why)) {
    snprintf(err, errlen, "trace %s: %s", path, why);
    return false;
  }
  *out = (hm_ops_t){.nids = t.nids};
  hm_buf_push(&out->mem, t.ops, t.nops * sizeof *t.ops);
  out->ops = (bench_trace_op_t *)out->mem.p;
  out->nops = t.nops;
  const char *base = strrchr(path, '/');
  snprintf(out->source, sizeof out->source, "trace %s", base ? base + 1 : path);
  bench_trace_free(&t);
  return true;
}

void hm_ops_limit(hm_ops_t *o, size_t max) {
  if (max && max < o->nops) o->nops = max;
}

void hm_ops_free(hm_ops_t *o) {
  hm_buf_free(&o->mem);
  o->ops = NULL;
  o->nops = 0;
}
