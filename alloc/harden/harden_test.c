/* vedalloc hardened layer — each defence against the misuse it is for,
 * over V2 and V1: the report (kind, op, check name) or the fault. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/harden/harden.h"
#include "alloc/harden/types.h"
#include "alloc/slab/slab.h"
#include "alloc/testing/check.h"

typedef struct seen {
  int calls;
  va_error_kind_t kind;
  const char *op;
  char msg[256];
} seen_t;

static void hook(void *ctx, va_error_kind_t kind, const char *op, const void *ptr,
                 const char *message) {
  seen_t *s = ctx;
  (void)ptr;
  s->calls++, s->kind = kind, s->op = op;
  snprintf(s->msg, sizeof s->msg, "%s", message);
}

static const va_allocator_t *A;

static void *heap(seen_t *s) {
  va_options_t o = va_options_default();
  o.source = VA_SOURCE_MMAP;
  o.region_size = 64u << 20;
  o.on_error = hook, o.error_ctx = s;
  o.seed = 7;
  void *h = A->create(&o);
  if (h == NULL) abort();
  return h;
}

/* One report of kind from op, its message naming `check` (NULL: any). */
static bool saw(seen_t *s, va_error_kind_t kind, const char *op, const char *check) {
  bool ok = s->calls == 1 && s->kind == kind && strcmp(s->op, op) == 0 &&
            (check == NULL || strstr(s->msg, check) != NULL);
  if (!ok) fprintf(stderr, "  saw %d calls, kind %d, op %s: %s\n", s->calls, s->kind,
                   s->op ? s->op : "-", s->msg);
  memset(s, 0, sizeof *s);
  return ok;
}

/* Does fn(arg) die of SIGSEGV in a child? */
static bool faults(void (*fn)(void *), void *arg) {
  pid_t pid = fork();
  if (pid == 0) {
    struct sigaction dfl = {.sa_handler = SIG_DFL}; /* not a sanitizer's handler */
    sigaction(SIGSEGV, &dfl, NULL);
    fn(arg);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}
static void touch_byte(void *p) { *(volatile char *)p = 1; }

/* The misuse under test, done outside ASan's view (it would report the
 * write first): bytes past a block, into memory the inner poisons. */
__attribute__((no_sanitize("address"))) static void smash(char *at, int byte, size_t n) {
  for (size_t i = 0; i < n; i++) ((volatile char *)at)[i] = (char)byte;
}
static void write_past(void *p) { /* from the block's end, one page on */
  for (size_t i = 0; i < HD_PAGE; i++) ((volatile char *)p)[100000 + i] = 0x41;
}

static void test_overflow_canary(void) {
  seen_t s = {0};
  void *h = heap(&s);
  size_t sizes[] = {1, 24, 100, 4000, 100000};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char *p = A->malloc(h, sizes[i]);
    VT_CHECK(A->usable_size(h, p) == sizes[i]); /* exact: the rest is the frame */
    p[sizes[i]] = 0x41; /* one byte past the end */
    A->free(h, p);
    /* the canary, or the trailer where no canary byte fits */
    VT_CHECK(saw(&s, VA_ERR_CORRUPTION, "free", "(hardened hd."));
    p[sizes[i]] = (char)0; /* (the canary is never 0: still damaged) */
  }
  char *q = A->malloc(h, 40);
  smash(q + 40, 0x41, 200); /* through the frame, maybe into the inner's */
  VT_CHECK(A->realloc(h, q, 10) == NULL && errno == EINVAL);
  VT_CHECK(saw(&s, VA_ERR_CORRUPTION, "realloc", NULL));
  A->destroy(h);
}

static void test_double_and_invalid_free(void) {
  seen_t s = {0};
  void *h = heap(&s);
  char *p = A->malloc(h, 64), *big = A->malloc(h, 100000);
  A->free(h, p);
  A->free(h, p); /* in the quarantine: the trailer says freed */
  VT_CHECK(saw(&s, VA_ERR_DOUBLE_FREE, "free", NULL));
  char *q = A->malloc(h, 64);
  A->free(h, q + 16); /* the inner's verdict, under the layer's op */
  VT_CHECK(saw(&s, VA_ERR_NOT_A_BLOCK, "free", NULL));
  int local;
  VT_CHECK(A->usable_size(h, &local) == 0);
  VT_CHECK(saw(&s, VA_ERR_INVALID_FREE, "usable_size", NULL));
  A->free(h, q), A->free(h, big);
  va_report_t r;
  VT_CHECK(A->check_empty(h, &r));
  VT_CHECK(s.calls == 0);
  A->destroy(h);
}

