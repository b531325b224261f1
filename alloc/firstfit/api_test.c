/* vedalloc V1 — the shared contract at its edges, the error hook, and the
 * REGION and MMAP sources. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/firstfit/testing.h"

static void ff_test_malloc_edges(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 1 << 24);
  void *z1 = ff_t_malloc(h, 0), *z2 = ff_t_malloc(h, 0);
  VT_CHECK(z1 && z2 && z1 != z2 && !ff_t_overlap(h, z1, z2));
  VT_CHECK(ff_allocator.usable_size(h, z1) == ff_min_payload());
  VT_CHECK((uintptr_t)z1 % 16 == 0 && (uintptr_t)z2 % 16 == 0);
  size_t sizes[] = {SIZE_MAX, SIZE_MAX - 8191, (size_t)PTRDIFF_MAX + 1,
                    (size_t)PTRDIFF_MAX, (size_t)1 << 40};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    errno = 0;
    VT_CHECK(ff_t_malloc(h, sizes[i]) == NULL && errno == ENOMEM);
  }
  size_t before = ff_block_count(h);
  ff_t_free(h, NULL);
  VT_CHECK(ff_block_count(h) == before);
  ff_t_free(h, z1), ff_t_free(h, z2);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

static void ff_test_calloc(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 0);
  errno = 0;
  VT_CHECK(ff_allocator.calloc(h, SIZE_MAX, 2) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(ff_allocator.calloc(h, 2, SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(ff_allocator.calloc(h, (size_t)1 << 32, (size_t)1 << 32) == NULL &&
           errno == ENOMEM);
  unsigned char *p = ff_t_malloc(h, 256);
  memset(p, 0xAB, 256);
  ff_t_free(h, p);
  unsigned char *q = ff_allocator.calloc(h, 16, 16); /* reuses p's dirty bytes */
  VT_CHECK(q == p);
  int nonzero = 0;
  for (size_t i = 0; i < ff_allocator.usable_size(h, q); i++) nonzero += q[i] != 0;
  VT_CHECK(nonzero == 0);
  void *z = ff_allocator.calloc(h, 0, 5);
  VT_CHECK(z != NULL);
  ff_t_free(h, z), ff_t_free(h, q);
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

static void ff_test_realloc_edges(void) {
  ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 1 << 16);
  char *p = ff_allocator.realloc(h, NULL, 100); /* realloc(NULL, n) == malloc(n) */
  VT_CHECK(p != NULL && ff_allocator.usable_size(h, p) >= 100);
  memset(p, 0x61, 100);
  errno = 0; /* failures leave p intact */
  VT_CHECK(ff_allocator.realloc(h, p, SIZE_MAX) == NULL && errno == ENOMEM);
  errno = 0;
  VT_CHECK(ff_allocator.realloc(h, p, 1 << 20) == NULL && errno == ENOMEM);
  VT_CHECK(p[0] == 0x61 && p[99] == 0x61 && ff_is_used(ff_block_of(p)));
  FF_T_HEAP_OK(h);
  char *m = ff_allocator.realloc(h, p, 0); /* a live minimum block */
  VT_CHECK(m != NULL && ff_allocator.usable_size(h, m) == ff_min_payload());
  VT_CHECK(m[0] == 0x61);
  ff_t_free(h, m);
  va_report_t r;
  VT_CHECK(ff_check_empty(h, &r));
  ff_allocator.destroy(h);
}

/* ---- the error hook ------------------------------------------------------ */
typedef struct ff_t_seen {
  int calls;
  va_error_kind_t kind;
  const char *op;
  const void *ptr;
  char msg[256];
} ff_t_seen_t;

static void ff_t_hook(void *ctx, va_error_kind_t kind, const char *op,
                      const void *ptr, const char *message) {
  ff_t_seen_t *s = ctx;
  s->calls++, s->kind = kind, s->op = op, s->ptr = ptr;
  snprintf(s->msg, sizeof s->msg, "%s", message);
}

static ff_heap_t *ff_t_hooked(ff_t_seen_t *seen) {
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_MMAP;
  o.region_size = 1 << 20;
  o.on_error = ff_t_hook;
  o.error_ctx = seen;
  return ff_allocator.create(&o);
}

static bool ff_t_saw(ff_t_seen_t *s, va_error_kind_t kind, const char *op,
                     const void *ptr) {
  bool ok = s->calls == 1 && s->kind == kind && strcmp(s->op, op) == 0 && s->ptr == ptr;
  if (!ok) fprintf(stderr, "  hook: calls %d kind %d op %s ptr %p\n", s->calls,
                   s->kind, s->op ? s->op : "-", s->ptr);
  memset(s, 0, sizeof *s);
  return ok;
}

