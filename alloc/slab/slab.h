/* vedalloc V2 — slab allocator over mmap: size classes, per-page free lists,
 * large requests in their own mappings. Design: alloc/slab/types.h. */
#ifndef VEDALLOC_SLAB_H
#define VEDALLOC_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Standard: the allocator table (name "slab"). */
extern const va_allocator_t sl_allocator;

/* The same, each instance entered at creation in a shared map of its own
 * (sl_heap_share), as the drop-in's per-thread heaps are (name "slab-shared"). */
extern const va_allocator_t sl_shared_allocator;

/* Introspection (for property tests and tools). */
size_t sl_class_count(void);        /* number of size classes */
size_t sl_max_small(void);          /* largest class size; above: a large mapping */
size_t sl_size_class(size_t n);     /* class index of a request n <= sl_max_small() */
size_t sl_class_size(size_t idx);   /* block size of class idx (< sl_class_count()) */

/* Is p a live block of heap? If so, its class (SIZE_MAX for a large
 * mapping) and its page (or large mapping) base. Never raises. */
bool sl_block_info(void *heap, const void *p, size_t *class_idx, void **page);

/* What a heap holds, page by page and class by class, and what it has
 * done: for properties that predict each call's page and cache decisions
 * (props/v2_props.c) and for tools. Counts of classes beyond
 * sl_class_count() are 0. */
#define SL_CENSUS_CLASSES 80
typedef struct sl_census {
  size_t class_pages[SL_CENSUS_CLASSES];   /* pages a class holds (idle: none) */
  size_t class_reserve[SL_CENSUS_CLASSES]; /* of which on its reserve list */
  bool class_avail[SL_CENSUS_CLASSES];     /* its avail head has a free block */
  bool head_empty[SL_CENSUS_CLASSES];      /* its avail head has no live block */
  size_t idle_pages[2];    /* the idle pool: [0] 64 KiB pages, [1] 512 KiB */
  size_t idle_newest_class[2]; /* class of the page each would give next */
  size_t idle_bytes, idle_budget;
  size_t page_reserve;     /* empty pages a class may keep */
  size_t pages_mapped, pages_unmapped, pages_reformatted; /* over its life */
  size_t large_live, large_cached, cache_bytes, cache_resident;
  size_t large_mapped;     /* large mappings made fresh, over its life */
  size_t large_cache, large_resident; /* its budgets (options) */
  size_t large_resident_ratio; /* opts.large_resident_ratio (the adaptive share) */
  size_t footprint;        /* bytes mapped for blocks (the share's base) */
  size_t large_offset;     /* payload offset of a large block */
  size_t chunk;            /* mappings are multiples of this */
  size_t cache_entries_max;/* cached large mappings, at most */
  size_t large_cache_min;  /* opts.large_cache_min: smaller ones are not cached */
  size_t os_page;          /* a shed cache entry keeps this much */
  size_t carve_max;        /* large blocks up to this are carved from segments */
  size_t segments, segs_empty; /* segments held; of which none in use */
  size_t segs_mapped, segs_unmapped, seg_decommits; /* over its life */
  size_t seg_free_resident; /* bytes of free chunks not yet decommitted */
} sl_census_t;
void sl_heap_census(void *heap, sl_census_t *c);

/* Where live block p sits: false when p is not one. */
typedef struct sl_block_place {
  size_t class_idx;   /* SIZE_MAX: a large mapping */
  size_t used;        /* page: live blocks in it (p's included) */
  size_t capacity;    /* page: blocks in it */
  bool avail_head;    /* page: it is its class's avail head */
  bool keep_empty;    /* page: a free may leave it empty where it is */
  bool full;          /* page: no free block */
  size_t bytes;       /* the page's or the large mapping's size */
  size_t block_size;  /* page: its class's block size */
  size_t index;       /* page: p's block in the grid */
  size_t sliced;      /* page: grid blocks sliced so far (the rest were never
                         handed out: a pointer there is not a block) */
} sl_block_place_t;
bool sl_block_place(void *heap, const void *p, sl_block_place_t *out);

/* The O(1) witness: the most pages whose metadata one operation's slow
 * path wrote, over the heap's life (a fast path touches exactly one page
 * and is not counted). */
size_t sl_touch_peak(void *heap);

/* ---- Threads: what a layer running one heap per thread needs ------------
 * A heap stays single-threaded (one holder at a time); these let other
 * threads find a block's heap and hand blocks back (alloc/malloc/vm_heaps.c).
 * A shared map covers a set of heaps; its functions may be called from any
 * thread. */
typedef struct sl_shared_map sl_shared_map_t;

