/* vedalloc heapmap — pictures of a heap over time.
 *
 * `bazel run //tools:heapmap -- --alloc=v1-firstfit,v2-slab --workload=stress`
 * turns one op sequence (a single-threaded bench workload, recorded, or a
 * trace file) into one SVG (or an HTML page around it) with a column per
 * allocator: an address x time map of live blocks, free holes, pages and
 * segments; footprint, live bytes and external fragmentation over time; and,
 * where the walk reports slab pages, each size class's page occupancy.
 *
 * The pipeline, one file per step, calls going one way:
 *   record.c  workload or trace -> hm_ops_t (the trace op language)
 *   sample.c  hm_ops_t x registry entry -> hm_column_t (replay, walk per bin)
 *   layout.c  hm_column_t -> hm_layout_t (address axis, gaps compressed)
 *   render.c  columns + layouts -> SVG text (png.c: the map's raster)
 *   main.c    flags, progress, output file
 *   buf.c     the growable buffer every step stores into
 *
 * Terms:
 *   op      one call of the sequence: alloc, free or realloc of a slot id.
 *   bin     a run of consecutive ops; the heap is sampled once per bin, at
 *           its end, so 10^6 ops draw as a few hundred columns of pixels.
 *   band    an address interval [lo, hi) of one kind in one bin's sample:
 *           neighbouring regions of a kind merged, so a bin stays small.
 *   range   a used address interval of the layout; ranges are drawn in
 *           address order with the gaps between them squeezed to a mark.
 *
 * The tool's own storage comes from mmap (buf.c), never from malloc, so the
 * process heap a `system` column draws holds the replayed blocks only.
 */
#ifndef VEDALLOC_TOOLS_HEAPMAP_H
#define VEDALLOC_TOOLS_HEAPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/registry.h"
#include "bench/bench.h"
#include "bench/trace.h"

