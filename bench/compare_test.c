/* vedalloc bench — end-to-end tests of the compare driver.
 *
 *   compare_test COMPARE output  runs a --quick session over glibc, the V2
 *       instance and the V2 drop-in library (preloaded), on three
 *       single-threaded workloads and the multi-threaded prodcons, and checks
 *       that the JSON parses (a strict validator below), the CSV is
 *       rectangular, the SVG is balanced XML, and each holds every requested
 *       (allocator, workload) pair with the expected status: ok, except the
 *       single-threaded V2 instance on prodcons ("skipped", n/a) and the
 *       drop-in in a sanitizer build (which cannot preload it); the table
 *       and the Markdown carry the targets section; with strace installed,
 *       every ok pair has a syscall count;
 *   compare_test COMPARE programs runs `--quick --suite=programs` over glibc
 *       and the V2 drop-in on prog:sort and prog:python and checks the same
 *       outputs: every pair present, ok (outputs equal to glibc's, so not
 *       "failed"), with a syscall count when strace is installed; a program
 *       that is not installed must be "skipped" (the test then checks that
 *       and passes, saying so); then one workload with strace hidden
 *       (VA_BENCH_STRACE) must report syscalls as n/a with a note;
 *   compare_test COMPARE usage   checks that bad flags exit 2 with usage,
 *       that a plain run leaves the tree as it was, and that --rounds=3
 *       runs each pair as three processes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/testing/check.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CT_SANITIZED 1
#endif
#endif
#if !defined(CT_SANITIZED) && (defined(VA_SANITIZED) || defined(__SANITIZE_ADDRESS__))
#define CT_SANITIZED 1
#endif

#define CT_MAX 4

/* One session to check: its pairs and the status each must have. */
typedef struct ct_case {
  const char *allocs[CT_MAX];
  const char *workloads[CT_MAX];
  int na, nw;
  const char *(*expected)(int a, int w);
  int (*expected_fast)(int a); /* fastpath records per allocator */
  bool syscalls;               /* ok rows must carry a syscall count */
} ct_case_t;

static const ct_case_t *ct; /* the case being checked */

#ifdef CT_SANITIZED /* a sanitizer build cannot preload the drop-in */
static bool ct_dropin(int a) { return strcmp(ct->allocs[a], "dropin-v2") == 0; }
#endif

/* The status a pair of the workloads session must have. */
static const char *ct_expected_workload(int a, int w) {
#ifdef CT_SANITIZED
  if (ct_dropin(a)) return "skipped";
#endif
  if (strcmp(ct->workloads[w], "prodcons") == 0 && strcmp(ct->allocs[a], "v2-slab") == 0)
    return "skipped";
  return "ok";
}

/* Fastpath records expected per allocator: one per size where it runs. */
static int ct_expected_fast(int a) {
#ifdef CT_SANITIZED
  if (ct_dropin(a)) return 0;
#endif
  (void)a;
  return 7;
}

static int ct_no_fast(int a) { return (void)a, 0; }

/* Syscalls are counted where strace is installed, but not in a sanitizer
 * build (LeakSanitizer cannot run under ptrace). */
static bool ct_strace(void) {
#ifdef CT_SANITIZED
  return false;
#else
  /* installed and allowed to trace here (a container may forbid ptrace:
   * the driver then reports n/a, which the n/a case checks) */
  return access("/usr/bin/strace", X_OK) == 0 &&
         system("/usr/bin/strace -f -qq -c -o /dev/null /bin/true >/dev/null 2>&1") == 0;
#endif
}

/* The programs' binaries, as bench/programs.c names them. */
static const char *ct_binary(const char *program) {
  return strcmp(program, "prog:sort") == 0 ? "/usr/bin/sort" : "/usr/bin/python3";
}

/* A program runs where it is installed (and the drop-in where it can be
 * preloaded); its output must equal glibc's, else the row is "failed". */
