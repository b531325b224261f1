/* vedalloc V2 — the OS layer (os.c): the only file that maps memory. */
#ifndef VEDALLOC_SLAB_OS_H
#define VEDALLOC_SLAB_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *sl_os_map(size_t size, size_t align); /* align: power of two; NULL on failure */
void sl_os_unmap(void *p, size_t size);
bool sl_os_grow(void *p, size_t old_size, size_t new_size); /* in place or false */
void sl_os_trim(void *p, size_t old_size, size_t new_size); /* give back the tail */
void sl_os_discard(void *p, size_t size); /* drop the pages, keep the range */

/* Monotonic time for the idle pool's decay (coarse clock: ~10 ns). */
uint64_t sl_now_ns(void);

#endif /* VEDALLOC_SLAB_OS_H */
