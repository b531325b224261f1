/* vedalloc V2 — corruption tests: for every invariant of types.h, break a
 * healthy heap in exactly that way and assert the checker names exactly
 * that invariant; then undo the damage and assert the heap checks clean.
 * Functions here touch poisoned metadata on purpose, hence SL_META. */
#include <stdlib.h>
#include <string.h>

#include "alloc/slab/segment.h"
#include "alloc/slab/slab.h"
#include "alloc/slab/test_util.h"
#include "alloc/slab/types.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &sl_allocator;

/* A heap in a representative state:
 *   class of 64: page `full` with every block live, page `part` (the avail
 *   head) with a free list of >= 3 nodes and an unsliced region;
 *   class of 128: one idle page on the empty list;
 *   class of 512: two pages on the empty list, one in the idle pool;
 *   one live and one cached large mapping. */
typedef struct t_world {
  void *h;
  sl_page_t *full, *part, *idle, *pooled;
  sl_large_t *live, *cached;
  void **keep; /* blocks to free at the end */
  size_t nkeep;
} t_world_t;

static sl_page_t *t_page_of(void *h, void *p) {
  void *pg = NULL;
  if (!sl_block_info(h, p, NULL, &pg)) abort();
  return pg;
}

SL_T_META static void t_world_make(t_world_t *w) {
  static sl_t_hook_t hook;
  va_options_t o = sl_t_options(&hook);
  o.page_reserve = 2;
  o.large_cache = 1 << 20;
  w->h = A->create(&o);
  size_t cap = (SL_SMALL_PAGE - 2048) / 64, n = 0;
  w->keep = calloc(4 * cap + 8, sizeof(void *));
  void *first = A->malloc(w->h, 64);
  w->keep[n++] = first;
  w->full = t_page_of(w->h, first);
  while (n < w->full->capacity + 10) w->keep[n++] = A->malloc(w->h, 64);
  w->part = t_page_of(w->h, w->keep[n - 1]);
  /* three frees in the partial page: a free list of several nodes */
  for (int i = 0; i < 3; i++) A->free(w->h, w->keep[--n]);
  w->keep[n++] = A->malloc(w->h, 64);
  A->free(w->h, w->keep[--n]);
  /* class 128: fill a page and a bit, then empty the first page */
  void *b0 = A->malloc(w->h, 128);
  sl_page_t *pg128 = t_page_of(w->h, b0);
  size_t m = pg128->capacity;
  void **tmp = calloc(m + 4, sizeof(void *));
  tmp[0] = b0;
  for (size_t i = 1; i < m + 4; i++) tmp[i] = A->malloc(w->h, 128);
  for (size_t i = 0; i < m; i++) A->free(w->h, tmp[i]);
  for (size_t i = m; i < m + 4; i++) w->keep[n++] = tmp[i];
  free(tmp);
  w->idle = pg128;
  /* class 512: three pages emptied; the reserve (2) takes two */
  void *c0 = A->malloc(w->h, 512);
  size_t cap512 = t_page_of(w->h, c0)->capacity, m3 = 2 * cap512 + 1;
  void **tmp3 = calloc(m3, sizeof(void *));
  tmp3[0] = c0;
  for (size_t i = 1; i < m3; i++) tmp3[i] = A->malloc(w->h, 512);
  w->pooled = t_page_of(w->h, tmp3[m3 - 1]);
  for (size_t i = 0; i < m3; i++) A->free(w->h, tmp3[i]);
  free(tmp3);
  sl_heap_t *sh = w->h;
  if (w->pooled->list != SL_LIST_IDLE || sh->idle_count != 1) abort();
  /* large: one cached, one live */
  void *l1 = A->malloc(w->h, 100000), *l2 = A->malloc(w->h, 200000);
  void *lp = NULL;
  sl_block_info(w->h, l1, NULL, &lp);
  w->cached = lp;
  A->free(w->h, l1);
  sl_block_info(w->h, l2, NULL, &lp);
  w->live = lp;
  w->keep[n++] = l2;
  w->nkeep = n;
}

