/* vedalloc V2 — slab allocator: the private types, and the design.
 *
 * This header is the architecture document of V2. Terms:
 *   class    one block size; every small request is served by the class of
 *            the smallest size >= the request (class.h).
 *   chunk    64 KiB of address space aligned to 64 KiB: the unit of the page
 *            map. Every mapping V2 makes is chunk-aligned and a whole number
 *            of chunks, so a chunk belongs to at most one V2 object.
 *   segment  4 MiB aligned to 4 MiB (64 chunks) that a heap reserves; its
 *            pages and large blocks up to 1 MiB are runs of its chunks
 *            (segment.h has the layout and the "sl.segment" invariants).
 *   page     one run of chunks of a class: a header, then a grid of equal
 *            blocks. 64 KiB for blocks <= 1 KiB, 512 KiB above.
 *   link     a free block's first word: the next free block of its page,
 *            encoded as next ^ free_key ^ the block's own address.
 *   large    one block above the top class (32 KiB), alone in its chunks: a
 *            run carved from a segment up to SL_SEG_CARVE_MAX, else a
 *            mapping of its own.
 *   map      per-heap radix table: chunk -> the page or large header that
 *            owns it. The ONLY way free() decides that a pointer is ours.
 *   empty    a page with no live block (used == 0). Where an empty page
 *            goes is policy, with two names:
 *   reserve  the empty pages a class keeps for itself, at most
 *            opts.page_reserve: its reserve list plus an empty avail head;
 *   idle     the heap-wide pool of empty pages beyond the reserves, any
 *            class, bounded by a budget and a decay; reused by any class of
 *            the same page size, else given back to the OS.
 *
 * Layers (calls go down only; each file includes the headers below it):
 *   slab.c   entry points, slow paths, instances, threads   (+ fast.h)
 *   page.c   pages, class lists, reserve, idle pool   large.c  large blocks
 *   segment.c  4 MiB reservations the pages and large blocks up to
 *            SL_SEG_CARVE_MAX are carved from; lazy decommit (segment.h)
 *   map.c    the heap's page map, the shared map, metadata accounting
 *   os.c     mmap, munmap, madvise, the clock
 *   class.h  size classes (pure arithmetic);  types.h  this file
 *   check.c  the checker and statistics: reads every layer, calls none but
 *            map.h's lookups (slab.c calls it after every op at level 3).
 *
 * ---------------------------------------------------------------------------
 * Page layout (page_size = 64 KiB or 512 KiB, chunk-aligned):
 *
 *   base        pg = base + 64*color                          base + page_size
 *   |           |                                                              |
 *   +-------+---------+- - - - - - - - - -+-----+-----+-------+-----+-----+----+
 *   |colour | sl_page | remote[] rnode[]  | gap |guard| blk 0 | ... | blk |tail|
 *   | pad   | header  | (shared heaps)    |     | 8 B |       |     |cap-1|    |
 *   +-------+---------+- - - - - - - - - -+-----+-----+-------+-----+-----+----+
 *   ^ all poisoned (metadata)             ^ blocks = grid start, aligned
 *                                   to the lowest set bit of block_size (<= 4096),
 *                                   so a class whose size is a multiple of
 *                                   A (a power of two <= 4096) serves
 *                                   memalign(A).
 *   guard: SL_PAGE_GUARD, the first word an underflow out of block 0
 *   reaches: a misuse verdict (double free, not a block) on the page is
 *   corruption instead while it is overwritten.            "sl.page_guard"
 *   remote[w]: blocks w*63 .. w*63+62 freed by other threads, bit 63 "queued";
 *   on a cache line of its own (other threads write it); rnode[w]: the node
 *   that queues word w on the heap. Present only in pages of shared heaps.
 *   Cache colouring: the header sits 64 * color bytes into the mapping
 *   (color = pages created so far % SL_COLORS). Every mapping is 64 KiB
 *   aligned, so uncoloured headers would all fall in the same few L1
 *   sets: an 8-way L1 holds at most 8 of them, fewer than the classes a
 *   real program keeps hot. This is insurance for
 *   wide class mixes, at <= 960 bytes per page. The map entry points at the
 *   header, not the mapping.
 *   blocks [0, bumped) have been sliced: each is live or on the free list.
 *   Blocks [bumped, capacity) are the unsliced bump region (never handed
 *   out, poisoned): a fresh page costs O(1), the free list is extended
 *   SL_SLICE_BYTES at a time.
 *
 *   A free block:   +---------------------+----------------------+
 *                   | link (8 B)          | (stale user bytes)   |  poisoned
 *                   +---------------------+----------------------+
 *                   link == next ^ free_key ^ (uintptr_t)block
 *   A live block:   all block_size bytes unpoisoned and the caller's; its
 *                   link word was zeroed when it was handed out.
 *   Liveness is the free list itself: block i < bumped is live iff it is
 *   not on it. The encoded link answers "is p free?" in one load of p's
 *   own line: a free block's link decodes to NULL or to a block of its
 *   page; a live block's first word (zero when handed out, or the user's
 *   bytes) does so only by chance, at most 1 in 2^45 (a 512 KiB grid among
 *   2^64 words) for bytes that do not know the secret key (a pointer into
 *   the same page decodes to a non-canonical address), and then a walk of
 *   the list decides (glibc's
 *   tcache key and safe-linking, in one word, so the 8-byte class has it
 *   too). free_key has bit 63 set, so the zero word decodes to a
 *   non-canonical address: never a link. malloc decodes the link of the
 *   block it hands out and zeroes it, so a block is never handed out
 *   twice: a use after free that overwrote a link (and freed the block
 *   again) is reported when the block is next popped.
 *
 * Page invariants (checked by sl_check, names in quotes):
 *   used + |free| + (capacity - bumped) == capacity          "sl.capacity"
 *   every free node n: blocks <= n < blocks + bumped*block_size
 *                                                      "sl.freelist_bounds"
 *   (n - blocks) % block_size == 0                       "sl.freelist_grid"
 *   the free list has no repeated node and ends (|free| <= capacity)
 *                                                       "sl.freelist_cycle"
 *   links decode with free_key == heap->free_key (bit 63 set) "sl.free_key"
 *   page on its class's avail list  <=>  |free| + (capacity - bumped) > 0,
 *   and then freelist != NULL (a page is refilled when its list runs dry;
 *   freelist == NULL  <=>  the page is full)               "sl.avail_list"
 *   block_size == sl_class_size(class_idx), page->heap == heap, map entry
 *   of each chunk of the page == page                      "sl.page_class"
 *   reserve of class c == |reserve list(c)| + [avail head(c) is empty]
 *   <= page_reserve; pages on the reserve list have used == 0 "sl.reserve"
 *   keep_empty == (page is its class's avail head && reserve_count <
 *   page_reserve): the cached answer to "may a free leave this page empty
 *   where it is?", so free's fast path reads no heap field "sl.avail_list"
 *   remote words (shared heaps only): a set bit marks a live block (sliced,
 *   on no free list); a word is queued (bit 63)  <=>  it marks a block  <=>  its
 *   node is on heap->remote_queue, once; a private heap's pages have none
 *   and its queue is empty; the same for a large mapping's word (bit 0:
 *   the block, live)                                           "sl.remote"
 *
 * Lists of a class c (all doubly linked through next/prev unless noted):
 *   avail[c]   pages with a free block; head is the page malloc pops from.
 *              Empty when it points at the immutable sentinel sl_page_none
 *              (freelist == NULL), so the fast path needs no NULL test. A
 *              page that stops being full is appended at the TAIL, so the
 *              only avail page that may be empty is the head:
 *                  every avail page but the head has used > 0.
 *   reserve[c] singly linked (next) empty pages the class keeps.
 *   full pages are on no class list; every page is on the heap's all-list.
 *   direct[k] == avail[sl_class_by8[k]] for k = (n + 7) / 8, n <= 1 KiB: a
 *   copy indexed by size (mimalloc's "pages_direct") so the malloc fast path
 *   reaches the page in one load instead of two; rewritten (<= 16 entries)
 *   only when an avail head changes.                       "sl.avail_list"
 *
 * The idle pool ("sl.idle"): pages of any class, doubly linked per page
 * size (idle[0]: 64 KiB, idle[1]: 512 KiB), newest first, idle_since not
 * increasing toward the tail; idle_bytes == sum of their page_size; over
 * sl_idle_budget only with pages younger than the decay.
 *
 * ---------------------------------------------------------------------------
 * Large mapping layout (chunk-aligned, map_size a multiple of 64 KiB):
 *
 *   base                    payload = base + off                base+map_size
 *   +-------------+---------+--------------------------------------------+
 *   | sl_large_t  | (pad to |  the block: usable = map_size - off bytes  |
 *   | (poisoned)  |  align) |                                            |
 *   +-------------+---------+--------------------------------------------+
 *   off = SL_LARGE_HDR (128) normally; = alignment for memalign > 128.
 *   Every chunk of the mapping maps to its header, so an interior pointer
 *   is recognised as "not a block", not as foreign.
 *   Live mappings are on heap->large_live; freed ones go to the cache
 *   (heap->large_cache, most recent first) while
 *       cache_bytes <= opts.large_cache  and  |cache| <= SL_LARGE_CACHE_MAX,
 *   the oldest being unmapped first;  cache_resident == sum of resident
 *   (pages past `resident` were discarded on the way in), and
 *   cache_resident <= max(opts.large_resident, one header page per entry);
 *   cached_at does not increase toward the tail, and with a decay every
 *   entry cached at or before cache_clock - idle_decay kept only its
 *   header page (the pass at cache_clock shed it).
 *   A cached mapping keeps its map entries (state SL_LARGE_CACHED) so
 *   freeing its pointer again is a double free.                 "sl.large"
 *   A header is trusted only when it agrees with what the user cannot
 *   reach (sl_large_fault, before free, realloc or a remote free follow
 *   it): kind, state, the guard words, size, payload and queue node
 *   consistent; heap == h; the page map names it for its last chunk and
 *   not for the chunk past it; prev and next are headers the map names,
 *   pointing back (NULL prev: it heads its list).
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
 *
 * ---------------------------------------------------------------------------
 * What ASan sees. Metadata that shares a mapping with user blocks is
 * poisoned: page headers, colour pads, gaps and tails, free and
 * unsliced blocks, large headers. A caller's overflow into any of it is an
 * ASan report. V2 itself reads and writes that metadata only through the
 * accessors below (SL_META: the only uninstrumented V2 code, one line
 * each, as V1's), so every other V2 function is instrumented and a stray
 * access of V2's own is reported too. The heap record, the map top and the
 * leaves live in mappings of their own, which no block borders, so they
 * are plain memory. In a segment, the start of chunk 0 and every run
 * given back are poisoned; the header at the end of chunk 0 borders only
 * chunk 1's metadata and is plain memory; chunks never carved are as the
 * mapping left them (segment.h).
 *
 * Costs (x86-64, clang -O2, the drop-in's exported malloc and free read
 * with objdump and counted with callgrind): malloc's fast path is 25
 * instructions to its return, mode, slot and size tests included (one
 * load of direct[] finds the page; decode the head's link, test it, zero
 * the word, pop); free's ~45 (slot, remote-pending test, hot-leaf map
 * load, header, multiply-based grid check against bumped, decode of p's
 * first word, push, keep_empty test). A 64 B pair is 88 instructions
 * (callgrind, 2026-12-08; 96 with the live bitmap the encoded links
 * replaced), against tcmalloc's 70, mimalloc's 106 and glibc's ~130; the
 * page-map lookup and the exact grid check are most of the difference
 * from tcmalloc. Everything else is O(1) except slicing (<=
 * SL_SLICE_BYTES of stores, amortised O(1) per block), the list walk
 * that settles a block which looks free (O(free blocks of its page):
 * double frees, and live bytes that decode to a link by a 2^-45 chance)
 * and large mappings (O(chunks) map writes, dwarfed by their page
 * faults).
 *
 * How free() finds and trusts the page: the chunk's map entry, nothing
 * else. Pages are chunk-aligned like masked designs, but the mask alone
 * would trust whatever lies at the masked address (the original's bug
 * class); the per-instance map both validates ownership and names the
 * header, in two dependent loads (one when the pointer is in hot_leaf).
 *
 * ---------------------------------------------------------------------------
 * Threads (slab.c's sharing; used by the drop-in's alloc/malloc/vm_heaps.c).
 * An instance stays single-threaded: one holder at a time, handed over with
 * acquire/release by the layer above. What other threads need from it:
 *   shared map  a radix table chunk -> header with atomic entries, one per
 *               set of heaps that free each other's blocks (the drop-in has
 *               one for the process), written beside each member heap's own
 *               map by sl_map_set. Any thread reads it:
 *                   shared[chunk] == h->map[chunk] for every member heap h
 *                   and every chunk h holds                   "sl.shared"
 *               Leaves are installed with a CAS and freed with the map.
 *   owner       header->heap->share_ctx: immutable while a block is live
 *               (a page never changes heap; a live large mapping is not
 *               unmapped), so sl_shared_owner needs no lock.
 *   block size  from immutable header fields (blocks, grid_bytes,
 *               block_size; a large block's payload and map_size, which
 *               change only when the block is not live or is being
 *               realloc'ed by its holder); never the owner-only free list.
 *   remote free sl_remote_free, from any thread: checks p from those
 *               fields, p's first word and its remote word (a block whose
 *               word decodes to a link, or freed remotely already, is a
 *               double free, reported at once: no list is walked), then
 *               one atomic OR marks it in its page's remote word; the
 *               first mark of a word also queues the word's node on the
 *               heap (one CAS), and that is the last touch of the page: a
 *               queued word keeps a live block, so the page stays until its
 *               holder drains. Nothing is written into the block.
 *               sl_remote_drain (the holder) takes the queue and frees
 *               every marked block as free() would; V2's allocation
 *               slow paths call it when the queue is not empty (and the
 *               drop-in's free before its own fast path), never its malloc
 *               fast path: between two drains a queued word gathers every
 *               block freed into it at one OR each, no CAS.
 */
