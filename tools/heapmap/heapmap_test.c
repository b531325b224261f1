/* vedalloc heapmap — the samples say what the heap holds.
 *
 * Each property is a checker returning bool, run on real samples and once
 * on a deliberately wrong input it must reject, so a checker that always
 * says yes fails the test:
 *   - the recorded op sequence is valid (frees name live ids) and complete;
 *   - at every bin the walk's live bytes equal the replay's usable total
 *     (V1, V2), and bins end where the op count says;
 *   - V1's block bands tile its heap (payloads, headers between them);
 *   - the system column draws every live block from its address;
 *   - the layout is monotone in address and squeezes gaps;
 *   - the picture has one column per allocator and no external reference.
 */
#include <stdio.h>
#include <string.h>

#include "alloc/testing/check.h"
#include "tools/heapmap/heapmap.h"

#define HM_TEST_OPS 20000 /* of stress: enough churn, fast under ASan */
#define HM_TEST_BINS 50

static hm_ops_t hm_t_ops;

static bool hm_t_ops_valid(const hm_ops_t *o) {
  hm_buf_t live = {0};
  uint8_t *l = hm_buf_push(&live, NULL, o->nids + 1);
  bool ok = true;
  for (size_t i = 0; i < o->nops && ok; i++) {
    const bench_trace_op_t *op = &o->ops[i];
    ok = op->id < o->nids && (op->kind == BENCH_TRACE_ALLOC) == !l[op->id];
    l[op->id] = op->kind != BENCH_TRACE_FREE;
  }
  hm_buf_free(&live);
  return ok;
}

static void hm_t_record(void) {
  char err[300] = "";
  bool ok = hm_record_workload(bench_workload_find("stress"), &hm_t_ops, err, sizeof err);
  VT_CHECKF(ok, "%s", err);
  /* 200k random ops, then the frees of what is left. */
  VT_CHECKF(hm_t_ops.nops > 200000 && hm_t_ops.nops < 201001, "nops %zu", hm_t_ops.nops);
  VT_CHECKF(hm_t_ops.nids <= 1000, "nids %zu (ids are reused)", hm_t_ops.nids);
  VT_CHECK(hm_t_ops_valid(&hm_t_ops));
  hm_ops_t bad = hm_t_ops; /* a free of an id that is not live */
  bench_trace_op_t twice[2] = {{BENCH_TRACE_ALLOC, 0, 8}, {BENCH_TRACE_FREE, 1, 0}};
  bad.ops = twice, bad.nops = 2;
  VT_CHECK(!hm_t_ops_valid(&bad));
  VT_CHECK(!hm_record_workload(bench_workload_find("larson"), &bad, err, sizeof err));
  hm_ops_limit(&hm_t_ops, HM_TEST_OPS);
  VT_CHECK(hm_t_ops.nops == HM_TEST_OPS);
}

static bool hm_t_sample(const char *name, hm_column_t *c) {
  char err[300] = "";
  bool ok = hm_sample(va_registry_find(name), &hm_t_ops, HM_TEST_BINS, NULL, NULL, c, err,
                      sizeof err);
  VT_CHECKF(ok, "%s: %s", name, err);
  return ok;
}

/* Bins end in order at the last op; the walk agrees with the replay. */
static bool hm_t_bins_agree(const hm_column_t *c, size_t nops) {
  for (size_t b = 0; b < c->nbins; b++) {
    const hm_bin_t *bin = &c->bins[b];
    if (b > 0 && bin->op_end <= c->bins[b - 1].op_end) return false;
    if (c->walked && bin->walk_live != bin->live_bytes) return false;
  }
  return c->nbins && c->bins[c->nbins - 1].op_end == nops;
}

static void hm_t_live(void) {
  static const char *const names[] = {"v1-firstfit", "v1-bestfit", "v2-slab"};
  for (size_t i = 0; i < 3; i++) {
    hm_column_t c;
    if (!hm_t_sample(names[i], &c)) continue;
    VT_CHECKF(c.nbins == HM_TEST_BINS, "%s: %zu bins", names[i], c.nbins);
    VT_CHECKF(hm_t_bins_agree(&c, hm_t_ops.nops), "%s", names[i]);
    VT_CHECKF(c.peak_live > 0 && c.peak_footprint >= c.peak_live, "%s: peak live %zu, foot %zu",
              names[i], c.peak_live, c.peak_footprint);
    VT_CHECK(c.has_pages == (strcmp(names[i], "v2-slab") == 0));
    c.bins[HM_TEST_BINS / 2].walk_live += 16; /* the walk missed a block */
    VT_CHECK(!hm_t_bins_agree(&c, hm_t_ops.nops));
    hm_column_free(&c);
  }
}

static void hm_t_v1_tiles(void) {
  hm_column_t c;
  if (!hm_t_sample("v1-firstfit", &c)) return;
  size_t bad = 0;
  for (size_t b = 0; b < c.nbins; b++)
    bad += !hm_bands_tile(hm_bin_bands(&c, &c.bins[b]), c.bins[b].nbands, HM_BAND_SLACK);
  VT_CHECKF(bad == 0, "%zu of %zu bins do not tile", bad, c.nbins);
  hm_band_t hole[2] = {{0x1000, 0x2000, HM_K_LIVE}, {0x3000, 0x4000, HM_K_FREE}};
  VT_CHECK(!hm_bands_tile(hole, 2, HM_BAND_SLACK));
  hm_band_t overlap[2] = {{0x1000, 0x2000, HM_K_LIVE}, {0x1ff0, 0x3000, HM_K_FREE}};
  VT_CHECK(!hm_bands_tile(overlap, 2, HM_BAND_SLACK));
  hm_band_t fine[3] = {{0x1000, 0x2000, HM_K_LIVE}, {0x2010, 0x3000, HM_K_FREE},
                       {0x3010, 0x4000, HM_K_LIVE}};
  VT_CHECK(hm_bands_tile(fine, 3, HM_BAND_SLACK));
  hm_column_free(&c);
}

