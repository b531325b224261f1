/* vedalloc — how a fuzzer runs a registry entry: its options, the memory
 * it runs on and the executor's configuration. fuzz_alloc.c is this plus
 * libFuzzer; region_test proves that input after input on the same memory
 * behaves as on fresh memory, with exactly these settings.
 *
 * Memory. An entry that accepts a REGION source runs every input on one
 * reserved region (VA_HARNESS_REGION bytes, MAP_NORESERVE, zero when
 * mapped): V1 on its first VA_HARNESS_V1_REGION bytes, V2 and the drop-in's
 * backend on all of it in 64 KiB chunks (alloc/slab/os.h), which keeps a
 * record of the chunks it dirtied, so no input pays a system call, a page
 * fault after warm-up, or a clear of memory nobody wrote. Every input still
 * gets a fresh instance: create, run, destroy.
 *
 * Checks. The shadow checks every call's result at once; the allocator's
 * checker runs after every VA_HARNESS_CHECK_EVERY-th op, at every check op
 * and at the end (with check_empty). A check walks the whole heap, and
 * after every op it was half of a V2 input's time; a corruption is still
 * found within 7 ops. $VA_FUZZ_CHECK_EVERY overrides the period (1 names
 * the very op that broke a heap in a reproducer).
 *
 * Sizes. Requests above VA_HARNESS_MAX_REQUEST that could succeed are
 * skipped (exec.h): a block of many MiB costs its clear and an ASan shadow
 * pass of an eighth of its size at every map, free and unmap, on paths
 * that are the same at 1 MiB (32 blocks fill the drop-in's large cache).
 */
#ifndef VEDALLOC_FUZZ_HARNESS_H
#define VEDALLOC_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/registry.h"
#include "fuzz/exec.h"

#define VA_HARNESS_REGION ((size_t)2 << 30)     /* reserved, touched as used */
#define VA_HARNESS_V1_REGION ((size_t)16 << 20) /* V1's part of it */
#define VA_HARNESS_MAX_REQUEST ((size_t)1 << 20)
#define VA_HARNESS_CHECK_EVERY 8

typedef struct va_harness {
  const va_entry_t *entry;
  va_options_t opts;    /* the entry's, on the region when it takes one */
  va_exec_config_t cfg; /* checks, misuse ops, skipped sizes */
} va_harness_t;

/* The region for entries with a REGION source: VA_HARNESS_REGION bytes of
 * fresh (zero) memory, or NULL with errno set. */
void *va_harness_region(void);

/* The settings for entry e; region from va_harness_region() (ignored when
 * e takes no region). False with a one-line message in *why (static text)
 * when $VA_FUZZ_CHECK_EVERY is not a number of ops. */
bool va_harness_make(va_harness_t *h, const va_entry_t *e, void *region, const char **why);

#endif