static const char *ct_expected_program(int a, int w) {
#ifdef CT_SANITIZED
  if (ct_dropin(a)) return "skipped";
#endif
  (void)a;
  return access(ct_binary(ct->workloads[w]), X_OK) == 0 ? "ok" : "skipped";
}

static ct_case_t ct_workloads_case = {
    .allocs = {"glibc", "v2-slab", "dropin-v2"},
    .workloads = {"single", "stress", "trace-python", "prodcons"},
    .na = 3, .nw = 4, .expected = ct_expected_workload, .expected_fast = ct_expected_fast};

static char *ct_read(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  size_t got = fread(buf, 1, (size_t)n, f);
  buf[got] = 0;
  fclose(f);
  return buf;
}

/* Runs a shell command; returns its exit status (or -1 if it died). */
static int ct_run(const char *cmd) {
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---------------------------------------------------------------------------
 * A strict JSON validator that also collects, for each object in the top
 * array, its "allocator", "workload" and "status" strings.
 * ------------------------------------------------------------------------- */
typedef struct ct_json {
  const char *p;
  int depth;
  char alloc[64], workload[64], status[64];
  bool syscalls_null;           /* the record's "syscalls" is null */
  int pairs_ok[CT_MAX][CT_MAX]; /* records with the expected status per pair */
  int fast[CT_MAX];             /* fastpath records per allocator */
  int counted;                  /* ok records with a syscall count */
} ct_json_t;

static bool ct_value(ct_json_t *j);

static void ct_ws(ct_json_t *j) {
  while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r') j->p++;
}

static bool ct_string(ct_json_t *j, char *out, size_t len) {
  size_t n = 0;
  if (*j->p++ != '"') return false;
  while (*j->p != '"') {
    if ((unsigned char)*j->p < 0x20) return false;
    if (*j->p == '\\') {
      j->p++;
      if (*j->p == 'u') {
        for (int k = 1; k <= 4; k++)
          if (!strchr("0123456789abcdefABCDEF", j->p[k]) || !j->p[k]) return false;
        j->p += 4;
      } else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) return false;
    }
    if (out && n + 1 < len) out[n++] = *j->p;
    j->p++;
  }
  j->p++;
  if (out) out[n] = 0;
  return true;
}

