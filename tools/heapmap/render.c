/* vedalloc heapmap — the picture: one SVG, a column per allocator.
 *
 * A column, top to bottom (every column on the same time axis):
 *   title and summary   name; peak footprint, peak live, fragmentation
 *   map                 address (down, layout.c) x time (right): each pixel
 *                       the kind that covers most of its cell (png.c)
 *   bytes chart         footprint and live bytes, to the column's own peak
 *                       (its top label says it: one shared scale flattens
 *                       a small heap's lines beside a slab's pages)
 *   fragmentation chart external fragmentation, 1 - largest free / free
 *   occupancy           entries whose walk reports slab pages: a row per
 *                       size class, the share of its slots live per bin
 * A map cell shows a block kind when blocks cover at least HM_CELL_BLOCK of
 * it (most-covering kind wins, live on ties), else the page or segment
 * around them, so a hole narrower than a row can hide under its neighbour.
 * No external reference: the rasters are data: URIs, text is system fonts.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools/heapmap/heapmap.h"

#define HM_LABEL_W 96   /* address labels left of the map */
#define HM_PLOT_W 300   /* map and chart width */
#define HM_COL_W (HM_LABEL_W + HM_PLOT_W + 24)
#define HM_MARGIN 16
#define HM_HEAD_H 64    /* the page title */
#define HM_TITLE_H 50   /* a column's title and summary */
#define HM_MAP_H 400
#define HM_CHART_H 90
#define HM_FRAG_H 60
#define HM_AXIS_H 22    /* time labels under a panel */
#define HM_OCC_ROW 8    /* pixels per size class */
#define HM_LEGEND_H 64
#define HM_CELL_BLOCK 0.2
#define HM_OCC_LEVELS 11 /* occupancy 0%, 10%, ..., 100% */
#define HM_PAL_OCC HM_K_COUNT /* first occupancy colour in the palette */

/* The palette: map kinds, then occupancy from empty (waste) to full. */
static const char *const hm_colour[HM_K_COUNT + HM_OCC_LEVELS] = {
    [HM_K_NONE] = "#ffffff", [HM_K_LIVE] = "#e6550d", [HM_K_FREE] = "#6baed6",
    [HM_K_CACHED] = "#756bb1", [HM_K_PAGE] = "#c7e9c0", [HM_K_SEGMENT] = "#e3e3e3",
    [HM_K_GAP] = "#8c8c8c",
    "#ffffcc", "#f7fcb9", "#d9f0a3", "#c2e699", "#addd8e", "#78c679",
    "#41ab5d", "#31a354", "#238443", "#006837", "#004529",
};

static const char *const hm_kind_label[HM_K_COUNT] = {
    [HM_K_LIVE] = "live block", [HM_K_FREE] = "free hole",
    [HM_K_CACHED] = "cached mapping", [HM_K_PAGE] = "slab page (outside slots)",
    [HM_K_SEGMENT] = "segment (unused)", [HM_K_GAP] = "squeezed address gap",
};

#define HM_LINE_FOOT "#252525"
#define HM_LINE_FRAG "#3182bd"

/* ---------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------- */
static void hm_palette_rgb(uint8_t *rgb) {
  for (size_t i = 0; i < HM_K_COUNT + HM_OCC_LEVELS; i++) {
    unsigned r, g, b;
    sscanf(hm_colour[i] + 1, "%2x%2x%2x", &r, &g, &b);
    rgb[3 * i] = (uint8_t)r, rgb[3 * i + 1] = (uint8_t)g, rgb[3 * i + 2] = (uint8_t)b;
  }
}

static void hm_xml_text(hm_buf_t *o, const char *s) {
  for (; *s; s++) {
    if (*s == '&') hm_buf_printf(o, "&amp;");
    else if (*s == '<') hm_buf_printf(o, "&lt;");
    else if (*s == '>') hm_buf_printf(o, "&gt;");
    else if (*s == '"') hm_buf_printf(o, "&quot;");
    else hm_buf_push(o, s, 1);
  }
}

