/* vedalloc bench — the reports: terminal table, JSON, CSV, SVG, Markdown.
 *
 * Every writer reads the same session and prints NaN (undefined) as null,
 * an empty CSV field or "-". Units: seconds in JSON and CSV; fractions for
 * utilization and fragmentation in JSON and CSV; ms and percent on screen.
 * The SVG is hand-written: a log-scale chart of time relative to glibc
 * (bars grow up from the 1.0 line when slower, down when faster) and a
 * log-scale chart of peak footprint, one bar per allocator per workload.
 * Program rows (`prog:NAME`, programs.c) are rows like the workloads; their
 * cells have no allocator-call figures (Mops/s, util, fragmentation: "-").
 * Syscalls: the calls of one extra untimed run under strace -f -c (whole
 * process tree, every thread), total and the memory-management subset.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static const char *bench_status_name(bench_status_t s) {
  switch (s) {
  case BENCH_OK: return "ok";
  case BENCH_SKIPPED: return "skipped";
  case BENCH_FAILED: return "failed";
  case BENCH_TIMEOUT: return "timeout";
  }
  return "?";
}

/* "12.3 MiB" style. */
static const char *bench_bytes(double b, char *buf, size_t len) {
  if (!(b >= 0)) return snprintf(buf, len, "-"), buf;
  const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, u++;
  snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
  return buf;
}

static const char *bench_pct(double x, char *buf, size_t len) {
  if (isnan(x)) snprintf(buf, len, "-");
  else snprintf(buf, len, "%.1f%%", 100 * x);
  return buf;
}

/* A pair without numbers, in a few words: "> 3 s (timeout)", "n/a", ...
 * A run stopped at the run limit (the child's SLOW line) is a lower bound,
 * not a failure; a child killed at --timeout is the harder limit. */
static const char *bench_cell_status(const bench_result_t *r, char *buf, size_t len) {
  static const char stopped[] = "a run exceeded the "; /* "... %g s limit ..." */
  if (r->status == BENCH_TIMEOUT && strncmp(r->note, stopped, sizeof stopped - 1) == 0)
    snprintf(buf, len, "> %g s (timeout)", strtod(r->note + sizeof stopped - 1, NULL));
  else if (r->status == BENCH_TIMEOUT) snprintf(buf, len, "killed (timeout)");
  else if (r->status == BENCH_SKIPPED && strncmp(r->note, "n/a", 3) == 0) snprintf(buf, len, "n/a");
  else if (r->status == BENCH_FAILED && strncmp(r->note, "output differs", 14) == 0)
    snprintf(buf, len, "FAILED (output differs)");
  else snprintf(buf, len, "%s", bench_status_name(r->status));
  return buf;
}

/* "1.23x", or "-" when undefined. */
static const char *bench_x(double ratio, char *buf, size_t len) {
  if (isnan(ratio)) snprintf(buf, len, "-");
  else snprintf(buf, len, "%.2fx", ratio);
  return buf;
}

/* A count, or "-" when unknown. */
static const char *bench_count(double n, char *buf, size_t len) {
  if (isnan(n)) snprintf(buf, len, "-");
  else snprintf(buf, len, "%.0f", n);
  return buf;
}

/* ---------------------------------------------------------------------------
 * Terminal table.
 * ------------------------------------------------------------------------- */
static void bench_table_row(FILE *f, const bench_session_t *s, const bench_result_t *r) {
  char a[32], b[32], c[32], d[32], e[32], ratio[16], mops[16], sys[24], mm[24], sysx[16];
  if (r->status != BENCH_OK) {
    const char *why = r->note;
    if (strncmp(why, "n/a: ", 5) == 0) why += 5;
    fprintf(f, "  %-12s %16s  %s\n", r->alloc, bench_cell_status(r, a, sizeof a), why);
    return;
  }
  if (r->ops > 0 && r->median_s > 0)
    snprintf(mops, sizeof mops, "%.1f", r->ops / r->median_s / 1e6);
  else snprintf(mops, sizeof mops, "-");
  fprintf(f, "  %-12s %10.3f %10.3f-%-10.3f %8s %7s %9ld %10s %10s%c %6s %7s %7s %9s %7s %7s\n",
          r->alloc, r->median_s * 1e3, r->min_s * 1e3, r->max_s * 1e3, mops,
          bench_x(r->ratio_vs_glibc, ratio, sizeof ratio), r->peak_rss_kb,
          bench_bytes(r->rss_growth_bytes, e, sizeof e), bench_bytes(r->footprint_bytes, a, sizeof a),
          strcmp(r->footprint_source, "rss") == 0 ? '*' : ' ', bench_pct(r->utilization, b, sizeof b),
          bench_pct(r->fragmentation, c, sizeof c), bench_pct(r->internal_frag, d, sizeof d),
          bench_count(r->syscalls, sys, sizeof sys), bench_count(r->mm_syscalls, mm, sizeof mm),
          bench_x(r->syscalls_ratio_vs_glibc, sysx, sizeof sysx));
  if (r->note[0]) fprintf(f, "  %-12s %16s  %s\n", "", "note:", r->note);
}

