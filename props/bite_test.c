/* vedalloc — proof that the property runner bites: for planted bugs of the
 * faulty allocator (fuzz/faulty.h), including the original design's V1
 * aliasing and V2 double-free reuse, the catalogue fails within the default
 * number of trials and the shrinker brings the counterexample down to at
 * most PROP_BITE_MAX_OPS ops. Runs in-process through the runner's API
 * (forked trials, so a crash would still count and shrink). */
#include <stdio.h>
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/slab/slab.h"
#include "alloc/system/system.h"
#include "alloc/testing/check.h"
#include "fuzz/faulty.h"
#include "props/prop.h"

#define PROP_BITE_MAX_OPS 6
#define PROP_SPOOF_MAGIC 0xC0FFEE00DEADBEEFull /* faulty.c's "large block" magic */

PROP_ASAN_DEFAULTS

typedef struct prop_bite {
  va_fault_t fault;
  const va_allocator_t *inner;
  const char *prop; /* the property expected to catch it */
} prop_bite_t;

static void prop_bite_one(const prop_bite_t *b, const prop_config_t *cfg) {
  char name[64];
  snprintf(name, sizeof name, "faulty-%s", va_fault_name(b->fault));
  va_entry_t e = {.name = name, .alloc = va_faulty(b->inner, b->fault),
                  .family = VA_FAMILY_REFERENCE, .summary = "planted bug",
                  .sources = VA_SRC(VA_SOURCE_DEFAULT), .checker = true};
  const prop_t *p = prop_find(b->prop);
  VT_CHECKF(p != NULL, "property %s is not linked in", b->prop);
  if (!p) return;
  static prop_result_t r;
  bool ok = prop_run(p, &e, cfg, &r);
  VT_CHECKF(!ok, "%s passed %zu trials on %s: the bug went unnoticed", p->name,
            r.trials, name);
  if (ok) return;
  prop_report(p, &e, cfg, &r);
  VT_CHECKF(r.n <= PROP_BITE_MAX_OPS, "%s on %s shrank only to %zu ops", p->name,
            name, r.n);
  printf("bite %-16s caught by %-16s after %3zu trial(s): %-28s %2zu -> %zu ops (%zu evals)\n",
         va_fault_name(b->fault), p->name, r.trials, r.key, r.orig_n, r.n,
         r.shrink_evals);
}

int main(void) {
  prop_config_t cfg = prop_config_from_env();
  cfg.one_seed = false; /* always the default trials, never one replayed case */
  cfg.seconds = 0;
  prop_add_word(PROP_SPOOF_MAGIC); /* the metadata format a real test would know */
  /* The V2 faults run their own mini slab over inner pages that stay live
   * until destroy, so inner's check_empty would always object: wrap the
   * system allocator, which has none, and let the fault show alone. */
  const prop_bite_t bites[] = {
      {VA_FAULT_V1_GROW_ALIAS, &ff_allocator, "exec_mixed"},
      {VA_FAULT_V2_DOUBLE_FREE, &sys_allocator, "exec_mixed"},
      {VA_FAULT_V2_MAGIC_SPOOF, &sys_allocator, "exec_user_words"},
      {VA_FAULT_OVERLAP, &ff_allocator, "exec_mixed"},
      {VA_FAULT_SAME_TWICE, &sl_allocator, "exec_mixed"},
      {VA_FAULT_REALLOC_LOSES, &sys_allocator, "exec_realloc_prefix"},
      {VA_FAULT_MISALIGNED, &ff_allocator, "exec_mixed"},
      {VA_FAULT_USABLE_LIES, &sl_allocator, "exec_mixed"},
  };
  for (size_t i = 0; i < sizeof bites / sizeof bites[0]; i++) prop_bite_one(&bites[i], &cfg);
  return va_check_summary();
}
