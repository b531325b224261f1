/* vedalloc drop-in — the thread protocol: one V2 heap per thread, remote
 * frees, a pool of heaps.
 *
 * Policy. Each thread allocates from its own V2 instance (a vm_heap_t in
 * the thread's slot: TLS in the process, a virtual thread's slot in the
 * harness), so malloc and a free of one's own block take no lock and touch
 * no shared line but the heap's remote queue head (one relaxed load). A
 * block freed by another thread is marked in its page's remote-free words
 * (sl_remote_free: one atomic OR on the page's line, and one CAS on the
 * owner's queue only for the first block of each 63-block word until the
 * owner drains it), never written into; the owner takes them all back when
 * its free, or an allocation slow path of V2 (slab.c), sees the queue
 * non-empty: not on every malloc, so a word stays queued while blocks
 * gather in it, and the queue's line is written once per word per batch,
 * not once per block (the bounce that made producer/consumer programs
 * slow). A free looks first, so that a block freed remotely and then by
 * its holder is a double free at once. A block freed twice by other
 * threads, or freed remotely while free, is reported by the thread that
 * does it, at once. The owner of a block is found from any thread through
 * the pool's shared map (chunk -> header -> heap -> its vm_heap_t).
 *
 * Heap states (vm_heaps.h), changed only by CAS or by the holder:
 *   OWNED      held by one live thread; only it touches the V2 instance
 *   ABANDONED  its thread exited: drained, trimmed (empty pages and the
 *              large cache given back); live blocks in it stay valid. The
 *              next new thread adopts it (CAS -> OWNED); meanwhile a thread
 *              that pushes a remote free onto it borrows it (CAS -> BUSY),
 *              drains it and puts it back, so that memory is reused.
 *   BUSY       borrowed for a drain
 *   CLAIMED    busy, and a new thread waits to adopt it: the borrower hands
 *              it over (-> OWNED) instead of putting it back. So a thread
 *              that starts while another borrows the only abandoned heap
 *              adopts that heap rather than making one, and the heap count
 *              stays at most the peak number of live threads.
 *   LOST       (fork child only) held by a thread that does not exist in
 *              the child: never touched again, its memory leaks, never
 *              corrupts; frees into it just wait in its remote words.
 * Exit vs. remote free (Dekker, all seq_cst): the exiting thread stores
 * ABANDONED then reads the queue; a freeing thread queues then reads the
 * state. One of the two sees the other, so no block is stranded.
 *
 * Pool. Heaps live in a push-only list (never freed while the pool lives)
 * carved from 64 KiB mappings under the pool's mutex; adoption scans the
 * list with CASes. The mutex is the only lock, taken when a thread creates
 * a heap (and by fork, in the process pool).
 *
 * Costs: malloc = slot load + V2's fast path inlined (alloc/slab/fast.h);
 * free of an own block = the slot, the remote-queue test + V2's free
 * fast path, inlined the same way; a remote free = shared-map lookup (2
 * loads) + header reads + the block's first word + one atomic OR (+ one
 * CAS per word and drain).
 * Non-goals: returning an idle thread's pages to other threads (only an
 * exiting thread's), per-CPU caches, NUMA.
 */
#include "alloc/malloc/vm_heaps.h"

#include <sched.h>
#include <string.h>

#define VM_POOL_CHUNK (64u << 10) /* heaps are carved from mappings this big */

/* ---------------------------------------------------------------------------
 * Misuse found outside any heap's instance
 * ------------------------------------------------------------------------- */
static void vm_raise(const vm_pool_t *pool, va_error_kind_t kind, const char *op,
                     const void *p) {
  va_options_t o = va_options_default();
  o.on_error = pool->on_error;
  o.error_ctx = pool->error_ctx;
  const void *hdr = NULL;
  const char *why = kind == VA_ERR_CORRUPTION ? sl_shared_fault(pool->map, p, &hdr) : NULL;
  if (why) va_raise_corrupt(&o, op, hdr, why);
  else va_raise(&o, kind, op, p);
}

/* ---------------------------------------------------------------------------
 * Remote frees
 * ------------------------------------------------------------------------- */
static bool vm_heap_pending(const vm_heap_t *vh) { return sl_remote_pending(vh->sl); }

/* Take back every block other threads freed into vh (caller holds vh). */
static void vm_heap_drain(vm_heap_t *vh) { sl_remote_drain(vh->sl); }