#ifndef VEDALLOC_SLAB_TYPES_H
#define VEDALLOC_SLAB_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/internal.h"
#include "alloc/slab/os.h"
#include "alloc/slab/slab.h"

/* ---------------------------------------------------------------------------
 * Constants
 * ------------------------------------------------------------------------- */
#define SL_CLASS_COUNT 61            /* size classes, 8 .. 32768 */
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
#define SL_LARGE_HDR 128u            /* payload offset of a large block */
#define SL_LARGE_GUARD 0x5632474c52414447ull /* large header guard word */
#define SL_PAGE_GUARD 0x5632504147554152ull  /* the word just below a page's block 0 */
#define SL_LARGE_GUARDS {SL_LARGE_GUARD, SL_LARGE_GUARD, SL_LARGE_GUARD, SL_LARGE_GUARD}
#define SL_LARGE_CACHE_MAX 32u       /* cached large mappings, at most */
#define SL_DIRECT (SL_MEDIUM_MIN / 8 + 1) /* direct[]: sizes <= 1 KiB by 8 */
#define SL_COLORS 16u                /* page header offsets: 0, 64, .. 960 */
#define SL_IDLE_PER_RESERVE (1u << 20) /* idle pool budget per unit of
                                          opts.page_reserve */
#define SL_RBITS 63u                  /* blocks per remote-free word */
#define SL_RQUEUED ((uint64_t)1 << 63) /* a remote-free word's "on the queue" bit */
#ifndef SL_SEG_SHIFT                 /* -DSL_SEG_SHIFT=20..22: the measurement in segment.c */
#define SL_SEG_SHIFT 22               /* segment = 4 MiB (segment.h) */
#endif
#define SL_SEG_BYTES ((size_t)1 << SL_SEG_SHIFT)
#define SL_SEG_CHUNKS (SL_SEG_BYTES / SL_CHUNK) /* 64: one bitmap word */
#define SL_SEG_ALL (SL_SEG_CHUNKS >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << SL_SEG_CHUNKS) - 1)
_Static_assert(SL_SEG_CHUNKS >= 16 && SL_SEG_CHUNKS <= 64, "a segment's chunks fit one word");
/* Larger mappings are the OS's alone; a page always fits. */
#define SL_SEG_CARVE_MAX (SL_SEG_BYTES / 4 > SL_MEDIUM_PAGE ? SL_SEG_BYTES / 4 : SL_MEDIUM_PAGE)
#define SL_SEG_HDR 72u                /* bytes of a segment's header */

