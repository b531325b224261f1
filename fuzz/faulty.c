/* vedalloc — the faulty allocator: a wrapper that plants one bug, so the
 * harnesses can prove they bite. Test-only.
 *
 * Policy: pass every call through to `inner`, tracking what was handed out,
 * and after FZ_CLEAN_CALLS clean allocations inject the chosen fault
 * whenever its trigger condition holds. Everything depends only on the
 * sequence of calls, so a run is deterministic.
 *
 * The original design's three defects are modelled faithfully enough that
 * the shadow sees what it would see from the original:
 *   V1_GROW_ALIAS  a 4096-byte "heap" is accounted (block = round8(n) + 32
 *                  bytes of header, 16 bytes of heap header); when a request
 *                  does not fit and the most recent block is still live,
 *                  that block is returned again (it was "grown").
 *   V2_DOUBLE_FREE small requests (<= 1024) come from a mini slab: 4096-byte
 *                  pages, 32-byte page header, per-class LIFO free lists. The
 *                  executor never frees twice, so the fault leaves the state
 *                  an undetected double free leaves: one free pushes the
 *                  block twice, and the next two allocations of that class
 *                  both return it.
 *   V2_MAGIC_SPOOF the same slab; free() reads the word 16 bytes before the
 *                  pointer and, if it equals FZ_MAGIC (user data of the
 *                  previous block can put it there: the `write` op), takes
 *                  the "large" path, which fails silently: the block is
 *                  never returned, and check_empty sees it still live.
 * Non-goals: speed; thread safety; more than one instance at a time.
 */
#include "fuzz/faulty.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CLEAN_CALLS 3                 /* clean allocations before a fault */
#define FZ_TRACK 512                     /* blocks tracked at once */
#define FZ_PAGE 4096                     /* mini slab page */
#define FZ_PAGE_HEADER 32                /* bytes before the first block of a page */
#define FZ_SLAB_MAX 1024                 /* largest slab class */
#define FZ_CLASSES 7                     /* 16, 32, ..., 1024 */
#define FZ_MAGIC 0xC0FFEE00DEADBEEFull   /* the "large block" magic */
#define FZ_V1_HEAP 4096                  /* original V1's first sbrk */

typedef enum fz_kind {
  FZ_REAL,   /* inner block, user pointer == inner pointer */
  FZ_OFFSET, /* inner block, user pointer == inner pointer + 8 (misaligned) */
  FZ_FAKE,   /* an alias of another block: free is ignored */
  FZ_SLAB,   /* a block of the mini slab */
  FZ_LEAKED, /* a slab block lost down the "large" path */
} fz_kind_t;

typedef struct fz_block {
  uint8_t *user;  /* what the caller got; NULL: entry unused */
  uint8_t *inner; /* what to give back to inner (FZ_REAL/FZ_OFFSET) */
  size_t size;    /* requested */
  fz_kind_t kind;
} fz_block_t;

typedef struct fz_heap {
  void *inner;                       /* the wrapped instance */
  va_options_t opts;
  size_t mallocs;                    /* allocations served */
  bool injected;                     /* one-shot faults already fired */
  fz_block_t block[FZ_TRACK];
  uint8_t *last;                     /* V1: the most recent block */
  size_t v1_heap, v1_used;           /* V1: accounted heap and bytes in use */
  uint8_t *page[256];                /* V2: pages from inner */
  size_t npages;
  uint8_t *free_list[FZ_CLASSES][512]; /* V2: LIFO per class */
  size_t nfree[FZ_CLASSES];
} fz_heap_t;

static const va_allocator_t *fz_inner;
static va_fault_t fz_fault;
static va_allocator_t fz_table;

static const char *const fz_fault_names[VA_FAULT_KINDS] = {
    "none",         "overlap",        "same_twice",
    "realloc_loses", "misaligned",    "usable_lies",
    "v1_grow_alias", "v2_double_free", "v2_magic_spoof"};

const char *va_fault_name(va_fault_t f) {
  return f < VA_FAULT_KINDS ? fz_fault_names[f] : "?";
}

/* ---------------------------------------------------------------------------
 * Tracking.
 * ------------------------------------------------------------------------- */
static fz_block_t *fz_find(fz_heap_t *h, const void *user) {
  for (size_t i = 0; i < FZ_TRACK; i++)
    if (h->block[i].user == user && h->block[i].kind != FZ_LEAKED) return &h->block[i];
  return NULL;
}

static void *fz_track(fz_heap_t *h, uint8_t *user, uint8_t *inner, size_t size, fz_kind_t kind) {
  for (size_t i = 0; i < FZ_TRACK; i++)
    if (!h->block[i].user) {
      h->block[i] = (fz_block_t){user, inner, size, kind};
      h->mallocs++;
      if (kind != FZ_FAKE) h->last = user;
      return user;
    }
  return user; /* table full: untracked (tests stay far below FZ_TRACK) */
}

static fz_block_t *fz_latest_real(fz_heap_t *h, size_t min_usable) {
  fz_block_t *b = h->last ? fz_find(h, h->last) : NULL;
  if (b && b->kind == FZ_REAL && fz_inner->usable_size(h->inner, b->user) >= min_usable) return b;
  return NULL;
}

