/* vedalloc V2 — segments (segment.h): pages and large blocks share 4 MiB
 * reservations, come back without a system call, and go back to the OS
 * after the decay, at trim and at destroy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc/slab/segment.h"
#include "alloc/slab/test_util.h"
#include "alloc/testing/check.h"

static const va_allocator_t *A = &sl_allocator;

static sl_census_t t_census(void *h) {
  sl_census_t c;
  sl_heap_census(h, &c);
  return c;
}

static void *t_heap(uint64_t decay, size_t reserve) {
  va_options_t o = va_options_default();
  o.page_decay_ns = decay;
  o.page_reserve = reserve;
  o.large_cache = 0; /* freed large blocks go straight back to their segment */
  return A->create(&o);
}

/* Pages of many classes and large blocks up to the carve limit come from
 * one segment while they fit; churning them maps nothing more. */
static void test_one_segment_serves_all(void) {
  void *h = t_heap(1000000000, 0); /* 1 s: nothing decays during the test */
  void *p[24];
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 24; i++)
      p[i] = A->malloc(h, i < 20 ? (size_t)16 << (i % 11) : 100000 + 50000 * (size_t)i);
    for (int i = 0; i < 24; i++) {
      VT_CHECK(p[i] != NULL);
      memset(p[i], 0xab, A->usable_size(h, p[i]));
    }
    for (int i = 0; i < 24; i++) A->free(h, p[i]);
    VT_CHECK(sl_t_checks(h));
  }
  sl_census_t c = t_census(h);
  VT_CHECK(c.segs_mapped <= 2 && c.segs_unmapped == 0);
  A->destroy(h);
}

/* decay 0: a free run is decommitted at once, and a segment with nothing
 * in use goes back but for one spare. */
static void test_no_decay_decommits_at_once(void) {
  void *h = t_heap(0, 0);
  void *a = A->malloc(h, 200000);
  uint8_t *base = sl_seg_base(sl_seg_of(a));
  memset(a, 1, 200000);
  VT_CHECK(sl_t_resident(a, 200000) > 40);
  A->free(h, a);
  sl_census_t c = t_census(h);
  VT_CHECK(c.seg_free_resident == 0 && c.segments == 1 && c.segs_empty == 1);
  VT_CHECK(sl_t_resident(base + SL_CHUNK, SL_SEG_BYTES - SL_CHUNK) == 0);
  /* Two segments' worth of 1 MiB blocks, all freed: one spare remains. */
  void *big[8];
  for (int i = 0; i < 8; i++) VT_CHECK((big[i] = A->malloc(h, 900000)) != NULL);
  VT_CHECK(t_census(h).segments == 2); /* 4 runs of 15 chunks per segment */
  for (int i = 0; i < 8; i++) A->free(h, big[i]);
  c = t_census(h);
  VT_CHECK(c.segments == 1 && c.segs_unmapped == 1 && c.seg_free_resident == 0);
  VT_CHECK(sl_t_checks(h));
  A->destroy(h);
}

/* With a decay, freed chunks stay resident (the next user faults nothing)
 * until trim, which decommits them and gives back every empty segment. */
static void test_decay_keeps_then_trim(void) {
  void *h = t_heap(1000000000, 0);
  void *a = A->malloc(h, 500000);
  memset(a, 2, 500000);
  A->free(h, a);
  sl_census_t c = t_census(h);
  VT_CHECK(c.seg_free_resident >= 500000 && c.segments == 1);
  void *b = A->malloc(h, 500000);
  VT_CHECK(b == a); /* the same chunks, still resident */
  VT_CHECK(sl_t_resident(b, 500000) >= 100);
  A->free(h, b);
  void *keep = A->malloc(h, 64); /* a page in use: its segment stays */
  sl_heap_trim(h);
  c = t_census(h);
  VT_CHECK(c.segments == 1 && c.seg_free_resident == 0 && c.seg_decommits >= 1);
  A->free(h, keep);
  sl_heap_trim(h);
  c = t_census(h);
  VT_CHECK(c.segments == 0 && c.segs_unmapped == 1);
  VT_CHECK(sl_t_checks(h));
  A->destroy(h);
}

