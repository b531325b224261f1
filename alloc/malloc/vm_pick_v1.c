/* vedalloc drop-in — libvedalloc_v1.so: V1 (first fit over sbrk) behind one lock. */
#include "alloc/firstfit/firstfit.h"
#include "alloc/malloc/vm_backend.h"

const va_allocator_t *const vm_locked_base = &ff_allocator;
const char vm_be_name[] = "v1-firstfit/one-lock";
