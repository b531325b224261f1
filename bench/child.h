/* vedalloc bench — the child side of the driver: runs one pair in this
 * process and prints a RESULT (or FAST, or SKIP) line to out. */
#ifndef VEDALLOC_BENCH_CHILD_H
#define VEDALLOC_BENCH_CHILD_H

#include <stdio.h>

#include "bench/bench.h"

/* `workload` may be "fastpath" for the micro benchmark. A run longer than
 * run_limit seconds (0: no limit) ends the child with a SLOW line. threads
 * (0: the workload's default) sets a multi-threaded workload's worker count;
 * on an entry other than "system" (a single-threaded instance) such a
 * workload prints `SKIP n/a: ...`. The child is one of `rounds` processes
 * of its pair (compare --rounds): it times 1/rounds of the mode's runs.
 * Exits 3 on error. */
int bench_child_main(const char *alloc, const char *workload, bench_mode_t mode,
                     const char *trace_dir, double run_limit, int threads, int rounds,
                     FILE *out);

#endif
