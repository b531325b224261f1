/* Tests for the executor: clean programs pass on the process malloc; each
 * planted fault, driven by a hand-written program, fails with its named
 * invariant; failure reports carry the op index and op. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc/system/system.h"
#include "fuzz/exec.h"
#include "fuzz/faulty.h"
#include "alloc/testing/check.h"
#include "fuzz/ops.h"
#include "fuzz/shadow.h"

/* Under --config=asan: impossible requests must return NULL, not report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }


/* Parse a program of ';'-separated ops. */
static size_t fz_prog(const char *text, va_op_t *ops, size_t max) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", text);
  size_t n = 0;
  for (char *save, *line = strtok_r(buf, ";", &save); line && n < max;
       line = strtok_r(NULL, ";", &save)) {
    if (!va_op_parse(line, &ops[n])) {
      VT_CHECKF(false, "bad op in test: %s", line);
      return n;
    }
    n++;
  }
  return n;
}

/* Run text on a; return the invariant (NULL if all held). */
static const char *fz_run(const va_allocator_t *a, const char *text, va_failure_t *f) {
  va_op_t ops[128];
  size_t n = fz_prog(text, ops, 128);
  va_exec_config_t cfg = va_exec_config_default();
  va_options_t o = va_options_default();
  if (va_exec(a, &o, ops, n, &cfg, f)) return NULL;
  va_failure_print(f, stderr);
  return f->invariant;
}

static bool fz_is(const char *got, const char *want) {
  return got && strcmp(got, want) == 0;
}

static const char *const fz_clean =
    "alloc 0 0;alloc 1 1;alloc 2 4096;calloc 3 4 100;realloc 2 10000;"
    "realloc 1 0;memalign 4 64 100;write 2 17 0xdeadbeef;check;"
    "alloc 5 18446744073709551615;alloc 6 9223372036854775808;"
    "calloc 7 2 9223372036854775808;realloc 2 18446744073709551615;"
    "memalign 8 3 100;free 0;free 0;realloc 9 100;check;"
    "alloc 10 40;write 10 * 0x0123456789abcdef;realloc 10 5000;check;realloc 10 3;check";

static void test_clean(void) {
  va_failure_t f;
  VT_CHECK(fz_run(&sys_allocator, fz_clean, &f) == NULL);
  VT_CHECK(fz_run(va_faulty(&sys_allocator, VA_FAULT_NONE), fz_clean, &f) == NULL);
}

static void test_faults(void) {
  va_failure_t f;
  const char *warm = "alloc 0 100;alloc 1 200;alloc 2 300;";
  char prog[512];
  snprintf(prog, sizeof prog, "%salloc 3 50", warm);
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_OVERLAP), prog, &f), "shadow.overlap"));
  VT_CHECK(f.op_index == 3 && f.op.kind == VA_OP_ALLOC && f.op.slot == 3);
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_SAME_TWICE), prog, &f), "shadow.overlap"));
  snprintf(prog, sizeof prog, "%salloc 3 50", warm);
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_MISALIGNED), prog, &f), "shadow.align"));
  snprintf(prog, sizeof prog, "%srealloc 1 5000", warm);
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_REALLOC_LOSES), prog, &f), "shadow.realloc"));
  /* The original V1: alloc(4040) then alloc(8) return the same block. */
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_V1_GROW_ALIAS),
                      "alloc 0 4040;alloc 1 8", &f), "shadow.overlap"));
  /* The original V2: a (modelled) double free; the next two allocations alias. */
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_V2_DOUBLE_FREE),
                      "alloc 0 32;alloc 1 32;alloc 2 32;free 1;alloc 3 32;alloc 4 32", &f),
               "shadow.overlap"));
  /* The original V2: the magic in block 0's last 16 bytes spoofs block 1 as large. */
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_V2_MAGIC_SPOOF),
                      "alloc 0 64;alloc 1 64;write 0 48 0xC0FFEE00DEADBEEF;free 1", &f),
               "empty:faulty.live_blocks"));
  VT_CHECK(f.op_index == 4);
  /* A spray needs no exact offset: every word of block 0 is the magic. */
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_V2_MAGIC_SPOOF),
                      "alloc 0 40;alloc 1 40;write 0 * 0xC0FFEE00DEADBEEF;free 1", &f),
               "empty:faulty.live_blocks"));
  /* The sprayed image is what realloc must keep. */
  snprintf(prog, sizeof prog, "%swrite 1 * 0x1111111111111111;realloc 1 5000", warm);
  VT_CHECK(fz_is(fz_run(va_faulty(&sys_allocator, VA_FAULT_REALLOC_LOSES), prog, &f), "shadow.realloc"));
}

/* The fill pattern catches a block shifted by a word or by 4 KiB, a stale
 * generation, and a spray that is not the one remembered. */
static void test_pattern(void) {
  static uint8_t buf[3 * 4096 + 64];
  size_t n = 2 * 4096 + 40, off;
  uint8_t got, want;
  fz_image_t img = {.seed = fz_seed(3, 7)}, old = {.seed = fz_seed(3, 6)};
  fz_fill(buf, n + 4096, &img);
  VT_CHECK(fz_verify(buf, n, n, &img, &off, &got, &want));
  VT_CHECK(!fz_verify(buf + 8, n, n, &img, &off, &got, &want) && off == 0);
  VT_CHECK(!fz_verify(buf + 4096, n, n, &img, &off, &got, &want) && off == 0);
  VT_CHECK(!fz_verify(buf, n, n, &old, &off, &got, &want) && off == 0);
  buf[4096 + 17] ^= 1; /* one flipped bit in the second 4 KiB */
  VT_CHECK(!fz_verify(buf, n, n, &img, &off, &got, &want) && off == 4096 + 17);
  fz_image_t spray = {.spray = true, .spray_val = 0x1122334455667788ull};
  fz_fill(buf, n, &spray);
  VT_CHECK(fz_verify(buf, n, n, &spray, &off, &got, &want));
  spray.spray_val ^= 1;
  VT_CHECK(!fz_verify(buf, n, n, &spray, &off, &got, &want) && off == 0);
}

static void test_names(void) {
  VT_CHECK(strcmp(va_fault_name(VA_FAULT_V2_MAGIC_SPOOF), "v2_magic_spoof") == 0);
  va_failure_t f = {.op_index = 12, .op = {.kind = VA_OP_ALLOC, .slot = 3, .size = 4096},
                    .invariant = "shadow.overlap", .detail = "x"};
  char buf[256] = {0};
  FILE *m = fmemopen(buf, sizeof buf, "w");
  va_failure_print(&f, m);
  fclose(m);
  VT_CHECK(strcmp(buf, "op #12 (alloc 3 4096): shadow.overlap: x\n") == 0);
}

int main(void) {
  test_clean();
  test_faults();
  test_pattern();
  test_names();
  return va_check_summary();
}
