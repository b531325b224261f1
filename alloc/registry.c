/* vedalloc — the registry of allocator configurations. */
#include <string.h>

#include "alloc/firstfit/firstfit.h"
#include "alloc/registry.h"
#include "alloc/slab/slab.h"
#include "alloc/system/system.h"

const va_entry_t va_registry[] = {
    {"v1-firstfit", &ff_allocator, VA_FIT_FIRST, "V1 block list, first fit", false},
    {"v1-nextfit", &ff_allocator, VA_FIT_NEXT, "V1 block list, next fit", false},
    {"v1-bestfit", &ff_allocator, VA_FIT_BEST, "V1 block list, best fit", false},
    {"v2-slab", &sl_allocator, VA_FIT_FIRST, "V2 size-class slabs", false},
    /* The heap the thread-safe drop-in runs per thread; same speed as v2-slab. */
    {"v2-shared", &sl_shared_allocator, VA_FIT_FIRST,
     "V2 heap in the process-wide page map (the drop-in's per-thread heap)",
     true},
    {"system", &sys_allocator, VA_FIT_FIRST, "the process malloc", false},
};
const size_t va_registry_len = sizeof va_registry / sizeof va_registry[0];

const va_entry_t *va_registry_find(const char *name) {
  for (size_t i = 0; i < va_registry_len; i++)
    if (strcmp(va_registry[i].name, name) == 0) return &va_registry[i];
  return NULL;
}

va_options_t va_entry_options(const va_entry_t *e) {
  va_options_t o = va_options_default();
  if (e->alloc == &sl_shared_allocator) {
    /* The drop-in's per-thread heap, with a small resident budget so
     * short programs reach the page-shedding path. */
    o = sl_thread_heap_options();
    o.large_resident = 64u << 10;
  }
  o.fit = e->fit;
  return o;
}
