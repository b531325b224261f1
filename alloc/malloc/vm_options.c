/* vedalloc drop-in — run-time options: the environment, read once.
 *
 * Every variable is read at the first call into the library (pthread_once,
 * getenv: no allocation) and never again. A bad value is named in one line
 * on stderr and its default kept; a good one is used as given. The table
 * below is the one list of variables (vedalloc.h and the README document
 * it); VEDALLOC_VERBOSE=1 prints every one with its value and source.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/harden/harden.h"
#include "alloc/malloc/vm_backend.h"

static vm_options_t vm_opts;
static pthread_once_t vm_opts_once = PTHREAD_ONCE_INIT;

typedef enum { VM_OPT_FLAG, VM_OPT_BYTES, VM_OPT_COUNT, VM_OPT_MS, VM_OPT_HARDEN } vm_opt_kind_t;

typedef struct vm_opt {
  const char *name;  /* the variable */
  vm_opt_kind_t kind;
  size_t offset;     /* of its field in vm_options_t */
  const char *what;  /* for --verbose and the warning */
} vm_opt_t;

#define VM_OPT(name, kind, field, what) {name, kind, offsetof(vm_options_t, field), what}
static const vm_opt_t vm_opt_table[] = {
    VM_OPT("VEDALLOC_SHOW_STATS", VM_OPT_FLAG, show_stats, "a per-class table on stderr at exit"),
    VM_OPT("VEDALLOC_VERBOSE", VM_OPT_FLAG, verbose, "print the options at start"),
    VM_OPT("VEDALLOC_HARDEN", VM_OPT_HARDEN, harden, "the hardened mode (alloc/harden)"),
    VM_OPT("VEDALLOC_PAGE_RESERVE", VM_OPT_COUNT, heap.page_reserve,
           "V2: empty pages kept per size class"),
    VM_OPT("VEDALLOC_LARGE_CACHE", VM_OPT_BYTES, heap.large_cache,
           "V2: bytes of freed large mappings kept for reuse"),
    VM_OPT("VEDALLOC_LARGE_RESIDENT", VM_OPT_BYTES, heap.large_resident,
           "V2: of them, bytes whose pages stay resident"),
    VM_OPT("VEDALLOC_LARGE_RESIDENT_RATIO", VM_OPT_COUNT, heap.large_resident_ratio,
           "V2: n > 0: cached pages also within 1/n of the heap's footprint"),
    VM_OPT("VEDALLOC_LARGE_CACHE_MIN", VM_OPT_BYTES, heap.large_cache_min,
           "V2: freed large blocks below this go back to their segment, not the cache"),
    VM_OPT("VEDALLOC_DIRTY_RATIO", VM_OPT_COUNT, heap.dirty_ratio,
           "V2: n > 0: free segment chunks left resident within 1/n of the footprint"),
    VM_OPT("VEDALLOC_DECAY_MS", VM_OPT_MS, heap.page_decay_ns,
           "V2: idle pages and free chunks go back after this long"),
    VM_OPT("VEDALLOC_TRIM_THRESHOLD", VM_OPT_BYTES, heap.trim_threshold,
           "V1: a free tail above this many bytes goes back to the OS"),
};

static void vm_opt_say(const char *line) { (void)!write(2, line, strlen(line)); }

/* "123", "64k", "64M", "1G" (binary units); false on anything else. */
static bool vm_opt_number(const char *v, bool units, uint64_t *out) {
  if (*v < '0' || *v > '9') return false;
  errno = 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  unsigned shift = 0;
  if (units && *end) {
    const char *u = strchr("kKmMgG", *end);
    if (u == NULL || end[1] != '\0') return false;
    shift = (unsigned)(u - "kKmMgG") / 2 * 10 + 10;
    end++;
  }
  if (errno || *end || (shift && n > (UINT64_MAX >> shift))) return false;
  *out = (uint64_t)n << shift;
  return true;
}

