/* vedalloc — the one interface every allocator speaks.
 *
 * An allocator is a table of functions over an *instance* (a heap). A test,
 * a fuzz input or a benchmark creates an instance with options, drives it,
 * checks it and destroys it, touching no other instance and not the process
 * heap. Fuzz, property and benchmark harnesses are written once against this
 * table; adding an allocator means one folder under alloc/ and one line in
 * alloc/registry.c.
 *
 * Contract shared by every allocator (and tested for each):
 *   - malloc(0) returns a unique pointer that free accepts.
 *   - free(NULL) does nothing. realloc(NULL, n) == malloc(n).
 *   - realloc(p, 0) resizes p to a minimum-size block (like malloc(0); in
 *     place or moved), never frees-and-returns-NULL: NULL from realloc
 *     always means failure, with p intact.
 *   - a size above PTRDIFF_MAX, or a calloc product that overflows, returns
 *     NULL with errno == ENOMEM. So does exhausting the memory source.
 *   - every payload of a request >= 16 bytes is 16-byte aligned
 *     (VA_ALIGNMENT); smaller requests are aligned to their rounded size.
 *   - usable_size(p) >= the size requested for p, and all of it is writable.
 *   - an invalid or double free is reported through the instance's error
 *     hook (default: a message naming the op, pointer and problem on
 *     stderr, then abort). If a test's hook returns, the op is abandoned:
 *     nothing is freed, realloc returns NULL with errno == EINVAL.
 */
#ifndef VEDALLOC_ALLOCATOR_H
#define VEDALLOC_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VA_ALIGNMENT 16 /* payload alignment for requests >= 16 bytes */

/* ---------------------------------------------------------------------------
 * Where an instance gets its memory.
 * ------------------------------------------------------------------------- */
typedef enum va_source_kind {
  VA_SOURCE_DEFAULT = 0, /* the allocator's own choice (V1: sbrk, V2: mmap) */
  VA_SOURCE_SBRK,        /* the process break; shared with anyone else who moves it */
  VA_SOURCE_MMAP,        /* anonymous mappings private to the instance */
  VA_SOURCE_REGION,      /* a caller-given region [region, region+region_size) */
} va_source_kind_t;

/* V1 placement policy. */
typedef enum va_fit {
  VA_FIT_FIRST = 0, /* lowest-address free block that fits */
  VA_FIT_NEXT,      /* first fit, searching on from where the last search stopped */
  VA_FIT_BEST,      /* smallest free block that fits (lowest address on ties) */
} va_fit_t;

/* What went wrong, for the error hook. */
typedef enum va_error_kind {
  VA_ERR_INVALID_FREE = 1, /* pointer not from this heap */
  VA_ERR_NOT_A_BLOCK,      /* inside this heap but not at a block's start */
  VA_ERR_DOUBLE_FREE,      /* block already free */
  VA_ERR_CORRUPTION,       /* metadata found inconsistent while serving a call */
} va_error_kind_t;

/* Called on misuse. `op` is the entry point ("free", "realloc", ...). */
typedef void (*va_error_fn)(void *ctx, va_error_kind_t kind, const char *op,
                            const void *ptr, const char *message);

typedef struct va_options {
  va_source_kind_t source; /* where memory comes from */
  void *region;            /* VA_SOURCE_REGION: base of the caller's memory */
  size_t region_size;      /* REGION: its size; MMAP for V1: bytes to reserve (0: 1 GiB) */
  bool region_zero;        /* REGION: it reads as zero, as a fresh anonymous mmap
                              does (V2 then clears none of it the first time) */
  va_fit_t fit;            /* V1 placement policy */
  size_t trim_threshold;   /* V1: free tail above this many bytes goes back (SIZE_MAX: never) */
  size_t page_reserve;     /* V2: empty pages kept per size class before unmapping */
  size_t large_cache;      /* V2: bytes of freed large mappings kept for reuse */
  size_t large_resident;   /* V2: bytes of cached mappings' pages kept resident in
                              all; the rest are discarded (MADV_DONTNEED), a
                              header page each kept (SIZE_MAX: keep all) */
  size_t large_resident_ratio; /* V2: n > 0: within large_resident, cached
                              pages also stay within max(twice the largest
                              mapping cached lately, 1/n of the rest of the
                              heap's footprint), older ones past it shed
                              soon (0: large_resident alone) */
  size_t large_cache_min;  /* V2: freed large mappings smaller than this go
                              back to their segment, where the next page or
                              block carved reuses their pages, rather than to
                              the cache (0: every one is cached) */
  size_t dirty_ratio;      /* V2: n > 0: free segment chunks left resident
                              stay within max(one segment, 1/n of the
                              footprint); past it they are decommitted,
                              oldest segments first (0: by the decay alone) */
  uint64_t page_decay_ns;  /* V2: pooled empty pages younger than this stay even
                              over the idle budget (0: the budget is a hard
                              limit, as properties that predict it want);
                              free segment chunks and cached large pages
                              go back once idle this long */
  uint64_t seed;           /* seed of the hardened layer's random choices
                              and keys, and of V2's free-block marks (0:
                              from the OS, getrandom) */
  va_error_fn on_error;    /* NULL: print and abort (va_error_default) */
  void *error_ctx;         /* passed to on_error */
} va_options_t;