static void ff_test_error_hook(void) {
  ff_t_seen_t seen = {0};
  ff_heap_t *h = ff_t_hooked(&seen);
  char *a = ff_t_malloc(h, 64), *b = ff_t_malloc(h, 64), *c = ff_t_malloc(h, 64);
  ff_t_free(h, b);
  ff_t_free(h, b); /* plain double free */
  VT_CHECK(ff_t_saw(&seen, VA_ERR_DOUBLE_FREE, "free", b));
  ff_t_free(h, c); /* c merges back into b: its header is dead */
  ff_t_free(h, c);
  VT_CHECK(ff_t_saw(&seen, VA_ERR_DOUBLE_FREE, "free", c));
  int local;
  ff_t_free(h, &local);
  VT_CHECK(ff_t_saw(&seen, VA_ERR_INVALID_FREE, "free", &local));
  ff_t_free(h, a + 16); /* interior, aligned */
  VT_CHECK(ff_t_saw(&seen, VA_ERR_NOT_A_BLOCK, "free", a + 16));
  ff_t_free(h, a + 1); /* interior, misaligned */
  VT_CHECK(ff_t_saw(&seen, VA_ERR_NOT_A_BLOCK, "free", a + 1));
  size_t live = h->live_blocks;
  errno = 0;
  VT_CHECK(ff_allocator.realloc(h, c, 10) == NULL && errno == EINVAL);
  VT_CHECK(ff_t_saw(&seen, VA_ERR_DOUBLE_FREE, "realloc", c));
  VT_CHECK(h->live_blocks == live && ff_is_used(ff_block_of(a)));
  FF_T_HEAP_OK(h);
  ff_t_free(h, a);
  VT_CHECK(seen.calls == 0);
  ff_allocator.destroy(h);
}

/* User data shaped like a header (right magic and flags) is not a block. */
static void ff_test_fake_header(void) {
  ff_t_seen_t seen = {0};
  ff_heap_t *h = ff_t_hooked(&seen);
  char *a = ff_t_malloc(h, 256);
  ff_t_malloc(h, 64);
  ff_block_t fake = {FF_MAGIC, FF_F_USED, 96, ff_block_of(a), (ff_block_t *)(a + 128)};
  memcpy(a + 32, &fake, sizeof fake);
  ff_t_free(h, a + 64);
  VT_CHECK(ff_t_saw(&seen, VA_ERR_NOT_A_BLOCK, "free", a + 64));
  FF_T_HEAP_OK(h);
  ff_allocator.destroy(h);
}

/* ---- smashed metadata: reported, never followed -------------------------- */

/* Writes past a's payload (len bytes, into the next header) or before it
 * (into a's own): the smash a buggy program does, done outside ASan's view
 * so the test reaches the allocator (the fuzz smash op does the same). */
__attribute__((no_sanitize("address"))) static void ff_t_smash(char *at, size_t len) {
  for (size_t i = 0; i < len; i++) at[i] = (char)(0x41 + i);
}

/* The hook saw one corruption report, from op, near `near`, naming a V1 check. */
static bool ff_t_saw_corrupt(ff_t_seen_t *s, const char *op, const void *near) {
  bool named = strstr(s->msg, "heap corruption detected (V1 ff.") != NULL;
  if (!named) fprintf(stderr, "  hook message: %s\n", s->msg);
  return ff_t_saw(s, VA_ERR_CORRUPTION, op, near) && named;
}

/* An overflow of 1, 8, 24 or 32 bytes out of a into its neighbour's header,
 * that neighbour live or free: free(a) reports corruption near the
 * neighbour's header and does not merge with or unlink it; the checker
 * names the damage too; a fit walk that chooses it or cannot step past it
 * reports from malloc and returns NULL (ENOMEM) instead of following it. */
static void ff_test_overflow_into_next(void) {
  size_t lens[] = {1, 8, 24, 32};
  for (int nfree = 0; nfree < 2; nfree++)
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
      ff_t_seen_t seen = {0};
      ff_heap_t *h = ff_t_hooked(&seen);
      char *a = ff_t_malloc(h, 64), *b = ff_t_malloc(h, 64);
      ff_t_malloc(h, 64); /* keeps b off the wilderness */
      if (nfree) ff_t_free(h, b);
      ff_t_smash(a + ff_allocator.usable_size(h, a), lens[i]);
      va_report_t r;
      VT_CHECK(!ff_check(h, &r));
      ff_t_free(h, a);
      VT_CHECK(ff_t_saw_corrupt(&seen, "free", ff_block_of(b)));
      VT_CHECK(ff_is_used(ff_block_of(a))); /* a stays as it was */
      if (nfree && lens[i] == 8) { /* garbage flags read as used: the walk */
        char *m = ff_t_malloc(h, 64);  /* passes b by its intact size and next */
        VT_CHECK(m != NULL && m != b && seen.calls == 0);
      } else if (nfree) {
        errno = 0;
        VT_CHECK(ff_t_malloc(h, 64) == NULL && errno == ENOMEM);
        VT_CHECK(ff_t_saw_corrupt(&seen, "malloc", ff_block_of(b)));
      }
      ff_allocator.destroy(h);
    }
}

