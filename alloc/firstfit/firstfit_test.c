/* vedalloc V1 — unit tests of the block list: split, coalescing, growth,
 * reuse, trimming, placement policies, realloc in place, memalign, stats,
 * the original's aliasing case, and a random workload under the checker.
 * Heaps use private MMAP sources so tests are independent. */
#include <stdlib.h>

#include "alloc/firstfit/testing.h"

#define FF_T_NOTRIM SIZE_MAX

/* The block right after live payload p. */
static ff_block_t *ff_t_next_of(void *p) { return ff_next(ff_block_of(p)); }

static void ff_test_split(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  char *p = ff_t_malloc(h, 100);
  VT_CHECK(p == (char *)ff_heap_base(h) + FF_HDR);
  VT_CHECK(ff_allocator.usable_size(h, p) == 112);
  ff_block_t *rest = ff_t_next_of(p);
  VT_CHECK((char *)rest == p + 112 && ff_is_free(rest));
  VT_CHECK(ff_block_count(h) == 2);
  /* A hole too small to split is handed out whole. */
  char *a = ff_t_malloc(h, 100), *b = ff_t_malloc(h, 100);
  (void)b;
  ff_t_free(h, a);
  char *c = ff_t_malloc(h, 96); /* needs 128 of 144: remainder 16 < 48 */
  VT_CHECK(c == a && ff_allocator.usable_size(h, c) == 112);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_coalesce(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  char *a = ff_t_malloc(h, 64), *b = ff_t_malloc(h, 64), *c = ff_t_malloc(h, 64);
  char *d = ff_t_malloc(h, 64), *e = ff_t_malloc(h, 64);
  size_t n0 = ff_block_count(h);
  ff_t_free(h, c);
  ff_t_free(h, b); /* forward: b takes c */
  VT_CHECK(ff_block_count(h) == n0 - 1);
  VT_CHECK(ff_is_free(ff_block_of(b)) && ff_psize(ff_block_of(b)) == 64 + 32 + 64);
  VT_CHECK(ff_magic(ff_block_of(c)) == FF_MAGIC_DEAD);
  ff_t_free(h, d); /* backward: b takes d */
  VT_CHECK(ff_block_count(h) == n0 - 2);
  VT_CHECK(ff_psize(ff_block_of(b)) == 3 * 64 + 2 * 32);
  FF_T_HEAP_OK(h);
  ff_t_free(h, e); /* both ways: b takes e and the free tail */
  VT_CHECK(ff_block_count(h) == 2);
  ff_t_free(h, a);
  VT_CHECK(ff_block_count(h) == 1);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

static void ff_test_growth_and_reuse(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  va_stats_t s0, s1;
  ff_stats(h, &s0);
  VT_CHECK(s0.footprint == FF_PAGE && s0.pages == 1);
  char *p = ff_t_malloc(h, 100000);
  VT_CHECK(p != NULL);
  memset(p, 0x11, 100000);
  ff_stats(h, &s1);
  VT_CHECK(s1.footprint > 100000 && s1.footprint % FF_PAGE == 0);
  VT_CHECK(ff_segment_count(h) == 1);
  ff_t_free(h, p);
  char *q = ff_t_malloc(h, 100000); /* reuse, no growth */
  va_stats_t s2;
  ff_stats(h, &s2);
  VT_CHECK(q == p && s2.footprint == s1.footprint);
  ff_t_free(h, q);
  char *x = ff_t_malloc(h, 200), *y;
  ff_t_free(h, x);
  y = ff_t_malloc(h, 150); /* a smaller request reuses the same place */
  VT_CHECK(y == x);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_trim(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, 8192, 0);
  va_stats_t s;
  ff_stats(h, &s);
  size_t f0 = s.footprint;
  char *a = ff_t_malloc(h, 100);
  memset(a, 0x22, 100);
  char *big = ff_t_malloc(h, 200000);
  ff_stats(h, &s);
  VT_CHECK(s.footprint > 200000 && s.peak_footprint == s.footprint);
  ff_t_free(h, big);
  ff_stats(h, &s);
  VT_CHECK(s.footprint == f0 && s.peak_footprint > 200000);
  VT_CHECK(a[0] == 0x22 && a[99] == 0x22);
  FF_T_HEAP_OK(h);
  /* Below the threshold nothing is given back. */
  char *mid = ff_t_malloc(h, 6000);
  ff_stats(h, &s);
  size_t f1 = s.footprint;
  ff_t_free(h, mid);
  ff_stats(h, &s);
  VT_CHECK(s.footprint == f1 && f1 > f0);
  ff_t_free(h, a);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
  /* Never trim with SIZE_MAX. */
  h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  ff_t_free(h, ff_t_malloc(h, 200000));
  ff_stats(h, &s);
  VT_CHECK(s.footprint > 200000);
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

/* Layout: A(256) s1 B(128) s2 C(64) s3 D(128) s4 [tail], with A..D free. */
typedef struct ff_t_layout {
  char *a, *b, *c, *d, *s[4];
} ff_t_layout_t;

static ff_heap_t *ff_t_layout(va_fit_t fit, ff_t_layout_t *l) {
  ff_heap_t *h = ff_t_heap(fit, FF_T_NOTRIM, 0);
  l->a = ff_t_malloc(h, 256), l->s[0] = ff_t_malloc(h, 16);
  l->b = ff_t_malloc(h, 128), l->s[1] = ff_t_malloc(h, 16);
  l->c = ff_t_malloc(h, 64), l->s[2] = ff_t_malloc(h, 16);
  l->d = ff_t_malloc(h, 128), l->s[3] = ff_t_malloc(h, 16);
  ff_t_free(h, l->a), ff_t_free(h, l->b), ff_t_free(h, l->c), ff_t_free(h, l->d);
  return h;
}

static void ff_test_fit_first(void) {
  ff_t_layout_t l;
  ff_heap_t *h = ff_t_layout(VA_FIT_FIRST, &l);
  VT_CHECK(ff_t_malloc(h, 64) == l.a);
  VT_CHECK(ff_t_malloc(h, 100) == l.a + 96); /* rest of A: 256 - 96 - 32 */
  VT_CHECK(ff_t_malloc(h, 128) == l.b);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_fit_best(void) {
  ff_t_layout_t l;
  ff_heap_t *h = ff_t_layout(VA_FIT_BEST, &l);
  VT_CHECK(ff_t_malloc(h, 64) == l.c);  /* exact */
  VT_CHECK(ff_t_malloc(h, 100) == l.b); /* B and D tie: lowest */
  VT_CHECK(ff_t_malloc(h, 100) == l.d);
  VT_CHECK(ff_t_malloc(h, 200) == l.a);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_fit_next(void) {
  ff_t_layout_t l;
  ff_heap_t *h = ff_t_layout(VA_FIT_NEXT, &l);
  /* The rover sits on the wilderness after s4: passed over, the search
   * wraps and A serves (plain next fit took the wilderness). */
  VT_CHECK(ff_t_malloc(h, 64) == l.a);
  h->rover = ff_block_of(l.b); /* hand-placed rover */
  VT_CHECK(ff_t_malloc(h, 64) == l.b);
  VT_CHECK(ff_t_malloc(h, 64) == l.c); /* B's rest (32) is too small */
  VT_CHECK(ff_t_malloc(h, 100) == l.d);
  h->rover = h->tail; /* nothing after it: wrap to the head */
  VT_CHECK(ff_t_malloc(h, 100) == l.a + 96); /* A's rest */
  /* No hole fits 200: the wilderness serves last, without growing. */
  va_stats_t s0, s1;
  ff_stats(h, &s0);
  char *w = ff_t_malloc(h, 200);
  ff_stats(h, &s1);
  VT_CHECK(w == l.s[3] + 48 && s1.footprint == s0.footprint);
  /* Its rest is now the rover: passed over again, the next hole is found. */
  ff_t_free(h, l.c);
  VT_CHECK(ff_t_malloc(h, 64) == l.c);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_realloc_in_place(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  char *a = ff_t_malloc(h, 64), *b = ff_t_malloc(h, 64), *c = ff_t_malloc(h, 64);
  memset(a, 0x33, 64);
  ff_t_free(h, b);
  char *a2 = ff_allocator.realloc(h, a, 100); /* into free neighbour b */
  VT_CHECK(a2 == a && a2[63] == 0x33 && ff_allocator.usable_size(h, a2) >= 100);
  FF_T_HEAP_OK(h);
  char *a3 = ff_allocator.realloc(h, a2, 20); /* shrink: rest freed */
  VT_CHECK(a3 == a && a3[19] == 0x33 && ff_allocator.usable_size(h, a3) == 32);
  VT_CHECK(ff_is_free(ff_t_next_of(a3)));
  FF_T_HEAP_OK(h);
  /* The last block grows into the heap end, moving the break. */
  char *z = ff_t_malloc(h, 1000); /* fits no hole: the last block */
  VT_CHECK(ff_t_next_of(z) == ff_prev(h->tail));
  memset(z, 0x44, 64);
  char *z2 = ff_allocator.realloc(h, z, 300000);
  VT_CHECK(z2 == z && z2[63] == 0x44);
  memset(z2, 0x45, 300000);
  FF_T_HEAP_OK(h);
  /* Blocked on both sides: it moves, keeping the contents. */
  char *c2 = ff_allocator.realloc(h, c, 4000);
  VT_CHECK(c2 != c && c2 != NULL);
  ff_t_free(h, z2), ff_t_free(h, c2), ff_t_free(h, a3);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

/* The original's defect: alloc(4040) then alloc(8) returned the same pointer. */
static void ff_test_no_aliasing(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, FF_T_NOTRIM, 0);
  char *p = ff_t_malloc(h, 4040), *q = ff_t_malloc(h, 8);
  VT_CHECK(p && q && p != q && !ff_t_overlap(h, p, q));
  void *live[64];
  for (int i = 0; i < 64; i++) live[i] = ff_t_malloc(h, i % 2 ? 8 : 4040);
  int overlaps = 0;
  for (int i = 0; i < 64; i++)
    for (int j = i + 1; j < 64; j++) overlaps += ff_t_overlap(h, live[i], live[j]);
  VT_CHECK(overlaps == 0);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_memalign(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, 8192, 0);
  void *keep = ff_t_malloc(h, 24);
  for (size_t al = 1; al <= 65536; al *= 2) {
    char *p = ff_allocator.memalign(h, al, 100);
    VT_CHECK(p && (uintptr_t)p % (al < 16 ? 16 : al) == 0);
    VT_CHECK(ff_allocator.usable_size(h, p) >= 100);
    memset(p, 0x55, 100);
    FF_T_HEAP_OK(h);
    char *p2 = ff_allocator.realloc(h, p, 300);
    VT_CHECK(p2 && p2[99] == 0x55);
    ff_t_free(h, p2);
  }
  errno = 0;
  VT_CHECK(ff_allocator.memalign(h, 48, 10) == NULL && errno == EINVAL);
  errno = 0;
  VT_CHECK(ff_allocator.memalign(h, 64, SIZE_MAX) == NULL && errno == ENOMEM);
  ff_t_free(h, keep);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

static void ff_t_count_cb(void *ctx, const va_region_t *r) {
  size_t *c = ctx;
  c[r->kind == VA_REGION_FREE] += r->size;
}

static void ff_test_stats_walk_frag(void) {
  ff_t_layout_t l;
  ff_heap_t *h = ff_t_layout(VA_FIT_FIRST, &l);
  va_stats_t s;
  ff_stats(h, &s);
  VT_CHECK(s.live_blocks == 4 && s.live_bytes == 4 * 16);
  VT_CHECK(s.free_blocks == 5);
  size_t tail = s.free_bytes - (256 + 128 + 64 + 128);
  VT_CHECK(s.largest_free == tail);
  size_t c[2] = {0, 0};
  ff_walk(h, ff_t_count_cb, c);
  VT_CHECK(c[0] == s.live_bytes && c[1] == s.free_bytes);
  double want = 100.0 * (1.0 - (double)tail / (double)s.free_bytes);
  double got = ff_fragmentation(h);
  VT_CHECK(got > want - 1e-9 && got < want + 1e-9);
  VT_CHECK(ff_min_payload() == 16 && ff_header_size() == 32);
  ff_allocator.destroy(h);
}

/* A random workload with contents checked, under the checker. */
static void ff_t_random(va_fit_t fit, unsigned seed) {
  enum { SLOTS = 128 };
  ff_heap_t *h = ff_t_heap(fit, 16384, 0);
  char *p[SLOTS] = {0};
  size_t n[SLOTS] = {0};
  int bad = 0, fails = 0;
  srand(seed);
  int ops = VA_EXPENSIVE ? 3000 : 40000;
  for (int i = 0; i < ops; i++) {
    int s = rand() % SLOTS, k = rand() % 4;
    size_t sz = (size_t)(rand() % 4 == 0 ? rand() % 20000 : rand() % 300);
    if (p[s]) {
      for (size_t j = 0; j < n[s]; j++) bad += p[s][j] != (char)(s + j);
      if (k == 0) {
        char *q = ff_allocator.realloc(h, p[s], sz);
        fails += q == NULL;
        for (size_t j = 0; j < (sz < n[s] ? sz : n[s]); j++) bad += q[j] != (char)(s + j);
        p[s] = q, n[s] = sz;
      } else {
        ff_t_free(h, p[s]);
        p[s] = NULL;
        continue;
      }
    } else {
      p[s] = k == 1 ? ff_allocator.memalign(h, 64, sz) : ff_t_malloc(h, sz);
      n[s] = sz;
      fails += p[s] == NULL;
    }
    for (size_t j = 0; j < n[s]; j++) p[s][j] = (char)(s + j);
    if (i % 256 == 0) {
      va_report_t r;
      bad += !ff_check(h, &r);
    }
  }
  VT_CHECK(bad == 0 && fails == 0);
  for (int s = 0; s < SLOTS; s++) ff_t_free(h, p[s]);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

static void ff_test_random(void) {
  ff_t_random(VA_FIT_FIRST, 1);
  ff_t_random(VA_FIT_NEXT, 2);
  ff_t_random(VA_FIT_BEST, 3);
}

/* The original's stress workload; prints V1's external fragmentation. */
static void ff_t_stress(va_fit_t fit, const char *name) {
  enum { SLOTS = 1000 };
  ff_heap_t *h = ff_t_heap(fit, FF_T_NOTRIM, 0);
  void *p[SLOTS] = {0};
  srand(42);
  int ops = VA_EXPENSIVE ? 5000 : 200000;
  for (int i = 0; i < ops; i++) {
    int idx = rand() % SLOTS;
    if (p[idx]) {
      ff_t_free(h, p[idx]);
      p[idx] = NULL;
    } else {
      p[idx] = ff_t_malloc(h, (size_t)(rand() % 256 + 1));
    }
  }
  va_stats_t s;
  ff_stats(h, &s);
  printf("stress %-5s ops=%d: fragmentation %.2f%%, footprint %zu B (%zu pages), "
         "live %zu B in %zu blocks\n",
         name, ops, ff_fragmentation(h), s.footprint, s.pages, s.live_bytes,
         s.live_blocks);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_stress_fragmentation(void) {
  ff_t_stress(VA_FIT_FIRST, "first");
  ff_t_stress(VA_FIT_NEXT, "next");
  ff_t_stress(VA_FIT_BEST, "best");
}

/* Under ASan: headers and free payloads poisoned, live payloads not. */
static void ff_test_asan_poison(void) {
#ifdef VA_ASAN
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 0);
  char *p = ff_t_malloc(h, 100), *q = ff_t_malloc(h, 100);
  VT_CHECK(!__asan_region_is_poisoned(p, ff_allocator.usable_size(h, p)));
  VT_CHECK(__asan_address_is_poisoned(p - 1) && __asan_address_is_poisoned(p - FF_HDR));
  VT_CHECK(__asan_address_is_poisoned(p + 112)); /* q's header */
  ff_t_free(h, p);
  VT_CHECK(__asan_address_is_poisoned(p) && __asan_address_is_poisoned(p + 99));
  char *r = ff_allocator.realloc(h, q, 20); /* the shrunk tail is poisoned */
  VT_CHECK(r == q && !__asan_address_is_poisoned(q + 31) && __asan_address_is_poisoned(q + 32));
  ff_t_free(h, r);
  ff_allocator.destroy(h);
#else
  VT_CHECK(1); /* nothing to see without ASan */
#endif
}

int main(void) {
  VT_RUN(ff_test_asan_poison);
  VT_RUN(ff_test_split);
  VT_RUN(ff_test_coalesce);
  VT_RUN(ff_test_growth_and_reuse);
  VT_RUN(ff_test_trim);
  VT_RUN(ff_test_fit_first);
  VT_RUN(ff_test_fit_best);
  VT_RUN(ff_test_fit_next);
  VT_RUN(ff_test_realloc_in_place);
  VT_RUN(ff_test_no_aliasing);
  VT_RUN(ff_test_memalign);
  VT_RUN(ff_test_stats_walk_frag);
  VT_RUN(ff_test_random);
  VT_RUN(ff_test_stress_fragmentation);
  return va_check_summary();
}
