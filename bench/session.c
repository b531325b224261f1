/* vedalloc bench — lookups in a session's results, shared by the reports
 * (report.c) and the targets (targets.c): calls go report.c -> targets.c ->
 * session.c, never back. */
#include <string.h>

#include "bench/bench.h"

/* Workloads in the order they appear in results. */
size_t bench_workload_order(const bench_session_t *s, const char **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->nresults; i++) {
    bool seen = false;
    for (size_t j = 0; j < n; j++) seen |= strcmp(out[j], s->results[i].workload) == 0;
    if (!seen && n < max) out[n++] = s->results[i].workload;
  }
  return n;
}

const bench_result_t *bench_result_find(const bench_session_t *s, const char *alloc,
                                        const char *workload) {
  for (size_t i = 0; i < s->nresults; i++)
    if (strcmp(s->results[i].alloc, alloc) == 0 && strcmp(s->results[i].workload, workload) == 0)
      return &s->results[i];
  return NULL;
}

const char *bench_row_summary(const char *name) {
  const bench_workload_t *w = bench_workload_find(name);
  const bench_program_t *p = w ? NULL : bench_program_find(name);
  return w ? w->summary : p ? p->summary : "";
}
