/* vedalloc bench — the multi-threaded workloads.
 *
 * Two patterns that single-threaded workloads cannot show: memory freed by a
 * thread other than the one that allocated it (a "remote free", which a
 * per-thread cache must hand back to its owner), and several threads
 * allocating at once (which a global lock serialises).
 *
 *   prodcons  producers allocate blocks of mixed small sizes, fill them, and
 *             hand them in batches of 64 through a bounded ring (256 batches)
 *             to consumers, which check and free them: every free is remote.
 *   larson    each thread churns its own array of slots (free a random slot,
 *             allocate a random size into it); after every round the arrays
 *             rotate between threads, so the first free of each slot in the
 *             next round is a remote free (about 8% of frees), as in Larson
 *             and Krishnan's server benchmark.
 *
 * Waiting is blocking (a mutex and condition variables for the ring, a
 * pthread barrier between larson rounds), never spinning: on a two-core
 * machine a spinning thread would measure the scheduler, not the allocator.
 * Handing over 64 blocks at a time keeps the lock traffic to one
 * acquisition per 64 blocks, so the allocator dominates the time; a deep
 * ring (16k blocks) makes a thread block rarely, and each wake-up on a
 * loaded machine can cost a scheduler slice.
 *
 * Accounting: every worker gets a private copy of the context, so the
 * counters of bench_malloc/bench_free stay thread-local and cost what they
 * cost single-threaded. The live-byte total across threads goes to one
 * atomic at batch granularity (per 64 blocks, or per 256 larson ops), so the
 * peak is exact to within a batch. Each worker also gets its own handle of
 * the allocator: only a thread-safe, process-wide entry ("system", the
 * process malloc, possibly preloaded) runs these, and its handle is just a
 * counter that would otherwise be one racing cache line shared by all
 * threads. Non-goal: scaling beyond a few threads (the machine has two
 * cores); `--threads` changes the count.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "bench/bench.h"

#define BENCH_MT_MAX 64     /* most worker threads one run starts */
#define BENCH_BATCH 64      /* blocks handed over at once */
#define BENCH_RING 256      /* batches in flight in the prodcons ring (16k blocks) */
#define BENCH_PC_BLOCKS 400000 /* blocks produced per run, over all producers */
#define BENCH_LS_SLOTS 2000 /* slots per larson array */
#define BENCH_LS_ROUNDS 8   /* rounds; the arrays rotate after each */
#define BENCH_LS_OPS 25000  /* replacements per thread per round */
#define BENCH_LS_REPORT 256 /* ops between updates of the shared live total */

/* Live requested bytes over all threads. live wraps below zero only
 * transiently (a remote free reported before its allocation); such values
 * are not peaks. */
typedef struct bench_live {
  _Atomic size_t live;
  _Atomic size_t peak;
} bench_live_t;

