/* vedalloc — the generic catalogue: what every allocator promises, checked
 * through the shared executor (fuzz/exec.h), whose shadow model asserts after
 * every op: no overlap, alignment, usable_size >= request, contents kept,
 * realloc keeps the prefix, a failed realloc leaves the block intact, calloc
 * memory is zero, the allocator's check() passes, and (at the end) freeing
 * everything returns the heap to its empty state.
 *
 * One va_exec run checks all of them, so these properties differ in what
 * their programs stress (the generator profile) and in the exec config; the
 * failure key names the invariant that broke ("shadow.overlap", "check:ff.tiling",
 * "empty:sl.empty_list", ...).
 */
#include "props/prop.h"

/* Everything at once: every op kind, huge sizes, check after every op. */
PROP(exec_mixed, prop_any, .gen = {.huge = true}) { return prop_exec(c, NULL); }

/* Long programs over many slots: fragmentation, coalescing, page turnover. */
PROP(exec_long, prop_any, .gen = {.max_ops = 400, .slots = 32}, .weight = 25) {
  return prop_exec(c, NULL);
}

/* Realloc chains: growing and shrinking one block keeps its prefix. */
PROP(exec_realloc_prefix, prop_any,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_REALLOC | PROP_K_FREE, .slots = 4}) {
  return prop_exec(c, NULL);
}

/* Failing reallocs (huge sizes) must leave the old block intact. */
PROP(exec_realloc_failed, prop_any,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_REALLOC, .slots = 4, .huge = true}) {
  return prop_exec(c, NULL);
}

/* Calloc, including overflowing products in both argument orders: zeroed
 * memory or NULL with ENOMEM. */
PROP(exec_calloc_zero, prop_any,
     .gen = {.kinds = PROP_K_CALLOC | PROP_K_FREE | PROP_K_ALLOC, .huge = true}) {
  return prop_exec(c, NULL);
}

/* Aligned allocation: memalign honours the alignment, other ops unaffected. */
PROP(exec_memalign, prop_any,
     .gen = {.kinds = PROP_K_MEMALIGN | PROP_K_FREE | PROP_K_REALLOC}) {
  return prop_exec(c, NULL);
}

/* Small sizes around the class / grain boundaries, many slots: the overlap
 * and alignment properties where blocks are densest. */
PROP(exec_small_dense, prop_any,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC,
             .max_size = 300, .slots = 48, .max_ops = 200}, .weight = 50) {
  return prop_exec(c, NULL);
}

/* The empty state: everything is freed at the end (va_exec's teardown) and
 * check_empty must hold; programs that grow and shrink the footprint. */
PROP(exec_empty_state, prop_has_empty,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_REALLOC,
             .max_size = 1 << 20}) {
  va_exec_config_t cfg = va_exec_config_default();
  cfg.check_empty_at_end = true;
  return prop_exec(c, &cfg);
}

/* User data that imitates metadata (the `write` op stores dictionary words,
 * magics among them, at offsets 0 and beyond in small, adjacent blocks): the
 * allocator must not mistake it for its own bookkeeping. */
PROP(exec_user_words, prop_any,
     .gen = {.kinds = PROP_K_ALLOC | PROP_K_FREE | PROP_K_WRITE, .max_size = 64,
             .slots = 6, .weights = {[VA_OP_WRITE] = 30}}, .weight = 50) {
  return prop_exec(c, NULL);
}
