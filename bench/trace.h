/* vedalloc bench — allocation traces: parse the text form, replay it.
 *
 * Text form, one op per line (the classic malloc-lab format):
 *     a <id> <size>     malloc(size), the block is called <id>
 *     f <id>            free block <id>
 *     r <id> <size>     realloc block <id> to size (same id afterwards)
 * A malloc-lab file starts with four numbers (suggested heap size, number
 * of ids, number of ops, weight), one per line; lines made only of a
 * number before the first op are taken as that header and ignored. Blank
 * lines and lines starting with '#' are comments.
 *
 * A parsed trace is valid by construction: every f and r names a live id,
 * every a names a dead one, so a replay never frees a wild pointer.
 *   nids == 1 + the largest id used
 *   ops of kind a + kind r on a dead id never occur (rejected at parse time)
 */
#ifndef VEDALLOC_BENCH_TRACE_H
#define VEDALLOC_BENCH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_TRACE_MAX_ID (1u << 24)       /* ids above this are rejected */
#define BENCH_TRACE_MAX_SIZE ((size_t)1 << 32) /* sizes above this are rejected */

typedef enum bench_trace_kind {
  BENCH_TRACE_ALLOC = 'a',
  BENCH_TRACE_FREE = 'f',
  BENCH_TRACE_REALLOC = 'r',
} bench_trace_kind_t;

typedef struct bench_trace_op {
  uint32_t kind; /* a bench_trace_kind_t */
  uint32_t id;   /* block name, < nids */
  uint64_t size; /* requested bytes (a, r); 0 for f */
} bench_trace_op_t;

typedef struct bench_trace {
  bench_trace_op_t *ops; /* nops entries (mmap'd) */
  size_t nops;
  size_t nids;        /* 1 + largest id */
  size_t live_at_end; /* blocks the trace leaves live (the replay frees them) */
} bench_trace_t;

/* Parses text[0..len). On error returns false and writes "line N: why" to err. */
bool bench_trace_parse(const char *text, size_t len, bench_trace_t *t,
                       char *err, size_t errlen);

/* Reads and parses a file. */
bool bench_trace_load(const char *path, bench_trace_t *t, char *err,
                      size_t errlen);

void bench_trace_free(bench_trace_t *t);

#endif