/* An underflow of 1, 8 or 32 bytes before a reaches a's own header: free(a)
 * and realloc(a) report corruption near it (not "not a block": the walk
 * from the head finds a listed there). */
static void ff_test_underflow_into_own(void) {
  size_t lens[] = {1, 8, 32};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    ff_t_seen_t seen = {0};
    ff_heap_t *h = ff_t_hooked(&seen);
    ff_t_malloc(h, 64);
    char *a = ff_t_malloc(h, 64);
    ff_t_malloc(h, 64);
    ff_t_smash(a - lens[i], lens[i]);
    ff_t_free(h, a);
    VT_CHECK(ff_t_saw_corrupt(&seen, "free", ff_block_of(a)));
    errno = 0;
    VT_CHECK(ff_allocator.realloc(h, a, 200) == NULL);
    VT_CHECK(ff_t_saw_corrupt(&seen, "realloc", ff_block_of(a)));
    ff_allocator.destroy(h);
  }
}

/* The default hook prints the op, problem and pointer, then aborts. */
static void ff_test_default_hook_aborts(void) {
  int fds[2];
  VT_CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    ff_heap_t *h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 1 << 20);
    void *p = ff_t_malloc(h, 10);
    ff_t_free(h, p);
    ff_t_free(h, p);
    _exit(0);
  }
  close(fds[1]);
  char buf[512] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  VT_CHECK(n > 0 && strstr(buf, "vedalloc: free(): double free") != NULL);
  VT_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

/* ---- sources ------------------------------------------------------------- */
static _Alignas(64) unsigned char ff_t_region[1 << 16];

static void ff_test_region(void) {
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_REGION;
  o.region = ff_t_region + 8; /* unaligned on purpose */
  o.region_size = sizeof ff_t_region - 8;
  ff_heap_t *h = ff_allocator.create(&o);
  VT_CHECK(h != NULL);
  void *p[64];
  int got = 0;
  for (int i = 0; i < 64; i++) got += (p[i] = ff_t_malloc(h, 2000)) != NULL;
  VT_CHECK(got > 20 && got < 64); /* the region runs out, with ENOMEM */
  VT_CHECK((uintptr_t)p[0] >= (uintptr_t)o.region &&
           (uintptr_t)p[0] < (uintptr_t)o.region + o.region_size);
  FF_T_HEAP_OK(h);
  /* A fresh create on the same region starts over, without destroy. */
  ff_heap_t *h2 = ff_allocator.create(&o);
  VT_CHECK(h2 == h && ff_block_count(h2) == 1);
  FF_T_HEAP_OK(h2);
  VT_CHECK(ff_t_malloc(h2, 100) == p[0]);
  ff_allocator.destroy(h2);
  o.region_size = 64; /* too small for the heap record */
  errno = 0;
  VT_CHECK(ff_allocator.create(&o) == NULL && errno == ENOMEM);
  o.region = NULL;
  VT_CHECK(ff_allocator.create(&o) == NULL && errno == EINVAL);
  o = va_options_default();
  o.fit = (va_fit_t)7;
  VT_CHECK(ff_allocator.create(&o) == NULL && errno == EINVAL);
}

static void ff_test_mmap_independent(void) {
  ff_heap_t *h1 = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 0);
  ff_heap_t *h2 = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 0);
  char *a = ff_t_malloc(h1, 50000), *b = ff_t_malloc(h2, 50000);
  char *c = ff_t_malloc(h1, 50000);
  VT_CHECK(ff_segment_count(h1) == 1 && ff_segment_count(h2) == 1);
  VT_CHECK((char *)a - (char *)ff_heap_base(h1) == (char *)b - (char *)ff_heap_base(h2));
  VT_CHECK(c == a + 50000 + FF_HDR);
  FF_T_HEAP_OK(h1);
  FF_T_HEAP_OK(h2);
  ff_allocator.destroy(h1);
  ff_allocator.destroy(h2);
}

int main(void) {
  VT_RUN(ff_test_malloc_edges);
  VT_RUN(ff_test_calloc);
  VT_RUN(ff_test_realloc_edges);
  VT_RUN(ff_test_error_hook);
  VT_RUN(ff_test_fake_header);
  VT_RUN(ff_test_overflow_into_next);
  VT_RUN(ff_test_underflow_into_own);
  VT_RUN(ff_test_default_hook_aborts);
  VT_RUN(ff_test_region);
  VT_RUN(ff_test_mmap_independent);
  return va_check_summary();
}
