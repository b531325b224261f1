/* vedalloc drop-in — what the API layer (vm_api.c) asks of a backend.
 *
 * A backend turns single-threaded va_allocator_t instances into one
 * process-wide, thread-safe heap. Exactly one backend is linked into each
 * library (link-time choice, no indirect call on the fast path):
 *   vm_locked.c   one instance behind one mutex (V1 over sbrk; V2 for now)
 *   vm_heaps.c    (planned) one V2 instance per thread, remote frees, pool
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
 * Plan for vm_heaps.c (needs two small V2 additions):
 *   - a process-wide owner lookup: V2 calls an observer from sl_map_set, so
 *     this layer keeps a chunk -> vm_heap radix map (atomic entries) that
 *     any thread can read; and a block-size query that reads only immutable
 *     page/large header fields (sl_usable_size reads the owner-only bitmap);
 *   - a heap per thread (initial-exec TLS pointer), taken from a static pool
 *     of heaps; free(p): owner == mine -> V2 free; else CAS-push p onto the
 *     owner's atomic remote list, which the owner drains (exchange, then V2
 *     free of each block, so V2's bitmap still reports double frees) when
 *     malloc sees it non-empty; a pthread key destructor drains and marks
 *     the heap abandoned, and the next new thread adopts it; fork: prepare
 *     locks the pool, the child marks every heap owned by another thread
 *     lost (never adopted; leaked in the child, never corrupt).
 *
 * Initialisation is the backend's, on its first call; it must not allocate
 * through malloc, stdio, dlsym or dynamic TLS (the library IS malloc).
 */
#ifndef VEDALLOC_MALLOC_VM_BACKEND_H
#define VEDALLOC_MALLOC_VM_BACKEND_H

#include <stddef.h>

void *vm_be_malloc(size_t n);
void vm_be_free(void *p);
void *vm_be_realloc(void *p, size_t n);
void *vm_be_calloc(size_t n);
void *vm_be_memalign(size_t alignment, size_t n);
size_t vm_be_usable_size(const void *p);
extern const char vm_be_name[];

#endif
