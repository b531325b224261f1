/* vedalloc — shadow model pieces: fill patterns and the address index.
 *
 * Patterns are generated in chunks of FZ_CHUNK bytes into a stack buffer and
 * copied or compared with memcpy/memcmp, so filling a MiB costs about as much
 * as a few memcpy calls. The index is a sorted array (VA_SLOTS entries at
 * most); see shadow.h for its invariant. */
#include "fuzz/shadow.h"

#include <string.h>

#define FZ_CHUNK 4096

/* The pattern loops are the harness's hot path, not code under test: keep
 * libFuzzer's comparison tracing and ASan out of them (the copies into and
 * comparisons with the block still go through ASan's memcpy/memcmp checks). */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_HOT __attribute__((no_sanitize("coverage", "address", "undefined")))
#else
#define FZ_HOT
#endif

uint64_t fz_seed(unsigned slot, uint64_t generation) {
  uint64_t x = (slot + 1) * 0x9E3779B97F4A7C15ull ^ generation * 0xC2B2AE3D27D4EB4Full;
  x ^= x >> 33;
  return x * 0xFF51AFD7ED558CCDull;
}

FZ_HOT static uint64_t fz_word(uint64_t seed, uint64_t i) {
  uint64_t x = seed + i * 0x9E3779B97F4A7C15ull;
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}


/* Word w of the pattern is  fz_table[w % FZ_TW] ^ fz_word(seed, w / FZ_TW):
 * a fixed table of random words, keyed once per 4 KiB by the block's seed.
 * Any shift (within or across 4 KiB), swap or stale generation still
 * changes every word, and the inner loop is one XOR (it vectorises), so
 * filling and verifying cost about what memcpy and memcmp cost. */
#define FZ_TW (FZ_CHUNK / 8)
static uint64_t fz_table[FZ_TW];
static bool fz_table_ready;

FZ_HOT static const uint64_t *fz_pattern_table(void) {
  if (!fz_table_ready) {
    for (size_t i = 0; i < FZ_TW; i++) fz_table[i] = fz_word(0x5EEDull, i);
    fz_table_ready = true;
  }
  return fz_table;
}

/* Expected bytes of [off, off + len) (len <= FZ_CHUNK) into out. */
FZ_HOT static void fz_expect(const fz_image_t *img, size_t off, size_t len, uint8_t *out) {
  if (!img) {
    memset(out, 0, len);
    return;
  }
  uint64_t tmp[FZ_TW + 2];
  size_t w0 = off >> 3, w1 = (off + len + 7) >> 3;
  const uint64_t *tbl = fz_pattern_table();
  if (img->spray)
    for (size_t w = w0; w < w1; w++) tmp[w - w0] = img->spray_val;
  else
    for (size_t w = w0; w < w1;) { /* one key per 4 KiB run */
      size_t end = (w / FZ_TW + 1) * FZ_TW < w1 ? (w / FZ_TW + 1) * FZ_TW : w1;
      uint64_t key = fz_word(img->seed, w / FZ_TW);
      for (; w < end; w++) tmp[w - w0] = tbl[w % FZ_TW] ^ key;
    }
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  for (size_t w = 0; w < w1 - w0; w++) tmp[w] = __builtin_bswap64(tmp[w]);
#endif
  memcpy(out, (uint8_t *)tmp + (off & 7), len);
  for (size_t k = 0; k < img->nover; k++) {
    const fz_override_t *o = &img->over[k];
    for (int b = 0; b < 8; b++) {
      size_t at = o->off + b;
      if (at >= off && at < off + len) out[at - off] = (uint8_t)(o->val >> (8 * b));
    }
  }
}

void fz_fill(uint8_t *p, size_t usable, const fz_image_t *img) {
  size_t r[VA_OWNED_RANGES][2], n = va_owned_ranges(usable, r);
  uint8_t buf[FZ_CHUNK];
  for (size_t i = 0; i < n; i++)
    for (size_t off = r[i][0]; off < r[i][1]; off += FZ_CHUNK) {
      size_t len = r[i][1] - off < FZ_CHUNK ? r[i][1] - off : FZ_CHUNK;
      fz_expect(img, off, len, buf);
      memcpy(p + off, buf, len);
    }
}

bool fz_verify(const uint8_t *p, size_t usable, size_t limit,
               const fz_image_t *img, size_t *bad_off, uint8_t *got,
               uint8_t *want) {
  size_t r[VA_OWNED_RANGES][2], n = va_owned_ranges(usable, r);
  uint8_t buf[FZ_CHUNK];
  for (size_t i = 0; i < n; i++) {
    size_t end = r[i][1] < limit ? r[i][1] : limit;
    for (size_t off = r[i][0]; off < end; off += FZ_CHUNK) {
      size_t len = end - off < FZ_CHUNK ? end - off : FZ_CHUNK;
      fz_expect(img, off, len, buf);
      if (memcmp(p + off, buf, len) == 0) continue;
      for (size_t k = 0; k < len; k++)
        if (p[off + k] != buf[k]) {
          *bad_off = off + k, *got = p[off + k], *want = buf[k];
          return false;
        }
    }
  }
  return true;
}

/* First index whose start is > start. */
static size_t fz_index_upper(const fz_index_t *ix, uintptr_t start) {
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->span[mid].start <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

bool fz_index_insert(fz_index_t *ix, uintptr_t start, size_t len,
                     unsigned slot, fz_span_t *hit) {
  uintptr_t end = start + len < start ? UINTPTR_MAX : start + len;
  size_t pos = fz_index_upper(ix, start);
  if (pos > 0 && ix->span[pos - 1].end > start) {
    *hit = ix->span[pos - 1];
    return false;
  }
  if (pos < ix->n && ix->span[pos].start < end) {
    *hit = ix->span[pos];
    return false;
  }
  if (ix->n >= sizeof ix->span / sizeof ix->span[0]) return true; /* cannot happen: <= VA_SLOTS live */
  memmove(&ix->span[pos + 1], &ix->span[pos], (ix->n - pos) * sizeof ix->span[0]);
  ix->span[pos] = (fz_span_t){start, end, slot};
  ix->n++;
  return true;
}

const fz_span_t *fz_index_find(const fz_index_t *ix, uintptr_t start) {
  size_t pos = fz_index_upper(ix, start);
  return pos > 0 && ix->span[pos - 1].start == start ? &ix->span[pos - 1] : NULL;
}

void fz_index_remove(fz_index_t *ix, uintptr_t start) {
  size_t pos = fz_index_upper(ix, start);
  if (pos == 0 || ix->span[pos - 1].start != start) return;
  pos--;
  memmove(&ix->span[pos], &ix->span[pos + 1], (ix->n - pos - 1) * sizeof ix->span[0]);
  ix->n--;
}
