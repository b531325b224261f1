/* ops_print — a fuzz input as readable ops, and back.
 *   ops_print FILE...               print each binary input as numbered ops
 *   ops_print -c TEXT -o OUT        compile a text program (one op a line,
 *                                   '#' comments, blank lines) to an input
 * Example: bazel run //fuzz:ops_print -- $PWD/fuzz/crashes/v2_slab/<hash> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/ops.h"

#define FZ_MAX_OPS 100000

static va_op_t fz_ops[FZ_MAX_OPS];
static uint8_t fz_buf[FZ_MAX_OPS * VA_OP_RECORD];

static int fz_print(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  size_t len = fread(fz_buf, 1, sizeof fz_buf, f);
  fclose(f);
  size_t n = va_ops_decode(fz_buf, len, fz_ops, FZ_MAX_OPS);
  printf("# %s: %zu bytes, %zu ops\n", path, len, n);
  va_ops_print(fz_ops, n, stdout);
  return 0;
}

static int fz_compile(const char *in, const char *out) {
  FILE *f = fopen(in, "r");
  if (!f) {
    perror(in);
    return 1;
  }
  char line[512];
  size_t n = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = line + strspn(line, " \t");
    if (*s == '\n' || *s == '\0' || (*s == '#' && (s[1] < '0' || s[1] > '9'))) continue;
    if (n == FZ_MAX_OPS || !va_op_parse(s, &fz_ops[n])) {
      fprintf(stderr, "%s:%zu: not an op: %s", in, lineno, line);
      fclose(f);
      return 1;
    }
    n++;
  }
  fclose(f);
  size_t len = va_ops_encode(fz_ops, n, fz_buf, sizeof fz_buf);
  FILE *o = fopen(out, "wb");
  if (!o || fwrite(fz_buf, 1, len, o) != len || fclose(o) != 0) {
    perror(out);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "-c") == 0 && strcmp(argv[3], "-o") == 0)
    return fz_compile(argv[2], argv[4]);
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: ops_print FILE... | ops_print -c TEXT -o OUT\n");
    return 2;
  }
  int rc = 0;
  for (int i = 1; i < argc; i++) rc |= fz_print(argv[i]);
  return rc;
}
