/* vedalloc V2 — slab allocator: the private types, and the design.
 *
 * This header is the architecture document of V2. Terms:
 *   class   one block size; every small request is served by the class of
 *           the smallest size >= the request (sl_class_of).
 *   chunk   64 KiB of address space aligned to 64 KiB: the unit of the page
 *           map. Every mapping V2 makes is chunk-aligned and a whole number
 *           of chunks, so a chunk belongs to at most one V2 object.
 *   page    one mapping of a class: a header, an allocated bitmap, then a
 *           grid of equal blocks. 64 KiB for blocks <= 1 KiB, 512 KiB above.
 *   large   one mapping holding one block above the top class (32 KiB).
 *   map     per-heap radix table: chunk -> the page or large header that
 *           owns it. The ONLY way free() decides that a pointer is ours.
 *
 * ---------------------------------------------------------------------------
 * Size classes (41), chosen for internal waste <= 25% with O(1) lookup:
 *   idx 0        8                      (requests 0..8; 8-byte aligned)
 *   idx 1..8     16, 32, 48, ... 128    (16-byte steps: the common sizes)
 *   idx 9..40    4 per power of two: 160 192 224 256 | 320 .. 512 | ...
 *                ... | 20480 24576 28672 32768
 * The seed's classes were the powers of two 8..1024 (up to 50% waste, and
 * every request over 1 KiB cost an mmap + munmap). 16-byte steps below 128
 * cut the waste of typical small objects; 4 classes per doubling bound it
 * at 25%; a 32 KiB top class keeps typical program sizes off the mmap path.
 * Lookup is O(1): n <= 1024 by a 129-byte table indexed by (n + 7) / 8
 * (one load, no data-dependent branch, which matters when sizes alternate);
 * above, arithmetic from the top bit of n - 1 and the next two bits.
 *
 * ---------------------------------------------------------------------------
 * Page layout (page_size = 64 KiB or 512 KiB, chunk-aligned):
 *
 *   base        pg = base + 64*color                    base + page_size
 *   |           |                                                        |
 *   +-----------+-----------+-----------+-----+-------+-----+-------+----+
 *   | colour    | sl_page_t | bitmap[]  | gap | blk 0 | ... | blk   |tail|
 *   | pad       | header    | 1 bit/blk |     |       |     | cap-1 |    |
 *   +-----------+-----------+-----------+-----+-------+-----+-------+----+
 *   ^ all poisoned (metadata)           ^ blocks = grid start, aligned to the
 *                                   lowest set bit of block_size (<= 4096),
 *                                   so a class whose size is a multiple of
 *                                   A (a power of two <= 4096) serves
 *                                   memalign(A).
 *   Cache colouring: the header sits 64 * color bytes into the mapping
 *   (color = pages created so far % SL_COLORS). Every mapping is 64 KiB
 *   aligned, so uncoloured headers (and their first bitmap words) would
 *   all fall in the same few L1 sets: an 8-way L1 holds at most 8 of them,
 *   fewer than the classes a real program keeps hot. (Cachegrind shows no
 *   conflict misses either way for the 7-size benchmark: this is insurance
 *   for wider class mixes, at <= 960 bytes per page.) The map entry points
 *   at the header, not the mapping.
 *   blocks [0, bumped) have been sliced: each is live (bit 1) or on the
 *   free list (bit 0). Blocks [bumped, capacity) are the unsliced bump
 *   region (bit 0, never handed out, poisoned): a fresh page costs O(1),
 *   the free list is extended SL_SLICE_BYTES at a time.
 *
 *   A free block:   +------------+---------------------------+
 *                   | next (8 B) |  (stale user bytes)       |   poisoned
 *                   +------------+---------------------------+
 *   A live block:   all block_size bytes unpoisoned and the caller's.
 *
 * Page invariants (checked by sl_check, names in quotes):
 *   used + |free| + (capacity - bumped) == capacity          "sl.capacity"
 *   every free node n: blocks <= n < blocks + bumped*block_size
 *                                                      "sl.freelist_bounds"
 *   (n - blocks) % block_size == 0                       "sl.freelist_grid"
 *   the free list has no repeated node and ends (|free| <= capacity)
 *                                                       "sl.freelist_cycle"
 *   bit(i) == 1  <=>  block i is live: popcount(bitmap) == used, no free
 *   node has its bit set, no bit >= bumped is set              "sl.bitmap"
 *   page on its class's avail list  <=>  |free| + (capacity - bumped) > 0,
 *   and then free != NULL (a page is refilled when its list runs dry;
 *   free == NULL  <=>  the page is full)                   "sl.avail_list"
 *   block_size == sl_class_size(class_idx), page->heap == heap, map entry
 *   of each chunk of the page == page                      "sl.page_class"
 *   empty pages of class c == |empty list(c)| + [avail head(c) is empty]
 *   <= page_reserve; pages on the empty list have used == 0 "sl.empty_list"
 *   keep == (page is its class's avail head && empty_count < page_reserve)
 *   (cached so free's "page just emptied" test reads no heap field)
 *                                                          "sl.avail_list"
 *
 * Lists of a class c (all doubly linked through next/prev unless noted):
 *   avail[c]   pages with a free block; head is the page malloc pops from.
 *              Empty when it points at the immutable sentinel sl_page_none
 *              (free == NULL), so the fast path needs no NULL test. A page
 *              that stops being full is appended at the TAIL, so the only
 *              avail page that may be empty is the head:
 *                  every avail page but the head has used > 0.
 *   empty[c]   singly linked (next) idle pages kept for reuse.
 *   full pages are on no class list; every page is on the heap's all-list.
 *   direct[k] == avail[sl_class_by8[k]] for k = (n + 7) / 8, n <= 1 KiB: a
 *   copy indexed by size (mimalloc's "pages_direct") so the malloc fast path
 *   reaches the page in one load instead of two; rewritten (<= 16 entries)
 *   only when an avail head changes.                       "sl.avail_list"
 *
 * ---------------------------------------------------------------------------
 * Large mapping layout (chunk-aligned, map_size a multiple of 64 KiB):
 *
 *   base                    payload = base + off                base+map_size
 *   +-------------+---------+--------------------------------------------+
 *   | sl_large_t  | (pad to |  the block: usable = map_size - off bytes  |
 *   | (poisoned)  |  align) |                                            |
 *   +-------------+---------+--------------------------------------------+
 *   off = SL_LARGE_HDR (64) normally; = alignment for memalign > 64.
 *   Every chunk of the mapping maps to its header, so an interior pointer
 *   is recognised as "not a block", not as foreign.
 *   Live mappings are on heap->large_live; freed ones go to the cache
 *   (heap->large_cache, most recent first) while
 *       cache_bytes <= opts.large_cache  and  |cache| <= SL_LARGE_CACHE_MAX,
 *   the oldest being unmapped first;  cache_resident == sum of resident
 *   (pages past `resident` were discarded on the way in). A cached mapping keeps its map entries
 *   (state SL_LARGE_CACHED) so freeing its pointer again is a double free.
 *                                                              "sl.large"
 * Heap counters (sl.counts):
 *   footprint == meta_bytes + sum(page_size) + sum(large map_size, live and
 *   cached);
 *   meta_bytes == SL_OS_PAGE * (|heap_touched| + sum over tracked leaves
 *                 |leaf_touched[i]|) + (leaves - tracked) * SL_LEAF_BYTES
 *   (|x| = bits set), and the OS page holding the map entry of every chunk
 *   of every page and large mapping is marked touched; tracked ==
 *   min(leaves, SL_LEAF_TRACK). Metadata is counted by the 4 KiB pages
 *   written, not by the 256 KiB map top and 512 KiB leaves reserved: a
 *   heap holding one 32-byte block counts 16 KiB of metadata, not 836.
 *   page_count == |all-list|; cls[c].pages == pages of class c;
 *   hot_leaf == map[hot_key].
 * Empty state (sl_check_empty, "sl.empty"): every check above, no live
 *   block, no live large mapping (cached ones are fine), cls[c].pages <=
 *   page_reserve for every class.
 * footprint counts mapped bytes of pages and large blocks (resident once
 *   used) and written pages of metadata (the rest of the map is reserved
 *   address space that never becomes resident).
 *
 * ---------------------------------------------------------------------------
 * Costs (x86-64, clang -O2, counted with callgrind on the 7-size benchmark
 * loop): malloc fast path 28 instructions (one load of direct[] finds the
 * page, pop, bitmap set); free 51 (hot-leaf map load, header, multiply-
 * based grid check, bitmap test and clear, push, keep-flag test). glibc's
 * tcache pair costs ~125. Timed in one process (best of 15, quiet moments
 * of a shared 2-vCPU VM), both called through a function pointer:
 * malloc(32)+free ~3.6-6 ns vs glibc ~8-10 ns. Everything else is O(1)
 * except slicing (<= SL_SLICE_BYTES of stores, amortised O(1) per block)
 * and large mappings (O(chunks) map writes, dwarfed by their page faults).
 *
 * How free() finds and trusts the page: the chunk's map entry, nothing
 * else. Pages are chunk-aligned like masked designs, but the mask alone
 * would trust whatever lies at the masked address (the original's bug
 * class); the per-instance map both validates ownership and names the
 * header, in two dependent loads (one when the pointer is in hot_leaf).
 *
 * ---------------------------------------------------------------------------
 * Threads (shared.c; used by the drop-in's alloc/malloc/vm_heaps.c). An
 * instance stays single-threaded: one holder at a time, handed over with
 * acquire/release by the layer above. What other threads need from it:
 *   shared map  one process-wide radix table chunk -> header, with atomic
 *               entries, written beside the heap's own map by sl_map_set
 *               for heaps that called sl_heap_share. Any thread reads it:
 *                   shared[chunk] == h->map[chunk] for every shared heap h
 *                   and every chunk h holds                   "sl.shared"
 *               Leaves are installed with a CAS and never freed.
 *   owner       header->heap->share_ctx: immutable while a block is live
 *               (a page never changes heap; a live large mapping is not
 *               unmapped), so sl_shared_owner needs no lock.
 *   block size  from immutable header fields (blocks, grid_bytes,
 *               block_size; a large block's payload and map_size, which
 *               change only when the block is not live or is being
 *               realloc'ed by its holder); never the owner-only bitmap.
 * The remote-free list itself lives in the layer above: it hands blocks
 * back to the holder, which frees them through sl_free, so the bitmap
 * still reports a double free, once the block reaches its owner.
 */
