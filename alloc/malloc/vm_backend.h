/* vedalloc drop-in — what the API layer (vm_api.c) asks of a backend.
 *
 * A backend turns single-threaded va_allocator_t instances into one
 * process-wide, thread-safe heap. Exactly one backend is linked into each
 * library (link-time choice, no indirect call on the fast path):
 *   vm_locked.c   one instance behind one mutex (V1 over sbrk)
 *   vm_heaps.c    one V2 instance per thread, remote frees, a heap pool
 *                 (libvedalloc.so; its essay has the design)
 *
 * The API layer has already validated every argument, so a backend sees
 *   vm_be_malloc(n)        n <= VA_MAX_REQUEST
 *   vm_be_free(p)          p != NULL
 *   vm_be_realloc(p, n)    p != NULL, n <= VA_MAX_REQUEST
 *   vm_be_calloc(n)        n <= VA_MAX_REQUEST (the checked product)
 *   vm_be_memalign(a, n)   a a power of two, VA_ALIGNMENT < a <= VA_MAX_REQUEST,
 *                          n + a <= VA_MAX_REQUEST
 *   vm_be_usable_size(p)   p != NULL
 * and returns NULL with errno == ENOMEM when memory runs out. Misuse (an
 * invalid or double free) is the backend's to detect and report through
 * va_raise, as the instance under it does.
 *
 * Initialisation is the backend's, on its first call; it must not allocate
 * through malloc, stdio, dlsym or dynamic TLS (the library IS malloc).
 */
#ifndef VEDALLOC_MALLOC_VM_BACKEND_H
#define VEDALLOC_MALLOC_VM_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

#include "alloc/malloc/vedalloc.h"

/* Everything below binds inside the library: hidden, so a call to it is a
 * direct call (no PLT slot, no GOT load), even from another file. */
#pragma GCC visibility push(hidden)

/* The backend's malloc and free are defined VM_BE_HOT: inlined into the
 * API layer's where the two are one unit (vm_lib_v2.c), still emitted
 * for a caller elsewhere. */
#define VM_BE_HOT __attribute__((always_inline))
void *vm_be_malloc(size_t n);
void vm_be_free(void *p);
void *vm_be_realloc(void *p, size_t n);
void *vm_be_calloc(size_t n);
void *vm_be_memalign(size_t alignment, size_t n);
size_t vm_be_usable_size(const void *p);
extern const char vm_be_name[];
size_t vm_be_heap_count(void);   /* instances behind the library so far */
size_t vm_be_mapped_bytes(void); /* bytes they hold from the OS (any thread) */
/* Reports of misuse go to fn(ctx, ...) instead of the default hook; set
 * once, before the first call of any other vm_be_ function (vm_harden.c:
 * the hardened layer forwards them under the program's call's name). */
void vm_be_set_error_hook(va_error_fn fn, void *ctx);

/* May the hardened layer put guard pages inside the backend's blocks
 * (hd_attach)? Each backend defines it: V2 yes, V1 no. */
extern const bool VM_BE_GUARDS_SAFE;

/* The run-time options (vm_options.c): the environment, read once at the
 * first call; vedalloc.h lists the variables. */
typedef struct vm_options {
  bool show_stats;    /* VEDALLOC_SHOW_STATS: a per-class table at exit */
  bool verbose;       /* VEDALLOC_VERBOSE: the options printed at start */
  bool hardened;      /* VEDALLOC_HARDEN set, not 0 ... */
  unsigned harden;    /* ... with these features (alloc/harden HD_F_*) */
  va_options_t heap;  /* the backend's heap options with the tunables set */
} vm_options_t;
const vm_options_t *vm_options(void);
/* The environment's tunables (page reserve, large cache, resident budget,
 * decay, trim threshold) over a heap's options. */
void vm_options_apply(va_options_t *heap);
/* The backend's heap options before the environment (each backend). */
va_options_t vm_be_default_heap_options(void);

/* The mode (vm_harden.c): chosen at the first call, from VEDALLOC_HARDEN. */
enum { VM_MODE_PLAIN = 1, VM_MODE_HARDENED = 2 };
extern _Atomic int vm_mode;
struct hd_heap;
extern struct hd_heap *vm_hd;
bool vm_mode_hardened(void); /* decides on the first call */
/* Is the library plain (decided, not hardened)? One relaxed load. */
#define VM_PLAIN() \
  VA_LIKELY(atomic_load_explicit(&vm_mode, memory_order_relaxed) == VM_MODE_PLAIN)
/* Is the library hardened? The same load on the fast path. */
#define VM_HARDENED() (!VM_PLAIN() && vm_mode_hardened())

/* Introspection (vm_introspect.c). Every region (allocator.h) of the heaps
 * the caller can read without stopping another thread; *unseen heaps (and
 * *unseen_bytes of their footprint) were held by other threads and not
 * walked. fn must not allocate. */
void vm_be_walk(va_walk_fn fn, void *ctx, size_t *unseen, size_t *unseen_bytes);
/* Bytes the heaps hold from the OS, their metadata included (committed). */
size_t vm_be_footprint(void);
/* Blocks freed by a thread other than their heap's holder and taken back
 * so far, every heap (one word each, read as it is; V1's one locked
 * instance has no remote frees: 0). */
size_t vm_be_remote_frees(void);
/* malloc_trim: free pages back to the OS (vm_pool_trim); the bytes now. */
size_t vm_be_trim(void);

/* Every instance's checker (and the backend's own invariants), at a
 * quiescent point: no other thread inside the library. Tests only. */
bool vm_be_check(va_report_t *r);

/* Hidden aliases of the exported vm_ entry points (vm_api.c), for the
 * standard names (vm_export.c): `malloc` is then one direct jump to the
 * API layer, not a jump through the PLT to an interposable vm_malloc. */
#define VM_LOCAL_DECL(name) extern __typeof(name) name##_local;
VM_LOCAL_DECL(vm_malloc)
VM_LOCAL_DECL(vm_free)
VM_LOCAL_DECL(vm_calloc)
VM_LOCAL_DECL(vm_realloc)
VM_LOCAL_DECL(vm_reallocarray)
VM_LOCAL_DECL(vm_posix_memalign)
VM_LOCAL_DECL(vm_aligned_alloc)
VM_LOCAL_DECL(vm_memalign)
VM_LOCAL_DECL(vm_valloc)
VM_LOCAL_DECL(vm_pvalloc)
VM_LOCAL_DECL(vm_malloc_usable_size)
#undef VM_LOCAL_DECL

#pragma GCC visibility pop

#endif
