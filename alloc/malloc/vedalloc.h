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
 * Environment (vm_options.c; read once, at the first call, with no
 * allocation; a bad value is named in one line on stderr, e.g.
 * "vedalloc: VEDALLOC_LARGE_CACHE=lots: expected bytes, e.g. 65536, 64k,
 * 64M, 1G; keeping the default", and the default kept):
 *   VEDALLOC_SHOW_STATS  1: a per-size-class table on stderr at exit
 *                        (vm_show_stats). Default 0.
 *   VEDALLOC_VERBOSE     1: the library and every option with its value and
 *                        source on stderr at start. Default 0.
 *   VEDALLOC_HARDEN      unset or 0: the plain library. 1 (or "all"): the
 *                        hardened mode (alloc/harden: a canary after every
 *                        block, a checked trailer, a zeroing quarantine
 *                        checked when blocks leave it and at exit, release
 *                        in random order, guard pages after blocks above
 *                        16 KiB (V2), zero-size blocks that fault, every
 *                        block handed out zeroed; malloc_usable_size is
 *                        then the size asked for). A comma list of
 *                        canary, guard, zero, quarantine, zero-size (or
 *                        "trailer": the layer alone) turns on only those,
 *                        to measure one. Costs: README, "Security".
 *   VEDALLOC_PAGE_RESERVE    V2: empty pages a size class keeps (default 1).
 *   VEDALLOC_LARGE_CACHE     V2: bytes of freed large mappings kept for
 *                            reuse (default 64M).
 *   VEDALLOC_LARGE_RESIDENT  V2: of those, bytes whose pages stay resident;
 *                            the rest are discarded (default: all).
 *   VEDALLOC_LARGE_RESIDENT_RATIO  V2: n > 0: within that, cached pages
 *                            past max(twice the largest block cached
 *                            lately, 1/n of the rest of the heap's
 *                            footprint) are shed (default 8; 0: off).
 *   VEDALLOC_LARGE_CACHE_MIN V2: freed large blocks smaller than this go
 *                            back to their segment, whose next page or
 *                            block reuses their pages, not to the cache
 *                            (default: 1M + 64k, past the carve limit:
 *                            only blocks mapped alone are cached; 0: all).
 *   VEDALLOC_DIRTY_RATIO     V2: n > 0: free segment chunks left resident
 *                            stay within max(4M, 1/n of the footprint);
 *                            past it they are decommitted (default 2;
 *                            0: by the decay alone).
 *   VEDALLOC_DECAY_MS        V2: idle pages, free segment chunks and cached
 *                            pages go back after this many ms idle (20);
 *                            a busy segment's free chunks once the oldest
 *                            has waited 8 times that.
 *   VEDALLOC_TRIM_THRESHOLD  V1: a free tail above this many bytes goes
 *                            back to the OS (default 128k).
 * Bytes take k, M, G (binary) suffixes.
 */
#ifndef VEDALLOC_MALLOC_VEDALLOC_H
#define VEDALLOC_MALLOC_VEDALLOC_H

#include <malloc.h> /* struct mallinfo, mallinfo2 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* ---- glibc's introspection calls (exported under glibc's names) ---------
 * Computed from a walk of every heap the caller can read while other
 * threads run: its own and the abandoned ones. A heap another live thread
 * holds counts in `system` bytes (its footprint) but not in the block
 * counts; a single-threaded program's numbers are exact. Fields:
 *   arena     bytes the heaps hold from the OS (committed, metadata in)
 *   ordblks   free blocks (free slots of held pages, V1's free blocks)
 *   smblks    0 (no fastbins)           hblks/hblkhd  large blocks, bytes
 *   usmblks   0 (as glibc)              fsmblks       0
 *   uordblks  bytes of live blocks (usable)
 *   fordblks  bytes of free blocks and cached large mappings
 *   keepcost  0 (no top chunk is kept for trimming)
 * mallinfo saturates each field at INT_MAX. malloc_stats prints glibc's
 * shape on stderr; malloc_info(0, f) writes glibc's XML (a <size> line
 * per size class in use); other options: EINVAL. malloc_trim(pad): the
 * caller's heap and every abandoned one give free pages and cached large
 * mappings back now, and a heap another thread holds does so at that
 * thread's next call off the fast path; returns 1 if memory went back now.
 * pad is ignored (V2 keeps no top to pad). */
struct mallinfo2 vm_mallinfo2(void);
struct mallinfo vm_mallinfo(void);
void vm_malloc_stats(void);
int vm_malloc_info(int options, FILE *stream);
int vm_malloc_trim(size_t pad);

/* ---- vedalloc's own statistics ------------------------------------------ */
#define VEDALLOC_MAX_CLASSES 64

struct vedalloc_class_stats {
  size_t block_size;  /* bytes per block of the class (0: class unused) */
  size_t live_blocks; /* blocks handed out */
  size_t free_blocks; /* free slots of its pages */
  size_t pages;       /* pages of the class held */
};

struct vedalloc_stats {
  size_t heaps;           /* heaps in the process (one per thread that allocated) */
  size_t heaps_unseen;    /* ... held by other threads, so not walked */
  size_t live_blocks, live_bytes; /* walked heaps: blocks handed out, usable bytes */
  size_t free_blocks, free_bytes; /* ... free blocks or slots, their bytes */
  size_t pages, idle_pages;       /* V2: slab pages held; of them, empty of any class */
  size_t large_live, large_live_bytes;     /* V2: blocks mapped alone (or carved) */
  size_t large_cached, large_cached_bytes; /* V2: freed large mappings kept */
  size_t segments;        /* V2: 4 MiB segments pages and large blocks come from */
  size_t mapped;          /* bytes the library has mapped (all heaps, metadata) */
  size_t committed;       /* bytes the heaps hold from the OS, all heaps */
  size_t resident;        /* walked heaps: bytes of their memory resident (mincore) */
  size_t remote_frees;    /* V2: blocks freed by another thread than their
                             heap's and taken back by it, so far, all heaps */
  size_t nclasses;        /* entries of cls in use (V2: its size classes; V1: 0) */
  struct vedalloc_class_stats cls[VEDALLOC_MAX_CLASSES];
};

/* Fills *s (see the fields); 0, or -1 with errno EINVAL when s is NULL. */
int vedalloc_stats(struct vedalloc_stats *s);
/* The table VEDALLOC_SHOW_STATS=1 prints at exit, now, on stderr. */
void vm_show_stats(void);
#endif /* VEDALLOC_MALLOC_VEDALLOC_H */