#ifndef VEDALLOC_SLAB_TYPES_H
#define VEDALLOC_SLAB_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/internal.h"
#include "alloc/slab/slab.h"

/* ---------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------- */
#define SL_CLASS_COUNT 41            /* size classes, 8 .. 32768 */
#define SL_MAX_SMALL 32768u          /* largest class: above it, a large mapping */
#define SL_SMALL_PAGE (64u << 10)    /* page of a class with blocks <= 1 KiB */
#define SL_MEDIUM_PAGE (512u << 10)  /* page of a class with blocks > 1 KiB */
#define SL_MEDIUM_MIN 1024u          /* blocks above this use SL_MEDIUM_PAGE */
#define SL_GRID_ALIGN_MAX 4096u      /* largest alignment a page grid provides */
#define SL_SLICE_BYTES 4096u         /* bump slicing step (at least one block) */
#define SL_CHUNK_SHIFT 16            /* chunk = 64 KiB: page map granularity */
#define SL_CHUNK ((size_t)1 << SL_CHUNK_SHIFT)
#define SL_ADDR_BITS 47              /* user address space on x86-64 / arm64 */
#define SL_LEAF_BITS 16              /* chunks per map leaf: 2^16 (4 GiB) */
#define SL_TOP_BITS (SL_ADDR_BITS - SL_CHUNK_SHIFT - SL_LEAF_BITS) /* 15 */
#define SL_LEAF_BYTES (sizeof(void *) << SL_LEAF_BITS) /* 512 KiB, lazily touched */
#define SL_LEAF_TRACK 64u            /* leaves remembered for destroy */
#define SL_OS_PAGE 4096u             /* metadata is counted by touched OS pages */
#define SL_LEAF_PAGES (SL_LEAF_BYTES / SL_OS_PAGE) /* 128 per leaf */
#define SL_HEAP_TOUCH_WORDS 2u       /* bits for the heap mapping's pages */
#define SL_LARGE_HDR 64u             /* payload offset of a large block */
#define SL_LARGE_CACHE_MAX 32u       /* cached large mappings, at most */
#define SL_DIRECT (SL_MEDIUM_MIN / 8 + 1) /* direct[]: sizes <= 1 KiB by 8 */
#define SL_COLORS 16u                /* page header offsets: 0, 64, .. 960 */
#define SL_IDLE_PER_RESERVE (1u << 20) /* idle pool budget per unit of
                                          opts.page_reserve */
