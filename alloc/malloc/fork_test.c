/* vedalloc drop-in — fork from a second thread while others allocate.
 *
 * Three threads churn malloc/free/realloc; a fourth forks 20 times. Each
 * child (one thread, inheriting whatever state the others were in) must be
 * able to allocate, free, realloc and memalign at once, and free blocks its
 * parent's threads allocated, without deadlock (an alarm kills a stuck
 * child) or corruption. The pthread_atfork handlers make that hold.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

/* TSan cannot start threads in the child of a multi-threaded fork. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VM_T_TSAN 1
#endif
#endif
#ifndef VM_T_TSAN
#define VM_T_TSAN 0
#endif

static atomic_bool vm_t_stop;
static atomic_int vm_t_started; /* churners running their loop */
static void *vm_t_shared[64]; /* blocks made by churners, freed by children */

static void *vm_t_churn(void *arg) {
  unsigned s = (unsigned)(uintptr_t)arg;
  atomic_fetch_add(&vm_t_started, 1);
  void *slot[128] = {0};
  while (!atomic_load(&vm_t_stop)) {
    s = s * 1103515245u + 12345u;
    unsigned i = (s >> 8) % 128;
    size_t n = (s >> 16) % 3000 + 1;
    if (slot[i]) {
      slot[i] = (s & 1) ? vm_realloc(slot[i], n) : (vm_free(slot[i]), NULL);
    } else {
      slot[i] = vm_malloc(n);
    }
    if (slot[i]) memset(slot[i], 1, n < 16 ? n : 16);
  }
  for (int i = 0; i < 128; i++) vm_free(slot[i]);
  return NULL;
}

/* Work the child does; returns 0 when everything held. */
static int vm_t_child(void) {
  alarm(20);
  for (int i = 0; i < 64; i++) vm_free(vm_t_shared[i]);
  void *p[500];
  for (int i = 0; i < 500; i++) {
    p[i] = (i % 5 == 0) ? vm_memalign(256, (size_t)i * 13 + 1) : vm_malloc((size_t)i * 13 + 1);
    if (!p[i]) return 2;
    memset(p[i], i & 0xFF, (size_t)i * 13 + 1);
  }
  for (int i = 0; i < 500; i++) {
    unsigned char *q = p[i];
    for (size_t k = 0; k < (size_t)i * 13 + 1; k++)
      if (q[k] != (i & 0xFF)) return 3;
    vm_free(q);
  }
  void *r = vm_realloc(NULL, 10);
  r = vm_realloc(r, 1 << 20);
  if (!r) return 4;
  vm_free(r);
  if (VM_T_TSAN) return 0;
  /* a thread in the child, too */
  pthread_t t;
  atomic_store(&vm_t_stop, false);
  if (pthread_create(&t, NULL, vm_t_churn, (void *)7) != 0) return 5;
  usleep(1000);
  atomic_store(&vm_t_stop, true);
  pthread_join(t, NULL);
  return 0;
}

static void *vm_t_forker(void *arg) {
  int *failures = arg;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 64; i++) vm_t_shared[i] = vm_malloc((size_t)i * 50 + 8);
    pid_t pid = fork();
    if (pid == 0) _exit(vm_t_child());
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "child %d: status 0x%x\n", round, status);
      (*failures)++;
    }
    for (int i = 0; i < 64; i++) vm_free(vm_t_shared[i]);
    usleep(2000);
  }
  return NULL;
}

int main(void) {
  pthread_t churners[3], forker;
  for (int i = 0; i < 3; i++)
    VT_CHECK(pthread_create(&churners[i], NULL, vm_t_churn, (void *)(uintptr_t)(i + 1)) == 0);
  /* No fork while a churner is still starting: a sanitizer runtime's own
   * allocator (ASan's in clang 14 has no fork handler) frees during thread
   * start, and a child forked with its lock held hangs in its first
   * pthread_create (gdb: SizeClassAllocator64::GetFromAllocator), in 1-2
   * runs of 60 under load. After this, only our allocator runs. */
  while (atomic_load(&vm_t_started) < 3) sched_yield();
  int failures = 0;
  VT_CHECK(pthread_create(&forker, NULL, vm_t_forker, &failures) == 0);
  pthread_join(forker, NULL);
  atomic_store(&vm_t_stop, true);
  for (int i = 0; i < 3; i++) pthread_join(churners[i], NULL);
  VT_CHECK(failures == 0);
  return va_check_summary();
}