/* Parse o's value v into the options; false (nothing changed) if bad. */
static bool vm_opt_parse(const vm_opt_t *o, const char *v, vm_options_t *to) {
  void *field = (char *)to + o->offset;
  uint64_t n;
  switch (o->kind) {
  case VM_OPT_FLAG:
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) return false;
    *(bool *)field = v[0] == '1';
    return true;
  case VM_OPT_HARDEN: {
    unsigned bits;
    if (strcmp(v, "0") == 0) return to->hardened = false, true;
    if (!hd_features_parse(v, &bits)) return false;
    to->hardened = true, *(unsigned *)field = bits;
    return true;
  }
  case VM_OPT_BYTES:
  case VM_OPT_COUNT:
    if (!vm_opt_number(v, o->kind == VM_OPT_BYTES, &n) || n > SIZE_MAX) return false;
    *(size_t *)field = (size_t)n;
    return true;
  case VM_OPT_MS:
    if (!vm_opt_number(v, false, &n) || n > UINT64_MAX / 1000000) return false;
    *(uint64_t *)field = n * 1000000;
    return true;
  }
  return false;
}

static const char *vm_opt_expected(vm_opt_kind_t k) {
  switch (k) {
  case VM_OPT_FLAG: return "0 or 1";
  case VM_OPT_HARDEN:
    return "0, 1, or features from canary,guard,zero,quarantine,zero-size,trailer";
  case VM_OPT_BYTES: return "bytes, e.g. 65536, 64k, 64M, 1G";
  case VM_OPT_COUNT: return "a count, e.g. 2";
  case VM_OPT_MS: return "milliseconds, e.g. 20";
  }
  return "?";
}

/* The value of o's field, for the verbose listing. */
static void vm_opt_show(const vm_opt_t *o, const vm_options_t *from, bool set) {
  const void *field = (const char *)from + o->offset;
  char value[48], line[256];
  switch (o->kind) {
  case VM_OPT_FLAG: snprintf(value, sizeof value, "%d", *(const bool *)field); break;
  case VM_OPT_HARDEN:
    snprintf(value, sizeof value, from->hardened ? "on, features 0x%x" : "off",
             *(const unsigned *)field);
    break;
  case VM_OPT_BYTES:
  case VM_OPT_COUNT: snprintf(value, sizeof value, "%zu", *(const size_t *)field); break;
  case VM_OPT_MS:
    snprintf(value, sizeof value, "%llu ms", (unsigned long long)(*(const uint64_t *)field / 1000000));
    break;
  }
  snprintf(line, sizeof line, "vedalloc: %s = %s (%s; %s)\n", o->name, value,
           set ? "from the environment" : "default", o->what);
  vm_opt_say(line);
}

static void vm_options_read(void) {
  vm_opts.heap = vm_be_default_heap_options();
  bool set[sizeof vm_opt_table / sizeof vm_opt_table[0]] = {0};
  for (size_t i = 0; i < sizeof vm_opt_table / sizeof vm_opt_table[0]; i++) {
    const vm_opt_t *o = &vm_opt_table[i];
    const char *v = getenv(o->name);
    if (v == NULL || *v == '\0') continue;
    set[i] = vm_opt_parse(o, v, &vm_opts);
    if (!set[i]) {
      char line[320];
      snprintf(line, sizeof line, "vedalloc: %s=%.40s: expected %s; keeping the default\n",
               o->name, v, vm_opt_expected(o->kind));
      vm_opt_say(line);
    }
  }
  if (!vm_opts.verbose) return;
  vm_opt_say("vedalloc: ");
  vm_opt_say(vm_be_name);
  vm_opt_say(", options:\n");
  for (size_t i = 0; i < sizeof vm_opt_table / sizeof vm_opt_table[0]; i++)
    vm_opt_show(&vm_opt_table[i], &vm_opts, set[i]);
}

const vm_options_t *vm_options(void) {
  pthread_once(&vm_opts_once, vm_options_read);
  return &vm_opts;
}

void vm_options_apply(va_options_t *heap) {
  const va_options_t *e = &vm_options()->heap;
  heap->page_reserve = e->page_reserve, heap->large_cache = e->large_cache;
  heap->large_resident = e->large_resident, heap->page_decay_ns = e->page_decay_ns;
  heap->large_resident_ratio = e->large_resident_ratio, heap->dirty_ratio = e->dirty_ratio;
  heap->large_cache_min = e->large_cache_min;
  heap->trim_threshold = e->trim_threshold;
}
