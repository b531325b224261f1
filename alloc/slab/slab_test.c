/* vedalloc V2 — unit tests: classes, pages, large path, API edges, errors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "alloc/slab/class.h"
#include "alloc/slab/slab.h"
#include "alloc/slab/test_util.h"
#include "alloc/slab/types.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &sl_allocator;

static void *t_heap(sl_t_hook_t *hook, size_t reserve, size_t cache) {
  va_options_t o = sl_t_options(hook);
  o.page_reserve = reserve;
  o.large_cache = cache;
  void *h = A->create(&o);
  if (!h) abort();
  return h;
}

static bool t_empty(void *h) {
  va_report_t r;
  bool ok = A->check_empty(h, &r);
  if (!ok) fprintf(stderr, "check_empty: %s: %s\n", r.invariant, r.detail);
  return ok;
}

static va_stats_t t_stats(void *h) {
  va_stats_t s;
  A->stats(h, &s);
  return s;
}

/* Heap metadata is poisoned: only SL_META code may read it. */
SL_T_META static size_t t_cache_bytes(void *h) {
  return ((sl_heap_t *)h)->cache_bytes;
}

/* ------------------------------------------------------------------------ */
static void test_size_classes(void) {
  size_t count = sl_class_count(), max = sl_max_small();
  VT_CHECK(count == SL_CLASS_COUNT && max == sl_class_size(count - 1));
  VT_CHECK(sl_class_size(0) == 8 && sl_class_size(count) == 0);
  bool smallest = true, monotonic = true, aligned = true, waste = true;
  for (size_t n = 0; n <= max; n++) {
    size_t c = sl_size_class(n), s = sl_class_size(c);
    if (s < n || (c > 0 && sl_class_size(c - 1) >= n)) smallest = false;
    if (n > 0 && c < sl_size_class(n - 1)) monotonic = false;
    if (n > 128 && (s - n) * (n > 1024 ? 8 : 4) > s) waste = false; /* <= 25%, 12.5% */
  }
  for (size_t c = 1; c < count; c++)
    if (sl_class_size(c) % 16 || sl_class_size(c) <= sl_class_size(c - 1))
      aligned = false;
  VT_CHECK(smallest);
  VT_CHECK(monotonic);
  VT_CHECK(aligned);
  VT_CHECK(waste);
}

/* The grid division (types.h, sl_page_slot): for every class, at its
 * largest grid, exactly the block starts are on the grid and give their
 * index, and an offset past the grid, wrapped by a pointer below it or
 * beyond 2^32 (where the 32-bit form of the division breaks) is not. */
static bool t_slot_is(const sl_page_t *pg, uintptr_t off, size_t bs) {
  size_t idx, grid = (size_t)sl_page_capacity(pg) * bs;
  bool want = off < grid && off % bs == 0;
  return sl_page_slot(pg, off, &idx) == want && (!want || (idx == off / bs &&
                                                           sl_page_quot(pg, off) == idx));
}

static void test_grid_division(void) {
  bool exact = true, outside = true;
  for (size_t c = 0; c < sl_class_count(); c++) {
    size_t bs = sl_class_size(c);
    sl_page_t pg = {.block_size = (uint32_t)bs, .div_magic = sl_div_magic(bs),
                    .capacity = (uint32_t)(sl_class_page_size(c) / bs)};
    size_t grid = (size_t)pg.capacity * bs;
    for (uintptr_t off = 0; off < grid + 2 * bs; off++) exact &= t_slot_is(&pg, off, bs);
    for (uintptr_t k = 1; k <= 2 * bs; k++) {
      outside &= t_slot_is(&pg, (uintptr_t)0 - k, bs);
      outside &= t_slot_is(&pg, ((uintptr_t)1 << 32) + (k - 1) * bs, bs);
      outside &= t_slot_is(&pg, ((uintptr_t)1 << 63) + k, bs);
    }
  }
  VT_CHECK(exact);
  VT_CHECK(outside);
}

static void test_alignment(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  bool ok = true;
  static void *ps[3000];
  for (size_t i = 0; i < 3000; i++) {
    size_t n = (i * 7919) % 40000;
    ps[i] = A->malloc(h, n);
    uintptr_t a = (uintptr_t)ps[i];
    if (!ps[i] || (n >= 16 && a % 16) || a % 8 || A->usable_size(h, ps[i]) < n)
      ok = false;
    if (ps[i]) memset(ps[i], 0xAB, n);
  }
  VT_CHECK(ok);
  VT_CHECK(sl_t_checks(h));
  for (size_t i = 0; i < 3000; i++) A->free(h, ps[i]);
  VT_CHECK(t_empty(h));
  VT_CHECK(hook.calls == 0);
  A->destroy(h);
}