/* Drain an abandoned heap on behalf of its absent owner, until no freeing
 * thread can have missed us (see the Dekker note above). */
static void vm_heap_borrow(vm_pool_t *pool, vm_heap_t *vh) {
  int expect = VM_HEAP_ABANDONED;
  while (atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_BUSY)) {
    vm_heap_drain(vh);
    if (VA_UNLIKELY(pool->borrowing != NULL)) pool->borrowing(pool, vh);
    sl_heap_trim(vh->sl); /* no owner to reuse it: pages it emptied go back now */
    expect = VM_HEAP_BUSY;
    if (!atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_ABANDONED)) {
      atomic_store(&vh->state, VM_HEAP_OWNED); /* CLAIMED: hand it over */
      return;
    }
    if (!vm_heap_pending(vh)) return;
    expect = VM_HEAP_ABANDONED;
  }
}

/* p is not a block of the caller's heap (mine, or NULL): hand it to the
 * heap that holds it (borrowing that heap if nobody does), or report what
 * is wrong with it. */
static void vm_remote_free(vm_pool_t *pool, vm_heap_t *mine, void *p, const char *op) {
  va_error_kind_t bad;
  vm_heap_t *owner = sl_remote_free(pool->map, p, &bad);
  if (bad == VA_ERR_INVALID_FREE && mine != NULL) bad = sl_unheld_kind(mine->sl, p);
  if (bad) {
    vm_raise(pool, bad, op, p);
    return;
  }
  if (VA_UNLIKELY(atomic_load(&owner->state) == VM_HEAP_ABANDONED))
    vm_heap_borrow(pool, owner);
}

/* ---------------------------------------------------------------------------
 * The pool: adopt an abandoned heap, else make one
 * ------------------------------------------------------------------------- */
void vm_pool_init(vm_pool_t *pool, const va_options_t *heap_opts, sl_shared_map_t *map,
                  sl_source_t *src) {
  memset(pool, 0, sizeof *pool);
  pthread_mutex_init(&pool->mutex, NULL);
  pool->map = map;
  pool->src = src;
  pool->heap_opts = *heap_opts;
  pool->on_error = heap_opts->on_error;
  pool->error_ctx = heap_opts->error_ctx;
}

/* An abandoned heap, now ours; else a borrowed one, claimed and waited
 * for (its borrower hands it over after one drain); else NULL. */
static vm_heap_t *vm_heap_adopt(vm_pool_t *pool) {
  for (;;) {
    vm_heap_t *busy = NULL;
    for (vm_heap_t *vh = atomic_load_explicit(&pool->heaps, memory_order_acquire); vh;
         vh = vh->next) {
      int s = atomic_load_explicit(&vh->state, memory_order_relaxed);
      if (s == VM_HEAP_BUSY) busy = vh;
      int expect = VM_HEAP_ABANDONED;
      if (s == expect && atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_OWNED)) {
        vm_heap_drain(vh);
        return vh;
      }
    }
    if (busy == NULL) return NULL;
    int expect = VM_HEAP_BUSY;
    if (!atomic_compare_exchange_strong(&busy->state, &expect, VM_HEAP_CLAIMED))
      continue; /* put back or claimed meanwhile: look again */
    while (atomic_load(&busy->state) == VM_HEAP_CLAIMED) sched_yield();
    vm_heap_drain(busy);
    return busy;
  }
}

/* A fresh heap (slot from the carve mapping, V2 instance). Under the mutex. */
static vm_heap_t *vm_heap_create(vm_pool_t *pool) {
  if (pool->carve == pool->carve_end) {
    vm_heap_t *m = sl_os_map(pool->src, VM_POOL_CHUNK, VM_POOL_CHUNK, NULL);
    if (m == NULL) return NULL;
    *(void **)m = pool->chunks; /* slot 0 links the chunks */
    pool->chunks = m;
    pool->carve = m + 1;
    pool->carve_end = m + VM_POOL_CHUNK / sizeof(vm_heap_t);
  }
  vm_heap_t *vh = pool->carve;
  vh->sl = sl_heap_create_in(&pool->heap_opts, pool->src);
  if (vh->sl == NULL) return NULL;
  sl_heap_share(vh->sl, pool->map, vh); /* cannot fail: the heap is empty */
  pool->carve++;
  atomic_store_explicit(&vh->state, VM_HEAP_OWNED, memory_order_relaxed);
  vh->next = atomic_load_explicit(&pool->heaps, memory_order_relaxed);
  atomic_store_explicit(&pool->heaps, vh, memory_order_release);
  atomic_fetch_add_explicit(&pool->count, 1, memory_order_relaxed);
  return vh;
}