/* Object kinds a map entry can point at (first field of both headers). */
#define SL_KIND_PAGE 0x5A5A0001u
#define SL_KIND_LARGE 0x5A5A0002u
#define SL_KIND_SEG 0x5A5A0003u   /* a segment header (never in the map) */

/* Where a page is listed (its `list` field). */
#define SL_LIST_AVAIL 1   /* on avail[class] */
#define SL_LIST_FULL 2    /* on no class list: every block sliced and live */
#define SL_LIST_RESERVE 3 /* on reserve[class]: empty, kept by its class */
#define SL_LIST_IDLE 4    /* in the heap's idle pool: empty, any class */

/* Large mapping states. */
#define SL_LARGE_LIVE 1   /* payload handed out */
#define SL_LARGE_CACHED 2 /* freed, kept for reuse, still in the map */

/* Metadata accessors (see "What ASan sees"): exempt from ASan, nothing else
 * is. Without ASan they are plain field accesses and inline away. */
#ifdef VA_ASAN
#define SL_META __attribute__((no_sanitize("address"))) VA_NO_COVERAGE static inline
#else
#define SL_META VA_NO_COVERAGE static inline
#endif

/* ---------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------- */
struct sl_heap;

/* A free block: its first 8 bytes link the page's LIFO free list,
 * encoded (Page layout: the link). */
