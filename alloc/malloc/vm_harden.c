/* vedalloc drop-in — the hardened mode (VEDALLOC_HARDEN=1): the layer of
 * alloc/harden between the API layer and the backend, for the process.
 *
 * The mode is chosen once, at the first call into the library, from the
 * environment, and never changes (a block is freed by the code that made
 * it). VEDALLOC_HARDEN (read with the other options, vm_options.c): unset
 * or "0": plain; "1" or "all": hardened; a comma list of features
 * (hd_features_parse: canary, guard, zero, quarantine, zero-size, or
 * "trailer" for the layer alone) hardens with those only, to measure each
 * one's cost; anything else is named in one line on stderr and the
 * library runs plain. In hardened mode every call
 * takes the layer's one mutex (the quarantine is process-wide), and the
 * backend's own reports are forwarded through the layer, so they carry the
 * name of the call the program made.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/harden/harden.h"
#include "alloc/harden/types.h"
#include "alloc/internal.h"
#include "alloc/malloc/vm_backend.h"

atomic_int vm_mode; /* VM_MODE_*: 0 until the first call decides */
hd_heap_t *vm_hd;   /* the layer, in hardened mode */
static pthread_mutex_t vm_hd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t vm_mode_once = PTHREAD_ONCE_INIT;

/* The backend as the layer's inner allocator (one process heap: no handle). */
static void *vm_hi_malloc(void *h, size_t n) { return (void)h, vm_be_malloc(n); }
static void vm_hi_free(void *h, void *p) { (void)h, vm_be_free(p); }
static void *vm_hi_realloc(void *h, void *p, size_t n) { return (void)h, vm_be_realloc(p, n); }
static void *vm_hi_calloc(void *h, size_t count, size_t size) {
  size_t n;
  (void)h;
  if (!va_mul_ok(count, size, &n) || n > VA_MAX_REQUEST) return va_enomem();
  return vm_be_calloc(n);
}
static void *vm_hi_memalign(void *h, size_t a, size_t n) { return (void)h, vm_be_memalign(a, n); }
static size_t vm_hi_usable(void *h, const void *p) { return (void)h, vm_be_usable_size(p); }
static const va_allocator_t vm_be_inner = {
    .name = "backend", .malloc = vm_hi_malloc, .free = vm_hi_free,
    .realloc = vm_hi_realloc, .calloc = vm_hi_calloc, .memalign = vm_hi_memalign,
    .usable_size = vm_hi_usable,
};

static void vm_hd_prepare(void) { pthread_mutex_lock(&vm_hd_lock); }
static void vm_hd_release(void) { pthread_mutex_unlock(&vm_hd_lock); }

static void vm_say(const char *what) { /* no stdio buffering: we are malloc */
  (void)!write(2, what, strlen(what));
}

static void vm_mode_init(void) {
  const vm_options_t *o = vm_options(); /* a bad VEDALLOC_HARDEN is named there */
  int mode = VM_MODE_PLAIN;
  if (o->hardened) {
    va_options_t ho = va_options_default();
    vm_hd = hd_new(&ho, &vm_hd_lock);
    if (vm_hd != NULL) {
      unsigned features = o->harden;
      if (!VM_BE_GUARDS_SAFE) features &= ~HD_F_GUARD; /* harden.h: which inners allow them */
      hd_attach(vm_hd, &vm_be_inner, NULL, false, features);
      vm_be_set_error_hook(hd_inner_hook, vm_hd);
      mode = VM_MODE_HARDENED;
    } else {
      vm_say("vedalloc: VEDALLOC_HARDEN: no memory for the hardened layer; running plain\n");
    }
  }
  atomic_store(&vm_mode, mode); /* before pthread_atfork, which may allocate */
  if (mode == VM_MODE_HARDENED) pthread_atfork(vm_hd_prepare, vm_hd_release, vm_hd_release);
}

bool vm_mode_hardened(void) {
  int mode = atomic_load_explicit(&vm_mode, memory_order_acquire);
  if (mode == 0) {
    pthread_once(&vm_mode_once, vm_mode_init);
    mode = atomic_load(&vm_mode);
  }
  return mode == VM_MODE_HARDENED;
}

/* At exit, the quarantine is checked whole: a write after free that no
 * later free pushed out of it is still reported. */
__attribute__((destructor)) static void vm_hd_at_exit(void) {
  if (atomic_load(&vm_mode) == VM_MODE_HARDENED) hd_sweep(vm_hd);
}
