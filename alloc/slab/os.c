/* vedalloc V2 — the OS layer: the only file that maps or unmaps memory.
 *
 * Every mapping V2 asks for is a whole number of 64 KiB chunks aligned to
 * at least a chunk, so the page map can own chunks outright. Linux places
 * anonymous mappings next to each other, so after the first aligned one
 * most later requests come back aligned at the first try; otherwise we map
 * `align` more and give back the misaligned head and the tail.
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "alloc/slab/os.h"
#include "alloc/slab/types.h"

/* Bytes mapped by every V2 object in the process (sl_mapped_bytes). */
static atomic_size_t sl_os_mapped;

size_t sl_mapped_bytes(void) {
  return atomic_load_explicit(&sl_os_mapped, memory_order_relaxed);
}

static void *sl_os_mmap(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void *sl_os_map(size_t size, size_t align) {
  VA_ASSERT(VA_IS_POW2(align));
  uint8_t *p = sl_os_mmap(size);
  if (p == NULL) return NULL;
  if (((uintptr_t)p & (align - 1)) == 0) { /* align <= 4096: always */
    atomic_fetch_add_explicit(&sl_os_mapped, size, memory_order_relaxed);
    return p;
  }
  munmap(p, size);
  size_t over;
  if (__builtin_add_overflow(size, align, &over)) return NULL;
  p = sl_os_mmap(over);
  if (p == NULL) return NULL;
  uint8_t *a = (uint8_t *)VA_ALIGN_UP((uintptr_t)p, align);
  if (a > p) munmap(p, (size_t)(a - p));
  size_t tail = (size_t)((p + over) - (a + size));
  if (tail) munmap(a + size, tail);
  atomic_fetch_add_explicit(&sl_os_mapped, size, memory_order_relaxed);
  return a;
}

void sl_os_unmap(void *p, size_t size) {
  /* ASan keeps shadow state by address: clear ours before the range can be
   * handed to someone else by the kernel. */
  VA_UNPOISON(p, size);
  munmap(p, size);
  atomic_fetch_sub_explicit(&sl_os_mapped, size, memory_order_relaxed);
}

bool sl_os_grow(void *p, size_t old_size, size_t new_size) {
  if (mremap(p, old_size, new_size, 0) == MAP_FAILED) return false;
  atomic_fetch_add_explicit(&sl_os_mapped, new_size - old_size, memory_order_relaxed);
  return true;
}

void sl_os_discard(void *p, size_t size) {
  madvise(p, size, MADV_DONTNEED); /* advice: a failure loses nothing */
}

void sl_os_trim(void *p, size_t old_size, size_t new_size) {
  sl_os_unmap((uint8_t *)p + new_size, old_size - new_size);
}

uint64_t sl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
