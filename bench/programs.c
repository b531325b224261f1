/* vedalloc bench — the programs suite: real programs users run, each
 * under every process-wide allocator (`compare --suite=programs`).
 *
 * A workload calls the allocator through our table; a program calls malloc
 * itself, as it would on a user's machine, so what it measures is the
 * drop-in library as users get it: the driver starts the Debian binary with
 * LD_PRELOAD of the allocator's shared object (none for glibc) and the
 * child processes inherit it (gcc's cc1 and as, sort's threads). Each row
 * is named `prog:NAME` and is reported beside the workloads.
 *
 * Inputs are made once per session in a scratch directory, before any run:
 * by a generator here (deterministic, bench_rand seeded 42), or shipped as
 * files in bench/programs/ (data of //bench:compare). Every program must
 * print the same bytes under every allocator: the driver hashes stdout and
 * the listed output files, and a run whose hash differs from glibc's is a
 * failure ("output differs"). Programs that randomise (Python's and Perl's
 * hash seeds) get a fixed seed in their environment; every program runs
 * with LC_ALL=C.
 *
 * Non-goals: xz, gzip and the like allocate a few large buffers once and say
 * nothing about an allocator.
 *
 * Adding a program: one row in bench_programs[] (its binary, argv template,
 * outputs) and, if it needs an input, a prepare function or a file in
 * bench/programs/ listed in the BUILD's data.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench.h"

const char *bench_program_expand(const bench_prog_env_t *e, const char *s, char *buf,
                                 size_t len) {
  size_t n = 0;
  buf[0] = 0;
  while (*s && n + 1 < len) {
    const char *v = strncmp(s, "{root}", 6) == 0 ? e->root : strncmp(s, "{dir}", 5) == 0 ? e->dir
                                                                                         : NULL;
    if (v) {
      n += (size_t)snprintf(buf + n, len - n, "%s", v);
      s += v == e->root ? 6 : 5;
    } else {
      buf[n++] = *s++;
      buf[n] = 0;
    }
    if (n >= len) n = len - 1;
  }
  return buf;
}

static FILE *bench_prog_create(const bench_prog_env_t *e, const char *name, char *err,
                               size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", e->dir, name);
  FILE *f = fopen(path, "w");
  if (!f) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
  return f;
}

static bool bench_prog_close(FILE *f, char *err, size_t errlen) {
  if (fclose(f) == 0) return true;
  snprintf(err, errlen, "cannot write an input file: %s", strerror(errno));
  return false;
}

/* prog:sort — 1M lines "word number tag", words from a 5000-word vocabulary
 * (so keys repeat and ties go to the second key). About 22 MiB. */
static bool bench_prog_sort_input(const bench_prog_env_t *e, char *err, size_t errlen) {
  FILE *f = bench_prog_create(e, "input.txt", err, errlen);
  if (!f) return false;
  bench_rng_t r = bench_srand(42);
  for (int i = 0; i < 1000000; i++) {
    uint32_t w = bench_rand(&r) % 5000, len = 3 + w % 9;
    char word[16];
    for (uint32_t k = 0; k < len; k++) word[k] = (char)('a' + (w * 31 + k * 7) % 26);
    word[len] = 0;
    fprintf(f, "%s %u t%u\n", word, bench_rand(&r) % 100000, bench_rand(&r) % 1000);
  }
  return bench_prog_close(f, err, errlen);
}

/* prog:z3 — factor semiprimes as 18-bit bit-vector products (bit-blasting
 * builds large ASTs and a SAT instance per query). Each has one answer with
 * 1 < a <= b, so the printed model is the same whatever z3's search order. */
static bool bench_prog_z3_input(const bench_prog_env_t *e, char *err, size_t errlen) {
  static const unsigned long long products[] = {1009ull * 1013, 2039ull * 2053,
                                                4091ull * 4093};
  FILE *f = bench_prog_create(e, "problem.smt2", err, errlen);
  if (!f) return false;
  fprintf(f, "(set-logic QF_BV)\n");
  for (size_t i = 0; i < sizeof products / sizeof products[0]; i++)
    fprintf(f, "(push 1)\n(declare-const a (_ BitVec 18))\n(declare-const b (_ BitVec 18))\n"
               "(assert (= (bvmul ((_ zero_extend 18) a) ((_ zero_extend 18) b)) "
               "(_ bv%llu 36)))\n"
               "(assert (bvugt a (_ bv1 18)))\n(assert (bvugt b (_ bv1 18)))\n"
               "(assert (bvule a b))\n(check-sat)\n"
               "(get-value (a b))\n(pop 1)\n", products[i]);
  return bench_prog_close(f, err, errlen);
}

