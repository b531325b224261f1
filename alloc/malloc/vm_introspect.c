/* vedalloc drop-in — glibc's introspection calls and vedalloc_stats, over
 * any backend (vedalloc.h has the fields and their meaning).
 *
 * Every number comes from one tally of the backend's walk (vm_be_walk):
 * the regions of each heap the caller can read while other threads run.
 * The tally is filled with no allocation (the walk holds a heap, and V1's
 * walk its mutex); printing (stdio, which may allocate) comes after, so it
 * re-enters the library with nothing held.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/internal.h"
#include "alloc/malloc/vedalloc.h"
#include "alloc/malloc/vm_backend.h"

/* ---------------------------------------------------------------------------
 * The tally
 * ------------------------------------------------------------------------- */
#define VM_RESIDENT_SPANS 64 /* segments remembered, so their pages are not counted twice */

typedef struct vm_tally {
  struct vedalloc_stats *s;
  uintptr_t seg[VM_RESIDENT_SPANS]; /* segment bases (a first walk) */
  size_t nseg;
  uintptr_t lo, hi;                 /* V1: the extent of its blocks */
} vm_tally_t;

/* Resident bytes of [p, p + n) (whole pages), by mincore in steps of a
 * stack vector. */
static size_t vm_resident(const void *p, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), sum = 0;
  uintptr_t lo = (uintptr_t)p & ~(page - 1), hi = VA_ALIGN_UP((uintptr_t)p + n, page);
  unsigned char vec[256];
  for (uintptr_t a = lo; a < hi; a += sizeof vec * page) {
    size_t len = hi - a < sizeof vec * page ? hi - a : sizeof vec * page;
    if (mincore((void *)a, len, vec) != 0) return sum;
    for (size_t i = 0; i < len / page; i++) sum += (vec[i] & 1) * page;
  }
  return sum;
}

/* Is region r inside a segment already counted (V2 walks segments last,
 * so a first pass of the walk collects them: vm_tally_segments)? */
static bool vm_in_segment(const vm_tally_t *t, const void *addr) {
  for (size_t i = 0; i < t->nseg; i++)
    if ((uintptr_t)addr - t->seg[i] < ((size_t)4 << 20)) return true;
  return false;
}

static void vm_tally_segments(void *ctx, const va_region_t *r) {
  vm_tally_t *t = ctx;
  if (r->kind == VA_REGION_SEGMENT && t->nseg < VM_RESIDENT_SPANS)
    t->seg[t->nseg++] = (uintptr_t)r->addr;
}

static void vm_tally_class(struct vedalloc_stats *s, const va_region_t *r) {
  if (r->cls < 0 || r->cls >= VEDALLOC_MAX_CLASSES) return;
  struct vedalloc_class_stats *c = &s->cls[r->cls];
  c->block_size = r->block_size;
  if ((size_t)r->cls + 1 > s->nclasses) s->nclasses = (size_t)r->cls + 1;
  if (r->kind == VA_REGION_PAGE) c->pages++;
  else if (r->kind == VA_REGION_LIVE) c->live_blocks++;
  else if (r->kind == VA_REGION_FREE) c->free_blocks++;
}

static void vm_tally_region(void *ctx, const va_region_t *r) {
  vm_tally_t *t = ctx;
  struct vedalloc_stats *s = t->s;
  bool large = r->cls == VA_CLS_LARGE;
  switch (r->kind) {
  case VA_REGION_LIVE:
    s->live_blocks++, s->live_bytes += r->size;
    if (large) s->large_live++, s->large_live_bytes += r->size;
    break;
  case VA_REGION_FREE:
    s->free_blocks++, s->free_bytes += r->size;
    break;
  case VA_REGION_CACHED:
    s->large_cached++, s->large_cached_bytes += r->size;
    break;
  case VA_REGION_PAGE:
    s->pages++, s->idle_pages += r->cls < 0;
    break;
  case VA_REGION_SEGMENT:
    s->segments++;
    break;
  }
  vm_tally_class(s, r);
  /* resident: segments whole, pages and large blocks outside one; V1's
   * blocks by their extent, after the walk */
  if (r->kind == VA_REGION_SEGMENT ||
      ((r->kind == VA_REGION_PAGE || large) && !vm_in_segment(t, r->addr)))
    s->resident += vm_resident(r->addr, r->size);
  if (r->cls == -1 && (r->kind == VA_REGION_LIVE || r->kind == VA_REGION_FREE)) {
    uintptr_t a = (uintptr_t)r->addr;
    if (t->lo == 0 || a < t->lo) t->lo = a;
    if (a + r->size > t->hi) t->hi = a + r->size;
  }
}

/* One walk of every heap the caller can reach (two: segments first). */
static void vm_tally(struct vedalloc_stats *s) {
  memset(s, 0, sizeof *s);
  vm_tally_t t = {.s = s};
  size_t unseen, unseen_bytes;
  vm_be_walk(vm_tally_segments, &t, &unseen, &unseen_bytes);
  vm_be_walk(vm_tally_region, &t, &s->heaps_unseen, &unseen_bytes);
  if (t.hi > t.lo) s->resident += vm_resident((const void *)t.lo, t.hi - t.lo);
  s->heaps = vm_be_heap_count();
  s->mapped = vm_be_mapped_bytes();
  s->committed = vm_be_footprint();
  s->remote_frees = vm_be_remote_frees();
}

/* ---------------------------------------------------------------------------
 * The calls
 * ------------------------------------------------------------------------- */
