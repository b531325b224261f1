/* vedalloc V2 — the size-class tables (class.h explains them). */
#include "alloc/slab/class.h"

const uint32_t sl_class_sizes[SL_CLASS_COUNT] = {
    8,     16,    32,    48,    64,    80,    96,    112,  128,  /* 16 B steps */
    160,   192,   224,   256,   320,   384,   448,   512,        /* 4 per 2^k */
    640,   768,   896,   1024,  1280,  1536,  1792,  2048,
    2560,  3072,  3584,  4096,  5120,  6144,  7168,  8192,
    10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
};

const uint8_t sl_class_by8[SL_DIRECT] = {
    0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8,
    8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12,
    12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14,
    14, 15, 15, 15, 15, 15, 15, 15, 15, 16, 16, 16, 16, 16, 16, 16,
    16, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17,
    17, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
    19, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20,
};

size_t sl_class_count(void) { return SL_CLASS_COUNT; }
size_t sl_max_small(void) { return SL_MAX_SMALL; }
size_t sl_size_class(size_t n) { return sl_class_of(n); }
size_t sl_class_size(size_t idx) {
  return idx < SL_CLASS_COUNT ? sl_class_sizes[idx] : 0;
}
