/* vedalloc V2 — large blocks: a run of chunks each, and a bounded cache.
 *
 * Policy. A request above the top class gets a chunk-aligned mapping with
 * a 128-byte header (types.h): a run carved from a segment up to
 * SL_SEG_CARVE_MAX (segment.h), else a mapping of its own. Every chunk of
 * it is entered in the page map, so free() recognises the payload in O(1)
 * and an interior pointer as "not a block".
 *
 * The cache. Freed mappings are kept, newest first, in a cache of at most
 * opts.large_cache bytes and SL_LARGE_CACHE_MAX entries, the oldest being
 * unmapped first. A request is served from it, with no page fault for what
 * was already touched, by:
 *   1. the newest entry at least as large and at most twice as large;
 *   2. else (a mapping of its own) the smallest larger entry, split: its
 *      tail becomes a cached entry of its own (no system call); or the
 *      largest smaller one, moved with its pages to the size needed
 *      (mremap: page tables move, nothing is copied).
 * So a program that frees and allocates multi-MiB blocks of varying sizes
 * reuses its pages as glibc's heap would (glibc's dynamic mmap threshold
 * is the same answer: what was freed once is kept for the next request).
 * What goes back is decided by time (jemalloc's decay): an entry keeps
 * its pages until it has been cached for opts.page_decay_ns; the first
 * cache operation after that sheds them (one madvise, the range and its
 * map entries stay). opts.large_resident caps the cached pages at any
 * time (oldest shed first); without a decay (0) it alone decides. With
 * opts.large_resident_ratio n there is an adaptive share under the cap:
 * twice the largest mapping cached lately (so free-then-allocate of
 * multi-MiB blocks faults nothing in again), or 1/n of the rest of the
 * heap's footprint if more (jemalloc's former dirty-page ratio, 1/8, is
 * the anchor): a heap of 80 MiB of small blocks that churns blocks of up
 * to 1 MiB keeps ~10 MiB of them resident, not the whole 64 MiB cache.
 *
 * Resizing: shrinking stays in place (the tail goes back when it is at
 * least half the mapping); growing tries the next chunks of its segment,
 * or mremap in place for a mapping of its own. Anything else is
 * a move, which the entry point does (it knows small blocks too).
 *
 * Complexity: O(chunks) map writes per new or moved mapping; a cache
 * lookup scans at most SL_LARGE_CACHE_MAX entries; a decay pass sheds
 * each entry once.
 */
#include "alloc/slab/large.h"

#include "alloc/slab/map.h"
#include "alloc/slab/os.h"
#include "alloc/slab/segment.h"

/* Payload offset for an alignment: the header, or the alignment itself. */
static size_t sl_large_offset(size_t align) {
  return align <= SL_LARGE_HDR ? SL_LARGE_HDR : align;
}

/* Doubly linked list helpers over a head pointer. */
static void sl_large_link(sl_large_t **head, sl_large_t *lg) {
  sl_large_set_prev(lg, NULL);
  sl_large_set_next(lg, *head);
  if (*head) sl_large_set_prev(*head, lg);
  *head = lg;
}

static void sl_large_unlink(sl_large_t **head, sl_large_t *lg) {
  sl_large_t *prev = sl_large_prev(lg), *next = sl_large_next(lg);
  if (prev) sl_large_set_next(prev, next);
  else *head = next;
  if (next) sl_large_set_prev(next, prev);
  sl_large_set_next(lg, NULL);
  sl_large_set_prev(lg, NULL);
}

/* Where a mapping's chunks come from: a segment's (segment.h) up to
 * SL_SEG_CARVE_MAX, else a mapping of its own. */
static bool sl_large_carves(size_t size, size_t align) {
  return size <= SL_SEG_CARVE_MAX && align <= SL_SEG_CARVE_MAX;
}