/* Carved large blocks: aligned as asked within the segment, grown in
 * place into free chunks, shrunk by giving back their tail. */
static void test_large_in_segment(void) {
  void *h = t_heap(1000000000, 0);
  void *a = A->memalign(h, (size_t)1 << 20, 70000);
  VT_CHECK(a != NULL && (uintptr_t)a % ((size_t)1 << 20) == 0);
  A->free(h, a);
  void *g = A->malloc(h, 70000);
  memset(g, 3, 70000);
  void *g2 = A->realloc(h, g, 600000);
  VT_CHECK(g2 == g); /* the chunks after it were free */
  VT_CHECK(((uint8_t *)g2)[69999] == 3);
  VT_CHECK(sl_t_checks(h));
  void *g3 = A->realloc(h, g2, 70000);
  VT_CHECK(g3 == g2 && sl_t_checks(h));
  A->free(h, g3);
  /* above the carve limit: a mapping of its own, outside every segment */
  void *big = A->malloc(h, SL_SEG_CARVE_MAX + 1);
  VT_CHECK(big != NULL && t_census(h).segments == 1 && sl_t_checks(h));
  A->free(h, big);
  A->destroy(h);
}

/* A block a realloc moved out of goes back decommitted (its data grew:
 * the old size is rarely wanted back soon); one freed stays resident. */
static void test_moved_block_comes_back_clean(void) {
  void *h = t_heap(1000000000, 0);
  void *a = A->malloc(h, 200000), *wall = A->malloc(h, 200000);
  VT_CHECK(a != NULL && wall != NULL && sl_seg_of(a) == sl_seg_of(wall));
  memset(a, 4, 200000);
  memset(wall, 5, 200000);
  uint8_t *old = (uint8_t *)a - SL_LARGE_HDR; /* the run: header, payload */
  void *grown = A->realloc(h, a, 400000); /* the wall is in the way: moves */
  VT_CHECK(grown != a && ((uint8_t *)grown)[199999] == 4);
  VT_CHECK(sl_t_resident(old, 4 * SL_CHUNK) == 0);
  VT_CHECK(t_census(h).seg_free_resident == 0 && sl_t_checks(h));
  A->free(h, wall); /* freed, not moved: stays resident for the next user */
  VT_CHECK(t_census(h).seg_free_resident >= 200000 && sl_t_checks(h));
  A->free(h, grown);
  A->destroy(h);
}

static uint64_t t_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void t_sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* A segment still given chunks back every millisecond is never idle for
 * the decay, yet the free chunk that came back first is decommitted once
 * it has waited SL_SEG_BUSY_DECAYS decays (before, never). */
static void test_busy_segment_decays(void) {
  void *h = t_heap(20000000, 0); /* 20 ms */
  void *a = A->malloc(h, 200000), *wall = A->malloc(h, 200000);
  memset(a, 6, 200000);
  uint8_t *old = (uint8_t *)a - SL_LARGE_HDR;
  A->free(h, a);
  VT_CHECK(sl_t_resident(old, 4 * SL_CHUNK) > 40);
  uint64_t start = t_now_ms(), last = start, gap = 0, now = start;
  while (now - start < 2000 && sl_t_resident(old, 4 * SL_CHUNK) > 0) {
    void *x = A->malloc(h, 300000); /* 5 chunks: not into a's 4 */
    VT_CHECK(x != NULL && sl_seg_of(x) == sl_seg_of(wall));
    memset(x, 7, 4096);
    A->free(h, x);
    now = t_now_ms();
    if (now - last > gap) gap = now - last;
    last = now;
    t_sleep_ms(1);
  }
  VT_CHECK(now - start < 2000); /* decommitted while the segment was busy */
  /* ... and not before it had waited (unless a stall made it idle); the
   * segment clock is coarse (a few ms) */
  VT_CHECK(gap >= 20 || now - start >= 8 * 20 - 10);
  VT_CHECK(sl_t_checks(h));
  A->free(h, wall);
  A->destroy(h);
}

int main(void) {
  test_one_segment_serves_all();
  test_no_decay_decommits_at_once();
  test_decay_keeps_then_trim();
  test_large_in_segment();
  test_moved_block_comes_back_clean();
  test_busy_segment_decays();
  return va_check_summary();
}
