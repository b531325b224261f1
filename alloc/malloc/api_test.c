/* vedalloc drop-in — the API edge-case catalogue.
 *
 * Every entry point with sizes 0, small, near SIZE_MAX, above PTRDIFF_MAX,
 * overflowing products, and alignments 0/1/3/non-power-of-two/huge up to
 * 4 MiB (and beyond), checking return values, errno, *memptr and contents.
 * Runs over the vm_ functions (the exported names are one-jump wrappers), so
 * it also runs under ASan/TSan, whose runtimes own the process malloc.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

#define MIB ((size_t)1 << 20)
static const size_t vm_t_huge[] = {
    SIZE_MAX,           SIZE_MAX - 1,           SIZE_MAX - 4095,
    SIZE_MAX / 2 + 1,   (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX,
    (size_t)PTRDIFF_MAX - 4095,
};
#define NHUGE (sizeof vm_t_huge / sizeof vm_t_huge[0])

static bool vm_t_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* A usable block: at least n bytes all writable, and usable_size agrees. */
static void vm_t_block_ok(void *p, size_t n) {
  VT_CHECK(p != NULL);
  if (!p) return;
  size_t u = vm_malloc_usable_size(p);
  VT_CHECK(u >= n);
  memset(p, 0xA5, u);
}

static void vm_t_malloc(void) {
  void *a = vm_malloc(0), *b = vm_malloc(0);
  VT_CHECK(a && b && a != b);
  vm_free(a);
  vm_free(b);
  vm_free(NULL);
  for (size_t n = 1; n < 5 * MIB; n = n * 3 + 1) {
    void *p = vm_malloc(n);
    vm_t_block_ok(p, n);
    if (n >= 16) VT_CHECK(vm_t_aligned(p, 16));
    vm_free(p);
  }
  for (size_t i = 0; i < NHUGE; i++) {
    errno = 0;
    VT_CHECK(vm_malloc(vm_t_huge[i]) == NULL);
    VT_CHECK(errno == ENOMEM);
  }
  VT_CHECK(vm_malloc_usable_size(NULL) == 0);
}

static void vm_t_calloc(void) {
  /* Dirty some memory first so a calloc that reuses it must clear it. */
  size_t sizes[] = {1, 24, 100, 1000, 5000, 70000, 2 * MIB};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *d = vm_malloc(sizes[i]);
    memset(d, 0xFF, sizes[i]);
    vm_free(d);
    unsigned char *p = vm_calloc(1, sizes[i]);
    VT_CHECK(p != NULL);
    size_t nz = 0;
    for (size_t k = 0; p && k < sizes[i]; k++) nz += p[k] != 0;
    VT_CHECK(nz == 0);
    vm_free(p);
  }
  void *z = vm_calloc(0, SIZE_MAX);
  VT_CHECK(z != NULL); /* product 0: a minimum block */
  vm_free(z);
  z = vm_calloc(SIZE_MAX, 0);
  VT_CHECK(z != NULL);
  vm_free(z);
  size_t bad[][2] = {{SIZE_MAX, 2}, {2, SIZE_MAX}, {(size_t)1 << 32, (size_t)1 << 32},
                     {(size_t)PTRDIFF_MAX / 2 + 1, 2}, {SIZE_MAX, SIZE_MAX},
                     {1, (size_t)PTRDIFF_MAX + 1}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    errno = 0;
    VT_CHECK(vm_calloc(bad[i][0], bad[i][1]) == NULL);
    VT_CHECK(errno == ENOMEM);
  }
}

