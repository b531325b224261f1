/* vedalloc V2 — the large cache (large.c): a freed multi-MiB block's pages
 * serve the next request of another size without being faulted in again
 * (a larger cached mapping is cut, a smaller one moved with its pages),
 * and they go back once the decay has passed. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "alloc/slab/test_util.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &sl_allocator;

#define MIB (1u << 20)

static void *t_heap(uint64_t decay) {
  va_options_t o = va_options_default();
  o.page_decay_ns = decay;
  o.large_cache = 64 * MIB;
  return A->create(&o);
}

static void *t_touched(void *h, size_t n) {
  uint8_t *p = A->malloc(h, n);
  VT_CHECK(p != NULL);
  if (p) memset(p, 0x5a, n);
  return p;
}

/* A smaller request takes a larger cached mapping at the same address,
 * its pages still resident; the tail past what it needs stays cached as
 * an entry of its own, and serves the next request. */
static void test_larger_entry_is_cut(void) {
  void *h = t_heap(60ull * 1000000000u); /* nothing decays in the test */
  uint8_t *big = t_touched(h, 20 * MIB);
  A->free(h, big);
  uint8_t *p = A->malloc(h, 6 * MIB);
  VT_CHECK(p == big);
  VT_CHECK(sl_t_resident(p, 6 * MIB) >= 6 * MIB / 4096);
  VT_CHECK(p[6 * MIB - 1] == 0x5a); /* the same pages, not new ones */
  VT_CHECK(A->usable_size(h, p) < 7 * MIB);
  VT_CHECK(sl_t_checks(h));
  uint8_t *q = A->malloc(h, 13 * MIB); /* the tail, just past p's mapping */
  VT_CHECK(q > p && q < big + 20 * MIB && q[0] == 0x5a);
  VT_CHECK(sl_t_checks(h));
  A->free(h, q);
  A->free(h, p);
  A->destroy(h);
}

/* A larger request takes the largest smaller cached mapping, moved with
 * its pages; the new tail reads zero, calloc still clears the rest. */
static void test_smaller_entry_is_moved(void) {
  void *h = t_heap(60ull * 1000000000u);
  uint8_t *small = t_touched(h, 8 * MIB);
  A->free(h, small);
  uint8_t *p = A->malloc(h, 12 * MIB);
  VT_CHECK(p != NULL);
  if (p == NULL) return;
  VT_CHECK(sl_t_resident(p, 8 * MIB - 4096) >= 8 * MIB / 4096 - 2);
  VT_CHECK(p[8 * MIB - 4096] == 0x5a && p[12 * MIB - 1] == 0);
  VT_CHECK(A->usable_size(h, p) >= 12 * MIB);
  VT_CHECK(sl_t_checks(h));
  A->free(h, p);
  uint8_t *z = A->calloc(h, 1, 16 * MIB); /* from the moved one: cleared */
  VT_CHECK(z != NULL && z[0] == 0 && z[8 * MIB] == 0 && z[16 * MIB - 1] == 0);
  VT_CHECK(sl_t_checks(h));
  A->free(h, z);
  A->destroy(h);
}

/* With a 1 ms decay, a cached mapping keeps its pages for a reuse within
 * the decay, and sheds them at the first cache operation after it. */
static void test_decay_sheds_idle_pages(void) {
  void *h = t_heap(1000000);
  uint8_t *p = t_touched(h, 8 * MIB);
  A->free(h, p);
  VT_CHECK(sl_t_resident(p, 8 * MIB) > 8 * MIB / 4096 / 2);
  struct timespec ten_ms = {0, 10000000};
  nanosleep(&ten_ms, NULL);
  A->free(h, A->malloc(h, 200000)); /* a cache operation: the pass */
  VT_CHECK(sl_t_resident(p, 8 * MIB) <= 1);
  VT_CHECK(sl_t_checks(h));
  uint8_t *q = A->malloc(h, 8 * MIB); /* the range is still cached */
  VT_CHECK(q == p);
  A->free(h, q);
  A->destroy(h);
}

int main(void) {
  test_larger_entry_is_cut();
  test_smaller_entry_is_moved();
  test_decay_sheds_idle_pages();
  return va_check_summary();
}