/* "12.3 KiB" */
static const char *hm_bytes(char *b, size_t n, double v) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, u++;
  snprintf(b, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
  return b;
}

/* "250k" */
static const char *hm_count(char *b, size_t n, double v) {
  if (v >= 1e6) snprintf(b, n, "%.3gM", v / 1e6);
  else if (v >= 1e3) snprintf(b, n, "%.3gk", v / 1e3);
  else snprintf(b, n, "%.0f", v);
  return b;
}

static const char *hm_pct(char *b, size_t n, double f) {
  if (f < 0) snprintf(b, n, "n/a");
  else snprintf(b, n, "%.1f%%", 100 * f);
  return b;
}

static void hm_image(hm_buf_t *o, double x, double y, double w, double h, const uint8_t *px,
                     uint32_t pw, uint32_t ph) {
  uint8_t rgb[3 * (HM_K_COUNT + HM_OCC_LEVELS)];
  hm_palette_rgb(rgb);
  hm_buf_printf(o, "<image x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                   "preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
                   "href=\"data:image/png;base64,", x, y, w, h);
  hm_png_base64(o, px, pw, ph, rgb, HM_K_COUNT + HM_OCC_LEVELS);
  hm_buf_printf(o, "\"/>\n");
}

/* ---------------------------------------------------------------------------
 * The map raster.
 * ------------------------------------------------------------------------- */
/* The kind a cell shows, from the share of it each kind covers. */
static uint8_t hm_cell_kind(const double cov[HM_K_COUNT]) {
  double blocks = cov[HM_K_LIVE] + cov[HM_K_FREE] + cov[HM_K_CACHED];
  uint8_t best = HM_K_LIVE;
  if (cov[HM_K_FREE] > cov[best]) best = HM_K_FREE;
  if (cov[HM_K_CACHED] > cov[best]) best = HM_K_CACHED;
  if (blocks >= HM_CELL_BLOCK) return best;
  if (cov[HM_K_PAGE] >= HM_CELL_BLOCK) return HM_K_PAGE;
  if (cov[HM_K_SEGMENT] > 0) return HM_K_SEGMENT;
  if (blocks > 0) return best;
  return cov[HM_K_PAGE] > 0 ? HM_K_PAGE : HM_K_NONE;
}

/* Adds band b's share of each row it crosses. */
static void hm_cover_band(double (*cov)[HM_K_COUNT], const hm_layout_t *l, const hm_band_t *b) {
  double y0 = hm_layout_y(l, b->lo) * HM_MAP_ROWS, y1 = hm_layout_y(l, b->hi) * HM_MAP_ROWS;
  for (int r = (int)floor(y0); r < HM_MAP_ROWS && r < (int)ceil(y1); r++) {
    double top = r > y0 ? r : y0, bottom = r + 1 < y1 ? r + 1 : y1;
    cov[r][b->kind] += bottom - top;
  }
}

/* Rows whose middle falls in a squeezed gap. */
static void hm_gap_rows(const hm_layout_t *l, bool *gap) {
  for (int r = 0; r < HM_MAP_ROWS; r++) {
    double y = (r + 0.5) / HM_MAP_ROWS;
    gap[r] = false;
    for (size_t i = 0; i + 1 < l->n; i++)
      if (y > l->r[i].y1 && y < l->r[i + 1].y0) gap[r] = true;
  }
}

static void hm_map_raster(uint8_t *px, const hm_column_t *c, const hm_layout_t *l) {
  static double cov[HM_MAP_ROWS][HM_K_COUNT];
  bool gap[HM_MAP_ROWS];
  hm_gap_rows(l, gap);
  for (size_t b = 0; b < c->nbins; b++) {
    memset(cov, 0, sizeof cov);
    const hm_band_t *band = hm_bin_bands(c, &c->bins[b]);
    for (size_t i = 0; i < c->bins[b].nbands; i++) hm_cover_band(cov, l, &band[i]);
    for (int r = 0; r < HM_MAP_ROWS; r++) {
      uint8_t k = hm_cell_kind(cov[r]);
      px[(size_t)r * c->nbins + b] = k == HM_K_NONE && gap[r] ? HM_K_GAP : k;
    }
  }
}

