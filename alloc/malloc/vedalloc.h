/* vedalloc — the drop-in C allocation API (libvedalloc.so, libvedalloc_v1.so).
 *
 * The library exports the standard names (malloc, free, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size) as thin wrappers over the vm_ functions below, so a
 * test can drive exactly the same code without replacing the process malloc
 * (which a sanitizer runtime owns).
 *
 * Semantics chosen where C and POSIX leave room (each one tested in
 * alloc/malloc/api_test.c):
 *   - malloc(0), calloc(0, n), aligned allocations of size 0: a unique
 *     minimum block that free accepts.
 *   - realloc(p, 0): releases p and returns a fresh minimum block (the
 *     contract of alloc/allocator.h, as musl and the BSDs; glibc returns NULL).
 *     realloc returning NULL always means failure with p intact.
 *   - any size above PTRDIFF_MAX, or an overflowing count * size: NULL,
 *     errno == ENOMEM (posix_memalign returns ENOMEM instead).
 *   - posix_memalign(a): a must be a power of two and a multiple of
 *     sizeof(void *), else EINVAL. On any error *memptr is untouched and
 *     errno is not changed.
 *   - aligned_alloc(a, n): a must be a power of two (1, 2, 4, ... any size),
 *     else NULL with errno == EINVAL (C23 / glibc 2.38). n need not be a
 *     multiple of a (C17 DR 460).
 *   - memalign(a, n): glibc's lenient rules: a == 0 means the default
 *     alignment, a non-power-of-two is rounded up to the next power of two.
 *   - an alignment so large that no block can satisfy it (above
 *     PTRDIFF_MAX, or a + n overflowing): ENOMEM. Alignments up to at least
 *     4 MiB are served.
 *   - valloc(n) == memalign(page, n); pvalloc(n) also rounds n up to a whole
 *     number of pages (pvalloc(0) is one page).
 *   - malloc_usable_size(NULL) == 0.
 *   - invalid and double frees go to the error hook of alloc/allocator.h,
 *     whose default prints "vedalloc: free(): double free of 0x..." and
 *     aborts. Damaged metadata met by any call is reported the same way,
 *     "vedalloc: free(): heap corruption detected (<allocator> <check>:
 *     ...) near 0x...", and never followed.
 *
 * Environment (read once, at the first call; the only variable today):
 *   VEDALLOC_HARDEN   unset or 0: the plain library. 1: the hardened mode
 *                     (alloc/harden: a canary after every block, a checked
 *                     trailer, a zeroing quarantine checked when blocks
 *                     leave it and at exit, release in random order, guard
 *                     pages after blocks above 16 KiB (V2), zero-size
 *                     blocks that fault, every block handed out zeroed;
 *                     malloc_usable_size is then the size asked for).
 *                     Any other value is named in one line on stderr and
 *                     the library runs plain. Costs: README, "Security".
 */
#ifndef VEDALLOC_MALLOC_VEDALLOC_H
#define VEDALLOC_MALLOC_VEDALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* ---- standard ---------------------------------------------------------- */
void *vm_malloc(size_t size);
void vm_free(void *ptr);
void *vm_calloc(size_t count, size_t size);
void *vm_realloc(void *ptr, size_t size);
void *vm_reallocarray(void *ptr, size_t count, size_t size);
int vm_posix_memalign(void **memptr, size_t alignment, size_t size);
void *vm_aligned_alloc(size_t alignment, size_t size);
void *vm_memalign(size_t alignment, size_t size);
void *vm_valloc(size_t size);
void *vm_pvalloc(size_t size);
size_t vm_malloc_usable_size(const void *ptr);

/* ---- introspection ----------------------------------------------------- */
/* The allocator under the library, e.g. "v2-slab/thread-heaps". */
const char *vm_backend_name(void);
/* Heaps (instances) created so far: 1 for a one-lock library; for the
 * per-thread one, at most the peak number of live threads (exited threads'
 * heaps are adopted). */
size_t vm_heap_count(void);
/* Bytes the library holds from the OS, process-wide (mapped, not resident). */
size_t vm_mapped_bytes(void);
#endif /* VEDALLOC_MALLOC_VEDALLOC_H */