static bool ct_number(ct_json_t *j) {
  const char *s = j->p;
  if (*j->p == '-') j->p++;
  if (*j->p == '0') j->p++;
  else if (*j->p >= '1' && *j->p <= '9') while (*j->p >= '0' && *j->p <= '9') j->p++;
  else return false;
  if (*j->p == '.') {
    j->p++;
    if (!(*j->p >= '0' && *j->p <= '9')) return false;
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (*j->p == 'e' || *j->p == 'E') {
    j->p++;
    if (*j->p == '+' || *j->p == '-') j->p++;
    if (!(*j->p >= '0' && *j->p <= '9')) return false;
    while (*j->p >= '0' && *j->p <= '9') j->p++;
  }
  return j->p > s;
}

static void ct_record(ct_json_t *j) {
  for (int a = 0; a < ct->na; a++) {
    if (strcmp(j->alloc, ct->allocs[a]) != 0) continue;
    if (strcmp(j->workload, "fastpath") == 0) j->fast[a]++;
    for (int w = 0; w < ct->nw; w++)
      if (strcmp(j->workload, ct->workloads[w]) == 0 &&
          strcmp(j->status, ct->expected(a, w)) == 0) {
        j->pairs_ok[a][w]++;
        j->counted += strcmp(j->status, "ok") == 0 && !j->syscalls_null;
      }
  }
}

static bool ct_object(ct_json_t *j) {
  char key[64];
  bool record = j->depth == 2;
  if (record) j->alloc[0] = j->workload[0] = j->status[0] = 0, j->syscalls_null = true;
  j->p++;
  ct_ws(j);
  if (*j->p == '}') return j->p++, true;
  for (;;) {
    ct_ws(j);
    if (!ct_string(j, key, sizeof key)) return false;
    ct_ws(j);
    if (*j->p++ != ':') return false;
    ct_ws(j);
    char *dst = !record ? NULL : strcmp(key, "allocator") == 0 ? j->alloc
              : strcmp(key, "workload") == 0 ? j->workload
              : strcmp(key, "status") == 0 ? j->status : NULL;
    if (record && strcmp(key, "syscalls") == 0) j->syscalls_null = strncmp(j->p, "null", 4) == 0;
    if (dst && *j->p == '"') {
      if (!ct_string(j, dst, 64)) return false;
    } else if (!ct_value(j)) return false;
    ct_ws(j);
    if (*j->p == ',') { j->p++; continue; }
    if (*j->p++ != '}') return false;
    if (record) ct_record(j);
    return true;
  }
}

static bool ct_array(ct_json_t *j) {
  j->p++;
  ct_ws(j);
  if (*j->p == ']') return j->p++, true;
  for (;;) {
    if (!ct_value(j)) return false;
    ct_ws(j);
    if (*j->p == ',') { j->p++; continue; }
    return *j->p++ == ']';
  }
}

static bool ct_value(ct_json_t *j) {
  ct_ws(j);
  bool ok;
  j->depth++;
  if (*j->p == '{') ok = ct_object(j);
  else if (*j->p == '[') ok = ct_array(j);
  else if (*j->p == '"') ok = ct_string(j, NULL, 0);
  else if (strncmp(j->p, "true", 4) == 0) ok = (j->p += 4, true);
  else if (strncmp(j->p, "false", 5) == 0) ok = (j->p += 5, true);
  else if (strncmp(j->p, "null", 4) == 0) ok = (j->p += 4, true);
  else ok = ct_number(j);
  j->depth--;
  return ok;
}

static void ct_check_json(const char *path) {
  char *text = ct_read(path);
  VT_CHECK(text != NULL);
  if (!text) return;
  ct_json_t j = {.p = text};
  ct_ws(&j);
  VT_CHECK(*j.p == '[');
  bool ok = ct_value(&j);
  ct_ws(&j);
  VT_CHECK(ok && *j.p == 0);
  int nok = 0;
  for (int a = 0; a < ct->na; a++) {
    for (int w = 0; w < ct->nw; w++) {
      if (j.pairs_ok[a][w] != 1)
        fprintf(stderr, "json: %s/%s has %d records with status %s\n", ct->allocs[a],
                ct->workloads[w], j.pairs_ok[a][w], ct->expected(a, w));
      VT_CHECK(j.pairs_ok[a][w] == 1);
      nok += strcmp(ct->expected(a, w), "ok") == 0;
    }
    if (j.fast[a] != ct->expected_fast(a))
      fprintf(stderr, "json: %s has %d fastpath records\n", ct->allocs[a], j.fast[a]);
    VT_CHECK(j.fast[a] == ct->expected_fast(a));
  }
  if (ct->syscalls && j.counted != nok)
    fprintf(stderr, "json: %d of %d ok records have a syscall count\n", j.counted, nok);
  VT_CHECK(!ct->syscalls || j.counted == nok);
  for (const char *k = "median_s\0min_s\0max_s\0ratio_vs_glibc\0peak_rss_kb\0footprint_bytes\0"
                       "utilization\0fragmentation\0syscalls\0mm_syscalls\0"
                       "syscalls_ratio_vs_glibc\0rss_ratio_vs_glibc\0kind\0";
       *k; k += strlen(k) + 1) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", k);
    VT_CHECK(strstr(text, pat) != NULL);
  }
  free(text);
}

/* ---------------------------------------------------------------------------
 * CSV: every row has as many fields as the header, and every pair is there.
 * ------------------------------------------------------------------------- */
static int ct_csv_fields(const char *line, const char **end) {
  int n = 1;
  bool quoted = false;
  const char *p = line;
  for (; *p && (quoted || *p != '\n'); p++) {
    if (*p == '"') quoted = !quoted;
    else if (*p == ',' && !quoted) n++;
  }
  *end = *p ? p + 1 : p;
  return quoted ? -1 : n;
}

