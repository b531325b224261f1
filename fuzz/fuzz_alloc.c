/* vedalloc — the libFuzzer harness, one source for every allocator.
 *
 * Input bytes decode to an op program (fuzz/ops.h) that va_exec runs against
 * a fresh instance under the shadow model (fuzz/exec.h). Which allocator:
 *   -DVA_FUZZ_ENTRY="v1-firstfit"   a registry entry, fixed at compile time,
 *   or the environment variable VA_FUZZ_ENTRY (default "system").
 * The entry's options, memory (one reserved region, reused input after
 * input), checks and skipped sizes are fuzz/harness.h's.
 *
 * Built with -DVA_FUZZ_FAULTY, the allocator is the test-only faulty
 * wrapper over "system" with the fault named by VA_FAULT (fuzz/faulty.h),
 * for the tests that prove the harness bites.
 *
 * On a violation: print the failure (op index, op, invariant) and the whole
 * program as readable ops, then abort() so libFuzzer saves the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/exec.h"
#include "fuzz/ops.h"
#ifdef VA_FUZZ_FAULTY
#include "alloc/system/system.h"
#include "fuzz/faulty.h"
#else
#include "fuzz/harness.h"
#endif

#define FZ_MAX_OPS 4096 /* longer inputs are cut here */

static const va_allocator_t *fz_alloc;
static va_options_t fz_opts;
static va_exec_config_t fz_cfg;
static const char *fz_label;

/* ASan must return NULL for impossible sizes (the shadow checks ENOMEM)
 * rather than report them; a smaller quarantine keeps the process malloc's
 * RSS well under libFuzzer's limit when blocks of MiBs come and go. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1:quarantine_size_mb=32:"
         "allocator_release_to_os_interval_ms=500";
}

#ifdef VA_FUZZ_FAULTY
static void fz_setup(void) {
  const char *name = getenv("VA_FAULT");
  va_fault_t f = VA_FAULT_NONE;
  for (int i = 0; name && i < VA_FAULT_KINDS; i++)
    if (strcmp(name, va_fault_name((va_fault_t)i)) == 0) f = (va_fault_t)i;
  if (name && f == VA_FAULT_NONE && strcmp(name, "none") != 0) {
    fprintf(stderr, "fuzz_alloc: unknown VA_FAULT '%s'\n", name);
    exit(2);
  }
  fz_alloc = va_faulty(&sys_allocator, f);
  fz_opts = va_options_default();
  fz_cfg = va_exec_config_default();
  fz_cfg.skip_above = (size_t)256 << 10; /* small heaps: more runs per second */
  fz_label = va_fault_name(f);
}
#else
static void fz_setup(void) {
#ifdef VA_FUZZ_ENTRY
  const char *name = VA_FUZZ_ENTRY;
#else
  const char *name = getenv("VA_FUZZ_ENTRY");
  if (!name) name = "system";
#endif
  const va_entry_t *e = va_registry_find(name);
  if (!e) {
    fprintf(stderr, "fuzz_alloc: no allocator '%s' in the registry\n", name);
    exit(2);
  }
  void *region = NULL;
  if ((e->sources & VA_SRC(VA_SOURCE_REGION)) && (region = va_harness_region()) == NULL) {
    perror("fuzz_alloc: mmap of the region");
    exit(2);
  }
  va_harness_t h;
  const char *why;
  if (!va_harness_make(&h, e, region, &why)) {
    fprintf(stderr, "fuzz_alloc: %s, not '%s'\n", why, getenv("VA_FUZZ_CHECK_EVERY"));
    exit(2);
  }
  fz_alloc = e->alloc;
  fz_opts = h.opts;
  fz_cfg = h.cfg;
  fz_label = e->name;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static va_op_t ops[FZ_MAX_OPS];
  if (!fz_alloc) fz_setup();
  size_t n = va_ops_decode(data, size, ops, FZ_MAX_OPS);
  va_failure_t fail;
  if (va_exec(fz_alloc, &fz_opts, ops, n, &fz_cfg, &fail)) return 0;
  fprintf(stderr, "\n==== vedalloc fuzz failure (%s) ====\n", fz_label);
  va_failure_print(&fail, stderr);
  fprintf(stderr, "---- program (%zu ops) ----\n", n);
  va_ops_print(ops, n, stderr);
  fprintf(stderr, "---- end of program ----\n");
  fflush(stderr);
  abort();
}