static void bench_table_fast(FILE *f, const bench_session_t *s) {
  if (s->nfast == 0) return;
  fprintf(f, "\n== fastpath: ns per malloc+free pair, best of runs ==\n  %-12s", "allocator");
  for (int k = 0; k < BENCH_FAST_SIZES; k++) fprintf(f, " %6zu", bench_fast_sizes[k]);
  fprintf(f, "  | LIFO x1000:");
  for (int k = 0; k < BENCH_FAST_SIZES; k++) fprintf(f, " %6zu", bench_fast_sizes[k]);
  fprintf(f, "\n");
  for (size_t i = 0; i < s->nallocs; i++) {
    bool any = false;
    for (size_t j = 0; j < s->nfast; j++) any |= strcmp(s->fast[j].alloc, s->allocs[i]) == 0;
    if (!any) continue;
    fprintf(f, "  %-12s", s->allocs[i]);
    for (int pass = 0; pass < 2; pass++) {
      if (pass) fprintf(f, "  |            ");
      for (size_t j = 0; j < s->nfast; j++)
        if (strcmp(s->fast[j].alloc, s->allocs[i]) == 0)
          fprintf(f, " %6.2f", pass ? s->fast[j].lifo_ns : s->fast[j].pair_ns);
    }
    fprintf(f, "\n");
  }
}

void bench_report_table(FILE *f, const bench_session_t *s) {
  const char *wl[64];
  size_t nw = bench_workload_order(s, wl, 64);
  fprintf(f, "\nvedalloc benchmark (%s mode) on %s\n", s->mode, s->machine);
  for (size_t w = 0; w < nw; w++) {
    fprintf(f, "\n== %s: %s ==\n", wl[w], bench_row_summary(wl[w]));
    fprintf(f, "  %-12s %10s %21s %8s %7s %9s %10s %11s %6s %7s %7s %9s %7s %7s\n", "allocator",
            "median ms", "min-max ms", "Mops/s", "xglibc", "rss KiB", "rss growth", "footprint",
            "util", "extfrag", "intfrag", "syscalls", "mm", "xglibc");
    for (size_t i = 0; i < s->nresults; i++)
      if (strcmp(s->results[i].workload, wl[w]) == 0) bench_table_row(f, s, &s->results[i]);
  }
  bench_table_fast(f, s);
  fprintf(f, "\nrss growth: peak anonymous RSS over the child's baseline (same measure for all).\n"
             "footprint: bytes mapped from the OS (va_stats) for ours; * = rss growth (references).\n"
             "util = peak live requested bytes / footprint; extfrag = 1 - largest_free/free_bytes "
             "at the snapshot; intfrag = 1 - requested/usable.\n"
             "> N s (timeout): one run took longer than the run limit; the pair was stopped.\n"
             "syscalls: one extra untimed run under strace -f -c (every thread and child "
             "process); mm = mmap, munmap, mremap, madvise, brk, mprotect; xglibc = syscalls / "
             "glibc's.\nprog:* rows: real programs under LD_PRELOAD; rss = ru_maxrss of the "
             "process tree (its largest process), rss growth = the same (baseline 0).\n");
  for (size_t i = 0; i < s->nnotes; i++) fprintf(f, "note: %s\n", s->notes[i]);
  bench_report_targets(f, s, false);
}

/* ---------------------------------------------------------------------------
 * JSON and CSV.
 * ------------------------------------------------------------------------- */
