/* vedalloc drop-in — backend: one instance behind one mutex.
 *
 * Policy: the simplest correct thread-safe heap. Every call takes one
 * process-wide mutex around the instance's operation, so it serialises all
 * threads; it exists so V1 (whose sbrk source is process-wide anyway) can run
 * real programs and be measured, not to scale.
 *
 * Initialisation: the first call creates the instance under the mutex (the
 * instance's metadata lives in memory it maps or sbrks itself, so create
 * never calls malloc), then registers fork handlers outside the mutex (in
 * case pthread_atfork itself allocates, which then simply re-enters here).
 * Fork: prepare takes the mutex, so the child inherits a consistent heap and
 * an unlocked mutex.
 *
 * Complexity: the instance's, plus one uncontended lock/unlock (~20 ns).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc/internal.h"
#include "alloc/malloc/vm_backend.h"

/* Provided by the library's pick file (vm_pick_*.c). */
extern const va_allocator_t *const vm_locked_base;

static pthread_mutex_t vm_locked_mutex = PTHREAD_MUTEX_INITIALIZER;
const bool VM_BE_GUARDS_SAFE = false; /* V1 reads the word before any pointer */
static void *vm_locked_heap;                /* the instance; NULL until first use */
static atomic_bool vm_locked_fork_hooked;   /* pthread_atfork done */

static void vm_locked_prepare(void) { pthread_mutex_lock(&vm_locked_mutex); }
static void vm_locked_release(void) { pthread_mutex_unlock(&vm_locked_mutex); }

/* Slow path of the first call: create the instance. Caller holds the mutex. */
static va_error_fn vm_locked_hook; /* vm_be_set_error_hook: NULL, the default */
static void *vm_locked_hook_ctx;

void vm_be_set_error_hook(va_error_fn fn, void *ctx) {
  vm_locked_hook = fn, vm_locked_hook_ctx = ctx;
}

va_options_t vm_be_default_heap_options(void) { return va_options_default(); }

static bool vm_locked_create(void) {
  va_options_t opts = va_options_default();
  vm_options_apply(&opts);
  opts.on_error = vm_locked_hook, opts.error_ctx = vm_locked_hook_ctx;
  vm_locked_heap = vm_locked_base->create(&opts);
  return vm_locked_heap != NULL;
}

/* Fork handlers, registered once after the heap exists. */
static void vm_locked_hook_fork(void) {
  if (VA_LIKELY(atomic_load_explicit(&vm_locked_fork_hooked, memory_order_acquire)))
    return;
  if (!atomic_exchange(&vm_locked_fork_hooked, true))
    pthread_atfork(vm_locked_prepare, vm_locked_release, vm_locked_release);
}

/* Take the mutex with the instance ready; false (mutex released, errno set) if it cannot be. */
static bool vm_locked_enter(void) {
  pthread_mutex_lock(&vm_locked_mutex);
  if (VA_LIKELY(vm_locked_heap != NULL)) return true;
  if (vm_locked_create()) return true;
  pthread_mutex_unlock(&vm_locked_mutex);
  errno = ENOMEM;
  return false;
}

static void vm_locked_leave(void) {
  pthread_mutex_unlock(&vm_locked_mutex);
  vm_locked_hook_fork();
}

void *vm_be_malloc(size_t n) {
  if (!vm_locked_enter()) return NULL;
  void *p = vm_locked_base->malloc(vm_locked_heap, n);
  int err = errno; /* unlock must not disturb it */
  vm_locked_leave();
  errno = err;
  return p;
}

void vm_be_free(void *p) {
  if (!vm_locked_enter()) return;
  vm_locked_base->free(vm_locked_heap, p);
  vm_locked_leave();
}

void *vm_be_realloc(void *p, size_t n) {
  if (!vm_locked_enter()) return NULL;
  void *q = vm_locked_base->realloc(vm_locked_heap, p, n);
  int err = errno;
  vm_locked_leave();
  errno = err;
  return q;
}

void *vm_be_calloc(size_t n) {
  if (!vm_locked_enter()) return NULL;
  void *p = vm_locked_base->calloc(vm_locked_heap, 1, n);
  int err = errno;
  vm_locked_leave();
  errno = err;
  return p;
}

void *vm_be_memalign(size_t alignment, size_t n) {
  if (vm_locked_base->memalign == NULL) return va_enomem();
  if (!vm_locked_enter()) return NULL;
  void *p = vm_locked_base->memalign(vm_locked_heap, alignment, n);
  int err = errno;
  vm_locked_leave();
  errno = err;
  return p;
}

size_t vm_be_usable_size(const void *p) {
  if (!vm_locked_enter()) return 0;
  size_t n = vm_locked_base->usable_size(vm_locked_heap, p);
  vm_locked_leave();
  return n;
}

size_t vm_be_heap_count(void) {
  if (!vm_locked_enter()) return 0; /* creates the one instance if need be */
  vm_locked_leave();
  return 1;
}

size_t vm_be_mapped_bytes(void) {
  if (vm_locked_base->stats == NULL || !vm_locked_enter()) return 0;
  va_stats_t st;
  vm_locked_base->stats(vm_locked_heap, &st);
  vm_locked_leave();
  return st.footprint;
}

void vm_be_walk(va_walk_fn fn, void *ctx, size_t *unseen, size_t *unseen_bytes) {
  *unseen = *unseen_bytes = 0; /* one instance, walked under the mutex */
  if (vm_locked_base->walk == NULL || !vm_locked_enter()) return;
  vm_locked_base->walk(vm_locked_heap, fn, ctx);
  vm_locked_leave();
}

size_t vm_be_footprint(void) { return vm_be_mapped_bytes(); }

size_t vm_be_remote_frees(void) { return 0; }

/* V1 gives its free tail back at every free that leaves it above the trim
 * threshold; what is left below the break is in use or fragmented. */
size_t vm_be_trim(void) { return 0; }

bool vm_be_check(va_report_t *r) {
  if (!vm_locked_enter()) return va_pass(r); /* no instance: nothing to check */
  bool ok = vm_locked_base->check == NULL || vm_locked_base->check(vm_locked_heap, r);
  vm_locked_leave();
  return ok;
}