static void test_quarantine(void) {
  seen_t s = {0};
  void *h = heap(&s);
  char *p = A->malloc(h, 48);
  memset(p, 0x5A, 48);
  A->free(h, p);
  VT_CHECK(p[0] == 0 && p[47] == 0); /* zeroed on free */
  char *q = A->malloc(h, 48);
  VT_CHECK(q != p); /* held: not handed out again at once */
  p[8] = 1; /* a write after free */
  va_report_t r;
  VT_CHECK(!A->check(h, &r) && strcmp(r.invariant, "hd.quarantine") == 0);
  for (int i = 0; i < 2 * HD_QUARANTINE && s.calls == 0; i++) A->free(h, A->malloc(h, 48));
  VT_CHECK(saw(&s, VA_ERR_CORRUPTION, "free", "hd.quarantine"));
  A->free(h, q);
  A->destroy(h);
}

static void test_zeroed_and_random_reuse(void) {
  seen_t s = {0};
  void *h = heap(&s);
  char *blocks[64];
  for (int i = 0; i < 64; i++) memset(blocks[i] = A->malloc(h, 32), 0x77, 32);
  for (int i = 0; i < 64; i++) A->free(h, blocks[i]);
  int dirty = 0, same_order = 0;
  for (int round = 0; round < 2 * HD_QUARANTINE; round++) { /* cycle the quarantine */
    char *p = A->malloc(h, 32);
    for (int k = 0; k < 32; k++) dirty += p[k] != 0;
    A->free(h, p);
  }
  char *again[8];
  for (int i = 0; i < 8; i++) again[i] = A->malloc(h, 32);
  for (int i = 1; i < 8; i++) same_order += again[i] == again[i - 1] + 32;
  VT_CHECK(dirty == 0);
  VT_CHECK(same_order < 7); /* not simply the address order */
  for (int i = 0; i < 8; i++) A->free(h, again[i]);
  VT_CHECK(s.calls == 0);
  A->destroy(h);
}

static void test_zero_size(void) {
  seen_t s = {0};
  void *h = heap(&s);
  void *a = A->malloc(h, 0), *b = A->malloc(h, 0);
  VT_CHECK(a && b && a != b && A->usable_size(h, a) == 0);
  VT_CHECK(faults(touch_byte, a));
  void *c = A->realloc(h, a, 10);
  VT_CHECK(c != NULL && A->usable_size(h, c) == 10);
  A->free(h, b);
  A->free(h, b);
  VT_CHECK(saw(&s, VA_ERR_DOUBLE_FREE, "free", NULL));
  A->free(h, c);
  va_report_t r;
  VT_CHECK(A->check_empty(h, &r));
  A->destroy(h);
}

static void test_guard_page(void) {
  seen_t s = {0};
  void *h = heap(&s);
  char *p = A->malloc(h, 100000);
  memset(p, 1, 100000);
  if (A == &hd_v2_allocator) { /* V1 gets no guard pages (hd_attach) */
    VT_CHECK(faults(write_past, p));
  } else { /* its canary runs to the end of the last page instead */
    char *q = A->malloc(h, 100000);
    uintptr_t end = ((uintptr_t)q + 100000 + HD_PAGE - 1) & ~(uintptr_t)(HD_PAGE - 1);
    char *last = end > (uintptr_t)q + 100000 ? (char *)end - 1 : q + 100000, canary = q[100000];
    *last = 0x41; /* the last byte before the page boundary */
    A->free(h, q);
    VT_CHECK(saw(&s, VA_ERR_CORRUPTION, "free", "hd.canary"));
    *last = canary; /* mended, it frees */
    A->free(h, q);
  }
  char *q = A->realloc(h, p, 200000); /* moved: contents kept, old guard lifted */
  VT_CHECK(q != NULL && q[0] == 1 && q[99999] == 1 && q[100000] == 0);
  A->free(h, q);
  va_report_t r;
  VT_CHECK(A->check_empty(h, &r) && s.calls == 0);
  A->destroy(h);
}

/* The checker reaches live blocks through the inner's walk: a live
 * block's broken canary or trailer is named before any free meets it. */
static void test_checker_sees_live_blocks(void) {
  seen_t s = {0};
  void *h = heap(&s);
  /* 33 bytes: canary 33..40, then the trailer (33 + 8 rounds to 48) */
  char *p = A->malloc(h, 33), *q = A->malloc(h, 33);
  A->free(h, A->malloc(h, 33)); /* one quarantined: not a live block's fault */
  va_report_t r;
  VT_CHECK(A->check(h, &r));
  char was = p[33];
  smash(p + 33, 0x41, 1); /* one byte past p, p live */
  VT_CHECK(!A->check(h, &r) && strcmp(r.invariant, "hd.live") == 0 && r.addr == p + 33);
  smash(p + 33, was, 1);
  VT_CHECK(A->check(h, &r) && s.calls == 0);
  A->free(h, p), A->free(h, q);
  VT_CHECK(A->check_empty(h, &r) && s.calls == 0);
  A->destroy(h);
}

/* Each feature can be left out (VEDALLOC_HARDEN=name,...): what is left
 * still works, and what is gone is gone. */
