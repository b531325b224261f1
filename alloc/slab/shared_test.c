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

/* Remote frees: marked, queued once per word, reported when wrong, taken
 * back by the holder's drain; the checker follows the words and the queue. */
SL_T_META static size_t t_queue_len(void *h) {
  size_t n = 0;
  for (sl_rnode_t *q = atomic_load(&((sl_heap_t *)h)->remote_queue); q; q = q->next) n++;
  return n;
}

static void test_remote_free(void) {
  sl_t_hook_t hook = {0};
  int tag1, tag2;
  void *h1 = t_heap(&hook, &tag1), *h2 = t_heap(&hook, &tag2);
  enum { N = 70 }; /* two remote words of 63 blocks */
  char *b[N];
  for (int i = 0; i < N; i++) b[i] = A->malloc(h1, 64);
  char *big = A->malloc(h1, 100000);
  va_error_kind_t bad = 99;
  VT_CHECK(!sl_remote_pending(h1));
  VT_CHECK(sl_remote_free(t_map, b[0], &bad) == &tag1 && bad == 0);
  VT_CHECK(sl_remote_pending(h1) && t_queue_len(h1) == 1 && sl_t_checks(h1));
  for (int i = 1; i < N; i++) sl_remote_free(t_map, b[i], &bad);
  VT_CHECK(t_queue_len(h1) == 2 && sl_t_checks(h1)); /* one node per word */
  VT_CHECK(sl_remote_free(t_map, b[3], &bad) == &tag1 && bad == VA_ERR_DOUBLE_FREE);
  VT_CHECK(sl_remote_free(t_map, b[3] + 8, &bad) == &tag1 && bad == VA_ERR_NOT_A_BLOCK);
  static char not_ours[64];
  VT_CHECK(sl_remote_free(t_map, not_ours, &bad) == NULL && bad == VA_ERR_INVALID_FREE);
  VT_CHECK(sl_remote_free(t_map, big, &bad) == &tag1 && bad == 0);
  VT_CHECK(sl_remote_free(t_map, big, &bad) == &tag1 && bad == VA_ERR_DOUBLE_FREE);
  size_t u = 1;
  VT_CHECK(sl_shared_owner(t_map, b[5], &u, &bad) == &tag1 && u == 0 &&
           bad == VA_ERR_DOUBLE_FREE); /* pending: not live any more */
  VT_CHECK(sl_block_info(h1, b[5], NULL, NULL)); /* ... but not yet taken back */
  VT_CHECK(hook.calls == 0 && sl_t_checks(h1) && sl_t_checks(h2));
  sl_remote_drain(h1);
  VT_CHECK(!sl_remote_pending(h1) && !sl_block_info(h1, b[5], NULL, NULL));
  VT_CHECK(!sl_block_info(h1, big, NULL, NULL) && hook.calls == 0);
  VT_CHECK(sl_remote_free(t_map, b[5], &bad) == &tag1 && bad == VA_ERR_DOUBLE_FREE);
  VT_CHECK(!sl_remote_pending(h1));
  va_report_t r;
  VT_CHECK(A->check_empty(h1, &r));
  A->destroy(h1);
  A->destroy(h2);
}

/* The checker names "sl.remote" for each way the words or the queue can
 * go wrong. */
SL_T_META static void test_check_remote(void) {
  sl_t_hook_t hook = {0};
  int tag;
  void *h = t_heap(&hook, &tag);
  char *p = A->malloc(h, 48), *q = A->malloc(h, 48);
  sl_page_t *pg = t_page_of(h, p);
  va_report_t r;
  /* a marked block not queued */
  pg->remote[0] |= 1;
  VT_CHECK(!A->check(h, &r) && strcmp(r.invariant, "sl.remote") == 0);
  pg->remote[0] = 0;
  /* queued, but the queue does not hold it */
  va_error_kind_t bad;
  sl_remote_free(t_map, q, &bad);
  sl_heap_t *sh = h;
  sl_rnode_t *n = atomic_load(&sh->remote_queue);
  atomic_store(&sh->remote_queue, NULL);
  VT_CHECK(!A->check(h, &r) && strcmp(r.invariant, "sl.remote") == 0);
  atomic_store(&sh->remote_queue, n);
  VT_CHECK(sl_t_checks(h));
  /* a marked block that is not live (the one after q: sliced, free) */
  uint32_t i = sl_page_index(pg, q) + 1;
  VT_CHECK(i < SL_RBITS &&
           sl_page_on_freelist(pg, sl_page_blocks(pg) + (size_t)i * sl_page_block_size(pg)));
  pg->remote[0] |= (uint64_t)1 << i;
  VT_CHECK(!A->check(h, &r) && strcmp(r.invariant, "sl.remote") == 0);
  pg->remote[0] &= ~((uint64_t)1 << i);
  /* a private heap's page with remote words */
  void *priv = A->create(NULL);
  char *x = A->malloc(priv, 48);
  sl_page_t *pp = t_page_of(priv, x);
  pp->remote = (uint64_t *)pp->blocks;
  VT_CHECK(!A->check(priv, &r) && strcmp(r.invariant, "sl.remote") == 0);
  pp->remote = NULL;
  VT_CHECK(sl_t_checks(priv));
  A->free(priv, x);
  A->destroy(priv);
  sl_remote_drain(h);
  A->free(h, p);
  VT_CHECK(sl_t_checks(h) && hook.calls == 0);
  A->destroy(h);
}

int main(void) {
  t_map = sl_shared_map_create();
  if (t_map == NULL) abort();
  test_owner_lookup();
  test_free_local();
  test_trim();
  test_check_shared();
  test_remote_free();
  test_check_remote();
  sl_shared_map_destroy(t_map);
  return va_check_summary();
}
