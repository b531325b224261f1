/* vedalloc — the op language: bytes <-> ops <-> text.
 *
 * Policy: every byte string is a program. A record is 12 bytes; the kind and
 * slot bytes are reduced modulo their ranges, and the size is drawn from a
 * *band* chosen by one byte, so the fuzzer reaches 0, 1, class boundaries
 * +-1, page and MiB sizes and the huge values (near SIZE_MAX, above
 * PTRDIFF_MAX) with one byte flip instead of by luck. Encoding always uses
 * the raw band, so any size_t survives decode(encode()).
 *
 * Complexity: O(n) in the number of ops, no allocation.
 * Non-goals: compactness (a record is fixed-size so the fuzzer's mutations
 * keep op boundaries), and versioning (the corpus is regenerated from the
 * text seeds in fuzz/seeds/ if the layout ever changes).
 */
#include "fuzz/ops.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Helpers: little-endian fields.
 * ------------------------------------------------------------------------- */
static uint64_t va_get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void va_put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static const char *const va_op_names[VA_OP_KINDS] = {
    "alloc", "free",   "realloc", "calloc",  "check",     "memalign",
    "write", "thread", "exit",    "badfree", "badrealloc"};

static const char *const va_bad_names[VA_BAD_KINDS] = {
    "stale", "interior", "unaligned", "foreign", "stack", "global"};

const char *va_bad_name(va_bad_t how) {
  return (unsigned)how < VA_BAD_KINDS ? va_bad_names[how] : "?";
}

int va_bad_parse(const char *name, size_t len) {
  for (int i = 0; i < VA_BAD_KINDS; i++)
    if (strlen(va_bad_names[i]) == len && strncmp(name, va_bad_names[i], len) == 0)
      return i;
  return -1;
}

/* ---------------------------------------------------------------------------
 * Size bands and argument codes.
 * ------------------------------------------------------------------------- */
static size_t va_band_size(unsigned band, uint64_t p) {
  size_t d = (size_t)((p >> 8) % 3) - 1; /* -1, 0, +1 as a wrapping size_t */
  switch (band) {
  case 0: return 0;
  case 1: return 1;
  case 2: return (size_t)(p % 32);
  case 3: return ((size_t)1 << (3 + p % 14)) + d;
  case 4: return (size_t)(p % 2048);
  case 5: return 4096 * (size_t)(1 + p % 16) + d;
  case 6: return ((size_t)(1 + p % 4) << 20) + d;
  case 7: return SIZE_MAX - (size_t)(p % 4096);
  case 8: return (size_t)PTRDIFF_MAX + 1 + (size_t)(p % 4096);
  case 10: return (size_t)(p % (256 * 1024));
  default: return (size_t)p; /* VA_BAND_RAW */
  }
}

/* calloc count: c < 128 -> c; 128..191 -> 2^(c-128); 192..255 -> 2^(256-c) - 1. */
static size_t va_count_decode(uint8_t c) {
  if (c < 128) return c;
  if (c < 192) return (size_t)1 << (c - 128);
  return SIZE_MAX >> (c - 192);
}

/* memalign alignment: c < 64 -> 2^c; else c - 64 (0..191, mostly invalid). */
static size_t va_align_decode(uint8_t c) {
  return c < 64 ? (size_t)1 << c : (size_t)(c - 64);
}

/* The code whose value is the largest representable <= v (exact when possible). */
static uint8_t va_arg_encode(size_t (*dec)(uint8_t), size_t v) {
  uint8_t best = 0;
  size_t best_v = 0;
  bool have = false;
  for (unsigned c = 0; c < 256; c++) {
    size_t x = dec((uint8_t)c);
    if (x == v) return (uint8_t)c;
    if (x < v && (!have || x > best_v)) {
      best = (uint8_t)c, best_v = x, have = true;
    }
  }
  return best;
}

/* The normal form of a bad op's arg: a known kind and a 32-bit k. */
static size_t va_bad_normal(size_t arg) {
  return VA_BAD_ARG(VA_BAD_HOW(arg) % VA_BAD_KINDS, VA_BAD_K(arg));
}

void va_op_normalize(va_op_t *op) {
  op->kind %= VA_OP_KINDS;
  op->slot %= VA_SLOTS;
  switch (op->kind) {
  case VA_OP_THREAD:
  case VA_OP_EXIT: op->slot %= VA_THREADS; op->size = 0; op->arg = 0; break;
  case VA_OP_BADFREE: op->size = 0; op->arg = va_bad_normal(op->arg); break;
  case VA_OP_BADREALLOC:
    op->size = (uint32_t)op->size;
    op->arg = va_bad_normal(op->arg);
    break;
  case VA_OP_CHECK: op->slot = 0; op->size = 0; op->arg = 0; break;
  case VA_OP_FREE: op->size = 0; op->arg = 0; break;
  case VA_OP_ALLOC:
  case VA_OP_REALLOC: op->arg = 0; break;
  case VA_OP_CALLOC:
    op->arg = va_count_decode(va_arg_encode(va_count_decode, op->arg));
    break;
  case VA_OP_MEMALIGN:
    op->arg = va_align_decode(va_arg_encode(va_align_decode, op->arg));
    break;
  case VA_OP_WRITE:
    op->size = VA_WRITE_NORMAL(op->size);
    break;
  }
}