typedef struct sl_block {
  uintptr_t link; /* next free block of the page (or NULL) ^ free_key ^ &link */
} sl_block_t;

/* Header of a page, at its start. Hot fields first (one cache line). */
typedef struct sl_page {
  uint32_t kind;           /* SL_KIND_PAGE */
  uint8_t class_idx;       /* size class of every block */
  uint8_t keep_empty;      /* 1 iff avail head and reserve_count < reserve:
                              free may leave it empty without a slow path */
  uint8_t list;            /* SL_LIST_*: which list holds the page */
  uint8_t color;           /* header offset from the mapping start / 64 */
  uint32_t used;           /* live blocks */
  uint32_t bumped;         /* blocks sliced so far: [0, bumped) */
  sl_block_t *freelist;    /* LIFO of free sliced blocks; NULL iff full */
  uint8_t *blocks;         /* grid start: block i at blocks + i * block_size */
  uint64_t div_magic;      /* ceil(2^64 / block_size): offset -> index
                              and exactness (sl_page_slot) */
  uint32_t block_size;     /* bytes per block == sl_class_size(class_idx) */
  uint32_t capacity;       /* blocks in the grid */
  uint32_t grid_bytes;     /* capacity * block_size */
  uint32_t page_size;      /* bytes of the mapping (chunk multiple) */
  uint64_t free_key;       /* == heap->free_key: the links' key, on the
                              line free and malloc read anyway */
  struct sl_page *next;    /* avail, reserve or idle list, toward the tail */
  struct sl_page *prev;    /* avail or idle list, toward the head; NULL at head */
  struct sl_page *all_next; /* heap's list of every page */
  struct sl_page *all_prev;
  struct sl_heap *heap;    /* owner */
  uint64_t idle_since;     /* in the idle pool: sl_now_ns() when it entered */
  uint64_t *remote;        /* shared heaps: remote-free words (below), else NULL */
  struct sl_rnode *rnode;  /* ... and the queue node of each */
  uint32_t rwords;         /* their count: ceil(capacity / SL_RBITS) */
  uint32_t pad;
} sl_page_t;
_Static_assert(offsetof(sl_page_t, free_key) + 8 <= 64, "the hot fields fill one line");

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
  uint64_t remote;        /* remote-free word: bit 0 the block, SL_RQUEUED */
  struct sl_rnode { struct sl_rnode *next; void *hdr; } rnode; /* its queue node */
  uint64_t carved;        /* 1: its chunks are a segment's (segment.h); 0: a
                             mapping of its own */
  uint64_t cached_at;     /* cached: sl_now_ns() when it was freed */
  uint64_t guard[4];      /* SL_LARGE_GUARD each: the bytes just below the
                             payload, which an underflow reaches first */
} sl_large_t;
_Static_assert(sizeof(sl_large_t) == SL_LARGE_HDR, "large header size");