#define SL_IDLE_DECAY_NS 20000000ull  /* pooled pages younger than this stay
                                         even over the budget (20 ms) */

/* Object kinds a map entry can point at (first field of both headers). */
#define SL_KIND_PAGE 0x5A5A0001u
#define SL_KIND_LARGE 0x5A5A0002u

/* Where a page is listed (its `list` field). */
#define SL_LIST_AVAIL 1 /* on avail[class] */
#define SL_LIST_FULL 2  /* on no class list: every block sliced and live */
#define SL_LIST_EMPTY 3 /* on empty[class]: used == 0, kept for reuse */
#define SL_LIST_IDLE 4  /* in the heap's idle pool: used == 0, any class */

/* Large mapping states. */
#define SL_LARGE_LIVE 1   /* payload handed out */
#define SL_LARGE_CACHED 2 /* freed, kept for reuse, still in the map */

/* Metadata is poisoned under ASan; functions that read it are exempt from
 * ASan's checks so that only the *caller's* stray accesses are reported. */
#ifdef VA_ASAN
#define SL_META __attribute__((no_sanitize("address")))
#else
#define SL_META
#endif

/* ---------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------- */
struct sl_heap;

/* A free block: its first 8 bytes link the page's LIFO free list. */
typedef struct sl_block {
  struct sl_block *next; /* next free block of the same page, or NULL */
} sl_block_t;

