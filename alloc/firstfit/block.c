/* vedalloc V1 — blocks: placement, split, coalesce, validation.
 *
 * Placement (opts.fit) walks the address-ordered block list:
 *   first  the lowest free block that fits             O(blocks)
 *          The walk starts at the hint h->low instead of the head: no free
 *          block lies below it (types.h, "ff.hint"), so the result is the
 *          one a walk from the head gives, without re-walking the used
 *          prefix of the heap. The hint comes down in O(1) when a free
 *          block appears below it (free, split, grow, shrink), follows a
 *          merged-away header to its heir, steps past a block handed out at
 *          the hint, and each search moves it up to the first free block it
 *          meets, so it is the lowest free block right after every search.
 *   next   first fit, starting at the rover (the block after the last one
 *          handed out) and wrapping around once, but passing over the
 *          wilderness (the free block that ends the heap) until every other
 *          free block was tried; the wrapped part starts at the hint
                                                        O(blocks)
 *   best   the smallest free block that fits, lowest address on ties; stops
 *          early on an exact fit; starts at the hint too  O(blocks)
 * A chosen block is split when the remainder can hold a header plus a
 * minimum payload (FF_MIN_BLOCK); otherwise the caller gets the slack.
 * Freeing coalesces forward, then backward, so no two free blocks are ever
 * adjacent; a header merged away is marked FF_MAGIC_DEAD.
 *
 * The heap's counters stay equal to a walk ("ff.counts"). The hot paths,
 * ff_block_take and ff_block_release, update them once per operation from
 * the case they are in (split or not; the four coalescing cases); the rarer
 * paths (realloc, memalign, grow, trim) bracket each change with
 * ff_acct_sub / ff_acct_add (internal.h, below both this file and heap.c:
 * calls go api.c -> block.c -> heap.c -> os.c).
 */
#include <string.h>

#include "alloc/firstfit/internal.h"

/* Block size for a request of n bytes; false when n is impossible. */
bool ff_size_for(size_t n, size_t *need) {
  if (n > VA_MAX_REQUEST) return false;
  size_t p = n < FF_MIN_PAYLOAD ? FF_MIN_PAYLOAD : VA_ALIGN_UP(n, FF_GRAIN);
  *need = p + FF_HDR;
  return true;
}

/* ---- placement ----------------------------------------------------------
 * Wilderness preservation (next fit only). The wilderness is the free block
 * just below the last fence: the only one that can grow, and on the
 * original's stress workload (200k ops, 1000 slots, sizes 1..256) usually
 * the largest free block. Plain next fit carved every request out of it
 * while the rover sat there, so the holes behind the rover stayed empty and
 * the wilderness was eaten down to nothing: 97% external fragmentation
 * (seed 42; mean 96.8%, sd 0.7 over 200 seeds), 29 pages. Trying the
 * wilderness last (after the wrap) brings that to 73% (sd 7), 28 pages.
 * First fit needs no rule: the wilderness is the highest block, so it is
 * already tried last. Best fit is left alone: the same rule measured
 * 54.9% vs 52.6% (mean of 200 seeds, sd 14), no gain.
 */

/* The wilderness block, or NULL when the last block before the fence is live. */
static ff_block_t *ff_wilderness(const ff_heap_t *h) {
  ff_block_t *w = ff_prev(h->tail);
  return w && ff_is_free(w) ? w : NULL;
}

/* Non-fence header x is sound: the conditions ff_hdr_why names one by
 * one, as one branch (free asks it of three headers, malloc of one), and
 * inlined, because a call per header cost V1 40% on fragment-reuse. */
__attribute__((always_inline)) static inline bool ff_hdr_ok(const ff_heap_t *h,
                                                            const ff_block_t *x) {
  uintptr_t a = (uintptr_t)x, s = ff_size(x), n = (uintptr_t)ff_next(x);
  return (int)(ff_magic(x) == FF_MAGIC) & (ff_flags(x) <= FF_F_USED) & (n == a + s) &
         (s >= FF_MIN_BLOCK) & (s % FF_GRAIN == 0) & (n <= (uintptr_t)h->tail);
}

