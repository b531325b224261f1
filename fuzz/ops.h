/* vedalloc — the op language shared by the fuzzers and the property runner.
 *
 * A program is a sequence of ops over VA_SLOTS slots, each slot holding at
 * most one live block, run by virtual threads 0 .. VA_THREADS-1 (thread 0
 * runs from the start). One interpreter runs them (fuzz/interp.h), so
 * every harness gives every op the same meaning. Every op is well defined
 * in every state, so every byte string decodes to a valid program:
 *   alloc(s, n)       slot full: free it first, then malloc(n) into it
 *   free(s)           slot empty: no-op
 *   realloc(s, n)     slot empty: realloc(NULL, n)
 *   calloc(s, c, n)   slot full: free it first, then calloc(c, n)
 *   memalign(s, a, n) slot full: free it first, then memalign(a, n); a
 *                     no-op on an allocator without memalign
 *   check             the harness's checks of the whole heap (exec.h)
 *   write(s, off, v)  slot full: store the 8-byte word v at byte offset
 *                     off % (usable - 7) of the block (user data that
 *                     imitates metadata, e.g. a large-block magic). At most
 *                     VA_WRITES_PER_BLOCK such writes per block and fill;
 *                     later ones, a usable size < 8 or an empty slot: no-op.
 *   write(s, *, v)    (off >= VA_WRITE_SPRAY) spray: every 8-byte word of
 *                     the block's owned bytes (below) becomes v, so
 *                     whatever a header-less design reads at some offset
 *                     past the block's start (the word before its
 *                     neighbour, say) is v, with no exact offset for the
 *                     fuzzer to guess. Slot empty: no-op.
 *   write(s, +n, v)   (off >= VA_WRITE_SMASH) smash: the n bytes (1..64)
 *   write(s, -n, v)   just past the block's usable end (+) or just before
 *                     its start (-) become v's bytes, as an overflow or an
 *                     underflow of a buggy program does: metadata the
 *                     allocator keeps there is damaged. The interpreter
 *                     writes through the kernel (process_vm_writev: ASan
 *                     builds see the write happen, not a report of it;
 *                     memory that is not mapped writable: no-op), runs the
 *                     heap checker, which may name the damage, and asks
 *                     usable_size of every live block, which must report
 *                     corruption or answer as before (never follow the
 *                     damage, never a wrong name); then frees the block
 *                     in a forked child with the damage in place, which
 *                     must report corruption or, the bytes put back,
 *                     leave a heap the checker passes (never a crash);
 *                     an entry with canaries must report any smash past
 *                     the end there;
 *                     then it puts the bytes back and the program goes on. Slot empty, or an
 *                     allocator that does not report misuse: no-op.
 *   thread(t)         the following ops run as thread t, started now if
 *                     it is not running. On an allocator with a heap per
 *                     thread (va_allocator_t.thread_switch), a free or
 *                     realloc of a block another thread's heap holds is a
 *                     remote free; elsewhere every thread shares the heap.
 *   exit(t)           thread t exits: its heap is abandoned, its blocks stay
 *                     valid (any thread may free them), and t names a new
 *                     thread if it runs again. t not running: no-op.
 *   badfree(s, how, k) free a pointer that is not a live block (below); the
 *                     allocator must report it and change nothing.
 *   badrealloc(s, how, k, n)  realloc of such a pointer to n bytes: the
 *                     same, and NULL with errno EINVAL.
 * The bad pointer `how` names, from slot s and the parameter k:
 *   stale     the block slot s held last (freed since): a double free.
 *             None yet, or it is again the start of a live block: no-op.
 *   interior  s's live block + 8 * (1 + k % ((usable - 1) / 8)): inside
 *             it, 8-aligned. Slot empty or usable <= 8: no-op.
 *   unaligned s's live block + 1 + k % 7. Slot empty: no-op.
 *   foreign   a live block of another instance of the same allocator.
 *   stack     an address on the interpreter's stack.
 *   global    an address in a static array.
 * Bad ops are no-ops for an allocator that does not report misuse (the
 * registry entry says, alloc/registry.h).
 *
 * Owned bytes: the harness writes and verifies a block's bytes up to
 * VA_FILL_CAP whole; a larger block in windows of VA_FILL_EDGE bytes: its
 * first and last, and two whole ones between, chosen from its size (so a
 * copy that loses part of a large realloc is seen by some size, without
 * writing and faulting in every page of every MiB-sized block).
 *
 * Bytes <-> ops: fixed-size records of VA_OP_RECORD bytes (a trailing
 * partial record is ignored). A record picks a size *band* (0, 1, class
 * boundaries +-1, page multiples, huge values near SIZE_MAX / above
 * PTRDIFF_MAX, raw) so the fuzzer reaches the sizes that break allocators,
 * and any op produced by decoding, or built by hand with any size_t size,
 * encodes back to a record that decodes to the same op:
 *     decode(encode(ops)) == ops.
 * Exactly: kind, slot and size round-trip for every value (size is stored
 * raw; a write offset below VA_WRITE_SPRAY, VA_WRITE_SPRAY itself, or a
 * smash VA_WRITE_SMASH + code);
 * `arg` round-trips for every value decoding can produce (calloc count:
 * 0..127, 2^k, 2^k - 1; memalign alignment: 2^k, 0..191; write: any value;
 * bad ops: how and a 32-bit k). A hand-built op is first brought to that
 * form by va_op_normalize (count/alignment rounded down to the nearest
 * representable value, fields an op kind does not use zeroed, a write
 * offset in [VA_WRITE_SPRAY, VA_WRITE_SMASH) made VA_WRITE_SPRAY, one at or
 * above VA_WRITE_SMASH cut to its 7-bit code, a thread id or slot taken
 * modulo its range, a badrealloc size cut to 32 bits).
 *
 * Record layout (12 bytes):
 *     [0] kind (byte % VA_OP_KINDS)   [1] slot (byte % VA_SLOTS; thread and
 *                                         exit: thread, byte % VA_THREADS)
 *     alloc/free/realloc/calloc/memalign:
 *       [2] size band  [3..10] band payload, u64 LE  [11] arg code
 *     write:  [2..3] offset, u16 LE (>= 0x8000: spray; >= 0xC000: smash,
 *             bits 0-5 length - 1, bit 6 before)   [4..11] value, u64 LE
 *     badfree/badrealloc:  [2] how (byte % VA_BAD_KINDS)  [3..6] k, u32 LE
 *                          [7..10] badrealloc size, u32 LE
 *     check, thread, exit: the rest ignored
 * Size bands (byte [2] % VA_BAND_COUNT), p = payload:
 *     0 zero   1 one   2 tiny p%32   3 2^k+d (k 3..16, d -1/0/+1)
 *     4 small p%2048   5 pages 4096*(1+p%16)+d   6 MiB (1+p%4)<<20 + d
 *     7 SIZE_MAX - p%4096   8 PTRDIFF_MAX + 1 + p%4096   9 raw p (what
 *     encode writes)   10 medium p % 256Ki
 * Text form, one op per line (parse(format(op)) == op):
 *     alloc 3 4096
 *     free 3
 *     realloc 7 0
 *     calloc 2 3 18446744073709551615
 *     memalign 5 64 100
 *     check
 *     write 4 4080 0x00000000deadbeef
 *     write 4 * 0x00000000deadbeef            (spray)
 *     write 4 +8 0x4141414141414141            (smash: 8 bytes past the end)
 *     write 4 -32 0x0000000000000000           (smash: 32 bytes before the start)
 *     thread 2
 *     exit 2
 *     badfree 4 interior 17
 *     badrealloc 4 stale 0 100
 */
