/* vedalloc drop-in — producer -> consumer, and threads that exit with live
 * blocks.
 *
 * Producer -> consumer: one thread allocates batches of mixed-size blocks
 * (16 B .. 40 KiB, some large), fills them and passes them through a
 * bounded queue; another checks every byte and frees them (every free is a
 * remote free). Memory must be reused: after a warm-up, the bytes the
 * library holds from the OS may not keep growing (a backend that never
 * returned remote frees to the producer would map ~1 GiB here).
 *
 * Thread exit: waves of threads each leave live blocks behind and exit;
 * the main thread and a second "cleaner" thread free them later (frees into
 * abandoned heaps). Heaps must be adopted (their count stays near the peak
 * of live threads, not the number of threads ever started) and the
 * footprint must stay bounded.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

#define VM_T_QUEUE 64      /* batches in flight */
#define VM_T_BATCH 256     /* blocks per batch */
#define VM_T_BATCHES 1500  /* ~384k blocks, ~1.2 GiB allocated in all */

typedef struct vm_t_batch {
  unsigned char *p[VM_T_BATCH];
  size_t n[VM_T_BATCH];
  unsigned seed;
} vm_t_batch_t;

/* A bounded queue of batches (mutex + condition variables). */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t not_full, not_empty;
  vm_t_batch_t *slot[VM_T_QUEUE];
  size_t head, tail; /* tail - head == batches queued */
} vm_t_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
            PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static atomic_long vm_t_bad;
static atomic_size_t vm_t_mapped_warm, vm_t_mapped_end;

static void vm_t_put(vm_t_batch_t *b) {
  pthread_mutex_lock(&vm_t_q.mu);
  while (vm_t_q.tail - vm_t_q.head == VM_T_QUEUE) pthread_cond_wait(&vm_t_q.not_full, &vm_t_q.mu);
  vm_t_q.slot[vm_t_q.tail++ % VM_T_QUEUE] = b;
  pthread_cond_signal(&vm_t_q.not_empty);
  pthread_mutex_unlock(&vm_t_q.mu);
}

static vm_t_batch_t *vm_t_get(void) {
  pthread_mutex_lock(&vm_t_q.mu);
  while (vm_t_q.tail == vm_t_q.head) pthread_cond_wait(&vm_t_q.not_empty, &vm_t_q.mu);
  vm_t_batch_t *b = vm_t_q.slot[vm_t_q.head++ % VM_T_QUEUE];
  pthread_cond_signal(&vm_t_q.not_full);
  pthread_mutex_unlock(&vm_t_q.mu);
  return b;
}

static unsigned char vm_t_byte(unsigned seed, size_t i, size_t k) {
  return (unsigned char)(seed * 13 + i * 7 + k * 3);
}

static size_t vm_t_size(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  unsigned r = *s >> 8;
  if (r % 200 == 0) return 40000 + r % 200000; /* large */
  if (r % 16 == 0) return 1024 + r % 40000;
  return 16 + r % 600;
}

static void *vm_t_producer(void *arg) {
  (void)arg;
  unsigned s = 12345;
  for (unsigned k = 0; k < VM_T_BATCHES; k++) {
    vm_t_batch_t *b = vm_malloc(sizeof *b);
    if (!b) { atomic_fetch_add(&vm_t_bad, 1); break; }
    b->seed = k;
    for (size_t i = 0; i < VM_T_BATCH; i++) {
      b->n[i] = vm_t_size(&s);
      b->p[i] = vm_malloc(b->n[i]);
      if (!b->p[i]) { atomic_fetch_add(&vm_t_bad, 1); b->n[i] = 0; continue; }
      for (size_t j = 0; j < b->n[i]; j++) b->p[i][j] = vm_t_byte(k, i, j);
    }
    vm_t_put(b);
    if (k == VM_T_BATCHES / 5) atomic_store(&vm_t_mapped_warm, vm_mapped_bytes());
  }
  atomic_store(&vm_t_mapped_end, vm_mapped_bytes());
  vm_t_put(NULL);
  return NULL;
}

static void *vm_t_consumer(void *arg) {
  (void)arg;
  for (vm_t_batch_t *b; (b = vm_t_get()) != NULL;) {
    long bad = 0;
    for (size_t i = 0; i < VM_T_BATCH; i++) {
      for (size_t j = 0; j < b->n[i]; j++) bad += b->p[i][j] != vm_t_byte(b->seed, i, j);
      vm_free(b->p[i]);
    }
    atomic_fetch_add(&vm_t_bad, bad);
    vm_free(b);
  }
  return NULL;
}