static bool fz_armed(const fz_heap_t *h, va_fault_t f) {
  return fz_fault == f && h->mallocs >= FZ_CLEAN_CALLS;
}

static size_t fz_round8(size_t n) { return n > SIZE_MAX - 40 ? SIZE_MAX / 2 : (n + 7) & ~(size_t)7; }

/* ---------------------------------------------------------------------------
 * The mini slab (V2 faults).
 * ------------------------------------------------------------------------- */
static bool fz_slab_mode(size_t n) {
  return (fz_fault == VA_FAULT_V2_DOUBLE_FREE || fz_fault == VA_FAULT_V2_MAGIC_SPOOF) &&
         n <= FZ_SLAB_MAX;
}

static unsigned fz_class(size_t n) {
  unsigned c = 0;
  while (((size_t)16 << c) < n) c++;
  return c;
}

static void *fz_slab_alloc(fz_heap_t *h, size_t n) {
  unsigned c = fz_class(n);
  size_t csize = (size_t)16 << c;
  if (h->nfree[c] == 0) { /* carve a fresh page, lowest address popped first */
    if (h->npages == 256) return NULL;
    uint8_t *pg = fz_inner->malloc(h->inner, FZ_PAGE);
    if (!pg) return NULL;
    memset(pg, 0, FZ_PAGE);
    h->page[h->npages++] = pg;
    size_t count = (FZ_PAGE - FZ_PAGE_HEADER) / csize;
    for (size_t i = count; i-- > 0;)
      h->free_list[c][h->nfree[c]++] = pg + FZ_PAGE_HEADER + i * csize;
  }
  uint8_t *p = h->free_list[c][--h->nfree[c]];
  return fz_track(h, p, NULL, n, FZ_SLAB);
}

static void fz_slab_free(fz_heap_t *h, fz_block_t *b) {
  uint64_t word;
  memcpy(&word, b->user - 16, sizeof word);
  if (fz_fault == VA_FAULT_V2_MAGIC_SPOOF && word == FZ_MAGIC) {
    b->kind = FZ_LEAKED; /* "munmap" of a block that is not a mapping: fails silently */
    return;
  }
  unsigned c = fz_class(b->size);
  uint8_t *p = b->user;
  b->user = NULL;
  if (h->nfree[c] < 511) h->free_list[c][h->nfree[c]++] = p;
  if (fz_armed(h, VA_FAULT_V2_DOUBLE_FREE) && !h->injected && h->nfree[c] < 511) {
    h->free_list[c][h->nfree[c]++] = p; /* the undetected double free */
    h->injected = true;
  }
}

/* ---------------------------------------------------------------------------
 * Entry points.
 * ------------------------------------------------------------------------- */
static void *fz_create(const va_options_t *opts) {
  fz_heap_t *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->opts = opts ? *opts : va_options_default();
  h->inner = fz_inner->create(opts);
  if (!h->inner) {
    free(h);
    return NULL;
  }
  h->v1_heap = FZ_V1_HEAP;
  h->v1_used = 16;
  return h;
}

static void fz_destroy(void *heap) {
  fz_heap_t *h = heap;
  for (size_t i = 0; i < h->npages; i++) fz_inner->free(h->inner, h->page[i]);
  fz_inner->destroy(h->inner);
  free(h);
}

/* V1_GROW_ALIAS: account the request in the 4096-byte heap; NULL when the
 * request fits or the last block is free (grow normally). `moving` is the
 * block a realloc is about to free: aliasing it would hand out memory that
 * is freed a moment later, a use-after-free the shadow cannot tell from the
 * bug modelled here (a live neighbour handed out again). */
static void *fz_v1_alias(fz_heap_t *h, size_t n, const void *moving) {
  size_t need = fz_round8(n) + 32;
  bool fits = h->v1_used + need <= h->v1_heap;
  fz_block_t *last = h->last ? fz_find(h, h->last) : NULL;
  h->v1_used += need;
  if (fits) return NULL;
  h->v1_heap = h->v1_used;
  if (!last || last->kind != FZ_REAL) return NULL; /* its own trigger: no warm-up */
  if (last->user == moving) return NULL;
  return fz_track(h, last->user, NULL, n, FZ_FAKE); /* "grown" and handed out again */
}

static void *fz_malloc_moving(fz_heap_t *h, size_t n, const void *moving) {
  fz_block_t *b;
  if (n > (size_t)PTRDIFF_MAX) return fz_inner->malloc(h->inner, n);
  if (fz_slab_mode(n)) return fz_slab_alloc(h, n);
  if (fz_armed(h, VA_FAULT_OVERLAP) && (b = fz_latest_real(h, 32)))
    return fz_track(h, b->user + 16, NULL, n, FZ_FAKE);
  if (fz_armed(h, VA_FAULT_SAME_TWICE) && (b = fz_latest_real(h, 0)))
    return fz_track(h, b->user, NULL, n, FZ_FAKE);
  if (fz_fault == VA_FAULT_V1_GROW_ALIAS) {
    void *alias = fz_v1_alias(h, n, moving);
    if (alias) return alias;
  }
  if (fz_armed(h, VA_FAULT_MISALIGNED) && n >= 16) {
    uint8_t *p = fz_inner->malloc(h->inner, n + 16);
    return p ? fz_track(h, p + 8, p, n, FZ_OFFSET) : NULL;
  }
  uint8_t *p = fz_inner->malloc(h->inner, n);
  return p ? fz_track(h, p, p, n, FZ_REAL) : NULL;
}

