/* vedalloc drop-in — the backend as an instance, for the harnesses.
 *
 * vm_instance_allocator runs the drop-in's thread protocol (vm_heaps.c)
 * over a pool of its own, with a shared map of its own, so a fuzz input or
 * a property case creates, checks and destroys one without touching the
 * process's pool. Its threads are virtual (allocator.h): the executor
 * switches between them, and each has the heap slot the process would keep
 * in TLS. So one OS thread drives the real protocol deterministically:
 * remote frees, drains, abandonment at exit, adoption, borrowing.
 *
 * The argument rules are vm_api.c's (sizes, alignments), so the instance
 * answers every call as the library would.
 *
 * The checker adds to the pool's ("vm.*", vm_heaps.c):
 *   vm.slot        each thread's slot: sl == vh->sl, or both NULL
 *   vm.owner       a running virtual thread's heap is OWNED, and every
 *                  OWNED heap is some running thread's
 *   vm.heap_count  heaps created <= the peak number of threads running at
 *                  once (vedalloc.h's promise)
 */
#include <errno.h>
#include <string.h>

#include "alloc/malloc/vm_heaps.h"
#include "alloc/malloc/vm_instance.h"

#define VM_INSTANCE_BYTES VA_ALIGN_UP(sizeof(vm_instance_t), 4096)

/* The current thread's heap slot; a call starts the thread if it is not
 * running (it exited, and its id names a new thread now). */
static vm_slot_t *vm_self(vm_instance_t *x) {
  if (VA_UNLIKELY(!x->running[x->cur])) {
    x->running[x->cur] = true;
    if (++x->live > x->peak) x->peak = x->live;
  }
  return &x->slot[x->cur];
}

/* Everything of an instance comes from one source: the OS, or the
 * caller's region (a fuzz input's, reused input after input). */
static void *vm_i_create(const va_options_t *opts) {
  va_options_t o = opts ? *opts : sl_thread_heap_options();
  sl_source_t *src;
  if (!sl_source_from(&o, &src)) return NULL;
  o.source = VA_SOURCE_DEFAULT; /* the heaps take the source, not the region */
  vm_instance_t *x = sl_os_map(src, VM_INSTANCE_BYTES, 4096, NULL);
  if (x == NULL) return va_enomem();
  sl_shared_map_t *map = sl_shared_map_create_in(src);
  if (map == NULL) {
    sl_os_unmap(src, x, VM_INSTANCE_BYTES);
    return va_enomem();
  }
  vm_pool_init(&x->pool, &o, map, src);
  x->running[0] = true;
  x->live = x->peak = 1;
  return x;
}

static void vm_i_destroy(void *h) {
  vm_instance_t *x = h;
  if (x == NULL) return;
  sl_shared_map_t *map = x->pool.map;
  sl_source_t *src = x->pool.src;
  vm_pool_destroy(&x->pool);
  sl_shared_map_destroy(map);
  memset(x, 0, sizeof *x); /* back as zero: a region need not clear it again */
  sl_os_unmap_zero(src, x, VM_INSTANCE_BYTES);
}

static void *vm_i_malloc(void *h, size_t n) {
  if (VA_UNLIKELY(n > VA_MAX_REQUEST)) return va_enomem();
  return vm_malloc_in(&((vm_instance_t *)h)->pool, vm_self(h), n);
}

static void vm_i_free(void *h, void *p) {
  if (p != NULL) vm_free_in(&((vm_instance_t *)h)->pool, vm_self(h), p);
}

static void *vm_i_realloc(void *h, void *p, size_t n) {
  if (VA_UNLIKELY(n > VA_MAX_REQUEST)) return va_enomem();
  if (p == NULL) return vm_i_malloc(h, n);
  return vm_realloc_in(&((vm_instance_t *)h)->pool, vm_self(h), p, n);
}

static void *vm_i_calloc(void *h, size_t count, size_t size) {
  size_t total;
  if (!va_mul_ok(count, size, &total) || total > VA_MAX_REQUEST) return va_enomem();
  return vm_calloc_in(&((vm_instance_t *)h)->pool, vm_self(h), total);
}

