/* vedalloc V2 — unit tests of the memory source on a caller's region
 * (os.h): sizes refused, chunk alignment and larger alignments, clean and
 * dirty chunks (what a caller that needs zero memory gets), exhaustion,
 * growing in place, and the record that outlives the heaps on a region. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/slab/os.h"
#include "alloc/slab/types.h"
#include "alloc/testing/check.h"

#define T_REGION ((size_t)64 << 20)

static uint8_t *t_region; /* T_REGION bytes, page-aligned but not chunk-aligned */

static bool t_all(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return false;
  return true;
}

/* A region V2 never saw: its bytes are not zero, its record is garbage. */
static sl_source_t *t_fresh(bool zero) {
  memset(t_region, zero ? 0 : 0xAB, T_REGION);
  return sl_source_open(t_region, T_REGION, zero);
}

static void test_sizes(void) {
  errno = 0;
  VT_CHECK(sl_source_open(t_region, 15 * SL_CHUNK, false) == NULL && errno == EINVAL);
  errno = 0;
  VT_CHECK(sl_source_open(t_region, (size_t)8 << 30, false) == NULL && errno == EINVAL);
  VT_CHECK(sl_source_open(t_region, T_REGION, false) != NULL);
}

static void test_map_clears_dirty(void) {
  sl_source_t *s = t_fresh(false);
  uint8_t *p = sl_os_map(s, 3 * SL_CHUNK, 4096, NULL);
  VT_CHECK(p != NULL && (uintptr_t)p % SL_CHUNK == 0);
  VT_CHECK(p > t_region && p + 3 * SL_CHUNK <= t_region + T_REGION);
  VT_CHECKF(p && t_all(p, 3 * SL_CHUNK, 0), "memory asked zero is not");
  bool zeroed = true;
  uint8_t *q = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(q && !zeroed, "a chunk of unknown content reported zero");
  VT_CHECK(q && (q + SL_CHUNK <= p || q >= p + 3 * SL_CHUNK));
  sl_os_unmap(s, q, SL_CHUNK);
  sl_os_unmap(s, p, 3 * SL_CHUNK);
}

static void test_zero_region(void) {
  sl_source_t *s = t_fresh(true);
  bool zeroed = false;
  uint8_t *p = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(p && zeroed, "a region promised zero hands out dirty chunks");
  memset(p, 0x5C, SL_CHUNK);
  sl_os_unmap(s, p, SL_CHUNK); /* dirty now */
  uint8_t *q = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(q == p && !zeroed, "a dirty-tolerant caller gets the dirty chunk back first");
  sl_os_unmap(s, q, SL_CHUNK);
  uint8_t *z = sl_os_map(s, SL_CHUNK, 4096, NULL);
  VT_CHECKF(z && z != p && t_all(z, SL_CHUNK, 0), "a zero caller gets a clean chunk");
  sl_os_unmap_zero(s, z, SL_CHUNK);
}

static void test_alignment(void) {
  sl_source_t *s = t_fresh(false);
  for (size_t a = SL_CHUNK; a <= ((size_t)4 << 20); a <<= 1) {
    uint8_t *p = sl_os_map(s, SL_CHUNK, a, NULL);
    VT_CHECKF(p && (uintptr_t)p % a == 0, "align %zu: %p", a, (void *)p);
    if (p) sl_os_unmap(s, p, SL_CHUNK);
  }
}

static void test_exhaustion(void) {
  sl_source_t *s = t_fresh(false);
  VT_CHECK(sl_os_map(s, T_REGION, 4096, NULL) == NULL);
  VT_CHECK(sl_os_map(s, SIZE_MAX - 4096, 4096, NULL) == NULL); /* no overflow */
  size_t n = 0;
  uint8_t *p[1024];
  bool zeroed;
  while (n < 1024 && (p[n] = sl_os_map(s, SL_CHUNK, 4096, &zeroed)) != NULL) n++;
  VT_CHECKF(n == T_REGION / SL_CHUNK - 2, "%zu chunks handed out", n); /* state + misalignment */
  while (n) sl_os_unmap(s, p[--n], SL_CHUNK);
  VT_CHECK(sl_os_map(s, 8 * SL_CHUNK, 4096, &zeroed) != NULL); /* all back */
}