/* More blocks than one page holds: a second page, then reuse of the first. */
SL_T_META static void test_page_refill_and_reuse(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 0);
  size_t n = 2 * (SL_SMALL_PAGE / 64) + 5;
  void **ps = calloc(n, sizeof *ps);
  bool distinct = true;
  for (size_t i = 0; i < n; i++) {
    ps[i] = A->malloc(h, 64);
    memset(ps[i], (int)i, 64);
    if (i && ps[i] == ps[i - 1]) distinct = false;
  }
  VT_CHECK(distinct);
  va_stats_t s = t_stats(h);
  VT_CHECK(s.pages == 3 && s.live_blocks == n && s.live_bytes == n * 64);
  VT_CHECK(sl_t_checks(h));
  /* Free one block from the first (full) page: the next malloc reuses it. */
  A->free(h, ps[0]);
  void *again = A->malloc(h, 64);
  VT_CHECK(sl_t_checks(h));
  A->free(h, again);
  for (size_t i = 1; i < n; i++) A->free(h, ps[i]);
  VT_CHECK(t_empty(h));
  s = t_stats(h); /* the reserve (2) and the idle pool (the third) */
  VT_CHECK(s.pages == 3 && ((sl_heap_t *)h)->idle_count == 1);
  VT_CHECK(s.live_blocks == 0);
  free(ps);
  A->destroy(h);
}

static void test_lifo_reuse(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 0);
  void *a = A->malloc(h, 40), *b = A->malloc(h, 40);
  A->free(h, a);
  VT_CHECK(A->malloc(h, 33) == a); /* same class: the block just freed */
  A->free(h, a);
  A->free(h, b);
  VT_CHECK(A->malloc(h, 48) == b);
  VT_CHECK(A->malloc(h, 48) == a);
  A->free(h, a);
  A->free(h, b);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

/* Empty pages beyond the reserve go to the idle pool, at most its budget
 * (page_reserve MiB); trim gives back everything. */
SL_T_META static void test_page_release(void) {
  for (size_t reserve = 0; reserve <= 2; reserve++) {
    sl_t_hook_t hook = {0};
    void *h = t_heap(&hook, reserve, 0);
    sl_heap_t *sh = h;
    sh->idle_decay = 0; /* the budget as a hard limit */
    size_t before = t_stats(h).footprint;
    size_t n = 5 * (SL_SMALL_PAGE / 128);
    void **ps = calloc(n, sizeof *ps);
    for (size_t i = 0; i < n; i++) ps[i] = A->malloc(h, 128);
    VT_CHECK(t_stats(h).pages >= 5);
    for (size_t i = 0; i < n; i++) A->free(h, ps[i]);
    va_stats_t s = t_stats(h);
    VT_CHECK(sh->idle_bytes <= reserve * SL_IDLE_PER_RESERVE);
    VT_CHECK(s.pages <= reserve + sh->idle_count);
    VT_CHECK(s.footprint - before <=
             reserve * SL_SMALL_PAGE + sh->idle_bytes + SL_LEAF_BYTES);
    VT_CHECK(reserve == 0 || sh->idle_count > 0); /* 5 pages > reserve */
    VT_CHECK(t_empty(h));
    sl_heap_trim(h);
    VT_CHECK(t_stats(h).pages == 0 && sh->idle_count == 0);
    /* The ping-pong of one block keeps (reserve > 0) or drops the page. */
    void *p = A->malloc(h, 128);
    A->free(h, p);
    VT_CHECK(t_stats(h).pages == (reserve ? 1 : 0));
    VT_CHECK(t_empty(h));
    free(ps);
    A->destroy(h);
  }
}

/* A loop that fills and empties more pages than the reserve maps nothing
 * after its first round; the pool serves other classes of the same page
 * size; over the budget it is cut to half in one batch. */
