/* vedalloc — the list of allocator configurations every harness runs over.
 * Adding an allocator: one folder under alloc/, one line in registry.c.
 * What an entry can do is said by typed fields, never parsed from its name:
 * every harness decides from them (fuzz_alloc.c, props/gen.c, bench). */
#ifndef VEDALLOC_REGISTRY_H
#define VEDALLOC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc/allocator.h"

/* Which design an entry is. */
typedef enum va_family {
  VA_FAMILY_V1 = 1,   /* alloc/firstfit */
  VA_FAMILY_V2,       /* alloc/slab: an instance is one V2 heap */
  VA_FAMILY_DROPIN,   /* the drop-in's backend: V2 heaps per (virtual) thread */
  VA_FAMILY_HARDENED, /* alloc/harden over V1 or V2: generic properties only */
  VA_FAMILY_REFERENCE /* an allocator we compare with (the process malloc) */
} va_family_t;

/* Bit of a memory source in va_entry_t.sources. */
#define VA_SRC(kind) (1u << (kind))

typedef struct va_entry {
  const char *name;            /* e.g. "v1-firstfit", "v2-slab", "system" */
  const va_allocator_t *alloc; /* its operations */
  va_family_t family;
  va_fit_t fit;                /* V1 placement policy of this entry */
  const char *summary;         /* one line for listings */
  unsigned sources;            /* VA_SRC bits of the sources create accepts */
  bool thread_safe;            /* one instance may serve several OS threads */
  bool checker;                /* alloc->check and check_empty exist */
  bool reports_misuse;         /* invalid and double frees go to the hook
                                  (the harnesses run the bad ops) */
  bool harness_only;           /* run by fuzz and props, left out of bench:compare */
  bool canaries;               /* a write past a block's end, 1 byte up, is
                                  reported by its free (the hardened layer) */
} va_entry_t;

extern const va_entry_t va_registry[];
extern const size_t va_registry_len;

/* The entry named `name`, or NULL. */
const va_entry_t *va_registry_find(const char *name);

/* Default options specialised for this entry: its placement policy; for
 * v2-shared and the drop-in backend, the drop-in heap's options
 * (sl_thread_heap_options) with a small resident budget. */
va_options_t va_entry_options(const va_entry_t *e);

#endif
