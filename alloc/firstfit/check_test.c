/* vedalloc V1 — the checker names exactly the invariant that was broken.
 *
 * Each test builds a small heap, breaks one invariant on purpose, asserts
 * that ff_check reports exactly that name (and the right block), then
 * repairs the damage and asserts the heap checks clean again, so the
 * corruption alone caused the report. Layout: A used, B free, C used,
 * T (free tail), fence. */
#include "alloc/firstfit/testing.h"

typedef struct ff_t_fix {
  ff_heap_t *h;
  ff_block_t *a, *b, *c, *t;
} ff_t_fix_t;

static ff_t_fix_t ff_t_fixture(void) {
  ff_t_fix_t f;
  f.h = ff_t_heap(VA_FIT_FIRST, SIZE_MAX, 1 << 20);
  char *a = ff_t_malloc(f.h, 64), *b = ff_t_malloc(f.h, 64), *c = ff_t_malloc(f.h, 64);
  ff_t_free(f.h, b);
  f.a = ff_block_of(a), f.b = ff_block_of(b), f.c = ff_block_of(c);
  f.t = ff_next(f.c);
  return f;
}

/* Assert the checker names `want` at `addr` (NULL: any address). */
static void ff_t_expect(ff_heap_t *h, const char *want, const void *addr) {
  va_report_t r;
  bool ok = ff_check(h, &r);
  bool named = !ok && r.invariant && strcmp(r.invariant, want) == 0;
  if (!named)
    fprintf(stderr, "  expected %s, got %s (%s)\n", want,
            ok ? "clean" : r.invariant, ok ? "" : r.detail);
  VT_CHECK(named);
  if (named && addr) VT_CHECK(r.addr == addr);
}

/* Repaired: clean again; then destroy. */
static void ff_t_done(ff_t_fix_t *f) {
  FF_T_HEAP_OK(f->h);
  ff_allocator.destroy(f->h);
}

/* A byte write that ASan lets through (the byte may be poisoned). */
FF_META void ff_t_poke(void *p, unsigned char v) { *(volatile unsigned char *)p = v; }
FF_META unsigned char ff_t_peek(const void *p) { return *(const volatile unsigned char *)p; }

static void ff_test_clean(void) {
  ff_t_fix_t f = ff_t_fixture();
  FF_T_HEAP_OK(f.h);
  VT_CHECK(ff_is_used(f.a) && ff_is_free(f.b) && ff_is_used(f.c) && ff_is_free(f.t));
  ff_t_done(&f);
}

static void ff_test_magic(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_set_magic(f.c, 0x12345678);
  ff_t_expect(f.h, "ff.magic", f.c);
  ff_set_magic(f.c, FF_MAGIC);
  f.h->magic ^= 1;
  ff_t_expect(f.h, "ff.magic", f.h);
  f.h->magic ^= 1;
  ff_t_done(&f);
}

static void ff_test_flags(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_set_flags(f.c, FF_F_USED | 8);
  ff_t_expect(f.h, "ff.flags", f.c);
  ff_set_flags(f.c, FF_F_FENCE); /* a fence must be used */
  ff_t_expect(f.h, "ff.flags", f.c);
  ff_set_flags(f.c, FF_F_USED);
  ff_t_done(&f);
}

static void ff_test_links(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_set_prev(f.c, f.a);
  ff_t_expect(f.h, "ff.links", f.c);
  ff_set_prev(f.c, f.b);
  ff_block_t *tail = f.h->tail;
  f.h->tail = f.t;
  ff_t_expect(f.h, "ff.links", f.h);
  f.h->tail = tail;
  ff_set_next(tail, f.a); /* the last fence must end the list */
  ff_t_expect(f.h, "ff.links", tail);
  ff_set_next(tail, NULL);
  ff_t_done(&f);
}

static void ff_test_size_align(void) {
  ff_t_fix_t f = ff_t_fixture();
  size_t s = ff_size(f.a);
  ff_set_size(f.a, s + 8);
  ff_t_expect(f.h, "ff.size_align", f.a);
  ff_set_size(f.a, s);
  ff_t_done(&f);
}

static void ff_test_size_min(void) {
  ff_t_fix_t f = ff_t_fixture();
  size_t s = ff_size(f.a);
  ff_set_size(f.a, FF_HDR);
  ff_t_expect(f.h, "ff.size_min", f.a);
  ff_set_size(f.a, s);
  ff_set_size(f.h->tail, 2 * FF_HDR); /* a fence is exactly a header */
  ff_t_expect(f.h, "ff.size_min", f.h->tail);
  ff_set_size(f.h->tail, FF_HDR);
  ff_t_done(&f);
}

static void ff_test_tiling(void) {
  ff_t_fix_t f = ff_t_fixture();
  size_t s = ff_size(f.a);
  ff_set_size(f.a, s + FF_GRAIN);
  ff_t_expect(f.h, "ff.tiling", f.a);
  ff_set_size(f.a, s);
  s = ff_size(f.t); /* the tail block runs past the segment */
  ff_set_size(f.t, s + 4 * FF_PAGE);
  ff_t_expect(f.h, "ff.tiling", f.t);
  ff_set_size(f.t, s);
  uintptr_t end = f.h->seg[0].end; /* the segment claims more than is tiled */
  f.h->seg[0].end += FF_PAGE;
  ff_t_expect(f.h, "ff.tiling", f.h->tail);
  f.h->seg[0].end = end;
  ff_t_done(&f);
}

