/* Tests for the op language: byte and text round trips, band coverage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/testing/check.h"
#include "fuzz/ops.h"


static uint64_t rng = 0x12345678abcdefull;
static uint64_t fz_rand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

static bool fz_op_eq(const va_op_t *a, const va_op_t *b) {
  return a->kind == b->kind && a->slot == b->slot && a->size == b->size &&
         a->arg == b->arg;
}

/* decode(encode(decode(bytes))) == decode(bytes) for random bytes. */
static void test_bytes_round_trip(void) {
  enum { N = 512 };
  uint8_t bytes[N * VA_OP_RECORD + 5], again[N * VA_OP_RECORD];
  va_op_t a[N], b[N];
  int bad = 0;
  for (int iter = 0; iter < 200; iter++) {
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)fz_rand();
    size_t n = va_ops_decode(bytes, sizeof bytes, a, N);
    VT_CHECK(n == N); /* the 5 trailing bytes are ignored */
    size_t len = va_ops_encode(a, n, again, sizeof again);
    VT_CHECK(len == n * VA_OP_RECORD);
    size_t m = va_ops_decode(again, len, b, N);
    VT_CHECK(m == n);
    for (size_t i = 0; i < n; i++) bad += !fz_op_eq(&a[i], &b[i]);
  }
  VT_CHECK(bad == 0);
}

/* Hand-built ops with any size: size survives encode/decode; normalize is
 * idempotent and encode of a normalized op is exact. */
static void test_ops_round_trip(void) {
  int bad = 0;
  for (int iter = 0; iter < 20000; iter++) {
    va_op_t op = {.kind = (uint8_t)(fz_rand() % VA_OP_KINDS),
                  .slot = (uint8_t)(fz_rand() % VA_SLOTS),
                  .size = (size_t)fz_rand() >> (fz_rand() % 64),
                  .arg = (size_t)fz_rand() >> (fz_rand() % 64)};
    va_op_normalize(&op);
    va_op_t again = op;
    va_op_normalize(&again);
    bad += !fz_op_eq(&op, &again);
    uint8_t r[VA_OP_RECORD];
    va_op_t back;
    VT_CHECK(va_ops_encode(&op, 1, r, sizeof r) == VA_OP_RECORD);
    VT_CHECK(va_ops_decode(r, sizeof r, &back, 1) == 1);
    bad += !fz_op_eq(&op, &back);
  }
  VT_CHECK(bad == 0);
  uint8_t small[VA_OP_RECORD - 1];
  va_op_t op = {.kind = VA_OP_ALLOC};
  VT_CHECK(va_ops_encode(&op, 1, small, sizeof small) == 0);
}

/* parse(format(op)) == op for random normalized ops, and hand-written text. */
static void test_text_round_trip(void) {
  int bad = 0;
  for (int iter = 0; iter < 20000; iter++) {
    uint8_t r[VA_OP_RECORD];
    for (int i = 0; i < VA_OP_RECORD; i++) r[i] = (uint8_t)fz_rand();
    va_op_t op, back;
    va_ops_decode(r, sizeof r, &op, 1);
    char buf[128];
    va_op_format(&op, buf, sizeof buf);
    if (!va_op_parse(buf, &back) || !fz_op_eq(&op, &back)) {
      if (bad++ < 3) fprintf(stderr, "text round trip failed: %s\n", buf);
    }
  }
  VT_CHECK(bad == 0);
  va_op_t op;
  VT_CHECK(va_op_parse("alloc 3 4096", &op) && op.kind == VA_OP_ALLOC &&
         op.slot == 3 && op.size == 4096);
  VT_CHECK(va_op_parse("#12 calloc 2 3 18446744073709551615", &op) &&
         op.kind == VA_OP_CALLOC && op.arg == 3 && op.size == SIZE_MAX);
  VT_CHECK(va_op_parse("  memalign 5 64 100  # comment", &op) && op.arg == 64);
  VT_CHECK(va_op_parse("write 4 4080 0xdeadbeef", &op) && op.size == 4080 &&
         op.arg == 0xdeadbeef);
  VT_CHECK(va_op_parse("write 4 * 0xdeadbeef", &op) && op.size == VA_WRITE_SPRAY &&
           op.arg == 0xdeadbeef);
  char text[96];
  VT_CHECK(strcmp(va_op_format(&op, text, sizeof text), "write 4 * 0x00000000deadbeef") == 0);
  const uint8_t spray_rec[VA_OP_RECORD] = {VA_OP_WRITE, 4, 0x34, 0x92, 0xef, 0xbe, 0xad, 0xde};
  VT_CHECK(va_ops_decode(spray_rec, sizeof spray_rec, &op, 1) == 1 && op.size == VA_WRITE_SPRAY &&
           op.arg == 0xdeadbeef);
  VT_CHECK(va_op_parse("check", &op) && op.kind == VA_OP_CHECK);
  VT_CHECK(va_op_parse("free 63", &op) && op.slot == 63);
  VT_CHECK(!va_op_parse("free 64", &op));
  VT_CHECK(!va_op_parse("alloc 1", &op));
  VT_CHECK(!va_op_parse("alloc 1 2 3", &op));
  VT_CHECK(!va_op_parse("allocate 1 2", &op));
  VT_CHECK(!va_op_parse("alloc 1 99999999999999999999999", &op));
}

/* The bands reach the sizes that break allocators. */
static void test_bands(void) {
  bool zero = false, one = false, huge = false, above = false, b4095 = false,
       b4097 = false, mib = false, overflow = false;
  for (int iter = 0; iter < 200000; iter++) {
    uint8_t r[VA_OP_RECORD];
    for (int i = 0; i < VA_OP_RECORD; i++) r[i] = (uint8_t)fz_rand();
    va_op_t op;
    va_ops_decode(r, sizeof r, &op, 1);
    if (op.kind == VA_OP_ALLOC) {
      zero |= op.size == 0, one |= op.size == 1;
      huge |= op.size >= SIZE_MAX - 4096;
      above |= op.size > (size_t)PTRDIFF_MAX && op.size < SIZE_MAX / 2 + 8192;
      b4095 |= op.size == 4095, b4097 |= op.size == 4097;
      mib |= op.size == (1u << 20) + 1;
    }
    size_t t;
    if (op.kind == VA_OP_CALLOC && op.size > 1 && op.arg > 1)
      overflow |= __builtin_mul_overflow(op.arg, op.size, &t);
  }
  VT_CHECK(zero && one && huge && above && b4095 && b4097 && mib && overflow);
}

int main(void) {
  test_bytes_round_trip();
  test_ops_round_trip();
  test_text_round_trip();
  test_bands();
  return va_check_summary();
}
