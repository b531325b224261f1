/* vedalloc heapmap — the growable buffer: mmap and mremap, never malloc,
 * so the tool's own storage stays out of the process heap it may draw. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tools/heapmap/heapmap.h"

void hm_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "heapmap: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

void hm_buf_reserve(hm_buf_t *b, size_t more) {
  if (b->cap - b->len >= more) return;
  size_t cap = b->cap ? b->cap : 1u << 16;
  while (cap - b->len < more) cap *= 2;
  void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE)
                 : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) hm_die("out of memory (a buffer of %zu bytes)", cap);
  b->p = p;
  b->cap = cap;
}

void *hm_buf_push(hm_buf_t *b, const void *src, size_t n) {
  hm_buf_reserve(b, n);
  void *dst = b->p + b->len;
  if (src) memcpy(dst, src, n);
  else memset(dst, 0, n);
  b->len += n;
  return dst;
}

void hm_buf_printf(hm_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  hm_buf_reserve(b, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void hm_buf_free(hm_buf_t *b) {
  if (b->p) munmap(b->p, b->cap);
  b->p = NULL;
  b->len = b->cap = 0;
}
