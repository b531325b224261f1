/* vedalloc V1 — the memory source: the only file that talks to the OS.
 *
 * Every source looks like a break that moves up and down:
 *   SBRK    the process break (sbrk). Shared with anyone else who calls sbrk
 *           or brk (glibc's malloc does), so callers compare ff_os_break()
 *           with os->brk before assuming growth is contiguous.
 *   MMAP    one private reservation (MAP_NORESERVE, 1 GiB by default) used as
 *           a private break, so instances are independent. Retracting gives
 *           the pages back with MADV_DONTNEED.
 *   REGION  caller-given memory used as a private break; nothing is mapped
 *           or unmapped, and a fresh create on the same region starts over.
 * The break is moved to a page boundary whenever it moves up, so every
 * segment ends page-aligned (or at the 16-aligned end of a REGION).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc/firstfit/internal.h"

static bool ff_os_fail(int err) {
  errno = err;
  return false;
}

static bool ff_os_open_mmap(ff_os_t *os, size_t want) {
  size_t size = want ? want : FF_MMAP_RESERVE;
  if (size > VA_MAX_REQUEST) return ff_os_fail(ENOMEM);
  size = VA_ALIGN_UP(size, FF_PAGE);
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return ff_os_fail(ENOMEM);
  os->base = os->brk = os->high = (uintptr_t)p;
  os->limit = os->base + size;
  return true;
}

static bool ff_os_open_region(ff_os_t *os, void *region, size_t size) {
  uintptr_t b = (uintptr_t)region, e;
  if (!region || __builtin_add_overflow(b, size, &e)) return ff_os_fail(EINVAL);
  os->base = os->brk = os->high = b;
  os->limit = e;
  return true;
}

/* Resolve the source in o; reserve memory for MMAP. False + errno on failure. */
bool ff_os_open(ff_os_t *os, const va_options_t *o) {
  memset(os, 0, sizeof *os);
  os->kind = o->source == VA_SOURCE_DEFAULT ? VA_SOURCE_SBRK : o->source;
  switch (os->kind) {
  case VA_SOURCE_SBRK: return true;
  case VA_SOURCE_MMAP: return ff_os_open_mmap(os, o->region_size);
  case VA_SOURCE_REGION: return ff_os_open_region(os, o->region, o->region_size);
  default: return ff_os_fail(EINVAL);
  }
}

/* Where the break is now (for SBRK: wherever anybody left it). */
uintptr_t ff_os_break(const ff_os_t *os) {
  if (os->kind == VA_SOURCE_SBRK) return (uintptr_t)sbrk(0);
  return os->brk;
}

static bool ff_os_extend_sbrk(ff_os_t *os, uintptr_t cur, uintptr_t top,
                              uintptr_t *lo, uintptr_t *hi) {
  size_t n = top - cur;
  if (n > VA_MAX_REQUEST) return ff_os_fail(ENOMEM);
  void *old = sbrk((intptr_t)n);
  if (old == (void *)-1) return ff_os_fail(ENOMEM);
  /* Single-threaded, old == cur; if not, report what we really got. */
  *lo = (uintptr_t)old;
  *hi = os->brk = (uintptr_t)old + n;
  return true;
}

/* Move the break up by at least min bytes to a page boundary (or to the
 * 16-aligned end of a private reservation). [*lo, *hi) is the new memory. */
bool ff_os_extend(ff_os_t *os, size_t min, uintptr_t *lo, uintptr_t *hi) {
  uintptr_t cur = ff_os_break(os), want;
  if (cur == (uintptr_t)-1 || min > VA_MAX_REQUEST ||
      __builtin_add_overflow(cur, min, &want) || want > UINTPTR_MAX - FF_PAGE)
    return ff_os_fail(ENOMEM);
  uintptr_t top = VA_ALIGN_UP(want, FF_PAGE);
  if (os->kind == VA_SOURCE_SBRK) return ff_os_extend_sbrk(os, cur, top, lo, hi);
  if (top > os->limit) top = os->limit & ~(uintptr_t)(FF_GRAIN - 1);
  if (top < want) return ff_os_fail(ENOMEM);
  *lo = cur;
  *hi = os->brk = top;
  if (top > os->high) os->high = top;
  return true;
}

/* Move the break down to top. Caller checked the break is still ours. */
void ff_os_retract(ff_os_t *os, uintptr_t top) {
  uintptr_t old = os->brk;
  VA_UNPOISON((void *)top, old - top); /* whoever gets it next sees it clean */
  os->brk = top;
  if (os->kind == VA_SOURCE_SBRK) {
    (void)sbrk(-(intptr_t)(old - top));
  } else if (os->kind == VA_SOURCE_MMAP) {
    uintptr_t p = VA_ALIGN_UP(top, FF_PAGE);
    if (p < old) (void)madvise((void *)p, old - p, MADV_DONTNEED);
  }
}

/* Give back the reservation (MMAP) and clear poison (MMAP, REGION). SBRK
 * segments are retracted by the heap, which knows which are still ours. */
void ff_os_close(ff_os_t *os) {
  if (os->kind == VA_SOURCE_SBRK) return;
  VA_UNPOISON((void *)os->base, os->high - os->base); /* not all of a 1 GiB reservation */
  if (os->kind == VA_SOURCE_MMAP) munmap((void *)os->base, os->limit - os->base);
}