/* Give back [p, p + size) of lg's chunks, to wherever they came from. */
static void sl_large_give_back(sl_heap_t *h, const sl_large_t *lg, void *p, size_t size,
                               bool cool) {
  if (!sl_large_carved(lg)) sl_os_unmap(h->src, p, size);
  else if (p == lg) sl_seg_unmap_block(h, p, size, cool);
  else sl_seg_unmap(h, p, size);
}

/* [p, p + bytes) enters the page map as hdr's chunks and the footprint;
 * false (nothing changed) when the map cannot hold them. */
static bool sl_large_enter(sl_heap_t *h, sl_large_t *hdr, void *p, size_t bytes) {
  if (!sl_map_set(h, p, bytes, hdr)) return false;
  sl_footprint_add(h, bytes);
  return true;
}

/* ...and leaves both, before its chunks are given back or moved. */
static void sl_large_leave(sl_heap_t *h, void *p, size_t bytes) {
  sl_map_set(h, p, bytes, NULL);
  h->footprint -= bytes;
}

static sl_large_t *sl_large_map(sl_heap_t *h, size_t size, size_t align, bool *zeroed) {
  bool carved = sl_large_carves(size, align);
  size_t a = align > SL_CHUNK ? align : SL_CHUNK;
  sl_large_t *lg = carved ? sl_seg_map(h, size, a, zeroed) : sl_os_map(h->src, size, a, zeroed);
  if (lg == NULL) return NULL;
  sl_large_t t = {.kind = SL_KIND_LARGE, .map_size = size, .heap = h, .rnode.hdr = lg,
                  .carved = carved, .guard = SL_LARGE_GUARDS};
  if (!sl_large_enter(h, lg, lg, size)) {
    sl_large_give_back(h, &t, lg, size, false);
    return NULL;
  }
  sl_meta_copy(lg, &t, sizeof t);
  h->large_mapped++;
  return lg;
}

/* Give back lg's chunks past the first keep bytes (a chunk multiple). */
static void sl_large_cut(sl_heap_t *h, sl_large_t *lg, size_t keep) {
  size_t size = sl_large_map_size(lg);
  sl_large_leave(h, (uint8_t *)lg + keep, size - keep);
  sl_large_give_back(h, lg, (uint8_t *)lg + keep, size - keep, false);
  sl_large_set_map_size(lg, keep);
}

/* cool: a carved run goes back decommitted (sl_large_free's moved). */
static void sl_large_unmap(sl_heap_t *h, sl_large_t *lg, bool cool) {
  size_t size = sl_large_map_size(lg);
  sl_large_leave(h, lg, size);
  sl_large_give_back(h, lg, lg, size, cool);
}

/* ---------------------------------------------------------------------------
 * Cache
 * ------------------------------------------------------------------------- */
/* May a cache walk read lg and step past it? A cached header lies just
 * above another mapping's last bytes, where an overflow out of that block
 * lands: each entry is checked (sl_large_fault) before its links are
 * followed, and damage is reported here, under op, ending the walk. */
static bool sl_cache_sound(const sl_heap_t *h, const sl_large_t *lg, const char *op) {
  const char *why = sl_large_fault(h, lg);
  if (VA_LIKELY(why == NULL)) return true;
  va_raise_corrupt(&h->opts, op, lg, why);
  return false;
}

static void sl_cache_remove(sl_heap_t *h, sl_large_t *lg) {
  if (h->large_cache_tail == lg) h->large_cache_tail = sl_large_prev(lg);
  sl_large_unlink(&h->large_cache, lg);
  h->cache_count--;
  h->cache_bytes -= sl_large_map_size(lg);
  h->cache_resident -= sl_large_resident(lg);
}

/* A cached mapping of size in [size, 2 * size], newest first, or NULL. */
static sl_large_t *sl_cache_fit(const sl_heap_t *h, size_t size) {
  for (sl_large_t *lg = h->large_cache; lg && sl_cache_sound(h, lg, "malloc");
       lg = sl_large_next(lg)) {
    size_t have = sl_large_map_size(lg);
    if (have >= size && have / 2 <= size) return lg;
  }
  return NULL;
}

