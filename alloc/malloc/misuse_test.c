/* vedalloc drop-in — invalid and double frees reach the error hook.
 *
 * Each case runs in a child whose stderr is a pipe: the child must die of
 * SIGABRT after printing the default hook's message, e.g.
 *   vedalloc: free(): double free of 0x...
 * Cases: a double free on the same thread, a double free where the first
 * free came from another thread, a pointer into the middle of a block.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

static void vm_t_double_free(void) {
  char *p = vm_malloc(40);
  vm_free(p);
  vm_free(p);
}

/* Large (above V2's 32 KiB classes) but small enough for the drop-in's
 * 1 MiB large cache to keep the freed mapping: the second free then finds
 * it and says "double free". A mapping over the cache budget is unmapped at
 * once, and its second free reads as an invalid pointer (still aborts). */
static void vm_t_double_free_large(void) {
  char *p = vm_malloc(256 << 10);
  vm_free(p);
  vm_free(p);
}

static void *vm_t_free_it(void *p) {
  vm_free(p);
  return NULL;
}

static void vm_t_double_free_remote(void) {
  char *p = vm_malloc(40);
  pthread_t t;
  pthread_create(&t, NULL, vm_t_free_it, p);
  pthread_join(t, NULL);
  vm_free(p);
  for (int i = 0; i < 10000; i++) vm_free(vm_malloc(40)); /* may be detected when collected */
}

static void vm_t_interior(void) {
  char *p = vm_malloc(100);
  vm_free(p + 16);
}

/* Run fn in a child; check it aborted and stderr holds `expect`. */
static void vm_t_expect_abort(const char *name, void (*fn)(void), const char *expect) {
  int fd[2];
  if (pipe(fd) != 0) { VT_CHECK(!"pipe"); return; }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 2);
    close(fd[0]);
    alarm(20);
    fn();
    _exit(0); /* not reported: the parent sees exit status 0 */
  }
  close(fd[1]);
  char buf[512] = {0};
  size_t got = 0;
  ssize_t n;
  while (got < sizeof buf - 1 && (n = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)n;
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  bool said = strstr(buf, expect) != NULL;
  printf("%-22s %s, stderr: %s", name, aborted ? "aborted" : "DID NOT ABORT", got ? buf : "(empty)\n");
  VT_CHECK(aborted);
  VT_CHECK(said);
}

int main(void) {
  vm_t_expect_abort("double free", vm_t_double_free, "vedalloc: free(): double free of 0x");
  vm_t_expect_abort("double free (large)", vm_t_double_free_large,
                    "vedalloc: free(): double free of 0x");
  vm_t_expect_abort("double free (remote)", vm_t_double_free_remote,
                    "vedalloc: free(): double free of 0x");
  vm_t_expect_abort("interior pointer", vm_t_interior, "vedalloc: free(): invalid pointer");
  return va_check_summary();
}