/* A segment's header, at the end of its chunk 0 (segment.h). Plain memory
 * (no block borders it), owner-only. */
typedef struct sl_seg {
  uint32_t kind;          /* SL_KIND_SEG */
  uint32_t pad0;
  struct sl_heap *heap;   /* owner */
  uint64_t used;          /* bit c: chunk c is handed out (bit 0: chunk 0) */
  uint64_t dirty;         /* bit c: chunk c may be resident and non-zero */
  uint64_t freed_at;      /* sl_now_ns() when a chunk last came back */
  uint64_t dirty_at;      /* ... when the oldest free chunk still resident
                             came back (set when the first one does) */
  struct sl_seg *next;    /* heap's segment list: free chunks first */
  struct sl_seg *prev;
  uint64_t gone;          /* bit c: free chunk c began a carved large block
                             freed whole (until carved again): freeing its
                             payload again is a double free */
} sl_seg_t;
_Static_assert(sizeof(sl_seg_t) == SL_SEG_HDR, "segment header size");

/* A node of a heap's remote queue: one remote-free word of a page (or a
 * large mapping's word) with blocks freed by other threads. */
typedef struct sl_rnode sl_rnode_t;

/* Per-class bookkeeping other than the hot avail head. */
typedef struct sl_class {
  sl_page_t *avail_tail;  /* last page of avail[c] (NULL when empty) */
  sl_page_t *reserve;     /* empty pages kept by the class, linked via next */
  uint32_t reserve_count; /* |reserve| */
  uint32_t pages;         /* pages of this class held */
} sl_class_t;

/* A set of heaps whose blocks any member may be handed (types.h, Threads):
 * the radix table chunk -> header over all of them. */
typedef _Atomic(void *) sl_slot_t;
struct sl_shared_map {
  _Atomic(sl_slot_t *) top[(size_t)1 << SL_TOP_BITS]; /* leaf per 4 GiB, or NULL */
  sl_source_t *src;      /* where its memory comes from (NULL: the OS) */
  atomic_size_t leaves;  /* leaves installed (bounded by address space used) */
  _Atomic uint32_t keys[SL_LEAF_TRACK]; /* top indices of the first leaves +1
                                           (0: none), so destroy need not
                                           read the whole top */
};

