/* vedalloc — the list of allocator configurations every harness runs over.
 * Adding an allocator: one folder under alloc/, one line in registry.c. */
#ifndef VEDALLOC_REGISTRY_H
#define VEDALLOC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

typedef struct va_entry {
  const char *name;            /* e.g. "v1-firstfit", "v2-slab", "system" */
  const va_allocator_t *alloc; /* its operations */
  va_fit_t fit;                /* V1 placement policy of this entry */
  const char *summary;         /* one line for listings */
  bool harness_only;           /* run by fuzz and props, left out of bench:compare */
} va_entry_t;

extern const va_entry_t va_registry[];
extern const size_t va_registry_len;

/* The entry named `name`, or NULL. */
const va_entry_t *va_registry_find(const char *name);

/* Default options specialised for this entry: its placement policy; for
 * v2-shared, the drop-in heap's (sl_thread_heap_options). */
va_options_t va_entry_options(const va_entry_t *e);

#endif
