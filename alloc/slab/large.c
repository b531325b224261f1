/* vedalloc V2 — large blocks: one mapping each, and a bounded cache.
 *
 * Policy. A request above the top class gets a chunk-aligned mapping with
 * a 64-byte header (types.h). Every chunk of it is entered in the page map,
 * so free() recognises the payload in O(1) and an interior pointer as "not
 * a block". Freed mappings are kept, newest first, in a cache of at most
 * opts.large_cache bytes and SL_LARGE_CACHE_MAX entries; a later request is
 * served from it when a cached mapping is at least as large and at most
 * twice as large (no munmap/mmap and no page faults: on this VM they are
 * what makes large blocks slow). The oldest entries are unmapped first.
 * With opts.large_resident set, the cache keeps at most that many bytes of
 * pages in all (plus a header page per entry); the rest are discarded, so
 * a big cache costs address space, not memory (the drop-in's setting).
 *
 * realloc: shrinking stays in place (the tail goes back when it is at least
 * half the mapping); growing tries mremap in place, else moves. A large
 * block shrunk to a small size moves to a slab block.
 *
 * Complexity: O(chunks) map writes per new mapping; the cache lookup scans
 * at most SL_LARGE_CACHE_MAX entries.
 */
#include <string.h>

#include "alloc/slab/types.h"

/* Payload offset for an alignment: the header, or the alignment itself. */
static size_t sl_large_offset(size_t align) {
  return align <= SL_LARGE_HDR ? SL_LARGE_HDR : align;
}

SL_META size_t sl_large_usable(const sl_large_t *lg) {
  return lg->map_size - (size_t)(lg->payload - (const uint8_t *)lg);
}

/* Doubly linked list helpers over a head pointer. */
SL_META static void sl_large_link(sl_large_t **head, sl_large_t *lg) {
  lg->prev = NULL;
  lg->next = *head;
  if (*head) (*head)->prev = lg;
  *head = lg;
}

SL_META static void sl_large_unlink(sl_large_t **head, sl_large_t *lg) {
  if (lg->prev) lg->prev->next = lg->next;
  else *head = lg->next;
  if (lg->next) lg->next->prev = lg->prev;
  lg->next = lg->prev = NULL;
}

SL_META static sl_large_t *sl_large_map(sl_heap_t *h, size_t size,
                                        size_t align) {
  sl_large_t *lg = sl_os_map(size, align > SL_CHUNK ? align : SL_CHUNK);
  if (lg == NULL) return NULL;
  if (!sl_map_set(h, lg, size, lg)) {
    sl_os_unmap(lg, size);
    return NULL;
  }
  VA_POISON(lg, size);
  lg->kind = SL_KIND_LARGE;
  lg->map_size = size;
  lg->heap = h;
  sl_footprint_add(h, size);
  return lg;
}

SL_META static void sl_large_unmap(sl_heap_t *h, sl_large_t *lg) {
  size_t size = lg->map_size;
  sl_map_set(h, lg, size, NULL);
  h->footprint -= size;
  sl_os_unmap(lg, size);
}

/* ---------------------------------------------------------------------------
 * Cache
 * ------------------------------------------------------------------------- */
SL_META static void sl_cache_remove(sl_heap_t *h, sl_large_t *lg) {
  if (h->large_cache_tail == lg) h->large_cache_tail = lg->prev;
  sl_large_unlink(&h->large_cache, lg);
  h->cache_count--;
  h->cache_bytes -= lg->map_size;
  h->cache_resident -= lg->resident;
}

/* A cached mapping of size in [size, 2 * size], newest first, or NULL. */
SL_META static sl_large_t *sl_cache_take(sl_heap_t *h, size_t size) {
  for (sl_large_t *lg = h->large_cache; lg; lg = lg->next) {
    if (lg->map_size >= size && lg->map_size / 2 <= size) {
      sl_cache_remove(h, lg);
      return lg;
    }
  }
  return NULL;
}

/* Keep only the first `keep` bytes of a cached mapping's pages (keep >= the
 * header page: MADV_DONTNEED reads back zeros). One madvise, cheaper than
 * munmap + mmap + map writes; the next user faults in what it touches. */
SL_META static void sl_cache_shed(sl_heap_t *h, sl_large_t *lg, size_t keep) {
  if (lg->resident <= keep) return;
  sl_os_discard((uint8_t *)lg + keep, lg->resident - keep);
  h->cache_resident -= lg->resident - keep;
  lg->resident = keep;
}

SL_META static void sl_cache_put(sl_heap_t *h, sl_large_t *lg) {
  size_t budget = h->opts.large_cache;
  if (lg->map_size > budget) {
    sl_large_unmap(h, lg);
    return;
  }
  while (h->large_cache_tail &&
         (h->cache_bytes + lg->map_size > budget ||
          h->cache_count >= SL_LARGE_CACHE_MAX)) {
    sl_large_t *old = h->large_cache_tail;
    sl_cache_remove(h, old);
    sl_large_unmap(h, old);
  }
  /* The range is what saves the next mmap and page-map update; its pages
   * are what costs memory. Over the resident budget, the oldest entries
   * shed their pages first (newest is reused first), then this one. */
  size_t keep = lg->map_size, resident = h->opts.large_resident;
  for (sl_large_t *o = h->large_cache_tail;
       o && resident != SIZE_MAX && h->cache_resident + keep > resident; o = o->prev)
    sl_cache_shed(h, o, SL_OS_PAGE);
  if (resident != SIZE_MAX && h->cache_resident + keep > resident) {
    size_t room = resident > h->cache_resident ? resident - h->cache_resident : 0;
    keep = VA_ALIGN_UP(room > SL_LARGE_HDR ? room : SL_LARGE_HDR, SL_OS_PAGE);
    if (keep < lg->map_size) sl_os_discard((uint8_t *)lg + keep, lg->map_size - keep);
    else keep = lg->map_size;
  }
  lg->resident = keep;
  h->cache_resident += keep;
  lg->state = SL_LARGE_CACHED;
  sl_large_link(&h->large_cache, lg);
  if (h->large_cache_tail == NULL) h->large_cache_tail = lg;
  h->cache_count++;
  h->cache_bytes += lg->map_size;
}

