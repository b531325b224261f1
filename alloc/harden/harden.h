/* vedalloc hardened layer (types.h has the layout): an allocator made of
 * another, with canaries, a checked trailer, a zeroing quarantine with
 * random release, guard pages after large blocks, zero-size blocks that
 * fault, and every block handed out zeroed.
 *
 * Two ways in:
 *   - hd_v2_allocator, hd_v1_allocator: instances (the harness's
 *     "v2-hardened" and "v1-hardened"), each over an inner instance of its
 *     own, created with the caller's options;
 *   - hd_new + hd_attach: the layer over an inner that exists already (the
 *     drop-in's process heap under VEDALLOC_HARDEN=1), then the hd_ calls.
 * Misuse and damage go to the caller's hook under the layer's operation
 * name, the inner allocator's reports too (hd_inner_hook forwards them).
 */
#ifndef VEDALLOC_HARDEN_HARDEN_H
#define VEDALLOC_HARDEN_HARDEN_H

#include <pthread.h>

#include "alloc/allocator.h"

extern const va_allocator_t hd_v2_allocator;
extern const va_allocator_t hd_v1_allocator;

typedef struct hd_heap hd_heap_t;

/* The layer's state (its own mapping), with the caller's options (hook,
 * seed); lock: taken around every call (NULL: one thread). NULL + errno
 * when it cannot be mapped. */
hd_heap_t *hd_new(const va_options_t *opts, pthread_mutex_t *lock);
/* The inner allocator and instance under h; owns: destroyed with h. The
 * inner must have been created with on_error = hd_inner_hook, error_ctx = h.
 * features: the HD_F_* bits (types.h) the layer adds. HD_F_GUARD gives large
 * blocks a PROT_NONE guard page, which the inner must never read unasked:
 * V2 (its metadata is reached through its page map) but not V1, which
 * reads the word before any pointer it is given, so a stale pointer just
 * past a guard page would fault it. Without guards a large block's canary
 * runs to the end of its last page. */
void hd_attach(hd_heap_t *h, const va_allocator_t *in, void *inner, bool owns,
               unsigned features);
void hd_inner_hook(void *ctx, va_error_kind_t kind, const char *op, const void *ptr,
                   const char *message);

void *hd_malloc(void *h, size_t n);
void hd_free(void *h, void *p);
void *hd_realloc(void *h, void *p, size_t n);
void *hd_calloc(void *h, size_t count, size_t size);
void *hd_memalign(void *h, size_t alignment, size_t n);
size_t hd_usable_size(void *h, const void *p);
void hd_destroy(void *h);
/* Report a write into any quarantined block now (the drop-in at exit). */
void hd_sweep(void *h);
bool hd_check(void *h, va_report_t *r);
bool hd_check_empty(void *h, va_report_t *r);
void hd_stats(void *h, va_stats_t *s);
/* An instance of the layer over a new instance of `in`, both with opts. */
void *hd_create(const va_allocator_t *in, const va_options_t *opts, unsigned features);
/* VEDALLOC_HARDEN's value as features (types.h HD_F_*): "1" or "all"; or
 * names joined by commas, from canary, guard, zero, quarantine, zero-size,
 * and "trailer" (the layer alone, nothing else). False: not such a value. */
bool hd_features_parse(const char *value, unsigned *features);

#endif /* VEDALLOC_HARDEN_HARDEN_H */