/* The thread of `self` gets a heap: adopted, else new. */
static __attribute__((noinline)) vm_heap_t *vm_attach(vm_pool_t *pool,
                                                      vm_slot_t *self) {
  vm_heap_t *vh = vm_heap_adopt(pool);
  if (vh == NULL) {
    pthread_mutex_lock(&pool->mutex);
    vh = vm_heap_create(pool);
    pthread_mutex_unlock(&pool->mutex);
    if (vh == NULL) return NULL;
  }
  *self = (vm_slot_t){.vh = vh, .sl = vh->sl}; /* before anything that may allocate */
  if (pool->attached) pool->attached(pool, vh);
  return vh;
}

/* A trim another thread asked for (malloc_trim), done by the holder. */
static void vm_heap_trim_asked(vm_heap_t *vh) {
  if (VA_UNLIKELY(atomic_load_explicit(&vh->trim, memory_order_relaxed)) &&
      atomic_exchange(&vh->trim, false))
    sl_heap_trim(vh->sl);
}

/* This thread's heap, with what others freed into it collected. */
static vm_heap_t *vm_heap_mine(vm_pool_t *pool, vm_slot_t *self) {
  vm_heap_t *vh = self->vh;
  if (VA_UNLIKELY(vh == NULL)) return vm_attach(pool, self);
  if (VA_UNLIKELY(vm_heap_pending(vh))) vm_heap_drain(vh);
  vm_heap_trim_asked(vh);
  return vh;
}

void vm_detach(vm_pool_t *pool, vm_slot_t *self) {
  vm_heap_t *vh = self->vh;
  *self = (vm_slot_t){0};
  if (vh == NULL) return;
  vm_heap_drain(vh);
  sl_heap_trim(vh->sl);
  atomic_store(&vh->state, VM_HEAP_ABANDONED);
  if (vm_heap_pending(vh)) vm_heap_borrow(pool, vh);
}

void vm_pool_fork_child(vm_pool_t *pool, vm_heap_t *keep) {
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next) {
    int s = atomic_load(&vh->state);
    if (vh != keep && (s == VM_HEAP_OWNED || s == VM_HEAP_BUSY || s == VM_HEAP_CLAIMED))
      atomic_store(&vh->state, VM_HEAP_LOST);
  }
  pthread_mutex_init(&pool->mutex, NULL);
}

void vm_pool_destroy(vm_pool_t *pool) {
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next)
    sl_allocator.destroy(vh->sl);
  /* Cleared, the carve mappings go back as zero: a region (the harness's)
   * then hands them out again without clearing 64 KiB, or a fresh chunk. */
  for (vm_heap_t *c = pool->chunks; c;) {
    vm_heap_t *next = *(void **)c;
    vm_heap_t *end = c == pool->chunks ? pool->carve : c + VM_POOL_CHUNK / sizeof(vm_heap_t);
    memset(c, 0, (size_t)((uint8_t *)end - (uint8_t *)c)); /* the slots carved */
    sl_os_unmap_zero(pool->src, c, VM_POOL_CHUNK);
    c = next;
  }
  pthread_mutex_destroy(&pool->mutex);
}

/* ---------------------------------------------------------------------------
 * The calls (vm_heaps.h)
 * ------------------------------------------------------------------------- */
/* malloc off the fast path: no heap yet, or remote frees to collect. Out
 * of line so the fast path saves no registers (it ends in a tail jump). */
__attribute__((noinline)) void *vm_malloc_slow(vm_pool_t *pool, vm_slot_t *self,
                                               size_t n) {
  vm_heap_t *vh = vm_heap_mine(pool, self);
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_malloc_fast(vh->sl, n);
}

void *vm_calloc_in(vm_pool_t *pool, vm_slot_t *self, size_t n) {
  vm_heap_t *vh = vm_heap_mine(pool, self);
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_calloc(vh->sl, 1, n);
}

void *vm_memalign_in(vm_pool_t *pool, vm_slot_t *self, size_t align, size_t n) {
  vm_heap_t *vh = vm_heap_mine(pool, self);
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_memalign(vh->sl, align, n);
}

/* free off the fast path: remote frees to take back first, then our own
 * block (V2's slow paths and misuse reports), else another heap's. */