/* prog:gcc — a snapshot of two of this repository's C files and the headers
 * they include, copied from the runfiles once per session so that an edit
 * to the tree during a session cannot change the input between allocators. */
static bool bench_prog_gcc_input(const bench_prog_env_t *e, char *err, size_t errlen) {
  static const char *const files[] = {"bench/compare.c", "bench/report.c", "bench/bench.h",
                                      "bench/child.h",   "alloc/allocator.h",
                                      "alloc/registry.h"};
  char src[4096], dst[4096], buf[65536];
  for (const char *sub = "src\0src/bench\0src/alloc\0"; *sub; sub += strlen(sub) + 1) {
    snprintf(dst, sizeof dst, "%s/%s", e->dir, sub);
    mkdir(dst, 0755);
  }
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(src, sizeof src, "%s/%s", e->root, files[i]);
    snprintf(dst, sizeof dst, "%s/src/%s", e->dir, files[i]);
    FILE *in = fopen(src, "r"), *out = in ? fopen(dst, "w") : NULL;
    if (!out) {
      snprintf(err, errlen, "cannot copy %s: %s", src, strerror(errno));
      if (in) fclose(in);
      return false;
    }
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) fwrite(buf, 1, n, out);
    fclose(in);
    if (!bench_prog_close(out, err, errlen)) return false;
  }
  return true;
}

const bench_program_t bench_programs[] = {
    {.name = "prog:python",
     .summary = "python3: json, re, collections, dict and str churn, sorting "
                "(bench/programs/stdlib.py)",
     .binary = "/usr/bin/python3", .package = "python3",
     .argv = {"/usr/bin/python3", "-s", "{root}/bench/programs/stdlib.py"},
     .env = {"PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH="}},
    {.name = "prog:gcc",
     .summary = "gcc -O2 -c of bench/compare.c and bench/report.c (cc1 and as inherit the preload)",
     .binary = "/usr/bin/gcc", .package = "gcc",
     .argv = {"/usr/bin/gcc", "-O2", "-D_GNU_SOURCE", "-I{dir}/src", "-c",
              "{dir}/src/bench/compare.c", "{dir}/src/bench/report.c"},
     .outputs = {"compare.o", "report.o"}, .prepare = bench_prog_gcc_input},
    {.name = "prog:sort",
     .summary = "coreutils sort -k2,2n -k1,1 of 1M generated lines (22 MiB)",
     .binary = "/usr/bin/sort", .package = "coreutils",
     .argv = {"/usr/bin/sort", "-t", " ", "-k2,2n", "-k1,1", "{dir}/input.txt"},
     .env = {"TMPDIR={dir}"}, .prepare = bench_prog_sort_input},
    {.name = "prog:z3",
     .summary = "z3 factoring three semiprimes as 18-bit bit-vector products (generated SMT-LIB)",
     .binary = "/usr/bin/z3", .package = "z3",
     .argv = {"/usr/bin/z3", "{dir}/problem.smt2"}, .prepare = bench_prog_z3_input},
    {.name = "prog:sqlite",
     .summary = "sqlite3 :memory: inserts, indexes, joins, GROUP BY (bench/programs/workload.sql)",
     .binary = "/usr/bin/sqlite3", .package = "sqlite3",
     .argv = {"/usr/bin/sqlite3", "-batch", ":memory:"},
     .in = "{root}/bench/programs/workload.sql"},
    {.name = "prog:perl",
     .summary = "perl: hash, string and regex churn, sorting (bench/programs/churn.pl)",
     .binary = "/usr/bin/perl", .package = "perl",
     .argv = {"/usr/bin/perl", "{root}/bench/programs/churn.pl"},
     .env = {"PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0"}},
};
const size_t bench_programs_len = sizeof bench_programs / sizeof bench_programs[0];

const bench_program_t *bench_program_find(const char *name) {
  for (size_t i = 0; i < bench_programs_len; i++)
    if (strcmp(bench_programs[i].name, name) == 0) return &bench_programs[i];
  return NULL;
}
