/* vedalloc drop-in — the C allocation API over a backend.
 *
 * Policy: this file owns argument checking and the exact error semantics of
 * every entry point (see vedalloc.h); the backend (vm_backend.h) owns memory
 * and threads. Every check here is a compare or a checked multiply, so the
 * cost over the backend's fast path is a few instructions.
 *
 * Alignment: requests for an alignment <= VA_ALIGNMENT are plain mallocs of
 * at least `alignment` bytes (a block of >= 16 bytes is 16-aligned, a
 * smaller one is aligned to its rounded size); larger alignments go to the
 * backend's memalign.
 *
 * Hardened mode (vm_harden.c): each entry point, after its argument
 * checks, goes to the hardened layer instead of the backend; the test is
 * one load of the mode, decided at the first call.
 *
 * Introspection (mallinfo, malloc_info, malloc_trim, ...): vm_introspect.c.
 * Non-goals: mallopt (glibc's own, untouched), and
 * glibc's realloc(p, 0) == NULL behaviour (we return a minimum block).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "alloc/harden/harden.h"
#include "alloc/internal.h"
#include "alloc/malloc/vedalloc.h"
#include "alloc/malloc/vm_backend.h"

/* ---- helpers ------------------------------------------------------------ */

/* Smallest power of two >= a (a >= 1, a <= 2^63). */
static size_t vm_pow2_ceil(size_t a) {
  if (a <= 1) return 1;
  return (size_t)1 << (64 - __builtin_clzll((unsigned long long)(a - 1)));
}

static size_t vm_page_size(void) {
  static atomic_size_t page; /* racing writers store the same value */
  size_t p = atomic_load_explicit(&page, memory_order_relaxed);
  if (!p) {
    p = (size_t)sysconf(_SC_PAGESIZE);
    atomic_store_explicit(&page, p, memory_order_relaxed);
  }
  return p;
}

/* The one aligned path: alignment a power of two. NULL + errno on failure. */
static void *vm_aligned(size_t alignment, size_t size) {
  if (VA_UNLIKELY(size > VA_MAX_REQUEST || alignment > VA_MAX_REQUEST))
    return va_enomem();
  if (VM_HARDENED()) return hd_memalign(vm_hd, alignment, size);
  if (alignment <= VA_ALIGNMENT) {
    /* A block of >= alignment bytes is aligned at least to alignment. */
    return vm_be_malloc(size < alignment ? alignment : size);
  }
  if (VA_UNLIKELY(size > VA_MAX_REQUEST - alignment)) return va_enomem();
  return vm_be_memalign(alignment, size);
}

/* ---- standard ----------------------------------------------------------- */

/* malloc and free leave every mode but plain (undecided, hardened) to a
 * function of its own, called in tail position, so their plain path calls
 * nothing in its middle and saves no register. */
static __attribute__((noinline)) void *vm_malloc_moded(size_t size) {
  if (vm_mode_hardened()) return hd_malloc(vm_hd, size);
  return vm_be_malloc(size);
}

static __attribute__((noinline)) void vm_free_moded(void *ptr) {
  if (vm_mode_hardened()) hd_free(vm_hd, ptr);
  else vm_be_free(ptr);
}

void *vm_malloc(size_t size) {
  if (VA_UNLIKELY(size > VA_MAX_REQUEST)) return va_enomem();
  if (!VM_PLAIN()) return vm_malloc_moded(size);
  return vm_be_malloc(size);
}

void vm_free(void *ptr) {
  if (VA_UNLIKELY(ptr == NULL)) return;
  if (!VM_PLAIN()) vm_free_moded(ptr);
  else vm_be_free(ptr);
}

void *vm_calloc(size_t count, size_t size) {
  size_t total;
  if (VA_UNLIKELY(!va_mul_ok(count, size, &total) || total > VA_MAX_REQUEST))
    return va_enomem();
  if (VM_HARDENED()) return hd_calloc(vm_hd, 1, total);
  return vm_be_calloc(total);
}

void *vm_realloc(void *ptr, size_t size) {
  if (VA_UNLIKELY(size > VA_MAX_REQUEST)) return va_enomem();
  if (VM_HARDENED()) return hd_realloc(vm_hd, ptr, size);
  if (ptr == NULL) return vm_be_malloc(size);
  return vm_be_realloc(ptr, size);
}

void *vm_reallocarray(void *ptr, size_t count, size_t size) {
  size_t total;
  if (VA_UNLIKELY(!va_mul_ok(count, size, &total))) return va_enomem();
  return vm_realloc_local(ptr, total); /* direct, not through the PLT */
}

int vm_posix_memalign(void **memptr, size_t alignment, size_t size) {
  if (!VA_IS_POW2(alignment) || alignment % sizeof(void *) != 0)
    return EINVAL;
  int saved = errno; /* POSIX: the result is returned, errno is not ours to set */
  void *p = vm_aligned(alignment, size);
  errno = saved;
  if (p == NULL) return ENOMEM;
  *memptr = p;
  return 0;
}

void *vm_aligned_alloc(size_t alignment, size_t size) {
  if (!VA_IS_POW2(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  return vm_aligned(alignment, size);
}

void *vm_memalign(size_t alignment, size_t size) {
  if (alignment > ((size_t)1 << 62)) return va_enomem(); /* no power of two above it fits */
  return vm_aligned(vm_pow2_ceil(alignment), size);
}

void *vm_valloc(size_t size) { return vm_aligned(vm_page_size(), size); }

void *vm_pvalloc(size_t size) {
  size_t page = vm_page_size();
  if (size > VA_MAX_REQUEST) return va_enomem();
  size_t rounded = size == 0 ? page : VA_ALIGN_UP(size, page);
  return vm_aligned(page, rounded);
}

size_t vm_malloc_usable_size(const void *ptr) {
  if (ptr == NULL) return 0;
  return VM_HARDENED() ? hd_usable_size(vm_hd, ptr) : vm_be_usable_size(ptr);
}

/* The hidden twins the standard names call (vm_backend.h). */
#define VM_LOCAL_DEF(name) \
  extern __typeof(name) name##_local __attribute__((alias(#name)));
VM_LOCAL_DEF(vm_malloc)
VM_LOCAL_DEF(vm_free)
VM_LOCAL_DEF(vm_calloc)
VM_LOCAL_DEF(vm_realloc)
VM_LOCAL_DEF(vm_reallocarray)
VM_LOCAL_DEF(vm_posix_memalign)
VM_LOCAL_DEF(vm_aligned_alloc)
VM_LOCAL_DEF(vm_memalign)
VM_LOCAL_DEF(vm_valloc)
VM_LOCAL_DEF(vm_pvalloc)
VM_LOCAL_DEF(vm_malloc_usable_size)
#undef VM_LOCAL_DEF

const char *vm_backend_name(void) { return vm_be_name; }
size_t vm_heap_count(void) { return vm_be_heap_count(); }
size_t vm_mapped_bytes(void) { return vm_be_mapped_bytes(); }
