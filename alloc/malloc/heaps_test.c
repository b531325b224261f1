/* vedalloc drop-in — the thread protocol (vm_heaps.c) on real threads,
 * over a pool of the test's own, at interleavings the test arranges.
 *
 * Regression: a thread that starts while another thread borrows the only
 * abandoned heap (draining a remote free into it) must adopt that heap,
 * not make one. Before the fix it made one, so vm_heap_count() exceeded
 * the peak number of live threads (seen as 10 heaps for 9 threads in about
 * a fifth of runs of 40 rounds of 8 threads realloc'ing blocks of exited
 * threads). The pool's test hook holds the borrower until the new thread
 * has either claimed the heap (the fix) or made a new one (the bug).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "alloc/malloc/vm_heaps.h"
#include "alloc/testing/check.h"

static vm_pool_t t_pool;
static atomic_bool t_go_c;       /* the borrower lets the new thread start */
static atomic_size_t t_heaps_at_borrow;

static double t_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Inside the borrow: start C, then wait until C claimed this heap or made
 * a new one (at most 5 s: a broken protocol must fail, not hang). */
static void t_borrowing(vm_pool_t *pool, vm_heap_t *vh) {
  atomic_store(&t_heaps_at_borrow, vm_pool_heap_count(pool));
  atomic_store(&t_go_c, true);
  double end = t_now() + 5;
  while (atomic_load(&vh->state) != VM_HEAP_CLAIMED &&
         vm_pool_heap_count(pool) == atomic_load(&t_heaps_at_borrow) && t_now() < end)
    sched_yield();
}

static void *t_thread_b(void *x) {
  vm_slot_t self = {0};
  void *mine = vm_malloc_in(&t_pool, &self, 48); /* B has a heap of its own */
  vm_free_in(&t_pool, &self, x);                 /* A's block: a remote free, a borrow */
  vm_free_in(&t_pool, &self, mine);
  vm_detach(&t_pool, &self);
  return NULL;
}

static void *t_thread_c(void *arg) {
  (void)arg;
  while (!atomic_load(&t_go_c)) sched_yield();
  vm_slot_t self = {0};
  void *p = vm_malloc_in(&t_pool, &self, 32); /* attaches while B borrows */
  vm_free_in(&t_pool, &self, p);
  vm_detach(&t_pool, &self);
  return NULL;
}

static void test_adopt_while_borrowed(void) {
  sl_shared_map_t *map = sl_shared_map_create();
  va_options_t o = sl_thread_heap_options();
  vm_pool_init(&t_pool, &o, map, NULL);
  t_pool.borrowing = t_borrowing;
  /* A: a heap with one live block, then A exits (its heap is abandoned).
   * B makes its heap while A's is still owned. */
  vm_slot_t a = {0}, main_self = {0};
  void *keep = vm_malloc_in(&t_pool, &main_self, 16); /* the main thread lives on */
  void *x = vm_malloc_in(&t_pool, &a, 100);
  memset(x, 7, 100);
  pthread_t b, c;
  /* B must own its heap before A exits, or it would adopt A's. */
  vm_slot_t b_probe = {0};
  vm_free_in(&t_pool, &b_probe, vm_malloc_in(&t_pool, &b_probe, 8));
  vm_detach(&t_pool, &b_probe); /* a third heap, abandoned: B adopts it */
  vm_detach(&t_pool, &a);       /* A exits: its heap is the other abandoned one */
  VT_CHECK(pthread_create(&c, NULL, t_thread_c, NULL) == 0);
  VT_CHECK(pthread_create(&b, NULL, t_thread_b, x) == 0);
  pthread_join(b, NULL);
  pthread_join(c, NULL);
  /* Threads live at once: main, B, C (A exited before B started). Heaps:
   * main's, A's, the probe's (adopted by B); C must have adopted A's. */
  size_t heaps = vm_pool_heap_count(&t_pool);
  printf("heaps %zu (at the borrow %zu); threads live at once: 3\n", heaps,
         atomic_load(&t_heaps_at_borrow));
  VT_CHECKF(heaps <= 3, "%zu heaps for at most 3 live threads", heaps);
  va_report_t r;
  VT_CHECKF(vm_pool_check(&t_pool, &r), "%s: %s", r.invariant, r.detail);
  vm_free_in(&t_pool, &main_self, keep);
  vm_detach(&t_pool, &main_self);
  VT_CHECKF(vm_pool_check_empty(&t_pool, &r), "%s: %s", r.invariant, r.detail);
  vm_pool_destroy(&t_pool);
  sl_shared_map_destroy(map);
}

int main(void) {
  test_adopt_while_borrowed();
  return va_check_summary();
}
