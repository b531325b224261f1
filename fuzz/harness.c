/* vedalloc — the fuzzers' settings for a registry entry (harness.h). */
#include "fuzz/harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

void *va_harness_region(void) {
  void *m = mmap(NULL, VA_HARNESS_REGION, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return m == MAP_FAILED ? NULL : m;
}

/* $VA_FUZZ_CHECK_EVERY, else VA_HARNESS_CHECK_EVERY; 0 if it is malformed. */
static size_t va_harness_check_every(void) {
  const char *v = getenv("VA_FUZZ_CHECK_EVERY");
  if (v == NULL || *v == 0) return VA_HARNESS_CHECK_EVERY;
  char *end;
  unsigned long k = strtoul(v, &end, 10);
  return *end == 0 && k >= 1 && k <= 1000000 ? (size_t)k : 0;
}

bool va_harness_make(va_harness_t *h, const va_entry_t *e, void *region, const char **why) {
  h->entry = e;
  h->opts = va_entry_options(e);
  h->cfg = va_exec_config_default();
  h->cfg.misuse = e->reports_misuse;
  h->cfg.canaries = e->canaries;
  h->cfg.check_every = va_harness_check_every();
  if (h->cfg.check_every == 0) {
    *why = "VA_FUZZ_CHECK_EVERY: want a number of ops, 1 to 1000000";
    return false;
  }
  if (region && (e->sources & VA_SRC(VA_SOURCE_REGION))) {
    h->opts.source = VA_SOURCE_REGION;
    h->opts.region = region;
    h->opts.region_size = e->family == VA_FAMILY_V1 ? VA_HARNESS_V1_REGION : VA_HARNESS_REGION;
    h->opts.region_zero = true; /* fresh from mmap; V2 keeps the record of what it dirtied */
  }
  h->cfg.max_request = VA_HARNESS_MAX_REQUEST;
  h->cfg.skip_above = VA_HARNESS_MAX_REQUEST;
  h->cfg.skip_until = (size_t)PTRDIFF_MAX - ((size_t)4 << 30);
  if (e->family == VA_FAMILY_REFERENCE) {
    /* ASan's allocator keeps the shadow of every MiB-sized mapping it ever
     * made, so RSS climbs past libFuzzer's limit: the reference stays small. */
    h->cfg.skip_until = 0;
  }
  return true;
}