/* Header of a page, at its start. Hot fields first (one cache line). */
typedef struct sl_page {
  uint32_t kind;           /* SL_KIND_PAGE */
  uint8_t class_idx;       /* size class of every block */
  uint8_t keep;            /* 1 iff avail head and empty_count < reserve:
                              free may leave it empty without a slow path */
  uint8_t list;            /* SL_LIST_*: which list holds the page */
  uint8_t color;           /* header offset from the mapping start / 64 */
  uint32_t used;           /* live blocks */
  uint32_t bumped;         /* blocks sliced so far: [0, bumped) */
  sl_block_t *free;        /* LIFO of free sliced blocks; NULL iff full */
  uint8_t *blocks;         /* grid start: block i at blocks + i * block_size */
  uint64_t div_magic;      /* ceil(2^32 / block_size): offset -> index */
  uint32_t block_size;     /* bytes per block == sl_class_size(class_idx) */
  uint32_t capacity;       /* blocks in the grid */
  uint32_t grid_bytes;     /* capacity * block_size */
  uint32_t page_size;      /* bytes of the mapping (chunk multiple) */
  struct sl_page *next;    /* avail list (or empty list), toward the tail */
  struct sl_page *prev;    /* avail list, toward the head; NULL at head */
  struct sl_page *all_next; /* heap's list of every page */
  struct sl_page *all_prev;
  struct sl_heap *heap;    /* owner (for the future remote-free path) */
  uint64_t idle_since;     /* in the idle pool: sl_now_ns() when it entered */
  uint64_t bitmap[];       /* bit i set <=> block i live; ceil(capacity/64) words */
} sl_page_t;

/* Header of a large mapping, at its start. */
typedef struct sl_large {
  uint32_t kind;          /* SL_KIND_LARGE */
  uint32_t state;         /* SL_LARGE_LIVE or SL_LARGE_CACHED */
  size_t map_size;        /* bytes mapped, chunk multiple */
  uint8_t *payload;       /* the block handed out */
  struct sl_large *next;  /* live list or cache list (cache: toward older) */
  struct sl_large *prev;
  struct sl_heap *heap;   /* owner */
  size_t resident;        /* cached: bytes from the start whose pages were kept */
  uint64_t pad[1];        /* header is SL_LARGE_HDR bytes */
} sl_large_t;

/* Per-class bookkeeping other than the hot avail head. */
typedef struct sl_class {
  sl_page_t *avail_tail; /* last page of avail[c] (NULL when empty) */
  sl_page_t *empty;      /* idle pages, singly linked via next */
  uint32_t empty_count;  /* |empty| */
  uint32_t pages;        /* pages of this class held */
} sl_class_t;

