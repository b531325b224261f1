/* vedalloc bench — unit tests of the trace parser. */
#include <stdio.h>
#include <string.h>

#include "alloc/testing/check.h"
#include "bench/trace.h"

static bool tt_parse(const char *text, bench_trace_t *t, char *err) {
  return bench_trace_parse(text, strlen(text), t, err, 200);
}

/* A malloc-lab file: four header numbers, then ops. */
static void tt_malloc_lab(void) {
  bench_trace_t t;
  char err[200] = "";
  const char *text = "20000\n3\n6\n1\na 0 512\na 1 128\nr 0 640\nf 1\na 2 16\nf 0\n";
  VT_CHECK(tt_parse(text, &t, err));
  VT_CHECK(t.nops == 6);
  VT_CHECK(t.nids == 3);
  VT_CHECK(t.live_at_end == 1);
  VT_CHECK(t.ops[0].kind == BENCH_TRACE_ALLOC && t.ops[0].id == 0 && t.ops[0].size == 512);
  VT_CHECK(t.ops[2].kind == BENCH_TRACE_REALLOC && t.ops[2].size == 640);
  VT_CHECK(t.ops[3].kind == BENCH_TRACE_FREE && t.ops[3].id == 1 && t.ops[3].size == 0);
  bench_trace_free(&t);
  VT_CHECK(t.ops == NULL && t.nops == 0);
}

/* Comments, blank lines, CRLF, tabs, no trailing newline, id reuse. */
static void tt_lenient(void) {
  bench_trace_t t;
  char err[200] = "";
  VT_CHECK(tt_parse("# made by hand\n\n a\t7 1\r\nf 7\r\na 7 0\n  # x\nf 7", &t, err));
  VT_CHECK(t.nops == 4 && t.nids == 8 && t.live_at_end == 0);
  VT_CHECK(t.ops[2].size == 0);
  bench_trace_free(&t);
}

/* Each malformed input is rejected with the right line number. */
static void tt_rejects(void) {
  static const struct { const char *text, *line; } bad[] = {
      {"a 0 8\nf 1\n", "line 2"},           /* free of a dead id */
      {"a 0 8\na 0 8\n", "line 2"},         /* alloc of a live id */
      {"a 0 8\nf 0\nf 0\n", "line 3"},      /* double free */
      {"r 3 8\n", "line 1"},                /* realloc of a dead id */
      {"a 0\n", "line 1"},                  /* missing size */
      {"f 0 8\n", "line 1"},                /* extra number */
      {"x 0 8\n", "line 1"},                /* unknown op */
      {"a -1 8\n", "line 1"},               /* negative */
      {"a 0 8\n5\n", "line 2"},             /* header after ops */
      {"a 99999999 8\n", "line 1"},         /* id too large */
      {"a 0 99999999999999\n", "line 1"},   /* size too large */
      {"a 0 99999999999999999999999\n", "line 1"}, /* overflow */
      {"alloc 0 8\n", "line 1"},            /* word, not letter */
      {"# only comments\n\n", "line 0"},    /* no ops */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bench_trace_t t;
    char err[200] = "";
    bool ok = tt_parse(bad[i].text, &t, err);
    VT_CHECK(!ok);
    if (!ok)
      VT_CHECKF(strncmp(err, bad[i].line, strlen(bad[i].line)) == 0,
                "case %zu: got '%s', want '%s...'", i, err, bad[i].line);
  }
}

/* The checked-in traces parse (run from the runfiles root). */
static void tt_checked_in(void) {
  static const char *const files[] = {"bench/traces/python3-stdlib.trace",
                                      "bench/traces/gcc-cc1.trace"};
  for (size_t i = 0; i < 2; i++) {
    bench_trace_t t;
    char err[200] = "";
    bool ok = bench_trace_load(files[i], &t, err, sizeof err);
    if (!ok) fprintf(stderr, "%s: %s\n", files[i], err);
    VT_CHECK(ok);
    VT_CHECK(t.nops > 10000);
    bench_trace_free(&t);
  }
}

int main(void) {
  tt_malloc_lab();
  tt_lenient();
  tt_rejects();
  tt_checked_in();
  return va_check_summary();
}
