/* vedalloc — the V2 efficiency properties' generators reach every page and
 * cache state the drop-in's heap settings reach (v2-shared runs with them):
 * an emptied page staying, going to the reserve, going to the idle pool,
 * the pool giving pages back; allocations from the reserve, from the pool
 * (for the same class and for another), from a fresh page; the large cache
 * taking, refusing, evicting, shedding (past the resident budget and past
 * the adaptive share), cutting, serving and missing. The properties run
 * unforked here so their counts are this process's. */
#include <stdio.h>

#include "alloc/testing/check.h"
#include "props/prop.h"
#include "props/v2_props.h"

PROP_ASAN_DEFAULTS

#define R(field) {#field, &prop_v2_reached.field}

int main(void) {
  prop_config_t cfg = prop_config_from_env();
  cfg.one_seed = false;
  cfg.seconds = 0;
  cfg.fork = 0;
  const char *props[] = {"v2_pages", "v2_large_cache"};
  const char *entries[] = {"v2-shared", "v2-slab"};
  static prop_result_t r;
  for (size_t e = 0; e < 2; e++) {
    prop_v2_reached = (prop_v2_reached_t){0};
    for (size_t i = 0; i < 2; i++) {
      const prop_t *p = prop_find(props[i]);
      const va_entry_t *en = va_registry_find(entries[e]);
      VT_CHECKF(p && en, "%s on %s is not linked in", props[i], entries[e]);
      if (!p || !en) continue;
      VT_CHECKF(prop_run(p, en, &cfg, &r), "%s failed on %s: %s: %s", props[i], entries[e],
                r.key, r.why);
    }
    struct { const char *name; size_t *n; } seen[] = {
        R(emptied_stays),   R(emptied_reserve), R(emptied_idle),  R(idle_released),
        R(took_reserve),    R(took_idle_same),  R(took_idle_other), R(mapped_fresh),
        R(cache_put),       R(cache_too_big),   R(cache_evicted), R(cache_shed),
        R(cache_share_shed),
        R(cache_cut),       R(cache_hit),       R(cache_split),   R(cache_moved),
        R(cache_miss)};
    printf("%s:", entries[e]);
    for (size_t k = 0; k < sizeof seen / sizeof seen[0]; k++) {
      printf(" %s %zu", seen[k].name, *seen[k].n);
      /* every state with the drop-in's settings (v2-shared); v2-slab's own
       * (a reserve of 2, a 64 MiB cache all resident) is reported only */
      if (e == 0) VT_CHECKF(*seen[k].n > 0, "%s never reached on %s", seen[k].name, entries[e]);
    }
    printf("\n");
  }
  return va_check_summary();
}