/* ---------------------------------------------------------------------------
 * Panels of a column. (x, y): the panel's top left inside the column.
 * ------------------------------------------------------------------------- */
static void hm_column_title(hm_buf_t *o, const hm_column_t *c) {
  char a[32], b[32], f1[16], f2[16];
  hm_buf_printf(o, "<text x=\"0\" y=\"14\" class=\"hm-name\">");
  hm_xml_text(o, c->entry->name);
  hm_buf_printf(o, "</text>\n<text x=\"0\" y=\"30\">peak footprint %s, peak live %s</text>\n",
                hm_bytes(a, sizeof a, (double)c->peak_footprint),
                hm_bytes(b, sizeof b, (double)c->peak_live));
  if (c->has_stats)
    hm_buf_printf(o, "<text x=\"0\" y=\"44\">ext. fragmentation at peak live %s, mean %s</text>\n",
                  hm_pct(f1, sizeof f1, c->frag_at_peak), hm_pct(f2, sizeof f2, c->frag_mean));
  else
    hm_buf_printf(o, "<text x=\"0\" y=\"44\">no walk: blocks drawn from returned addresses, "
                     "footprint = heap growth</text>\n");
}

static void hm_address_labels(hm_buf_t *o, const hm_layout_t *l, double y) {
  char sz[32];
  for (size_t i = 0; i < l->n; i++) {
    const hm_range_t *r = &l->r[i];
    double top = y + r->y0 * HM_MAP_H, h = (r->y1 - r->y0) * HM_MAP_H;
    hm_buf_printf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"hm-range\"/>\n",
                  HM_LABEL_W - 4, top, HM_LABEL_W - 4, top + h);
    if (h < 11) continue;
    hm_buf_printf(o, "<text x=\"%d\" y=\"%.1f\" class=\"hm-addr\">%#llx</text>\n"
                     "<text x=\"%d\" y=\"%.1f\" class=\"hm-addr\">%s</text>\n",
                  HM_LABEL_W - 8, top + 8, (unsigned long long)r->lo, HM_LABEL_W - 8,
                  top + (h >= 22 ? 18 : 8) , h >= 22 ? hm_bytes(sz, sizeof sz, (double)(r->hi - r->lo)) : "");
  }
  for (size_t i = 0; i + 1 < l->n; i++) {
    double gy = y + (l->r[i].y1 + l->r[i + 1].y0) / 2 * HM_MAP_H;
    hm_buf_printf(o, "<text x=\"%d\" y=\"%.1f\" class=\"hm-gap\">gap %s</text>\n",
                  HM_LABEL_W - 8, gy + 3,
                  hm_bytes(sz, sizeof sz, (double)(l->r[i + 1].lo - l->r[i].hi)));
  }
}

static void hm_time_axis(hm_buf_t *o, double y, size_t nops) {
  char n[16];
  for (int q = 0; q <= 4; q++) {
    double x = HM_LABEL_W + HM_PLOT_W * q / 4.0;
    hm_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"hm-tick\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" class=\"hm-t\">%s</text>\n",
                  x, y, x, y + 4, x, y + 14, hm_count(n, sizeof n, (double)nops * q / 4));
  }
}

