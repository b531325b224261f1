/* vedalloc V2 — the memory source (os.c): the only code that gets memory.
 *
 * A source is the OS (src == NULL: mmap, munmap, mremap, madvise) or a
 * caller's region (VA_SOURCE_REGION) cut into 64 KiB chunks, for harnesses
 * that run one heap after another on the same memory: no system call, no
 * page fault after the first input, and the same addresses for the same
 * program. Every mapping is a whole number of chunks, chunk-aligned.
 *
 * Region memory may hold a previous user's bytes; the OS's is zero. A
 * caller that needs zero memory passes zeroed == NULL and gets it (the
 * region clears what is not known to be clean); one that can do with
 * dirty memory passes a flag and is told. Giving back memory the caller
 * knows is zero (sl_os_unmap_zero: map leaves and tops whose entries are
 * all clear) keeps it clean, so it is not cleared again.
 * A region source is single-threaded (the harness instances).
 */
#ifndef VEDALLOC_SLAB_OS_H
#define VEDALLOC_SLAB_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"

typedef struct sl_source sl_source_t;

/* A source over [region, region + size): its state lives in the region's
 * first chunk, and stays there once every heap on it is destroyed, so the
 * next source opened on the same region knows which chunks are still zero
 * (a caller that writes the region in between must clear that chunk).
 * zero: the caller promises the region reads as zero (a fresh mmap), so
 * no chunk of it is cleared before it is first used.
 * NULL with EINVAL when the region cannot hold it and a heap. */
sl_source_t *sl_source_open(void *region, size_t size, bool zero);

/* The source that options name: *src = NULL for the OS (DEFAULT, MMAP),
 * a region's (REGION, opened as above); false with errno EINVAL for any
 * other source (sbrk) or a region that cannot hold one. */
bool sl_source_from(const va_options_t *o, sl_source_t **src);

/* size bytes aligned to align (a power of two), or NULL. */
void *sl_os_map(sl_source_t *src, size_t size, size_t align, bool *zeroed);
void sl_os_unmap(sl_source_t *src, void *p, size_t size);
/* Give back memory that was mapped zero (zeroed == NULL), is all zero
 * again and was never poisoned (heap and instance records, map tops and
 * leaves, the drop-in's heap slots): a region keeps its chunks clean, and
 * ASan's shadow of it is already clear. */
void sl_os_unmap_zero(sl_source_t *src, void *p, size_t size);
/* Extend [p, p + old) to new bytes in place, or false (nothing changed). */
bool sl_os_grow(sl_source_t *src, void *p, size_t old_size, size_t new_size);
/* Move [p, p + old) with its pages to a new chunk-aligned range of new
 * bytes (mremap: page tables move, nothing is copied or faulted in again;
 * a region copies into a run of its own); the tail past old reads zero.
 * NULL when it cannot (no room, or the kernel refused): nothing changed. */
void *sl_os_move(sl_source_t *src, void *p, size_t old_size, size_t new_size);
/* Drop the pages, keep the range: true when they now read back zero (the
 * OS's: MADV_DONTNEED); false when nothing may be assumed of them (a
 * region keeps its pages, or the advice failed). */
bool sl_os_discard(sl_source_t *src, void *p, size_t size);

/* Monotonic time for the idle pool's decay (coarse clock: ~10 ns). */
uint64_t sl_now_ns(void);

#endif /* VEDALLOC_SLAB_OS_H */