/* A heap: lives at the start of its own mapping, followed by the map top. */
typedef struct sl_heap {
  sl_page_t *direct[SL_DIRECT];      /* hot: avail head of sl_class_by8[k] */
  sl_page_t *avail[SL_CLASS_COUNT]; /* head of each avail list */
  uintptr_t hot_key;                /* top index of hot_leaf (~0: none) */
  void **hot_leaf;                  /* == map[hot_key]: the first leaf made */
  uint64_t free_key;                /* the key of its pages' free-list links
                                       (from opts.seed, else random; bit 63
                                       set) */
  va_options_t opts;                /* copied at create */
  sl_source_t *src;                 /* memory source (os.h; NULL: the OS) */
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
  uint64_t cache_clock;             /* sl_now_ns() of the last cache decay pass */
  size_t cache_peak[2];             /* largest mapping cached since that pass,
                                       and in the period before it */
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
  size_t touch_op;                  /* pages the current slow path touched */
  size_t touch_peak;                /* max touch_op over the heap's life: the
                                       O(1) witness (the fast paths touch one
                                       page by construction and count none) */
  uint32_t next_color;              /* colour of the next page created */
  size_t pages_mapped;              /* pages mapped fresh, over the heap's life */
  size_t pages_unmapped;            /* pages given back to the OS, same */
  size_t pages_reformatted;         /* idle pages laid out for another class */
  size_t large_mapped;              /* large mappings made fresh */
  sl_page_t *idle[2];               /* idle pool by page size (0: 64 KiB,
                                       1: 512 KiB), newest first */
  sl_page_t *idle_tail[2];          /* oldest of each (released first) */
  size_t idle_count;                /* pages in both pools */
  size_t idle_bytes;                /* their page_size sum */
  uint64_t idle_decay;              /* opts.page_decay_ns (0: a hard budget) */
  uint64_t idle_clock;              /* sl_now_ns() of the last release pass */
  sl_seg_t *segs;                   /* segments, those with a free chunk first */
  sl_seg_t *seg_tail;               /* ... and the last of them (NULL: none) */
  size_t seg_count;                 /* |segs| */
  uint64_t seg_clock;               /* sl_now_ns() of the last purge pass */
  size_t segs_mapped, segs_unmapped; /* over the heap's life */
  size_t seg_decommits;             /* decommit calls (one per run), same */
  size_t seg_dirty;                 /* free chunks that may be resident, all
                                       segments: sum |dirty & ~used| */
  size_t remote_frees;              /* blocks other threads freed that this
                                       heap took back (written by the
                                       holder only, read by anyone relaxed:
                                       vedalloc_stats) */
  sl_shared_map_t *shared;          /* the shared map this heap is entered
                                       in, or NULL (a private heap) */
  void *share_ctx;                  /* tag returned by sl_shared_owner */
  _Alignas(64) _Atomic(sl_rnode_t *) remote_queue; /* words with blocks other
                                       threads freed (a line of its own:
                                       they write it) */
  char remote_pad[64 - sizeof(void *)];
  void **map[];                     /* 2^SL_TOP_BITS leaf pointers */
} sl_heap_t;

/* ---------------------------------------------------------------------------
 * Metadata accessors: one line per field, the only code ASan does not see.
 * ------------------------------------------------------------------------- */
#define SL_FIELD(obj, type, field)                                             \
  SL_META type obj##_##field(const obj##_t *o) { return o->field; }           \
  SL_META void obj##_set_##field(obj##_t *o, type v) { o->field = v; }

SL_FIELD(sl_page, uint8_t, class_idx)
SL_FIELD(sl_page, uint8_t, keep_empty)
SL_FIELD(sl_page, uint8_t, list)
SL_FIELD(sl_page, uint32_t, used)
/* bumped: written by the holder (slicing), read by a thread freeing a
 * block of the page (relaxed: a live block's index is below it for good). */
