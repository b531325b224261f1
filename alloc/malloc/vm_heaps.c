/* vedalloc drop-in — backend: one V2 heap per thread, remote frees, a pool.
 *
 * Policy. Each thread allocates from its own V2 instance (a vm_heap_t found
 * through an initial-exec TLS pointer), so malloc and a free of one's own
 * block take no lock and touch no shared line but the heap's remote list
 * head (one relaxed load in malloc). A block freed by another thread is
 * pushed with a CAS onto its owner's remote list (a Treiber stack linked
 * through the block's first word); the owner takes the whole list with one
 * exchange when its malloc sees it non-empty and frees each block through
 * V2, so V2's bitmap still reports a double free (when the block arrives).
 * The owner of a block is found from any thread through V2's shared map
 * (sl_shared_owner: chunk -> header -> heap -> its vm_heap_t).
 *
 * Heap states (vm_heap_t.state), changed only by CAS or by the holder:
 *   OWNED      held by one live thread; only it touches the V2 instance
 *   ABANDONED  its thread exited: drained, trimmed (empty pages and the
 *              large cache given back); live blocks in it stay valid. The
 *              next new thread adopts it (CAS -> OWNED); meanwhile a thread
 *              that pushes a remote free onto it borrows it (CAS -> BUSY),
 *              drains it and puts it back, so that memory is reused.
 *   BUSY       borrowed for a drain
 *   LOST       (fork child only) held by a thread that does not exist in
 *              the child: never touched again, its memory leaks, never
 *              corrupts; frees into it just park on its remote list.
 * Exit vs. remote free (Dekker, all seq_cst): the exiting thread stores
 * ABANDONED then reads the list; a freeing thread pushes then reads the
 * state. One of the two sees the other, so no block is stranded.
 *
 * Pool. Heaps live in a push-only list (never freed) carved from 64 KiB
 * mappings under vm_pool_mutex; adoption scans the list with CASes. The
 * mutex is the only lock, taken when a thread creates a heap and by fork.
 * Fork: prepare takes the mutex; in the child the forking thread keeps its
 * heap, ABANDONED heaps stay adoptable, OWNED and BUSY ones become LOST.
 *
 * Initialisation cannot recurse: heaps and V2 metadata come from mmap;
 * pthread_key_create and pthread_once do not allocate; the TLS pointer is
 * set before pthread_setspecific and pthread_atfork (which may allocate,
 * and then simply use the new heap).
 *
 * Costs: malloc = TLS load + remote-list test + V2's fast path inlined
 * (alloc/slab/fast.h); free of an own block = TLS load + V2's free
 * fast path, inlined the same way (the exported malloc reaches this file
 * by two direct jumps: malloc -> vm_malloc -> vm_be_malloc); a
 * remote free = shared-map lookup (2 loads) + header reads + one CAS.
 * Non-goals: returning an idle thread's pages to other threads (only an
 * exiting thread's), per-CPU caches, NUMA.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/internal.h"
#include "alloc/malloc/vm_backend.h"
#include "alloc/slab/fast.h"
#include "alloc/slab/slab.h"

const char vm_be_name[] = "v2-slab/thread-heaps";

#define VM_POOL_CHUNK (64u << 10)     /* heaps are carved from mappings this big */

enum { VM_HEAP_OWNED = 1, VM_HEAP_ABANDONED, VM_HEAP_BUSY, VM_HEAP_LOST };

/* One thread's heap. The remote list head has a cache line to itself:
 * other threads write it, the owner only reads it on malloc. */
typedef struct vm_heap {
  _Atomic(void *) remote;       /* blocks freed by other threads (LIFO) */
  char pad[64 - sizeof(void *)];
  void *sl;                     /* the V2 instance; only its holder uses it */
  _Atomic int state;            /* VM_HEAP_* */
  struct vm_heap *next;         /* pool list; immutable once published */
} __attribute__((aligned(64))) vm_heap_t;

static __thread vm_heap_t *vm_tls __attribute__((tls_model("initial-exec")));

static pthread_mutex_t vm_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(vm_heap_t *) vm_pool;      /* every heap, newest first */
static sl_shared_map_t vm_map[1];         /* chunk -> header, every heap
                                             (.bss: untouched but for the
                                             slots of leaves in use) */
static atomic_size_t vm_pool_count;       /* |vm_pool| */
static vm_heap_t *vm_carve, *vm_carve_end; /* unused slots (under the mutex) */
static pthread_key_t vm_key;              /* its destructor releases a heap */
static pthread_once_t vm_key_once = PTHREAD_ONCE_INIT;
static atomic_bool vm_fork_hooked;

/* ---------------------------------------------------------------------------
 * Remote frees
 * ------------------------------------------------------------------------- */

/* The link word of a block on a remote list. Exempt from ASan: if the
 * block was freed twice its owner may already have poisoned it, and the
 * double free is for V2's bitmap to report, with the usual message. */
#ifdef VA_ASAN
__attribute__((no_sanitize("address")))
#endif
static void *vm_remote_next(void *b) {
  return *(void **)b;
}