static void t_world_free(t_world_t *w) {
  for (size_t i = 0; i < w->nkeep; i++) A->free(w->h, w->keep[i]);
  va_report_t r;
  VT_CHECK(A->check_empty(w->h, &r));
  A->destroy(w->h);
  free(w->keep);
}

/* Does the checker name exactly `inv`? */
static bool t_names(void *h, const char *inv) {
  va_report_t r;
  bool ok = A->check(h, &r);
  if (ok || r.invariant == NULL || strcmp(r.invariant, inv) != 0) {
    fprintf(stderr, "expected %s, got %s (%s)\n", inv,
            ok ? "clean" : r.invariant, ok ? "" : r.detail);
    return false;
  }
  return true;
}

static bool t_clean(void *h) {
  va_report_t r;
  bool ok = A->check(h, &r);
  if (!ok) fprintf(stderr, "unexpected %s: %s\n", r.invariant, r.detail);
  return ok;
}

/* Each corruption: break, name, repair. */
SL_T_META static void t_freelist_bounds(t_world_t *w) {
  sl_page_t *pg = w->part;
  sl_block_t *node = pg->freelist, *saved = sl_block_next(pg, node);
  sl_block_set_next(pg, node, (sl_block_t *)(pg->blocks + (size_t)pg->bumped * pg->block_size));
  VT_CHECK(t_names(w->h, "sl.freelist_bounds"));
  sl_block_set_next(pg, node, (sl_block_t *)((uint8_t *)pg - 4096));
  VT_CHECK(t_names(w->h, "sl.freelist_bounds"));
  node->link ^= (uintptr_t)1 << 40; /* a plain pointer's bits, not the key's */
  VT_CHECK(t_names(w->h, "sl.freelist_bounds"));
  sl_block_set_next(pg, node, saved);
}

SL_T_META static void t_freelist_grid(t_world_t *w) {
  sl_page_t *pg = w->part;
  sl_block_t *node = pg->freelist, *saved = sl_block_next(pg, node);
  sl_block_set_next(pg, node, (sl_block_t *)((uint8_t *)saved + 16));
  VT_CHECK(t_names(w->h, "sl.freelist_grid"));
  sl_block_set_next(pg, node, saved);
}

SL_T_META static void t_freelist_cycle(t_world_t *w) {
  sl_page_t *pg = w->part;
  sl_block_t *node = sl_block_next(pg, pg->freelist), *saved = sl_block_next(pg, node);
  sl_block_set_next(pg, node, pg->freelist); /* back to the head */
  VT_CHECK(t_names(w->h, "sl.freelist_cycle"));
  sl_block_set_next(pg, node, saved);
}

SL_T_META static void t_capacity(t_world_t *w) {
  w->part->used++;
  VT_CHECK(t_names(w->h, "sl.capacity"));
  w->part->used--;
  w->part->bumped--; /* a sliced free block silently dropped */
  VT_CHECK(!t_clean(w->h));
  w->part->bumped++;
}

SL_T_META static void t_free_key(t_world_t *w) {
  w->part->free_key ^= 2; /* a page whose key is not its heap's */
  VT_CHECK(t_names(w->h, "sl.free_key"));
  w->part->free_key ^= 2;
}

SL_T_META static void t_avail_list(t_world_t *w) {
  w->part->list = SL_LIST_FULL; /* has free blocks but claims full */
  VT_CHECK(t_names(w->h, "sl.avail_list"));
  w->part->list = SL_LIST_AVAIL;
  w->full->list = SL_LIST_AVAIL; /* full page marked avail, not linked */
  VT_CHECK(t_names(w->h, "sl.avail_list"));
  w->full->list = SL_LIST_FULL;
  sl_heap_t *h = w->h;
  size_t c = w->part->class_idx;
  h->avail[c] = SL_NONE; /* unlinked from its class */
  VT_CHECK(t_names(w->h, "sl.avail_list"));
  h->avail[c] = w->part;
  h->direct[8] = SL_NONE; /* the by-size copy out of step */
  VT_CHECK(t_names(w->h, "sl.avail_list"));
  h->direct[8] = w->part;
  w->part->keep_empty ^= 1; /* the cached "may stay empty" flag out of step */
  VT_CHECK(t_names(w->h, "sl.avail_list"));
  w->part->keep_empty ^= 1;
}

