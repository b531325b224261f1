/* vedalloc drop-in — libvedalloc.so (and its static archive) as one
 * translation unit: the standard names (vm_export.c), the API layer
 * (vm_api.c) and the process backend (vm_process.c), the same files the
 * tests link one by one, compiled together so that the exported malloc
 * and free are V2's fast path (alloc/slab/fast.h) inlined whole: no call
 * between the layers and no frame. As separate objects each layer was a
 * jump of its own (malloc -> vm_malloc -> vm_be_malloc), 5.6 ns per
 * malloc+free pair in bench:compare's fastpath against the instance's
 * 3.2 ns for the same code called directly.
 */
#define VM_ONE_UNIT 1
#include "alloc/malloc/vm_api.c"
#include "alloc/malloc/vm_harden.c"
#include "alloc/malloc/vm_introspect.c"
#include "alloc/malloc/vm_options.c"
#include "alloc/malloc/vm_process.c"
#include "alloc/malloc/vm_export.c"
