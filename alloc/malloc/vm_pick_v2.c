/* vedalloc drop-in — V2 (slabs over mmap) behind one lock (:core_v2_locked).
 *
 * Not the library's backend any more (libvedalloc.so uses vm_heaps.c, one
 * heap per thread); kept as a baseline for measuring what the per-thread
 * heaps buy. */
#include "alloc/malloc/vm_backend.h"
#include "alloc/slab/slab.h"

const va_allocator_t *const vm_locked_base = &sl_allocator;
const char vm_be_name[] = "v2-slab/one-lock";
