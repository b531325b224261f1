/* vedalloc heapmap — a palette PNG, base64, for the map's raster.
 *
 * Why a raster: a map of 600 bins x 400 rows drawn as SVG rectangles is
 * ~10^5 elements on a churning heap; as an 8-bit palette PNG inside the SVG
 * (a data: URI, so the file stays self-contained) it is a few kilobytes.
 * Layout: signature, IHDR, PLTE, one IDAT (zlib of rows, each led by filter
 * byte 0), IEND; each chunk is length, type, data, CRC-32 of type+data.
 */
#include <string.h>
#include <zlib.h>

#include "tools/heapmap/heapmap.h"

static void hm_png_u32(hm_buf_t *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  hm_buf_push(b, x, 4);
}

static void hm_png_chunk(hm_buf_t *b, const char type[4], const void *data, size_t n) {
  hm_png_u32(b, (uint32_t)n);
  size_t at = b->len;
  hm_buf_push(b, type, 4);
  if (n) hm_buf_push(b, data, n);
  hm_png_u32(b, (uint32_t)crc32(0, (const Bytef *)b->p + at, (uInt)(n + 4)));
}

static void hm_base64(hm_buf_t *out, const uint8_t *s, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  hm_buf_reserve(out, (n + 2) / 3 * 4);
  char *d = out->p + out->len;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16;
    if (i + 1 < n) v |= (uint32_t)s[i + 1] << 8;
    if (i + 2 < n) v |= s[i + 2];
    *d++ = tab[v >> 18 & 63];
    *d++ = tab[v >> 12 & 63];
    *d++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
    *d++ = i + 2 < n ? tab[v & 63] : '=';
  }
  out->len = (size_t)(d - out->p);
}

void hm_png_base64(hm_buf_t *out, const uint8_t *px, uint32_t w, uint32_t h,
                   const uint8_t *rgb, size_t ncolours) {
  hm_buf_t raw = {0}, z = {0}, png = {0};
  for (uint32_t y = 0; y < h; y++) {
    hm_buf_push(&raw, "", 1); /* filter: none */
    hm_buf_push(&raw, px + (size_t)y * w, w);
  }
  uLongf zn = compressBound((uLong)raw.len);
  hm_buf_reserve(&z, zn);
  if (compress2((Bytef *)z.p, &zn, (const Bytef *)raw.p, (uLong)raw.len, 9) != Z_OK)
    hm_die("zlib could not compress the map");
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  hm_buf_push(&png, sig, sizeof sig);
  uint8_t ihdr[13] = {0};
  for (int i = 0; i < 4; i++) {
    ihdr[i] = (uint8_t)(w >> (24 - 8 * i));
    ihdr[4 + i] = (uint8_t)(h >> (24 - 8 * i));
  }
  ihdr[8] = 8; /* bits per index */
  ihdr[9] = 3; /* colour type: palette */
  hm_png_chunk(&png, "IHDR", ihdr, sizeof ihdr);
  hm_png_chunk(&png, "PLTE", rgb, 3 * ncolours);
  hm_png_chunk(&png, "IDAT", z.p, zn);
  hm_png_chunk(&png, "IEND", NULL, 0);
  hm_base64(out, (const uint8_t *)png.p, png.len);
  hm_buf_free(&raw);
  hm_buf_free(&z);
  hm_buf_free(&png);
}
