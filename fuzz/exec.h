/* vedalloc — the executor: an op program run by the interpreter
 * (fuzz/interp.h) under the shadow model, with the allocator's own checker,
 * saying which invariant broke first. Shared by every fuzz harness and the
 * property runner.
 *
 * The shadow tracks each live block (pointer, requested size, usable size,
 * fill pattern derived from slot and generation, the words written over
 * it) and after each call asserts:
 *   "shadow.null"      a request that must succeed returned NULL, or an
 *                      impossible one (ENOMEM expected) did not
 *   "shadow.errno"     a failing request left errno != ENOMEM
 *   "shadow.align"     payload not aligned (16 for size >= 16)
 *   "shadow.usable"    usable_size < requested
 *   "shadow.overlap"   two live blocks overlap (sorted index, O(log n) per
 *                      op, not a quadratic scan)
 *   "shadow.contents"  a live block's bytes are not what was written
 *   "shadow.realloc"   realloc lost part of the first min(old, new) bytes
 *   "shadow.realloc_failed"  a failed realloc changed the old block
 *   "shadow.calloc"    calloc memory not zero
 *   "shadow.memalign"  aligned block not aligned as asked
 *   "check:<name>"     the allocator's own checker failed (its invariant)
 *   "empty:<name>"     after freeing everything, check_empty failed
 *   "error:<kind>"     the allocator raised its error hook on a valid call
 *                      (the interpreter's judgement, interp.h)
 *   "misuse.unreported" a bad op's call did not raise the hook
 *   "misuse.kind"      it raised the wrong kind: a pointer inside a live
 *                      block is "not a block"; a foreign, stack or global
 *                      pointer is "invalid"; a stale one is a "double free"
 *                      while its memory is as the program left it, or
 *                      "not a block" / "invalid" once the allocator reused
 *                      or returned it (which the shadow cannot see), but
 *                      "not a block" when it lies inside a live block
 *   "misuse.repeated"  it raised more than once
 *   "misuse.result"    a bad realloc did not return NULL with EINVAL
 *   "crash"            (props only) the child died on a signal
 * After every bad op the allocator's checker runs and every live block is
 * verified: a misuse must change nothing.
 *
 * A memalign op on an allocator without memalign is a no-op. An invalid
 * alignment (not a power of two, or < sizeof(void *)) may fail with EINVAL
 * or ENOMEM, or succeed. Every program ends by freeing all slots (each
 * block's contents verified), ending every thread, check(), then
 * check_empty().
 */
#ifndef VEDALLOC_FUZZ_EXEC_H
#define VEDALLOC_FUZZ_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"
#include "fuzz/interp.h"
#include "fuzz/ops.h"

typedef struct va_exec_config {
  size_t check_every;      /* run allocator check() every k ops (0: never; 1: every op) */
  size_t contents_every;   /* verify all live contents every k ops (0: only on free/realloc) */
  bool check_empty_at_end; /* free everything at the end and require the empty state */
  size_t max_request;      /* requests above this are expected to fail with ENOMEM or
                              succeed; below it they must succeed (default 64 MiB) */
  size_t skip_above;       /* 0: off. Else ops whose request is above this but still
                              possible (<= PTRDIFF_MAX, no overflow) are skipped:
                              for the process malloc under libFuzzer, where a
                              multi-GiB malloc counts as an OOM crash (memalign:
                              also alignments above it) */
  size_t skip_until;       /* end of that skipped window (0: PTRDIFF_MAX). The
                              allocators' harnesses skip (64 MiB, PTRDIFF_MAX
                              - 4 GiB]: such blocks may succeed by overcommit
                              and cost a memset (calloc) or GiBs of ASan shadow
                              per run; the sizes just below PTRDIFF_MAX, where
                              rounding overflows live, cannot succeed and run */
  bool misuse;             /* run the bad ops (the allocator reports misuse) */
  bool canaries;           /* an overflow past a block is reported by its free
                              (registry: va_entry_t.canaries) */
} va_exec_config_t;

/* When may a possible request fail (NULL + ENOMEM) without it being a bug?
 *   - its size (calloc: product; memalign: size + alignment) > max_request;
 *   - a REGION source is in use (a bounded heap, e.g. V1 in the fuzzer) and
 *     live usable bytes + request > region_size / 2, or the request is above
 *     region_size / (2 * (VA_SLOTS + 1)): with at most VA_SLOTS live blocks
 *     the free space is cut into at most VA_SLOTS + 1 holes, so below both
 *     bounds some hole must fit it, whatever the fragmentation.
 * Any other NULL is "shadow.null"; a NULL with errno != ENOMEM is
 * "shadow.errno" (memalign with an invalid alignment may say EINVAL). */

/* The defaults: check every op, contents every 16 ops, empty check on,
 * max_request 64 MiB, skip_above off, no bad ops. */
va_exec_config_t va_exec_config_default(void);

/* Run ops on a fresh instance of a under the shadow model; true when every
 * invariant held; otherwise false with *fail filled (never aborts on an
 * invariant; a real crash still crashes). `extra` observers (NULL/0: none)
 * watch the same run after the shadow, e.g. a property's own model. */
bool va_exec(const va_allocator_t *a, const va_options_t *opts,
             const va_op_t *ops, size_t n, const va_exec_config_t *cfg,
             va_failure_t *fail);
bool va_exec_observed(const va_allocator_t *a, const va_options_t *opts,
                      const va_op_t *ops, size_t n, const va_exec_config_t *cfg,
                      const va_observer_t *extra, size_t nextra,
                      va_failure_t *fail);

#endif
