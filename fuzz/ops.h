/* vedalloc — the op language shared by the fuzzers and the property runner.
 *
 * A program is a sequence of ops over VA_SLOTS slots, each slot holding at
 * most one live block. Every op is well defined in every state, so every
 * byte string decodes to a valid program:
 *   alloc(s, n)       slot full: free it first, then malloc(n) into it
 *   free(s)           slot empty: no-op
 *   realloc(s, n)     slot empty: realloc(NULL, n)
 *   calloc(s, c, n)   slot full: free it first, then calloc(c, n)
 *   memalign(s, a, n) slot full: free it first, then memalign(a, n)
 *   check             run the allocator's checker and the shadow's full scan
 *
 * Bytes <-> ops: fixed-size records of VA_OP_RECORD bytes (a trailing
 * partial record is ignored). A record picks a size *band* (0, 1, class
 * boundaries +-1, page multiples, huge values near SIZE_MAX / above
 * PTRDIFF_MAX, raw) so the fuzzer reaches the sizes that break allocators,
 * and any op produced by decoding, or built by hand with any size_t size,
 * encodes back to a record that decodes to the same op:
 *     decode(encode(ops)) == ops.
 * Text form, one op per line (parse(format(op)) == op):
 *     alloc 3 4096
 *     free 3
 *     realloc 7 0
 *     calloc 2 3 18446744073709551615
 *     memalign 5 64 100
 *     check
 */
#ifndef VEDALLOC_FUZZ_OPS_H
#define VEDALLOC_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VA_SLOTS 64     /* slots a program can hold blocks in */
#define VA_OP_RECORD 12 /* bytes per op in the binary form */

typedef enum va_op_kind {
  VA_OP_ALLOC = 0,
  VA_OP_FREE,
  VA_OP_REALLOC,
  VA_OP_CALLOC,
  VA_OP_CHECK,
  VA_OP_MEMALIGN,
  VA_OP_KINDS
} va_op_kind_t;

typedef struct va_op {
  uint8_t kind; /* va_op_kind_t */
  uint8_t slot; /* < VA_SLOTS */
  size_t size;  /* bytes (calloc: element size) */
  size_t arg;   /* calloc: element count; memalign: alignment; else 0 */
} va_op_t;

/* Decode up to `max` ops from bytes; returns the count decoded. */
size_t va_ops_decode(const uint8_t *data, size_t len, va_op_t *out, size_t max);

/* Encode n ops; returns bytes written (n * VA_OP_RECORD), 0 if cap too small. */
size_t va_ops_encode(const va_op_t *ops, size_t n, uint8_t *out, size_t cap);

/* One op as text (no newline), e.g. "alloc 3 4096". Returns buf. */
char *va_op_format(const va_op_t *op, char *buf, size_t cap);

/* Parse one line of text into an op; false on syntax error. */
bool va_op_parse(const char *line, va_op_t *op);

/* Print a whole program, one numbered op per line ("#12 alloc 3 4096"). */
void va_ops_print(const va_op_t *ops, size_t n, void *file /* FILE* */);

#endif