static void test_features(void) {
  unsigned f = 0;
  VT_CHECK(hd_features_parse("1", &f) && f == HD_F_ALL);
  VT_CHECK(hd_features_parse("canary,zero", &f) && f == (HD_F_CANARY | HD_F_ZERO));
  VT_CHECK(hd_features_parse("trailer", &f) && f == 0);
  VT_CHECK(!hd_features_parse("canary,", &f) && !hd_features_parse("", &f) &&
           !hd_features_parse("canaries", &f) && !hd_features_parse(NULL, &f));
  const va_allocator_t *in = A == &hd_v2_allocator ? &sl_allocator : &ff_allocator;
  seen_t s = {0};
  va_options_t o = va_options_default();
  o.on_error = hook, o.error_ctx = &s, o.seed = 3;
  void *h = hd_create(in, &o, 0); /* the trailer alone */
  char *p = hd_malloc(h, 33);
  smash(p + 33, 0x41, 1); /* into what would be the canary: not seen */
  hd_free(h, p);
  VT_CHECK(s.calls == 0);
  char *z = hd_malloc(h, 0); /* an ordinary block, writable for 0 bytes */
  VT_CHECK(z != NULL && hd_usable_size(h, z) == 0);
  hd_free(h, z);
  va_report_t r;
  VT_CHECK(hd_check_empty(h, &r) && s.calls == 0); /* nothing quarantined */
  hd_destroy(h);
  h = hd_create(in, &o, HD_F_CANARY);
  p = hd_malloc(h, 33);
  smash(p + 33, 0x41, 1);
  hd_free(h, p);
  VT_CHECK(saw(&s, VA_ERR_CORRUPTION, "free", "hd.canary"));
  hd_destroy(h);
}

/* calloc hands out zeroes whatever the features: with HD_F_ZERO off, the
 * blocks it reuses hold the bytes their last owner wrote. */
static void test_calloc_zero_in_every_mode(void) {
  const va_allocator_t *in = A == &hd_v2_allocator ? &sl_allocator : &ff_allocator;
  static const unsigned modes[] = {0,       HD_F_CANARY,     HD_F_GUARD, HD_F_ZERO,
                                   HD_F_QUARANTINE, HD_F_ZERO_SIZE, HD_F_ALL};
  static const size_t sizes[] = {48, 1000, 40000};
  enum { N = 300 };
  for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
    va_options_t o = va_options_default();
    void *h = hd_create(in, &o, modes[m]);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      static unsigned char *b[N];
      for (size_t i = 0; i < N; i++) memset(b[i] = hd_malloc(h, sizes[k]), 0xA5, sizes[k]);
      for (size_t i = 0; i < N; i++) hd_free(h, b[i]);
      size_t dirty = 0;
      for (size_t i = 0; i < N; i++) {
        b[i] = hd_calloc(h, 1, sizes[k]);
        for (size_t j = 0; j < sizes[k]; j++) dirty += b[i][j] != 0;
      }
      for (size_t i = 0; i < N; i++) hd_free(h, b[i]);
      if (dirty) printf("  features %#x, %zu-byte blocks: %zu bytes not zero\n", modes[m], sizes[k], dirty);
      VT_CHECK(dirty == 0);
    }
    hd_destroy(h);
  }
}

/* The trailer word of inner block p (read outside ASan's view, as the
 * layer's own checks read it). */
__attribute__((no_sanitize("address"))) static uint64_t trailer_of(void *h, uint8_t *p) {
  hd_heap_t *hh = h;
  size_t u = hh->in->usable_size(hh->inner, p);
  return *(volatile uint64_t *)(p + u - HD_TRAILER);
}

/* A live and a freed trailer differ in their freed bit whatever their
 * check bits, so a quarantined block never reads as a live one (with the
 * check alone, one block in 2^23 did, and the checker miscounted). */
static void test_trailer_freed_bit(void) {
  seen_t s = {0};
  void *h = heap(&s);
  for (size_t n = 1; n < 4000; n += 37) { /* held in the quarantine: none leaves */
    uint8_t *p = A->malloc(h, n);
    uint64_t live = trailer_of(h, p);
    A->free(h, p);
    uint64_t freed = trailer_of(h, p);
    VT_CHECK(!(live & HD_FREED_BIT) && (freed & HD_FREED_BIT));
    VT_CHECK((live & (HD_GUARD_BIT - 1)) == n && (freed & (HD_GUARD_BIT - 1)) == n);
  }
  va_report_t r;
  VT_CHECK(s.calls == 0 && A->check(h, &r));
  A->destroy(h);
}

static void run_all(const char *label) {
  printf("-- over %s\n", label);
  VT_RUN(test_overflow_canary);
  VT_RUN(test_double_and_invalid_free);
  VT_RUN(test_quarantine);
  VT_RUN(test_zeroed_and_random_reuse);
  VT_RUN(test_zero_size);
  VT_RUN(test_guard_page);
  VT_RUN(test_checker_sees_live_blocks);
  VT_RUN(test_features);
  VT_RUN(test_calloc_zero_in_every_mode);
  VT_RUN(test_trailer_freed_bit);
}

int main(void) {
  A = &hd_v2_allocator;
  run_all("V2");
  A = &hd_v1_allocator;
  run_all("V1");
  return va_check_summary();
}