static void test_grow(void) {
  sl_source_t *s = t_fresh(false);
  bool zeroed;
  uint8_t *a = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  uint8_t *b = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECK(a && b == a + SL_CHUNK);
  VT_CHECK(!sl_os_grow(s, a, SL_CHUNK, 2 * SL_CHUNK)); /* b is in the way */
  VT_CHECK(sl_os_grow(s, b, SL_CHUNK, 3 * SL_CHUNK));
  uint8_t *c = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(c == b + 3 * SL_CHUNK, "the grown range is taken: next chunk %p", (void *)c);
  sl_os_unmap(s, b + SL_CHUNK, 2 * SL_CHUNK); /* the grown tail */
  uint8_t *d = sl_os_map(s, 2 * SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(d == b + SL_CHUNK, "the trimmed tail is free again: %p", (void *)d);
}

/* Everything given back: the next source on the region keeps the record,
 * so a chunk given back zero is handed out as zero without a clear, and a
 * chunk given back dirty is cleared. Writing into a "clean" chunk while
 * no source holds the region is the caller's breach (os.h), and shows. */
static void test_record_outlives(void) {
  sl_source_t *s = t_fresh(false);
  uint8_t *p = sl_os_map(s, SL_CHUNK, 4096, NULL); /* zero memory: from the top */
  uint8_t *q = sl_os_map(s, SL_CHUNK, 4096, NULL);
  uint8_t *base = (uint8_t *)VA_ALIGN_UP((uintptr_t)t_region, SL_CHUNK);
  uint8_t *top = base + ((T_REGION - (size_t)(base - t_region)) / SL_CHUNK - 1) * SL_CHUNK;
  VT_CHECKF(p == top && q == top - SL_CHUNK,
            "zero memory is taken from the top down: %p then %p", (void *)p, (void *)q);
  memset(q, 0x77, SL_CHUNK);
  sl_os_unmap_zero(s, p, SL_CHUNK);
  sl_os_unmap(s, q, SL_CHUNK);
  sl_source_t *again = sl_source_open(t_region, T_REGION, false);
  VT_CHECKF(again == s, "reopened at %p, not %p", (void *)again, (void *)s);
  p[100] = 1; /* the breach: a clean chunk written behind the record's back */
  uint8_t *c = sl_os_map(again, SL_CHUNK, 4096, NULL);
  VT_CHECKF(c == p && c[100] == 1, "the clean chunk is handed out without a clear");
  c[100] = 0;
  uint8_t *d = sl_os_map(again, SL_CHUNK, 4096, NULL);
  VT_CHECKF(d == q && t_all(d, SL_CHUNK, 0), "the dirty chunk is cleared");
  sl_os_unmap_zero(again, c, SL_CHUNK);
  sl_os_unmap_zero(again, d, SL_CHUNK);
  /* A chunk still handed out: the next open starts a fresh record. */
  bool zeroed;
  uint8_t *held = sl_os_map(again, SL_CHUNK, 4096, &zeroed);
  VT_CHECK(held != NULL);
  memset(held, 0x11, SL_CHUNK);
  VT_CHECK(sl_source_open(t_region, T_REGION, false) != NULL);
  uint8_t *fresh = sl_os_map(s, SL_CHUNK, 4096, &zeroed);
  VT_CHECKF(fresh == held && !zeroed, "after a fresh record every chunk may be dirty");
}

int main(void) {
  void *m = mmap(NULL, T_REGION + 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 2;
  /* Off chunk alignment, so the source must align its chunks itself. */
  t_region = (uint8_t *)m + ((uintptr_t)m % SL_CHUNK == 0 ? 4096 : 0);
  VT_RUN(test_sizes);
  VT_RUN(test_map_clears_dirty);
  VT_RUN(test_zero_region);
  VT_RUN(test_alignment);
  VT_RUN(test_exhaustion);
  VT_RUN(test_grow);
  VT_RUN(test_record_outlives);
  return va_check_summary();
}