static void vm_t_realloc(void) {
  unsigned char *p = vm_realloc(NULL, 10);
  VT_CHECK(p != NULL);
  memcpy(p, "0123456789", 10);
  for (size_t i = 0; i < NHUGE; i++) {
    errno = 0;
    VT_CHECK(vm_realloc(p, vm_t_huge[i]) == NULL);
    VT_CHECK(errno == ENOMEM);
    VT_CHECK(memcmp(p, "0123456789", 10) == 0); /* p intact */
  }
  size_t steps[] = {1000, 5, 70000, 3 * MIB, 16, 200000, 10};
  size_t keep = 5; /* bytes known to hold the pattern */
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    p = vm_realloc(p, steps[i]);
    VT_CHECK(p != NULL);
    VT_CHECK(memcmp(p, "01234", keep) == 0);
    vm_t_block_ok(p, steps[i]);
    memcpy(p, "01234", keep);
  }
  void *q = vm_realloc(p, 0); /* our choice: a fresh minimum block, p released */
  VT_CHECK(q != NULL);
  vm_free(q);
  /* reallocarray */
  p = vm_reallocarray(NULL, 4, 8);
  VT_CHECK(p != NULL);
  memcpy(p, "abcdefgh", 8);
  size_t bad[][2] = {{SIZE_MAX, 2}, {(size_t)1 << 33, (size_t)1 << 31}, {2, (size_t)PTRDIFF_MAX}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    errno = 0;
    VT_CHECK(vm_reallocarray(p, bad[i][0], bad[i][1]) == NULL);
    VT_CHECK(errno == ENOMEM);
    VT_CHECK(memcmp(p, "abcdefgh", 8) == 0);
  }
  p = vm_reallocarray(p, 1000, 10);
  VT_CHECK(p && memcmp(p, "abcdefgh", 8) == 0);
  vm_t_block_ok(p, 10000);
  vm_free(p);
  q = vm_reallocarray(NULL, 0, 0);
  VT_CHECK(q != NULL);
  vm_free(q);
}

static void vm_t_posix_memalign(void) {
  void *sentinel = (void *)0x1234, *m;
  size_t bad_align[] = {0, 1, 2, 3, 4, 12, 24, 3 * sizeof(void *), 4097, SIZE_MAX,
                        ((size_t)1 << 20) + 8};
  for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
    m = sentinel;
    errno = 1234;
    VT_CHECK(vm_posix_memalign(&m, bad_align[i], 100) == EINVAL);
    VT_CHECK(m == sentinel);
    VT_CHECK(errno == 1234);
  }
  size_t sizes[] = {0, 1, 100, 5000, MIB + 3};
  for (size_t a = sizeof(void *); a <= 8 * MIB; a *= 2) {
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      m = sentinel;
      VT_CHECK(vm_posix_memalign(&m, a, sizes[s]) == 0);
      VT_CHECK(m != sentinel && vm_t_aligned(m, a));
      vm_t_block_ok(m, sizes[s]);
      vm_free(m);
    }
  }
  /* Impossible: huge sizes, huge alignments; ENOMEM, *memptr and errno untouched. */
  for (size_t i = 0; i < NHUGE; i++) {
    m = sentinel;
    errno = 1234;
    VT_CHECK(vm_posix_memalign(&m, 64, vm_t_huge[i]) == ENOMEM);
    VT_CHECK(m == sentinel && errno == 1234);
  }
  size_t huge_align[] = {(size_t)1 << 62, (size_t)1 << 63, (size_t)1 << 50};
  for (size_t i = 0; i < sizeof huge_align / sizeof huge_align[0]; i++) {
    m = sentinel;
    VT_CHECK(vm_posix_memalign(&m, huge_align[i], 1) == ENOMEM);
    VT_CHECK(m == sentinel);
  }
  m = sentinel; /* alignment + size overflowing together */
  VT_CHECK(vm_posix_memalign(&m, (size_t)1 << 30, (size_t)PTRDIFF_MAX - 100) == ENOMEM);
  VT_CHECK(m == sentinel);
}