__attribute__((noinline)) void vm_free_slow(vm_pool_t *pool, vm_heap_t *mine,
                                            void *p) {
  if (mine != NULL) {
    if (vm_heap_pending(mine)) vm_heap_drain(mine);
    vm_heap_trim_asked(mine);
    if (sl_free_fast(mine->sl, p)) return;
  }
  vm_remote_free(pool, mine, p, "free");
}

void *vm_realloc_slow(vm_pool_t *pool, vm_slot_t *self, void *p, size_t n) {
  vm_heap_t *vh = vm_heap_mine(pool, self);
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  /* The caller's own block, to resize or move (or misuse of it), goes
   * straight to V2, which checks it: the shared map's remote-side checks
   * would check the same header a second time. */
  void *mine = sl_map_get(vh->sl, p);
  if (mine != NULL) return sl_realloc_in(vh->sl, mine, p, n);
  size_t usable = 0;
  va_error_kind_t bad;
  sl_shared_owner(pool->map, p, &usable, &bad); /* not ours: h's map has p's chunk otherwise */
  if (bad == VA_ERR_INVALID_FREE) bad = sl_unheld_kind(vh->sl, p);
  if (bad) { /* nobody's, not a block, or free: reported, p untouched */
    vm_raise(pool, bad, "realloc", p);
    errno = EINVAL;
    return NULL;
  }
  /* Another heap's block: keep it when the size still fits it snugly
   * (nothing of the owner's changes), else move it into ours. */
  if (n <= usable && n >= usable / 2) return p;
  void *q = sl_malloc_fast(vh->sl, n);
  if (q == NULL) return NULL;
  memcpy(q, p, n < usable ? n : usable);
  vm_remote_free(pool, vh, p, "realloc");
  return q;
}

size_t vm_usable_in(vm_pool_t *pool, vm_slot_t *self, const void *p) {
  vm_heap_t *vh = self->vh;
  /* The caller's own block (the common case: the hardened layer asks of
   * every block it frees) without the shared map's remote-side checks. */
  if (vh != NULL && sl_map_get(vh->sl, p) != NULL) return sl_allocator.usable_size(vh->sl, p);
  size_t usable = 0;
  va_error_kind_t bad;
  sl_shared_owner(pool->map, p, &usable, &bad); /* not ours, as above */
  if (bad == VA_ERR_INVALID_FREE && vh != NULL) bad = sl_unheld_kind(vh->sl, p);
  if (bad) vm_raise(pool, bad, "usable_size", p);
  return usable;
}

/* ---------------------------------------------------------------------------
 * Introspection and the checker
 *   vm.count      count == the length of the heap list
 *   vm.state      every heap is in a known state
 *   vm.abandoned  an abandoned heap has no remote frees pending (a remote
 *                 free into it borrows and drains it)
 *   vm.remote     (empty check) no heap has remote frees pending
 * plus every heap's own V2 invariants ("sl.*", the remote-free words and
 * queue among them: "sl.remote").
 * ------------------------------------------------------------------------- */
size_t vm_pool_heap_count(const vm_pool_t *pool) {
  return atomic_load_explicit(&pool->count, memory_order_relaxed);
}

/* An abandoned heap was trimmed (detach and borrow both trim last): what
 * it still keeps that a trim gives back, or NULL. */
static const char *vm_heap_untrimmed(vm_heap_t *vh) {
  sl_census_t c;
  sl_heap_census(vh->sl, &c);
  if (c.idle_pages[0] || c.idle_pages[1]) return "idle pages";
  if (c.large_cached) return "cached large mappings";
  for (size_t k = 0; k < SL_CENSUS_CLASSES; k++)
    if (c.class_reserve[k] || c.head_empty[k]) return "empty pages of a class";
  return NULL;
}

/* Every heap of the pool checked once: with sl_check_empty when `empty`
 * (which runs sl_check first), else sl_check. */
static bool vm_pool_walk(vm_pool_t *pool, bool empty, va_report_t *r) {
  size_t n = 0, count = vm_pool_heap_count(pool);
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next) {
    if (++n > count) return va_fail(r, "vm.count", vh, "more heaps listed than %zu", count);
    int s = atomic_load(&vh->state);
    if (s < VM_HEAP_OWNED || s > VM_HEAP_LOST)
      return va_fail(r, "vm.state", vh, "heap in state %d", s);
    if (!(empty ? sl_check_empty(vh->sl, r) : sl_check(vh->sl, r))) return false;
    if (s == VM_HEAP_ABANDONED && vm_heap_pending(vh))
      return va_fail(r, "vm.abandoned", vh, "abandoned heap with remote frees pending");
    const char *kept = s == VM_HEAP_ABANDONED ? vm_heap_untrimmed(vh) : NULL;
    if (kept) return va_fail(r, "vm.trimmed", vh, "abandoned heap still keeps %s", kept);
    if (empty && vm_heap_pending(vh))
      return va_fail(r, "vm.remote", vh, "remote frees pending in an empty pool");
  }
  if (n != count) return va_fail(r, "vm.count", pool, "%zu heaps listed, count %zu", n, count);
  return va_pass(r);
}

