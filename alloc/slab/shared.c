/* vedalloc V2 — the process-wide page map, for heaps used across threads.
 *
 * Policy. A heap that called sl_heap_share enters each chunk it maps here
 * too (sl_map_set), with the same header pointer as in its own map, so any
 * thread can ask "whose is p, and how big is its block" (types.h, Threads).
 * The table has the shape of a heap's map: a top array (in .bss, 256 KiB of
 * address space that stays untouched but for the slots used) of 512 KiB
 * leaves mapped on first use. Entries are C11 atomics: the heap's holder
 * writes them with release stores, any thread reads them with acquire
 * loads; a leaf is installed with one CAS (the loser unmaps its copy).
 *
 * Complexity: a lookup is two dependent acquire loads (plain moves on
 * x86-64); a set is O(chunks). Leaves are never freed: they are bounded by
 * the address space ever used, 512 KiB of (mostly untouched) mapping per
 * 4 GiB.
 *
 * Non-goals: validating a stale pointer. A lookup for a block that is not
 * live may name a page that is being recycled; callers use it for live
 * blocks only and report misuse as best they can.
 */
#include <stdatomic.h>

#include "alloc/slab/slab.h"
#include "alloc/slab/types.h"

/* With these, peak RSS of python3 testing/workload.py under the drop-in is
 * 1.09x glibc's (75.6 vs 69.3 MiB); the instance defaults (2 pages, 64 MiB
 * cache, all resident) are sized for one heap. */
va_options_t sl_thread_heap_options(void) {
  va_options_t o = va_options_default();
  o.page_reserve = 1;            /* empty pages kept per class */
  o.large_cache = 32u << 20;     /* freed large mappings kept... */
  o.large_resident = 1u << 20;   /* ...with at most this much resident in all.
                                    A 1 MiB cache alone (the earlier setting)
                                    made bench size-mix 1.81x glibc's time;
                                    with the ranges kept and their pages shed
                                    it is 0.86x, RSS 0.95x glibc */
  return o;
}

typedef _Atomic(void *) sl_slot_t;

/* top[k]: leaf for the 4 GiB range k, or NULL. */
static _Atomic(sl_slot_t *) sl_shared_top[(size_t)1 << SL_TOP_BITS];

#define SL_LEAF_INDEX(a) (((a) >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1))

/* The leaf covering address a; created when asked (NULL if that fails). */
static sl_slot_t *sl_shared_leaf(uintptr_t a, bool create) {
  _Atomic(sl_slot_t *) *top = &sl_shared_top[a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS)];
  sl_slot_t *leaf = atomic_load_explicit(top, memory_order_acquire);
  if (leaf || !create) return leaf;
  sl_slot_t *fresh = sl_os_map(SL_LEAF_BYTES, 4096); /* zero: all NULL */
  if (fresh == NULL) return NULL;
  if (atomic_compare_exchange_strong_explicit(top, &leaf, fresh,
                                              memory_order_acq_rel,
                                              memory_order_acquire))
    return fresh;
  sl_os_unmap(fresh, SL_LEAF_BYTES); /* another heap installed it first */
  return leaf;
}

bool sl_shared_set(void *base, size_t size, void *v) {
  uintptr_t a = (uintptr_t)base, end = a + size;
  if (end >> SL_ADDR_BITS) return false;
  for (uintptr_t c = a; c < end; c += SL_CHUNK)
    if (v && !sl_shared_leaf(c, true)) return false;
  for (uintptr_t c = a; c < end; c += SL_CHUNK) {
    sl_slot_t *leaf = sl_shared_leaf(c, false);
    if (leaf) atomic_store_explicit(&leaf[SL_LEAF_INDEX(c)], v, memory_order_release);
  }
  return true;
}

void *sl_shared_get(const void *p) {
  uintptr_t a = (uintptr_t)p;
  if (VA_UNLIKELY(a >> SL_ADDR_BITS)) return NULL;
  sl_slot_t *leaf = sl_shared_leaf(a, false);
  if (VA_UNLIKELY(leaf == NULL)) return NULL;
  return atomic_load_explicit(&leaf[SL_LEAF_INDEX(a)], memory_order_acquire);
}

/* Owner tag and block size from fields that are immutable while p is live. */
SL_META void *sl_shared_owner(const void *p, size_t *usable) {
  void *owner = sl_shared_get(p);
  if (owner == NULL) return NULL;
  size_t n = 0;
  sl_heap_t *h;
  if (((sl_page_t *)owner)->kind == SL_KIND_PAGE) {
    sl_page_t *pg = owner;
    h = pg->heap;
    if (sl_page_index(pg, p) != UINT32_MAX) n = pg->block_size;
  } else {
    sl_large_t *lg = owner;
    h = lg->heap;
    if (p == lg->payload) n = sl_large_usable(lg);
  }
  if (usable) *usable = n;
  return h->share_ctx;
}