SL_T_META static void test_idle_pool(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 0);
  sl_heap_t *sh = h;
  enum { N = 1000 };
  static void *ps[N];
  size_t mapped = 0;
  for (int round = 0; round < 4; round++) {
    for (size_t i = 0; i < N; i++) ps[i] = A->malloc(h, 1024);
    for (size_t i = N; i-- > 0;) A->free(h, ps[i]);
    if (round == 1) mapped = sl_mapped_bytes();
    if (round > 1) VT_CHECK(sl_mapped_bytes() == mapped);
  }
  VT_CHECK(sh->idle_count >= 10 && sl_t_checks(h));
  /* Another class of 64 KiB pages takes them (reformatted), maps nothing. */
  size_t pages = t_stats(h).pages, pooled = sh->idle_count;
  for (size_t i = 0; i < N; i++) ps[i] = A->malloc(h, 200);
  VT_CHECK(t_stats(h).pages == pages && sh->idle_count < pooled);
  VT_CHECK(sl_t_checks(h));
  for (size_t i = 0; i < N; i++) A->free(h, ps[i]);
  VT_CHECK(t_empty(h));
  A->destroy(h);
  /* Budget 1 MiB: 3 MiB of pages emptied leave at most 1 MiB pooled, and
   * every release took the pool to half its budget. */
  h = t_heap(&hook, 1, 0);
  sh = h;
  sh->idle_decay = 0;
  size_t m = 48 * (SL_SMALL_PAGE / 64);
  void **qs = calloc(m, sizeof *qs);
  for (size_t i = 0; i < m; i++) qs[i] = A->malloc(h, 64);
  for (size_t i = 0; i < m; i++) {
    A->free(h, qs[i]);
    VT_CHECK(sh->idle_bytes <= SL_IDLE_PER_RESERVE);
  }
  VT_CHECK(sh->idle_bytes >= SL_IDLE_PER_RESERVE / 2 - SL_SMALL_PAGE);
  VT_CHECK(t_empty(h) && hook.calls == 0);
  /* With a decay, young pages stay over the budget; once they are older
   * than the decay the next page event releases them. (Decays here are
   * far from the loops' durations, so slow builds cannot flake.) */
  sh->idle_decay = 60ull * 1000000000u;
  sl_heap_trim(h);
  for (size_t i = 0; i < m; i++) qs[i] = A->malloc(h, 64);
  for (size_t i = 0; i < m; i++) A->free(h, qs[i]);
  VT_CHECK(sh->idle_bytes > SL_IDLE_PER_RESERVE && t_empty(h));
  sh->idle_decay = 1000000; /* 1 ms, and no pass has seen anything age */
  sh->idle_clock = 0;
  VT_CHECK(t_empty(h));
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  for (size_t i = 0; i < m / 8; i++) qs[i] = A->malloc(h, 64);
  for (size_t i = 0; i < m / 8; i++) A->free(h, qs[i]);
  VT_CHECK(sh->idle_bytes <= SL_IDLE_PER_RESERVE && t_empty(h));
  free(qs);
  A->destroy(h);
}

/* Metadata is counted by the pages written: a heap holding one small block
 * counts its page and a few 4 KiB pages of metadata, not the reserved map. */
SL_T_META static void test_small_footprint(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 0);
  VT_CHECK(t_stats(h).footprint <= 2 * SL_OS_PAGE); /* the heap struct */
  void *p = A->malloc(h, 32);
  va_stats_t s = t_stats(h);
  VT_CHECK(s.footprint <= SL_SMALL_PAGE + 4 * SL_OS_PAGE);
  VT_CHECK(s.footprint == SL_SMALL_PAGE + ((sl_heap_t *)h)->meta_bytes);
  A->free(h, p);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

SL_T_META static void test_large_and_cache(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  size_t base = t_stats(h).footprint;
  size_t n = sl_max_small() + 1;
  uint8_t *p = A->malloc(h, n);
  VT_CHECK(p && (uintptr_t)p % 64 == 0 && A->usable_size(h, p) >= n);
  memset(p, 0x5A, A->usable_size(h, p));
  va_stats_t s = t_stats(h);
  VT_CHECK(s.large_mappings == 1 && s.live_blocks == 1);
  size_t info_class = 0;
  VT_CHECK(sl_block_info(h, p, &info_class, NULL) && info_class == SIZE_MAX);
  A->free(h, p);
  VT_CHECK(t_stats(h).large_mappings == 0);
  VT_CHECK(t_empty(h)); /* a cached mapping is fine */
  /* Reused from the cache, and calloc zeroes the reused memory. */
  uint8_t *q = A->calloc(h, 1, n);
  VT_CHECK(q == p);
  bool zero = true;
  for (size_t i = 0; i < n; i++) zero &= q[i] == 0;
  VT_CHECK(zero);
  A->free(h, q);
  /* Over the budget: unmapped on free, footprint back to the start. */
  void *big = A->malloc(h, 2u << 20);
  VT_CHECK(big != NULL);
  A->free(h, big);
  VT_CHECK(t_stats(h).footprint ==
           ((sl_heap_t *)h)->meta_bytes + 64 * 1024); /* one cached */
  /* Eviction keeps the cache within budget. */
  void *ls[20];
  for (int i = 0; i < 20; i++) ls[i] = A->malloc(h, 100000);
  for (int i = 0; i < 20; i++) A->free(h, ls[i]);
  VT_CHECK(t_cache_bytes(h) <= (1u << 20));
  VT_CHECK(sl_t_checks(h));
  VT_CHECK(hook.calls == 0);
  A->destroy(h);
  /* With no cache, footprint returns exactly. */
  h = t_heap(&hook, 2, 0);
  base = t_stats(h).footprint;
  p = A->malloc(h, 1 << 20);
  A->free(h, p);
  VT_CHECK(t_stats(h).footprint == ((sl_heap_t *)h)->meta_bytes);
  /* The mapping's 16 map entries may open a top slot's page and straddle two
   * leaf pages, depending on where the kernel put it: at most 3 new pages. */
  VT_CHECK(((sl_heap_t *)h)->meta_bytes <= base + 3 * SL_OS_PAGE);
  A->destroy(h);
}

