/* vedalloc drop-in — the process backend of libvedalloc.so: one pool of
 * V2 heaps for the process (vm_heaps.c), a heap per thread in TLS.
 *
 * Everything this file adds to the protocol is what only a process has:
 * an initial-exec TLS slot per thread, the pthread key whose destructor
 * detaches the heap at thread exit, and the fork handlers.
 *
 * Initialisation cannot recurse: heaps and V2 metadata come from mmap; the
 * shared map is a static table (256 KiB of .bss, untouched but for the
 * slots of leaves in use); pthread_key_create and pthread_once do not
 * allocate; the TLS slot is set before pthread_setspecific and
 * pthread_atfork (which may allocate, and then simply use the new heap).
 *
 * Fork: prepare takes the pool's mutex; in the child the forking thread
 * keeps its heap, abandoned heaps stay adoptable, heaps held by threads
 * that do not exist in the child become LOST.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "alloc/malloc/vm_backend.h"
#include "alloc/malloc/vm_heaps.h"
#include "alloc/slab/types.h"

const char vm_be_name[] = "v2-slab/thread-heaps";
const bool VM_BE_GUARDS_SAFE = true; /* V2 reaches its metadata by its page map */

static sl_shared_map_t vm_map[1];
static vm_pool_t vm_pool = {.mutex = PTHREAD_MUTEX_INITIALIZER, .map = vm_map};
static __thread vm_slot_t vm_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t vm_key; /* its destructor detaches a heap */
static pthread_once_t vm_once = PTHREAD_ONCE_INIT;
static atomic_bool vm_fork_hooked;

/* Thread exit (pthread key destructor). Later frees by this thread go the
 * remote way; a later malloc attaches a heap again (and re-arms the key). */
static void vm_thread_exit(void *arg) {
  (void)arg;
  vm_detach(&vm_pool, &vm_tls);
}

static void vm_fork_prepare(void) { pthread_mutex_lock(&vm_pool.mutex); }
static void vm_fork_parent(void) { pthread_mutex_unlock(&vm_pool.mutex); }
static void vm_fork_child(void) { vm_pool_fork_child(&vm_pool, vm_tls.vh); }

/* A thread got a heap: arm its exit hook, and the fork handlers once. */
static void vm_attached(vm_pool_t *pool, vm_heap_t *vh) {
  (void)pool;
  pthread_setspecific(vm_key, vh);
  if (!atomic_load_explicit(&vm_fork_hooked, memory_order_acquire) &&
      !atomic_exchange(&vm_fork_hooked, true))
    pthread_atfork(vm_fork_prepare, vm_fork_parent, vm_fork_child);
}

/* The pool's heap options, set once before the first heap (under the
 * once, which every first malloc of a thread passes). */
static va_error_fn vm_hook;  /* vm_be_set_error_hook: NULL, the default */
static void *vm_hook_ctx;

static void vm_init(void) {
  pthread_key_create(&vm_key, vm_thread_exit);
  vm_pool.heap_opts = sl_thread_heap_options();
  vm_options_apply(&vm_pool.heap_opts);
  vm_pool.heap_opts.on_error = vm_pool.on_error = vm_hook;
  vm_pool.heap_opts.error_ctx = vm_pool.error_ctx = vm_hook_ctx;
  vm_pool.attached = vm_attached;
}

void vm_be_set_error_hook(va_error_fn fn, void *ctx) { vm_hook = fn, vm_hook_ctx = ctx; }

va_options_t vm_be_default_heap_options(void) { return sl_thread_heap_options(); }

/* ---------------------------------------------------------------------------
 * Entry points (vm_backend.h)
 * ------------------------------------------------------------------------- */
/* A thread with no heap yet is about to attach one: the pool is set up
 * first (once for the process). */
static inline void vm_ready(void) {
  if (VA_UNLIKELY(vm_tls.vh == NULL)) pthread_once(&vm_once, vm_init);
}

/* The first call of a thread: the once, then the pool's slow path. */
static __attribute__((noinline)) void *vm_be_malloc_first(size_t n) {
  vm_ready();
  return vm_malloc_slow(&vm_pool, &vm_tls, n);
}

VM_BE_HOT void *vm_be_malloc(size_t n) {
  if (VA_UNLIKELY(vm_tls.sl == NULL)) return vm_be_malloc_first(n);
  return vm_malloc_in(&vm_pool, &vm_tls, n);
}

VM_BE_HOT void vm_be_free(void *p) { vm_free_in(&vm_pool, &vm_tls, p); }

void *vm_be_calloc(size_t n) {
  vm_ready();
  return vm_calloc_in(&vm_pool, &vm_tls, n);
}

void *vm_be_memalign(size_t alignment, size_t n) {
  vm_ready();
  return vm_memalign_in(&vm_pool, &vm_tls, alignment, n);
}

static __attribute__((noinline)) void *vm_be_realloc_first(void *p, size_t n) {
  vm_ready();
  return vm_realloc_slow(&vm_pool, &vm_tls, p, n);
}

void *vm_be_realloc(void *p, size_t n) {
  if (VA_UNLIKELY(vm_tls.sl == NULL)) return vm_be_realloc_first(p, n);
  return vm_realloc_in(&vm_pool, &vm_tls, p, n);
}

size_t vm_be_usable_size(const void *p) { return vm_usable_in(&vm_pool, &vm_tls, p); }

size_t vm_be_heap_count(void) { return vm_pool_heap_count(&vm_pool); }

size_t vm_be_mapped_bytes(void) { return sl_mapped_bytes(); }

bool vm_be_check(va_report_t *r) { return vm_pool_check(&vm_pool, r); }

void vm_be_walk(va_walk_fn fn, void *ctx, size_t *unseen, size_t *unseen_bytes) {
  vm_ready();
  vm_pool_walk_regions(&vm_pool, vm_tls.vh, fn, ctx, unseen, unseen_bytes);
}

size_t vm_be_footprint(void) {
  size_t sum = 0; /* one word per heap, read as it is: no heap is walked */
  for (vm_heap_t *vh = atomic_load(&vm_pool.heaps); vh; vh = vh->next)
    sum += __atomic_load_n(&vh->sl->footprint, __ATOMIC_RELAXED);
  return sum;
}

size_t vm_be_remote_frees(void) {
  size_t sum = 0;
  for (vm_heap_t *vh = atomic_load(&vm_pool.heaps); vh; vh = vh->next)
    sum += __atomic_load_n(&vh->sl->remote_frees, __ATOMIC_RELAXED);
  return sum;
}

size_t vm_be_trim(void) {
  vm_ready();
  return vm_pool_trim(&vm_pool, vm_tls.vh);
}
