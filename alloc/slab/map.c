/* vedalloc V2 — page maps: the heap's own, the shared one, and the count
 * of metadata pages they write.
 *
 * Policy. A heap's map lives in its own mapping, after the heap record: a
 * top array of 256 KiB of address space that stays untouched but for the
 * slots used, and 512 KiB leaves mapped on first use. Metadata is counted
 * by the 4 KiB pages written (types.h, "sl.counts"), so a small heap shows
 * a small footprint. A shared map has the same shape with atomic entries:
 * the holder of a member heap writes them with release stores, any thread
 * reads them with acquire loads; a leaf is installed with one CAS (the
 * loser unmaps its copy).
 *
 * Complexity: a lookup is two dependent loads (one on the hot leaf); a set
 * is O(chunks). Leaves are bounded by the address space ever used: 512 KiB
 * of (mostly untouched) mapping per 4 GiB.
 */
#include "alloc/slab/map.h"

#include "alloc/slab/os.h"

/* ---------------------------------------------------------------------------
 * Metadata accounting
 * ------------------------------------------------------------------------- */
/* Mark OS page i of a bitmap touched; true if it was not (count it). */
static bool sl_touch_bit(uint64_t *bits, size_t i) {
  uint64_t m = (uint64_t)1 << (i & 63);
  if (bits[i >> 6] & m) return false;
  bits[i >> 6] |= m;
  return true;
}

static void sl_meta_add(sl_heap_t *h, size_t bytes) {
  h->meta_bytes += bytes;
  sl_footprint_add(h, bytes);
}

/* Count OS page i of the heap mapping as metadata, once. */
static void sl_meta_touch_heap(sl_heap_t *h, size_t i) {
  if (sl_touch_bit(h->heap_touched, i)) sl_meta_add(h, SL_OS_PAGE);
}

void sl_map_init(sl_heap_t *h) {
  for (size_t i = 0; i * SL_OS_PAGE < sizeof(sl_heap_t); i++)
    sl_meta_touch_heap(h, i); /* the record; map[] counts as slots are set */
}

/* Touched-page bits of the leaf with top index key, or NULL if untracked. */
static uint64_t *sl_leaf_bits(sl_heap_t *h, uintptr_t key) {
  size_t n = h->leaves < SL_LEAF_TRACK ? h->leaves : SL_LEAF_TRACK;
  for (size_t i = 0; i < n; i++)
    if (h->leaf_keys[i] == key) return h->leaf_touched[i];
  return NULL;
}

/* ---------------------------------------------------------------------------
 * The heap's map
 * ------------------------------------------------------------------------- */
static void **sl_map_leaf(sl_heap_t *h, uintptr_t a, bool create) {
  uintptr_t key = sl_map_top(a);
  void ***slot = &h->map[key];
  if (*slot || !create) return *slot;
  void **leaf = sl_os_map(h->src, SL_LEAF_BYTES, SL_OS_PAGE, NULL); /* zero: all NULL */
  if (!leaf) return NULL;
  *slot = leaf;
  sl_meta_touch_heap(h, (size_t)((uint8_t *)slot - (uint8_t *)h) / SL_OS_PAGE);
  if (h->hot_leaf == NULL) {
    h->hot_leaf = leaf;
    h->hot_key = key;
  }
  if (h->leaves < SL_LEAF_TRACK) h->leaf_keys[h->leaves] = (uint32_t)key;
  else sl_meta_add(h, SL_LEAF_BYTES); /* untracked: counted whole */
  h->leaves++;
  return leaf;
}

bool sl_map_set(sl_heap_t *h, void *base, size_t size, void *v) {
  uintptr_t a = (uintptr_t)base, end = a + size;
  if (sl_map_outside(end)) return false;
  /* Create every leaf first, so a failure leaves the map unchanged. */
  for (uintptr_t c = a; c < end; c += SL_CHUNK)
    if (v && !sl_map_leaf(h, c, true)) return false;
  if (h->shared && !sl_shared_set(h->shared, base, size, v)) return false;
  uintptr_t bits_key = ~(uintptr_t)0;
  uint64_t *bits = NULL;
  for (uintptr_t c = a; c < end; c += SL_CHUNK) {
    void **leaf = sl_map_leaf(h, c, false);
    if (leaf == NULL) continue;
    size_t i = sl_map_slot(c);
    leaf[i] = v;
    uintptr_t key = sl_map_top(c);
    if (key != bits_key) bits_key = key, bits = sl_leaf_bits(h, key);
    if (bits && sl_touch_bit(bits, i * sizeof(void *) / SL_OS_PAGE))
      sl_meta_add(h, SL_OS_PAGE);
  }
  return true;
}

/* Reading all of map[] would fault in 256 KiB of zero pages: walk the
 * remembered leaves, and the whole top only past SL_LEAF_TRACK leaves.
 * Every entry is clear by now, so the leaves go back as zero, and so do
 * the top's slots. */