static void test_realloc(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  uint8_t *p = A->malloc(h, 100);
  for (int i = 0; i < 100; i++) p[i] = (uint8_t)i;
  VT_CHECK(A->realloc(h, p, 112) == p); /* same class (112) */
  VT_CHECK(A->realloc(h, p, 97) == p);
  uint8_t *q = A->realloc(h, p, 1000); /* moves */
  bool kept = q && q != p;
  for (int i = 0; q && i < 100; i++) kept &= q[i] == (uint8_t)i;
  VT_CHECK(kept);
  /* small -> large -> grow -> shrink -> small */
  uint8_t *l = A->realloc(h, q, 200000);
  kept = l != NULL;
  for (int i = 0; l && i < 100; i++) kept &= l[i] == (uint8_t)i;
  VT_CHECK(kept);
  memset(l + 100, 0x77, 200000 - 100);
  uint8_t *l2 = A->realloc(h, l, 3000000);
  kept = l2 != NULL && l2[199999] == 0x77 && l2[5] == 5;
  VT_CHECK(kept);
  VT_CHECK(A->usable_size(h, l2) >= 3000000);
  uint8_t *l3 = A->realloc(h, l2, 100000); /* shrinks in place, trims */
  VT_CHECK(l3 == l2 && l3[99999] == 0x77 && A->usable_size(h, l3) >= 100000);
  VT_CHECK(sl_t_checks(h));
  uint8_t *s = A->realloc(h, l3, 50);
  kept = s != NULL && s != l3;
  for (int i = 0; s && i < 50; i++) kept &= s[i] == (uint8_t)i;
  VT_CHECK(kept);
  VT_CHECK(t_stats(h).large_mappings == 0);
  A->free(h, s);
  VT_CHECK(t_empty(h));
  VT_CHECK(hook.calls == 0);
  A->destroy(h);
}

SL_T_META static size_t t_cache_resident(void *h) {
  return ((sl_heap_t *)h)->cache_resident;
}

/* Resident pages of [p, p + n) (mincore). */
static size_t t_resident_pages(void *p, size_t n) {
  size_t pages = (n + 4095) / 4096, count = 0;
  unsigned char *v = calloc(pages, 1);
  if (v == NULL || mincore(p, n, v) != 0) abort();
  for (size_t i = 0; i < pages; i++) count += v[i] & 1;
  free(v);
  return count;
}

/* large_resident_ratio n: the cache keeps resident twice the largest
 * mapping cached lately (or 1/n of the rest of the footprint, here less);
 * past that the oldest entries shed their pages (no decay here: at once).
 * With no ratio the same frees keep everything resident. */
static size_t t_share_resident(size_t ratio) {
  sl_t_hook_t hook = {0};
  va_options_t o = sl_t_options(&hook);
  o.page_decay_ns = 0;
  o.large_resident_ratio = ratio;
  void *h = A->create(&o);
  enum { N = 5, SIZE = 2 << 20 }; /* mappings of their own, beyond any segment */
  uint8_t *p[N];
  for (int i = 0; i < N; i++) memset(p[i] = A->malloc(h, SIZE), 0x5a, SIZE);
  for (int i = 0; i < 3; i++) A->free(h, p[i]);
  size_t resident = t_cache_resident(h), mapped = VA_ALIGN_UP(SIZE + SL_LARGE_HDR, SL_CHUNK);
  /* The newest keeps all of its pages, whatever the ratio. */
  size_t touched = SIZE + SL_LARGE_HDR; /* header and payload, written */
  VT_CHECK(mapped > touched &&
           t_resident_pages(p[2] - SL_LARGE_HDR, touched) == (touched + 4095) / 4096 &&
           t_resident_pages(p[1] - SL_LARGE_HDR, touched) == (touched + 4095) / 4096);
  VT_CHECK(sl_t_checks(h));
  A->free(h, p[3]), A->free(h, p[4]);
  VT_CHECK(t_empty(h) && hook.calls == 0);
  A->destroy(h);
  return resident;
}

static void test_large_resident_share(void) {
  size_t mapped = VA_ALIGN_UP((2u << 20) + SL_LARGE_HDR, SL_CHUNK);
  /* Two mappings fit the share; the oldest of three keeps its header page. */
  VT_CHECK(t_share_resident(8) == 2 * mapped + 4096);
  VT_CHECK(t_share_resident(0) == 3 * mapped);
}