SL_META uint32_t sl_page_bumped(const sl_page_t *pg) {
  return __atomic_load_n(&pg->bumped, __ATOMIC_RELAXED);
}
SL_META void sl_page_set_bumped(sl_page_t *pg, uint32_t v) {
  __atomic_store_n(&pg->bumped, v, __ATOMIC_RELAXED);
}
SL_FIELD(sl_page, sl_block_t *, freelist)
SL_FIELD(sl_page, uint8_t *, blocks)
SL_FIELD(sl_page, uint64_t, div_magic)
SL_FIELD(sl_page, uint32_t, block_size)
SL_FIELD(sl_page, uint32_t, capacity)
SL_FIELD(sl_page, uint32_t, grid_bytes)
SL_FIELD(sl_page, uint32_t, page_size)
SL_FIELD(sl_page, uint64_t, free_key)
SL_FIELD(sl_page, sl_page_t *, next)
SL_FIELD(sl_page, sl_page_t *, prev)
SL_FIELD(sl_page, sl_page_t *, all_next)
SL_FIELD(sl_page, sl_page_t *, all_prev)
SL_FIELD(sl_page, struct sl_heap *, heap)
SL_FIELD(sl_page, uint64_t, idle_since)
SL_FIELD(sl_page, uint64_t *, remote)
SL_FIELD(sl_page, sl_rnode_t *, rnode)
SL_FIELD(sl_page, uint32_t, rwords)
SL_FIELD(sl_rnode, sl_rnode_t *, next)
SL_FIELD(sl_rnode, void *, hdr)
SL_FIELD(sl_large, size_t, map_size)
SL_FIELD(sl_large, uint8_t *, payload)
SL_FIELD(sl_large, sl_large_t *, next)
SL_FIELD(sl_large, sl_large_t *, prev)
SL_FIELD(sl_large, struct sl_heap *, heap)
SL_FIELD(sl_large, size_t, resident)
SL_FIELD(sl_large, uint64_t, carved)
SL_FIELD(sl_large, uint64_t, cached_at)
SL_META uint64_t sl_large_guard(const sl_large_t *lg, size_t i) { return lg->guard[i]; }
/* A page's guard word, the 8 bytes below block 0 (Page layout). */
SL_META uint64_t sl_page_guard(const sl_page_t *pg) {
  return *(const uint64_t *)(pg->blocks - 8);
}
SL_META void sl_page_set_guard(const sl_page_t *pg) {
  *(uint64_t *)(pg->blocks - 8) = SL_PAGE_GUARD;
}

/* Kind of the header a map entry names (page or large: first field). */
SL_META uint32_t sl_obj_kind(const void *hdr) { return *(const uint32_t *)hdr; }
SL_META void sl_obj_set_kind(void *hdr, uint32_t k) { *(uint32_t *)hdr = k; }
/* A block's link word, and a large mapping's state: written by the
 * holder only, read by a thread freeing a block of it (relaxed atomics:
 * plain moves, seen as what they are by TSan). */
SL_META uintptr_t sl_block_link(const sl_block_t *b) {
  return __atomic_load_n(&b->link, __ATOMIC_RELAXED);
}
SL_META void sl_block_set_link(sl_block_t *b, uintptr_t v) {
  __atomic_store_n(&b->link, v, __ATOMIC_RELAXED);
}
SL_META uint32_t sl_large_state(const sl_large_t *lg) {
  return __atomic_load_n(&lg->state, __ATOMIC_RELAXED);
}
SL_META void sl_large_set_state(sl_large_t *lg, uint32_t v) {
  __atomic_store_n(&lg->state, v, __ATOMIC_RELAXED);
}
/* A remote-free word (any thread): set bits (returns the old word), take
 * the whole word (the holder), read it (the checker). */
SL_META uint64_t sl_rword_or(uint64_t *w, uint64_t bits) {
  return __atomic_fetch_or(w, bits, __ATOMIC_SEQ_CST);
}
SL_META uint64_t sl_rword_take(uint64_t *w) {
  return __atomic_exchange_n(w, 0, __ATOMIC_ACQ_REL); /* release: the node read before it */
}
SL_META uint64_t sl_rword_get(const uint64_t *w) {
  return __atomic_load_n(w, __ATOMIC_RELAXED);
}
/* Whole headers, for the code that reads or lays out many fields at once
 * (format, the checker): a word-by-word copy, never an intercepted memcpy. */
typedef uint64_t __attribute__((may_alias)) sl_word_t; /* aliases any type */
SL_META void sl_meta_copy(void *dst, const void *src, size_t bytes) {
  sl_word_t *d = dst;
  const sl_word_t *s = src;
  for (size_t i = 0; i < bytes / 8; i++) d[i] = s[i];
}
_Static_assert(sizeof(sl_page_t) % 8 == 0, "page header copied by words");

/* Start of the mapping holding page pg (the colour is fixed at creation). */
SL_META uint8_t *sl_page_base(const sl_page_t *pg) {
  return (uint8_t *)pg - (size_t)pg->color * 64;
}

/* Usable bytes of a large mapping's block. */
static inline size_t sl_large_usable(const sl_large_t *lg) {
  return sl_large_map_size(lg) - (size_t)(sl_large_payload(lg) - (const uint8_t *)lg);
}

/* The successor of free block b of pg, decoded from its link (Page
 * layout); and b's link set to name next. */
