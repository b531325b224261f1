/* TEMPORARY: V2 behind one lock until vm_heaps.c lands. */
#include "alloc/slab/slab.h"
#include "alloc/malloc/vm_backend.h"

const va_allocator_t *const vm_locked_base = &sl_allocator;
const char vm_be_name[] = "v2-slab/one-lock";