/* large_resident: the cache keeps the ranges but at most that many bytes
 * of their pages; a reused range works (the kernel zero-fills). */
static void test_large_resident(void) {
  sl_t_hook_t hook = {0};
  va_options_t o = sl_t_options(&hook);
  o.large_cache = 8u << 20;
  o.large_resident = 64u << 10;
  void *h = A->create(&o);
  enum { N = 4, SIZE = 256 << 10 };
  uint8_t *p[N];
  for (int i = 0; i < N; i++) {
    p[i] = A->malloc(h, SIZE);
    memset(p[i], 0x5a, SIZE);
  }
  uint8_t *last = p[N - 1];
  for (int i = 0; i < N; i++) A->free(h, p[i]);
  VT_CHECK(t_cache_bytes(h) >= (size_t)N * SIZE);
  /* The newest keeps 64 KiB (less the older ones' header pages), the
   * older ones shed all but their header page. */
  VT_CHECK(t_cache_resident(h) == (64u << 10));
  VT_CHECK(t_resident_pages(p[0] - SL_LARGE_HDR, SIZE) == 1);
  VT_CHECK(t_resident_pages(last - SL_LARGE_HDR, SIZE) == 16 - (N - 1));
  VT_CHECK(sl_t_checks(h));
  uint8_t *q = A->malloc(h, SIZE); /* from the cache, the newest */
  VT_CHECK(q == last && t_cache_resident(h) == (N - 1) * 4096u);
  memset(q, 0x33, SIZE);
  VT_CHECK(q[SIZE - 1] == 0x33 && sl_t_checks(h));
  A->free(h, q);
  VT_CHECK(t_empty(h) && hook.calls == 0);
  A->destroy(h);
}