/* ---------------------------------------------------------------------------
 * Entry points (called from slab.c)
 * ------------------------------------------------------------------------- */
SL_META void *sl_large_alloc(sl_heap_t *h, size_t n, size_t align,
                             bool *fresh) {
  size_t off = sl_large_offset(align), need;
  if (n == 0) n = 1; /* memalign(big, 0): the payload must lie inside */
  if (__builtin_add_overflow(n, off, &need) || need > VA_MAX_REQUEST)
    return va_enomem();
  size_t size = VA_ALIGN_UP(need, SL_CHUNK);
  sl_large_t *lg = off == SL_LARGE_HDR ? sl_cache_take(h, size) : NULL;
  *fresh = lg == NULL;
  if (lg == NULL) {
    lg = sl_large_map(h, size, align);
    if (lg == NULL) return va_enomem();
  }
  lg->payload = (uint8_t *)lg + off;
  lg->state = SL_LARGE_LIVE;
  sl_large_link(&h->large_live, lg);
  h->large_count++;
  VA_UNPOISON(lg->payload, sl_large_usable(lg));
  return lg->payload;
}

SL_META bool sl_large_valid(sl_heap_t *h, sl_large_t *lg, const void *p,
                            const char *op) {
  if (VA_LIKELY(lg->state == SL_LARGE_LIVE && p == lg->payload)) return true;
  va_error_kind_t kind = lg->state == SL_LARGE_CACHED && p == lg->payload
                             ? VA_ERR_DOUBLE_FREE
                             : VA_ERR_NOT_A_BLOCK;
  sl_raise(h, kind, op, p);
  return false;
}

SL_META void sl_large_free(sl_heap_t *h, sl_large_t *lg, void *p,
                           const char *op) {
  if (!sl_large_valid(h, lg, p, op)) return;
  sl_large_unlink(&h->large_live, lg);
  h->large_count--;
  VA_POISON(lg->payload, sl_large_usable(lg));
  sl_cache_put(h, lg);
}

/* Shrink in place, giving back the tail when it is half the mapping. */
SL_META static void *sl_large_shrink(sl_heap_t *h, sl_large_t *lg, size_t n) {
  size_t off = (size_t)(lg->payload - (uint8_t *)lg);
  size_t keep = VA_ALIGN_UP(off + n, SL_CHUNK);
  if (keep <= lg->map_size / 2) {
    sl_map_set(h, (uint8_t *)lg + keep, lg->map_size - keep, NULL);
    sl_os_trim(lg, lg->map_size, keep);
    h->footprint -= lg->map_size - keep;
    lg->map_size = keep;
  }
  return lg->payload;
}

/* Grow in place with mremap (no move); false if the next range is taken. */
SL_META static bool sl_large_grow(sl_heap_t *h, sl_large_t *lg, size_t n) {
  size_t off = (size_t)(lg->payload - (uint8_t *)lg), need;
  if (__builtin_add_overflow(off, n, &need) || need > VA_MAX_REQUEST)
    return false;
  size_t size = VA_ALIGN_UP(need, SL_CHUNK), old = lg->map_size;
  if (!sl_os_grow(lg, old, size)) return false;
  if (!sl_map_set(h, (uint8_t *)lg + old, size - old, lg)) {
    sl_os_trim(lg, size, old);
    return false;
  }
  lg->map_size = size;
  sl_footprint_add(h, size - old);
  return true;
}

SL_META void *sl_large_realloc(sl_heap_t *h, sl_large_t *lg, void *p,
                               size_t n) {
  size_t usable = sl_large_usable(lg);
  if (n > SL_MAX_SMALL && n <= usable) return sl_large_shrink(h, lg, n);
  if (n > usable && sl_large_grow(h, lg, n)) return p;
  void *q = sl_allocator.malloc(h, n);
  if (q == NULL) return NULL;
  memcpy(q, p, n < usable ? n : usable);
  sl_large_free(h, lg, p, "realloc");
  return q;
}

SL_META void sl_large_cache_flush(sl_heap_t *h) {
  while (h->large_cache) {
    sl_large_t *lg = h->large_cache;
    sl_cache_remove(h, lg);
    sl_large_unmap(h, lg);
  }
}

SL_META void sl_large_destroy_all(sl_heap_t *h) {
  while (h->large_live) {
    sl_large_t *lg = h->large_live;
    sl_large_unlink(&h->large_live, lg);
    sl_large_unmap(h, lg);
  }
  sl_large_cache_flush(h);
  h->large_count = 0;
}