/* Every live byte of the process malloc's blocks lies in a LIVE band. */
static void hm_t_system(void) {
  hm_column_t c;
  if (!hm_t_sample("system", &c)) return;
  VT_CHECK(!c.walked && !c.has_stats && c.frag_mean < 0);
  size_t short_bins = 0;
  for (size_t b = 0; b < c.nbins; b++) {
    const hm_band_t *band = hm_bin_bands(&c, &c.bins[b]);
    size_t sum = 0;
    for (size_t i = 0; i < c.bins[b].nbands; i++) sum += band[i].hi - band[i].lo;
    short_bins += sum < c.bins[b].live_bytes;
  }
  VT_CHECKF(short_bins == 0, "%zu bins draw fewer bytes than are live", short_bins);
  VT_CHECK(hm_t_bins_agree(&c, hm_t_ops.nops));
  hm_column_free(&c);
}

/* y is non-decreasing in address, rises inside each range, spans [0, 1]. */
static bool hm_t_monotone(const hm_layout_t *l) {
  double prev = -1;
  for (size_t i = 0; i < l->n; i++) {
    const hm_range_t *r = &l->r[i];
    if (!(r->y0 < r->y1) || (i && r->y0 <= l->r[i - 1].y1)) return false;
    for (int s = 0; s <= 8; s++) {
      double y = hm_layout_y(l, r->lo + (r->hi - r->lo) / 8 * (uint64_t)s);
      if (y < prev || (s && y <= prev)) return false;
      prev = y;
    }
  }
  return l->n && hm_layout_y(l, l->r[0].lo) == 0 && hm_layout_y(l, l->r[l->n - 1].hi) > 0.999;
}

static void hm_t_layout(void) {
  hm_band_t b[] = {
      {0x7f0000000000, 0x7f0000400000, HM_K_SEGMENT}, /* a 4 MiB segment */
      {0x7f0000010000, 0x7f0000020000, HM_K_PAGE},    /* a page inside it */
      {0x560000001000, 0x560000002000, HM_K_LIVE},    /* one lone page, far below */
      {0x560000002010, 0x560000003000, HM_K_FREE},    /* next to it: same range */
      {0x7f1000000000, 0x7f1000100000, HM_K_CACHED},  /* a far mapping */
  };
  hm_layout_t l;
  hm_layout_build(&l, b, sizeof b / sizeof b[0]);
  VT_CHECKF(l.n == 3, "%zu ranges", l.n);
  VT_CHECK(hm_t_monotone(&l));
  VT_CHECK(l.r[0].lo == 0x560000001000 && l.r[0].hi == 0x560000003000);
  VT_CHECKF(l.r[0].y1 - l.r[0].y0 >= 0.019, "a lone page is %f of the axis", l.r[0].y1);
  /* A gap of terabytes is squeezed to a mark, not drawn to scale. */
  VT_CHECK(l.r[1].y0 - l.r[0].y1 < 0.05);
  double mid = hm_layout_y(&l, 0x600000000000);
  VT_CHECK(mid > l.r[0].y1 && mid < l.r[1].y0);
  hm_layout_t bad = l; /* ranges out of order */
  bad.r[0] = l.r[1], bad.r[1] = l.r[0];
  VT_CHECK(!hm_t_monotone(&bad));
  /* Many scattered mappings join until at most HM_MAX_RANGES remain. */
  hm_band_t many[100];
  for (int i = 0; i < 100; i++)
    many[i] = (hm_band_t){(uint64_t)i << 24, ((uint64_t)i << 24) + 4096, HM_K_LIVE};
  hm_layout_build(&l, many, 100);
  VT_CHECKF(l.n <= HM_MAX_RANGES && hm_t_monotone(&l), "%zu ranges", l.n);
}

static size_t hm_t_count(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

static void hm_t_render(void) {
  hm_column_t c[2];
  if (!hm_t_sample("v1-bestfit", &c[0]) || !hm_t_sample("v2-slab", &c[1])) return;
  hm_buf_t out = {0};
  hm_picture_t pic = {.cols = c, .ncols = 2, .ops = &hm_t_ops, .html = false};
  hm_render(&out, &pic);
  hm_buf_push(&out, "", 1);
  VT_CHECK(strncmp(out.p, "<svg", 4) == 0 && strstr(out.p, "</svg>") != NULL);
  VT_CHECKF(hm_t_count(out.p, "class=\"hm-column\"") == 2, "%zu columns",
            hm_t_count(out.p, "class=\"hm-column\""));
  VT_CHECK(hm_t_count(out.p, "http") == hm_t_count(out.p, "http://www.w3.org/2000/svg"));
  VT_CHECK(hm_t_count(out.p, "page occupancy") == 1); /* V2 only */
  VT_CHECK(strstr(out.p, "data:image/png;base64,iVBORw0KGgo") != NULL);
  hm_buf_free(&out);
  hm_column_free(&c[0]);
  hm_column_free(&c[1]);
}

int main(void) {
  VT_RUN(hm_t_record);
  VT_RUN(hm_t_live);
  VT_RUN(hm_t_v1_tiles);
  VT_RUN(hm_t_system);
  VT_RUN(hm_t_layout);
  VT_RUN(hm_t_render);
  hm_ops_free(&hm_t_ops);
  return va_check_summary();
}
