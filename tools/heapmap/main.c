/* vedalloc heapmap — the command line.
 *
 *   heapmap --alloc=a,b,... (--workload=NAME | --trace=PATH)
 *           [--ops=N] [--bins=N] [--out=FILE.svg|FILE.html] [--list]
 *
 * `glibc` names the registry's `system` entry. Under `bazel run` the
 * working directory is the runfiles tree, so --out and --trace are taken
 * relative to BUILD_WORKING_DIRECTORY (where bazel was run) when it is set;
 * a workload's trace file is found in the runfiles. A bad flag or value is
 * named in one line and exits 2; a failed replay exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/heapmap/heapmap.h"

#define HM_MAX_COLS 16

typedef struct hm_args {
  const va_entry_t *entries[HM_MAX_COLS];
  size_t nentries;
  const char *workload;
  const char *trace;
  const char *out;
  size_t ops;  /* 0: all */
  size_t bins;
  bool list;
} hm_args_t;

static void hm_usage_exit(const char *fmt, const char *what) {
  fprintf(stderr, "heapmap: ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, " (heapmap --list names the allocators and workloads)\n");
  exit(2);
}

static void hm_list(void) {
  printf("allocators (--alloc=a,b,...; glibc = system):\n");
  for (size_t i = 0; i < va_registry_len; i++)
    printf("  %-12s %s\n", va_registry[i].name, va_registry[i].summary);
  printf("workloads (--workload=NAME; or --trace=FILE):\n");
  for (size_t i = 0; i < bench_workloads_len; i++)
    if (bench_workloads[i].threads <= 1)
      printf("  %-15s %s\n", bench_workloads[i].name, bench_workloads[i].summary);
}

static void hm_parse_allocs(hm_args_t *a, const char *list) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    const va_entry_t *e = va_registry_find(strcmp(t, "glibc") == 0 ? "system" : t);
    if (e == NULL) hm_usage_exit("unknown allocator '%s' in --alloc", t);
    if (a->nentries == HM_MAX_COLS) hm_usage_exit("more than 16 allocators in --alloc=%s", list);
    a->entries[a->nentries++] = e;
  }
  if (a->nentries == 0) hm_usage_exit("--alloc%s needs at least one allocator", "");
}

static size_t hm_parse_count(const char *flag, const char *v, size_t lo, size_t hi) {
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (*v == '\0' || *end != '\0' || *v == '-' || n < lo || n > hi) {
    char msg[160];
    snprintf(msg, sizeof msg, "bad value '%s' for %s (want %zu..%zu)", v, flag, lo, hi);
    hm_usage_exit("%s", msg);
  }
  return (size_t)n;
}

static void hm_parse_flag(hm_args_t *a, const char *arg) {
  const char *eq = strchr(arg, '=');
  const char *v = eq ? eq + 1 : "";
  size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
#define HM_IS(name) (klen == strlen(name) && strncmp(arg, name, klen) == 0)
  if (HM_IS("--list") && !eq) a->list = true;
  else if (HM_IS("--alloc") && eq) hm_parse_allocs(a, v);
  else if (HM_IS("--workload") && eq) a->workload = v;
  else if (HM_IS("--trace") && eq) a->trace = v;
  else if (HM_IS("--out") && eq) a->out = v;
  else if (HM_IS("--ops") && eq) a->ops = hm_parse_count("--ops", v, 1, SIZE_MAX / 2);
  else if (HM_IS("--bins") && eq) a->bins = hm_parse_count("--bins", v, 1, HM_MAX_BINS);
  else hm_usage_exit("unknown flag '%s'", arg);
#undef HM_IS
}

static bool hm_ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void hm_check_args(hm_args_t *a) {
  if (a->list) return;
  if (!a->workload == !a->trace) hm_usage_exit("give one of --workload=NAME or --trace=PATH%s", "");
  if (a->nentries == 0) hm_usage_exit("--alloc=a,b,... is required%s", "");
  if (!hm_ends_with(a->out, ".svg") && !hm_ends_with(a->out, ".html"))
    hm_usage_exit("--out=%s must end in .svg or .html", a->out);
  if (a->workload) {
    const bench_workload_t *w = bench_workload_find(a->workload);
    if (w == NULL) hm_usage_exit("unknown workload '%s'", a->workload);
    if (w->threads > 1) hm_usage_exit("workload '%s' is multi-threaded; heapmap replays "
                                      "single-threaded ones", a->workload);
  }
}

/* p relative to where `bazel run` was started, when it was. */
static const char *hm_user_path(const char *p, char *buf, size_t n) {
  const char *wd = getenv("BUILD_WORKING_DIRECTORY");
  if (p[0] == '/' || wd == NULL || *wd == '\0') return p;
  snprintf(buf, n, "%s/%s", wd, p);
  return buf;
}

/* Long runs say how far they are, about every 10% of each replay. */
static void hm_progress(void *ctx, const char *alloc, size_t done, size_t total) {
  const size_t *all = ctx;
  if (*all < 200000) return;
  fprintf(stderr, "heapmap: %s: %zu%% (%zu of %zu ops)\n", alloc, done * 100 / total, done, total);
}

static void hm_print_summary(const hm_column_t *c) {
  char f1[16] = "n/a", f2[16] = "n/a";
  if (c->frag_at_peak >= 0) snprintf(f1, sizeof f1, "%.1f%%", 100 * c->frag_at_peak);
  if (c->frag_mean >= 0) snprintf(f2, sizeof f2, "%.1f%%", 100 * c->frag_mean);
  printf("%-12s peak footprint %zu B, peak live %zu B, ext frag at peak live %s, mean %s\n",
         c->entry->name, c->peak_footprint, c->peak_live, f1, f2);
}

static void hm_write(const char *path, const hm_buf_t *b) {
  FILE *f = fopen(path, "w");
  if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
    hm_die("cannot write %s", path);
}

static void hm_load(const hm_args_t *a, hm_ops_t *ops) {
  char err[300], buf[4096];
  bool ok = a->trace
                ? hm_record_trace(hm_user_path(a->trace, buf, sizeof buf), ops, err, sizeof err)
                : hm_record_workload(bench_workload_find(a->workload), ops, err, sizeof err);
  if (!ok) {
    fprintf(stderr, "heapmap: %s\n", err);
    exit(2);
  }
  hm_ops_limit(ops, a->ops);
  if (ops->nops == 0) hm_die("no ops to replay");
}

int main(int argc, char **argv) {
  hm_args_t a = {.bins = HM_DEFAULT_BINS, .out = "heapmap.html"};
  for (int i = 1; i < argc; i++) hm_parse_flag(&a, argv[i]);
  hm_check_args(&a);
  if (a.list) {
    hm_list();
    return 0;
  }
  hm_ops_t ops;
  hm_load(&a, &ops);
  size_t total = ops.nops * a.nentries;
  static hm_column_t cols[HM_MAX_COLS];
  for (size_t i = 0; i < a.nentries; i++) {
    char err[300];
    if (!hm_sample(a.entries[i], &ops, a.bins, hm_progress, &total, &cols[i], err, sizeof err))
      hm_die("%s", err);
    hm_print_summary(&cols[i]);
  }
  hm_buf_t out = {0};
  hm_picture_t pic = {.cols = cols, .ncols = a.nentries, .ops = &ops,
                      .html = hm_ends_with(a.out, ".html")};
  hm_render(&out, &pic);
  char buf[4096];
  const char *path = hm_user_path(a.out, buf, sizeof buf);
  hm_write(path, &out);
  fprintf(stderr, "heapmap: wrote %s (%zu bytes)\n", path, out.len);
  return 0;
}