static void hm_panel_map(hm_buf_t *o, const hm_column_t *c, double y) {
  hm_layout_t l;
  hm_layout_column(&l, c);
  hm_buf_t px = {0};
  hm_map_raster(hm_buf_push(&px, NULL, (size_t)HM_MAP_ROWS * c->nbins), c, &l);
  hm_buf_printf(o, "<g class=\"hm-map\">\n");
  hm_image(o, HM_LABEL_W, y, HM_PLOT_W, HM_MAP_H, (const uint8_t *)px.p, (uint32_t)c->nbins,
           HM_MAP_ROWS);
  hm_buf_printf(o, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" class=\"hm-frame\"/>\n",
                HM_LABEL_W, y, HM_PLOT_W, HM_MAP_H);
  hm_address_labels(o, &l, y);
  hm_buf_printf(o, "</g>\n");
  hm_buf_free(&px);
}

/* A polyline of v(bin) scaled so vmax is the panel's top; v < 0 breaks it. */
typedef double (*hm_series_fn)(const hm_bin_t *b);

static void hm_polyline(hm_buf_t *o, const hm_column_t *c, hm_series_fn v, double vmax,
                        double y, double h, const char *colour, const char *cls) {
  hm_buf_printf(o, "<polyline class=\"%s\" stroke=\"%s\" points=\"", cls, colour);
  for (size_t b = 0; b < c->nbins; b++) {
    double val = v(&c->bins[b]);
    if (val < 0) continue;
    double x = HM_LABEL_W + HM_PLOT_W * (b + 0.5) / (double)c->nbins;
    hm_buf_printf(o, "%.1f,%.1f ", x, y + h - h * (vmax > 0 ? val / vmax : 0));
  }
  hm_buf_printf(o, "\"/>\n");
}

static double hm_v_foot(const hm_bin_t *b) { return (double)b->footprint; }
static double hm_v_live(const hm_bin_t *b) { return (double)b->live_bytes; }
static double hm_v_frag(const hm_bin_t *b) { return b->ext_frag; }

static void hm_panel_frame(hm_buf_t *o, double y, double h, const char *top, const char *name) {
  hm_buf_printf(o, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"hm-frame\"/>\n"
                   "<text x=\"%d\" y=\"%.1f\" class=\"hm-addr\">%s</text>\n"
                   "<text x=\"%d\" y=\"%.1f\" class=\"hm-addr\">0</text>\n"
                   "<text x=\"%d\" y=\"%.1f\" class=\"hm-addr\">%s</text>\n",
                  HM_LABEL_W, y, HM_PLOT_W, h, HM_LABEL_W - 8, y + 8, top, HM_LABEL_W - 8,
                  y + h, HM_LABEL_W - 8, y + h / 2 + 4, name);
}

static void hm_panel_bytes(hm_buf_t *o, const hm_column_t *c, double y, double vmax) {
  char top[32];
  hm_panel_frame(o, y, HM_CHART_H, hm_bytes(top, sizeof top, vmax), "bytes");
  if (c->bins[c->nbins - 1].footprint || c->peak_footprint)
    hm_polyline(o, c, hm_v_foot, vmax, y, HM_CHART_H, HM_LINE_FOOT, "hm-foot");
  hm_polyline(o, c, hm_v_live, vmax, y, HM_CHART_H, hm_colour[HM_K_LIVE], "hm-live");
}

static void hm_panel_frag(hm_buf_t *o, const hm_column_t *c, double y) {
  hm_panel_frame(o, y, HM_FRAG_H, "100%", "ext. frag");
  if (c->has_stats) hm_polyline(o, c, hm_v_frag, 1.0, y, HM_FRAG_H, HM_LINE_FRAG, "hm-frag");
  else hm_buf_printf(o, "<text x=\"%d\" y=\"%.1f\" class=\"hm-t\">unknown without stats</text>\n",
                     HM_LABEL_W + HM_PLOT_W / 2, y + HM_FRAG_H / 2);
}

/* Size classes with a page at some bin, in class order; returns the count. */
static size_t hm_classes_used(const hm_column_t *c, int *used) {
  size_t n = 0;
  for (int k = 0; k < HM_MAX_CLS; k++) {
    bool any = false;
    for (size_t b = 0; b < c->nbins && !any; b++) any = c->cls[b * HM_MAX_CLS + k].pages > 0;
    if (any) used[n++] = k;
  }
  return n;
}