void sl_map_release(sl_heap_t *h) {
  if (h->leaves <= SL_LEAF_TRACK) {
    for (size_t i = 0; i < h->leaves; i++) {
      sl_os_unmap_zero(h->src, h->map[h->leaf_keys[i]], SL_LEAF_BYTES);
      h->map[h->leaf_keys[i]] = NULL;
    }
  } else {
    for (size_t t = 0; t < ((size_t)1 << SL_TOP_BITS); t++)
      if (h->map[t]) sl_os_unmap_zero(h->src, h->map[t], SL_LEAF_BYTES), h->map[t] = NULL;
  }
}

/* ---------------------------------------------------------------------------
 * The shared map
 * ------------------------------------------------------------------------- */
sl_shared_map_t *sl_shared_map_create_in(sl_source_t *src) {
  sl_shared_map_t *m =
      sl_os_map(src, VA_ALIGN_UP(sizeof(sl_shared_map_t), SL_OS_PAGE), SL_OS_PAGE, NULL);
  if (m) m->src = src;
  return m;
}

sl_shared_map_t *sl_shared_map_create(void) { return sl_shared_map_create_in(NULL); }

void sl_shared_map_destroy(sl_shared_map_t *m) {
  if (m == NULL) return;
  /* Every member heap is gone: every entry is clear, and so is the map
   * once its top slots and counts are. */
  sl_source_t *src = m->src;
  size_t left = atomic_load(&m->leaves);
  if (left <= SL_LEAF_TRACK) {
    for (size_t i = 0; i < left; i++) {
      uint32_t key = atomic_load(&m->keys[i]);
      if (!key) continue;
      sl_os_unmap_zero(src, atomic_load(&m->top[key - 1]), SL_LEAF_BYTES);
      atomic_store(&m->top[key - 1], NULL);
      atomic_store(&m->keys[i], 0);
    }
  } else {
    for (size_t t = 0; left && t < ((size_t)1 << SL_TOP_BITS); t++) {
      sl_slot_t *leaf = atomic_load_explicit(&m->top[t], memory_order_relaxed);
      if (leaf) sl_os_unmap_zero(src, leaf, SL_LEAF_BYTES), left--;
      atomic_store(&m->top[t], NULL);
    }
    for (size_t i = 0; i < SL_LEAF_TRACK; i++) atomic_store(&m->keys[i], 0);
  }
  atomic_store(&m->leaves, 0);
  m->src = NULL;
  sl_os_unmap_zero(src, m, VA_ALIGN_UP(sizeof(sl_shared_map_t), SL_OS_PAGE));
}

/* The leaf covering address a; created when asked (NULL if that fails). */
static sl_slot_t *sl_shared_leaf(sl_shared_map_t *m, uintptr_t a, bool create) {
  _Atomic(sl_slot_t *) *top = &m->top[sl_map_top(a)];
  sl_slot_t *leaf = atomic_load_explicit(top, memory_order_acquire);
  if (leaf || !create) return leaf;
  sl_slot_t *fresh = sl_os_map(m->src, SL_LEAF_BYTES, SL_OS_PAGE, NULL); /* zero: all NULL */
  if (fresh == NULL) return NULL;
  if (atomic_compare_exchange_strong_explicit(top, &leaf, fresh,
                                              memory_order_acq_rel,
                                              memory_order_acquire)) {
    size_t i = atomic_fetch_add_explicit(&m->leaves, 1, memory_order_relaxed);
    if (i < SL_LEAF_TRACK) atomic_store(&m->keys[i], (uint32_t)sl_map_top(a) + 1);
    return fresh;
  }
  sl_os_unmap_zero(m->src, fresh, SL_LEAF_BYTES); /* another heap installed it first */
  return leaf;
}

bool sl_shared_set(sl_shared_map_t *m, void *base, size_t size, void *v) {
  uintptr_t a = (uintptr_t)base, end = a + size;
  if (sl_map_outside(end)) return false;
  for (uintptr_t c = a; c < end; c += SL_CHUNK)
    if (v && !sl_shared_leaf(m, c, true)) return false;
  for (uintptr_t c = a; c < end; c += SL_CHUNK) {
    sl_slot_t *leaf = sl_shared_leaf(m, c, false);
    if (leaf)
      atomic_store_explicit(&leaf[sl_map_slot(c)], v, memory_order_release);
  }
  return true;
}

void *sl_shared_get(const sl_shared_map_t *m, const void *p) {
  uintptr_t a = (uintptr_t)p;
  if (VA_UNLIKELY(sl_map_outside(a))) return NULL;
  sl_slot_t *leaf =
      atomic_load_explicit(&m->top[sl_map_top(a)], memory_order_acquire);
  if (VA_UNLIKELY(leaf == NULL)) return NULL;
  return atomic_load_explicit(&leaf[sl_map_slot(a)], memory_order_acquire);
}
