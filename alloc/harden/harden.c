/* vedalloc hardened layer (types.h: layout and invariants).
 *
 * Policy: the layer decides what a block looks like around the caller's
 * bytes and when it goes back; the inner allocator decides where blocks
 * are. Every entry point validates the pointer through the inner's
 * usable_size (which reports what is not a block, under this layer's
 * operation name), then the trailer (double free, damage), then the
 * canary.
 */
#include "alloc/harden/harden.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/harden/types.h"
#include "alloc/internal.h"

/* ---------------------------------------------------------------------------
 * Keys, checks, the random choice
 * ------------------------------------------------------------------------- */
static uint64_t hd_random(hd_heap_t *h) { /* xorshift64* */
  h->rng ^= h->rng >> 12, h->rng ^= h->rng << 25, h->rng ^= h->rng >> 27;
  return h->rng * 0x2545f4914f6cdd1dull;
}

/* The trailer of block p holding n bytes (guard: a guard page is set),
 * live or freed (types.h: the freed bit and the key both say which). */
static uint64_t hd_trailer(const hd_heap_t *h, bool freed, const uint8_t *p, size_t n,
                           bool guard) {
  uint64_t body = (uint64_t)n | (guard ? HD_GUARD_BIT : 0) | (freed ? HD_FREED_BIT : 0);
  uint64_t key = freed ? h->freed_key : h->live_key;
  uint64_t check = va_mix64(key ^ (uintptr_t)p ^ va_mix64(body)) >> (HD_N_BITS + 2);
  return body | check << (HD_N_BITS + 2);
}

/* The canary byte of block p: one multiply; the top bit set and never
 * 0xFF, so none of the fills overflows write most (0, ASCII, 0xFF) is it. */
static uint8_t hd_canary(const hd_heap_t *h, const uint8_t *p) {
  uint8_t c = (uint8_t)((((uintptr_t)p ^ h->live_key) * (h->freed_key | 1)) >> 56 | 0x80);
  return c == 0xFF ? 0xFE : c;
}

static uint64_t hd_load(const uint8_t *at) {
  uint64_t v;
  memcpy(&v, at, 8);
  return v;
}
static void hd_store(uint8_t *at, uint64_t v) { memcpy(at, &v, 8); }

/* ---------------------------------------------------------------------------
 * The block's frame: trailer, canary, guard page
 * ------------------------------------------------------------------------- */
typedef struct hd_block {
  uint8_t *p;
  size_t n, usable; /* the caller's bytes; the inner's usable size */
  bool guard;
} hd_block_t;

static uint8_t *hd_trailer_at(const hd_block_t *b) { return b->p + b->usable - HD_TRAILER; }
static bool hd_is_large(size_t n) { return n > HD_SMALL_MAX - HD_TRAILER; } /* no wrap */

/* The guard page: the first page boundary after the caller's bytes. */
static uint8_t *hd_guard_at(const hd_block_t *b) {
  return (uint8_t *)VA_ALIGN_UP((uintptr_t)(b->p + b->n), HD_PAGE);
}
/* Where the canary ends: the guard page (all of the last page, so any
 * overflow short of the guard is seen too), or the trailer, at most
 * HD_CANARY_MAX bytes on. */
static uint8_t *hd_canary_end(const hd_heap_t *h, const hd_block_t *b) {
  if (!(h->features & HD_F_CANARY)) return b->p + b->n;
  uint8_t *limit = hd_trailer_at(b), *page = hd_guard_at(b);
  if (b->guard || (hd_is_large(b->n) && page < limit)) return page; /* to the page end */
  uint8_t *most = b->p + b->n + HD_CANARY_MAX;
  return most < limit ? most : limit;
}

/* Write b's canary and live trailer (its guard page, if any, is set). */
static void hd_frame_write(const hd_heap_t *h, const hd_block_t *b) {
  memset(b->p + b->n, hd_canary(h, b->p), (size_t)(hd_canary_end(h, b) - (b->p + b->n)));
  hd_store(hd_trailer_at(b), hd_trailer(h, false, b->p, b->n, b->guard));
}

