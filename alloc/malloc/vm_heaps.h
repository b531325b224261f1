/* vedalloc drop-in — the thread protocol over V2 heaps: one heap per
 * thread, remote frees, abandonment, adoption, borrowing (vm_heaps.c has
 * the design).
 *
 * Every function takes the pool and `self`, the current thread's heap slot.
 * The process backend (vm_process.c) passes its one pool and the thread's
 * TLS slot; the harness instance (vm_instance.c) passes a pool of its own
 * and the slot of the virtual thread the executor runs, so fuzzers and
 * properties drive exactly this code, deterministically, in one OS thread.
 */
#ifndef VEDALLOC_MALLOC_VM_HEAPS_H
#define VEDALLOC_MALLOC_VM_HEAPS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "alloc/internal.h"
#include "alloc/slab/fast.h"
#include "alloc/slab/os.h"
#include "alloc/slab/slab.h"

/* Heap states (vm_heap_t.state), changed only by CAS or by the holder. */
enum {
  VM_HEAP_OWNED = 1, /* held by one live thread; only it touches the heap */
  VM_HEAP_ABANDONED, /* its thread exited; adoptable, borrowable */
  VM_HEAP_BUSY,      /* borrowed by a thread draining it */
  VM_HEAP_CLAIMED,   /* busy, and a new thread waits to adopt it */
  VM_HEAP_LOST,      /* (fork child) held by a thread that does not exist */
};

/* One thread's heap. Blocks other threads free into it wait in V2's
 * remote-free words (sl_remote_free) until its holder drains them. */
typedef struct vm_heap {
  sl_heap_t *sl;                /* the V2 instance; only its holder uses it */
  _Atomic int state;            /* VM_HEAP_* */
  atomic_bool trim;             /* malloc_trim asked: its holder trims at its
                                   next call off the fast path */
  struct vm_heap *next;         /* pool list; immutable once published */
} __attribute__((aligned(64))) vm_heap_t;

/* A thread's heap slot: its heap, and that heap's V2 instance for the
 * fast paths (one dependent load less on every malloc and free than
 * reaching it through the heap). Both NULL, or sl == vh->sl; only
 * vm_attach and vm_detach write a slot. */
typedef struct vm_slot {
  vm_heap_t *vh;
  sl_heap_t *sl;
} vm_slot_t;

/* A set of heaps that free each other's blocks. */
typedef struct vm_pool {
  _Atomic(vm_heap_t *) heaps;   /* every heap, newest first (never removed) */
  atomic_size_t count;          /* |heaps| */
  pthread_mutex_t mutex;        /* guards heap creation and the carve */
  vm_heap_t *carve, *carve_end; /* unused heap slots (under the mutex) */
  void *chunks;                 /* carve mappings, linked through their
                                   first slot (for destroy) */
  sl_shared_map_t *map;         /* chunk -> header, over every heap */
  sl_source_t *src;             /* where heaps and slots come from (NULL:
                                   the OS; a region: the harness instance) */
  va_options_t heap_opts;       /* options of each V2 heap */
  va_error_fn on_error;         /* misuse found outside a heap (NULL: the
                                   default hook), and its context */
  void *error_ctx;
  void (*attached)(struct vm_pool *pool, vm_heap_t *vh); /* a thread got a
                                   heap (the process pool registers its
                                   exit hook); NULL: nothing */
  void (*borrowing)(struct vm_pool *pool, vm_heap_t *vh); /* tests: called
                                   while a borrow holds vh, to make other
                                   threads meet it there; NULL: nothing */
} vm_pool_t;

/* ---- pools --------------------------------------------------------------- */
/* A pool whose heaps use heap_opts (their error hook too) and map, their
 * memory from src (NULL: the OS). */
void vm_pool_init(vm_pool_t *pool, const va_options_t *heap_opts, sl_shared_map_t *map,
                  sl_source_t *src);
/* Unmap every heap and the pool's own memory (not the map): instances only,
 * with no thread using the pool. */
void vm_pool_destroy(vm_pool_t *pool);

/* ---- the calls of one thread (self: its heap slot) ----------------------- */
void *vm_malloc_slow(vm_pool_t *pool, vm_slot_t *self, size_t n);
void vm_free_slow(vm_pool_t *pool, vm_heap_t *mine, void *p);