/* Free every block other threads handed back to vh (caller holds vh). */
static void vm_heap_drain(vm_heap_t *vh) {
  void *b = atomic_exchange_explicit(&vh->remote, NULL, memory_order_acquire);
  while (b) {
    void *next = vm_remote_next(b); /* read before V2 reuses the word */
    sl_free_fast(vh->sl, b); /* a block of vh's: its chunk is vh's */
    b = next;
  }
}

/* Drain an abandoned heap on behalf of its absent owner, until no pusher
 * can have missed us (see the Dekker note above). */
static void vm_heap_borrow(vm_heap_t *vh) {
  int expect = VM_HEAP_ABANDONED;
  while (atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_BUSY)) {
    vm_heap_drain(vh);
    sl_heap_trim(vh->sl); /* no owner to reuse it: pages it emptied go back now */
    atomic_store(&vh->state, VM_HEAP_ABANDONED);
    if (atomic_load(&vh->remote) == NULL) return;
    expect = VM_HEAP_ABANDONED;
  }
}

/* Hand p (a live block of owner's) back to owner. */
static void vm_remote_free(vm_heap_t *owner, void *p) {
  void *head = atomic_load_explicit(&owner->remote, memory_order_relaxed);
  do {
    *(void **)p = head;
  } while (!atomic_compare_exchange_weak(&owner->remote, &head, p));
  if (VA_UNLIKELY(atomic_load(&owner->state) == VM_HEAP_ABANDONED))
    vm_heap_borrow(owner);
}

/* Misuse found outside any heap's instance: the default hook's report. */
static void vm_raise(va_error_kind_t kind, const char *op, const void *p) {
  va_options_t o = va_options_default();
  va_raise(&o, kind, op, p);
}

/* ---------------------------------------------------------------------------
 * The pool: adopt an abandoned heap, else make one
 * ------------------------------------------------------------------------- */
static vm_heap_t *vm_heap_adopt(void) {
  for (vm_heap_t *vh = atomic_load_explicit(&vm_pool, memory_order_acquire); vh;
       vh = vh->next) {
    int expect = VM_HEAP_ABANDONED;
    if (atomic_load_explicit(&vh->state, memory_order_relaxed) == expect &&
        atomic_compare_exchange_strong(&vh->state, &expect, VM_HEAP_OWNED)) {
      vm_heap_drain(vh);
      return vh;
    }
  }
  return NULL;
}