static void vm_t_aligned_alloc(void) {
  size_t bad[] = {0, 3, 24, 48, 100, 4097, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    errno = 0;
    VT_CHECK(vm_aligned_alloc(bad[i], 64) == NULL);
    VT_CHECK(errno == EINVAL);
  }
  for (size_t a = 1; a <= 4 * MIB; a *= 2) {
    void *p = vm_aligned_alloc(a, 3 * a + 1); /* size not a multiple: accepted */
    VT_CHECK(p && vm_t_aligned(p, a));
    vm_t_block_ok(p, 3 * a + 1);
    vm_free(p);
    p = vm_aligned_alloc(a, 0);
    VT_CHECK(p && vm_t_aligned(p, a));
    vm_free(p);
  }
  for (size_t i = 0; i < NHUGE; i++) {
    errno = 0;
    VT_CHECK(vm_aligned_alloc(4096, vm_t_huge[i]) == NULL && errno == ENOMEM);
  }
  errno = 0;
  VT_CHECK(vm_aligned_alloc((size_t)1 << 63, 1) == NULL && errno == ENOMEM);
}

static void vm_t_memalign(void) {
  struct { size_t asked, expect; } cases[] = {
      {0, 1}, {1, 1}, {3, 4}, {24, 32}, {100, 128}, {3000, 4096},
      {MIB + 1, 2 * MIB}, {4 * MIB, 4 * MIB}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    void *p = vm_memalign(cases[i].asked, 77);
    VT_CHECK(p && vm_t_aligned(p, cases[i].expect));
    vm_t_block_ok(p, 77);
    vm_free(p);
  }
  size_t bad_align[] = {((size_t)1 << 62) + 1, SIZE_MAX, (size_t)1 << 63};
  for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
    errno = 0;
    VT_CHECK(vm_memalign(bad_align[i], 16) == NULL && errno == ENOMEM);
  }
  for (size_t i = 0; i < NHUGE; i++) {
    errno = 0;
    VT_CHECK(vm_memalign(64, vm_t_huge[i]) == NULL && errno == ENOMEM);
  }
}

static void vm_t_pages(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t sizes[] = {0, 1, page - 1, page, page + 1, 10 * page + 5};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *v = vm_valloc(sizes[i]);
    VT_CHECK(v && vm_t_aligned(v, page));
    vm_t_block_ok(v, sizes[i]);
    vm_free(v);
    size_t whole = sizes[i] == 0 ? page : (sizes[i] + page - 1) / page * page;
    void *pv = vm_pvalloc(sizes[i]);
    VT_CHECK(pv && vm_t_aligned(pv, page));
    vm_t_block_ok(pv, whole); /* the whole rounded size is usable */
    vm_free(pv);
  }
  for (size_t i = 0; i < NHUGE; i++) {
    errno = 0;
    VT_CHECK(vm_valloc(vm_t_huge[i]) == NULL && errno == ENOMEM);
    errno = 0;
    VT_CHECK(vm_pvalloc(vm_t_huge[i]) == NULL && errno == ENOMEM); /* incl. rounding overflow */
  }
}

/* Many aligned blocks live at once, freed in a scrambled order: no overlap, contents kept. */
static void vm_t_aligned_mix(void) {
  enum { N = 300 };
  unsigned char *p[N];
  size_t n[N];
  for (int i = 0; i < N; i++) {
    size_t a = (size_t)1 << (i % 16); /* 1 .. 32 KiB */
    n[i] = (size_t)(i * 37 % 900) + 1;
    p[i] = vm_memalign(a, n[i]);
    VT_CHECK(p[i] && vm_t_aligned(p[i], a));
    if (p[i]) memset(p[i], i & 0xFF, n[i]);
  }
  for (int k = 0; k < N; k++) {
    int i = (k * 7) % N;
    size_t bad = 0;
    for (size_t j = 0; p[i] && j < n[i]; j++) bad += p[i][j] != (i & 0xFF);
    VT_CHECK(bad == 0);
    vm_free(p[i]);
  }
}

int main(void) {
  printf("backend: %s\n", vm_backend_name());
  vm_t_malloc();
  vm_t_calloc();
  vm_t_realloc();
  vm_t_posix_memalign();
  vm_t_aligned_alloc();
  vm_t_memalign();
  vm_t_pages();
  vm_t_aligned_mix();
  return va_check_summary();
}