static void *fz_malloc(void *heap, size_t n) { return fz_malloc_moving(heap, n, NULL); }

static void fz_free(void *heap, void *ptr) {
  fz_heap_t *h = heap;
  if (!ptr) return;
  fz_block_t *b = fz_find(h, ptr);
  if (!b) {
    fz_inner->free(h->inner, ptr); /* not ours: let inner report it */
    return;
  }
  if (fz_fault == VA_FAULT_V1_GROW_ALIAS) {
    size_t give = fz_round8(b->size) + 32;
    h->v1_used -= give < h->v1_used ? give : h->v1_used - 16;
  }
  switch (b->kind) {
  case FZ_SLAB: fz_slab_free(h, b); return;
  case FZ_REAL:
  case FZ_OFFSET: fz_inner->free(h->inner, b->inner); break;
  default: break;
  }
  b->user = NULL;
}

static size_t fz_usable(void *heap, const void *ptr) {
  fz_heap_t *h = heap;
  fz_block_t *b = fz_find(h, ptr);
  size_t u;
  if (!b || b->kind == FZ_REAL) u = fz_inner->usable_size(h->inner, ptr);
  else if (b->kind == FZ_SLAB) u = (size_t)16 << fz_class(b->size);
  else if (b->kind == FZ_OFFSET) u = b->size;
  else u = b->size; /* FZ_FAKE: whatever was asked */
  if (fz_fault == VA_FAULT_USABLE_LIES && h->mallocs >= FZ_CLEAN_CALLS) u += 64;
  return u;
}

static void *fz_realloc(void *heap, void *ptr, size_t n) {
  fz_heap_t *h = heap;
  if (!ptr) return fz_malloc(heap, n);
  fz_block_t *b = fz_find(h, ptr);
  if (n > (size_t)PTRDIFF_MAX) return fz_inner->realloc(h->inner, NULL, n);
  if (b && b->kind == FZ_REAL && !fz_slab_mode(n) && fz_fault != VA_FAULT_V1_GROW_ALIAS) {
    size_t old = fz_inner->usable_size(h->inner, ptr);
    uint8_t *q = fz_inner->realloc(h->inner, ptr, n);
    if (!q) return NULL;
    b->user = b->inner = q, b->size = n;
    h->last = q;
    if (fz_armed(h, VA_FAULT_REALLOC_LOSES) && old && n) q[0] ^= 0xA5; /* a lost byte */
    return q;
  }
  /* Everything else: allocate, copy, free (no fault in the copy itself). */
  size_t old = fz_usable(heap, ptr);
  uint8_t *q = fz_malloc_moving(h, n ? n : 1, ptr);
  if (!q) return NULL;
  memcpy(q, ptr, old < n ? old : n);
  fz_free(heap, ptr);
  return q;
}

static void *fz_calloc(void *heap, size_t count, size_t size) {
  fz_heap_t *h = heap;
  uint8_t *p = fz_inner->calloc(h->inner, count, size);
  return p ? fz_track(h, p, p, count * size, FZ_REAL) : NULL;
}

static void *fz_memalign(void *heap, size_t align, size_t n) {
  fz_heap_t *h = heap;
  uint8_t *p = fz_inner->memalign(h->inner, align, n);
  return p ? fz_track(h, p, p, n, FZ_REAL) : NULL;
}

static bool fz_check(void *heap, va_report_t *r) {
  fz_heap_t *h = heap;
  return fz_inner->check(h->inner, r);
}

/* Empty: nothing tracked (a leaked block still counts), then inner's own. */
static bool fz_check_empty(void *heap, va_report_t *r) {
  fz_heap_t *h = heap;
  for (size_t i = 0; i < FZ_TRACK; i++)
    if (h->block[i].user && h->block[i].kind != FZ_FAKE) {
      r->invariant = "faulty.live_blocks";
      r->addr = h->block[i].user;
      strcpy(r->detail, "a block is still held after everything was freed");
      return false;
    }
  return fz_inner->check_empty ? fz_inner->check_empty(h->inner, r) : true;
}

const va_allocator_t *va_faulty(const va_allocator_t *inner, va_fault_t fault) {
  fz_inner = inner;
  fz_fault = fault;
  fz_table = (va_allocator_t){
      .name = "faulty",
      .create = fz_create,
      .destroy = fz_destroy,
      .malloc = fz_malloc,
      .free = fz_free,
      .realloc = fz_realloc,
      .calloc = fz_calloc,
      .memalign = inner->memalign ? fz_memalign : NULL,
      .usable_size = fz_usable,
      .check = inner->check ? fz_check : NULL,
      .stats = NULL,
      .check_empty = fz_check_empty,
  };
  return &fz_table;
}