/* Why header x, reached by the list, cannot be followed, or NULL: the
 * fields a walk or a merge uses, each against what the list implies (its
 * magic, flags, the tiling next == x + size, the top fence as the bound).
 * An overflow from the block below reaches these bytes first. */
__attribute__((noinline, cold)) static const char *ff_hdr_why(const ff_heap_t *h,
                                                              const ff_block_t *x) {
  if (ff_magic(x) != FF_MAGIC) return "V1 ff.magic: a header's magic is overwritten";
  uint32_t f = ff_flags(x);
  if ((f & ~(FF_F_USED | FF_F_FENCE)) || ((f & FF_F_FENCE) && !(f & FF_F_USED)))
    return "V1 ff.flags: a header's flags are overwritten";
  uintptr_t a = (uintptr_t)x, n = (uintptr_t)ff_next(x), s = ff_size(x);
  if (f & FF_F_FENCE) return s == FF_HDR ? NULL : "V1 ff.size_min: a fence's size is overwritten";
  if (s % FF_GRAIN || s < FF_MIN_BLOCK) return "V1 ff.size_align: a header's size is overwritten";
  if (n != a + s || n > (uintptr_t)h->tail) return "V1 ff.tiling: a header's next is not its end";
  return NULL;
}

/* The fault of header x (NULL: none): the sound case inline. */
__attribute__((always_inline)) static inline const char *ff_hdr_fault(const ff_heap_t *h,
                                                                      const ff_block_t *x) {
  return VA_LIKELY(ff_hdr_ok(h, x)) ? NULL : ff_hdr_why(h, x);
}

/* b, whose next is not b + size, is a sound fence (the segment's top:
 * its next is the following segment, or NULL). */
__attribute__((noinline)) static bool ff_step_fence(const ff_heap_t *h,
                                                    const ff_block_t *b) {
  return ff_is_fence(b) && ff_hdr_fault(h, b) == NULL;
}

/* Can the walk step past b? The tiling next == b + size, from two fields
 * the walk reads anyway (a fence, whose next is the following segment, is
 * the rare other case): a header smashed into garbage by an overflow or
 * an underflow is reported (ff_fit) instead of followed into memory that
 * is not ours. Magic, flags and the top bound are checked on the block a
 * fit chooses (ff_hdr_fault), not per step: each compare in this loop
 * costs, and checking all of them per step doubled V1's stress time. */
static inline bool ff_step_ok(const ff_heap_t *h, const ff_block_t *b) {
  const char *n = (const char *)ff_next(b);
  return VA_LIKELY(n == (const char *)b + ff_size(b)) || ff_step_fence(h, b);
}

/* Where a walk stopped on a damaged header (ff_fit reports it). */
static ff_block_t *ff_fit_damaged(ff_heap_t *h, ff_block_t *b) {
  h->damaged = b;
  return NULL;
}

/* The first free block in [from, to) of size >= need, passing over skip. */
static ff_block_t *ff_fit_range(ff_heap_t *h, ff_block_t *from, const ff_block_t *to,
                                size_t need, const ff_block_t *skip) {
  for (ff_block_t *b = from; b != to; b = ff_next(b)) {
    if (VA_UNLIKELY(!ff_step_ok(h, b))) return ff_fit_damaged(h, b);
    if (ff_is_free(b) && ff_size(b) >= need && b != skip) return b;
  }
  return NULL;
}

/* The first free block at or after the hint, which becomes the hint (the
 * lowest free block), or NULL with the hint on the tail (all used). Not
 * inlined: inlined, it made clang compile the best-fit walk after it ~30%
 * longer (callgrind, stress workload). */
__attribute__((noinline)) static ff_block_t *ff_fit_low(ff_heap_t *h) {
  ff_block_t *b = h->low;
  for (; b && ff_is_used(b); b = ff_next(b))
    if (VA_UNLIKELY(!ff_step_ok(h, b))) return ff_fit_damaged(h, b);
  h->low = b ? b : h->tail;
  return b;
}

/* The hot loop of the design, written out (no range end, nothing to skip)
 * so that it compiles to a tight walk. */