/* A shared map with no heap in it (NULL + ENOMEM on failure); destroy it
 * after every member heap is destroyed. _in: its memory from a source. */
sl_shared_map_t *sl_shared_map_create(void);
typedef struct sl_source sl_source_t; /* alloc/slab/os.h */
sl_shared_map_t *sl_shared_map_create_in(sl_source_t *src);

/* A heap whose memory comes from src (NULL: the OS), for a layer that puts
 * many heaps on one region source (the drop-in's harness instance). */
void *sl_heap_create_in(const va_options_t *opts, sl_source_t *src);
void sl_shared_map_destroy(sl_shared_map_t *map);

/* Enter heap's chunks, from now on, in map, tagged with ctx (the caller's
 * per-heap object). Call before the heap's first allocation; false
 * (EINVAL) if it already holds memory or is in a map. */
bool sl_heap_share(void *heap, sl_shared_map_t *map, void *ctx);

/* Options of a heap that is one of many (the drop-in's per-thread heaps):
 * footprint over speed for idle memory (values and measurements in slab.c). */
va_options_t sl_thread_heap_options(void);

/* What p, which no heap's map names, is to the caller's heap:
 * VA_ERR_DOUBLE_FREE when it is the payload of a large block heap carved and
 * has freed since (its chunk not carved again: segment.h), else
 * VA_ERR_INVALID_FREE. O(its segments): error paths only. */
va_error_kind_t sl_unheld_kind(const void *heap, const void *p);

/* ctx of the member heap of map whose chunk holds p, or NULL when none
 * does. When usable is not NULL it receives p's block size when p is a
 * live block (read from fields that do not change while it is live, so
 * without the holder's cooperation), else 0; `bad` (may be NULL) then says
 * what freeing p would be (VA_ERR_NOT_A_BLOCK, VA_ERR_DOUBLE_FREE; 0 for a
 * live block; VA_ERR_INVALID_FREE when no heap holds p; VA_ERR_CORRUPTION,
 * returning NULL, when p's large header is damaged: sl_shared_fault). Exact for a live
 * block; for a stale pointer only a hint (its page may be recycled
 * meanwhile). */
void *sl_shared_owner(const sl_shared_map_t *map, const void *p, size_t *usable,
                      va_error_kind_t *bad);

/* Why the header of p's chunk cannot be trusted by a thread that does not
 * hold it (sl_shared_owner or sl_remote_free said VA_ERR_CORRUPTION), or
 * NULL; *hdr: that header. */
const char *sl_shared_fault(const sl_shared_map_t *map, const void *p, const void **hdr);

/* Free p, a block of a member heap of map, from a thread that does not
 * hold that heap: the block is marked in its page's remote-free words (one
 * atomic OR; the first block of a word also queues the word on its heap,
 * one CAS) and the holder takes it back in sl_remote_drain. Never writes
 * into the block. Returns the holder heap's ctx (NULL: no heap of map
 * holds p) and in *bad 0, or what is wrong (VA_ERR_INVALID_FREE,
 * VA_ERR_NOT_A_BLOCK, VA_ERR_DOUBLE_FREE: p free, or freed remotely already
 * and not yet taken back; VA_ERR_CORRUPTION, returning NULL); then nothing
 * was changed. */
void *sl_remote_free(const sl_shared_map_t *map, void *p, va_error_kind_t *bad);

/* The holder of heap takes back every block other threads freed into it
 * (they are freed as sl_free would; misuse found then is reported through
 * the heap's hook). V2's allocation slow paths call it themselves when
 * blocks are pending. */
void sl_remote_drain(void *heap);

/* The table's entry points, for a layer above that links V2 in and wants
 * direct calls (the drop-in's per-thread heaps): same contracts. The fast
 * paths themselves are inlined from alloc/slab/fast.h. */
void *sl_malloc(void *heap, size_t n);
void *sl_calloc(void *heap, size_t count, size_t size);
void *sl_memalign(void *heap, size_t align, size_t n);
void *sl_realloc(void *heap, void *p, size_t n);
/* realloc(p, n), p != NULL, whose chunk h's page map names owner (the
 * drop-in has looked it up already). */
struct sl_heap;
void *sl_realloc_in(struct sl_heap *h, void *owner, void *p, size_t n);

/* Give back every empty page (the reserve included) and the large cache. */
void sl_heap_trim(void *heap);

/* Bytes V2 has mapped process-wide (pages, large blocks, heaps, maps). */
size_t sl_mapped_bytes(void);

#ifdef __cplusplus
}
#endif
#endif /* VEDALLOC_SLAB_H */
