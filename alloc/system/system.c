/* vedalloc — reference adapter over the process malloc.
 *
 * Every call goes through this table exactly as it does for our allocators,
 * so a benchmark charges each allocator the same indirection. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "alloc/system/system.h"

typedef struct sys_heap {
  size_t live_blocks; /* malloc'd and not yet freed through this instance */
} sys_heap_t;

static void *sys_create(const va_options_t *opts) {
  (void)opts;
  return calloc(1, sizeof(sys_heap_t));
}

static void sys_destroy(void *heap) { free(heap); }

/* glibc accepts sizes up to PTRDIFF_MAX only in recent versions; enforce the
 * shared contract here so differential tests compare like with like. */
static void *sys_malloc(void *heap, size_t n) {
  if (n > (size_t)PTRDIFF_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = malloc(n);
  if (p) ((sys_heap_t *)heap)->live_blocks++;
  return p;
}

static void sys_free(void *heap, void *p) {
  if (p) ((sys_heap_t *)heap)->live_blocks--;
  free(p);
}

/* realloc(p, 0) in glibc frees and returns NULL; the shared contract returns a
 * minimum block instead, so ask for 1 byte. */
static void *sys_realloc(void *heap, void *p, size_t n) {
  if (n > (size_t)PTRDIFF_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  void *q = realloc(p, n ? n : 1);
  if (q && !p) ((sys_heap_t *)heap)->live_blocks++;
  return q;
}

static void *sys_calloc(void *heap, size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total) ||
      total > (size_t)PTRDIFF_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = calloc(count, size);
  if (p) ((sys_heap_t *)heap)->live_blocks++;
  return p;
}

static void *sys_memalign(void *heap, size_t alignment, size_t n) {
  void *p = NULL;
  int rc = posix_memalign(&p, alignment, n);
  if (rc != 0) {
    errno = rc;
    return NULL;
  }
  ((sys_heap_t *)heap)->live_blocks++;
  return p;
}

static size_t sys_usable_size(void *heap, const void *p) {
  (void)heap;
  return p ? malloc_usable_size((void *)p) : 0;
}

const va_allocator_t sys_allocator = {
    .name = "system",
    .create = sys_create,
    .destroy = sys_destroy,
    .malloc = sys_malloc,
    .free = sys_free,
    .realloc = sys_realloc,
    .calloc = sys_calloc,
    .memalign = sys_memalign,
    .usable_size = sys_usable_size,
    .check = NULL,
    .stats = NULL,
    .check_empty = NULL,
};