static void bench_live_shift(bench_live_t *l, size_t delta) {
  size_t now = atomic_fetch_add_explicit(&l->live, delta, memory_order_relaxed) + delta;
  if (now > SIZE_MAX / 2) return;
  size_t peak = atomic_load_explicit(&l->peak, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&l->peak, &peak, now, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

/* One worker thread: its context copy and its place among the others. */
typedef struct bench_worker {
  bench_ctx_t c;  /* private: counters, sink, its own allocator handle */
  int id, n;      /* 0 <= id < n */
  void *shared;   /* the workload's shared state */
  size_t reported; /* c.live_bytes already added to the shared total */
  pthread_t tid;
} bench_worker_t;

/* Folds this worker's unreported live-byte change into the shared total. */
static void bench_worker_report(bench_worker_t *w, bench_live_t *l) {
  size_t delta = w->c.live_bytes - w->reported; /* modular: may be "negative" */
  w->reported = w->c.live_bytes;
  if (delta) bench_live_shift(l, delta);
}

/* Worker threads of a run: --threads, clamped to 2..BENCH_MT_MAX. */
static int bench_mt_threads(const bench_ctx_t *c) {
  return c->threads < 2 ? 2 : c->threads > BENCH_MT_MAX ? BENCH_MT_MAX : c->threads;
}

/* Starts n workers on fn, waits for them, merges their counters into c.
 * Every worker starts from c with zeroed counters and a fresh handle. */
static void bench_mt_run(bench_ctx_t *c, int n, void *(*fn)(void *), void *shared,
                         bench_live_t *live) {
  bench_worker_t w[BENCH_MT_MAX];
  for (int i = 0; i < n; i++) {
    w[i] = (bench_worker_t){.c = *c, .id = i, .n = n, .shared = shared};
    bench_ctx_t *wc = &w[i].c;
    wc->calls = 0;
    wc->sink = 0;
    wc->live_bytes = wc->peak_live_bytes = 0;
    wc->requested_total = wc->usable_total = 0;
    wc->heap = c->a->create(NULL);
    if (!wc->heap) bench_die("create() failed for a worker");
  }
  for (int i = 0; i < n; i++)
    if (pthread_create(&w[i].tid, NULL, fn, &w[i]) != 0) bench_die("pthread_create failed");
  for (int i = 0; i < n; i++) pthread_join(w[i].tid, NULL);
  for (int i = 0; i < n; i++) {
    c->calls += w[i].c.calls;
    c->sink ^= w[i].c.sink;
    c->live_bytes += w[i].c.live_bytes; /* remote frees: the wraps cancel */
    c->requested_total += w[i].c.requested_total;
    c->usable_total += w[i].c.usable_total;
    c->a->destroy(w[i].c.heap);
  }
  size_t peak = atomic_load(&live->peak);
  if (peak > c->peak_live_bytes) c->peak_live_bytes = peak;
}

/* A mixed small size, 16..511 B, smaller sizes more likely per byte. */
static size_t bench_mt_size(bench_rng_t *r) {
  size_t base = (size_t)16 << (bench_rand(r) % 5);
  return base + bench_rand(r) % base;
}

/* The tag a producer writes into the first 8 bytes of a block. */
static uint64_t bench_tag(uint64_t producer, uint64_t seq, size_t n) {
  return (producer << 40 | seq) * 0x9E3779B97F4A7C15ull ^ n;
}

/* ---------------------------------------------------------------------------
 * prodcons: the ring of batches.
 *
 *   ring[tail] ... ring[head-1]  published batches, oldest first
 *   0 <= count <= BENCH_RING;  head == (tail + count) % BENCH_RING
 * ------------------------------------------------------------------------- */
typedef struct bench_batch {
  uint32_t count;              /* blocks in p[0..count) */
  uint32_t size[BENCH_BATCH];  /* requested bytes of each */
  void *p[BENCH_BATCH];
} bench_batch_t;

typedef struct bench_pc {
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  bench_batch_t ring[BENCH_RING];
  size_t head, tail, count;
  int producers_left; /* consumers stop when 0 and the ring is empty */
  bench_live_t live;
} bench_pc_t;

static void bench_pc_put(bench_pc_t *pc, const bench_batch_t *b) {
  pthread_mutex_lock(&pc->lock);
  while (pc->count == BENCH_RING) pthread_cond_wait(&pc->not_full, &pc->lock);
  pc->ring[pc->head] = *b;
  pc->head = (pc->head + 1) % BENCH_RING;
  pc->count++;
  pthread_cond_signal(&pc->not_empty);
  pthread_mutex_unlock(&pc->lock);
}

/* Takes the oldest batch into b; false when every producer is done. */
static bool bench_pc_take(bench_pc_t *pc, bench_batch_t *b) {
  pthread_mutex_lock(&pc->lock);
  while (pc->count == 0 && pc->producers_left > 0) pthread_cond_wait(&pc->not_empty, &pc->lock);
  bool got = pc->count > 0;
  if (got) {
    *b = pc->ring[pc->tail];
    pc->tail = (pc->tail + 1) % BENCH_RING;
    pc->count--;
    pthread_cond_signal(&pc->not_full);
  }
  pthread_mutex_unlock(&pc->lock);
  return got;
}

static void bench_pc_publish(bench_worker_t *w, bench_pc_t *pc, bench_batch_t *b) {
  bench_worker_report(w, &pc->live);
  bench_pc_put(pc, b);
  b->count = 0;
}

static void bench_pc_produce(bench_worker_t *w, bench_pc_t *pc, int producers) {
  bench_ctx_t *c = &w->c;
  bench_rng_t r = bench_srand(42 + (uint64_t)w->id);
  bench_batch_t b = {.count = 0};
  long quota = BENCH_PC_BLOCKS / producers;
  for (long i = 0; i < quota; i++) {
    size_t n = bench_mt_size(&r);
    char *p = bench_malloc(c, n);
    memset(p, (char)i, n);
    uint64_t tag = bench_tag((uint64_t)w->id, (uint64_t)i, n);
    memcpy(p, &tag, sizeof tag);
    b.p[b.count] = p;
    b.size[b.count++] = (uint32_t)n;
    if (b.count == BENCH_BATCH) bench_pc_publish(w, pc, &b);
  }
  if (b.count) bench_pc_publish(w, pc, &b);
  pthread_mutex_lock(&pc->lock);
  pc->producers_left--;
  pthread_cond_broadcast(&pc->not_empty);
  pthread_mutex_unlock(&pc->lock);
}

/* Checks the last byte of each block (the fill) and that its tag names a
 * plausible producer, then frees it. */
static void bench_pc_consume(bench_worker_t *w, bench_pc_t *pc) {
  bench_ctx_t *c = &w->c;
  bench_batch_t b;
  while (bench_pc_take(pc, &b)) {
    for (uint32_t k = 0; k < b.count; k++) {
      const char *p = b.p[k];
      size_t n = b.size[k];
      uint64_t tag;
      memcpy(&tag, p, sizeof tag);
      if (n > sizeof tag && p[n - 1] != p[n - 2]) bench_die("prodcons: block %p corrupted", b.p[k]);
      c->sink += tag;
      bench_free(c, b.p[k], n);
    }
    bench_worker_report(w, &pc->live);
  }
}

static void *bench_pc_thread(void *arg) {
  bench_worker_t *w = arg;
  int producers = w->n / 2;
  if (w->id < producers) bench_pc_produce(w, w->shared, producers);
  else bench_pc_consume(w, w->shared);
  return NULL;
}

/* prodcons: half the threads produce (at least one), the rest consume. */
uint64_t bench_wl_prodcons(bench_ctx_t *c) {
  static bench_pc_t pc; /* 200 KiB of ring: static, one run at a time */
  memset(&pc, 0, sizeof pc);
  pthread_mutex_init(&pc.lock, NULL);
  pthread_cond_init(&pc.not_empty, NULL);
  pthread_cond_init(&pc.not_full, NULL);
  int n = bench_mt_threads(c);
  pc.producers_left = n / 2;
  bench_mt_run(c, n, bench_pc_thread, &pc, &pc.live);
  pthread_cond_destroy(&pc.not_full);
  pthread_cond_destroy(&pc.not_empty);
  pthread_mutex_destroy(&pc.lock);
  return c->sink;
}

/* ---------------------------------------------------------------------------
 * larson: per-thread churn with arrays rotating between threads.
 *
 *   array k = slots[k * BENCH_LS_SLOTS ...], sizes likewise (scratch)
 *   in round r, thread t works on array (t + r) % n
 * ------------------------------------------------------------------------- */
typedef struct bench_ls {
  pthread_barrier_t round_end;
  void **slots;
  size_t *sizes;
  bench_live_t live;
} bench_ls_t;

/* One round on array k: replace random slots; the old block may be another
 * thread's (the array's previous owner), so its free is remote. */
static void bench_ls_round(bench_worker_t *w, bench_ls_t *ls, int k, bench_rng_t *r) {
  bench_ctx_t *c = &w->c;
  void **slot = ls->slots + (size_t)k * BENCH_LS_SLOTS;
  size_t *size = ls->sizes + (size_t)k * BENCH_LS_SLOTS;
  for (int i = 0; i < BENCH_LS_OPS; i++) {
    uint32_t idx = bench_rand(r) % BENCH_LS_SLOTS;
    if (slot[idx]) bench_free(c, slot[idx], size[idx]);
    size_t n = 8 + bench_rand(r) % 505; /* 8..512 */
    char *p = bench_malloc(c, n);
    p[0] = p[n - 1] = (char)i;
    slot[idx] = p;
    size[idx] = n;
    if ((i & (BENCH_LS_REPORT - 1)) == 0) bench_worker_report(w, &ls->live);
  }
  bench_worker_report(w, &ls->live);
}

static void *bench_ls_thread(void *arg) {
  bench_worker_t *w = arg;
  bench_ls_t *ls = w->shared;
  bench_rng_t r = bench_srand(42 + (uint64_t)w->id);
  for (int round = 0; round < BENCH_LS_ROUNDS; round++) {
    bench_ls_round(w, ls, (w->id + round) % w->n, &r);
    pthread_barrier_wait(&ls->round_end);
  }
  int k = (w->id + BENCH_LS_ROUNDS) % w->n; /* freed by a thread that did not fill it */
  void **slot = ls->slots + (size_t)k * BENCH_LS_SLOTS;
  size_t *size = ls->sizes + (size_t)k * BENCH_LS_SLOTS;
  for (int i = 0; i < BENCH_LS_SLOTS; i++)
    if (slot[i]) {
      w->c.sink += (uint8_t)((char *)slot[i])[0];
      bench_free(&w->c, slot[i], size[i]);
      slot[i] = NULL;
    }
  bench_worker_report(w, &ls->live);
  return NULL;
}

/* Scratch slots a larson run needs per thread. */
size_t bench_larson_slots(void) { return BENCH_LS_SLOTS; }

uint64_t bench_wl_larson(bench_ctx_t *c) {
  static bench_ls_t ls;
  memset(&ls, 0, sizeof ls);
  int n = bench_mt_threads(c);
  ls.slots = c->slots;
  ls.sizes = c->sizes;
  memset(ls.slots, 0, (size_t)n * BENCH_LS_SLOTS * sizeof *ls.slots);
  pthread_barrier_init(&ls.round_end, NULL, (unsigned)n);
  bench_mt_run(c, n, bench_ls_thread, &ls, &ls.live);
  pthread_barrier_destroy(&ls.round_end);
  return c->sink;
}