SL_T_META static void t_page_class(t_world_t *w) {
  w->part->block_size = 48;
  VT_CHECK(t_names(w->h, "sl.page_class"));
  w->part->block_size = 64;
  void *owner = w->part->heap;
  w->part->heap = NULL;
  VT_CHECK(t_names(w->h, "sl.page_class"));
  w->part->heap = owner;
  w->part->div_magic--; /* the grid divisor: free would misplace blocks */
  VT_CHECK(t_names(w->h, "sl.page_class"));
  w->part->div_magic++;
}

SL_T_META static void t_page_guard(t_world_t *w) {
  uint64_t *guard = (uint64_t *)(w->part->blocks - 8);
  *guard ^= 0x41; /* a 1-byte underflow out of block 0 */
  VT_CHECK(t_names(w->h, "sl.page_guard"));
  *guard ^= 0x41;
}

SL_T_META static void t_reserve(t_world_t *w) {
  sl_heap_t *h = w->h;
  size_t c = w->idle->class_idx;
  VT_CHECK(w->idle->list == SL_LIST_RESERVE && h->cls[c].reserve_count == 1);
  h->cls[c].reserve_count++;
  VT_CHECK(t_names(w->h, "sl.reserve"));
  h->cls[c].reserve_count--;
  w->idle->list = SL_LIST_AVAIL; /* on the empty list, marked otherwise */
  VT_CHECK(t_names(w->h, "sl.reserve"));
  w->idle->list = SL_LIST_RESERVE;
}

SL_T_META static void t_large(t_world_t *w) {
  w->live->state = SL_LARGE_CACHED;
  VT_CHECK(t_names(w->h, "sl.large"));
  w->live->state = SL_LARGE_LIVE;
  sl_heap_t *h = w->h;
  h->cache_bytes += SL_CHUNK;
  VT_CHECK(t_names(w->h, "sl.large"));
  h->cache_bytes -= SL_CHUNK;
  w->cached->resident -= SL_OS_PAGE; /* the sum no longer matches */
  VT_CHECK(t_names(w->h, "sl.large"));
  w->cached->resident += SL_OS_PAGE;
  uint8_t *saved = w->cached->payload;
  w->cached->payload = (uint8_t *)w->cached + 8; /* inside the header */
  VT_CHECK(t_names(w->h, "sl.large"));
  w->cached->payload = saved;
  /* the decay: a pass at cache_clock saw this entry aged, yet it kept its
   * pages (resident and the sum raised together: only the age is wrong) */
  uint64_t decay = h->idle_decay, clock = h->cache_clock;
  h->idle_decay = 1000;
  h->cache_clock = w->cached->cached_at + 1000;
  w->cached->resident += SL_OS_PAGE;
  h->cache_resident += SL_OS_PAGE;
  VT_CHECK(t_names(w->h, "sl.large"));
  w->cached->resident -= SL_OS_PAGE;
  h->cache_resident -= SL_OS_PAGE;
  h->idle_decay = decay;
  h->cache_clock = clock;
  /* the order: a newer entry (the head) cached before the older one */
  A->free(w->h, A->malloc(w->h, 300000));
  sl_large_t *newest = h->large_cache;
  VT_CHECK(newest != w->cached && newest->next == w->cached);
  uint64_t at = newest->cached_at;
  newest->cached_at = w->cached->cached_at;
  w->cached->cached_at++;
  VT_CHECK(t_names(w->h, "sl.large"));
  w->cached->cached_at--;
  newest->cached_at = at;
}

