/* vedalloc V2 — the thread additions: shared map, sl_free_fast, trim. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/slab/fast.h"
#include "alloc/slab/map.h"
#include "alloc/slab/slab.h"
#include "alloc/slab/test_util.h"
#include "alloc/slab/types.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &sl_allocator;
static sl_shared_map_t *t_map; /* the heaps of these tests free into one map */

static void *t_heap(sl_t_hook_t *hook, void *ctx) {
  va_options_t o = sl_t_options(hook);
  o.page_reserve = 2;
  o.large_cache = 8u << 20;
  void *h = A->create(&o);
  if (!h || !sl_heap_share(h, t_map, ctx)) abort();
  return h;
}

/* Every kind of block is found from outside with its heap's tag and size. */
static void test_owner_lookup(void) {
  sl_t_hook_t hook = {0};
  int tag1, tag2;
  void *h1 = t_heap(&hook, &tag1), *h2 = t_heap(&hook, &tag2);
  size_t sizes[] = {0, 1, 24, 100, 1000, 5000, 32768, 40000, 1 << 21};
  bool found = true, sized = true, interior = true;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    for (int k = 0; k < 2; k++) {
      void *h = k ? h2 : h1, *tag = k ? (void *)&tag2 : (void *)&tag1;
      char *p = A->malloc(h, sizes[i]);
      size_t u = 12345;
      if (sl_shared_owner(t_map, p, &u, NULL) != tag) found = false;
      if (u != A->usable_size(h, p) || u < sizes[i]) sized = false;
      if (A->usable_size(h, p) > 8 && (sl_shared_owner(t_map, p + 8, &u, NULL) != tag || u != 0))
        interior = false;
      A->free(h, p);
    }
  }
  VT_CHECK(found);
  VT_CHECK(sized);
  VT_CHECK(interior);
  static char not_heap[64];
  size_t u = 7;
  VT_CHECK(sl_shared_owner(t_map, not_heap, &u, NULL) == NULL);
  VT_CHECK(sl_shared_owner(t_map, (void *)~(uintptr_t)0, NULL, NULL) == NULL);
  VT_CHECK(sl_t_checks(h1) && sl_t_checks(h2));
  VT_CHECK(hook.calls == 0);
  A->destroy(h1);
  A->destroy(h2);
}

/* sl_free_fast frees only its own blocks and still reports misuse. */
static void test_free_local(void) {
  sl_t_hook_t hook = {0};
  int tag1, tag2;
  void *h1 = t_heap(&hook, &tag1), *h2 = t_heap(&hook, &tag2);
  char *a = A->malloc(h1, 64), *b = A->malloc(h2, 64), *big = A->malloc(h2, 100000);
  memset(b, 5, 64);
  VT_CHECK(!sl_free_fast((sl_heap_t *)h1, b) && b[0] == 5 && hook.calls == 0);
  VT_CHECK(!sl_free_fast((sl_heap_t *)h1, big) && hook.calls == 0);
  VT_CHECK(sl_free_fast((sl_heap_t *)h2, b) && sl_free_fast((sl_heap_t *)h2, big) && hook.calls == 0);
  VT_CHECK(sl_free_fast((sl_heap_t *)h1, a) && hook.calls == 0);
  VT_CHECK(sl_free_fast((sl_heap_t *)h1, a) && hook.calls == 1 && hook.kind == VA_ERR_DOUBLE_FREE);
  VT_CHECK(sl_free_fast((sl_heap_t *)h2, big) && hook.calls == 2 && hook.kind == VA_ERR_DOUBLE_FREE);
  VT_CHECK(sl_t_checks(h1) && sl_t_checks(h2));
  A->destroy(h1);
  A->destroy(h2);
}

/* Trim gives back every empty page and the large cache; the shared map
 * forgets them; sl_mapped_bytes follows. */
SL_T_META static void test_trim(void) {
  sl_t_hook_t hook = {0};
  int tag;
  void *h = t_heap(&hook, &tag);
  va_stats_t s0, s1, s2;
  A->stats(h, &s0);
  size_t mapped0 = sl_mapped_bytes();
  enum { N = 3000 };
  static void *ps[N];
  for (size_t i = 0; i < N; i++) ps[i] = A->malloc(h, (i * 37) % 3000 + 1);
  void *big = A->malloc(h, 1 << 20);
  size_t mapped1 = sl_mapped_bytes();
  VT_CHECK(mapped1 > mapped0);
  void *keep = ps[0];
  for (size_t i = 1; i < N; i++) A->free(h, ps[i]);
  A->free(h, big);
  A->stats(h, &s1);
  VT_CHECK(s1.pages > 1 && s1.footprint > s0.footprint + (1 << 20));
  VT_CHECK(sl_shared_owner(t_map, big, NULL, NULL) == &tag); /* cached: still mapped */
  sl_heap_trim(h);
  A->stats(h, &s2);
  VT_CHECK(sl_t_checks(h));
  VT_CHECK(s2.pages == 1 && s2.live_blocks == 1); /* only keep's page */
  VT_CHECK(s2.footprint < s1.footprint - (1 << 20));
  VT_CHECK(sl_shared_owner(t_map, big, NULL, NULL) == NULL);
  VT_CHECK(sl_mapped_bytes() < mapped1);
  VT_CHECK(sl_shared_owner(t_map, keep, NULL, NULL) == &tag);
  A->free(h, keep);
  sl_heap_trim(h);
  A->stats(h, &s2);
  VT_CHECK(s2.pages == 0); /* what is left is metadata: the heap, map leaves */
  VT_CHECK((s2.footprint - s0.footprint) % SL_OS_PAGE == 0);
  VT_CHECK(s2.footprint == ((sl_heap_t *)h)->meta_bytes);
  VT_CHECK(sl_shared_owner(t_map, keep, NULL, NULL) == NULL);
  va_report_t r;
  VT_CHECK(A->check_empty(h, &r));
  VT_CHECK(hook.calls == 0);
  /* Sharing is refused once the heap holds memory. */
  void *h2 = A->create(NULL), *p = A->malloc(h2, 10);
  errno = 0;
  VT_CHECK(!sl_heap_share(h2, t_map, &tag) && errno == EINVAL);
  VT_CHECK(sl_shared_owner(t_map, p, NULL, NULL) == NULL); /* unshared heaps stay private */
  A->destroy(h2);
  A->destroy(h);
}

/* The checker notices a shared-map entry that does not match. */
SL_T_META static void *t_page_of(void *h, void *p) {
  (void)h;
  void *page = NULL;
  sl_block_info(h, p, NULL, &page);
  return page;
}

SL_T_META static void test_check_shared(void) {
  sl_t_hook_t hook = {0};
  int tag;
  void *h = t_heap(&hook, &tag);
  char *p = A->malloc(h, 48);
  sl_page_t *pg = t_page_of(h, p);
  VT_CHECK(sl_t_checks(h));
  sl_shared_set(t_map, sl_page_base(pg), SL_CHUNK, NULL);
  va_report_t r;
  VT_CHECK(!A->check(h, &r) && r.invariant && strcmp(r.invariant, "sl.shared") == 0);
  sl_shared_set(t_map, sl_page_base(pg), SL_CHUNK, pg);
  VT_CHECK(sl_t_checks(h));
  A->free(h, p);
  A->destroy(h);
}

int main(void) {
  t_map = sl_shared_map_create();
  if (t_map == NULL) abort();
  test_owner_lookup();
  test_free_local();
  test_trim();
  test_check_shared();
  sl_shared_map_destroy(t_map);
  return va_check_summary();
}
