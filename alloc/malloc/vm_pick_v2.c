/* vedalloc drop-in — libvedalloc.so: V2 (slabs over mmap) behind one lock.
 *
 * Interim backend: thread-safe but serialising. The per-thread-heap backend
 * (vm_heaps.c, remote-free lists, heap pool) replaces this file once V2
 * exposes a process-wide owner lookup; see the plan in vm_backend.h. */
#include "alloc/malloc/vm_backend.h"
#include "alloc/slab/slab.h"

const va_allocator_t *const vm_locked_base = &sl_allocator;
const char vm_be_name[] = "v2-slab/one-lock";