#define HM_DEFAULT_BINS 600  /* time columns of the map: readable at 10^6 ops */
#define HM_MAX_BINS 4000     /* more would only be resampled by the screen */
#define HM_BAND_CAP 2048     /* block bands per bin before neighbours merge */
#define HM_BAND_SLACK 64     /* bytes between regions of a kind still one band
                                (V1's block headers sit between payloads) */
#define HM_MAX_CLS 64        /* size classes tracked (V2 has 61) */
#define HM_MAX_RANGES 32     /* address ranges of a layout before gaps join */
#define HM_MAP_ROWS 400      /* raster rows of the address axis */

/* ---------------------------------------------------------------------------
 * buf.c: a growable byte buffer on mmap. Invariant: len <= cap; p is NULL
 * exactly when cap == 0. Growth failure ends the process (hm_die).
 * ------------------------------------------------------------------------- */
typedef struct hm_buf {
  char *p;    /* cap bytes mapped, len used */
  size_t len; /* bytes used */
  size_t cap; /* bytes mapped */
} hm_buf_t;

void hm_buf_reserve(hm_buf_t *b, size_t more);       /* room for `more` bytes */
void *hm_buf_push(hm_buf_t *b, const void *src, size_t n); /* copy in; NULL src: zeros */
void hm_buf_printf(hm_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hm_buf_free(hm_buf_t *b);
void hm_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---------------------------------------------------------------------------
 * record.c: the op sequence. Invariant (as a parsed trace's): every free
 * and realloc names a live id, every alloc a dead one; every id < nids.
 * ------------------------------------------------------------------------- */
typedef struct hm_ops {
  bench_trace_op_t *ops; /* nops ops, in hm_ops_t.mem */
  size_t nops;
  size_t nids;           /* 1 + the largest id */
  hm_buf_t mem;          /* owns ops */
  char source[160];      /* what was recorded: "workload stress", "trace x" */
} hm_ops_t;

/* Runs a single-threaded workload against a recording shim over a private
 * v2-slab instance (not the process malloc, whose arena would stay grown
 * and hide the `system` column's growth): each malloc, free and realloc
 * becomes an op (calloc and memalign as plain allocs; no workload calls
 * them). Ids are reused lowest-free first, so nids is the peak count of
 * live blocks. */
bool hm_record_workload(const bench_workload_t *w, hm_ops_t *out, char *err, size_t errlen);
/* Loads a trace file (bench/trace.h). */
bool hm_record_trace(const char *path, hm_ops_t *out, char *err, size_t errlen);
/* Keeps the first max ops (0: all). */
void hm_ops_limit(hm_ops_t *o, size_t max);
void hm_ops_free(hm_ops_t *o);

/* ---------------------------------------------------------------------------
 * sample.c: replay and sampling.
 * ------------------------------------------------------------------------- */
typedef enum hm_kind {
  HM_K_NONE = 0, /* nothing the instance holds */
  HM_K_LIVE,     /* live block */
  HM_K_FREE,     /* free block or slot: a hole */
  HM_K_CACHED,   /* a freed large mapping kept for reuse */
  HM_K_PAGE,     /* slab page bytes outside any slot */
  HM_K_SEGMENT,  /* segment bytes outside any page or block */
  HM_K_GAP,      /* layout: a squeezed gap between ranges */
  HM_K_COUNT
} hm_kind_t;

/* Blocks (LIVE, FREE, CACHED) are disjoint; containers (PAGE, SEGMENT)
 * enclose blocks. Within a bin, bands are sorted by (kind, lo), disjoint
 * within a kind, lo < hi. */
typedef struct hm_band {
  uint64_t lo, hi; /* [lo, hi) addresses */
  uint32_t kind;   /* an hm_kind_t */
} hm_band_t;

/* One size class in one bin. live <= slots. */
typedef struct hm_cls {
  uint32_t pages; /* pages of the class held */
  uint32_t slots; /* slots in them */
  uint32_t live;  /* of which live */
} hm_cls_t;

/* The heap after op_end ops. Byte counts are usable bytes. */
typedef struct hm_bin {
  size_t op_end;        /* ops replayed when sampled */
  size_t band_first;    /* index of its first band in hm_column_t.bands */
  size_t nbands;
  size_t footprint;     /* stats.footprint; walk==NULL: process heap growth */
  size_t live_bytes;    /* the replay's sum of usable_size of live blocks */
  size_t walk_live;     /* the walk's sum of LIVE region sizes (= live_bytes
                           for V1 and V2; 0 when there is no walk) */
  size_t free_bytes;    /* stats.free_bytes */
  size_t largest_free;  /* stats.largest_free */
  double ext_frag;      /* 1 - largest_free/free_bytes (0 with nothing
                           free); <0: unknown (no stats) */
} hm_bin_t;

/* One allocator's samples. nbins bins, bins[i].op_end increasing, the last
 * == nops; cls holds nbins * HM_MAX_CLS entries, row-major by bin. */
typedef struct hm_column {
  const va_entry_t *entry;
  hm_buf_t bands;         /* hm_band_t[] of every bin */
  hm_buf_t bins_mem;      /* hm_bin_t[nbins] */
  hm_buf_t cls_mem;       /* hm_cls_t[nbins * HM_MAX_CLS] */
  hm_bin_t *bins;
  hm_cls_t *cls;
  size_t nbins;
  size_t cls_block[HM_MAX_CLS]; /* bytes per slot of each class seen */
  bool walked;            /* the entry has a walk (else: drawn from addresses) */
  bool has_pages;         /* the walk reported slab pages */
  bool has_stats;         /* footprint, free bytes and fragmentation known */
  /* The summary, from the bins. */
  size_t peak_footprint;  /* stats.peak_footprint at the end, or max footprint */
  size_t peak_live;       /* max live_bytes */
  double frag_at_peak;    /* ext_frag of the first bin at peak_live */
  double frag_mean;       /* mean ext_frag over the bins */
} hm_column_t;

typedef void (*hm_progress_fn)(void *ctx, const char *alloc, size_t done, size_t total);

/* Replays ops on a fresh instance of e (V1 on a private mapping, so the
 * process break stays glibc's) and samples it nbins times. false + err on
 * a failed call. progress (may be NULL) is called about every 10%. */
bool hm_sample(const va_entry_t *e, const hm_ops_t *ops, size_t nbins,
               hm_progress_fn progress, void *pctx, hm_column_t *col,
               char *err, size_t errlen);
void hm_column_free(hm_column_t *col);
/* Sorts bands by (kind, lo) and merges neighbours of a kind closer than
 * slack; returns the new count. */
size_t hm_bands_normalize(hm_band_t *b, size_t n, uint64_t slack);
/* Do the block bands of b[0..n) tile [lo, hi) with gaps of at most slack
 * and no overlap? (V1: payloads between headers.) */
bool hm_bands_tile(const hm_band_t *b, size_t n, uint64_t slack);
static inline hm_band_t *hm_bin_bands(const hm_column_t *c, const hm_bin_t *bin) {
  return (hm_band_t *)c->bands.p + bin->band_first;
}

/* ---------------------------------------------------------------------------
 * layout.c: the address axis. y() maps [ranges] onto [0, 1], increasing in
 * address: r[i].y0 < r[i].y1 <= r[i+1].y0, and r[i+1].y0 - r[i].y1 is the
 * squeezed gap between them.
 * ------------------------------------------------------------------------- */
typedef struct hm_range {
  uint64_t lo, hi; /* [lo, hi): used addresses */
  double y0, y1;   /* where it is drawn, 0 = top */
} hm_range_t;

typedef struct hm_layout {
  hm_range_t r[HM_MAX_RANGES];
  size_t n;
} hm_layout_t;

/* From intervals lo[i]..hi[i] (any order, may overlap). */
void hm_layout_build(hm_layout_t *l, const hm_band_t *b, size_t n);
/* The layout of every band a column holds. */
void hm_layout_column(hm_layout_t *l, const hm_column_t *c);
/* Position of address a: inside a range linear, in a gap its mark's middle. */
double hm_layout_y(const hm_layout_t *l, uint64_t a);

/* ---------------------------------------------------------------------------
 * render.c and png.c.
 * ------------------------------------------------------------------------- */
typedef struct hm_picture {
  const hm_column_t *cols;
  size_t ncols;
  const hm_ops_t *ops;
  bool html;  /* a page around the SVG */
} hm_picture_t;

void hm_render(hm_buf_t *out, const hm_picture_t *pic);
/* A palette PNG of w x h pixels (row-major indices into rgb[3 * ncolours]),
 * appended to out as base64. */
void hm_png_base64(hm_buf_t *out, const uint8_t *px, uint32_t w, uint32_t h,
                   const uint8_t *rgb, size_t ncolours);

#endif /* VEDALLOC_TOOLS_HEAPMAP_H */