static ff_block_t *ff_fit_first(ff_heap_t *h, size_t need) {
  for (ff_block_t *b = ff_fit_low(h); b; b = ff_next(b)) {
    if (VA_UNLIKELY(!ff_step_ok(h, b))) return ff_fit_damaged(h, b);
    if (ff_size(b) >= need && ff_is_free(b)) return b;
  }
  return NULL;
}

static ff_block_t *ff_fit_best(ff_heap_t *h, size_t need) {
  ff_block_t *best = NULL;
  size_t best_size = SIZE_MAX;
  for (ff_block_t *b = ff_fit_low(h); b; b = ff_next(b)) {
    if (VA_UNLIKELY(!ff_step_ok(h, b))) return ff_fit_damaged(h, b);
    if (ff_is_used(b)) continue;
    size_t s = ff_size(b);
    if (s >= need && s < best_size) {
      best = b;
      best_size = s;
      if (s == need) break;
    }
  }
  return best;
}

/* Rover to the end, head to the rover, then the wilderness. A request
 * served from the wilderness leaves the rover on its rest, which the next
 * search passes over: in effect the rover goes back to the head. */
static ff_block_t *ff_fit_next(ff_heap_t *h, size_t need) {
  ff_block_t *r = h->rover ? h->rover : h->head, *w = ff_wilderness(h);
  ff_block_t *b = ff_fit_range(h, r, NULL, need, w);
  /* [head, r) holds no free block below the hint: start there (or nowhere) */
  ff_block_t *from = (uintptr_t)h->low < (uintptr_t)r ? h->low : r;
  if (!b && !h->damaged) b = ff_fit_range(h, from, r, need, w);
  return b || h->damaged || !w || ff_size(w) < need ? b : w;
}

static ff_block_t *ff_fit_policy(ff_heap_t *h, size_t need) {
  switch (h->opts.fit) {
  case VA_FIT_NEXT: return ff_fit_next(h, need);
  case VA_FIT_BEST: return ff_fit_best(h, need);
  default: return ff_fit_first(h, need);
  }
}

/* A free block of size >= need chosen by the heap's policy, or NULL. The
 * chosen block is checked whole before it is cut: then its next is
 * b + size inside the heap, so the split's one write there lands on a
 * header of ours, not through a pointer the user could have written
 * (reading that header too costs a cache miss per malloc). A damaged
 * header on the way is reported here (the hook), and the result is NULL
 * with h->damaged set: the caller follows nothing. */
ff_block_t *ff_fit(ff_heap_t *h, size_t need) {
  h->damaged = NULL;
  ff_block_t *b = ff_fit_policy(h, need);
  const char *why = NULL;
  if (b && (why = ff_hdr_fault(h, b)) != NULL) h->damaged = b;
  else if (h->damaged) why = ff_hdr_fault(h, h->damaged);
  if (VA_LIKELY(h->damaged == NULL)) return b;
  va_raise_corrupt(&h->opts, "malloc", h->damaged,
                   why ? why : "V1 ff.tiling: a header's next is not its end");
  return NULL;
}

/* ---- split and merge ---------------------------------------------------- */

/* Cut b to `need` bytes when the rest makes a block; the rest becomes a free
 * block (not merged here). Returns the rest, or NULL when b is kept whole. */
ff_block_t *ff_block_split(ff_heap_t *h, ff_block_t *b, size_t need) {
  size_t size = ff_size(b);
  if (size - need < FF_MIN_BLOCK) return NULL;
  ff_acct_sub(h, b);
  ff_block_t *r = (ff_block_t *)((char *)b + need), *next = ff_next(b);
  VA_POISON(r, size - need);
  ff_hdr_write(r, 0, size - need, b, next);
  ff_canary_write(r);
  ff_set_prev(next, r);
  ff_set_next(b, r);
  ff_set_size(b, need);
  ff_acct_add(h, b);
  ff_acct_add(h, r);
  ff_low_lower(h, r);
  return r;
}

/* b takes its free, adjacent next neighbour. */
void ff_block_absorb_next(ff_heap_t *h, ff_block_t *b) {
  ff_block_t *n = ff_next(b), *nn = ff_next(n);
  VA_ASSERT_LOCAL(ff_is_free(n) && !ff_is_fence(n));
  VA_ASSERT_LOCAL((char *)b + ff_size(b) == (char *)n);
  ff_acct_sub(h, b);
  ff_acct_sub(h, n);
  ff_set_size(b, ff_size(b) + ff_size(n));
  ff_set_next(b, nn);
  ff_set_prev(nn, b);
  ff_block_kill(h, n, b);
  ff_acct_add(h, b);
}

