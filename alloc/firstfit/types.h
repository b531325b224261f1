/* vedalloc V1 — the types of the first-fit block-list allocator.
 *
 * This header is the architecture document of V1: terms, layouts and the
 * invariants that ff_check() verifies, written as equations.
 *
 * Terms
 *   block    a header followed by a payload; the unit the list is made of.
 *   size     a block's whole size in bytes, header included.
 *   payload  the caller's bytes: size - FF_HDR of them.
 *   free     a block not handed out (flag FF_F_USED clear).
 *   fence    a header-only block (size == FF_HDR, FF_F_USED|FF_F_FENCE) that
 *            ends every segment; it is never free, so nothing coalesces
 *            across it, and its `next` jumps over memory that is not ours.
 *   segment  one contiguous run of memory from the source. Usually there is
 *            one; a new one starts when somebody else moved the break
 *            (foreign sbrk) so the heap could not grow contiguously.
 *   gap      the foreign memory between a fence and the next segment.
 *   break    where the source's top currently is (sbrk(0), or a private
 *            pointer for MMAP and REGION sources).
 *
 * Memory of one segment (the first one also carries the heap record):
 *
 *   seg.base  seg.start                                        seg.end
 *   |pad|heap |hdr|payload .....|hdr|payload ...|...|hdr(fence)|
 *    <16  rec  \________ block _/\____ block __/      32 bytes
 *              ^ 16-aligned      every header 16-aligned, so every payload is
 *
 * Block header (32 bytes; payload follows at +32, so it is 16-aligned):
 *
 *   offset  0      4      8              16             24             32
 *          +------+------+--------------+--------------+--------------+------
 *          |magic |flags | size         | prev         | next         | payload
 *          +------+------+--------------+--------------+--------------+------
 *   magic  FF_MAGIC while the header is in the list, FF_MAGIC_DEAD once it was
 *          merged away (lets free() tell a double free from a wild pointer)
 *   flags  FF_F_USED | FF_F_FENCE
 *
 * Free payload (poison): the first FF_CANARY bytes hold FF_BYTE_FREE, so a
 * write after free into them is caught by the checker ("ff.poison"). Under
 * ASan, headers and free payloads are poisoned, live payloads unpoisoned;
 * metadata is read and written through no_sanitize accessors (internal.h).
 *
 * Placement and fragmentation (measured on the original's stress workload:
 * 200k ops, 1000 slots, sizes 1..256, snapshot after the loop; seed 42 with
 * the bench PRNG / glibc rand(); "mean" over 60 seeds each, sd in brackets):
 *
 *   policy  frag seed 42    mean frag      pages  utilisation (live requested
 *           bench / glibc                         / footprint, seed 42 glibc)
 *   first   35.0 / 61.0     53 (13)        26     56.8%
 *   best    29.0 / 72.4     52 (14)        25     59.1%
 *   next    97.1 / 97.2     97 (0.7)       29     51.0%   plain next fit
 *   next    75.5 / 73.6     73 (7)         28     52.8%   wilderness last
 *
 * The metric is holes / (holes + largest free block), and the largest free
 * block is usually the wilderness, so one snapshot swings by +-14 points with
 * the seed (the original's 53.22% / 34.39% are single draws of the same
 * spread). What moved the mean, and what did not (60-200 seeds):
 *   - next fit trying the wilderness last (block.c): 97% -> 73%, -1 page;
 *   - side of the split (allocation at the low or high end of a hole, or by
 *     size): within +-1 point: lifetimes here are memoryless, so neither
 *     neighbour of a hole is likelier to be freed first;
 *   - a larger split threshold (remainder >= 64..128 instead of FF_MIN_BLOCK)
 *     moves free bytes into slack: frag -2..-8 points but +0.5..+1.7 pages,
 *     so utilisation falls: not taken;
 *   - a 2-page growth quantum: frag -6 points, +0.4..+0.7 pages: it buys the
 *     metric with memory: not taken;
 *   - rounding requests to 32: no gain, +0.6 pages.
 *
 * Invariants (names are what ff_check() reports):
 *   ff.magic        heap->magic == FF_HEAP_MAGIC; every listed b: b.magic == FF_MAGIC
 *   ff.flags        b.flags & ~(USED|FENCE) == 0;  FENCE => USED
 *   ff.bounds       seg.start <= b  and  b + FF_HDR <= seg.end, b % 16 == 0,
 *                   for the segment being walked; every `next` lies in a segment
 *   ff.links        b.next.prev == b;  head.prev == NULL;  tail == last block;
 *                   fence.next == start of the following segment (NULL at the end)
 *   ff.size_align   b.size % 16 == 0
 *   ff.size_min     non-fence: b.size >= FF_MIN_BLOCK;  fence: b.size == FF_HDR
 *   ff.tiling       non-fence: b.next == b + b.size;  fence: b + FF_HDR == seg.end;
 *                   so  sum(b.size) == sum over segments (seg.end - seg.start)
 *   ff.adjacent_free  not (b free and b.next free)   (coalescing is complete)
 *   ff.poison       free b: payload[0 .. FF_CANARY) == FF_BYTE_FREE
 *   ff.rover        rover == NULL or rover is a listed block
 *   ff.hint         low is a listed block, and every listed b below low is used
 *                   (so a search from low finds what one from head would)
 *   ff.counts       live_blocks, live_bytes, free_blocks, free_bytes equal the
 *                   sums of a walk (payload bytes; fences count nowhere)
 *   ff.empty        (check_empty only) live_blocks == 0
 *   ff.trim         (check_empty only) the free tail block is not above the
 *                   trim threshold while the break is ours and could shrink
 *
 * Damage met by the operations (not only by ff_check): free and realloc
 * check the block and both neighbours (ff.magic, ff.flags, ff.size_*,
 * ff.tiling, ff.links) before they merge or unlink anything; a fit walk
 * checks ff.tiling per step and the block it chooses whole. A failure is
 * VA_ERR_CORRUPTION through the hook, naming the invariant and the header
 * ("V1 ff.tiling: ..."), and the operation changes nothing (malloc: NULL,
 * ENOMEM). Not caught: an overwrite that leaves magic, size and next
 * consistent, and garbage flags a walk reads as "used" (it steps past by
 * the intact size; free next to it reports it).
 */