static void bench_json_str(FILE *f, const char *key, const char *v) {
  fprintf(f, "\"%s\": \"", key);
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if ((unsigned char)*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

static void bench_json_num(FILE *f, const char *key, double v) {
  if (isnan(v) || isinf(v)) fprintf(f, ", \"%s\": null", key);
  else fprintf(f, ", \"%s\": %.9g", key, v);
}

static void bench_json_result(FILE *f, const bench_result_t *r, const char *machine) {
  bool ok = r->status == BENCH_OK;
  double nan = NAN;
  fprintf(f, "  {");
  bench_json_str(f, "allocator", r->alloc);
  fprintf(f, ", ");
  bench_json_str(f, "workload", r->workload);
  fprintf(f, ", ");
  bench_json_str(f, "status", bench_status_name(r->status));
  fprintf(f, ", ");
  bench_json_str(f, "kind", r->program ? "program" : "workload");
  bench_json_num(f, "median_s", ok ? r->median_s : nan);
  bench_json_num(f, "min_s", ok ? r->min_s : nan);
  bench_json_num(f, "max_s", ok ? r->max_s : nan);
  bench_json_num(f, "repeats", ok ? r->repeats : nan);
  bench_json_num(f, "rounds", ok ? r->rounds : nan);
  bench_json_num(f, "ops_per_s", ok && r->median_s > 0 && r->ops > 0 ? r->ops / r->median_s : nan);
  bench_json_num(f, "ratio_vs_glibc", ok ? r->ratio_vs_glibc : nan);
  bench_json_num(f, "peak_rss_kb", ok ? (double)r->peak_rss_kb : nan);
  bench_json_num(f, "rss_ratio_vs_glibc", ok ? r->rss_ratio_vs_glibc : nan);
  bench_json_num(f, "syscalls", ok ? r->syscalls : nan);
  bench_json_num(f, "mm_syscalls", ok ? r->mm_syscalls : nan);
  bench_json_num(f, "syscalls_ratio_vs_glibc", ok ? r->syscalls_ratio_vs_glibc : nan);
  bench_json_num(f, "footprint_bytes", ok && r->footprint_bytes >= 0 ? r->footprint_bytes : nan);
  fprintf(f, ", ");
  bench_json_str(f, "footprint_source", r->footprint_source ? r->footprint_source : "rss");
  bench_json_num(f, "rss_growth_bytes", ok ? r->rss_growth_bytes : nan);
  bench_json_num(f, "peak_live_bytes", ok ? r->peak_live_bytes : nan);
  bench_json_num(f, "utilization", ok ? r->utilization : nan);
  bench_json_num(f, "fragmentation", ok ? r->fragmentation : nan);
  bench_json_num(f, "internal_fragmentation", ok ? r->internal_frag : nan);
  fprintf(f, ", ");
  bench_json_str(f, "note", r->note);
  fprintf(f, ", ");
  bench_json_str(f, "machine", machine ? machine : "");
  fprintf(f, "}");
}

bool bench_write_json(const char *path, const bench_session_t *s) {
  FILE *f = fopen(path, "w");
  if (!f) return perror(path), false;
  fprintf(f, "[\n");
  for (size_t i = 0; i < s->nresults; i++) {
    bench_json_result(f, &s->results[i], s->machine);
    fprintf(f, i + 1 < s->nresults || s->nfast ? ",\n" : "\n");
  }
  for (size_t i = 0; i < s->nfast; i++) {
    fprintf(f, "  {");
    bench_json_str(f, "allocator", s->fast[i].alloc);
    fprintf(f, ", \"workload\": \"fastpath\", \"size\": %zu", s->fast[i].size);
    bench_json_num(f, "pair_ns", s->fast[i].pair_ns);
    bench_json_num(f, "lifo_ns", s->fast[i].lifo_ns);
    fprintf(f, "}%s\n", i + 1 < s->nfast ? "," : "");
  }
  fprintf(f, "]\n");
  return fclose(f) == 0;
}

static void bench_csv_num(FILE *f, double v) {
  if (isnan(v) || isinf(v)) fprintf(f, ",");
  else fprintf(f, ",%.9g", v);
}

bool bench_write_csv(const char *path, const bench_session_t *s) {
  FILE *f = fopen(path, "w");
  if (!f) return perror(path), false;
  fprintf(f, "allocator,workload,status,median_s,min_s,max_s,repeats,ops_per_s,ratio_vs_glibc,"
             "peak_rss_kb,footprint_bytes,footprint_source,rss_growth_bytes,peak_live_bytes,utilization,"
             "fragmentation,internal_fragmentation,kind,rss_ratio_vs_glibc,syscalls,mm_syscalls,"
             "syscalls_ratio_vs_glibc,note\n");
  for (size_t i = 0; i < s->nresults; i++) {
    const bench_result_t *r = &s->results[i];
    bool ok = r->status == BENCH_OK;
    double nan = NAN;
    fprintf(f, "%s,%s,%s", r->alloc, r->workload, bench_status_name(r->status));
    bench_csv_num(f, ok ? r->median_s : nan);
    bench_csv_num(f, ok ? r->min_s : nan);
    bench_csv_num(f, ok ? r->max_s : nan);
    bench_csv_num(f, ok ? r->repeats : nan);
    bench_csv_num(f, ok && r->median_s > 0 && r->ops > 0 ? r->ops / r->median_s : nan);
    bench_csv_num(f, ok ? r->ratio_vs_glibc : nan);
    bench_csv_num(f, ok ? (double)r->peak_rss_kb : nan);
    bench_csv_num(f, ok && r->footprint_bytes >= 0 ? r->footprint_bytes : nan);
    fprintf(f, ",%s", r->footprint_source ? r->footprint_source : "rss");
    bench_csv_num(f, ok ? r->rss_growth_bytes : nan);
    bench_csv_num(f, ok ? r->peak_live_bytes : nan);
    bench_csv_num(f, ok ? r->utilization : nan);
    bench_csv_num(f, ok ? r->fragmentation : nan);
    bench_csv_num(f, ok ? r->internal_frag : nan);
    fprintf(f, ",%s", r->program ? "program" : "workload");
    bench_csv_num(f, ok ? r->rss_ratio_vs_glibc : nan);
    bench_csv_num(f, ok ? r->syscalls : nan);
    bench_csv_num(f, ok ? r->mm_syscalls : nan);
    bench_csv_num(f, ok ? r->syscalls_ratio_vs_glibc : nan);
    fprintf(f, ",\"");
    for (const char *p = r->note; *p; p++) fprintf(f, *p == '"' ? "\"\"" : "%c", *p);
    fprintf(f, "\"\n");
  }
  return fclose(f) == 0;
}

/* ---------------------------------------------------------------------------
 * SVG.
 * ------------------------------------------------------------------------- */
static const char *bench_color(const char *alloc, size_t i) {
  static const struct { const char *name, *color; } known[] = {
      {"v1-firstfit", "#9ecae1"}, {"v1-nextfit", "#6baed6"}, {"v1-bestfit", "#2171b5"},
      {"v2-slab", "#e6550d"},     {"dropin-v2", "#a63603"},  {"dropin-v1", "#08519c"},
      {"dropin-v2-hardened", "#fd8d3c"},
      {"glibc", "#636363"},      {"jemalloc", "#31a354"},
      {"mimalloc", "#756bb1"},    {"tcmalloc", "#d6616b"}};
  static const char *const spare[] = {"#fdae6b", "#a1d99b", "#bcbddc", "#969696"};
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (strcmp(known[k].name, alloc) == 0) return known[k].color;
  return spare[i % 4];
}

/* Geometry of one chart. */
typedef struct bench_chart {
  double x0, y0, w, h; /* plot area */
  double lo, hi;       /* log10 of the axis ends */
  size_t nbars;        /* bars per group */
  double group_w, bar_w;
} bench_chart_t;

static double bench_chart_y(const bench_chart_t *c, double v) {
  double l = log10(v);
  if (l < c->lo) l = c->lo;
  if (l > c->hi) l = c->hi;
  return c->y0 + c->h - (l - c->lo) / (c->hi - c->lo) * c->h;
}

static void bench_svg_tick(FILE *f, const bench_chart_t *c, double v, bool major, bool bytes) {
  double y = bench_chart_y(c, v);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>\n", c->x0, y,
          c->x0 + c->w, y, major ? "#ccc" : "#eee");
  char label[32];
  if (bytes) bench_bytes(v, label, sizeof label);
  else snprintf(label, sizeof label, v < 1 ? "%.2gx" : "%.0fx", v);
  fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='10'>%s</text>\n", c->x0 - 4,
          y + 3, label);
}