/* ---------------------------------------------------------------------------
 * Binary form.
 * ------------------------------------------------------------------------- */
static uint32_t va_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void va_put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void va_op_decode_one(const uint8_t *r, va_op_t *op) {
  memset(op, 0, sizeof *op);
  op->kind = (uint8_t)(r[0] % VA_OP_KINDS);
  op->slot = (uint8_t)(r[1] % VA_SLOTS);
  switch (op->kind) {
  case VA_OP_CHECK: op->slot = 0; return;
  case VA_OP_THREAD:
  case VA_OP_EXIT: op->slot = (uint8_t)(r[1] % VA_THREADS); return;
  case VA_OP_BADREALLOC: op->size = va_get_u32(r + 7); /* fall through */
  case VA_OP_BADFREE:
    op->arg = VA_BAD_ARG(r[2] % VA_BAD_KINDS, va_get_u32(r + 3));
    return;
  case VA_OP_WRITE:
    op->size = VA_WRITE_NORMAL((size_t)r[2] | (size_t)r[3] << 8);
    op->arg = (size_t)va_get_u64(r + 4);
    return;
  case VA_OP_FREE: return;
  default: break;
  }
  op->size = va_band_size(r[2] % VA_BAND_COUNT, va_get_u64(r + 3));
  if (op->kind == VA_OP_CALLOC) op->arg = va_count_decode(r[11]);
  if (op->kind == VA_OP_MEMALIGN) op->arg = va_align_decode(r[11]);
}

size_t va_ops_decode(const uint8_t *data, size_t len, va_op_t *out, size_t max) {
  size_t n = 0;
  for (; n < max && (n + 1) * VA_OP_RECORD <= len; n++)
    va_op_decode_one(data + n * VA_OP_RECORD, &out[n]);
  return n;
}

static void va_op_encode_one(const va_op_t *in, uint8_t *r) {
  va_op_t op = *in;
  va_op_normalize(&op);
  memset(r, 0, VA_OP_RECORD);
  r[0] = op.kind;
  r[1] = op.slot;
  if (op.kind == VA_OP_CHECK || op.kind == VA_OP_THREAD || op.kind == VA_OP_EXIT)
    return;
  if (va_op_is_bad(&op)) {
    r[2] = (uint8_t)VA_BAD_HOW(op.arg);
    va_put_u32(r + 3, VA_BAD_K(op.arg));
    va_put_u32(r + 7, (uint32_t)op.size);
    return;
  }
  if (op.kind == VA_OP_WRITE) {
    r[2] = (uint8_t)op.size, r[3] = (uint8_t)(op.size >> 8);
    va_put_u64(r + 4, (uint64_t)op.arg);
    return;
  }
  r[2] = VA_BAND_RAW;
  va_put_u64(r + 3, (uint64_t)op.size);
  if (op.kind == VA_OP_CALLOC) r[11] = va_arg_encode(va_count_decode, op.arg);
  if (op.kind == VA_OP_MEMALIGN) r[11] = va_arg_encode(va_align_decode, op.arg);
}

size_t va_ops_encode(const va_op_t *ops, size_t n, uint8_t *out, size_t cap) {
  if (n > cap / VA_OP_RECORD) return 0;
  for (size_t i = 0; i < n; i++) va_op_encode_one(&ops[i], out + i * VA_OP_RECORD);
  return n * VA_OP_RECORD;
}

/* ---------------------------------------------------------------------------
 * Text form.
 * ------------------------------------------------------------------------- */