static void *vm_i_memalign(void *h, size_t align, size_t n) {
  if (!VA_IS_POW2(align)) {
    errno = EINVAL;
    return NULL;
  }
  if (n > VA_MAX_REQUEST || align > VA_MAX_REQUEST - n) return va_enomem();
  return vm_memalign_in(&((vm_instance_t *)h)->pool, vm_self(h), align, n);
}

static size_t vm_i_usable_size(void *h, const void *p) {
  return p ? vm_usable_in(&((vm_instance_t *)h)->pool, vm_self(h), p) : 0;
}

static void vm_i_thread_switch(void *h, unsigned t) {
  vm_instance_t *x = h;
  x->cur = t % VA_MAX_THREADS;
  vm_self(x);
}

static void vm_i_thread_exit(void *h, unsigned t) {
  vm_instance_t *x = h;
  t %= VA_MAX_THREADS;
  if (!x->running[t]) return;
  vm_detach(&x->pool, &x->slot[t]);
  x->running[t] = false;
  x->live--;
}

/* Is vh the heap of some running thread? */
static bool vm_i_owned_by_thread(const vm_instance_t *x, const vm_heap_t *vh) {
  for (unsigned t = 0; t < VA_MAX_THREADS; t++)
    if (x->running[t] && x->slot[t].vh == vh) return true;
  return false;
}

/* The instance's own records against the pool: who owns which heap, and
 * no more heaps than threads ever ran at once. */
static bool vm_i_check_owners(vm_instance_t *x, va_report_t *r) {
  for (unsigned t = 0; t < VA_MAX_THREADS; t++)
    if (x->slot[t].sl != (x->slot[t].vh ? x->slot[t].vh->sl : NULL))
      return va_fail(r, "vm.slot", x->slot[t].vh, "thread %u's slot names V2 heap %p, not its heap's",
                     t, (void *)x->slot[t].sl);
  for (unsigned t = 0; t < VA_MAX_THREADS; t++)
    if (x->slot[t].vh && (!x->running[t] || atomic_load(&x->slot[t].vh->state) != VM_HEAP_OWNED))
      return va_fail(r, "vm.owner", x->slot[t].vh, "thread %u's heap is in state %d", t,
                     atomic_load(&x->slot[t].vh->state));
  for (vm_heap_t *vh = atomic_load(&x->pool.heaps); vh; vh = vh->next)
    if (atomic_load(&vh->state) == VM_HEAP_OWNED && !vm_i_owned_by_thread(x, vh))
      return va_fail(r, "vm.owner", vh, "owned heap held by no running thread");
  size_t heaps = vm_pool_heap_count(&x->pool);
  if (heaps > x->peak)
    return va_fail(r, "vm.heap_count", x, "%zu heaps, but at most %zu threads ran at once",
                   heaps, x->peak);
  return va_pass(r);
}

static bool vm_i_check(void *h, va_report_t *r) {
  vm_instance_t *x = h;
  return vm_pool_check(&x->pool, r) && vm_i_check_owners(x, r);
}

/* vm_pool_check_empty checks each heap once, sl_check included. */
static bool vm_i_check_empty(void *h, va_report_t *r) {
  vm_instance_t *x = h;
  return vm_pool_check_empty(&x->pool, r) && vm_i_check_owners(x, r);
}

static void vm_i_stats(void *h, va_stats_t *st) {
  vm_pool_stats(&((vm_instance_t *)h)->pool, st);
}

const va_allocator_t vm_instance_allocator = {
    .name = "dropin",
    .create = vm_i_create,
    .destroy = vm_i_destroy,
    .malloc = vm_i_malloc,
    .free = vm_i_free,
    .realloc = vm_i_realloc,
    .calloc = vm_i_calloc,
    .memalign = vm_i_memalign,
    .usable_size = vm_i_usable_size,
    .check = vm_i_check,
    .stats = vm_i_stats,
    .check_empty = vm_i_check_empty,
    .thread_switch = vm_i_thread_switch,
    .thread_exit = vm_i_thread_exit,
};