/* A cached mapping of its own to resize for size: the smallest larger
 * one, else the largest; NULL if none. */
static sl_large_t *sl_cache_near(const sl_heap_t *h, size_t size) {
  sl_large_t *above = NULL, *below = NULL;
  for (sl_large_t *lg = h->large_cache; lg && sl_cache_sound(h, lg, "malloc");
       lg = sl_large_next(lg)) {
    size_t have = sl_large_map_size(lg);
    if (sl_large_carved(lg)) continue;
    if (have >= size && (!above || have < sl_large_map_size(above))) above = lg;
    if (have < size && (!below || have > sl_large_map_size(below))) below = lg;
  }
  return above ? above : below;
}

/* lg (out of the cache) moved with its pages to a mapping of size bytes,
 * or NULL with lg unmapped. The header moves with the pages; what names
 * its address is rewritten. */
static sl_large_t *sl_large_move(sl_heap_t *h, sl_large_t *lg, size_t size) {
  size_t old = sl_large_map_size(lg);
  sl_large_t *to = sl_os_move(h->src, lg, old, size);
  if (to == NULL) {
    sl_large_unmap(h, lg, false);
    return NULL;
  }
  sl_large_leave(h, lg, old);
  sl_large_set_map_size(to, size);
  sl_rnode_set_hdr(&to->rnode, to);
  if (!sl_large_enter(h, to, to, size)) {
    sl_os_unmap(h->src, to, size);
    return NULL;
  }
  h->large_mapped++;
  VA_POISON(to, size); /* as a cached mapping is: the caller opens the payload */
  return to;
}

static void sl_cache_put(sl_heap_t *h, sl_large_t *lg, bool moved);

/* lg (out of the cache, a mapping of its own) keeps its first keep bytes;
 * the rest becomes a cached mapping of its own, pages and all (no system
 * call: munmap and mmap work on any part of a mapping). If its map
 * entries cannot be had, it goes back. */
static void sl_large_split(sl_heap_t *h, sl_large_t *lg, size_t keep) {
  size_t size = sl_large_map_size(lg);
  sl_large_t *tail = (sl_large_t *)((uint8_t *)lg + keep);
  sl_large_t t = {.kind = SL_KIND_LARGE, .map_size = size - keep, .heap = h,
                  .rnode.hdr = tail, .payload = (uint8_t *)tail + SL_LARGE_HDR,
                  .guard = SL_LARGE_GUARDS};
  if (!sl_map_set(h, tail, size - keep, tail)) {
    sl_large_cut(h, lg, keep);
    return;
  }
  sl_large_set_map_size(lg, keep);
  sl_meta_copy(tail, &t, sizeof t); /* poisoned memory: as a cached header */
  sl_cache_put(h, tail, false);
}

/* A cached mapping of size bytes (a fit, or one resized to it), or NULL. */
static sl_large_t *sl_cache_take(sl_heap_t *h, size_t size) {
  sl_large_t *lg = sl_cache_fit(h, size);
  if (lg) {
    sl_cache_remove(h, lg);
    return lg;
  }
  if (size <= SL_SEG_CARVE_MAX || (lg = sl_cache_near(h, size)) == NULL) return NULL;
  sl_cache_remove(h, lg);
  if (sl_large_map_size(lg) >= size) {
    sl_large_split(h, lg, size);
    return lg;
  }
  return sl_large_move(h, lg, size);
}

/* Keep only the first `keep` bytes of a cached mapping's pages (keep >= the
 * header page: MADV_DONTNEED reads back zeros). One madvise, cheaper than
 * munmap + mmap + map writes; the next user faults in what it touches. */