/* Gridlines: 1-2-5 per decade for ratios, powers of 4 (1 KiB, 4 KiB, ...) for bytes. */
static void bench_svg_axis(FILE *f, const bench_chart_t *c, bool bytes) {
  if (bytes) {
    for (double v = 1; log10(v) <= c->hi + 1e-9; v *= 4)
      if (log10(v) >= c->lo - 1e-9) bench_svg_tick(f, c, v, true, true);
    return;
  }
  static const double steps[3] = {1, 2, 5};
  for (int d = (int)c->lo; d <= (int)c->hi; d++)
    for (int k = 0; k < 3; k++) {
      double v = steps[k] * pow(10, d);
      if (log10(v) <= c->hi + 1e-9) bench_svg_tick(f, c, v, k == 0, false);
    }
}

static void bench_svg_labels(FILE *f, const bench_chart_t *c, const char **wl, size_t nw) {
  for (size_t w = 0; w < nw; w++) {
    double x = c->x0 + (w + 0.5) * c->group_w, y = c->y0 + c->h + 12;
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end' "
               "transform='rotate(-30 %.1f %.1f)'>%s</text>\n", x, y, x, y, wl[w]);
  }
}

static void bench_svg_legend(FILE *f, const bench_session_t *s, double x, double y) {
  for (size_t i = 0; i < s->nallocs; i++) {
    double xi = x + (double)(i % 8) * 120, yi = y + (double)(i / 8) * 16;
    fprintf(f, "<rect x='%.1f' y='%.1f' width='11' height='11' fill='%s'/>"
               "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n",
            xi, yi - 10, bench_color(s->allocs[i], i), xi + 15, yi, s->allocs[i]);
  }
}