static void ct_check_csv(const char *path) {
  char *text = ct_read(path);
  VT_CHECK(text != NULL);
  if (!text) return;
  const char *p = text, *next;
  int width = ct_csv_fields(p, &next);
  VT_CHECK(strncmp(text, "allocator,workload,status,median_s", 34) == 0);
  int rows = 0, seen[CT_MAX][CT_MAX] = {{0}};
  for (p = next; *p; p = next, rows++) {
    int n = ct_csv_fields(p, &next);
    if (n != width) fprintf(stderr, "csv row %d has %d fields, header %d\n", rows + 1, n, width);
    VT_CHECK(n == width);
    for (int a = 0; a < ct->na; a++)
      for (int w = 0; w < ct->nw; w++) {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s,%s,%s,", ct->allocs[a], ct->workloads[w],
                 ct->expected(a, w));
        seen[a][w] += strncmp(p, prefix, strlen(prefix)) == 0;
      }
  }
  VT_CHECK(rows == ct->na * ct->nw);
  for (int a = 0; a < ct->na; a++)
    for (int w = 0; w < ct->nw; w++) VT_CHECK(seen[a][w] == 1);
  free(text);
}

/* ---------------------------------------------------------------------------
 * SVG: balanced elements, one root, a titled bar or mark for every pair.
 * ------------------------------------------------------------------------- */
static bool ct_xml_balanced(const char *text) {
  char stack[64][32];
  int depth = 0, roots = 0;
  for (const char *p = strchr(text, '<'); p; p = strchr(p + 1, '<')) {
    const char *gt = strchr(p, '>');
    if (!gt) return false;
    if (p[1] == '?' || p[1] == '!') continue;
    bool closing = p[1] == '/', selfclose = gt[-1] == '/';
    const char *name = p + (closing ? 2 : 1);
    size_t len = strcspn(name, " \t\n/>");
    if (len == 0 || len >= 32) return false;
    if (closing) {
      if (depth == 0 || strncmp(stack[depth - 1], name, len) != 0 || stack[depth - 1][len])
        return false;
      depth--;
    } else if (!selfclose) {
      if (depth == 0) roots++;
      if (depth == 64) return false;
      memcpy(stack[depth], name, len);
      stack[depth++][len] = 0;
    }
  }
  return depth == 0 && roots == 1;
}

static void ct_check_svg(const char *path) {
  char *text = ct_read(path);
  VT_CHECK(text != NULL);
  if (!text) return;
  VT_CHECK(strncmp(text, "<svg", 4) == 0);
  VT_CHECK(ct_xml_balanced(text));
  for (int a = 0; a < ct->na; a++) {
    char legend[64];
    snprintf(legend, sizeof legend, ">%s</text>", ct->allocs[a]);
    VT_CHECK(strstr(text, legend) != NULL);
    for (int w = 0; w < ct->nw; w++) {
      if (strcmp(ct->expected(a, w), "ok") != 0) continue;
      char title[96]; /* the memory chart has a titled bar for every measured pair */
      snprintf(title, sizeof title, "<title>%s / %s: ", ct->allocs[a], ct->workloads[w]);
      if (!strstr(text, title)) fprintf(stderr, "svg: no bar %s\n", title);
      VT_CHECK(strstr(text, title) != NULL);
    }
  }
  free(text);
}

static const char *ct_tmpdir(void) {
  const char *tmp = getenv("TEST_TMPDIR");
  return tmp ? tmp : "/tmp";
}

/* The reports of one driver run: TEST_TMPDIR/STEM.{json,csv,svg,md,txt}. */
typedef struct ct_reports {
  char json[1024], csv[1024], svg[1024], md[1024], table[1024];
} ct_reports_t;

/* Runs `compare ARGS` with every report written to r's paths (the table
 * is its stdout); returns its exit status. */