bool vm_pool_check(vm_pool_t *pool, va_report_t *r) { return vm_pool_walk(pool, false, r); }

bool vm_pool_check_empty(vm_pool_t *pool, va_report_t *r) { return vm_pool_walk(pool, true, r); }

void vm_pool_stats(vm_pool_t *pool, va_stats_t *st) {
  va_stats_t sum = {0};
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next) {
    va_stats_t s;
    sl_stats(vh->sl, &s);
    sum.footprint += s.footprint;
    sum.peak_footprint += s.peak_footprint;
    sum.live_bytes += s.live_bytes;
    sum.live_blocks += s.live_blocks;
    sum.free_bytes += s.free_bytes;
    sum.free_blocks += s.free_blocks;
    if (s.largest_free > sum.largest_free) sum.largest_free = s.largest_free;
    sum.pages += s.pages;
    sum.large_mappings += s.large_mappings;
  }
  *st = sum;
}

/* ---------------------------------------------------------------------------
 * Introspection while threads run (malloc_info, malloc_trim, ...)
 * ------------------------------------------------------------------------- */
/* fn(vh, ctx) with vh held by the caller: its own heap as it is, an
 * abandoned one borrowed (BUSY) and handed back after, to an adopter that
 * came meanwhile, or drained if frees arrived (as vm_heap_borrow). False:
 * another live thread holds vh. */
static bool vm_heap_visit(vm_pool_t *pool, vm_heap_t *self, vm_heap_t *vh,
                          void (*fn)(vm_heap_t *, void *), void *ctx) {
  if (vh == self) {
    fn(vh, ctx);
    return true;
  }
  int expect = VM_HEAP_ABANDONED;
  if (!atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_BUSY)) return false;
  fn(vh, ctx);
  expect = VM_HEAP_BUSY;
  if (!atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_ABANDONED))
    atomic_store(&vh->state, VM_HEAP_OWNED); /* CLAIMED: hand it over */
  else if (vm_heap_pending(vh))
    vm_heap_borrow(pool, vh);
  return true;
}

typedef struct vm_walk_ctx {
  va_walk_fn fn;
  void *ctx;
} vm_walk_ctx_t;

static void vm_heap_walk_one(vm_heap_t *vh, void *ctx) {
  vm_walk_ctx_t *w = ctx;
  sl_walk(vh->sl, w->fn, w->ctx);
}

void vm_pool_walk_regions(vm_pool_t *pool, vm_heap_t *self, va_walk_fn fn, void *ctx,
                          size_t *unseen, size_t *unseen_bytes) {
  vm_walk_ctx_t w = {fn, ctx};
  *unseen = *unseen_bytes = 0;
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next) {
    if (atomic_load(&vh->state) == VM_HEAP_LOST) continue; /* a fork child's dead heap */
    if (!vm_heap_visit(pool, self, vh, vm_heap_walk_one, &w)) {
      (*unseen)++;
      *unseen_bytes += __atomic_load_n(&vh->sl->footprint, __ATOMIC_RELAXED);
    }
  }
}

static void vm_heap_trim_one(vm_heap_t *vh, void *ctx) {
  size_t before = vh->sl->footprint;
  if (vm_heap_pending(vh)) vm_heap_drain(vh);
  sl_heap_trim(vh->sl);
  *(size_t *)ctx += before > vh->sl->footprint ? before - vh->sl->footprint : 0;
}

size_t vm_pool_trim(vm_pool_t *pool, vm_heap_t *self) {
  size_t released = 0;
  for (vm_heap_t *vh = atomic_load(&pool->heaps); vh; vh = vh->next)
    if (atomic_load(&vh->state) != VM_HEAP_LOST &&
        !vm_heap_visit(pool, self, vh, vm_heap_trim_one, &released))
      atomic_store(&vh->trim, true);
  return released;
}