#ifndef VEDALLOC_FIRSTFIT_TYPES_H
#define VEDALLOC_FIRSTFIT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"

#define FF_GRAIN 16                            /* size and alignment unit */
#define FF_HDR 32                              /* header bytes */
#define FF_MIN_PAYLOAD 16                      /* smallest payload handed out */
#define FF_MIN_BLOCK (FF_HDR + FF_MIN_PAYLOAD) /* smallest block: 48 */
#define FF_PAGE 4096                           /* growth unit of the break */
#define FF_MAX_SEGMENTS 64                     /* beyond this, growth fails (ENOMEM) */
#define FF_MMAP_RESERVE ((size_t)1 << 30)      /* MMAP source default reservation */

#define FF_MAGIC 0x56314646u      /* "FF1V": a header in the list */
#define FF_MAGIC_DEAD 0xDEADB10Cu /* a header merged away into a neighbour */
#define FF_HEAP_MAGIC 0x5631686561700001ull

#define FF_F_USED 1u  /* handed out (fences too, so they never merge) */
#define FF_F_FENCE 2u /* segment terminator */

#define FF_BYTE_FREE 0xDF /* canary byte at the start of every free payload */
#define FF_CANARY 16      /* canary bytes (== FF_MIN_PAYLOAD, always fits) */

/* One block header. Role: a node of the address-ordered block list. */
typedef struct ff_block ff_block_t;
struct ff_block {
  uint32_t magic;   /* FF_MAGIC, or FF_MAGIC_DEAD once merged away */
  uint32_t flags;   /* FF_F_USED | FF_F_FENCE */
  size_t size;      /* bytes of the whole block, header included; % 16 == 0 */
  ff_block_t *prev; /* block at the next lower address (NULL: first) */
  ff_block_t *next; /* block at the next higher address (NULL: last) */
};
_Static_assert(sizeof(ff_block_t) == FF_HDR, "header must be 32 bytes");

/* One contiguous run of source memory. base <= start < end; end == break we set. */
typedef struct ff_segment {
  uintptr_t base;  /* first byte obtained from the source */
  uintptr_t start; /* first block header (16-aligned) */
  uintptr_t end;   /* one past the fence */
} ff_segment_t;

/* Where memory comes from. Only os.c reads or writes it. */
typedef struct ff_os {
  va_source_kind_t kind; /* SBRK, MMAP or REGION (DEFAULT resolved to SBRK) */
  uintptr_t base;        /* MMAP/REGION: first byte of the reservation */
  uintptr_t limit;       /* MMAP/REGION: one past the last byte */
  uintptr_t brk;         /* the break as we last left it (private break for MMAP/REGION) */
  uintptr_t high;        /* MMAP/REGION: highest break ever (bytes that may carry poison) */
} ff_os_t;

/* One V1 instance. Lives at the start of its first segment.
 *   footprint == sum over segments (seg.end - seg.base)
 *   live_bytes + free_bytes + FF_HDR * (#blocks) == sum(seg.end - seg.start) */
typedef struct ff_heap {
  uint64_t magic;          /* FF_HEAP_MAGIC */
  va_options_t opts;       /* creation options (fit, trim threshold, hook) */
  ff_os_t os;              /* the memory source */
  ff_block_t *head;        /* lowest block */
  ff_block_t *tail;        /* highest block: the fence of the last segment */
  ff_block_t *rover;       /* next fit: where the next search starts */
  ff_block_t *low;         /* a listed block with no free block below it:
                              first/best fit start here (the lowest free
                              block, or a used block below it: kept lazily) */
  size_t nseg;             /* segments in use, >= 1 */
  size_t footprint;        /* bytes held from the source */
  size_t peak_footprint;   /* max footprint ever */
  size_t init_footprint;   /* footprint right after create: trimming floor */
  size_t live_blocks;      /* handed-out blocks */
  size_t live_bytes;       /* their payload bytes */
  size_t free_blocks;      /* free blocks */
  size_t free_bytes;       /* their payload bytes */
  ff_block_t *damaged;     /* the damaged header the last fit stopped on
                              (reported; NULL: none) */
  ff_segment_t seg[FF_MAX_SEGMENTS]; /* in address order */
} ff_heap_t;

#endif /* VEDALLOC_FIRSTFIT_TYPES_H */
