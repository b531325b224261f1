/* vedalloc — the op interpreter: the one meaning of the op language.
 *
 * va_interp_run runs a program (fuzz/ops.h) against a fresh instance: it
 * keeps the slots, performs every allocator call, write, thread switch and
 * misuse exactly as ops.h says, and tells its observers what each call did.
 * The fuzz harness's shadow model (exec.c) is one observer; a property
 * that watches placement or pages is another. Observers see the same
 * program, so no two harnesses can disagree on what an op does.
 *
 * Per op, in order:
 *   1. skipped requests (va_interp_config_t) do nothing at all;
 *   2. an op that refills a full slot first frees it (a call of its own);
 *   3. each call: before-observers, the call (errno cleared, the error hook
 *      armed), then "error:<kind>" if a valid call raised the hook, then
 *      after-observers (which may fail the run);
 *   4. op-end observers (checks after every op, check ops).
 * At the end every slot is freed (from the current thread), every running
 * thread exits, end-observers run, and the instance is destroyed.
 *
 * Complexity: O(1) per op plus the observers' work (a spray or a write is
 * O(owned bytes)); misuse ops scan the slots (O(VA_SLOTS)).
 */
#ifndef VEDALLOC_FUZZ_INTERP_H
#define VEDALLOC_FUZZ_INTERP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/allocator.h"
#include "fuzz/ops.h"

/* What the interpreter needs to know about the program's runner. */
typedef struct va_interp_config {
  size_t skip_above; /* 0: off. Else requests above this but still possible
                        (until skip_until, no overflow) are skipped, and
                        memalign alignments above it, any (exec.h) */
  size_t skip_until; /* end of that window (0: PTRDIFF_MAX) */
  bool misuse;       /* run bad ops (else they are no-ops): the allocator
                        reports misuse through its hook */
  bool canaries;     /* a smash past a block's end must be reported by its
                        free (ops.h: smash) */
} va_interp_config_t;

/* One slot. */
typedef struct va_slot {
  uint8_t *ptr;       /* live block, NULL when empty */
  size_t req;         /* bytes requested */
  size_t usable;      /* usable_size() when it was obtained */
  unsigned writes;    /* word writes since it was filled */
  uint8_t *stale;     /* the last block freed from this slot, or NULL */
} va_slot_t;

/* The allocator calls an op can make. */
typedef enum va_call_kind {
  VA_CALL_MALLOC,
  VA_CALL_FREE,
  VA_CALL_REALLOC,
  VA_CALL_CALLOC,
  VA_CALL_MEMALIGN,
} va_call_kind_t;

/* One call, as observers see it. */
typedef struct va_call {
  va_call_kind_t kind;
  const char *name;  /* "malloc", "free", ... */
  unsigned slot;     /* the slot it serves */
  size_t req;        /* bytes asked: size; calloc: the product (SIZE_MAX on
                        overflow); memalign: the size */
  bool overflow;     /* calloc's product overflowed */
  size_t align;      /* memalign: the alignment; else 0 */
  void *ptr;         /* free/realloc: the pointer passed */
  bool bad;          /* a misuse op's call: ptr is not a live block */
  va_bad_t how;      /* ... and which kind of bad pointer */
  va_slot_t old;     /* the slot before the call (free/realloc: its block) */
  /* after the call: */
  void *result;      /* allocating calls: what came back */
  size_t usable;     /* ... and its usable_size() */
  int err;           /* errno after it */
  int raised;        /* first va_error_kind_t the hook saw (0: none) */
  int raised_count;  /* hook calls during it */
} va_call_t;

typedef struct va_interp va_interp_t;

/* Observers: every callback may be NULL; false stops the run (the
 * callback filled the failure with va_interp_fail). */
