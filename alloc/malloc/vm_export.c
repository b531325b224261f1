/* vedalloc drop-in — the standard names, exported by the libraries.
 *
 * Kept apart from vm_api.c so tests (and sanitizer builds, whose runtime
 * owns malloc) can link the same code without replacing the process malloc.
 * Each wrapper compiles to one direct jump, to the hidden _local alias of
 * its vm_ function (vm_backend.h). Visibility is default even if the
 * library is built with -fvisibility=hidden.
 */
#include <stddef.h>

#include "alloc/malloc/vm_backend.h"

#define VM_EXPORT __attribute__((visibility("default")))

VM_EXPORT void *malloc(size_t size) { return vm_malloc_local(size); }
VM_EXPORT void free(void *ptr) { vm_free_local(ptr); }
VM_EXPORT void *calloc(size_t count, size_t size) { return vm_calloc_local(count, size); }
VM_EXPORT void *realloc(void *ptr, size_t size) { return vm_realloc_local(ptr, size); }
VM_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  return vm_reallocarray_local(ptr, count, size);
}
VM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size) {
  return vm_posix_memalign_local(memptr, alignment, size);
}
VM_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  return vm_aligned_alloc_local(alignment, size);
}
VM_EXPORT void *memalign(size_t alignment, size_t size) {
  return vm_memalign_local(alignment, size);
}
VM_EXPORT void *valloc(size_t size) { return vm_valloc_local(size); }
VM_EXPORT void *pvalloc(size_t size) { return vm_pvalloc_local(size); }
VM_EXPORT size_t malloc_usable_size(void *ptr) { return vm_malloc_usable_size_local(ptr); }
/* glibc's old name for free, still called by some programs. */
VM_EXPORT void cfree(void *ptr) { vm_free_local(ptr); }
