/* vedalloc V1 — on the real process break: the default source, foreign
 * sbrk between allocations, two instances sharing the break, trimming.
 * No stdio between create and destroy (glibc's malloc may move the break
 * too, which V1 would handle, but the exact assertions below would not). */
#include <unistd.h>

#include "alloc/firstfit/testing.h"

static char *ff_t_brk(void) { return sbrk(0); }

static void ff_test_default_is_sbrk(void) {
  char *b0 = ff_t_brk();
  ff_heap_t *h = ff_allocator.create(NULL);
  VT_CHECK(h != NULL && (char *)h >= b0 && ff_t_brk() > b0);
  char *p = ff_t_malloc(h, 4040), *q = ff_t_malloc(h, 8); /* the original's alias */
  VT_CHECK(p && q && p != q && !ff_t_overlap(h, p, q));
  VT_CHECK((uintptr_t)p % 16 == 0 && (uintptr_t)q % 16 == 0);
  memset(p, 1, 4040), memset(q, 2, 8);
  VT_CHECK(p[4039] == 1 && q[0] == 2);
  FF_T_HEAP_OK(h);
  ff_t_free(h, p), ff_t_free(h, q);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
  VT_CHECK(ff_t_brk() == b0); /* everything went back */
}

/* Somebody else calls sbrk between our allocations: V1 must not take that
 * memory; it starts a new segment past it instead. */
static void ff_test_foreign_sbrk(void) {
  char *b0 = ff_t_brk();
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_SBRK;
  ff_heap_t *h = ff_allocator.create(&o);
  char *a = ff_t_malloc(h, 1000);
  memset(a, 0x41, 1000);
  char *mine = sbrk(3 * FF_PAGE); /* the foreigner */
  memset(mine, 0x5A, 3 * FF_PAGE);
  char *big = ff_t_malloc(h, 20000); /* does not fit: must grow */
  VT_CHECK(big != NULL && ff_segment_count(h) == 2);
  VT_CHECK(big >= mine + 3 * FF_PAGE || big + 20000 <= mine);
  memset(big, 0x42, 20000);
  int spoiled = 0;
  for (int i = 0; i < 3 * FF_PAGE; i++) spoiled += mine[i] != 0x5A;
  VT_CHECK(spoiled == 0 && a[999] == 0x41);
  FF_T_HEAP_OK(h);
  /* Small blocks still come from the first segment, never across the gap. */
  char *s = ff_t_malloc(h, 64);
  VT_CHECK(s < mine);
  char *g = ff_allocator.realloc(h, a, 30000); /* cannot grow across the gap */
  VT_CHECK(g != NULL && g != a && g[999] == 0x41);
  FF_T_HEAP_OK(h);
  ff_t_free(h, s), ff_t_free(h, g), ff_t_free(h, big);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h); /* returns the last segment: the break is ours */
  VT_CHECK(ff_t_brk() == mine + 3 * FF_PAGE);
  sbrk(-3 * FF_PAGE); /* the first segment stays stranded below */
  VT_CHECK(ff_t_brk() < mine + 3 * FF_PAGE && ff_t_brk() >= b0);
}

/* Two instances on the break: each sees the other as foreign. */
static void ff_test_two_instances(void) {
  ff_heap_t *h1 = ff_allocator.create(NULL), *h2 = ff_allocator.create(NULL);
  void *p[16];
  for (int i = 0; i < 16; i++) {
    p[i] = ff_t_malloc(i % 2 ? h2 : h1, 3000);
    memset(p[i], i, 3000);
  }
  int bad = 0;
  for (int i = 0; i < 16; i++) {
    for (int j = 0; j < 3000; j++) bad += ((char *)p[i])[j] != (char)i;
    for (int j = i + 1; j < 16; j++)
      bad += (uintptr_t)p[i] < (uintptr_t)p[j] + 3000 && (uintptr_t)p[j] < (uintptr_t)p[i] + 3000;
  }
  VT_CHECK(bad == 0 && ff_segment_count(h1) > 1 && ff_segment_count(h2) > 1);
  FF_T_HEAP_OK(h1);
  FF_T_HEAP_OK(h2);
  for (int i = 0; i < 16; i++) ff_t_free(i % 2 ? h2 : h1, p[i]);
  va_report_t r;
  VT_CHECK(ff_check_empty(h1, &r) && ff_check_empty(h2, &r));
  ff_allocator.destroy(h2);
  ff_allocator.destroy(h1);
}

static void ff_test_sbrk_trim(void) {
  va_options_t o = va_options_default();
  o.trim_threshold = 16384;
  ff_heap_t *h = ff_allocator.create(&o);
  char *b1 = ff_t_brk();
  void *p = ff_t_malloc(h, 1 << 20);
  VT_CHECK(ff_t_brk() >= b1 + (1 << 20));
  ff_t_free(h, p);
  VT_CHECK(ff_t_brk() == b1);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

int main(void) {
  VT_RUN(ff_test_default_is_sbrk);
  VT_RUN(ff_test_foreign_sbrk);
  VT_RUN(ff_test_two_instances);
  VT_RUN(ff_test_sbrk_trim);
  return va_check_summary();
}
