/* vedalloc drop-in — the standard names, exported by the libraries.
 *
 * Kept apart from vm_api.c so tests (and sanitizer builds, whose runtime
 * owns malloc) can link the same code without replacing the process malloc.
 * Each wrapper compiles to one jump. Visibility is default even if the
 * library is built with -fvisibility=hidden.
 */
#include <stddef.h>

#include "alloc/malloc/vedalloc.h"

#define VM_EXPORT __attribute__((visibility("default")))

VM_EXPORT void *malloc(size_t size) { return vm_malloc(size); }
VM_EXPORT void free(void *ptr) { vm_free(ptr); }
VM_EXPORT void *calloc(size_t count, size_t size) { return vm_calloc(count, size); }
VM_EXPORT void *realloc(void *ptr, size_t size) { return vm_realloc(ptr, size); }
VM_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  return vm_reallocarray(ptr, count, size);
}
VM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size) {
  return vm_posix_memalign(memptr, alignment, size);
}
VM_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  return vm_aligned_alloc(alignment, size);
}
VM_EXPORT void *memalign(size_t alignment, size_t size) {
  return vm_memalign(alignment, size);
}
VM_EXPORT void *valloc(size_t size) { return vm_valloc(size); }
VM_EXPORT void *pvalloc(size_t size) { return vm_pvalloc(size); }
VM_EXPORT size_t malloc_usable_size(void *ptr) { return vm_malloc_usable_size(ptr); }
/* glibc's old name for free, still called by some programs. */
VM_EXPORT void cfree(void *ptr) { vm_free(ptr); }