static inline sl_block_t *sl_block_next(const sl_page_t *pg, const sl_block_t *b) {
  return (sl_block_t *)(sl_block_link(b) ^ sl_page_free_key(pg) ^ (uintptr_t)b);
}
static inline void sl_block_set_next(const sl_page_t *pg, sl_block_t *b, const sl_block_t *next) {
  sl_block_set_link(b, (uintptr_t)next ^ sl_page_free_key(pg) ^ (uintptr_t)b);
}

/* ---------------------------------------------------------------------------
 * Small helpers every layer uses
 * ------------------------------------------------------------------------- */
/* The avail head of a class with no page: freelist == NULL, never written. */
extern const sl_page_t sl_page_none;
#define SL_NONE ((sl_page_t *)&sl_page_none)

static inline void sl_footprint_add(sl_heap_t *h, size_t bytes) {
  h->footprint += bytes;
  if (h->footprint > h->peak_footprint) h->peak_footprint = h->footprint;
}

/* Bytes of empty pages the idle pool may hold ("sl.idle"). */
static inline size_t sl_idle_budget(const sl_heap_t *h) {
  size_t r = h->opts.page_reserve;
  return r > SIZE_MAX / SL_IDLE_PER_RESERVE ? SIZE_MAX : r * SL_IDLE_PER_RESERVE;
}

/* The decay clock of a pool (segments, the large cache) whose last pass
 * ran at clock: whether a pass over what aged past h->idle_decay is due
 * now. Without a decay (0) every give-back is one; with it, at most one
 * per period, so a burst of frees costs one clock read each, not a scan. */
static inline bool sl_decay_due(const sl_heap_t *h, uint64_t clock, uint64_t now) {
  return h->idle_decay == 0 || now - clock >= h->idle_decay;
}

/* The O(1) witness: a slow path starts counting at one page, adds one per
 * other page whose metadata it writes, and the peak is kept. */
static inline void sl_touch_begin(sl_heap_t *h) { h->touch_op = 1; }
static inline void sl_touch_more(sl_heap_t *h) { h->touch_op++; }
static inline void sl_touch_end(sl_heap_t *h) {
  if (h->touch_op > h->touch_peak) h->touch_peak = h->touch_op;
}

/* The grid division, one multiply for both the index and the exactness
 * (Lemire, Kaser and Kurz, "Faster remainder by direct computation",
 * 2019). With c = div_magic = ceil(2^64 / bs), bs the block size, the
 * 128-bit product c * off holds off / bs in its high half, and its low
 * half is below c iff bs divides off, for every off < 2^32. As c >= 2^64
 * / bs, the high half is never below off / bs: an off past the grid, or
 * wrapped by a pointer below it, gives an index >= capacity, so the one
 * bound test covers both ends of the grid (and proves off < 2^32):
 *   sl_page_slot(pg, off, &i)  iff  off < grid_bytes && bs | off,
 *   and then i == off / bs                                             */
static inline uint64_t sl_div_magic(size_t bs) { return UINT64_MAX / bs + 1; }

static inline size_t sl_page_quot(const sl_page_t *pg, uintptr_t off) {
  return (size_t)(((unsigned __int128)sl_page_div_magic(pg) * off) >> 64);
}

/* The same, for an index below bound <= capacity (free's fast path passes
 * bumped: one test for the grid's ends and the bump region). */
static inline bool sl_page_slot_below(const sl_page_t *pg, uintptr_t off, size_t bound,
                                      size_t *idx) {
  unsigned __int128 q = (unsigned __int128)sl_page_div_magic(pg) * off;
  *idx = (size_t)(q >> 64);
  return *idx < bound && (uint64_t)q < sl_page_div_magic(pg);
}

static inline bool sl_page_slot(const sl_page_t *pg, uintptr_t off, size_t *idx) {
  return sl_page_slot_below(pg, off, sl_page_capacity(pg), idx);
}

/* Block index of p in pg, or UINT32_MAX when p is not on the grid. */
static inline uint32_t sl_page_index(const sl_page_t *pg, const void *p) {
  size_t idx;
  return sl_page_slot(pg, (uintptr_t)p - (uintptr_t)sl_page_blocks(pg), &idx) ? (uint32_t)idx
                                                                              : UINT32_MAX;
}

/* Checker pieces (check.c). */
bool sl_check(void *heap, va_report_t *r);
bool sl_check_empty(void *heap, va_report_t *r);
void sl_stats(void *heap, va_stats_t *st);
void sl_walk(void *heap, va_walk_fn fn, void *ctx);

#endif /* VEDALLOC_SLAB_TYPES_H */