typedef struct va_observer {
  void *ctx;
  bool (*start)(void *ctx, va_interp_t *in); /* the instance exists, no op ran */
  bool (*before)(void *ctx, va_interp_t *in, const va_call_t *c);
  bool (*after)(void *ctx, va_interp_t *in, const va_call_t *c);
  /* a write op was performed on slot s (off, value; spray: every word) */
  bool (*wrote)(void *ctx, va_interp_t *in, unsigned s, size_t off, uint64_t v,
                bool spray);
  bool (*op_end)(void *ctx, va_interp_t *in, const va_op_t *op);
  bool (*end)(void *ctx, va_interp_t *in); /* after the teardown frees */
} va_observer_t;

#define VA_MAX_OBSERVERS 4

/* The interpreter's state, readable by observers. */
struct va_interp {
  const va_allocator_t *a;
  void *heap;
  va_options_t opts;         /* the caller's, with the interpreter's hook */
  va_interp_config_t cfg;
  va_slot_t slot[VA_SLOTS];
  unsigned thread;           /* the current virtual thread */
  bool running[VA_THREADS];  /* threads started and not exited */
  size_t op_index;           /* the op being run (n: the teardown) */
  va_op_t op;                /* it, normalized */
  va_call_t *call;           /* the call in progress, or NULL */
  size_t smashes;            /* smash writes performed (ops.h) */
  void *pending;             /* a block returned but not yet in its slot */
  void *other;               /* the second instance (foreign pointers) */
  void *other_block;         /* its live block */
  void *other_region;        /* its memory, when the source is a REGION (one
                                for the process, reused run after run) */
  va_observer_t obs[VA_MAX_OBSERVERS];
  size_t nobs;
  struct va_failure *fail;
};

/* A failure: which op exposed which invariant. */
typedef struct va_failure {
  size_t op_index;        /* index of the op that exposed it (n for the final teardown) */
  va_op_t op;             /* that op */
  const char *invariant;  /* a stable name, e.g. "shadow.overlap", "check:ff.tiling" */
  char detail[256];       /* one human sentence */
  char invariant_buf[64]; /* storage when invariant is built ("check:ff.tiling") */
} va_failure_t;

/* Run ops on a fresh instance of a with opts under the observers; true
 * when nothing failed, else false with *fail filled (never aborts on an
 * invariant; a real crash still crashes). False with "interp.setup" when
 * the interpreter cannot get its own memory or the instance. */
bool va_interp_run(const va_allocator_t *a, const va_options_t *opts,
                   const va_interp_config_t *cfg, const va_observer_t *obs,
                   size_t nobs, const va_op_t *ops, size_t n, va_failure_t *fail);

/* A run's own state, zeroed, from a spare the last run gave back (else
 * calloc), and back again. A calloc per input costs ASan's allocator a
 * quarantined chunk and its page faults: half the fixed cost of a one-op
 * V2 input, measured. The spare is a global, so LSan sees it. */
typedef void *_Atomic va_spare_t;
void *va_state_take(va_spare_t *spare, size_t size);
void va_state_give(va_spare_t *spare, void *state);

/* A probe outside the program, for an observer's own misuse test: free(p)
 * with the error hook armed and no observer told. Returns the first kind
 * the hook saw (0: none); p must not be a live block of any slot. */
int va_interp_probe_free(va_interp_t *in, void *p);

/* Fail the run: fill the failure for the current op; returns false. */
bool va_interp_fail(va_interp_t *in, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An invariant name built at run time: prefix + name ("check:" "ff.tiling"). */
const char *va_interp_name(va_interp_t *in, const char *prefix, const char *name);

/* The bytes of a block of `usable` bytes the harness owns (ops.h): all of
 * it, or windows of VA_FILL_EDGE bytes (ops.h), in address order, disjoint.
 * Returns the count of ranges. */
size_t va_owned_ranges(size_t usable, size_t range[VA_OWNED_RANGES][2]);

/* Print a failure: "op #12 (alloc 3 4096): shadow.overlap: ..." */
void va_failure_print(const va_failure_t *f, void *file /* FILE* */);

#endif