/* Hand out free block b cut to `need` bytes; the rest, if it makes a
 * block, stays free above it. b is free, so all of it is poisoned already.
 * Counters: split keeps free_blocks and moves `need` bytes (payload plus
 * the new header) out of free_bytes; no split moves the whole block. */
void ff_block_take(ff_heap_t *h, ff_block_t *b, size_t need) {
  size_t size = ff_size(b);
  if (size - need >= FF_MIN_BLOCK) {
    ff_block_t *r = (ff_block_t *)((char *)b + need), *next = ff_next(b);
    ff_hdr_write(r, 0, size - need, b, next);
    ff_canary_write(r);
    ff_set_prev(next, r);
    ff_set_next(b, r);
    ff_set_size(b, need);
    h->free_bytes -= need;
    size = need;
  } else {
    h->free_blocks--;
    h->free_bytes -= size - FF_HDR;
  }
  ff_set_flags(b, FF_F_USED);
  h->live_blocks++;
  h->live_bytes += size - FF_HDR;
  VA_UNPOISON(ff_payload(b), size - FF_HDR);
  h->rover = ff_next(b);
  if (h->low == b) h->low = ff_next(b); /* everything up to b is used now */
}

/* n is taken into its lower neighbour b (which gets size `size`). */
static void ff_block_unlink_into(ff_heap_t *h, ff_block_t *b, ff_block_t *n,
                                 size_t size) {
  ff_block_t *nn = ff_next(n);
  ff_set_size(b, size);
  ff_set_next(b, nn);
  ff_set_prev(nn, b);
  ff_block_kill(h, n, b);
}

/* Mark live block b free and coalesce, by the four classic cases of its
 * neighbours p (below) and n (above); fences are used, so nothing merges
 * across a segment end. Merged-away headers get FF_MAGIC_DEAD (a later
 * free of them is a double free). Counters: b's payload leaves the live
 * side; the free side gains it plus one header per merge, and loses one
 * block per merge beyond the first. A merged block that ends the heap may
 * give memory back. */
void ff_block_release(ff_heap_t *h, ff_block_t *b) {
  size_t size = ff_size(b);
  ff_block_t *p = ff_prev(b), *n = ff_next(b);
  bool pf = p && ff_is_free(p), nf = ff_is_free(n);
  VA_ASSERT_LOCAL((char *)b + size == (char *)n);
  h->live_blocks--;
  h->live_bytes -= size - FF_HDR;
  VA_POISON(ff_payload(b), size - FF_HDR);
  if (!pf) {
    ff_set_flags(b, 0);
    ff_canary_write(b);
    if (nf) { /* b + n */
      ff_block_unlink_into(h, b, n, size + ff_size(n));
      h->free_bytes += size;
    } else { /* b alone */
      h->free_blocks++;
      h->free_bytes += size - FF_HDR;
    }
  } else if (!nf) { /* p + b */
    ff_block_unlink_into(h, p, b, ff_size(p) + size);
    h->free_bytes += size;
    b = p;
  } else { /* p + b + n */
    ff_block_kill(h, b, p);
    ff_block_unlink_into(h, p, n, ff_size(p) + size + ff_size(n));
    h->free_blocks--;
    h->free_bytes += size + FF_HDR;
    b = p;
  }
  ff_low_lower(h, b);
  if (ff_next(b) == h->tail) ff_heap_maybe_trim(h, b);
}

/* Live block b keeps `need` bytes; the rest (if a block) is freed. */
void ff_block_shrink(ff_heap_t *h, ff_block_t *b, size_t need) {
  ff_block_t *r = ff_block_split(h, b, need);
  if (!r) return;
  if (ff_is_free(ff_next(r))) ff_block_absorb_next(h, r);
  if (ff_next(r) == h->tail) ff_heap_maybe_trim(h, r);
}

/* Grow live block b to `need` bytes without moving it: into a free next
 * neighbour, growing the break first when b (or that neighbour) ends the
 * heap. False (nothing changed but maybe the break) when it cannot. */
