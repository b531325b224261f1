/* vedalloc trace recorder — end-to-end test: this binary re-runs itself
 * under LD_PRELOAD of the recorder, makes a known sequence of calls, and
 * checks that the trace holds them in order with consistent ids:
 *     a X 100, a Y 120 (calloc 3 x 40), r X 5000, f Y, f X
 * plus that every line of the trace is well formed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/testing/check.h"

void *volatile tr_escape; /* keeps the compiler from pairing malloc with free */

static int tr_child(void) {
  void *p = malloc(100);
  tr_escape = p;
  void *q = calloc(3, 40);
  tr_escape = q;
  p = realloc(p, 5000);
  tr_escape = p;
  free(q);
  free(p);
  return 0;
}

/* Finds the known sequence in the trace; checks every line's shape. */
static void tr_check_trace(const char *path) {
  FILE *f = fopen(path, "r");
  VT_CHECK(f != NULL);
  if (!f) return;
  char line[128];
  unsigned long x = 0, y = 0, id, size;
  int step = 0, lines = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    lines++;
    char k;
    int n = sscanf(line, "%c %lu %lu", &k, &id, &size);
    bool ok = (k == 'a' || k == 'r') ? n == 3 : k == 'f' ? n == 2 : false;
    if (!ok) bad++;
    if (step == 0 && k == 'a' && size == 100) x = id, step = 1;
    else if (step == 1 && k == 'a' && size == 120) y = id, step = 2;
    else if (step == 2 && k == 'r' && id == x && size == 5000) step = 3;
    else if (step == 3 && k == 'f' && id == y) step = 4;
    else if (step == 4 && k == 'f' && id == x) step = 5;
  }
  fclose(f);
  if (step != 5) fprintf(stderr, "%s: sequence stopped at step %d of 5\n", path, step);
  VT_CHECK(step == 5);
  VT_CHECK(x != y);
  VT_CHECK(lines >= 5);
  VT_CHECK(bad == 0);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "child") == 0) return tr_child();
#if defined(VA_SANITIZED) || defined(__SANITIZE_ADDRESS__)
  printf("skipped: a sanitizer runtime cannot be preceded by an LD_PRELOAD malloc\n");
  return 0;
#endif
  if (argc != 2) return fprintf(stderr, "usage: tracer_test LIBVATRACE\n"), 2;
  const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
  char lib[4096], out[4096], path[4200];
  if (!realpath(argv[1], lib)) return perror(argv[1]), 1;
  snprintf(out, sizeof out, "%s/tr.%%p.trace", tmp);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("LD_PRELOAD", lib, 1);
    setenv("VATRACE_OUT", out, 1);
    execl("/proc/self/exe", "tracer_test", "child", (char *)NULL);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  VT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  snprintf(path, sizeof path, "%s/tr.%d.trace", tmp, (int)pid);
  tr_check_trace(path);
  return va_check_summary();
}