int vedalloc_stats(struct vedalloc_stats *s) {
  if (s == NULL) {
    errno = EINVAL;
    return -1;
  }
  vm_tally(s);
  return 0;
}

struct mallinfo2 vm_mallinfo2(void) {
  struct vedalloc_stats s;
  vm_tally(&s);
  struct mallinfo2 m = {0};
  m.arena = s.committed;
  m.ordblks = s.free_blocks;
  m.hblks = s.large_live;
  m.hblkhd = s.large_live_bytes;
  m.uordblks = s.live_bytes;
  m.fordblks = s.free_bytes + s.large_cached_bytes;
  return m;
}

static int vm_sat(size_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

struct mallinfo vm_mallinfo(void) {
  struct mallinfo2 m = vm_mallinfo2();
  struct mallinfo o = {0};
  o.arena = vm_sat(m.arena), o.ordblks = vm_sat(m.ordblks), o.hblks = vm_sat(m.hblks);
  o.hblkhd = vm_sat(m.hblkhd), o.uordblks = vm_sat(m.uordblks);
  o.fordblks = vm_sat(m.fordblks);
  return o;
}

/* glibc's malloc_stats shape, one arena (the heaps together), on stderr
 * by write(2): no stdio, so it prints even where stdio cannot. */
void vm_malloc_stats(void) {
  struct vedalloc_stats s;
  vm_tally(&s);
  char buf[512];
  int n = snprintf(buf, sizeof buf,
                   "Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                   "Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n"
                   "max mmap regions = %10zu\nmax mmap bytes   = %10zu\n",
                   s.committed, s.live_bytes, s.mapped, s.live_bytes, s.large_live,
                   s.large_live_bytes);
  if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* glibc's XML: one heap, a <size> per class in use, the totals. */
int vm_malloc_info(int options, FILE *f) {
  if (options != 0 || f == NULL) {
    errno = EINVAL;
    return -1;
  }
  struct vedalloc_stats s;
  vm_tally(&s);
  fprintf(f, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n");
  size_t from = 1;
  for (size_t c = 0; c < s.nclasses; c++) {
    const struct vedalloc_class_stats *k = &s.cls[c];
    if (k->block_size == 0) continue;
    if (k->free_blocks)
      fprintf(f, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n", from,
              k->block_size, k->free_blocks * k->block_size, k->free_blocks);
    from = k->block_size + 1;
  }
  if (s.large_cached)
    fprintf(f, "  <unsorted from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n", from,
            s.large_cached_bytes, s.large_cached_bytes, s.large_cached);
  fprintf(f, "</sizes>\n<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
             "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
             "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n"
             "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n"
             "</heap>\n",
          s.free_blocks + s.large_cached, s.free_bytes + s.large_cached_bytes, s.committed,
          s.committed, s.mapped, s.mapped);
  fprintf(f, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
             "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
             "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n"
             "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n"
             "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n"
             "</malloc>\n",
          s.free_blocks + s.large_cached, s.free_bytes + s.large_cached_bytes, s.large_live,
          s.large_live_bytes, s.committed, s.committed, s.mapped, s.mapped);
  return 0;
}

int vm_malloc_trim(size_t pad) {
  (void)pad;
  return vm_be_trim() > 0;
}

/* ---------------------------------------------------------------------------
 * VEDALLOC_SHOW_STATS=1: the table at exit
 * ------------------------------------------------------------------------- */
static void vm_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vm_line(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* n bytes as "12.3 MiB" into buf. */
static const char *vm_size(char *buf, size_t len, size_t n) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u < 4) v /= 1024, u++;
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
  return buf;
}

void vm_show_stats(void) {
  struct vedalloc_stats s;
  vm_tally(&s);
  char a[32], b[32], c[32];
  vm_line("vedalloc: heap statistics at exit (%s): %zu heaps", vm_be_name, s.heaps);
  if (s.heaps_unseen) vm_line(", %zu held by running threads (not walked)", s.heaps_unseen);
  vm_line("\n  %5s %9s %10s %10s %7s %6s\n", "class", "block", "live", "free", "pages", "used");
  for (size_t k = 0; k < s.nclasses; k++) {
    const struct vedalloc_class_stats *x = &s.cls[k];
    if (x->pages == 0 && x->live_blocks == 0) continue;
    size_t all = x->live_blocks + x->free_blocks;
    vm_line("  %5zu %9zu %10zu %10zu %7zu %5.1f%%\n", k, x->block_size, x->live_blocks,
            x->free_blocks, x->pages, all ? 100.0 * (double)x->live_blocks / (double)all : 0.0);
  }
  vm_line("  large: %zu live (%s), %zu cached (%s); segments %zu, idle pages %zu\n",
          s.large_live, vm_size(a, sizeof a, s.large_live_bytes), s.large_cached,
          vm_size(b, sizeof b, s.large_cached_bytes), s.segments, s.idle_pages);
  vm_line("  blocks: %zu live (%s), %zu free (%s); %zu freed by other threads\n", s.live_blocks,
          vm_size(a, sizeof a, s.live_bytes), s.free_blocks, vm_size(b, sizeof b, s.free_bytes),
          s.remote_frees);
  vm_line("  memory: %s mapped, %s committed, %s resident\n", vm_size(a, sizeof a, s.mapped),
          vm_size(b, sizeof b, s.committed), vm_size(c, sizeof c, s.resident));
}

__attribute__((destructor)) static void vm_show_stats_at_exit(void) {
  if (vm_options()->show_stats) vm_show_stats();
}