/* value(r) for the chart, or NAN if the bar is not drawn. */
typedef double (*bench_value_fn)(const bench_result_t *r);

static double bench_v_ratio(const bench_result_t *r) {
  return r->status == BENCH_OK && strcmp(r->alloc, "glibc") != 0 ? r->ratio_vs_glibc : NAN;
}

static double bench_v_rss(const bench_result_t *r) {
  return r->status == BENCH_OK && r->rss_growth_bytes >= 0 ? r->rss_growth_bytes : NAN;
}

static void bench_svg_bars(FILE *f, const bench_session_t *s, const bench_chart_t *c,
                           const char **wl, size_t nw, bench_value_fn value, double base) {
  for (size_t w = 0; w < nw; w++)
    for (size_t i = 0; i < s->nallocs; i++) {
      const bench_result_t *r = bench_result_find(s, s->allocs[i], wl[w]);
      double v = r ? value(r) : NAN;
      double x = c->x0 + w * c->group_w + 6 + i * c->bar_w;
      if (isnan(v)) {
        char why[64];
        if (r && r->status != BENCH_OK && r->status != BENCH_SKIPPED)
          fprintf(f, "<text x='%.1f' y='%.1f' font-size='9' fill='#c00'>x<title>%s / %s: "
                     "%s</title></text>\n", x, c->y0 + c->h - 2, s->allocs[i], wl[w],
                  bench_cell_status(r, why, sizeof why));
        continue;
      }
      /* v == 0 (no growth at all) cannot sit on a log axis: a 1-pixel stub. */
      double y1 = v > 0 ? bench_chart_y(c, v) : c->y0 + c->h - 1;
      double yb = base > 0 ? bench_chart_y(c, base) : c->y0 + c->h;
      double top = y1 < yb ? y1 : yb, h = fabs(yb - y1) < 1 ? 1 : fabs(yb - y1);
      fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'>"
                 "<title>%s / %s: %.3g</title></rect>\n",
              x, top, c->bar_w - 1, h, bench_color(s->allocs[i], i), s->allocs[i], wl[w], v);
    }
}

/* Axis ends (log10) over the values, always including `must` if > 0. */
static void bench_chart_range(bench_chart_t *c, const bench_session_t *s, bench_value_fn value,
                              double must) {
  double lo = must > 0 ? must : INFINITY, hi = must > 0 ? must : 0;
  for (size_t i = 0; i < s->nresults; i++) {
    double v = value(&s->results[i]);
    if (isnan(v) || v <= 0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > 0)) lo = 1, hi = 10;
  c->lo = floor(log10(lo) - 0.05);
  c->hi = ceil(log10(hi) + 0.05);
  if (c->hi <= c->lo) c->hi = c->lo + 1;
}

