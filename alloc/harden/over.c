/* vedalloc hardened layer — its instances over V2 and V1 (the registry's
 * "v2-hardened" and "v1-hardened"). */
#include "alloc/firstfit/firstfit.h"
#include "alloc/harden/harden.h"
#include "alloc/slab/slab.h"

#include "alloc/harden/types.h"

static void *hd_v2_create(const va_options_t *o) { return hd_create(&sl_allocator, o, HD_F_ALL); }
static void *hd_v1_create(const va_options_t *o) {
  return hd_create(&ff_allocator, o, HD_F_ALL & ~HD_F_GUARD); /* harden.h: V1 and guards */
}

#define HD_OPS                                                                 \
  .destroy = hd_destroy, .malloc = hd_malloc, .free = hd_free, .realloc = hd_realloc, \
  .calloc = hd_calloc, .memalign = hd_memalign, .usable_size = hd_usable_size,       \
  .check = hd_check, .stats = hd_stats, .check_empty = hd_check_empty

const va_allocator_t hd_v2_allocator = {.name = "hardened-slab", .create = hd_v2_create, HD_OPS};
const va_allocator_t hd_v1_allocator = {.name = "hardened-firstfit", .create = hd_v1_create,
                                        HD_OPS};