static void ff_test_bounds(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_set_next(f.a, (ff_block_t *)(uintptr_t)0x1000);
  ff_t_expect(f.h, "ff.bounds", f.a);
  ff_set_next(f.a, f.b);
  ff_block_t *head = f.h->head;
  f.h->head = (ff_block_t *)((char *)f.h->seg[0].end + FF_PAGE);
  ff_t_expect(f.h, "ff.bounds", NULL);
  f.h->head = head;
  ff_t_done(&f);
}

static void ff_test_adjacent_free(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_set_flags(f.c, 0); /* C now free between free B and free T */
  ff_canary_write(f.c);
  f.h->live_blocks--, f.h->live_bytes -= ff_psize(f.c); /* keep counts true */
  f.h->free_blocks++, f.h->free_bytes += ff_psize(f.c);
  ff_t_expect(f.h, "ff.adjacent_free", f.c);
  ff_set_flags(f.c, FF_F_USED);
  f.h->live_blocks++, f.h->live_bytes += ff_psize(f.c);
  f.h->free_blocks--, f.h->free_bytes -= ff_psize(f.c);
  ff_t_done(&f);
}

static void ff_test_poison(void) {
  ff_t_fix_t f = ff_t_fixture();
  unsigned char *p = ff_payload(f.b);
  unsigned char old = ff_t_peek(p + 5);
  ff_t_poke(p + 5, 0); /* a write after free */
  ff_t_expect(f.h, "ff.poison", f.b);
  ff_t_poke(p + 5, old);
  ff_t_done(&f);
}

static void ff_test_rover(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_block_t *r = f.h->rover;
  f.h->rover = (ff_block_t *)ff_payload(f.a);
  ff_t_expect(f.h, "ff.rover", f.h->rover);
  f.h->rover = r;
  ff_t_done(&f);
}

/* The first-fit hint: no free block below it, and it is a block. A used
 * block below the lowest free one is a legal (lazy) hint. */
static void ff_test_hint(void) {
  ff_t_fix_t f = ff_t_fixture();
  ff_block_t *low = f.h->low;
  VT_CHECK(low == f.b); /* free(b) brought the hint down to b */
  f.h->low = f.c;         /* b is free and below: first fit would miss it */
  ff_t_expect(f.h, "ff.hint", f.b);
  f.h->low = f.t;
  ff_t_expect(f.h, "ff.hint", f.b);
  f.h->low = (ff_block_t *)ff_payload(f.a); /* not a block: never reached */
  ff_t_expect(f.h, "ff.hint", f.b);
  f.h->low = f.a;
  FF_T_HEAP_OK(f.h);
  f.h->low = low;
  ff_t_done(&f);
}

static void ff_test_counts(void) {
  ff_t_fix_t f = ff_t_fixture();
  f.h->live_bytes += 16;
  ff_t_expect(f.h, "ff.counts", f.h);
  f.h->live_bytes -= 16;
  f.h->free_blocks++;
  ff_t_expect(f.h, "ff.counts", f.h);
  f.h->free_blocks--;
  ff_t_done(&f);
}

static void ff_test_empty_and_trim(void) {
  ff_t_fix_t f = ff_t_fixture();
  va_report_t r;
  VT_CHECK(!ff_check_empty(f.h, &r) && strcmp(r.invariant, "ff.empty") == 0);
  ff_t_free(f.h, ff_payload(f.a));
  ff_t_free(f.h, ff_payload(f.c));
  VT_CHECK(ff_check_empty(f.h, &r));
  ff_t_free(f.h, ff_t_malloc(f.h, 100000)); /* never trimmed (SIZE_MAX) */
  VT_CHECK(ff_check_empty(f.h, &r));
  f.h->opts.trim_threshold = 8192; /* now the tail should have gone back */
  VT_CHECK(!ff_check_empty(f.h, &r) && strcmp(r.invariant, "ff.trim") == 0);
  f.h->opts.trim_threshold = SIZE_MAX;
  ff_t_done(&f);
}

int main(void) {
  VT_RUN(ff_test_clean);
  VT_RUN(ff_test_magic);
  VT_RUN(ff_test_flags);
  VT_RUN(ff_test_links);
  VT_RUN(ff_test_size_align);
  VT_RUN(ff_test_size_min);
  VT_RUN(ff_test_tiling);
  VT_RUN(ff_test_bounds);
  VT_RUN(ff_test_adjacent_free);
  VT_RUN(ff_test_poison);
  VT_RUN(ff_test_rover);
  VT_RUN(ff_test_hint);
  VT_RUN(ff_test_counts);
  VT_RUN(ff_test_empty_and_trim);
  return va_check_summary();
}