bool ff_block_grow_in_place(ff_heap_t *h, ff_block_t *b, size_t need) {
  ff_block_t *n = ff_next(b);
  size_t size = ff_size(b), have = ff_is_free(n) ? ff_size(n) : 0;
  if (size + have < need) {
    bool at_end = n == h->tail || (have && ff_next(n) == h->tail);
    if (!at_end || !ff_heap_break_is_ours(h)) return false;
    if (!ff_heap_grow(h, need - size)) return false;
    n = ff_next(b);
    if (!ff_is_free(n) || size + ff_size(n) < need) return false;
  }
  ff_block_absorb_next(h, b);
  ff_block_split(h, b, need);
  VA_UNPOISON(ff_payload(b), ff_psize(b));
  return true;
}

/* Split live block b so that its payload starts `lead` bytes later; the
 * leading piece becomes a free block (merged into a free predecessor).
 * lead >= FF_MIN_BLOCK, ff_size(b) - lead >= FF_MIN_BLOCK. */
ff_block_t *ff_block_split_front(ff_heap_t *h, ff_block_t *b, size_t lead) {
  size_t size = ff_size(b);
  ff_block_t *nb = (ff_block_t *)((char *)b + lead), *next = ff_next(b);
  ff_acct_sub(h, b);
  VA_POISON(ff_payload(b), lead);
  ff_hdr_write(nb, FF_F_USED, size - lead, b, next);
  ff_set_prev(next, nb);
  ff_hdr_write(b, 0, lead, ff_prev(b), nb);
  ff_canary_write(b);
  ff_acct_add(h, b);
  ff_acct_add(h, nb);
  if (h->rover == b) h->rover = nb;
  ff_low_lower(h, b);
  ff_block_t *p = ff_prev(b);
  if (p && ff_is_free(p)) ff_block_absorb_next(h, p);
  return nb;
}

/* ---- validation of caller pointers ------------------------------------ */

/* Is x a plausible header address (inside a segment, aligned)? */
static bool ff_addr_is_header(const ff_heap_t *h, const ff_block_t *x) {
  uintptr_t a = (uintptr_t)x;
  int i = ff_heap_segment_of(h, a);
  return i >= 0 && a % FF_GRAIN == 0 && a + FF_HDR <= h->seg[i].end;
}

/* b (its own header sound) and its neighbours agree, or why not: what
 * free and realloc check before they merge with or unlink a neighbour.
 * b's next lies in b's segment (tiling, b is no fence); its prev does
 * unless b starts the segment (then it is the fence before the gap). */
__attribute__((always_inline)) static inline const char *ff_block_links_fault(const ff_heap_t *h, const ff_segment_t *s,
                                        const ff_block_t *b, const ff_block_t **near) {
  const ff_block_t *n = ff_next(b), *p = ff_prev(b);
  const char *why;
  *near = n;
  if ((uintptr_t)n > s->end - FF_HDR) return "V1 ff.bounds: a header's next leaves its segment";
  if ((why = ff_hdr_fault(h, n)) != NULL) return why;
  if (ff_prev(n) != b) return "V1 ff.links: the next block's prev does not point back";
  *near = p;
  if (!p) return b == h->head ? NULL : "V1 ff.links: a block other than the head has no prev";
  uintptr_t pa = (uintptr_t)p;
  bool here = pa >= s->start && pa < (uintptr_t)b && pa % FF_GRAIN == 0;
  if (!here && !ff_addr_is_header(h, p)) return "V1 ff.links: a header's prev is not a header";
  if ((why = ff_hdr_fault(h, p)) != NULL) return why;
  if (ff_next(p) != b) return "V1 ff.links: the previous block's next does not point here";
  return NULL;
}

/* The strong check (VA_CHECK_LEVEL >= 2): b is on the list. O(blocks). */
static bool ff_block_listed(const ff_heap_t *h, const ff_block_t *b) {
  for (const ff_block_t *x = h->head; x; x = ff_next(x))
    if (x == b) return true;
  return false;
}