static uint8_t hm_occ_colour(const hm_cls_t *k) {
  if (k->pages == 0) return HM_K_NONE;
  if (k->slots == 0) return HM_PAL_OCC;
  return (uint8_t)(HM_PAL_OCC + lround(10.0 * k->live / k->slots));
}

static void hm_panel_occupancy(hm_buf_t *o, const hm_column_t *c, double y) {
  int used[HM_MAX_CLS];
  size_t n = hm_classes_used(c, used);
  hm_buf_printf(o, "<text x=\"0\" y=\"%.1f\" class=\"hm-name\">page occupancy by size class</text>\n",
                y - 6);
  if (n == 0) return;
  hm_buf_t px = {0};
  uint8_t *p = hm_buf_push(&px, NULL, n * c->nbins);
  for (size_t r = 0; r < n; r++)
    for (size_t b = 0; b < c->nbins; b++)
      p[r * c->nbins + b] = hm_occ_colour(&c->cls[b * HM_MAX_CLS + used[r]]);
  hm_image(o, HM_LABEL_W, y, HM_PLOT_W, (double)n * HM_OCC_ROW, p, (uint32_t)c->nbins, (uint32_t)n);
  hm_buf_printf(o, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%zu\" class=\"hm-frame\"/>\n",
                HM_LABEL_W, y, HM_PLOT_W, n * HM_OCC_ROW);
  for (size_t r = 0; r < n; r++)
    hm_buf_printf(o, "<text x=\"%d\" y=\"%.1f\" class=\"hm-cls\">%zu B</text>\n", HM_LABEL_W - 8,
                  y + (double)r * HM_OCC_ROW + 7, c->cls_block[used[r]]);
  hm_buf_free(&px);
}

static double hm_occ_height(const hm_column_t *c) {
  int used[HM_MAX_CLS];
  return c->has_pages ? 24.0 + (double)hm_classes_used(c, used) * HM_OCC_ROW : 0;
}

/* ---------------------------------------------------------------------------
 * The page.
 * ------------------------------------------------------------------------- */
static void hm_render_column(hm_buf_t *o, const hm_column_t *c, double x) {
  double y = HM_TITLE_H;
  double vmax = (double)(c->peak_footprint > c->peak_live ? c->peak_footprint : c->peak_live);
  if (vmax < 1) vmax = 1;
  hm_buf_printf(o, "<g class=\"hm-column\" data-alloc=\"");
  hm_xml_text(o, c->entry->name);
  hm_buf_printf(o, "\" transform=\"translate(%.1f,%d)\">\n", x, HM_HEAD_H);
  hm_column_title(o, c);
  hm_panel_map(o, c, y);
  size_t nops = c->bins[c->nbins - 1].op_end;
  hm_time_axis(o, y += HM_MAP_H, nops);
  hm_panel_bytes(o, c, y += HM_AXIS_H, vmax);
  hm_time_axis(o, y += HM_CHART_H, nops);
  hm_panel_frag(o, c, y += HM_AXIS_H);
  hm_time_axis(o, y += HM_FRAG_H, nops);
  if (c->has_pages) hm_panel_occupancy(o, c, y + HM_AXIS_H + 14);
  hm_buf_printf(o, "</g>\n");
}

