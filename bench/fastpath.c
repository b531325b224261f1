/* vedalloc bench — the fast-path micro benchmark.
 *
 * Two numbers per size, both ns per malloc+free pair, best of several runs
 * (the minimum is the least disturbed by other load on a shared machine):
 *   pair  malloc(n) immediately followed by free: the allocator's hot path
 *         with the same block recycled every time.
 *   lifo  1000 mallocs, then the 1000 frees in reverse order: the path
 *         through a free list that must grow and shrink.
 * The function pointers are copied to locals once, so the loop is exactly
 * two indirect calls per pair for every allocator, with no counters.
 * Runs per size stop early once the size has used its time budget
 * (bench_fast_more): a size whose LIFO round maps and unmaps pages costs ~1 us a
 * pair, and 15 runs of it would take seconds of the session's two minutes.
 */
#include <string.h>
#include <time.h>

#include "bench/bench.h"

const size_t bench_fast_sizes[BENCH_FAST_SIZES] = {16, 32, 64, 128, 256, 512, 1024};

#define BENCH_LIFO_DEPTH 1000

static double bench_fast_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double bench_fast_pair(const va_allocator_t *a, void *heap, size_t n,
                              long pairs, uint64_t *sink) {
  void *(*m)(void *, size_t) = a->malloc;
  void (*f)(void *, void *) = a->free;
  double t0 = bench_fast_now();
  for (long i = 0; i < pairs; i++) {
    void *p = m(heap, n);
    *sink ^= (uintptr_t)p;
    f(heap, p);
  }
  return (bench_fast_now() - t0) * 1e9 / (double)pairs;
}

static double bench_fast_lifo(const va_allocator_t *a, void *heap, size_t n,
                              long pairs, uint64_t *sink) {
  void *(*m)(void *, size_t) = a->malloc;
  void (*f)(void *, void *) = a->free;
  void *p[BENCH_LIFO_DEPTH];
  long rounds = pairs / BENCH_LIFO_DEPTH;
  if (rounds < 1) rounds = 1;
  double t0 = bench_fast_now();
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < BENCH_LIFO_DEPTH; i++) p[i] = m(heap, n);
    *sink ^= (uintptr_t)p[r % BENCH_LIFO_DEPTH];
    for (int i = BENCH_LIFO_DEPTH; i-- > 0;) f(heap, p[i]);
  }
  return (bench_fast_now() - t0) * 1e9 / (double)(rounds * BENCH_LIFO_DEPTH);
}

/* Another run of this size? Within the budget, yes; past it, up to 3 runs
 * while under 4x the budget (a size slower than that keeps its best so far). */
static bool bench_fast_more(int runs_done, double spent, double budget) {
  return spent < budget || (runs_done < 3 && spent < 4 * budget);
}

void bench_fast_run(const va_allocator_t *a, void *heap, bench_mode_t mode,
                    FILE *out) {
  /* Many short runs: the minimum of short runs dodges bursts of load from
   * other processes better than a few long ones. Rounds go over every size
   * in turn, so one size's runs are spread over the whole micro benchmark
   * rather than bunched into one stretch that a burst could cover. */
  long pairs = mode == BENCH_QUICK ? 20000 : mode == BENCH_FULL ? 1000000 : 200000;
  int runs = mode == BENCH_QUICK ? 2 : mode == BENCH_FULL ? 31 : 15;
  double budget = mode == BENCH_QUICK ? 0.05 : mode == BENCH_FULL ? 2.0 : 0.15; /* s per size */
  double best_pair[BENCH_FAST_SIZES], best_lifo[BENCH_FAST_SIZES], spent[BENCH_FAST_SIZES];
  uint64_t sink = 0;
  for (int s = 0; s < BENCH_FAST_SIZES; s++) {
    bench_fast_pair(a, heap, bench_fast_sizes[s], pairs / 10, &sink); /* warm-up */
    bench_fast_lifo(a, heap, bench_fast_sizes[s], pairs / 10, &sink);
    best_pair[s] = best_lifo[s] = 1e30;
    spent[s] = 0;
  }
  for (int r = 0; r < runs; r++)
    for (int s = 0; s < BENCH_FAST_SIZES; s++) {
      if (!bench_fast_more(r, spent[s], budget)) continue;
      size_t n = bench_fast_sizes[s];
      double t0 = bench_fast_now();
      double t = bench_fast_pair(a, heap, n, pairs, &sink);
      if (t < best_pair[s]) best_pair[s] = t;
      t = bench_fast_lifo(a, heap, n, pairs, &sink);
      if (t < best_lifo[s]) best_lifo[s] = t;
      spent[s] += bench_fast_now() - t0;
    }
  for (int s = 0; s < BENCH_FAST_SIZES; s++)
    fprintf(out, "FAST %zu %.3f %.3f %llu\n", bench_fast_sizes[s], best_pair[s], best_lifo[s],
            (unsigned long long)(sink & 0xff));
}