/* Where address a lies, by a walk of the list (misuse only: O(blocks),
 * bounded by the counts, each step checked to be a header of ours): inside
 * a free block's payload is a double free (a block was freed there);
 * anywhere else (a live block past its start, a header) is not a block.
 * Asked when the word before a holds a merged-away header's magic, which
 * may be a remnant inside memory handed out again, so it is not trusted. */
static va_error_kind_t ff_block_locate(const ff_heap_t *h, uintptr_t a) {
  size_t steps = h->live_blocks + h->free_blocks + 2 * h->nseg;
  for (const ff_block_t *x = h->head; x && steps--; x = ff_next(x)) {
    if (!ff_addr_is_header(h, x)) break;
    uintptr_t lo = (uintptr_t)x, hi = lo + (ff_is_fence(x) ? FF_HDR : ff_size(x));
    if (a >= lo && a < hi)
      return ff_is_free(x) && a >= lo + FF_HDR ? VA_ERR_DOUBLE_FREE : VA_ERR_NOT_A_BLOCK;
  }
  return VA_ERR_NOT_A_BLOCK;
}

/* b looked like a header of ours but it or a neighbour failed a check
 * (*why, *near): is b a block of the list (then the list is damaged at
 * *near) or user data shaped like one (not a block)? A walk from the head
 * decides, each header checked before it is followed; damage met on the
 * way is reported where it is. Misuse only: O(blocks). */
static va_error_kind_t ff_block_verdict(const ff_heap_t *h, const ff_block_t *b,
                                        const char **why, const void **near) {
  size_t steps = h->live_blocks + h->free_blocks + 2 * h->nseg;
  for (const ff_block_t *x = h->head; x && steps--; x = ff_next(x)) {
    if (x == b) /* listed: damaged here or nearby, unless it is a sound fence */
      return ff_is_fence(b) && !ff_hdr_fault(h, b) ? VA_ERR_NOT_A_BLOCK : VA_ERR_CORRUPTION;
    const char *fault = ff_hdr_fault(h, x);
    const ff_block_t *n = ff_next(x);
    if (!fault && ff_is_fence(x) && n && (ff_heap_segment_of(h, (uintptr_t)n) < 0 ||
                                          ff_prev(n) != x))
      fault = "V1 ff.links: a fence's next is not the following segment";
    if (fault) {
      *why = fault, *near = x;
      return VA_ERR_CORRUPTION;
    }
  }
  return VA_ERR_NOT_A_BLOCK;
}

/* What is wrong with freeing p (0: nothing; *out is its block). A header
 * that is ours (its magic) but damaged, or damaged neighbours, are
 * VA_ERR_CORRUPTION: *why names the check, *near the header. */
va_error_kind_t ff_block_classify(const ff_heap_t *h, const void *p, ff_block_t **out,
                                  const char **why, const void **near) {
  uintptr_t a = (uintptr_t)p;
  int i = ff_heap_segment_of(h, a);
  if (i < 0) return VA_ERR_INVALID_FREE;
  if (a % FF_GRAIN || a - FF_HDR < h->seg[i].start) return VA_ERR_NOT_A_BLOCK;
  ff_block_t *b = ff_block_of(p);
  uint32_t m = ff_magic(b);
  if (m == FF_MAGIC_DEAD) return ff_block_locate(h, a);
  if (m != FF_MAGIC) { /* user data, or b's own header overwritten? */
    *why = "V1 ff.magic: a header's magic is overwritten", *near = b;
    return ff_block_verdict(h, b, why, near);
  }
  if (ff_is_fence(b)) { /* a fence ends a segment: no payload follows it */
    *why = "V1 ff.flags: a header's flags are overwritten", *near = b;
    return ff_block_verdict(h, b, why, near);
  }
  if (VA_CHECK_LEVEL >= 2 && !ff_block_listed(h, b)) return VA_ERR_NOT_A_BLOCK;
  const ff_block_t *at = b;
  *why = ff_hdr_fault(h, b);
  if (*why == NULL) *why = ff_block_links_fault(h, &h->seg[i], b, &at);
  if (*why != NULL) {
    *near = at;
    return ff_block_verdict(h, b, why, near);
  }
  if (ff_is_free(b)) return VA_ERR_DOUBLE_FREE;
  *out = b;
  return 0;
}