static int ct_run_reports(const char *compare, const char *args, const char *stem,
                          ct_reports_t *r) {
  const char *tmp = ct_tmpdir();
  snprintf(r->json, sizeof r->json, "%s/%s.json", tmp, stem);
  snprintf(r->csv, sizeof r->csv, "%s/%s.csv", tmp, stem);
  snprintf(r->svg, sizeof r->svg, "%s/%s.svg", tmp, stem);
  snprintf(r->md, sizeof r->md, "%s/%s.md", tmp, stem);
  snprintf(r->table, sizeof r->table, "%s/%s.txt", tmp, stem);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' %s --json '%s' --csv '%s' --svg '%s' --markdown '%s' > '%s'",
           compare, args, r->json, r->csv, r->svg, r->md, r->table);
  return ct_run(cmd);
}

static int ct_output(const char *compare) {
  ct = &ct_workloads_case;
  ct_workloads_case.syscalls = ct_strace();
  ct_reports_t rp;
  VT_CHECK(ct_run_reports(compare,
                          "--quick --no-save --alloc=glibc,v2-slab,dropin-v2 "
                          "--workload=single,stress,trace-python,prodcons,fastpath",
                          "out", &rp) == 0);
  char *t = ct_read(rp.table);
  VT_CHECK(t && strstr(t, "== targets") && strstr(t, "== prodcons"));
  VT_CHECK(t && strstr(t, "n/a  instance is single-threaded"));
  free(t);
  ct_check_json(rp.json);
  ct_check_csv(rp.csv);
  ct_check_svg(rp.svg);
  char *m = ct_read(rp.md);
  VT_CHECK(m && strstr(m, "| single |") && strstr(m, "| stress |") && strstr(m, "v2-slab"));
  VT_CHECK(m && strstr(m, "| prodcons |") && strstr(m, " n/a |") && strstr(m, "## Targets"));
  free(m);
  return 0;
}

static ct_case_t ct_programs_case = {
    .allocs = {"glibc", "dropin-v2"}, .workloads = {"prog:sort", "prog:python"},
    .na = 2, .nw = 2, .expected = ct_expected_program, .expected_fast = ct_no_fast};

static int ct_programs(const char *compare) {
  ct = &ct_programs_case;
  ct_programs_case.syscalls = ct_strace();
  for (int w = 0; w < ct->nw; w++)
    if (access(ct_binary(ct->workloads[w]), X_OK) != 0)
      printf("note: %s is not installed: its rows must read skipped\n",
             ct_binary(ct->workloads[w]));
  if (!ct->syscalls) printf("note: no strace (or a sanitizer build): syscall counts not checked\n");
  ct_reports_t rp;
  VT_CHECK(ct_run_reports(compare,
                          "--quick --no-save --suite=programs --alloc=glibc,dropin-v2 "
                          "--workload=prog:sort,prog:python",
                          "prog", &rp) == 0); /* a row whose output differs exits 1 */
  char *t = ct_read(rp.table);
  VT_CHECK(t && strstr(t, "== prog:sort") && strstr(t, "== prog:python"));
  VT_CHECK(t && strstr(t, "== targets"));
  VT_CHECK(t && !strstr(t, "output differs"));
  free(t);
  ct_check_json(rp.json);
  ct_check_csv(rp.csv);
  ct_check_svg(rp.svg);
  char *m = ct_read(rp.md);
  VT_CHECK(m && strstr(m, "| prog:sort |") && strstr(m, "| prog:python |"));
  VT_CHECK(m && strstr(m, "## System calls") && strstr(m, "(program)"));
  free(m);
  /* Without strace, the column reads n/a and a note says why. */
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "VA_BENCH_STRACE=/nonexistent '%s' --quick --no-save --alloc=glibc --workload=single "
           "--json '%s' > '%s'", compare, rp.json, rp.table);
  VT_CHECK(ct_run(cmd) == 0);
  t = ct_read(rp.table);
  VT_CHECK(t && strstr(t, "note: syscalls: n/a, "));
#ifndef CT_SANITIZED
  VT_CHECK(t && strstr(t, "syscalls: n/a, strace not found"));