SL_T_META static void t_counts(t_world_t *w) {
  sl_heap_t *h = w->h;
  h->footprint += 4096;
  VT_CHECK(t_names(w->h, "sl.counts"));
  h->footprint -= 4096;
  h->cls[w->part->class_idx].pages++;
  VT_CHECK(t_names(w->h, "sl.counts"));
  h->cls[w->part->class_idx].pages--;
  h->page_count++;
  VT_CHECK(t_names(w->h, "sl.counts"));
  h->page_count--;
  /* metadata: a page's map entry on a leaf page not counted, and the
   * count out of step with the touched-page bits */
  uintptr_t a = (uintptr_t)sl_page_base(w->part);
  size_t e = (a >> SL_CHUNK_SHIFT) & (((size_t)1 << SL_LEAF_BITS) - 1);
  size_t i = 0, bit = e * sizeof(void *) / SL_OS_PAGE;
  while (h->leaf_keys[i] != a >> (SL_CHUNK_SHIFT + SL_LEAF_BITS)) i++;
  h->leaf_touched[i][bit / 64] ^= (uint64_t)1 << (bit % 64);
  h->meta_bytes -= SL_OS_PAGE;
  h->footprint -= SL_OS_PAGE;
  VT_CHECK(t_names(w->h, "sl.counts"));
  h->leaf_touched[i][bit / 64] ^= (uint64_t)1 << (bit % 64);
  h->meta_bytes += SL_OS_PAGE;
  h->footprint += SL_OS_PAGE;
  h->meta_bytes += SL_OS_PAGE;
  h->footprint += SL_OS_PAGE;
  VT_CHECK(t_names(w->h, "sl.counts"));
  h->meta_bytes -= SL_OS_PAGE;
  h->footprint -= SL_OS_PAGE;
}

SL_T_META static void t_idle(t_world_t *w) {
  sl_heap_t *h = w->h;
  h->idle_bytes += SL_SMALL_PAGE;
  VT_CHECK(t_names(w->h, "sl.idle"));
  h->idle_bytes -= SL_SMALL_PAGE;
  h->idle_count++;
  VT_CHECK(t_names(w->h, "sl.idle"));
  h->idle_count--;
  h->idle_tail[0] = NULL;
  VT_CHECK(t_names(w->h, "sl.idle"));
  h->idle_tail[0] = w->pooled;
  w->pooled->prev = w->pooled;
  VT_CHECK(t_names(w->h, "sl.idle"));
  w->pooled->prev = NULL;
  /* a pooled page with a live block (count and free list agreeing) */
  sl_block_t *b = w->pooled->freelist;
  w->pooled->freelist = sl_block_next(w->pooled, b);
  w->pooled->used++;
  VT_CHECK(t_names(w->h, "sl.idle"));
  w->pooled->used--;
  w->pooled->freelist = b;
  /* over the budget (page_reserve MiB) */
  size_t saved = h->opts.page_reserve;
  uint64_t decay = h->idle_decay, clock = h->idle_clock;
  h->opts.page_reserve = 0;
  h->idle_decay = 0; /* no decay: the budget is a hard limit */
  VT_CHECK(t_names(w->h, "sl.idle"));
  h->idle_decay = decay; /* decay: over budget once the tail aged out */
  h->idle_clock = w->pooled->idle_since + decay;
  VT_CHECK(t_names(w->h, "sl.idle"));
  h->idle_clock = clock;
  h->opts.page_reserve = saved;
  w->pooled->idle_since += 1; /* newer than the page before it: none here */
  VT_CHECK(t_clean(w->h));
  w->pooled->idle_since -= 1;
}

