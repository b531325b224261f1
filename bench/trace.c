/* vedalloc bench — the trace parser.
 *
 * Two passes over the text: the first counts ops and finds the largest id
 * (so the second can size its arrays once), the second fills the op array
 * and checks liveness with one byte per id. Linear in the file size. Memory
 * comes from mmap, never from malloc, so parsing a trace leaves the heap of
 * the allocator under test (possibly an LD_PRELOADed one) untouched.
 * Non-goals: malloc-lab's weight and heap-size header fields are ignored.
 */
#include "bench/trace.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void *bench_trace_map(size_t bytes) {
  if (bytes == 0) bytes = 1;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* One line, split into its op letter and up to two numbers. */
typedef struct bench_trace_line {
  int letter;      /* 'a', 'f', 'r', 'h' (header number), 0 (comment/blank) */
  int nnums;       /* numbers found after the letter */
  uint64_t num[3]; /* the numbers */
  bool bad;        /* unparsable */
} bench_trace_line_t;

static const char *bench_trace_skip_blank(const char *s, const char *end) {
  while (s < end && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
  return s;
}

/* Reads an unsigned decimal; returns NULL if none or overflow. */
static const char *bench_trace_number(const char *s, const char *end, uint64_t *out) {
  uint64_t v = 0;
  const char *start = s;
  while (s < end && *s >= '0' && *s <= '9') {
    if (v > (UINT64_MAX - 9) / 10) return NULL;
    v = v * 10 + (uint64_t)(*s - '0');
    s++;
  }
  if (s == start) return NULL;
  *out = v;
  return s;
}

static bench_trace_line_t bench_trace_split(const char *s, const char *end) {
  bench_trace_line_t l = {0};
  s = bench_trace_skip_blank(s, end);
  if (s == end || *s == '#') return l;
  if (*s >= '0' && *s <= '9') {
    l.letter = 'h';
  } else {
    l.letter = *s++;
    if (s < end && *s != ' ' && *s != '\t') l.bad = true;
  }
  while (!l.bad) {
    s = bench_trace_skip_blank(s, end);
    if (s == end) break;
    if (l.nnums == 3) { l.bad = true; break; }
    s = bench_trace_number(s, end, &l.num[l.nnums]);
    if (s == NULL) { l.bad = true; break; }
    l.nnums++;
  }
  return l;
}

/* Checks one op line's shape; returns a reason or NULL. */
static const char *bench_trace_shape(const bench_trace_line_t *l) {
  if (l->bad) return "unparsable line";
  switch (l->letter) {
  case 'a':
  case 'r':
    if (l->nnums != 2) return "expected '<op> <id> <size>'";
    if (l->num[1] > BENCH_TRACE_MAX_SIZE) return "size too large";
    break;
  case 'f':
    if (l->nnums != 1) return "expected 'f <id>'";
    break;
  case 'h':
    return l->nnums == 1 ? NULL : "expected one number in the header";
  default:
    return "unknown op (want a, f or r)";
  }
  return l->num[0] >= BENCH_TRACE_MAX_ID ? "id too large" : NULL;
}

typedef struct bench_trace_cursor {
  const char *p, *end;
  size_t lineno;
} bench_trace_cursor_t;

/* Next line of the text; false at the end. */
static bool bench_trace_next(bench_trace_cursor_t *c, bench_trace_line_t *l) {
  if (c->p >= c->end) return false;
  const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
  const char *eol = nl ? nl : c->end;
  *l = bench_trace_split(c->p, eol);
  c->p = nl ? nl + 1 : c->end;
  c->lineno++;
  return true;
}

static bool bench_trace_error(char *err, size_t errlen, size_t lineno, const char *why) {
  snprintf(err, errlen, "line %zu: %s", lineno, why);
  return false;
}

/* Pass 1: shapes, op count, largest id. */
static bool bench_trace_count(const char *text, size_t len, size_t *nops,
                              size_t *nids, char *err, size_t errlen) {
  bench_trace_cursor_t c = {text, text + len, 0};
  bench_trace_line_t l;
  bool seen_op = false;
  *nops = 0;
  *nids = 0;
  while (bench_trace_next(&c, &l)) {
    if (l.letter == 0) continue;
    const char *why = bench_trace_shape(&l);
    if (why) return bench_trace_error(err, errlen, c.lineno, why);
    if (l.letter == 'h') {
      if (seen_op) return bench_trace_error(err, errlen, c.lineno, "header number after the first op");
      continue;
    }
    seen_op = true;
    (*nops)++;
    if (l.num[0] + 1 > *nids) *nids = l.num[0] + 1;
  }
  return true;
}

/* Pass 2: fill ops, check that each op names a live (f, r) or dead (a) id. */
static bool bench_trace_fill(const char *text, size_t len, bench_trace_t *t,
                             uint8_t *live, char *err, size_t errlen) {
  bench_trace_cursor_t c = {text, text + len, 0};
  bench_trace_line_t l;
  size_t i = 0, nlive = 0;
  while (bench_trace_next(&c, &l)) {
    if (l.letter == 0 || l.letter == 'h') continue;
    uint32_t id = (uint32_t)l.num[0];
    if (l.letter == 'a' && live[id]) return bench_trace_error(err, errlen, c.lineno, "a on a live id");
    if (l.letter != 'a' && !live[id]) return bench_trace_error(err, errlen, c.lineno, "f or r on an id that is not live");
    if (l.letter == 'a') { live[id] = 1; nlive++; }
    if (l.letter == 'f') { live[id] = 0; nlive--; }
    t->ops[i].kind = (uint32_t)l.letter;
    t->ops[i].id = id;
    t->ops[i].size = l.letter == 'f' ? 0 : l.num[1];
    i++;
  }
  t->live_at_end = nlive;
  return true;
}

bool bench_trace_parse(const char *text, size_t len, bench_trace_t *t,
                       char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  size_t nops, nids;
  if (!bench_trace_count(text, len, &nops, &nids, err, errlen)) return false;
  if (nops == 0) return bench_trace_error(err, errlen, 0, "no ops in trace");
  t->ops = bench_trace_map(nops * sizeof *t->ops);
  uint8_t *live = bench_trace_map(nids);
  if (!t->ops || !live) return bench_trace_error(err, errlen, 0, "out of memory");
  t->nops = nops;
  t->nids = nids;
  bool ok = bench_trace_fill(text, len, t, live, err, errlen);
  munmap(live, nids ? nids : 1);
  if (!ok) bench_trace_free(t);
  return ok;
}

bool bench_trace_load(const char *path, bench_trace_t *t, char *err,
                      size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return bench_trace_error(err, errlen, 0, "cannot open trace file");
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size == 0) {
    close(fd);
    return bench_trace_error(err, errlen, 0, "empty or unreadable trace file");
  }
  size_t len = (size_t)st.st_size;
  char *text = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (text == MAP_FAILED) return bench_trace_error(err, errlen, 0, "cannot map trace file");
  bool ok = bench_trace_parse(text, len, t, err, errlen);
  munmap(text, len);
  return ok;
}

void bench_trace_free(bench_trace_t *t) {
  if (t->ops) munmap(t->ops, t->nops * sizeof *t->ops);
  memset(t, 0, sizeof *t);
}