static void sl_cache_shed(sl_heap_t *h, sl_large_t *lg, size_t keep) {
  size_t resident = sl_large_resident(lg);
  if (resident <= keep) return;
  sl_os_discard(h->src, (uint8_t *)lg + keep, resident - keep);
  h->cache_resident -= resident - keep;
  sl_large_set_resident(lg, keep);
}

/* Shed the pages of every entry cached for the decay or longer (the
 * oldest are at the tail), at most once per decay period. */
static void sl_cache_decay(sl_heap_t *h, uint64_t now) {
  if (h->idle_decay == 0 || !sl_decay_due(h, h->cache_clock, now)) return;
  h->cache_clock = now;
  h->cache_peak[1] = h->cache_peak[0], h->cache_peak[0] = 0;
  for (sl_large_t *o = h->large_cache_tail;
       o && sl_cache_sound(h, o, "free") && now - sl_large_cached_at(o) >= h->idle_decay;
       o = sl_large_prev(o))
    sl_cache_shed(h, o, SL_OS_PAGE);
}

/* The adaptive share (opts.large_resident_ratio n) as a mapping of size
 * bytes joins the cache (SIZE_MAX without a ratio): twice the largest
 * mapping cached over the last one or two decay periods (with no decay,
 * ever): room for the block just freed and one to grow or split (glibc's
 * dynamic thresholds follow the largest block freed the same way); or
 * 1/n of the rest of the footprint if more. Entries over it are shed once
 * cached for 1/SL_SHARE_AGE of the decay: one reused soon costs no system
 * call. */
#define SL_SHARE_AGE 8
static size_t sl_cache_share(const sl_heap_t *h, size_t size) {
  size_t n = h->opts.large_resident_ratio;
  if (n == 0) return SIZE_MAX;
  size_t peak = h->cache_peak[0] > h->cache_peak[1] ? h->cache_peak[0] : h->cache_peak[1];
  size_t used = h->cache_bytes + size, rest = h->footprint > used ? h->footprint - used : 0;
  return rest / n > 2 * peak ? rest / n : 2 * peak;
}

static void sl_cache_put(sl_heap_t *h, sl_large_t *lg, bool moved) {
  size_t budget = h->opts.large_cache, size = sl_large_map_size(lg);
  if (size > budget || size < h->opts.large_cache_min) {
    sl_large_unmap(h, lg, moved);
    return;
  }
  while (h->large_cache_tail && (h->cache_bytes + size > budget ||
                                 h->cache_count >= SL_LARGE_CACHE_MAX)) {
    sl_large_t *old = h->large_cache_tail;
    if (!sl_cache_sound(h, old, "free")) break;
    sl_cache_remove(h, old);
    sl_large_unmap(h, old, false);
  }
  /* The range is what saves the next mmap and page-map update; its pages
   * are what costs memory. Over the resident cap, the oldest entries shed
   * their pages first (newest is reused first), then this one; over the
   * share, the oldest that are no longer young. */
  if (size > h->cache_peak[0]) h->cache_peak[0] = size;
  size_t keep = size, resident = h->opts.large_resident, share = sl_cache_share(h, size);
  uint64_t now = h->idle_decay ? sl_now_ns() : 0, young = h->idle_decay / SL_SHARE_AGE;
  for (sl_large_t *o = h->large_cache_tail; o; o = sl_large_prev(o)) {
    bool over_cap = resident != SIZE_MAX && h->cache_resident + keep > resident;
    bool over_share = share != SIZE_MAX && /* header pages stay, as under the cap */
                      h->cache_resident + keep > share + h->cache_count * SL_OS_PAGE &&
                      now - sl_large_cached_at(o) >= young;
    if ((!over_cap && !over_share) || !sl_cache_sound(h, o, "free"))
      break; /* toward the head, only younger ones */
    sl_cache_shed(h, o, SL_OS_PAGE);
  }
  if (resident != SIZE_MAX && h->cache_resident + keep > resident) {
    size_t room = resident > h->cache_resident ? resident - h->cache_resident : 0;
    keep = VA_ALIGN_UP(room > SL_LARGE_HDR ? room : SL_LARGE_HDR, SL_OS_PAGE);
    if (keep < size) sl_os_discard(h->src, (uint8_t *)lg + keep, size - keep);
    else keep = size;
  }
  sl_large_set_resident(lg, keep);
  h->cache_resident += keep;
  sl_large_set_cached_at(lg, now);
  sl_large_set_state(lg, SL_LARGE_CACHED);
  sl_large_link(&h->large_cache, lg);
  if (h->large_cache_tail == NULL) h->large_cache_tail = lg;
  h->cache_count++;
  h->cache_bytes += size;
  sl_cache_decay(h, now);
}