static void test_producer_consumer(void) {
  pthread_t prod, cons;
  VT_CHECK(pthread_create(&cons, NULL, vm_t_consumer, NULL) == 0);
  VT_CHECK(pthread_create(&prod, NULL, vm_t_producer, NULL) == 0);
  pthread_join(prod, NULL);
  pthread_join(cons, NULL);
  size_t warm = atomic_load(&vm_t_mapped_warm), end = atomic_load(&vm_t_mapped_end);
  printf("producer -> consumer: mapped %zu KiB after warm-up, %zu KiB at the end\n",
         warm >> 10, end >> 10);
  VT_CHECK(atomic_load(&vm_t_bad) == 0);
  /* The queue holds at most 64 batches (~25 MiB); growth beyond the warm
   * point must stay well below what one more fifth of the run allocates. */
  VT_CHECK(end <= warm + (48u << 20));
}

/* ---- thread exit ------------------------------------------------------- */
#define VM_T_WAVES 40
#define VM_T_WIDTH 4
#define VM_T_LEFT 300 /* blocks each exiting thread leaves behind */

typedef struct vm_t_left {
  unsigned char *p[VM_T_LEFT];
  size_t n[VM_T_LEFT];
} vm_t_left_t;

static void *vm_t_leaver(void *arg) {
  vm_t_left_t *l = arg;
  for (size_t i = 0; i < VM_T_LEFT; i++) {
    l->n[i] = i % 50 == 0 ? 70000 : 8 + (i * 37) % 2000;
    l->p[i] = vm_malloc(l->n[i]);
    if (l->p[i]) memset(l->p[i], (int)(i & 0xFF), l->n[i]);
    else atomic_fetch_add(&vm_t_bad, 1), l->n[i] = 0;
  }
  void *tmp[100]; /* churn the exiting thread gives back */
  for (int i = 0; i < 100; i++) tmp[i] = vm_malloc((size_t)i * 64 + 1);
  for (int i = 0; i < 100; i++) vm_free(tmp[i]);
  return NULL;
}

/* Check and free half of the blocks of l (the other half: `which`). */
static void vm_t_free_half(vm_t_left_t *l, size_t which) {
  long bad = 0;
  for (size_t i = which; i < VM_T_LEFT; i += 2) {
    for (size_t j = 0; j < l->n[i]; j++) bad += l->p[i][j] != (unsigned char)(i & 0xFF);
    vm_free(l->p[i]);
  }
  atomic_fetch_add(&vm_t_bad, bad);
}

static void *vm_t_cleaner(void *arg) {
  vm_t_left_t *ls = arg;
  for (int i = 0; i < VM_T_WIDTH; i++) vm_t_free_half(&ls[i], 1);
  return NULL;
}

static void test_thread_exit(void) {
  static vm_t_left_t left[VM_T_WIDTH];
  size_t heaps0 = vm_heap_count(), mapped_mid = 0;
  for (int wave = 0; wave < VM_T_WAVES; wave++) {
    pthread_t t[VM_T_WIDTH];
    for (int i = 0; i < VM_T_WIDTH; i++) pthread_create(&t[i], NULL, vm_t_leaver, &left[i]);
    for (int i = 0; i < VM_T_WIDTH; i++) pthread_join(t[i], NULL);
    /* All of them exited: their blocks are in abandoned heaps now. */
    pthread_t cleaner;
    pthread_create(&cleaner, NULL, vm_t_cleaner, left);
    for (int i = 0; i < VM_T_WIDTH; i++) vm_t_free_half(&left[i], 0);
    pthread_join(cleaner, NULL);
    if (wave == VM_T_WAVES / 4) mapped_mid = vm_mapped_bytes();
  }
  size_t heaps = vm_heap_count() - heaps0, mapped_end = vm_mapped_bytes();
  printf("thread exit: %d threads started, %zu heaps created, mapped %zu KiB at "
         "wave %d, %zu KiB at the end\n",
         VM_T_WAVES * (VM_T_WIDTH + 1), heaps, mapped_mid >> 10,
         VM_T_WAVES / 4, mapped_end >> 10);
  VT_CHECK(atomic_load(&vm_t_bad) == 0);
  VT_CHECK(heaps <= VM_T_WIDTH + 2); /* adopted, not one per thread */
  VT_CHECK(mapped_end <= mapped_mid + (8u << 20));
}

int main(void) {
  vm_free(vm_malloc(1)); /* the main thread's heap exists before counting */
  test_producer_consumer();
  test_thread_exit();
  printf("backend: %s\n", vm_backend_name());
  return va_check_summary();
}
