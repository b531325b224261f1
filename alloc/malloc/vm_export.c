/* vedalloc drop-in — the standard names, exported by the libraries.
 *
 * Kept apart from vm_api.c so tests (and sanitizer builds, whose runtime
 * owns malloc) can link the same code without replacing the process malloc.
 * Each wrapper compiles to one direct jump, to the hidden _local alias of
 * its vm_ function (vm_backend.h); compiled in one unit with the API
 * layer and the backend (vm_lib_v2.c: VM_ONE_UNIT), it calls the vm_
 * function itself, and malloc and free are aliases of theirs.
 * Visibility is default even if the library is built with
 * -fvisibility=hidden.
 */
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>

#include "alloc/malloc/vm_backend.h"

#define VM_EXPORT __attribute__((visibility("default")))
#ifdef VM_ONE_UNIT
#define VM_API(name) name
#else
#define VM_API(name) name##_local
#endif

#ifdef VM_ONE_UNIT
/* The two hottest names are the vm_ functions themselves: no jump between. */
VM_EXPORT void *malloc(size_t size) __attribute__((alias("vm_malloc")));
VM_EXPORT void free(void *ptr) __attribute__((alias("vm_free")));
#else
VM_EXPORT void *malloc(size_t size) { return VM_API(vm_malloc)(size); }
VM_EXPORT void free(void *ptr) { VM_API(vm_free)(ptr); }
#endif
VM_EXPORT void *calloc(size_t count, size_t size) { return VM_API(vm_calloc)(count, size); }
VM_EXPORT void *realloc(void *ptr, size_t size) { return VM_API(vm_realloc)(ptr, size); }
VM_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
  return VM_API(vm_reallocarray)(ptr, count, size);
}
VM_EXPORT int posix_memalign(void **memptr, size_t alignment, size_t size) {
  return VM_API(vm_posix_memalign)(memptr, alignment, size);
}
VM_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  return VM_API(vm_aligned_alloc)(alignment, size);
}
VM_EXPORT void *memalign(size_t alignment, size_t size) {
  return VM_API(vm_memalign)(alignment, size);
}
VM_EXPORT void *valloc(size_t size) { return VM_API(vm_valloc)(size); }
VM_EXPORT void *pvalloc(size_t size) { return VM_API(vm_pvalloc)(size); }
VM_EXPORT size_t malloc_usable_size(void *ptr) { return VM_API(vm_malloc_usable_size)(ptr); }
/* glibc's introspection calls (vm_introspect.c): without them a program
 * calling one would reach glibc's, which knows nothing of our heaps. */
VM_EXPORT struct mallinfo2 mallinfo2(void) { return vm_mallinfo2(); }
VM_EXPORT struct mallinfo mallinfo(void) { return vm_mallinfo(); }
VM_EXPORT void malloc_stats(void) { vm_malloc_stats(); }
VM_EXPORT int malloc_info(int options, FILE *stream) { return vm_malloc_info(options, stream); }
VM_EXPORT int malloc_trim(size_t pad) { return vm_malloc_trim(pad); }
/* glibc's old name for free, still called by some programs. */
VM_EXPORT void cfree(void *ptr) { VM_API(vm_free)(ptr); }
