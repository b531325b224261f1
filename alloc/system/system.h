/* vedalloc — the process's own malloc (glibc, or whatever is preloaded) as a
 * reference allocator. One "instance" is a counter of live blocks; memory
 * comes from and goes back to the process heap. No checker, no statistics:
 * harness-level checks (shadow model) still apply. */
#ifndef VEDALLOC_SYSTEM_H
#define VEDALLOC_SYSTEM_H

#include "alloc/allocator.h"

extern const va_allocator_t sys_allocator;

#endif