#ifndef VEDALLOC_FUZZ_OPS_H
#define VEDALLOC_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VA_SLOTS 64     /* slots a program can hold blocks in */
#define VA_THREADS 4    /* virtual threads a program can run */
#define VA_OP_RECORD 12 /* bytes per op in the binary form */
#define VA_WRITE_SPRAY 0x8000 /* write offsets >= this decode to it: spray */
#define VA_WRITE_SMASH 0xC000 /* ... and >= this to it + a 7-bit code: smash */
#define VA_SMASH_BEFORE 0x40  /* code bit: before the start (else past the end) */
#define VA_SMASH_MAX 64       /* bytes a smash writes at most: 1 + (code & 63) */
/* The normal form of a write offset (ops.c, interp.c share it). */
#define VA_WRITE_NORMAL(off)                                                   \
  ((off) >= VA_WRITE_SMASH   ? VA_WRITE_SMASH | ((off) & 0x7F)                 \
   : (off) >= VA_WRITE_SPRAY ? VA_WRITE_SPRAY                                  \
                             : (off))
#define VA_WRITES_PER_BLOCK 4 /* word writes remembered per block and fill */
#define VA_FILL_CAP ((size_t)32 << 10) /* owned whole up to this size */
#define VA_FILL_EDGE ((size_t)4 << 10) /* else four windows of this much */
#define VA_OWNED_RANGES 4

typedef enum va_op_kind {
  VA_OP_ALLOC = 0,
  VA_OP_FREE,
  VA_OP_REALLOC,
  VA_OP_CALLOC,
  VA_OP_CHECK,
  VA_OP_MEMALIGN,
  VA_OP_WRITE,      /* store a user word into a live block (see above) */
  VA_OP_THREAD,     /* run as another virtual thread */
  VA_OP_EXIT,       /* a virtual thread exits */
  VA_OP_BADFREE,    /* free of a pointer that is not a live block */
  VA_OP_BADREALLOC, /* realloc of one */
  VA_OP_KINDS
} va_op_kind_t;

/* The bad pointers of badfree / badrealloc (see above). */
typedef enum va_bad {
  VA_BAD_STALE = 0,
  VA_BAD_INTERIOR,
  VA_BAD_UNALIGNED,
  VA_BAD_FOREIGN,
  VA_BAD_STACK,
  VA_BAD_GLOBAL,
  VA_BAD_KINDS
} va_bad_t;

typedef struct va_op {
  uint8_t kind; /* va_op_kind_t */
  uint8_t slot; /* < VA_SLOTS (thread, exit: the thread, < VA_THREADS) */
  size_t size;  /* bytes (calloc: element size; write: byte offset;
                   badrealloc: the new size, < 2^32) */
  size_t arg;   /* calloc: element count; memalign: alignment; write: the
                   word; bad ops: how | k << 8 (VA_BAD_ARG); else 0 */
} va_op_t;

/* The arg of a bad op, and its two parts. */
#define VA_BAD_ARG(how, k) ((size_t)(how) | (size_t)(uint32_t)(k) << 8)
#define VA_BAD_HOW(arg) ((va_bad_t)((arg) & 0xff))
#define VA_BAD_K(arg) ((uint32_t)((arg) >> 8))

#define VA_BAND_COUNT 11 /* size bands, see the layout above */
#define VA_BAND_RAW 9    /* the band encode uses: payload is the size */

/* Bring a hand-built op to its encodable form (see above). */
void va_op_normalize(va_op_t *op);

/* Is this op one of the misuse ops? */
static inline bool va_op_is_bad(const va_op_t *op) {
  return op->kind == VA_OP_BADFREE || op->kind == VA_OP_BADREALLOC;
}

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

/* Name of a bad pointer kind ("stale", ...), and back (-1: unknown). */
const char *va_bad_name(va_bad_t how);
int va_bad_parse(const char *name, size_t len);

#endif