/* A heap: lives at the start of its own mapping, followed by the map top. */
typedef struct sl_heap {
  sl_page_t *direct[SL_DIRECT];      /* hot: avail head of sl_class_by8[k] */
  sl_page_t *avail[SL_CLASS_COUNT]; /* head of each avail list */
  uintptr_t hot_key;                /* top index of hot_leaf (~0: none) */
  void **hot_leaf;                  /* == map[hot_key]: the first leaf made */
  va_options_t opts;                /* copied at create */
  sl_class_t cls[SL_CLASS_COUNT];
  sl_page_t *all;                   /* every page of the heap */
  size_t page_count;                /* |all| */
  sl_large_t *large_live;           /* live large mappings */
  size_t large_count;               /* |large_live| */
  sl_large_t *large_cache;          /* freed large mappings, newest first */
  sl_large_t *large_cache_tail;     /* oldest cached (evicted first) */
  size_t cache_count;               /* |large_cache| */
  size_t cache_bytes;               /* sum of cached map_size */
  size_t cache_resident;            /* sum of cached resident */
  size_t footprint;                 /* bytes mapped, metadata included */
  size_t peak_footprint;            /* max footprint so far */
  size_t meta_bytes;                /* touched pages of the heap mapping and
                                       of the map leaves (types.h) */
  size_t leaves;                    /* map leaves allocated */
  uint32_t leaf_keys[SL_LEAF_TRACK]; /* top indices of the first leaves, so
                                       destroy need not read all of map[] */
  uint64_t leaf_touched[SL_LEAF_TRACK][SL_LEAF_PAGES / 64]; /* OS pages of
                                       leaf i written (entries set) */
  uint64_t heap_touched[SL_HEAP_TOUCH_WORDS]; /* OS pages of this mapping
                                       written: the struct, map[] slots set */
  size_t heap_bytes;                /* size of this mapping */
  size_t last_touched;              /* pages/mappings touched by last op */
  uint32_t next_color;              /* colour of the next page created */
  sl_page_t *idle[2];               /* idle pool by page size (0: 64 KiB,
                                       1: 512 KiB), newest first */
  sl_page_t *idle_tail[2];          /* oldest of each (released first) */
  size_t idle_count;                /* pages in both pools */
  size_t idle_bytes;                /* their page_size sum */
  uint64_t idle_decay;              /* SL_IDLE_DECAY_NS (tests set 0) */
  uint64_t idle_clock;              /* sl_now_ns() of the last release pass */
  bool shared;                      /* chunks also entered in the shared map */
  void *share_ctx;                  /* tag returned by sl_shared_owner */
  void **map[];                     /* 2^SL_TOP_BITS leaf pointers */
} sl_heap_t;

/* Bytes of empty pages the idle pool may hold (types.h, "sl.idle"). */
SL_META static inline size_t sl_idle_budget(const sl_heap_t *h) {
  size_t r = h->opts.page_reserve;
  return r > SIZE_MAX / SL_IDLE_PER_RESERVE ? SIZE_MAX : r * SL_IDLE_PER_RESERVE;
}

/* Monotonic time for the idle pool's decay (coarse clock: ~10 ns). */
uint64_t sl_now_ns(void);

/* Mark OS page i of a bitmap touched; true if it was not (count it). */
SL_META static inline bool sl_touch(uint64_t *bits, size_t i) {
  uint64_t m = (uint64_t)1 << (i & 63);
  if (bits[i >> 6] & m) return false;
  bits[i >> 6] |= m;
  return true;
}

/* Start of the mapping holding page pg. */
#define SL_PAGE_BASE(pg) ((uint8_t *)(pg) - (size_t)(pg)->color * 64)

/* The avail head of a class with no page: free == NULL, never written. */
extern const sl_page_t sl_page_none;
#define SL_NONE ((sl_page_t *)&sl_page_none)

/* ---------------------------------------------------------------------------
 * Helpers shared by slab.c, large.c and check.c
 * ------------------------------------------------------------------------- */
extern const uint32_t sl_class_sizes[SL_CLASS_COUNT];
/* Class of every n <= 1024 by (n + 7) / 8 (class sizes are multiples of 8,
 * so no boundary falls strictly inside an 8-byte step): one load. */
extern const uint8_t sl_class_by8[SL_MEDIUM_MIN / 8 + 1];