/* Lay the frame around fresh inner block p for n bytes. */
static void hd_frame(hd_heap_t *h, hd_block_t *b) {
  if ((h->features & HD_F_GUARD) && b->usable >= b->n + HD_TRAILER + 2 * HD_PAGE &&
      hd_is_large(b->n))
    b->guard = mprotect(hd_guard_at(b), HD_PAGE, PROT_NONE) == 0;
  hd_frame_write(h, b);
}

/* The first canary byte of b that is not the canary, or NULL. Eight bytes
 * at a time: a large block's canary runs to its page end, and realloc
 * growing a block by a few bytes at a time checks it on every call. */
static const uint8_t *hd_canary_broken(const hd_heap_t *h, const hd_block_t *b) {
  uint8_t c = hd_canary(h, b->p);
  uint64_t word = 0x0101010101010101ull * c;
  const uint8_t *q = b->p + b->n, *end = hd_canary_end(h, b);
  for (; q + 8 <= end && hd_load(q) == word; q += 8) {
  }
  for (; q < end; q++)
    if (*q != c) return q;
  return NULL;
}

/* Do [p, p + n) read zero (a freed block, as the quarantine keeps it)? */
static bool hd_reads_zero(const uint8_t *p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) acc |= hd_load(p + i);
  for (size_t i = n & ~(size_t)7; i < n; i++) acc |= p[i];
  return acc == 0;
}

static void hd_unguard(hd_block_t *b) {
  if (b->guard) mprotect(hd_guard_at(b), HD_PAGE, PROT_READ | PROT_WRITE);
}

/* Report on the caller's hook. */
static void hd_corrupt(hd_heap_t *h, const void *near, const char *check) {
  va_raise_corrupt(&h->opts, h->op, near, check);
}

typedef enum hd_state { HD_LIVE, HD_FREED, HD_DAMAGED } hd_state_t;

/* Inner block p of usable size u, its trailer read back into *b: live,
 * freed (quarantined, or a stale pointer), or damaged. */
static hd_state_t hd_read(const hd_heap_t *h, uint8_t *p, size_t u, hd_block_t *b) {
  *b = (hd_block_t){.p = p, .usable = u};
  if (u < HD_TRAILER) return HD_DAMAGED;
  uint64_t t = hd_load(hd_trailer_at(b));
  b->n = (size_t)(t & (HD_GUARD_BIT - 1));
  b->guard = (t & HD_GUARD_BIT) != 0;
  bool fits = b->n + HD_TRAILER <= u &&
              (!b->guard || hd_guard_at(b) + HD_PAGE <= hd_trailer_at(b));
  if (fits && t == hd_trailer(h, false, p, b->n, b->guard)) return HD_LIVE;
  if (fits && t == hd_trailer(h, true, p, b->n, b->guard)) return HD_FREED;
  return HD_DAMAGED;
}

/* Block p's frame read back: true when it is a live block of the layer
 * (*b filled); else reported (the inner's verdict, a double free, damage). */
