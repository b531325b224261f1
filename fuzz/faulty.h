/* vedalloc — a test-only faulty allocator: a wrapper over a real allocator
 * that injects one planted bug, so the harnesses can prove they bite.
 * Never linked into anything but tests. */
#ifndef VEDALLOC_FUZZ_FAULTY_H
#define VEDALLOC_FUZZ_FAULTY_H

#include "alloc/allocator.h"

typedef enum va_fault {
  VA_FAULT_NONE = 0,
  VA_FAULT_OVERLAP,        /* returns a pointer inside a live block */
  VA_FAULT_SAME_TWICE,     /* hands the same live block out twice */
  VA_FAULT_REALLOC_LOSES,  /* realloc drops bytes of the old contents */
  VA_FAULT_MISALIGNED,     /* returns a pointer off the 16-byte grid */
  VA_FAULT_USABLE_LIES,    /* usable_size reports more than is real */
  VA_FAULT_V1_GROW_ALIAS,  /* original V1: nothing fits and the last block is
                              in use -> grow it and return it again */
  VA_FAULT_V2_DOUBLE_FREE, /* original V2: a block freed twice is handed out
                              by the next two allocations */
  VA_FAULT_V2_MAGIC_SPOOF, /* original V2: user data equal to the large-block
                              magic before a small block sends free down the
                              large path: the block is silently leaked */
  VA_FAULT_KINDS
} va_fault_t;

/* Stable name, e.g. "overlap". */
const char *va_fault_name(va_fault_t f);

/* An allocator table over `inner` that injects `fault` (deterministically,
 * after a few clean operations). The table is valid until the next call. */
const va_allocator_t *va_faulty(const va_allocator_t *inner, va_fault_t fault);

#endif
