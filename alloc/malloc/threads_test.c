/* vedalloc drop-in — multi-threaded stress with cross-thread frees.
 *
 * T worker threads each run rounds of: allocate a batch of blocks of mixed
 * sizes (8 B .. 40 KiB, a few large), fill each with a pattern derived from
 * (thread, round, index), and hand half of the batch to the next thread
 * through a mailbox; then free its own half and the half received from its
 * neighbour after checking every byte of it (a remote free), and churn a
 * little with realloc and memalign. Threads are also started and joined in
 * waves so exited threads' heaps are adopted by new ones. Under TSan
 * (--config=tsan) any unsynchronised access in the backend is a failure.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

#ifndef VM_T_THREADS
#define VM_T_THREADS 4
#endif
#ifndef VM_T_ROUNDS
#define VM_T_ROUNDS 150
#endif
#define BATCH 64

typedef struct vm_t_msg {
  unsigned char *p[BATCH / 2];
  size_t n[BATCH / 2];
  unsigned seed;
  struct vm_t_msg *next; /* mailbox queue */
} vm_t_msg_t;

/* A mailbox per thread: the previous thread posts, the owner takes all. */
typedef struct vm_t_box {
  pthread_mutex_t mu;
  vm_t_msg_t *msg; /* queue of messages, newest first */
} vm_t_box_t;

static vm_t_box_t vm_t_boxes[VM_T_THREADS];
static atomic_long vm_t_bad; /* corrupted bytes or failed allocations */

static unsigned vm_t_rand(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static size_t vm_t_size(unsigned *s) {
  unsigned r = vm_t_rand(s);
  if (r % 100 == 0) return 40000 + r % 300000; /* large */
  if (r % 10 == 0) return 1024 + r % 40000;
  return 1 + r % 512;
}

static unsigned char vm_t_byte(unsigned seed, size_t i, size_t k) {
  return (unsigned char)(seed * 31 + i * 7 + k);
}

static void vm_t_fill(unsigned char *p, size_t n, unsigned seed, size_t i) {
  for (size_t k = 0; k < n; k++) p[k] = vm_t_byte(seed, i, k);
}

static long vm_t_verify(const unsigned char *p, size_t n, unsigned seed, size_t i) {
  long bad = 0;
  for (size_t k = 0; k < n; k++) bad += p[k] != vm_t_byte(seed, i, k);
  return bad;
}

static void vm_t_post(int to, vm_t_msg_t *m) {
  vm_t_box_t *b = &vm_t_boxes[to];
  pthread_mutex_lock(&b->mu);
  m->next = b->msg;
  b->msg = m;
  pthread_mutex_unlock(&b->mu);
}

static vm_t_msg_t *vm_t_take(int me) {
  vm_t_box_t *b = &vm_t_boxes[me];
  pthread_mutex_lock(&b->mu);
  vm_t_msg_t *m = b->msg;
  b->msg = NULL;
  pthread_mutex_unlock(&b->mu);
  return m;
}

/* Check and free a neighbour's blocks: every free here is a remote free. */
static void vm_t_consume(vm_t_msg_t *m) {
  if (m == NULL) return;
  vm_t_consume(m->next);
  for (int i = 0; i < BATCH / 2; i++) {
    atomic_fetch_add(&vm_t_bad, vm_t_verify(m->p[i], m->n[i], m->seed, (size_t)i));
    vm_free(m->p[i]);
  }
  vm_free(m);
}

static void vm_t_round(int me, unsigned *s, int round) {
  unsigned char *p[BATCH];
  size_t n[BATCH];
  unsigned seed = (unsigned)(me * 1000003 + round);
  for (int i = 0; i < BATCH; i++) {
    n[i] = vm_t_size(s);
    p[i] = (i % 9 == 0) ? vm_memalign((size_t)64 << (i % 7), n[i]) : vm_malloc(n[i]);
    if (!p[i]) { atomic_fetch_add(&vm_t_bad, 1); n[i] = 0; continue; }
    vm_t_fill(p[i], n[i], seed, (size_t)i);
  }
  vm_t_msg_t *m = vm_calloc(1, sizeof *m);
  m->seed = seed;
  for (int i = 0; i < BATCH / 2; i++) { m->p[i] = p[2 * i]; m->n[i] = n[2 * i]; }
  for (int i = 0; i < BATCH / 2; i++) { /* re-index: the receiver checks with index i */
    vm_t_fill(m->p[i], m->n[i], seed, (size_t)i);
  }
  vm_t_post((me + 1) % VM_T_THREADS, m);
  for (int i = 1; i < BATCH; i += 2) { /* own half: grow with realloc, verify, free */
    size_t grow = n[i] + vm_t_rand(s) % 3000;
    unsigned char *q = vm_realloc(p[i], grow);
    if (!q) { atomic_fetch_add(&vm_t_bad, 1); vm_free(p[i]); continue; }
    atomic_fetch_add(&vm_t_bad, vm_t_verify(q, n[i], seed, (size_t)i));
    vm_free(q);
  }
  vm_t_consume(vm_t_take(me));
}

static void *vm_t_worker(void *arg) {
  int me = (int)(intptr_t)arg;
  unsigned s = (unsigned)me * 7919u + 1;
  for (int r = 0; r < VM_T_ROUNDS; r++) vm_t_round(me, &s, r);
  return NULL;
}

/* Short-lived threads: each leaves live blocks to the main thread, then exits. */
static void *vm_t_brief(void *arg) {
  void **out = arg;
  for (int i = 0; i < 8; i++) {
    out[i] = vm_malloc(100 + (size_t)i * 500);
    memset(out[i], i, 100 + (size_t)i * 500);
  }
  void *tmp[50]; /* churn that the exiting thread gives back */
  for (int i = 0; i < 50; i++) tmp[i] = vm_malloc((size_t)i * 40 + 1);
  for (int i = 0; i < 50; i++) vm_free(tmp[i]);
  return NULL;
}

static void vm_t_waves(void) {
  for (int wave = 0; wave < 20; wave++) {
    pthread_t t[4];
    void *out[4][8];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, vm_t_brief, out[i]);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
      for (int k = 0; k < 8; k++) {
        unsigned char *p = out[i][k];
        long bad = 0;
        for (size_t j = 0; j < 100 + (size_t)k * 500; j++) bad += p[j] != k;
        VT_CHECK(bad == 0);
        vm_free(p); /* free of an exited thread's block */
      }
  }
}

int main(void) {
  for (int i = 0; i < VM_T_THREADS; i++) {
    pthread_mutex_init(&vm_t_boxes[i].mu, NULL);
  }
  pthread_t t[VM_T_THREADS];
  for (int i = 0; i < VM_T_THREADS; i++)
    VT_CHECK(pthread_create(&t[i], NULL, vm_t_worker, (void *)(intptr_t)i) == 0);
  for (int i = 0; i < VM_T_THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < VM_T_THREADS; i++) vm_t_consume(vm_t_take(i)); /* leftovers */
  VT_CHECK(atomic_load(&vm_t_bad) == 0);
  vm_t_waves();
  printf("backend: %s\n", vm_backend_name());
  return va_check_summary();
}
