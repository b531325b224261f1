/* vedalloc drop-in — the backend of libvedalloc.so as an allocator
 * instance with virtual threads (vm_instance.c), for the harnesses: the
 * registry's "v2-dropin". */
#ifndef VEDALLOC_MALLOC_VM_INSTANCE_H
#define VEDALLOC_MALLOC_VM_INSTANCE_H

#include "alloc/allocator.h"

extern const va_allocator_t vm_instance_allocator;

#endif