/* A fresh heap (slot from the carve mapping, V2 instance). Under the mutex. */
static vm_heap_t *vm_heap_create(void) {
  if (vm_carve == vm_carve_end) {
    void *m = mmap(NULL, VM_POOL_CHUNK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    vm_carve = m;
    vm_carve_end = vm_carve + VM_POOL_CHUNK / sizeof(vm_heap_t);
  }
  va_options_t o = sl_thread_heap_options();
  vm_heap_t *vh = vm_carve;
  vh->sl = sl_allocator.create(&o);
  if (vh->sl == NULL) return NULL;
  sl_heap_share(vh->sl, vm_map, vh); /* cannot fail: the heap is empty */
  vm_carve++;
  atomic_store_explicit(&vh->state, VM_HEAP_OWNED, memory_order_relaxed);
  vh->next = atomic_load_explicit(&vm_pool, memory_order_relaxed);
  atomic_store_explicit(&vm_pool, vh, memory_order_release);
  atomic_fetch_add_explicit(&vm_pool_count, 1, memory_order_relaxed);
  return vh;
}

/* Thread exit (pthread key destructor): give back what the heap caches and
 * leave it for adoption. Later frees by this thread go the remote way. */
static void vm_heap_release(void *arg) {
  vm_heap_t *vh = arg;
  vm_tls = NULL;
  vm_heap_drain(vh);
  sl_heap_trim(vh->sl);
  atomic_store(&vh->state, VM_HEAP_ABANDONED);
  if (atomic_load(&vh->remote) != NULL) vm_heap_borrow(vh);
}

/* ---------------------------------------------------------------------------
 * Fork
 * ------------------------------------------------------------------------- */
static void vm_fork_prepare(void) { pthread_mutex_lock(&vm_pool_mutex); }
static void vm_fork_parent(void) { pthread_mutex_unlock(&vm_pool_mutex); }

static void vm_fork_child(void) {
  for (vm_heap_t *vh = atomic_load(&vm_pool); vh; vh = vh->next) {
    int s = atomic_load(&vh->state);
    if (vh != vm_tls && (s == VM_HEAP_OWNED || s == VM_HEAP_BUSY))
      atomic_store(&vh->state, VM_HEAP_LOST);
  }
  pthread_mutex_init(&vm_pool_mutex, NULL);
}

static void vm_key_init(void) { pthread_key_create(&vm_key, vm_heap_release); }

/* Slow path of every entry point's first call on a thread. */
static __attribute__((noinline)) vm_heap_t *vm_heap_attach(void) {
  pthread_once(&vm_key_once, vm_key_init);
  vm_heap_t *vh = vm_heap_adopt();
  if (vh == NULL) {
    pthread_mutex_lock(&vm_pool_mutex);
    vh = vm_heap_create();
    pthread_mutex_unlock(&vm_pool_mutex);
    if (vh == NULL) return NULL;
  }
  vm_tls = vh; /* before anything that may allocate */
  pthread_setspecific(vm_key, vh);
  if (!atomic_load_explicit(&vm_fork_hooked, memory_order_acquire) &&
      !atomic_exchange(&vm_fork_hooked, true))
    pthread_atfork(vm_fork_prepare, vm_fork_parent, vm_fork_child);
  return vh;
}

/* Slow path of vm_heap_mine: no heap yet, or remote frees to collect. Out
 * of line so the fast path saves no registers (it ends in a tail jump). */
static __attribute__((noinline)) vm_heap_t *vm_heap_mine_slow(vm_heap_t *vh) {
  if (vh == NULL) return vm_heap_attach();
  vm_heap_drain(vh);
  return vh;
}

/* This thread's heap, with what others freed into it collected. */
static inline vm_heap_t *vm_heap_mine(void) {
  vm_heap_t *vh = vm_tls;
  if (VA_UNLIKELY(vh == NULL) ||
      VA_UNLIKELY(atomic_load_explicit(&vh->remote, memory_order_relaxed) != NULL))
    return vm_heap_mine_slow(vh);
  return vh;
}

/* ---------------------------------------------------------------------------
 * Entry points (vm_backend.h)
 * ------------------------------------------------------------------------- */
/* malloc off the fast path: no heap yet, or remote frees to collect. */
static __attribute__((noinline)) void *vm_be_malloc_slow(size_t n) {
  vm_heap_t *vh = vm_heap_mine();
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_malloc_fast(vh->sl, n);
}

/* One TLS load, one test of the remote list, V2's inlined fast path. */
void *vm_be_malloc(size_t n) {
  vm_heap_t *vh = vm_tls;
  if (VA_LIKELY(vh != NULL) &&
      VA_LIKELY(atomic_load_explicit(&vh->remote, memory_order_relaxed) == NULL))
    return sl_malloc_fast(vh->sl, n);
  return vm_be_malloc_slow(n);
}

void *vm_be_calloc(size_t n) {
  vm_heap_t *vh = vm_heap_mine();
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_calloc(vh->sl, 1, n);
}

void *vm_be_memalign(size_t alignment, size_t n) {
  vm_heap_t *vh = vm_heap_mine();
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  return sl_memalign(vh->sl, alignment, n);
}

/* Not in this thread's heap: another heap's block, or misuse. */
static __attribute__((noinline)) void vm_free_foreign(vm_heap_t *mine, void *p) {
  size_t usable = 0;
  vm_heap_t *owner = sl_shared_owner(vm_map, p, &usable);
  if (owner == NULL) vm_raise(VA_ERR_INVALID_FREE, "free", p);
  else if (usable == 0) vm_raise(VA_ERR_NOT_A_BLOCK, "free", p);
  else if (owner == mine) sl_free_fast(mine->sl, p); /* cannot happen */
  else vm_remote_free(owner, p);
}

/* V2's fast path (its slow paths in tail position), or another heap's. */
void vm_be_free(void *p) {
  vm_heap_t *vh = vm_tls; /* no heap needed to free: exiting threads free too */
  if (VA_LIKELY(vh != NULL) && VA_LIKELY(sl_free_fast(vh->sl, p))) return;
  vm_free_foreign(vh, p);
}

void *vm_be_realloc(void *p, size_t n) {
  vm_heap_t *vh = vm_heap_mine();
  if (VA_UNLIKELY(vh == NULL)) return va_enomem();
  size_t usable = 0;
  vm_heap_t *owner = sl_shared_owner(vm_map, p, &usable);
  if (owner == vh) return sl_realloc(vh->sl, p, n);
  if (owner == NULL || usable == 0) {
    vm_raise(owner ? VA_ERR_NOT_A_BLOCK : VA_ERR_INVALID_FREE, "realloc", p);
    errno = EINVAL;
    return NULL;
  }
  /* Another heap's block: keep it when the size still fits it snugly
   * (nothing of the owner's changes), else move it into ours. */
  if (n <= usable && n >= usable / 2) return p;
  void *q = sl_malloc_fast(vh->sl, n);
  if (q == NULL) return NULL;
  memcpy(q, p, n < usable ? n : usable);
  vm_remote_free(owner, p);
  return q;
}

size_t vm_be_usable_size(const void *p) {
  size_t usable = 0;
  vm_heap_t *owner = sl_shared_owner(vm_map, p, &usable);
  vm_heap_t *vh = vm_tls;
  if (owner != NULL && owner == vh) return sl_allocator.usable_size(vh->sl, p);
  if (owner == NULL) vm_raise(VA_ERR_INVALID_FREE, "usable_size", p);
  return usable;
}

/* ---------------------------------------------------------------------------
 * Introspection (for tests)
 * ------------------------------------------------------------------------- */
size_t vm_be_heap_count(void) {
  return atomic_load_explicit(&vm_pool_count, memory_order_relaxed);
}

size_t vm_be_mapped_bytes(void) { return sl_mapped_bytes(); }