/* Class of a request 0 <= n <= SL_MAX_SMALL (O(1) arithmetic). */
static inline size_t sl_class_of(size_t n) {
  if (VA_LIKELY(n <= SL_MEDIUM_MIN)) return sl_class_by8[(n + 7) >> 3];
  unsigned b = 63u - (unsigned)__builtin_clzl(n - 1); /* 2^b < n <= 2^(b+1) */
  return 9 + (b - 7) * 4 + ((n - 1 - ((size_t)1 << b)) >> (b - 2));
}

static inline size_t sl_class_page_size(size_t c) {
  return sl_class_sizes[c] <= SL_MEDIUM_MIN ? SL_SMALL_PAGE : SL_MEDIUM_PAGE;
}

/* Map entry of the chunk holding p, or NULL if p is not in this heap.
 * The leaf of the first page (hot_leaf: nearly every pointer of a heap under
 * 4 GiB) is reached without the top-level load, shortening free's chain of
 * dependent loads by one. */
SL_META static inline void *sl_map_get(const sl_heap_t *h, const void *p) {
  uintptr_t a = (uintptr_t)p, key = a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS);
  void **leaf = h->hot_leaf;
  if (VA_UNLIKELY(key != h->hot_key)) {
    if (VA_UNLIKELY(a >> SL_ADDR_BITS)) return NULL;
    leaf = h->map[key];
    if (VA_UNLIKELY(leaf == NULL)) return NULL;
  }
  return leaf[(a >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1)];
}

/* Block index of p in pg, or UINT32_MAX when p is not on the grid. */
SL_META static inline uint32_t sl_page_index(const sl_page_t *pg, const void *p) {
  if (VA_UNLIKELY((uintptr_t)p < (uintptr_t)pg->blocks)) return UINT32_MAX;
  size_t off = (uintptr_t)p - (uintptr_t)pg->blocks;
  if (off >= pg->grid_bytes) return UINT32_MAX;
  size_t idx = (off * pg->div_magic) >> 32;
  return idx * pg->block_size == off ? (uint32_t)idx : UINT32_MAX;
}

/* Set the map entries of [base, base+size) to v (NULL clears); false if a
 * leaf could not be mapped (nothing changed then for set). */
bool sl_map_set(sl_heap_t *h, void *base, size_t size, void *v);

/* Process-wide map (shared.c): set [base, base+size) to v (NULL clears);
 * false if a leaf could not be mapped (then nothing changed). Read: the
 * header owning p's chunk, or NULL. */
bool sl_shared_set(void *base, size_t size, void *v);
void *sl_shared_get(const void *p);

/* Report misuse through the heap's hook. The options are copied out of the
 * (poisoned) heap first: the hook and va_raise are the caller's code. */
void sl_raise(sl_heap_t *h, va_error_kind_t kind, const char *op,
              const void *p);

/* Footprint bookkeeping. */
void sl_footprint_add(sl_heap_t *h, size_t bytes);

/* OS layer (os.c, the only file that calls mmap). */
void *sl_os_map(size_t size, size_t align); /* align: power of two; NULL on failure */
void sl_os_unmap(void *p, size_t size);
bool sl_os_grow(void *p, size_t old_size, size_t new_size); /* in place or false */
void sl_os_trim(void *p, size_t old_size, size_t new_size); /* give back the tail */
void sl_os_discard(void *p, size_t size); /* drop the pages, keep the range */

/* Large mappings (large.c). */
void *sl_large_alloc(sl_heap_t *h, size_t n, size_t align, bool *fresh);
void sl_large_free(sl_heap_t *h, sl_large_t *lg, void *p, const char *op);
void *sl_large_realloc(sl_heap_t *h, sl_large_t *lg, void *p, size_t n);
bool sl_large_valid(sl_heap_t *h, sl_large_t *lg, const void *p, const char *op);
size_t sl_large_usable(const sl_large_t *lg);
void sl_large_cache_flush(sl_heap_t *h); /* unmap every cached mapping */
void sl_large_destroy_all(sl_heap_t *h);

/* Checker pieces (check.c). */
bool sl_check(void *heap, va_report_t *r);
bool sl_check_empty(void *heap, va_report_t *r);
void sl_stats(void *heap, va_stats_t *st);

#endif /* VEDALLOC_SLAB_TYPES_H */