static void bench_svg_chart(FILE *f, const bench_session_t *s, const char **wl, size_t nw,
                            double top, const char *title, bench_value_fn value, double base,
                            bool bytes) {
  bench_chart_t c = {.x0 = 80, .y0 = top + 60, .h = 280, .nbars = s->nallocs, .bar_w = 10};
  c.group_w = c.nbars * c.bar_w + 12;
  c.w = nw * c.group_w;
  bench_chart_range(&c, s, value, base);
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='15' font-weight='bold'>%s</text>\n", c.x0,
          top + 18, title);
  bench_svg_legend(f, s, c.x0, top + 40);
  bench_svg_axis(f, &c, bytes);
  if (base > 0) {
    double y = bench_chart_y(&c, base);
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-width='1.5'/>\n",
            c.x0, y, c.x0 + c.w, y);
  }
  bench_svg_bars(f, s, &c, wl, nw, value, base);
  bench_svg_labels(f, &c, wl, nw);
}

bool bench_write_svg(const char *path, const bench_session_t *s) {
  FILE *f = fopen(path, "w");
  if (!f) return perror(path), false;
  const char *wl[64];
  size_t nw = bench_workload_order(s, wl, 64);
  double group_w = s->nallocs * 10.0 + 12;
  double width = 80 + nw * group_w + 40;
  if (width < 1000) width = 1000;
  double height = 2 * 430 + 40;
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
             "font-family='sans-serif' viewBox='0 0 %.0f %.0f'>\n", width, height, width, height);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  bench_svg_chart(f, s, wl, nw, 0,
                  "Time relative to glibc (median; log scale; below the line = faster)",
                  bench_v_ratio, 1.0, false);
  bench_svg_chart(f, s, wl, nw, 430,
                  "Peak resident memory growth over each process's baseline (log scale; lower is better)",
                  bench_v_rss, 0, true);
  fprintf(f, "<text x='80' y='%.0f' font-size='10' fill='#555'>%s mode; %s</text>\n",
          height - 8, s->mode, s->machine ? s->machine : "");
  fprintf(f, "</svg>\n");
  return fclose(f) == 0;
}

/* ---------------------------------------------------------------------------
 * Markdown.
 * ------------------------------------------------------------------------- */
typedef void (*bench_md_cell_fn)(FILE *f, const bench_result_t *r);

/* Summary of every workload, so a reader knows which ones are threaded. */
static void bench_md_workloads(FILE *f, const char **wl, size_t nw) {
  fprintf(f, "\n## Workloads\n\n| workload | what |\n|---|---|\n");
  for (size_t w = 0; w < nw; w++) {
    const bench_workload_t *def = bench_workload_find(wl[w]);
    fprintf(f, "| %s | %s%s |\n", wl[w], bench_row_summary(wl[w]),
            def && def->original ? " (original)" : !def ? " (program)" : "");
  }
}

static void bench_md_time(FILE *f, const bench_result_t *r) {
  if (isnan(r->ratio_vs_glibc)) fprintf(f, " %.2f ms |", r->median_s * 1e3);
  else fprintf(f, " %.2fx (%.2f ms) |", r->ratio_vs_glibc, r->median_s * 1e3);
}

static void bench_md_memory(FILE *f, const bench_result_t *r) {
  char a[32], b[32];
  fprintf(f, " %s%s / %s |", bench_bytes(r->footprint_bytes, a, sizeof a),
          strcmp(r->footprint_source, "rss") == 0 ? "*" : "", bench_pct(r->utilization, b, sizeof b));
}

static void bench_md_rss(FILE *f, const bench_result_t *r) {
  char a[32];
  fprintf(f, " %s |", bench_bytes(r->rss_growth_bytes, a, sizeof a));
}

static void bench_md_peak_rss(FILE *f, const bench_result_t *r) {
  char a[32], x[16];
  fprintf(f, " %s (%s) |", bench_x(r->rss_ratio_vs_glibc, x, sizeof x),
          bench_bytes((double)r->peak_rss_kb * 1024, a, sizeof a));
}