/* ---------------------------------------------------------------------------
 * Entry points (large.h)
 * ------------------------------------------------------------------------- */
void *sl_large_alloc(sl_heap_t *h, size_t n, size_t align, bool *fresh) {
  size_t off = sl_large_offset(align), need;
  if (n == 0) n = 1; /* memalign(big, 0): the payload must lie inside */
  if (__builtin_add_overflow(n, off, &need) || need > VA_MAX_REQUEST)
    return va_enomem();
  size_t size = VA_ALIGN_UP(need, SL_CHUNK);
  if (h->idle_decay) sl_cache_decay(h, sl_now_ns());
  sl_large_t *lg = off == SL_LARGE_HDR ? sl_cache_take(h, size) : NULL;
  bool mapped = lg == NULL, zeroed = false;
  if (lg == NULL) {
    lg = sl_large_map(h, size, align, &zeroed);
    if (lg == NULL) return va_enomem();
  }
  *fresh = zeroed;
  uint8_t *payload = (uint8_t *)lg + off;
  sl_large_set_payload(lg, payload);
  sl_large_set_state(lg, SL_LARGE_LIVE);
  sl_large_link(&h->large_live, lg);
  h->large_count++;
  /* A fresh mapping is addressable to ASan: only the header (and padding)
   * before the payload is ours. A cached one was poisoned whole when freed. */
  if (mapped) VA_POISON(lg, off);
  else VA_UNPOISON(payload, sl_large_usable(lg));
  return payload;
}

/* x, a neighbour lg's list names, is a large header of h's (the map names
 * it for its own chunk) whose link `back` (its prev or next) is lg. */
static bool sl_large_linked(const sl_heap_t *h, const sl_large_t *x, const sl_large_t *lg,
                            bool back_is_prev) {
  if (sl_map_get(h, x) != x || sl_obj_kind(x) != SL_KIND_LARGE) return false;
  return (back_is_prev ? sl_large_prev(x) : sl_large_next(x)) == lg;
}

const char *sl_large_fault(const sl_heap_t *h, const sl_large_t *lg) {
  uint32_t state = sl_large_state(lg);
  size_t size = sl_large_map_size(lg);
  const uint8_t *base = (const uint8_t *)lg, *payload = sl_large_payload(lg);
  if (sl_obj_kind(lg) != SL_KIND_LARGE) return "V2 sl.large.kind: a large header's kind is overwritten";
  if (state != SL_LARGE_LIVE && state != SL_LARGE_CACHED)
    return "V2 sl.large.state: a large header's state is overwritten";
  for (size_t i = 0; i < 4; i++)
    if (sl_large_guard(lg, i) != SL_LARGE_GUARD)
      return "V2 sl.large.guard: the bytes before a large block are overwritten";
  if (size == 0 || size % SL_CHUNK || sl_large_carved(lg) > 1 ||
      (sl_large_carved(lg) && size > SL_SEG_CARVE_MAX))
    return "V2 sl.large.size: a large header's size is overwritten";
  if (payload < base + SL_LARGE_HDR || payload >= base + size ||
      (uintptr_t)payload % VA_ALIGNMENT || sl_rnode_hdr(&lg->rnode) != lg)
    return "V2 sl.large.payload: a large header's payload or queue node is overwritten";
  if (h == NULL) return NULL;
  if (sl_large_heap(lg) != h) return "V2 sl.large.heap: a large header's heap is overwritten";
  if (sl_map_get(h, base + size - SL_CHUNK) != lg || sl_map_get(h, base + size) == lg)
    return "V2 sl.large.map: a large header's size disagrees with the page map";
  const sl_large_t *prev = sl_large_prev(lg), *next = sl_large_next(lg);
  const sl_large_t *head = state == SL_LARGE_LIVE ? h->large_live : h->large_cache;
  if (prev ? !sl_large_linked(h, prev, lg, false) : head != lg)
    return "V2 sl.large.links: a large header's prev does not lead back to it";
  if (next && !sl_large_linked(h, next, lg, true))
    return "V2 sl.large.links: a large header's next does not lead back to it";
  return NULL;
}

