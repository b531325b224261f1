/* vedalloc V1 — entry points of the first-fit block-list allocator.
 *
 * Basic algorithm of malloc(n):
 *   1. n > PTRDIFF_MAX: NULL, ENOMEM. Else need = max(16, round16(n)) + 32.
 *   2. Find a free block of size >= need by the placement policy.
 *   3. None: grow the heap (contiguously, or a new segment past foreign
 *      memory) so that a free block of size >= need ends it. Never reuse a
 *      live block (the original grew the last live block and returned it
 *      again: two callers owned the same bytes).
 *   4. Split off the rest if it makes a block; mark used; return payload.
 * free(p) validates p from its header (see ff_block_classify), reports
 * misuse through the error hook, then coalesces both ways and may trim.
 * realloc shrinks in place, grows in place into a free neighbour (or the
 * heap end), and only otherwise moves. realloc(p, 0) shrinks p to the
 * minimum block in place (a live minimum block, possibly at p).
 *
 * Costs: malloc O(blocks) (the list walk is the design under study); free
 * O(1) (+ O(blocks) membership walk at VA_CHECK_LEVEL >= 2); realloc O(1)
 * in place. Non-goals: thread safety; speed of the list walk.
 */
#include <errno.h>
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/firstfit/internal.h"

static void *ff_api_create(const va_options_t *opts) { return ff_heap_create(opts); }

static void ff_api_destroy(void *heap) { ff_heap_destroy(heap); }

/* The live block behind p, or NULL after reporting misuse through the hook. */
static ff_block_t *ff_api_block(ff_heap_t *h, const void *p, const char *op) {
  ff_block_t *b = NULL;
  const char *why = NULL;
  const void *near = NULL;
  va_error_kind_t kind = ff_block_classify(h, p, &b, &why, &near);
  if (VA_LIKELY(kind == 0)) return b;
  if (kind == VA_ERR_CORRUPTION) va_raise_corrupt(&h->opts, op, near, why);
  else va_raise(&h->opts, kind, op, p);
  return NULL;
}

static void *ff_api_malloc(void *heap, size_t n) {
  ff_heap_t *h = heap;
  size_t need;
  if (!ff_size_for(n, &need)) return va_enomem();
  ff_block_t *b = ff_fit(h, need);
  if (!b && h->damaged) return va_enomem(); /* reported; nothing follows it */
  if (!b) b = ff_heap_grow(h, need); /* slow path: system call */
  if (!b) return va_enomem();
  ff_block_take(h, b, need);
  FF_DEBUG_CHECK(h, "malloc");
  return ff_payload(b);
}

static void ff_api_free(void *heap, void *p) {
  ff_heap_t *h = heap;
  if (!p) return;
  ff_block_t *b = ff_api_block(h, p, "free");
  if (!b) return; /* the hook returned: abandon */
  ff_block_release(h, b);
  FF_DEBUG_CHECK(h, "free");
}

static void *ff_api_realloc(void *heap, void *p, size_t n) {
  ff_heap_t *h = heap;
  if (!p) return ff_api_malloc(h, n);
  ff_block_t *b = ff_api_block(h, p, "realloc");
  if (!b) {
    errno = EINVAL;
    return NULL;
  }
  size_t need;
  if (!ff_size_for(n, &need)) return va_enomem();
  if (need <= ff_size(b)) {
    ff_block_shrink(h, b, need);
  } else if (!ff_block_grow_in_place(h, b, need)) {
    void *q = ff_api_malloc(h, n);
    if (!q) return NULL; /* p untouched */
    memcpy(q, p, ff_psize(b));
    ff_block_release(h, b);
    p = q;
  }
  FF_DEBUG_CHECK(h, "realloc");
  return p;
}

static void *ff_api_calloc(void *heap, size_t count, size_t size) {
  size_t total;
  if (!va_mul_ok(count, size, &total)) return va_enomem();
  void *p = ff_api_malloc(heap, total);
  if (p) memset(p, 0, ff_psize(ff_block_of(p))); /* reused memory is dirty */
  return p;
}

/* Over-allocate, then split off a leading free piece so the payload lands
 * on the boundary, and give back the tail. */
static void *ff_api_memalign(void *heap, size_t align, size_t n) {
  ff_heap_t *h = heap;
  if (!VA_IS_POW2(align)) {
    errno = EINVAL;
    return NULL;
  }
  if (align <= FF_GRAIN) return ff_api_malloc(h, n);
  size_t need, over;
  if (!ff_size_for(n, &need) || align > VA_MAX_REQUEST / 4 ||
      __builtin_add_overflow(need - FF_HDR, align + FF_MIN_BLOCK, &over))
    return va_enomem();
  char *p = ff_api_malloc(h, over);
  if (!p) return NULL;
  uintptr_t a = VA_ALIGN_UP((uintptr_t)p, align);
  if (a != (uintptr_t)p && a - (uintptr_t)p < FF_MIN_BLOCK) a += align;
  ff_block_t *b = ff_block_of(p);
  if (a != (uintptr_t)p) b = ff_block_split_front(h, b, a - (uintptr_t)p);
  ff_block_shrink(h, b, need);
  FF_DEBUG_CHECK(h, "memalign");
  return ff_payload(b);
}

/* Checked as free checks p (a size read from a damaged or forged header
 * would be believed by the caller's memcpy): misuse is reported, 0. */
static size_t ff_api_usable_size(void *heap, const void *p) {
  if (p == NULL) return 0;
  ff_block_t *b = ff_api_block(heap, p, "usable_size");
  return b ? ff_psize(b) : 0;
}

const va_allocator_t ff_allocator = {
    .name = "firstfit",
    .create = ff_api_create,
    .destroy = ff_api_destroy,
    .malloc = ff_api_malloc,
    .free = ff_api_free,
    .realloc = ff_api_realloc,
    .calloc = ff_api_calloc,
    .memalign = ff_api_memalign,
    .usable_size = ff_api_usable_size,
    .check = ff_check,
    .stats = ff_stats,
    .check_empty = ff_check_empty,
    .walk = ff_walk,
};
