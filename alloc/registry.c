/* vedalloc — the registry of allocator configurations. */
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/harden/harden.h"
#include "alloc/malloc/vm_instance.h"
#include "alloc/registry.h"
#include "alloc/slab/slab.h"
#include "alloc/system/system.h"

#define VA_SRC_V1 (VA_SRC(VA_SOURCE_DEFAULT) | VA_SRC(VA_SOURCE_SBRK) | \
                   VA_SRC(VA_SOURCE_MMAP) | VA_SRC(VA_SOURCE_REGION))
#define VA_SRC_V2 (VA_SRC(VA_SOURCE_DEFAULT) | VA_SRC(VA_SOURCE_MMAP) | VA_SRC(VA_SOURCE_REGION))

const va_entry_t va_registry[] = {
    {.name = "v1-firstfit", .alloc = &ff_allocator, .family = VA_FAMILY_V1,
     .fit = VA_FIT_FIRST, .summary = "V1 block list, first fit",
     .sources = VA_SRC_V1, .checker = true, .reports_misuse = true},
    {.name = "v1-nextfit", .alloc = &ff_allocator, .family = VA_FAMILY_V1,
     .fit = VA_FIT_NEXT, .summary = "V1 block list, next fit",
     .sources = VA_SRC_V1, .checker = true, .reports_misuse = true},
    {.name = "v1-bestfit", .alloc = &ff_allocator, .family = VA_FAMILY_V1,
     .fit = VA_FIT_BEST, .summary = "V1 block list, best fit",
     .sources = VA_SRC_V1, .checker = true, .reports_misuse = true},
    {.name = "v2-slab", .alloc = &sl_allocator, .family = VA_FAMILY_V2,
     .summary = "V2 size-class slabs", .sources = VA_SRC_V2, .checker = true,
     .reports_misuse = true},
    /* The heap the thread-safe drop-in runs per thread; same speed as v2-slab. */
    {.name = "v2-shared", .alloc = &sl_shared_allocator, .family = VA_FAMILY_V2,
     .summary = "V2 heap in a shared page map (the drop-in's per-thread heap)",
     .sources = VA_SRC_V2, .checker = true, .reports_misuse = true,
     .harness_only = true},
    /* libvedalloc.so's backend over a pool of its own, virtual threads. */
    {.name = "v2-dropin", .alloc = &vm_instance_allocator, .family = VA_FAMILY_DROPIN,
     .summary = "the drop-in's backend: V2 heaps per (virtual) thread, remote frees",
     .sources = VA_SRC_V2, .checker = true, .reports_misuse = true,
     .harness_only = true},
    /* The hardened layer (alloc/harden) over each: what VEDALLOC_HARDEN=1
     * puts under the drop-ins. */
    {.name = "v2-hardened", .alloc = &hd_v2_allocator, .family = VA_FAMILY_HARDENED,
     .summary = "V2 under the hardened layer (canaries, quarantine, guards)",
     .sources = VA_SRC_V2, .checker = true, .reports_misuse = true,
     .harness_only = true, .canaries = true},
    {.name = "v1-hardened", .alloc = &hd_v1_allocator, .family = VA_FAMILY_HARDENED,
     .summary = "V1 under the hardened layer (canaries, quarantine, guards)",
     .sources = VA_SRC_V1 & ~VA_SRC(VA_SOURCE_SBRK), .checker = true,
     .reports_misuse = true, .harness_only = true, .canaries = true},
    {.name = "system", .alloc = &sys_allocator, .family = VA_FAMILY_REFERENCE,
     .summary = "the process malloc", .sources = VA_SRC(VA_SOURCE_DEFAULT),
     .thread_safe = true},
};
const size_t va_registry_len = sizeof va_registry / sizeof va_registry[0];

const va_entry_t *va_registry_find(const char *name) {
  for (size_t i = 0; i < va_registry_len; i++)
    if (strcmp(va_registry[i].name, name) == 0) return &va_registry[i];
  return NULL;
}

va_options_t va_entry_options(const va_entry_t *e) {
  va_options_t o = va_options_default();
  if (e->alloc == &sl_shared_allocator || e->family == VA_FAMILY_DROPIN) {
    /* The drop-in's per-thread heap, with a small resident budget so
     * short programs reach the page-shedding path. */
    o = sl_thread_heap_options();
    o.large_resident = 64u << 10;
  }
  o.fit = e->fit;
  if (e->alloc == &hd_v2_allocator || e->alloc == &hd_v1_allocator)
    o.seed = 1; /* the layer's random choices, the same run after run */
  return o;
}