va_error_kind_t sl_large_check_ptr(const sl_heap_t *h, const sl_large_t *lg, const void *p) {
  if (VA_UNLIKELY(sl_large_fault(h, lg) != NULL)) return VA_ERR_CORRUPTION;
  bool at_payload = p == sl_large_payload(lg);
  uint32_t state = sl_large_state(lg);
  if (VA_LIKELY(state == SL_LARGE_LIVE && at_payload)) return 0;
  return state == SL_LARGE_CACHED && at_payload ? VA_ERR_DOUBLE_FREE
                                                : VA_ERR_NOT_A_BLOCK;
}

void sl_large_free(sl_heap_t *h, sl_large_t *lg, bool moved) {
  sl_large_unlink(&h->large_live, lg);
  h->large_count--;
  VA_POISON(sl_large_payload(lg), sl_large_usable(lg));
  sl_cache_put(h, lg, moved);
}

/* Shrink in place, giving back the tail when it is half the mapping. */
static void sl_large_shrink(sl_heap_t *h, sl_large_t *lg, size_t n) {
  size_t keep = sl_large_keep(lg, n);
  if (keep < sl_large_map_size(lg)) sl_large_cut(h, lg, keep);
}

/* Grow in place with mremap (no move); false if the next range is taken. */
static bool sl_large_grow(sl_heap_t *h, sl_large_t *lg, size_t n) {
  size_t off = (size_t)(sl_large_payload(lg) - (uint8_t *)lg), need;
  if (__builtin_add_overflow(off, n, &need) || need > VA_MAX_REQUEST)
    return false;
  size_t size = VA_ALIGN_UP(need, SL_CHUNK), old = sl_large_map_size(lg);
  bool grown = sl_large_carved(lg) ? sl_seg_grow(h, lg, old, size)
                                   : sl_os_grow(h->src, lg, old, size);
  if (!grown) return false;
  if (!sl_large_enter(h, lg, (uint8_t *)lg + old, size - old)) {
    sl_large_give_back(h, lg, (uint8_t *)lg + old, size - old, false);
    return false;
  }
  sl_large_set_map_size(lg, size);
  VA_UNPOISON((uint8_t *)lg + old, size - old); /* fresh: never poisoned */
  return true;
}

bool sl_large_resize(sl_heap_t *h, sl_large_t *lg, size_t n) {
  if (n <= sl_large_usable(lg)) {
    sl_large_shrink(h, lg, n);
    return true;
  }
  return sl_large_grow(h, lg, n);
}

void sl_large_cache_flush(sl_heap_t *h) {
  while (h->large_cache) {
    sl_large_t *lg = h->large_cache;
    sl_cache_remove(h, lg);
    sl_large_unmap(h, lg, false);
  }
}

void sl_large_release_all(sl_heap_t *h) {
  while (h->large_live) {
    sl_large_t *lg = h->large_live;
    sl_large_unlink(&h->large_live, lg);
    sl_large_unmap(h, lg, false);
  }
  h->large_count = 0;
  sl_large_cache_flush(h);
}
