/* vedalloc drop-in — the backend instance (the registry's v2-dropin):
 * virtual threads drive the protocol as real ones would, and each of the
 * checker's "vm.*" invariants is named when broken on purpose. */
#include <string.h>

#include "alloc/malloc/vm_instance.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &vm_instance_allocator;

static bool t_names(void *h, const char *inv) {
  va_report_t r;
  bool ok = A->check(h, &r);
  if (ok || !r.invariant || strcmp(r.invariant, inv) != 0) {
    fprintf(stderr, "expected %s, got %s (%s)\n", inv, ok ? "clean" : r.invariant,
            ok ? "" : r.detail);
    return false;
  }
  return true;
}

static bool t_clean(void *h) {
  va_report_t r;
  bool ok = A->check(h, &r);
  if (!ok) fprintf(stderr, "unexpected %s: %s\n", r.invariant, r.detail);
  return ok;
}

/* Remote frees, exit with live blocks, adoption, borrowing: all clean. */
static void test_protocol(void) {
  va_options_t o = sl_thread_heap_options();
  vm_instance_t *x = A->create(&o);
  char *a = A->malloc(x, 40), *big = A->malloc(x, 200000);
  memset(a, 1, 40);
  A->thread_switch(x, 1);
  char *b = A->malloc(x, 40);
  A->free(x, a); /* remote: thread 0's block */
  VT_CHECK(sl_remote_pending(x->slot[0].sl) && t_clean(x));
  A->thread_switch(x, 0);
  char *c = A->malloc(x, 40); /* a fast path does not look: a stays pending */
  VT_CHECK(c != a && sl_remote_pending(x->slot[0].sl) && t_clean(x));
  char *e = A->malloc(x, 5000); /* a slow path takes it back */
  VT_CHECK(!sl_remote_pending(x->slot[0].sl));
  char *f = A->malloc(x, 40); /* and it is handed out again */
  VT_CHECK(f == a && t_clean(x));
  A->free(x, e);
  A->free(x, f);
  A->thread_exit(x, 0); /* abandoned with c and big live */
  VT_CHECK(x->slot[0].vh == NULL && x->slot[0].sl == NULL && t_clean(x));
  A->thread_switch(x, 1);
  A->free(x, c); /* into the abandoned heap: borrowed, drained */
  A->free(x, big);
  VT_CHECK(t_clean(x));
  A->thread_switch(x, 2);
  char *d = A->malloc(x, 64); /* thread 2 adopts the abandoned heap */
  VT_CHECK(vm_pool_heap_count(&x->pool) == 2 && t_clean(x));
  A->free(x, d);
  A->thread_switch(x, 1);
  A->free(x, b);
  for (unsigned t = 0; t < 3; t++) A->thread_exit(x, t);
  va_report_t r;
  VT_CHECK(A->check_empty(x, &r));
  A->destroy(x);
}

static void test_corruption(void) {
  va_options_t o = sl_thread_heap_options();
  vm_instance_t *x = A->create(&o);
  char *a = A->malloc(x, 40);
  A->thread_switch(x, 1);
  char *b = A->malloc(x, 40);
  VT_CHECK(t_clean(x));
  vm_heap_t *h0 = x->slot[0].vh, *h1 = x->slot[1].vh;
  x->slot[1].sl = h0->sl; /* the fast paths' copy out of step with the heap */
  VT_CHECK(t_names(x, "vm.slot"));
  x->slot[1].sl = h1->sl;
  atomic_store(&h0->state, 42);
  VT_CHECK(t_names(x, "vm.state"));
  atomic_store(&h0->state, VM_HEAP_ABANDONED); /* owned by a running thread */
  VT_CHECK(t_names(x, "vm.owner"));
  x->slot[0] = (vm_slot_t){0}; /* abandoned, with a remote free pending */
  va_error_kind_t bad;
  sl_remote_free(x->pool.map, a, &bad);
  VT_CHECK(bad == 0 && t_names(x, "vm.abandoned"));
  sl_remote_drain(h0->sl); /* drained but not trimmed: a's page stays, empty */
  VT_CHECK(t_names(x, "vm.trimmed"));
  sl_heap_trim(h0->sl);
  VT_CHECK(t_clean(x));
  atomic_store(&h0->state, VM_HEAP_OWNED); /* owned by nobody */
  VT_CHECK(t_names(x, "vm.owner"));
  atomic_store(&h0->state, VM_HEAP_ABANDONED);
  atomic_fetch_add(&x->pool.count, 1);
  VT_CHECK(t_names(x, "vm.count"));
  atomic_fetch_sub(&x->pool.count, 1);
  size_t peak = x->peak;
  x->peak = 1; /* two heaps, one thread ever alive */
  VT_CHECK(t_names(x, "vm.heap_count"));
  x->peak = peak;
  VT_CHECK(t_clean(x) && h1 == x->slot[1].vh);
  A->free(x, b);
  for (unsigned t = 0; t < 2; t++) A->thread_exit(x, t);
  va_report_t r;
  VT_CHECK(A->check_empty(x, &r));
  A->destroy(x);
}

int main(void) {
  test_protocol();
  test_corruption();
  return va_check_summary();
}