static void hm_render_legend(hm_buf_t *o, double y) {
  double x = HM_MARGIN;
  hm_buf_printf(o, "<g class=\"hm-legend\" transform=\"translate(0,%.1f)\">\n", y);
  for (int k = HM_K_LIVE; k < HM_K_COUNT; k++, x += 180)
    hm_buf_printf(o, "<rect x=\"%.1f\" y=\"0\" width=\"12\" height=\"12\" fill=\"%s\" "
                     "class=\"hm-swatch\"/><text x=\"%.1f\" y=\"10\">%s</text>\n",
                  x, hm_colour[k], x + 16, hm_kind_label[k]);
  x = HM_MARGIN;
  static const char *const lines[][2] = {{HM_LINE_FOOT, "footprint (bytes from the OS)"},
                                          {"#e6550d", "live bytes (usable)"},
                                          {HM_LINE_FRAG, "ext. fragmentation: 1 - largest free / free"}};
  for (int i = 0; i < 3; i++, x += 230)
    hm_buf_printf(o, "<line x1=\"%.1f\" y1=\"26\" x2=\"%.1f\" y2=\"26\" stroke=\"%s\" "
                     "stroke-width=\"2\"/><text x=\"%.1f\" y=\"30\">%s</text>\n",
                  x, x + 14, lines[i][0], x + 18, lines[i][1]);
  hm_buf_printf(o, "<text x=\"%d\" y=\"50\">occupancy: live slots / slots of the class's pages, "
                   "from</text>\n", HM_MARGIN);
  for (int i = 0; i < HM_OCC_LEVELS; i++)
    hm_buf_printf(o, "<rect x=\"%d\" y=\"41\" width=\"10\" height=\"12\" fill=\"%s\"/>\n",
                  HM_MARGIN + 330 + 10 * i, hm_colour[HM_PAL_OCC + i]);
  hm_buf_printf(o, "<text x=\"%d\" y=\"50\">0%% to 100%%</text>\n</g>\n", HM_MARGIN + 330 + 116);
}

static void hm_render_head(hm_buf_t *o, const hm_picture_t *pic, double w, double h) {
  char n[16], per[16];
  const hm_column_t *c0 = &pic->cols[0];
  hm_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
                w, h, w, h);
  hm_buf_printf(o, "<style>.hm-name{font-weight:bold;font-size:13px}.hm-addr,.hm-gap,.hm-cls"
                   "{text-anchor:end;font-size:9px}.hm-gap{fill:#555}.hm-cls{font-size:7px}"
                   ".hm-t{text-anchor:middle;font-size:9px}.hm-frame{fill:none;stroke:#555}"
                   ".hm-tick,.hm-range{stroke:#555}polyline{fill:none;stroke-width:1.5}</style>\n");
  hm_buf_printf(o, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
                   "<text x=\"%d\" y=\"20\" class=\"hm-name\">vedalloc heap map: ", HM_MARGIN);
  hm_xml_text(o, pic->ops->source);
  hm_buf_printf(o, "</text>\n<text x=\"%d\" y=\"38\">%s ops replayed on each allocator, "
                   "sampled in %zu bins of %s ops; time runs right, addresses down "
                   "(used ranges end to end, gaps squeezed).</text>\n",
                HM_MARGIN, hm_count(n, sizeof n, (double)pic->ops->nops), c0->nbins,
                hm_count(per, sizeof per, (double)pic->ops->nops / (double)c0->nbins));
}

void hm_render(hm_buf_t *o, const hm_picture_t *pic) {
  double occ = 0;
  for (size_t i = 0; i < pic->ncols; i++)
    if (hm_occ_height(&pic->cols[i]) > occ) occ = hm_occ_height(&pic->cols[i]);
  double body = HM_TITLE_H + HM_MAP_H + HM_CHART_H + HM_FRAG_H + 3 * HM_AXIS_H + occ + 16;
  double w = 2 * HM_MARGIN + (double)pic->ncols * HM_COL_W;
  double h = HM_HEAD_H + body + HM_LEGEND_H;
  if (w < 800) w = 800;
  if (pic->html)
    hm_buf_printf(o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                     "<title>vedalloc heap map</title></head>\n<body style=\"margin:0\">\n");
  hm_render_head(o, pic, w, h);
  for (size_t i = 0; i < pic->ncols; i++)
    hm_render_column(o, &pic->cols[i], HM_MARGIN + (double)i * HM_COL_W);
  hm_render_legend(o, HM_HEAD_H + body);
  hm_buf_printf(o, "</svg>\n");
  if (pic->html) hm_buf_printf(o, "</body></html>\n");
}