/* One load of the slot, V2's fast path. Remote frees are not looked for
 * here: V2's allocation slow paths take them back (slab.c), so they
 * gather in their words and the freeing threads queue a word once per
 * batch instead of once per block (no block is handed out twice: a block
 * freed remotely is on no free list until it is taken back). */
static inline void *vm_malloc_in(vm_pool_t *pool, vm_slot_t *self, size_t n) {
  sl_heap_t *h = self->sl;
  if (VA_LIKELY(h != NULL)) return sl_malloc_fast(h, n);
  return vm_malloc_slow(pool, self, n);
}

/* V2's fast path on the thread's own heap, with no remote frees pending
 * (they are taken back first, so a block freed remotely and then again by
 * its holder is a double free at once); else the slow path: no heap (an
 * exiting thread frees too), pending frees, another heap's block, misuse. */
static inline void vm_free_in(vm_pool_t *pool, vm_slot_t *self, void *p) {
  sl_heap_t *h = self->sl;
  if (VA_LIKELY(h != NULL) && VA_LIKELY(!sl_remote_pending(h)) && VA_LIKELY(sl_free_fast(h, p)))
    return;
  vm_free_slow(pool, self->vh, p);
}

void *vm_calloc_in(vm_pool_t *pool, vm_slot_t *self, size_t n);
void *vm_memalign_in(vm_pool_t *pool, vm_slot_t *self, size_t align, size_t n);
void *vm_realloc_slow(vm_pool_t *pool, vm_slot_t *self, void *p, size_t n);

/* realloc(p, n), p != NULL: p when the thread's heap keeps it as it is
 * (sl_realloc_stays) with no remote frees pending (a block freed remotely
 * reads live until taken back); else the slow path: a resize or move,
 * another heap's block, misuse. */
static inline void *vm_realloc_in(vm_pool_t *pool, vm_slot_t *self, void *p, size_t n) {
  sl_heap_t *h = self->sl;
  const void *owner;
  if (VA_LIKELY(h != NULL) && VA_LIKELY(!sl_remote_pending(h)) &&
      (owner = sl_map_get(h, p)) != NULL && sl_realloc_stays(owner, p, n))
    return p;
  return vm_realloc_slow(pool, self, p, n);
}
size_t vm_usable_in(vm_pool_t *pool, vm_slot_t *self, const void *p);

/* The thread of `self` exits: its heap is drained, trimmed and abandoned
 * for adoption; both fields of *self become NULL. */
void vm_detach(vm_pool_t *pool, vm_slot_t *self);

/* In a fork child: every heap held by a thread that is not the caller's
 * (keep) becomes LOST; the mutex is made new. */
void vm_pool_fork_child(vm_pool_t *pool, vm_heap_t *keep);

/* ---- introspection ------------------------------------------------------- */
size_t vm_pool_heap_count(const vm_pool_t *pool);

/* At a quiescent point (no thread inside the pool): every heap's V2
 * checker and its state: "vm.state" (a known state), "vm.abandoned" (an
 * abandoned heap has no remote free pending), "vm.trimmed" (nor an empty
 * page or a cached mapping: detach and borrow trim last), "vm.count" (the
 * list has the counted heaps). */
bool vm_pool_check(vm_pool_t *pool, va_report_t *r);

/* The pool holds no live block: every heap is empty, none has remote
 * frees pending. */
bool vm_pool_check_empty(vm_pool_t *pool, va_report_t *r);

/* Statistics summed over the heaps. */
void vm_pool_stats(vm_pool_t *pool, va_stats_t *st);

/* Every region (allocator.h) of the heaps the caller may read while other
 * threads run: its own (self) and the abandoned ones, each borrowed for
 * the walk. A heap another live thread holds is not walked (its lists
 * change under a reader); *unseen counts them, and *unseen_bytes sums
 * their footprints (one word each, read as it is). */
void vm_pool_walk_regions(vm_pool_t *pool, vm_heap_t *self, va_walk_fn fn, void *ctx,
                          size_t *unseen, size_t *unseen_bytes);

/* malloc_trim: the caller's heap and every abandoned one give their free
 * pages and cached mappings back now; a heap another thread holds is
 * asked to, and does at its holder's next call off the fast path. Returns
 * the bytes given back now. */
size_t vm_pool_trim(vm_pool_t *pool, vm_heap_t *self);

#endif /* VEDALLOC_MALLOC_VM_HEAPS_H */