/* The report a checker fills: the first violated invariant, or none. */
typedef struct va_report {
  const char *invariant; /* NULL when every invariant holds; else a stable name, e.g. "ff.tiling" */
  const void *addr;      /* the block or page where it failed */
  char detail[200];      /* one human sentence */
} va_report_t;

/* What an instance holds, in bytes unless named a count. */
typedef struct va_stats {
  size_t footprint;      /* bytes currently obtained from the OS or region */
  size_t peak_footprint; /* maximum of footprint over the instance's life */
  size_t live_bytes;     /* usable bytes of live blocks */
  size_t live_blocks;    /* count of live blocks */
  size_t free_bytes;     /* bytes reusable without asking the OS (payloads) */
  size_t free_blocks;    /* V1: free blocks; V2: free slots in held pages */
  size_t largest_free;   /* largest single free payload */
  size_t pages;          /* V1: pages spanned by the heap; V2: slab pages held */
  size_t large_mappings; /* V2: live mappings of large blocks */
} va_stats_t;

/* External fragmentation of a heap at one moment: the share of its free
 * bytes that the largest free block cannot serve in one piece,
 * 1 - largest_free / free_bytes (0 with nothing free). The one definition
 * the benchmark and the heap pictures report. */
static inline double va_stats_ext_frag(const va_stats_t *s) {
  return s->free_bytes ? 1.0 - (double)s->largest_free / (double)s->free_bytes : 0.0;
}

/* One region of an instance, as walk() reports it. Every byte an instance
 * holds is in at most one LIVE, FREE or CACHED region; PAGE and SEGMENT
 * regions contain the blocks walk reports after them. */
typedef enum va_region_kind {
  VA_REGION_LIVE = 1, /* a live block: addr = its payload, size = usable bytes */
  VA_REGION_FREE,     /* a free block or slot, reusable without the OS
                         (V1: a free block's payload; V2: a free slot) */
  VA_REGION_CACHED,   /* V2: a freed large mapping kept for reuse (addr: its
                         payload, size: the payload bytes it would serve) */
  VA_REGION_PAGE,     /* V2: a slab page (addr: its mapping, size: its bytes,
                         cls: its size class); its slots follow it */
  VA_REGION_SEGMENT,  /* V2: a segment, the chunks pages and large blocks are
                         carved from (addr, size: the whole mapping) */
} va_region_kind_t;

typedef struct va_region {
  va_region_kind_t kind;
  const void *addr;
  size_t size;
  int cls;            /* V2 PAGE and its slots: the size class; a V2 large
                         block (LIVE or CACHED): VA_CLS_LARGE; else -1 */
  size_t block_size;  /* V2 PAGE and its slots: bytes per slot; else 0 */
} va_region_t;

#define VA_CLS_LARGE (-2)

/* Called once per region; must not call into the instance. */
typedef void (*va_walk_fn)(void *ctx, const va_region_t *region);

/* An allocator: a name and the operations over its instances. */
typedef struct va_allocator {
  const char *name;
  void *(*create)(const va_options_t *opts); /* NULL opts: defaults; NULL + errno on failure */
  void (*destroy)(void *heap);               /* returns everything to the source */
  void *(*malloc)(void *heap, size_t size);
  void (*free)(void *heap, void *ptr);
  void *(*realloc)(void *heap, void *ptr, size_t size);
  void *(*calloc)(void *heap, size_t count, size_t size);
  void *(*memalign)(void *heap, size_t alignment, size_t size); /* may be NULL */
  size_t (*usable_size)(void *heap, const void *ptr);
  bool (*check)(void *heap, va_report_t *report); /* NULL: no checker; true: all hold */
  void (*stats)(void *heap, va_stats_t *stats);   /* NULL: no statistics */
  /* With no block live, is the heap back at its empty state? (V1: one free
   * block or trimmed to its initial footprint; V2: no live block, pages held
   * within the reserve, no large mapping.) Runs check() first: a caller
   * needs one of the two, not both. NULL: not checkable. */
  bool (*check_empty)(void *heap, va_report_t *report);
  /* Virtual threads, for an instance that is a heap per thread (the
   * drop-in's backend); NULL for one heap that serves every thread. Calls
   * after thread_switch(t) run as thread t (t < VA_MAX_THREADS), started on
   * its first call; thread_exit(t) ends t as a thread exit would: its heap
   * is abandoned, its blocks stay valid, and t is a new thread if it runs
   * again. One OS thread drives them all, so runs are deterministic. */
  void (*thread_switch)(void *heap, unsigned t);
  void (*thread_exit)(void *heap, unsigned t);
  /* Every region of the instance, in the order it keeps them (V1: the
   * block list, by address; V2: each page then its slots, live large
   * blocks, the large cache, segments). Reads metadata only, allocates
   * nothing, and needs the instance idle (no call in progress).
   * NULL: the instance cannot be walked (the process malloc). */
  void (*walk)(void *heap, va_walk_fn fn, void *ctx);
} va_allocator_t;

#define VA_MAX_THREADS 8 /* virtual threads an instance must accept */

/* Options with every field at its documented default. */
va_options_t va_options_default(void);

/* The default error hook: prints "vedalloc: <op>(): <message> <ptr>" and aborts. */
void va_error_default(void *ctx, va_error_kind_t kind, const char *op,
                      const void *ptr, const char *message);

/* A stable name for an error kind, e.g. "double free". */
const char *va_error_name(va_error_kind_t kind);

#ifdef __cplusplus
}
#endif
#endif /* VEDALLOC_ALLOCATOR_H */
