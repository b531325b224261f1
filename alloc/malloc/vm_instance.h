/* vedalloc drop-in — the backend of libvedalloc.so as an allocator
 * instance with virtual threads (vm_instance.c), for the harnesses: the
 * registry's "v2-dropin". */
#ifndef VEDALLOC_MALLOC_VM_INSTANCE_H
#define VEDALLOC_MALLOC_VM_INSTANCE_H

#include "alloc/allocator.h"
#include "alloc/malloc/vm_heaps.h"

extern const va_allocator_t vm_instance_allocator;

/* An instance (its layout, for the corruption tests). */
typedef struct vm_instance {
  vm_pool_t pool;
  vm_slot_t slot[VA_MAX_THREADS];   /* each virtual thread's heap slot */
  bool running[VA_MAX_THREADS];     /* started and not exited */
  unsigned cur;                     /* the thread the calls run as */
  size_t live, peak;                /* threads running; the most at once */
} vm_instance_t;

#endif