static bool hd_block(hd_heap_t *h, const void *ptr, hd_block_t *b) {
  uint8_t *p = (uint8_t *)ptr;
  size_t u = h->in->usable_size(h->inner, p); /* misuse: reported there */
  if (u == 0) return false;
  switch (hd_read(h, p, u, b)) {
  case HD_FREED:
    va_raise(&h->opts, VA_ERR_DOUBLE_FREE, h->op, p);
    return false;
  case HD_DAMAGED:
    hd_corrupt(h, u < HD_TRAILER ? p : hd_trailer_at(b),
               "hardened hd.trailer: the bytes past a block are overwritten");
    return false;
  case HD_LIVE:
    break;
  }
  const uint8_t *broken = hd_canary_broken(h, b);
  if (broken != NULL) {
    hd_corrupt(h, broken, "hardened hd.canary: a block was written past its end");
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------------------
 * Zero-size blocks: slots of a PROT_NONE region
 * ------------------------------------------------------------------------- */
static bool hd_is_zero(const hd_heap_t *h, const void *p) {
  return (uintptr_t)p - (uintptr_t)h->zbase < HD_ZERO_SLOTS * 16;
}

static void *hd_zero_alloc(hd_heap_t *h) {
  for (size_t k = 0; k < HD_ZERO_SLOTS; k++) {
    size_t i = (h->zcursor + k) % HD_ZERO_SLOTS;
    if (h->zbits[i / 64] >> (i % 64) & 1) continue;
    h->zbits[i / 64] |= (uint64_t)1 << (i % 64);
    h->zcursor = i + 1, h->zlive++;
    return h->zbase + 16 * i;
  }
  return va_enomem();
}

/* 0 when p is a live zero-size block (then released if `release`). */
static va_error_kind_t hd_zero_take(hd_heap_t *h, const void *p, bool release) {
  size_t off = (size_t)((const uint8_t *)p - h->zbase), i = off / 16;
  if (off % 16) return VA_ERR_NOT_A_BLOCK;
  uint64_t bit = (uint64_t)1 << (i % 64);
  if (!(h->zbits[i / 64] & bit)) return VA_ERR_DOUBLE_FREE;
  if (release) h->zbits[i / 64] &= ~bit, h->zlive--;
  return 0;
}

/* ---------------------------------------------------------------------------
 * The quarantine
 * ------------------------------------------------------------------------- */
/* Entry e leaves: still zero, trailer freed, canary intact, then back to
 * the inner allocator. */
static void hd_release(hd_heap_t *h, hd_qentry_t e) {
  hd_block_t b = {.p = e.p, .n = e.n, .usable = e.usable};
  if ((h->features & HD_F_ZERO) && !hd_reads_zero(e.p, e.n))
    hd_corrupt(h, e.p, "hardened hd.quarantine: a freed block was written after its free");
  else if (hd_canary_broken(h, &b) != NULL ||
           hd_load(hd_trailer_at(&b)) != hd_trailer(h, true, e.p, e.n, false))
    hd_corrupt(h, e.p, "hardened hd.quarantine: a freed block's frame was overwritten");
  else
    h->in->free(h->inner, e.p);
}

/* The oldest entry but one of the HD_QUARANTINE_PICK oldest, chosen at
 * random, leaves the ring: the release order is random, and no block
 * stays much longer than the ring holds (a write after free is caught
 * within about HD_QUARANTINE + HD_QUARANTINE_PICK frees). */
static void hd_evict(hd_heap_t *h) {
  size_t window = h->qcount < HD_QUARANTINE_PICK ? h->qcount : HD_QUARANTINE_PICK;
  size_t head = h->qhead, r = (head + hd_random(h) % window) % HD_QUARANTINE;
  hd_qentry_t out = h->q[r];
  h->q[r] = h->q[head];
  h->qhead = (head + 1) % HD_QUARANTINE, h->qcount--;
  h->qbytes -= out.n;
  hd_release(h, out);
}

/* Freed block b is zeroed, marked freed and held; the oldest leave (one
 * of the oldest, at random) while the ring would exceed its bounds. */
static void hd_quarantine(hd_heap_t *h, const hd_block_t *b) {
  if (h->features & HD_F_ZERO) memset(b->p, 0, b->n);
  hd_store(hd_trailer_at(b), hd_trailer(h, true, b->p, b->n, false));
  while (h->qcount > 0 &&
         (h->qcount == HD_QUARANTINE || h->qbytes + b->n > HD_QUARANTINE_BYTES))
    hd_evict(h);
  h->q[(h->qhead + h->qcount++) % HD_QUARANTINE] = (hd_qentry_t){b->p, b->n, b->usable};
  h->qbytes += b->n;
}

/* ---------------------------------------------------------------------------
 * Entry points (calls: lock, name the op, unlock)
 * ------------------------------------------------------------------------- */
static void hd_enter(hd_heap_t *h, const char *op) {
  if (h->lock) pthread_mutex_lock(h->lock);
  h->op = op;
}
static void hd_leave(hd_heap_t *h) {
  if (h->lock) pthread_mutex_unlock(h->lock);
}

/* Bytes the layer asks for beyond the caller's n: the trailer, and for a
 * large block room for a guard page on its own page, or for a canary to
 * its last page's end. */
static size_t hd_extra(const hd_heap_t *h, size_t n) {
  if (!hd_is_large(n)) return HD_TRAILER;
  if (h->features & HD_F_GUARD) return HD_TRAILER + 2 * HD_PAGE;
  return h->features & HD_F_CANARY ? HD_TRAILER + HD_PAGE : HD_TRAILER;
}

/* A framed block of n bytes (align 0: the default), zeroed when the caller
 * asks (calloc) or HD_F_ZERO is on. */
static void *hd_alloc(hd_heap_t *h, size_t n, size_t align, bool zero) {
  if (n == 0 && align == 0 && (h->features & HD_F_ZERO_SIZE)) return hd_zero_alloc(h);
  size_t extra = hd_extra(h, n);
  zero = zero || (h->features & HD_F_ZERO) != 0;
  if (n > VA_MAX_REQUEST - extra || n >= HD_GUARD_BIT) return va_enomem();
  /* Zeroed by the inner calloc, which clears only memory it does not know
   * to be fresh (V2: a new mapping is not touched). */
  uint8_t *p;
  if (align == 0) {
    p = zero ? h->in->calloc(h->inner, 1, n + extra) : h->in->malloc(h->inner, n + extra);
  } else {
    p = h->in->memalign ? h->in->memalign(h->inner, align, n + extra) : va_enomem();
    if (p && zero) memset(p, 0, n);
  }
  if (p == NULL) return NULL;
  hd_block_t b = {.p = p, .n = n, .usable = h->in->usable_size(h->inner, p)};
  hd_frame(h, &b);
  return p;
}

/* Zero [p, p + n): whole pages by giving them back (they read zero, and
 * untouched pages of a large block are not faulted in to be cleared). */
static void hd_zero(uint8_t *p, size_t n) {
  if (n < 16 * HD_PAGE) { /* a syscall costs more than this memset */
    memset(p, 0, n);
    return;
  }
  uint8_t *lo = (uint8_t *)VA_ALIGN_UP((uintptr_t)p, HD_PAGE);
  uint8_t *hi = (uint8_t *)((uintptr_t)(p + n) & ~(uintptr_t)(HD_PAGE - 1));
  if (hi <= lo || madvise(lo, (size_t)(hi - lo), MADV_DONTNEED) != 0) {
    memset(p, 0, n);
    return;
  }
  memset(p, 0, (size_t)(lo - p));
  memset(hi, 0, (size_t)(p + n - hi));
}

/* Large block b resized to n (large) by the inner realloc, which may move
 * its pages without copying (V2: mremap) where a copy would fault in every
 * page: the old frame is lifted and cleared, the new one laid. NULL (b
 * untouched, guard put back) when the inner cannot. */
static void *hd_resize(hd_heap_t *h, hd_block_t *b, size_t n) {
  size_t extra = hd_extra(h, n);
  bool zero = (h->features & HD_F_ZERO) != 0;
  if (n > VA_MAX_REQUEST - extra || n >= HD_GUARD_BIT) return va_enomem();
  if (n + extra <= b->usable) { /* within its own block: the frame moves */
    uint8_t *old_guard = hd_guard_at(b);
    size_t old_n = b->n;
    b->n = n;
    if (b->guard && hd_guard_at(b) != old_guard) { /* a page boundary crossed */
      mprotect(old_guard, HD_PAGE, PROT_READ | PROT_WRITE);
      b->guard = mprotect(hd_guard_at(b), HD_PAGE, PROT_NONE) == 0;
    }
    if (n > old_n && zero) hd_zero(b->p + old_n, n - old_n); /* the old frame, now the caller's */
    hd_frame_write(h, b);
    return b->p;
  }
  hd_unguard(b);
  uint8_t *q = h->in->realloc(h->inner, b->p, n + extra);
  if (q == NULL) {
    if (b->guard) b->guard = mprotect(hd_guard_at(b), HD_PAGE, PROT_NONE) == 0;
    hd_frame_write(h, b); /* b untouched but for the guard bit */
    return NULL;
  }
  if (n > b->n && zero) hd_zero(q + b->n, n - b->n); /* the old frame, and what the inner added */
  hd_block_t nb = {.p = q, .n = n, .usable = h->in->usable_size(h->inner, q)};
  hd_frame(h, &nb);
  return q;
}

/* Free live block b (validated). */
static void hd_drop(hd_heap_t *h, hd_block_t *b) {
  if (!b->guard && !hd_is_large(b->n) && (h->features & HD_F_QUARANTINE)) {
    hd_quarantine(h, b);
    return;
  }
  hd_unguard(b);
  if (h->features & HD_F_ZERO) hd_zero(b->p, b->n); /* a stale pointer reads zero */
  h->in->free(h->inner, b->p);
}

void *hd_malloc(void *heap, size_t n) {
  hd_heap_t *h = heap;
  hd_enter(h, "malloc");
  void *p = hd_alloc(h, n, 0, false);
  hd_leave(h);
  return p;
}

void *hd_calloc(void *heap, size_t count, size_t size) {
  size_t n;
  if (!va_mul_ok(count, size, &n)) return va_enomem();
  hd_heap_t *h = heap;
  hd_enter(h, "calloc");
  void *p = hd_alloc(h, n, 0, true);
  hd_leave(h);
  return p;
}

void *hd_memalign(void *heap, size_t alignment, size_t n) {
  hd_heap_t *h = heap;
  hd_enter(h, "memalign");
  void *p = hd_alloc(h, n, alignment > VA_ALIGNMENT ? alignment : 0, false);
  hd_leave(h);
  return p;
}

void hd_free(void *heap, void *p) {
  hd_heap_t *h = heap;
  if (p == NULL) return;
  hd_enter(h, "free");
  hd_block_t b;
  va_error_kind_t bad;
  if (hd_is_zero(h, p)) {
    if ((bad = hd_zero_take(h, p, true)) != 0) va_raise(&h->opts, bad, "free", p);
  } else if (hd_block(h, p, &b)) {
    hd_drop(h, &b);
  }
  hd_leave(h);
}

void *hd_realloc(void *heap, void *p, size_t n) {
  hd_heap_t *h = heap;
  if (p == NULL) return hd_malloc(h, n);
  hd_enter(h, "realloc");
  hd_block_t b = {0};
  va_error_kind_t bad = 0;
  bool zero = hd_is_zero(h, p);
  if (zero ? (bad = hd_zero_take(h, p, false)) != 0 : !hd_block(h, p, &b)) {
    if (bad) va_raise(&h->opts, bad, "realloc", p);
    hd_leave(h);
    errno = EINVAL;
    return NULL;
  }
  void *q;
  if (!zero && !hd_is_large(b.n) && !hd_is_large(n) && n != 0 && n + HD_TRAILER <= b.usable) {
    if (n > b.n && (h->features & HD_F_ZERO)) memset(b.p + b.n, 0, n - b.n); /* the old canary */
    b.n = n;
    hd_frame(h, &b); /* in place: the frame moves */
    q = b.p;
  } else if (!zero && hd_is_large(b.n) && hd_is_large(n)) {
    q = hd_resize(h, &b, n); /* the inner moves it, or not at all */
  } else if ((q = hd_alloc(h, n, 0, false)) != NULL) {
    memcpy(q, p, b.n < n ? b.n : n);
    if (zero) hd_zero_take(h, p, true);
    else hd_drop(h, &b);
  }
  hd_leave(h);
  return q;
}

size_t hd_usable_size(void *heap, const void *p) {
  hd_heap_t *h = heap;
  if (p == NULL) return 0;
  hd_enter(h, "usable_size");
  hd_block_t b = {0};
  va_error_kind_t bad = 0;
  if (hd_is_zero(h, p)) {
    if ((bad = hd_zero_take(h, p, false)) != 0) va_raise(&h->opts, bad, "usable_size", p);
  } else if (!hd_block(h, p, &b)) {
    b.n = 0;
  }
  hd_leave(h);
  return b.n;
}

/* ---------------------------------------------------------------------------
 * Life cycle, checker, statistics
 * ------------------------------------------------------------------------- */
void hd_inner_hook(void *ctx, va_error_kind_t kind, const char *op, const void *ptr,
                   const char *message) {
  hd_heap_t *h = ctx;
  (void)op;
  va_error_fn fn = h->opts.on_error ? h->opts.on_error : va_error_default;
  fn(h->opts.error_ctx, kind, h->op ? h->op : op, ptr, message);
}

hd_heap_t *hd_new(const va_options_t *opts, pthread_mutex_t *lock) {
  size_t zbits = HD_ZERO_SLOTS / 8;
  size_t bytes = VA_ALIGN_UP(sizeof(hd_heap_t), HD_PAGE) + zbits;
  uint8_t *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return va_enomem();
  void *z = mmap(NULL, HD_ZERO_SLOTS * 16, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (z == MAP_FAILED) {
    munmap(m, bytes);
    return va_enomem();
  }
  hd_heap_t *h = (hd_heap_t *)m;
  h->magic = HD_HEAP_MAGIC;
  h->opts = opts ? *opts : va_options_default();
  h->lock = lock;
  h->zbase = z;
  h->zbits = (uint64_t *)(m + VA_ALIGN_UP(sizeof(hd_heap_t), HD_PAGE));
  uint64_t seed = va_seed(h->opts.seed, h);
  h->live_key = va_mix64(seed ^ 0x6c697665), h->freed_key = va_mix64(seed ^ 0x66726565);
  h->rng = va_mix64(seed) | 1;
  return h;
}

void hd_attach(hd_heap_t *h, const va_allocator_t *in, void *inner, bool owns,
               unsigned features) {
  h->in = in, h->inner = inner, h->owns_inner = owns, h->features = features & HD_F_ALL;
}

void hd_sweep(void *heap) {
  hd_heap_t *h = heap;
  hd_enter(h, "free");
  for (size_t i = 0; (h->features & HD_F_ZERO) && i < h->qcount; i++) {
    hd_qentry_t e = h->q[(h->qhead + i) % HD_QUARANTINE];
    if (!hd_reads_zero(e.p, e.n)) {
      hd_corrupt(h, e.p, "hardened hd.quarantine: a freed block was written after its free");
      break;
    }
  }
  hd_leave(h);
}

/* Every quarantined block leaves (checked). */
static void hd_flush(hd_heap_t *h) {
  while (h->qcount > 0) hd_evict(h);
}

void hd_destroy(void *heap) {
  hd_heap_t *h = heap;
  if (h == NULL) return;
  if (h->owns_inner) h->in->destroy(h->inner);
  munmap(h->zbase, HD_ZERO_SLOTS * 16);
  munmap(h, VA_ALIGN_UP(sizeof(hd_heap_t), HD_PAGE) + HD_ZERO_SLOTS / 8);
}

/* hd.live, over the inner's walk: the first live inner block that is not
 * a sound block of the layer, and the freed (quarantined) ones. */
typedef struct hd_walk {
  const hd_heap_t *h;
  size_t freed;
  const void *bad;
  const char *why;
} hd_walk_t;

static void hd_walk_block(void *ctx, const va_region_t *r) {
  hd_walk_t *w = ctx;
  if (r->kind != VA_REGION_LIVE || w->bad) return;
  hd_block_t b;
  hd_state_t s = hd_read(w->h, (uint8_t *)r->addr, r->size, &b);
  w->freed += s == HD_FREED;
  if (s == HD_DAMAGED) w->bad = r->addr, w->why = "has a damaged trailer";
  if (s == HD_LIVE && (w->bad = hd_canary_broken(w->h, &b)) != NULL)
    w->why = "was written past its end (canary)";
}

static bool hd_check_live(const hd_heap_t *h, va_report_t *r) {
  if (!h->in->walk) return true;
  hd_walk_t w = {.h = h};
  h->in->walk(h->inner, hd_walk_block, &w);
  if (w.bad) return va_fail(r, "hd.live", w.bad, "a live block %s", w.why);
  if (w.freed != h->qcount)
    return va_fail(r, "hd.live", h, "%zu freed blocks still held by the inner, %zu quarantined",
                   w.freed, h->qcount);
  return true;
}

bool hd_check(void *heap, va_report_t *r) {
  hd_heap_t *h = heap;
  if (h->in->check && !h->in->check(h->inner, r)) return false;
  if (!hd_check_live(h, r)) return false;
  size_t bytes = 0, z = 0;
  for (size_t i = 0; i < h->qcount; i++) {
    hd_qentry_t e = h->q[(h->qhead + i) % HD_QUARANTINE];
    hd_block_t b = {.p = e.p, .n = e.n, .usable = e.usable};
    bool zero = !(h->features & HD_F_ZERO) || hd_reads_zero(e.p, e.n);
    if (!zero || b.usable < e.n + HD_TRAILER ||
        hd_load(hd_trailer_at(&b)) != hd_trailer(h, true, e.p, e.n, false))
      return va_fail(r, "hd.quarantine", e.p, "quarantined block of %zu bytes %s", e.n,
                     zero ? "has a damaged trailer" : "was written after its free");
    bytes += e.n;
  }
  if (h->qcount > HD_QUARANTINE || bytes != h->qbytes || bytes > HD_QUARANTINE_BYTES)
    return va_fail(r, "hd.quarantine", h, "%zu blocks, %zu bytes counted as %zu", h->qcount,
                   bytes, h->qbytes);
  for (size_t w = 0; w < HD_ZERO_SLOTS / 64; w++) z += (size_t)__builtin_popcountll(h->zbits[w]);
  if (z != h->zlive)
    return va_fail(r, "hd.zero", h, "%zu zero-size slots set, %zu live", z, h->zlive);
  return va_pass(r);
}

/* Empty: nothing live but the quarantine, which is let go (checked) first. */
bool hd_check_empty(void *heap, va_report_t *r) {
  hd_heap_t *h = heap;
  if (!hd_check(h, r)) return false;
  h->op = "free";
  hd_flush(h);
  if (h->zlive != 0) return va_fail(r, "hd.zero", h, "%zu zero-size blocks live", h->zlive);
  return h->in->check_empty ? h->in->check_empty(h->inner, r) : va_pass(r);
}

void hd_stats(void *heap, va_stats_t *s) {
  hd_heap_t *h = heap;
  memset(s, 0, sizeof *s);
  if (h->in->stats) h->in->stats(h->inner, s);
  s->live_blocks = s->live_blocks - h->qcount + h->zlive; /* quarantined: not live */
}

/* ---------------------------------------------------------------------------
 * An instance over an inner allocator's instance of its own
 * ------------------------------------------------------------------------- */
void *hd_create(const va_allocator_t *in, const va_options_t *opts, unsigned features) {
  hd_heap_t *h = hd_new(opts, NULL);
  if (h == NULL) return NULL;
  va_options_t o = h->opts;
  o.on_error = hd_inner_hook, o.error_ctx = h;
  void *inner = in->create(&o);
  if (inner == NULL) {
    int e = errno;
    hd_destroy(h);
    errno = e;
    return NULL;
  }
  hd_attach(h, in, inner, true, features);
  return h;
}

/* ---------------------------------------------------------------------------
 * Features by name (VEDALLOC_HARDEN)
 * ------------------------------------------------------------------------- */
static const struct {
  const char *name;
  unsigned bits;
} hd_feature_names[] = {
    {"1", HD_F_ALL},         {"all", HD_F_ALL},   {"trailer", 0},
    {"canary", HD_F_CANARY}, {"guard", HD_F_GUARD}, {"zero", HD_F_ZERO},
    {"quarantine", HD_F_QUARANTINE}, {"zero-size", HD_F_ZERO_SIZE},
};

bool hd_features_parse(const char *v, unsigned *features) {
  unsigned bits = 0;
  if (v == NULL || *v == '\0') return false;
  for (const char *p = v;;) {
    size_t len = strcspn(p, ",");
    size_t i = 0, n = sizeof hd_feature_names / sizeof hd_feature_names[0];
    while (i < n && !(strlen(hd_feature_names[i].name) == len &&
                      strncmp(hd_feature_names[i].name, p, len) == 0))
      i++;
    if (i == n) return false;
    bits |= hd_feature_names[i].bits;
    if (p[len] == '\0') break;
    p += len + 1;
  }
  *features = bits;
  return true;
}