static void test_api_edges(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  void *z1 = A->malloc(h, 0), *z2 = A->malloc(h, 0);
  VT_CHECK(z1 && z2 && z1 != z2);
  A->free(h, z1);
  A->free(h, z2);
  errno = 0;
  VT_CHECK(A->malloc(h, SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->malloc(h, (size_t)PTRDIFF_MAX + 1) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->malloc(h, (size_t)PTRDIFF_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->calloc(h, SIZE_MAX, 2) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->calloc(h, 2, SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->calloc(h, (size_t)1 << 32, (size_t)1 << 32) == NULL &&
           errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->memalign(h, 64, SIZE_MAX) == NULL && errno == ENOMEM);
  /* calloc zeroes a reused block */
  uint8_t *p = A->malloc(h, 200);
  memset(p, 0xFF, 200);
  A->free(h, p);
  uint8_t *c = A->calloc(h, 10, 20);
  VT_CHECK(c == p);
  bool zero = true;
  for (int i = 0; i < 200; i++) zero &= c[i] == 0;
  VT_CHECK(zero);
  A->free(h, c);
  /* realloc(NULL, n) is malloc; realloc(p, 0) gives a minimum block */
  void *r = A->realloc(h, NULL, 24);
  VT_CHECK(r && A->usable_size(h, r) >= 24);
  void *r0 = A->realloc(h, r, 0);
  VT_CHECK(r0 != NULL && A->usable_size(h, r0) == sl_class_size(0));
  A->free(h, r0);
  A->free(h, NULL);
  /* a failed realloc leaves the block intact */
  uint8_t *k = A->malloc(h, 64);
  memset(k, 0x3C, 64);
  errno = 0;
  VT_CHECK(A->realloc(h, k, SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(A->realloc(h, k, (size_t)PTRDIFF_MAX) == NULL && errno == ENOMEM);
  VT_CHECK(k[0] == 0x3C && k[63] == 0x3C);
  VT_CHECK(sl_block_info(h, k, NULL, NULL));
  uint8_t *big = A->malloc(h, 100000);
  errno = 0;
  VT_CHECK(A->realloc(h, big, (size_t)PTRDIFF_MAX - 10) == NULL &&
           errno == ENOMEM);
  VT_CHECK(sl_block_info(h, big, NULL, NULL));
  A->free(h, big);
  A->free(h, k);
  VT_CHECK(t_empty(h));
  VT_CHECK(hook.calls == 0);
  A->destroy(h);
}

/* A 64 KiB-aligned region of our own, made to look like a live page. */
SL_T_META static void test_foreign_fake_page(void *h, sl_t_hook_t *hook) {
  uint8_t *real = A->malloc(h, 64);
  void *page = NULL;
  sl_block_info(h, real, NULL, &page);
  size_t sz = 2 * SL_CHUNK;
  uint8_t *raw = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t *fake = (uint8_t *)VA_ALIGN_UP((uintptr_t)raw, SL_CHUNK);
  size_t color_off = (size_t)((sl_page_t *)page)->color * 64;
  /* A perfect copy of the header, the rest 0xFF. Byte loops through
   * volatile: the header is poisoned and memcpy would be checked. */
  volatile uint8_t *dst = fake + color_off;
  const volatile uint8_t *src = page;
  for (size_t i = 0; i < 1024; i++)
    dst[i] = i < sizeof(sl_page_t) ? src[i] : 0xFF;
  size_t grid = (size_t)(((sl_page_t *)page)->blocks - sl_page_base((sl_page_t *)page));
  int before = hook->calls;
  A->free(h, fake + grid);
  VT_CHECK(hook->calls == before + 1 && hook->kind == VA_ERR_INVALID_FREE &&
           hook->ptr == fake + grid);
  munmap(raw, sz);
  A->free(h, real);
}

static void test_error_hook(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  int local = 0;
  /* foreign: the stack, the process heap, our own fake page */
  A->free(h, &local);
  VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_INVALID_FREE &&
           hook.ptr == &local && strcmp(hook.op, "free") == 0);
  void *sys = malloc(64);
  A->free(h, sys);
  VT_CHECK(hook.calls == 2 && hook.kind == VA_ERR_INVALID_FREE);
  free(sys);
  test_foreign_fake_page(h, &hook);
  /* interior pointer, pointer into the page header */
  uint8_t *p = A->malloc(h, 64);
  hook.calls = 0;
  A->free(h, p + 8);
  VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_NOT_A_BLOCK);
  void *page = NULL;
  sl_block_info(h, p, NULL, &page);
  A->free(h, page);
  VT_CHECK(hook.calls == 2 && hook.kind == VA_ERR_NOT_A_BLOCK);
  VT_CHECK(sl_block_info(h, p, NULL, NULL)); /* still live */
  /* double free: reported, and the block is not handed out twice */
  A->free(h, p);
  A->free(h, p);
  VT_CHECK(hook.calls == 3 && hook.kind == VA_ERR_DOUBLE_FREE && hook.ptr == p);
  void *a = A->malloc(h, 64), *b = A->malloc(h, 64);
  VT_CHECK(a != b);
  /* realloc and usable_size of bad pointers */
  hook.calls = 0;
  errno = 0;
  VT_CHECK(A->realloc(h, (uint8_t *)a + 8, 10) == NULL && errno == EINVAL &&
           hook.calls == 1 && strcmp(hook.op, "realloc") == 0);
  VT_CHECK(A->usable_size(h, (uint8_t *)a + 8) == 0 && hook.calls == 2);
  A->free(h, a);
  A->free(h, b);
  /* large: interior pointer, double free of a cached mapping */
  uint8_t *l = A->malloc(h, 100000);
  hook.calls = 0;
  A->free(h, l + 70000);
  VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_NOT_A_BLOCK);
  A->free(h, l);
  A->free(h, l);
  VT_CHECK(hook.calls == 2 && hook.kind == VA_ERR_DOUBLE_FREE);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

/* The original's spoof: user data equal to a large-block header (magic and
 * size) just before a small block changes nothing. */
static void test_magic_spoof(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  uint64_t *a = A->malloc(h, 64);
  void *b = A->malloc(h, 64);
  VT_CHECK((uint8_t *)b == (uint8_t *)a + 64 || (uint8_t *)a == (uint8_t *)b + 64);
  uint64_t *lo = (uint8_t *)a < (uint8_t *)b ? a : b;
  void *hi = lo == a ? b : (void *)a;
  for (int i = 0; i < 8; i++) lo[i] = i % 2 ? 4096 : 0xDEADBEEFCAFEBABEull;
  lo[6] = SL_KIND_LARGE; /* and our own large kind */
  A->free(h, hi);
  VT_CHECK(hook.calls == 0 && !sl_block_info(h, hi, NULL, NULL));
  VT_CHECK(A->malloc(h, 64) == hi); /* reused normally, not leaked */
  VT_CHECK(sl_t_checks(h));
  A->free(h, hi);
  A->free(h, lo);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

/* Word w of a large header, written outside ASan's view (it is metadata):
 * the smash a buggy program's overflow or underflow does. */
SL_T_META static uint64_t t_hdr_swap(uint8_t *hdr, size_t w, uint64_t v) {
  uint64_t old;
  memcpy(&old, hdr + w, 8);
  memcpy(hdr + w, &v, 8);
  return old;
}

/* A smashed large header is reported, never followed: each word free or
 * realloc trusts, overwritten, makes free(p) and realloc(p) report
 * VA_ERR_CORRUPTION near the header, naming a V2 check, with nothing
 * changed (put back, the block frees normally); the checker names it too.
 * The words not trusted before a free (resident, remote, the queue node's
 * next, cached_at) are used only while the block is cached or queued. */
static void test_large_header_smash(void) {
  size_t words[] = {0, 8, 16, 24, 32, 40, 72, 80, 96, 104, 112, 120};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
    sl_t_hook_t hook = {0};
    void *h = t_heap(&hook, 2, 1 << 20);
    void *before = A->malloc(h, 200000);
    uint8_t *p = A->malloc(h, 200000);
    void *after = A->malloc(h, 200000);
    uint8_t *hdr = p - SL_LARGE_HDR;
    uint64_t old = t_hdr_swap(hdr, words[i], 0x4141414141414141ull);
    VT_CHECK(!sl_t_checks(h));
    A->free(h, p);
    VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_CORRUPTION && hook.ptr == hdr &&
             strcmp(hook.op, "free") == 0 && strstr(hook.msg, "(V2 sl.large.") != NULL);
    VT_CHECK(A->realloc(h, p, 500000) == NULL);
    VT_CHECK(hook.calls == 2 && hook.kind == VA_ERR_CORRUPTION &&
             strcmp(hook.op, "realloc") == 0);
    if (hook.calls != 2) fprintf(stderr, "  word %zu: %s\n", words[i], hook.msg);
    /* A realloc the block takes as it is writes and follows nothing: it
     * checks the header's own words, and leaves the list links and the
     * heap (24, 32, 40) to the next op that follows them, as above. */
    bool own = words[i] != 24 && words[i] != 32 && words[i] != 40;
    void *r = A->realloc(h, p, 200001);
    VT_CHECK(own ? r == NULL && hook.calls == 3 && hook.kind == VA_ERR_CORRUPTION
                 : r == p && hook.calls == 2);
    t_hdr_swap(hdr, words[i], old);
    VT_CHECK(sl_t_checks(h));
    A->free(h, p), A->free(h, before), A->free(h, after);
    VT_CHECK(hook.calls == 2u + own && t_empty(h));
    A->destroy(h);
  }
}

/* An overflow out of a small block into its free neighbour's link: malloc
 * reports it once the link is to be followed (from "malloc", naming
 * sl.freelist), never follows it, and hands out only blocks of the page. */
static void test_freelist_smash(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  uint8_t *a = A->malloc(h, 64), *b = A->malloc(h, 64), *c = A->malloc(h, 64);
  VT_CHECK(b == a + 64);
  A->free(h, b); /* b heads the free list; its link is its first word */
  t_hdr_swap(b, 0, 0x4141414141414141ull); /* a's 8-byte overflow */
  uint8_t *x = A->malloc(h, 64); /* b and the rest dropped: a fresh block */
  VT_CHECK(x != NULL && x != a && x != b && x != c && hook.calls == 1 &&
           hook.kind == VA_ERR_CORRUPTION && strcmp(hook.op, "malloc") == 0 && hook.ptr == b &&
           strstr(hook.msg, "(V2 sl.freelist:") != NULL);
  uint8_t *y = A->malloc(h, 64);
  VT_CHECK(y != NULL && y != x && sl_block_info(h, y, NULL, NULL) && hook.calls == 1);
  A->free(h, a), A->free(h, c), A->free(h, x), A->free(h, y);
  VT_CHECK(hook.calls == 1);
  A->destroy(h);
}

/* A free block's first word is its encoded link (types.h, Page layout). */
SL_T_META static uint64_t t_link_to(void *h, void *p, const void *target) {
  void *pg = NULL;
  sl_block_info(h, p, NULL, &pg);
  return (uintptr_t)target ^ ((sl_page_t *)pg)->free_key ^ (uintptr_t)p;
}

/* A live block whose bytes decode to a link is still freed: the list walk
 * decides (sl_page_on_freelist). A double free that a write after free
 * hid (the block's link overwritten before the second free) is reported
 * when the block comes round again, and no block is handed out twice. */
static void test_free_links(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  uint8_t *a = A->malloc(h, 64), *b = A->malloc(h, 64);
  const void *links[] = {b, NULL, a}; /* its neighbour, the list's end, itself */
  for (size_t i = 0; i < 3; i++) {
    uint64_t w = t_link_to(h, a, links[i]);
    memcpy(a, &w, 8);
    A->free(h, a);
    VT_CHECK(hook.calls == 0 && !sl_block_info(h, a, NULL, NULL));
    VT_CHECK(A->malloc(h, 64) == a); /* LIFO: it was freed, once */
  }
  A->free(h, a);
  t_hdr_swap(a, 0, 0x4242424242424242ull); /* written after free */
  A->free(h, a); /* looks live: not seen here */
  uint8_t *x = A->malloc(h, 64), *y = A->malloc(h, 64), *z = A->malloc(h, 64);
  VT_CHECK(x == a && y != a && z != a && y != z && y != b && z != b);
  VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_CORRUPTION && hook.ptr == a &&
           strstr(hook.msg, "(V2 sl.freelist:") != NULL);
  A->destroy(h);
}

SL_T_META static uint8_t *t_page_blocks(void *pg) { return ((sl_page_t *)pg)->blocks; }

/* An underflow out of a page's block 0 overwrites its guard: the page's
 * misuse verdicts become corruption (the links beside it may be damaged too,
 * so "double free" might be a wrong name), and the checker names it. */
static void test_page_guard_smash(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  uint8_t *a = A->malloc(h, 700), *b = A->malloc(h, 700);
  void *page = NULL;
  VT_CHECK(sl_block_info(h, a, NULL, &page) && a == t_page_blocks(page));
  uint64_t old = t_hdr_swap(a - 8, 0, 0x4141414141414141ull);
  VT_CHECK(!sl_t_checks(h));
  A->free(h, b); /* a live block: freed as ever */
  VT_CHECK(hook.calls == 0);
  A->free(h, b);
  VT_CHECK(hook.calls == 1 && hook.kind == VA_ERR_CORRUPTION && hook.ptr == page &&
           strstr(hook.msg, "(V2 sl.page_guard:") != NULL);
  t_hdr_swap(a - 8, 0, old);
  A->free(h, b);
  VT_CHECK(hook.calls == 2 && hook.kind == VA_ERR_DOUBLE_FREE);
  A->free(h, a);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

static void test_memalign(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 2, 1 << 20);
  bool ok = true;
  for (size_t al = 1; al <= ((size_t)1 << 20); al <<= 1) {
    for (size_t n = 0; n < 70000; n = n * 3 + 1) {
      uint8_t *p = A->memalign(h, al, n);
      if (!p || (uintptr_t)p % al || A->usable_size(h, p) < n) {
        fprintf(stderr, "memalign(%zu, %zu) = %p\n", al, n, (void *)p);
        ok = false;
      }
      if (p) memset(p, 0x11, n);
      A->free(h, p);
    }
  }
  VT_CHECK(ok);
  errno = 0;
  VT_CHECK(A->memalign(h, 24, 10) == NULL && errno == EINVAL);
  VT_CHECK(hook.calls == 0);
  VT_CHECK(t_empty(h));
  A->destroy(h);
}

/* Random churn: the checker holds throughout, the O(1) witness stays small,
 * stats agree with what the test holds. */
static void test_churn(void) {
  sl_t_hook_t hook = {0};
  void *h = t_heap(&hook, 1, 1 << 20);
  enum { SLOTS = 500 };
  void *ps[SLOTS] = {0};
  size_t us[SLOTS] = {0};
  uint64_t x = 42;
  bool ok = true;
  for (int i = 0; i < 60000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    size_t k = (x >> 33) % SLOTS;
    size_t n = (x >> 17) % ((x >> 60) == 0 ? 100000 : 600);
    if (ps[k]) {
      if ((x >> 11) & 1) {
        A->free(h, ps[k]);
        ps[k] = NULL;
      } else {
        void *q = A->realloc(h, ps[k], n);
        if (q) ps[k] = q, us[k] = A->usable_size(h, q);
      }
    } else {
      ps[k] = (x >> 9) & 1 ? A->malloc(h, n) : A->calloc(h, 1, n);
      us[k] = A->usable_size(h, ps[k]);
    }
    if (i % 5000 == 0) ok &= sl_t_checks(h);
  }
  size_t live = 0, bytes = 0;
  for (int k = 0; k < SLOTS; k++)
    if (ps[k]) live++, bytes += us[k];
  va_stats_t s = t_stats(h);
  VT_CHECK(ok);
  VT_CHECK(sl_touch_peak(h) <= 3);
  VT_CHECK(s.live_blocks == live && s.live_bytes == bytes);
  VT_CHECK(s.peak_footprint >= s.footprint);
  for (int k = 0; k < SLOTS; k++) A->free(h, ps[k]);
  VT_CHECK(t_empty(h));
  VT_CHECK(hook.calls == 0);
  A->destroy(h);
}

static void test_create_options(void) {
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_SBRK;
  errno = 0;
  VT_CHECK(A->create(&o) == NULL && errno == EINVAL);
  void *h = A->create(NULL);
  VT_CHECK(h != NULL && strcmp(A->name, "slab") == 0);
  A->free(h, A->malloc(h, 10));
  A->destroy(h);
}

int main(void) {
  test_size_classes();
  test_grid_division();
  test_alignment();
  test_page_refill_and_reuse();
  test_lifo_reuse();
  test_page_release();
  test_idle_pool();
  test_small_footprint();
  test_large_and_cache();
  test_realloc();
  test_large_resident();
  test_large_resident_share();
  test_api_edges();
  test_error_hook();
  test_magic_spoof();
  test_large_header_smash();
  test_freelist_smash();
  test_free_links();
  test_page_guard_smash();
  test_memalign();
  test_churn();
  test_create_options();
  return va_check_summary();
}