static void bench_md_syscalls(FILE *f, const bench_result_t *r) {
  char a[24], b[24], x[16];
  if (isnan(r->syscalls)) fprintf(f, " n/a |");
  else fprintf(f, " %s (%s; mm %s) |", bench_x(r->syscalls_ratio_vs_glibc, x, sizeof x),
               bench_count(r->syscalls, a, sizeof a), bench_count(r->mm_syscalls, b, sizeof b));
}

static void bench_md_grid(FILE *f, const bench_session_t *s, const char **wl, size_t nw,
                          bench_md_cell_fn cell) {
  fprintf(f, "| workload |");
  for (size_t i = 0; i < s->nallocs; i++) fprintf(f, " %s |", s->allocs[i]);
  fprintf(f, "\n|---|");
  for (size_t i = 0; i < s->nallocs; i++) fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t w = 0; w < nw; w++) {
    fprintf(f, "| %s |", wl[w]);
    for (size_t i = 0; i < s->nallocs; i++) {
      const bench_result_t *r = bench_result_find(s, s->allocs[i], wl[w]);
      if (!r) fprintf(f, " |");
      else if (r->status != BENCH_OK) {
        char buf[64];
        fprintf(f, " %s |", bench_cell_status(r, buf, sizeof buf));
      }
      else cell(f, r);
    }
    fprintf(f, "\n");
  }
}

static void bench_md_frag(FILE *f, const bench_session_t *s) {
  char a[32], b[32];
  fprintf(f, "\n## Fragmentation\n\nExternal: `1 - largest_free / total_free` over free payload "
             "bytes, after the stress workload (the original printed 53.22%% for first-fit, "
             "34.39%% for best-fit). Internal: `1 - requested / usable` over every block of "
             "the warm-up run.\n\n| allocator | external (stress) | internal (stress) | "
             "internal (size-mix) |\n|---|---|---|---|\n");
  for (size_t i = 0; i < s->nallocs; i++) {
    const bench_result_t *st = bench_result_find(s, s->allocs[i], "stress");
    const bench_result_t *mx = bench_result_find(s, s->allocs[i], "size-mix");
    if (!st && !mx) continue;
    fprintf(f, "| %s | %s | %s |", s->allocs[i],
            st && st->status == BENCH_OK ? bench_pct(st->fragmentation, a, sizeof a) : "-",
            st && st->status == BENCH_OK ? bench_pct(st->internal_frag, b, sizeof b) : "-");
    fprintf(f, " %s |\n", mx && mx->status == BENCH_OK ? bench_pct(mx->internal_frag, a, sizeof a) : "-");
  }
}

static void bench_md_fast(FILE *f, const bench_session_t *s) {
  if (s->nfast == 0) return;
  fprintf(f, "\n## Fast path (ns per malloc+free pair, best of runs)\n\n| allocator |");
  for (int k = 0; k < BENCH_FAST_SIZES; k++) fprintf(f, " %zu |", bench_fast_sizes[k]);
  for (int k = 0; k < BENCH_FAST_SIZES; k++) fprintf(f, " LIFO %zu |", bench_fast_sizes[k]);
  fprintf(f, "\n|---|");
  for (int k = 0; k < 2 * BENCH_FAST_SIZES; k++) fprintf(f, "---|");
  fprintf(f, "\n");
  for (size_t i = 0; i < s->nallocs; i++) {
    bool any = false;
    for (size_t j = 0; j < s->nfast; j++) any |= strcmp(s->fast[j].alloc, s->allocs[i]) == 0;
    if (!any) continue;
    fprintf(f, "| %s |", s->allocs[i]);
    for (int pass = 0; pass < 2; pass++)
      for (size_t j = 0; j < s->nfast; j++)
        if (strcmp(s->fast[j].alloc, s->allocs[i]) == 0)
          fprintf(f, " %.1f |", pass ? s->fast[j].lifo_ns : s->fast[j].pair_ns);
    fprintf(f, "\n");
  }
}

/* How a time cell was taken, for the tables' captions. */
static void bench_time_how(const bench_session_t *s, char *buf, size_t len) {
  if (s->rounds > 1)
    snprintf(buf, len, "workloads: the median of %d processes run in interleaved rounds (each "
             "the median of its repeats), programs: the median of their runs", s->rounds);
  else snprintf(buf, len, "median of the repeats");
}