#endif
  free(t);
  char *text = ct_read(rp.json);
  VT_CHECK(text && strstr(text, "\"syscalls\": null"));
  free(text);
  return 0;
}

/* Each bad invocation exits 2 and prints the usage on stderr. */
static int ct_usage(const char *compare) {
  static const char *const bad[] = {"--bogus", "--workload=nonesuch", "--alloc=nonesuch",
                                    "--json", "--timeout=abc", "extra-argument",
                                    "--threads=1", "--threads=abc", "--suite=bogus",
                                    "--workload=prog:nonesuch", "--rounds=0", "--rounds=abc"};
  char cmd[4096], err[1024];
  snprintf(err, sizeof err, "%s/usage.txt", ct_tmpdir());
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", compare, bad[i], err);
    int rc = ct_run(cmd);
    if (rc != 2) fprintf(stderr, "'%s' exited %d\n", bad[i], rc);
    VT_CHECK(rc == 2);
    char *text = ct_read(err);
    VT_CHECK(text && strstr(text, "usage: compare"));
    free(text);
  }
  snprintf(cmd, sizeof cmd, "'%s' --list >'%s'", compare, err);
  VT_CHECK(ct_run(cmd) == 0);
  char *list = ct_read(err); /* one hardening feature per column, only when named */
  VT_CHECK(list && strstr(list, "dropin-v2-harden-quarantine") &&
           strstr(list, "[only when --alloc names it]"));
  free(list);
  return 0;
}

/* A plain run under `bazel run` leaves the source tree as it was; --save
 * writes the results, and --update-readme of a partial run does not touch
 * the README. */
static int ct_tree_clean(const char *compare) {
  char ws[4096], cmd[8192], path[4200];
  snprintf(ws, sizeof ws, "%s/ws", ct_tmpdir());
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/bench' && printf 'readme\\n' > '%s/README.md'",
           ws, ws, ws);
  VT_CHECK(ct_run(cmd) == 0);
  const char *run = "BUILD_WORKSPACE_DIRECTORY='%s' '%s' --quick --no-syscalls --alloc=glibc "
                    "--workload=single %s >/dev/null 2>&1";
  snprintf(cmd, sizeof cmd, run, ws, compare, "--update-readme");
  VT_CHECK(ct_run(cmd) == 0);
  snprintf(path, sizeof path, "%s/bench/results", ws);
  VT_CHECK(access(path, F_OK) != 0); /* nothing written */
  snprintf(path, sizeof path, "%s/README.md", ws);
  char *readme = ct_read(path);
  VT_CHECK(readme && strcmp(readme, "readme\n") == 0);
  free(readme);
  snprintf(cmd, sizeof cmd, run, ws, compare, "--save");
  VT_CHECK(ct_run(cmd) == 0);
  snprintf(path, sizeof path, "%s/bench/results/latest.json", ws);
  VT_CHECK(access(path, R_OK) == 0);
  return 0;
}

/* --rounds=3: each pair of a short workload is three processes, and the
 * JSON says so; one that takes 0.5 s a run or more would be one. */
static int ct_rounds(const char *compare) {
  char json[4200], cmd[8192];
  snprintf(json, sizeof json, "%s/rounds.json", ct_tmpdir());
  snprintf(cmd, sizeof cmd, "'%s' --quick --no-syscalls --rounds=3 --alloc=glibc,v2-slab "
           "--workload=single --json '%s' >/dev/null 2>&1", compare, json);
  VT_CHECK(ct_run(cmd) == 0);
  char *text = ct_read(json);
  int three = 0;
  for (const char *q = text; q && (q = strstr(q, "\"rounds\": 3")); q++) three++;
  VT_CHECK(three == 2);
  free(text);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: compare_test COMPARE output|programs|usage\n");
    return 2;
  }
  if (strcmp(argv[2], "output") == 0) ct_output(argv[1]);
  else if (strcmp(argv[2], "programs") == 0) ct_programs(argv[1]);
  else ct_usage(argv[1]), ct_tree_clean(argv[1]), ct_rounds(argv[1]);
  return va_check_summary();
}