char *va_op_format(const va_op_t *op, char *buf, size_t cap) {
  const char *name = op->kind < VA_OP_KINDS ? va_op_names[op->kind] : "?";
  switch (op->kind) {
  case VA_OP_CHECK: snprintf(buf, cap, "check"); break;
  case VA_OP_FREE:
  case VA_OP_THREAD:
  case VA_OP_EXIT: snprintf(buf, cap, "%s %u", name, op->slot); break;
  case VA_OP_BADFREE:
    snprintf(buf, cap, "badfree %u %s %u", op->slot,
             va_bad_name(VA_BAD_HOW(op->arg)), VA_BAD_K(op->arg));
    break;
  case VA_OP_BADREALLOC:
    snprintf(buf, cap, "badrealloc %u %s %u %zu", op->slot,
             va_bad_name(VA_BAD_HOW(op->arg)), VA_BAD_K(op->arg), op->size);
    break;
  case VA_OP_CALLOC:
  case VA_OP_MEMALIGN:
    snprintf(buf, cap, "%s %u %zu %zu", name, op->slot, op->arg, op->size);
    break;
  case VA_OP_WRITE:
    if (op->size >= VA_WRITE_SMASH)
      snprintf(buf, cap, "write %u %c%zu 0x%016zx", op->slot,
               op->size & VA_SMASH_BEFORE ? '-' : '+', 1 + (op->size & 63), op->arg);
    else if (op->size >= VA_WRITE_SPRAY)
      snprintf(buf, cap, "write %u * 0x%016zx", op->slot, op->arg);
    else
      snprintf(buf, cap, "write %u %zu 0x%016zx", op->slot, op->size, op->arg);
    break;
  default: snprintf(buf, cap, "%s %u %zu", name, op->slot, op->size); break;
  }
  return buf;
}

/* Parse one unsigned number (decimal or 0x hex); advances *s. */
static bool va_parse_num(const char **s, size_t *out) {
  while (isspace((unsigned char)**s)) (*s)++;
  if (!isdigit((unsigned char)**s)) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(*s, &end, 0);
  if (errno == ERANGE || end == *s) return false;
  *s = end;
  *out = (size_t)v;
  return true;
}

static bool va_parse_rest_empty(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  return *s == '\0' || *s == '#';
}

/* The rest of a bad op: how, k, and for badrealloc the size. */
static bool va_parse_bad(const char *s, va_op_t *op) {
  while (isspace((unsigned char)*s)) s++;
  size_t len = 0;
  while (isalpha((unsigned char)s[len])) len++;
  int how = va_bad_parse(s, len);
  size_t k, n = 0;
  s += len;
  if (how < 0 || !va_parse_num(&s, &k) || k > UINT32_MAX) return false;
  if (op->kind == VA_OP_BADREALLOC && (!va_parse_num(&s, &n) || n > UINT32_MAX))
    return false;
  op->arg = VA_BAD_ARG(how, k);
  op->size = n;
  return va_parse_rest_empty(s);
}

bool va_op_parse(const char *line, va_op_t *op) {
  const char *s = line;
  while (isspace((unsigned char)*s)) s++;
  if (*s == '#' && isdigit((unsigned char)s[1])) { /* "#12 alloc ..." from va_ops_print */
    s++;
    while (isdigit((unsigned char)*s)) s++;
  }
  while (isspace((unsigned char)*s)) s++;
  memset(op, 0, sizeof *op);
  int k = -1;
  size_t len = 0;
  while (isalpha((unsigned char)s[len])) len++;
  for (int i = 0; i < VA_OP_KINDS; i++)
    if (strlen(va_op_names[i]) == len && strncmp(s, va_op_names[i], len) == 0) k = i;
  if (k < 0) return false;
  s += len;
  op->kind = (uint8_t)k;
  if (k == VA_OP_CHECK) return va_parse_rest_empty(s);
  size_t slot, a = 0, b = 0;
  size_t limit = k == VA_OP_THREAD || k == VA_OP_EXIT ? VA_THREADS : VA_SLOTS;
  if (!va_parse_num(&s, &slot) || slot >= limit) return false;
  op->slot = (uint8_t)slot;
  if (k == VA_OP_FREE || k == VA_OP_THREAD || k == VA_OP_EXIT)
    return va_parse_rest_empty(s);
  if (k == VA_OP_BADFREE || k == VA_OP_BADREALLOC) return va_parse_bad(s, op);
  while (k == VA_OP_WRITE && isspace((unsigned char)*s)) s++;
  if (k == VA_OP_WRITE && *s == '*') s++, a = VA_WRITE_SPRAY;
  else if (k == VA_OP_WRITE && (*s == '+' || *s == '-')) {
    size_t before = *s++ == '-' ? VA_SMASH_BEFORE : 0, n;
    if (!va_parse_num(&s, &n) || n < 1 || n > VA_SMASH_MAX) return false;
    a = VA_WRITE_SMASH | before | (n - 1);
  } else if (!va_parse_num(&s, &a)) return false;
  if (k == VA_OP_ALLOC || k == VA_OP_REALLOC) {
    op->size = a;
    return va_parse_rest_empty(s);
  }
  if (!va_parse_num(&s, &b)) return false;
  if (k == VA_OP_WRITE) op->size = a, op->arg = b;
  else op->arg = a, op->size = b; /* calloc slot count size; memalign slot align size */
  return va_parse_rest_empty(s);
}

void va_ops_print(const va_op_t *ops, size_t n, void *file) {
  FILE *f = file ? (FILE *)file : stderr;
  char buf[96];
  for (size_t i = 0; i < n; i++)
    fprintf(f, "#%zu %s\n", i, va_op_format(&ops[i], buf, sizeof buf));
}