bool bench_write_markdown(const char *path, const bench_session_t *s) {
  FILE *f = fopen(path, "w");
  if (!f) return perror(path), false;
  const char *wl[64];
  size_t nw = bench_workload_order(s, wl, 64);
  char how[160];
  bench_time_how(s, how, sizeof how);
  fprintf(f, "# vedalloc benchmark\n\nGenerated by `bazel run //bench:compare` (%s mode) on: "
             "%s.\n\n## Time (ratio to glibc in the same run, lower is faster; %s)\n\n",
          s->mode, s->machine ? s->machine : "unknown machine", how);
  bench_md_grid(f, s, wl, nw, bench_md_time);
  fprintf(f, "\n## Memory (peak footprint / utilisation = peak live requested bytes / "
             "footprint)\n\nOurs: bytes mapped from the OS (va_stats). `*`: references, peak "
             "RSS growth over the child's baseline.\n\n");
  bench_md_grid(f, s, wl, nw, bench_md_memory);
  fprintf(f, "\n## Peak resident memory growth (the same measure for every allocator)\n\n");
  bench_md_grid(f, s, wl, nw, bench_md_rss);
  fprintf(f, "\n## Peak RSS (ratio to glibc; workloads: the child's VmHWM, programs: "
             "ru_maxrss of the process tree)\n\n");
  bench_md_grid(f, s, wl, nw, bench_md_peak_rss);
  fprintf(f, "\n## System calls (ratio to glibc; total; mm = mmap, munmap, mremap, madvise, "
             "brk, mprotect)\n\nOne extra untimed run per pair under `strace -f -c` (every "
             "thread and child process): a workload's metered warm-up plus one timed run, a "
             "program's whole run.\n\n");
  bench_md_grid(f, s, wl, nw, bench_md_syscalls);
  bench_md_frag(f, s);
  bench_md_fast(f, s);
  bench_report_targets(f, s, true);
  bench_md_workloads(f, wl, nw);
  if (s->nnotes) fprintf(f, "\n## Notes\n\n");
  for (size_t i = 0; i < s->nnotes; i++) fprintf(f, "- %s\n", s->notes[i]);
  return fclose(f) == 0;
}

/* ---------------------------------------------------------------------------
 * The root README's results section: machine, time ratios, targets, chart.
 * It lives between two marker lines, so a full run keeps the README true.
 * ------------------------------------------------------------------------- */
#define BENCH_README_BEGIN "<!-- bench:begin (written by bazel run //bench:compare -- --save --update-readme) -->"
#define BENCH_README_END "<!-- bench:end -->"

static void bench_md_summary(FILE *f, const bench_session_t *s) {
  const char *wl[64];
  size_t nw = bench_workload_order(s, wl, 64);
  char how[160];
  bench_time_how(s, how, sizeof how);
  fprintf(f, "\nLatest `bazel run //bench:compare` (%s mode) on %s. Time as a ratio to "
             "glibc in the same run (lower is faster), %s. Memory, "
             "fragmentation and the fast path: [bench/results/latest.md]"
             "(bench/results/latest.md).\n\n",
          s->mode, s->machine ? s->machine : "an unknown machine", how);
  bench_md_grid(f, s, wl, nw, bench_md_time);
  fprintf(f, "\n![time and memory relative to glibc](bench/results/latest.svg)\n");
  bench_report_targets(f, s, true);
  fprintf(f, "\n");
}

/* Read all of path into a NUL-terminated heap buffer (NULL on failure). */
static char *bench_slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += got;
    if (n + 1 < cap) continue;
    char *grown = realloc(buf, cap *= 2);
    if (!grown) free(buf);
    buf = grown;
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

bool bench_update_readme(const char *path, const bench_session_t *s) {
  char *text = bench_slurp(path);
  char *begin = text ? strstr(text, BENCH_README_BEGIN) : NULL;
  char *end = begin ? strstr(begin, BENCH_README_END) : NULL;
  if (!end) {
    fprintf(stderr, "compare: %s has no bench markers; README not updated\n", path);
    free(text);
    return false;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  bool ok = f != NULL;
  if (ok) {
    fwrite(text, 1, (size_t)(begin - text) + strlen(BENCH_README_BEGIN), f);
    bench_md_summary(f, s);
    fputs(end, f);
    ok = fclose(f) == 0 && rename(tmp, path) == 0;
  }
  free(text);
  return ok;
}
