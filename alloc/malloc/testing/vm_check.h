/* vedalloc drop-in tests — a tiny assert macro and the pass/fail summary. */
#ifndef VEDALLOC_MALLOC_TESTING_VM_CHECK_H
#define VEDALLOC_MALLOC_TESTING_VM_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int vm_t_passed, vm_t_failed;

#define VM_CHECK(e)                                                            \
  do {                                                                         \
    if (e) {                                                                   \
      vm_t_passed++;                                                           \
    } else {                                                                   \
      vm_t_failed++;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #e);    \
    }                                                                          \
  } while (0)

/* Print "N passed, N failed" and return the exit status. */
static inline int vm_t_summary(void) {
  printf("%d passed, %d failed\n", vm_t_passed, vm_t_failed);
  return vm_t_failed ? 1 : 0;
}

#endif
