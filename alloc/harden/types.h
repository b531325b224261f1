/* vedalloc hardened layer — layout, invariants and constants.
 *
 * The layer (harden.c, prefix hd_) turns any allocator into a hardened
 * one by what it asks of it and what it writes around each block; it adds
 * no header (nothing before a block is the layer's, so an underflow meets
 * only the block below's trailer, which is checked). The anchor is
 * GrapheneOS hardened_malloc: canaries, zero on free, a quarantine with
 * randomised release, guard pages, zero-size blocks that fault.
 *
 * A block of n bytes, in the inner block p of usable size U:
 *
 *   p                n         n+64            p+U-8      p+U
 *   +----------------+----------+- - - - - - - -+----------+
 *   | the caller's n | canary   | (slack, not   | trailer  |   small: n+8 <= HD_SMALL_MAX
 *   | bytes          | bytes    |  written)     | 8 bytes  |
 *   +----------------+----------+- - - - - - - -+----------+
 *
 *   p                n        guard (PROT_NONE)                   p+U-8
 *   +----------------+--------+--------------------+- - - - - - -+--------+
 *   | the caller's n | canary | 4 KiB, faults on   | (slack)     |trailer |  large:
 *   |                | to the | any access         |             |        |  asked for
 *   |                | page   |                    |             |        |  n+8+2 pages
 *   +----------------+--------+--------------------+- - - - - - -+--------+
 *   guard = round_up(p + n, page);  guard + page <= p + U - 8
 *
 *   trailer  bits 0..39 n, bit 40 "a guard page is set", bit 41
 *            "freed", bits 42..63 a check of (p, n, both bits) under the
 *            heap's secret: its live key while the block is live, its
 *            freed key once freed (so a second free reads "freed": a
 *            double free, not corruption). The freed bit keeps a live and
 *            a freed trailer apart: with the check alone they were equal
 *            once in 2^23 blocks, and a quarantined block read as live.
 *   canary   bytes [n, end) == hd_canary(p), a byte with the top bit set
 *            and not 0xFF (never 0, ASCII or 0xFF: what overflows write
 *            most); a write of the canary's own value is not seen; end = the guard
 *            page, else min(n + 64, the trailer).
 *
 * Zero-size blocks are addresses in a PROT_NONE region of the heap's own
 * (HD_ZERO_SLOTS slots of 16 bytes, a bit each): unique, freeable, and a
 * fault on any access.
 *
 * Freed small blocks are zeroed and held in the quarantine, a ring of at
 * most HD_QUARANTINE blocks and HD_QUARANTINE_BYTES bytes; when a free
 * would exceed either, one of the HD_QUARANTINE_PICK oldest, chosen at
 * random, leaves. Leaving, it must still read
 * zero (else: a write after free) with its trailer freed and its canary
 * intact, then goes back to the inner allocator. The random choice is the
 * randomised reuse order: blocks return to their page's free list in no
 * predictable order, and never right after their free. Large blocks are
 * not quarantined: their guard page goes back to read-write, their bytes
 * are zeroed (a stale pointer reads zero) and the block goes to the inner
 * allocator at once. hd_sweep checks the whole quarantine (the drop-in
 * runs it at exit, so a write after free is not lost with the process).
 * Every block is handed out zeroed: every byte a caller wrote was zeroed
 * at its free (a large block's whole pages by MADV_DONTNEED, which also
 * spares its untouched pages), and a small block is cleared of the inner
 * allocator's links too (the inner calloc): no uninitialised reads of old
 * data.
 *
 * Each feature but the trailer can be left out (HD_F_* below): without
 * HD_F_CANARY the canary is empty (end == n), without HD_F_GUARD large blocks
 * ask for only n+8 and their canary runs to their last page's end, without
 * HD_F_ZERO nothing is cleared (and the quarantine checks no fill), without
 * HD_F_QUARANTINE a small block goes back at its free, without HD_F_ZERO_SIZE
 * malloc(0) is a block of 0 bytes like any other.
 *
 * Invariants (names are what hd_check reports; it runs the inner checker
 * first):
 *   hd.live         every block the inner's walk reports live is the
 *                   layer's: a live trailer and an intact canary, or a
 *                   freed trailer and in the quarantine; the freed ones
 *                   number qcount (inner without walk: not checked)
 *   hd.quarantine   every quarantined block reads zero (HD_F_ZERO), its
 *                   trailer is freed; count and bytes within the bounds
 *                   and equal to the sums
 *   hd.zero         zero-size live count == popcount of the slot bits
 */
#ifndef VEDALLOC_HARDEN_TYPES_H
#define VEDALLOC_HARDEN_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"

#define HD_TRAILER 8                         /* bytes of the trailer */
#define HD_CANARY_MAX 64                     /* canary bytes written and checked at most */
#define HD_SMALL_MAX ((size_t)16 << 10)      /* n + 8 above this: large (guard page) */
#define HD_PAGE ((size_t)4096)
#define HD_QUARANTINE 256                    /* blocks held at most */
#define HD_QUARANTINE_BYTES ((size_t)1 << 20) /* ... and their bytes */
#define HD_QUARANTINE_PICK 8                 /* a block leaves from the oldest this many */
#define HD_ZERO_SLOTS ((size_t)1 << 16)      /* zero-size blocks live at most */
#define HD_N_BITS 40                         /* trailer: bits of n */
#define HD_GUARD_BIT ((uint64_t)1 << HD_N_BITS)
#define HD_FREED_BIT ((uint64_t)1 << (HD_N_BITS + 1)) /* trailer: the block is freed */
#define HD_HEAP_MAGIC 0x5648617264656e31ull  /* "VHarden1" */

/* What the layer adds to its trailer, each its own bit so its cost can be
 * measured alone (VEDALLOC_HARDEN=canary,zero,... ; hd_features_parse). */
#define HD_F_CANARY 1u      /* canary bytes after every block */
#define HD_F_GUARD 2u       /* a guard page after large blocks (if the inner allows) */
#define HD_F_ZERO 4u        /* zero on free; every block handed out zeroed */
#define HD_F_QUARANTINE 8u  /* freed small blocks held, released at random; with
                               HD_F_ZERO, their zero fill is checked as they leave */
#define HD_F_ZERO_SIZE 16u  /* malloc(0): a slot of a PROT_NONE region */
#define HD_F_ALL 31u

typedef struct hd_qentry {
  uint8_t *p;    /* the inner block */
  size_t n;      /* the caller's bytes (zeroed) */
  size_t usable; /* the inner's usable size of p */
} hd_qentry_t;

typedef struct hd_heap {
  uint64_t magic;               /* HD_HEAP_MAGIC */
  const va_allocator_t *in;     /* the inner allocator ... */
  void *inner;                  /* ... and its instance */
  bool owns_inner;              /* destroy destroys it too */
  unsigned features;            /* HD_F_* bits (hd_attach) */
  va_options_t opts;            /* the caller's (its hook) */
  const char *op;               /* the layer's operation in progress: the
                                   name the inner's reports go out under */
  uint64_t live_key, freed_key; /* trailer keys */
  uint64_t rng;                 /* xorshift state: quarantine choice */
  pthread_mutex_t *lock;        /* NULL: one thread (an instance) */
  hd_qentry_t q[HD_QUARANTINE];     /* a ring: q[qhead] is the oldest */
  size_t qhead, qcount, qbytes;
  uint8_t *zbase;               /* zero-size region (PROT_NONE) */
  uint64_t *zbits;              /* a bit per slot: live */
  size_t zcursor, zlive;
} hd_heap_t;

#endif /* VEDALLOC_HARDEN_TYPES_H */