SL_T_META static void t_segment(t_world_t *w) {
  sl_heap_t *h = w->h;
  sl_seg_t *seg = sl_seg_of(w->live);
  VT_CHECK(h->segs == seg && seg->kind == SL_KIND_SEG);
  seg->kind ^= 1;
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->kind ^= 1;
  seg->heap = NULL;
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->heap = h;
  h->seg_count++;
  VT_CHECK(t_names(w->h, "sl.segment"));
  h->seg_count--;
  seg->prev = seg;
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->prev = NULL;
  sl_seg_t *tail = h->seg_tail;
  h->seg_tail = tail == seg ? NULL : seg; /* the tail pointer names another */
  VT_CHECK(t_names(w->h, "sl.segment"));
  h->seg_tail = tail;
  seg->used &= ~(uint64_t)1; /* chunk 0, the header's, handed out */
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->used |= 1;
  seg->gone |= 1; /* chunk 0, always in use, remembered as a freed block */
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->gone &= ~(uint64_t)1;
  seg->dirty_at = seg->freed_at + 1; /* a resident free chunk back after the last */
  VT_CHECK(t_names(w->h, "sl.segment"));
  seg->dirty_at = seg->freed_at;
  h->seg_dirty++; /* the count of free dirty chunks the budget reads */
  VT_CHECK(t_names(w->h, "sl.segment"));
  h->seg_dirty--;
}

SL_T_META static void t_segment_chunks(t_world_t *w) {
  sl_seg_t *seg = sl_seg_of(w->live);
  uint64_t free_bits = ~seg->used;
  VT_CHECK(free_bits != 0);
  uint64_t one_free = free_bits & -free_bits;
  seg->used |= one_free; /* a chunk in use that nothing owns */
  VT_CHECK(t_names(w->h, "sl.segment_chunks"));
  seg->used &= ~one_free;
  size_t c = (size_t)((uint8_t *)w->live - sl_seg_base(seg)) / SL_CHUNK;
  seg->used &= ~((uint64_t)1 << c); /* the live mapping's chunk marked free */
  VT_CHECK(t_names(w->h, "sl.segment_chunks"));
  seg->used |= (uint64_t)1 << c;
  w->live->carved = 0; /* a carved mapping that claims a mapping of its own */
  VT_CHECK(t_names(w->h, "sl.segment_chunks"));
  w->live->carved = 1;
}

typedef void (*t_corrupt_fn)(t_world_t *);

static void t_run(const char *name, t_corrupt_fn fn) {
  t_world_t w;
  t_world_make(&w);
  if (!t_clean(w.h)) fprintf(stderr, "%s: world not clean\n", name);
  VT_CHECK(t_clean(w.h));
  fn(&w);
  VT_CHECK(t_clean(w.h)); /* repaired exactly */
  t_world_free(&w);
}

static void test_check_empty(void) {
  t_world_t w;
  t_world_make(&w);
  va_report_t r;
  VT_CHECK(!A->check_empty(w.h, &r) && strcmp(r.invariant, "sl.empty") == 0);
  VT_CHECK(A->check(w.h, &r) && r.invariant == NULL);
  va_stats_t s;
  A->stats(w.h, &s);
  VT_CHECK(s.live_blocks == w.nkeep && s.large_mappings == 1);
  VT_CHECK(s.pages == 7 && s.free_blocks > 0 && s.largest_free >= 100000);
  t_world_free(&w);
}

int main(void) {
  t_run("freelist_bounds", t_freelist_bounds);
  t_run("page_guard", t_page_guard);
  t_run("freelist_grid", t_freelist_grid);
  t_run("freelist_cycle", t_freelist_cycle);
  t_run("capacity", t_capacity);
  t_run("free_key", t_free_key);
  t_run("avail_list", t_avail_list);
  t_run("page_class", t_page_class);
  t_run("reserve", t_reserve);
  t_run("large", t_large);
  t_run("counts", t_counts);
  t_run("idle", t_idle);
  t_run("segment", t_segment);
  t_run("segment_chunks", t_segment_chunks);
  test_check_empty();
  return va_check_summary();
}
