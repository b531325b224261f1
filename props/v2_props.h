/* vedalloc — what the V2 efficiency properties' runs reached (v2_props.c):
 * counts of each page and cache decision predicted, for the test that
 * requires the generators to reach every state the drop-in's settings
 * reach (props/reach_test.c). Counted in the process that runs the
 * property (run them unforked to read them). */
#ifndef VEDALLOC_PROPS_V2_PROPS_H
#define VEDALLOC_PROPS_V2_PROPS_H

#include <stddef.h>

typedef struct prop_v2_reached {
  size_t emptied_stays;   /* an emptied head page stayed (keep_empty) */
  size_t emptied_reserve; /* an emptied page went to its class's reserve */
  size_t emptied_idle;    /* ... to the idle pool (beyond the reserve) */
  size_t idle_released;   /* the pool, over its budget, gave a page back */
  size_t took_reserve;    /* an allocation took a reserve page */
  size_t took_idle_same;  /* ... an idle page of its own class */
  size_t took_idle_other; /* ... an idle page of another class (reused) */
  size_t mapped_fresh;    /* ... a page mapped fresh */
  size_t cache_put;       /* a freed large mapping was cached */
  size_t cache_too_big;   /* ... or was over the whole budget */
  size_t cache_evicted;   /* an old entry was unmapped to make room */
  size_t cache_shed;      /* an old entry shed its pages (resident budget) */
  size_t cache_share_shed;/* ... past the adaptive share (resident ratio) */
  size_t cache_cut;       /* the new entry kept only part of its pages */
  size_t cache_hit;       /* a large request was served from the cache */
  size_t cache_split;     /* ... by a larger entry, its tail cached */
  size_t cache_moved;     /* ... by a smaller entry, moved to its size */
  size_t cache_miss;      /* ... or mapped fresh */
} prop_v2_reached_t;

extern prop_v2_reached_t prop_v2_reached;

#endif
