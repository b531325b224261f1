/* vedalloc V2 — the memory source (os.h): the only file that maps or
 * unmaps memory.
 *
 * The OS. Every mapping V2 asks for is a whole number of 64 KiB chunks
 * aligned to at least a chunk, so the page map can own chunks outright.
 * Linux places anonymous mappings next to each other, so after the first
 * aligned one most later requests come back aligned at the first try;
 * otherwise we map `align` more and give back the misaligned head and the
 * tail.
 *
 * A region. Chunks of the caller's memory in a bitmap: memory asked to be
 * zero (records, map leaves) first fit from the top down, the rest (pages,
 * large blocks) first fit from the bottom up (the lowest chunk that may be
 * free is remembered). A second bitmap marks the chunks that may be dirty:
 * chunks given back as zero are clean, and are not cleared again. The two
 * ends keep zero and dirty memory apart, and placement never looks at the
 * dirty bits, so a program gets the same addresses on a reused region as
 * on a fresh one. The state is the region's first chunk, and outlives the
 * heaps on it (os.h).
 * Complexity: O(chunks) per map in the worst case (a word at a time over
 * chunks in use), O(size / chunk) per unmap.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "alloc/slab/os.h"
#include "alloc/slab/types.h"

#define SL_REGION_MAX_CHUNKS 65536u /* 4 GiB of region */
#define SL_REGION_WORDS (SL_REGION_MAX_CHUNKS / 64)
#define SL_REGION_MAGIC 0x5652454732ull /* "VREG2" */

struct sl_source {
  uint64_t magic;                    /* SL_REGION_MAGIC */
  uint8_t *base;                     /* chunk 0 (this state) */
  size_t chunks;                     /* in the region, this one included */
  size_t hint;                       /* no chunk below it is free */
  size_t handed;                     /* chunks handed out, this one included */
  uint64_t used[SL_REGION_WORDS];    /* bit c: chunk c is handed out */
  uint64_t dirty[SL_REGION_WORDS];   /* bit c: chunk c may hold non-zero bytes */
};
_Static_assert(sizeof(sl_source_t) <= SL_CHUNK, "a region's state fits its first chunk");

/* Bytes mapped by every V2 object in the process (sl_mapped_bytes). */
static atomic_size_t sl_os_mapped;

size_t sl_mapped_bytes(void) {
  return atomic_load_explicit(&sl_os_mapped, memory_order_relaxed);
}

/* ---------------------------------------------------------------------------
 * The OS
 * ------------------------------------------------------------------------- */
static void *sl_os_mmap(void *hint, size_t size) {
  void *p = mmap(hint, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Where the next aligned mapping is asked for: just below the last one
 * (the kernel places mappings top-down), so that it usually comes aligned
 * in one call instead of three (map more, unmap both ends). A hint the
 * kernel cannot honour costs nothing: the mapping lands elsewhere. */
static _Atomic uintptr_t sl_os_hint;

static void *sl_os_mmap_aligned(size_t size, size_t align) {
  VA_ASSERT(VA_IS_POW2(align));
  uintptr_t last = atomic_load_explicit(&sl_os_hint, memory_order_relaxed);
  void *hint = last > size ? (void *)((last - size) & ~(uintptr_t)(align - 1)) : NULL;
  uint8_t *p = sl_os_mmap(hint, size);
  if (p == NULL) return NULL;
  if (((uintptr_t)p & (align - 1)) != 0) { /* align <= 4096: always aligned */
    munmap(p, size);
    size_t over;
    if (__builtin_add_overflow(size, align, &over)) return NULL;
    uint8_t *q = sl_os_mmap(NULL, over);
    if (q == NULL) return NULL;
    p = (uint8_t *)VA_ALIGN_UP((uintptr_t)q, align);
    if (p > q) munmap(q, (size_t)(p - q));
    size_t tail = (size_t)((q + over) - (p + size));
    if (tail) munmap(p + size, tail);
  }
  atomic_store_explicit(&sl_os_hint, (uintptr_t)p, memory_order_relaxed);
  return p;
}

/* ---------------------------------------------------------------------------
 * A region
 * ------------------------------------------------------------------------- */
static bool sl_bit(const uint64_t *w, size_t c) { return (w[c / 64] >> (c % 64)) & 1; }

static void sl_bits_mark(uint64_t *w, size_t c, size_t n, bool on) {
  for (size_t i = c; i < c + n; i++)
    if (on) w[i / 64] |= (uint64_t)1 << (i % 64);
    else w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* Chunks a mapping of `size` bytes takes, and the chunk p starts. */
static size_t sl_region_chunks(size_t size) { return (size + SL_CHUNK - 1) / SL_CHUNK; }

static size_t sl_region_chunk_of(const sl_source_t *s, const void *p) {
  return (size_t)((const uint8_t *)p - s->base) / SL_CHUNK;
}

/* Are chunks [c, c + n) all free (and inside the region)? */
static bool sl_region_free_run(const sl_source_t *s, size_t c, size_t n) {
  if (c + n > s->chunks) return false;
  for (size_t i = c; i < c + n; i++)
    if (sl_bit(s->used, i)) return false;
  return true;
}

/* Chunk c's address is a multiple of step chunks: (c + phase) % step == 0. */
static size_t sl_region_phase(const sl_source_t *s, size_t step) {
  return (size_t)((uintptr_t)s->base / SL_CHUNK) % step;
}

/* The lowest free run of n chunks at or above the hint whose address is a
 * multiple of step chunks, or SIZE_MAX: one pass up, a word at a time over
 * words all in use. Out of coverage tracing, like a checker: it is the
 * harness's plumbing, its loop counters nothing for libFuzzer to learn. */
VA_NO_COVERAGE static size_t sl_region_find_up(const sl_source_t *s, size_t n, size_t step) {
  size_t phase = sl_region_phase(s, step), start = SIZE_MAX; /* of the free run ending at i */
  for (size_t i = s->hint; i < s->chunks; i++) {
    uint64_t free_bits = ~s->used[i / 64] >> (i % 64);
    if (free_bits == 0) { /* the rest of this word is in use */
      start = SIZE_MAX;
      i |= 63;
      continue;
    }
    if (!(free_bits & 1)) {
      start = SIZE_MAX;
      continue;
    }
    if (start == SIZE_MAX) start = i;
    size_t first = start + (step - (start + phase) % step) % step; /* aligned, in the run */
    if (first + n <= i + 1) return first;
  }
  return SIZE_MAX;
}

/* The highest such run, or SIZE_MAX: one pass down from the top. */
VA_NO_COVERAGE static size_t sl_region_find_down(const sl_source_t *s, size_t n, size_t step) {
  size_t phase = sl_region_phase(s, step), end = SIZE_MAX; /* of the free run starting at i */
  for (size_t i = s->chunks; i-- > s->hint;) {
    if (s->used[i / 64] == ~(uint64_t)0) { /* the whole word is in use */
      end = SIZE_MAX;
      i &= ~(size_t)63;
      continue;
    }
    if (sl_bit(s->used, i)) {
      end = SIZE_MAX;
      continue;
    }
    if (end == SIZE_MAX) end = i;
    if (end + 1 - i < n) continue;
    size_t last = end + 1 - n; /* the highest start; aligned down, in the run */
    size_t c = last - (last + phase) % step;
    if (c >= i && c <= last) return c;
  }
  return SIZE_MAX;
}

sl_source_t *sl_source_open(void *region, size_t size, bool zero) {
  uint8_t *base = (uint8_t *)VA_ALIGN_UP((uintptr_t)region, SL_CHUNK);
  size_t skip = (size_t)(base - (uint8_t *)region);
  size_t chunks = size > skip ? (size - skip) / SL_CHUNK : 0;
  if (chunks < 16 || chunks > SL_REGION_MAX_CHUNKS) {
    errno = EINVAL;
    return NULL;
  }
  sl_source_t *s = (sl_source_t *)base;
  /* A region V2 had before, all given back: its record of clean chunks
   * still holds (os.h), and every chunk was unpoisoned as it came back. */
  if (s->magic == SL_REGION_MAGIC && s->base == base && s->chunks == chunks &&
      s->handed == 1) {
    s->hint = 1;
    return s;
  }
  /* Someone else's region may carry poison; a fresh mapping carries none
   * (and unpoisoning gigabytes of it costs a shadow write per 8 bytes). */
  if (!zero) VA_UNPOISON(base, chunks * SL_CHUNK);
  memset(s, 0, sizeof *s);
  s->magic = SL_REGION_MAGIC;
  s->base = base;
  s->chunks = chunks;
  s->hint = 1;
  s->handed = 1;
  sl_bits_mark(s->used, 0, 1, true);
  if (!zero) sl_bits_mark(s->dirty, 0, chunks, true); /* the caller's memory: unknown */
  return s;
}

/* Where a run goes depends on the chunks in use only, never on which are
 * clean, so the same program gets the same addresses whatever ran on the
 * region before it (fuzz/region_test). Memory that must be zero (records,
 * map leaves: given back zero) comes from the top down, the rest (pages,
 * large blocks: given back dirty) from the bottom up, so the two meet only
 * when the region is nearly full, and a 512 KiB map leaf is not cleared
 * for the few entries it will hold. */
static void *sl_region_map(sl_source_t *s, size_t size, size_t align, bool *zeroed) {
  if (size > (s->chunks - s->handed) * SL_CHUNK) return NULL; /* more than is free */
  size_t n = sl_region_chunks(size);
  size_t step = align > SL_CHUNK ? align / SL_CHUNK : 1;
  size_t c = zeroed ? sl_region_find_up(s, n, step) : sl_region_find_down(s, n, step);
  if (c == SIZE_MAX) return NULL;
  bool clean = true;
  for (size_t i = c; i < c + n; i++) clean &= !sl_bit(s->dirty, i);
  sl_bits_mark(s->used, c, n, true);
  s->handed += n;
  if (c == s->hint) s->hint = c + n;
  uint8_t *p = s->base + c * SL_CHUNK;
  if (zeroed) *zeroed = clean;
  else if (!clean) memset(p, 0, n * SL_CHUNK);
  return p;
}

static void sl_region_unmap(sl_source_t *s, void *p, size_t size, bool zero) {
  size_t c = sl_region_chunk_of(s, p), n = sl_region_chunks(size);
  VA_ASSERT(c >= 1 && c + n <= s->chunks);
  if (!zero) VA_UNPOISON(p, n * SL_CHUNK); /* zero memory is never poisoned */
  sl_bits_mark(s->used, c, n, false);
  s->handed -= n;
  sl_bits_mark(s->dirty, c, n, !zero);
  if (c < s->hint) s->hint = c;
}

bool sl_source_from(const va_options_t *o, sl_source_t **src) {
  *src = NULL;
  if (o->source == VA_SOURCE_REGION) {
    *src = sl_source_open(o->region, o->region_size, o->region_zero);
    return *src != NULL; /* EINVAL: too small, or too large */
  }
  if (o->source == VA_SOURCE_DEFAULT || o->source == VA_SOURCE_MMAP) return true;
  errno = EINVAL; /* V2 maps its own memory, or carves a caller's region */
  return false;
}

/* ---------------------------------------------------------------------------
 * The source's calls (os.h)
 * ------------------------------------------------------------------------- */
void *sl_os_map(sl_source_t *src, size_t size, size_t align, bool *zeroed) {
  void *p;
  if (src) {
    p = sl_region_map(src, size, align, zeroed);
  } else {
    if (zeroed) *zeroed = true;
    p = sl_os_mmap_aligned(size, align);
  }
  if (p) atomic_fetch_add_explicit(&sl_os_mapped, size, memory_order_relaxed);
  return p;
}

static void sl_os_give_back(sl_source_t *src, void *p, size_t size, bool zero) {
  /* ASan keeps shadow state by address: clear ours before the range can be
   * handed to someone else (by the kernel, or by the region). */
  atomic_fetch_sub_explicit(&sl_os_mapped, size, memory_order_relaxed);
  if (src) {
    sl_region_unmap(src, p, size, zero);
    return;
  }
  if (!zero) VA_UNPOISON(p, size); /* zero memory is never poisoned */
  munmap(p, size);
}

void sl_os_unmap(sl_source_t *src, void *p, size_t size) {
  sl_os_give_back(src, p, size, false);
}

void sl_os_unmap_zero(sl_source_t *src, void *p, size_t size) {
  sl_os_give_back(src, p, size, true);
}

bool sl_os_grow(sl_source_t *src, void *p, size_t old_size, size_t new_size) {
  if (src) {
    size_t c = sl_region_chunk_of(src, p);
    size_t old = sl_region_chunks(old_size), n = sl_region_chunks(new_size);
    if (!sl_region_free_run(src, c + old, n - old)) return false;
    sl_bits_mark(src->used, c + old, n - old, true); /* dirty is fine: no promise */
    src->handed += n - old;
  } else if (mremap(p, old_size, new_size, 0) == MAP_FAILED) {
    return false;
  }
  atomic_fetch_add_explicit(&sl_os_mapped, new_size - old_size, memory_order_relaxed);
  return true;
}

void *sl_os_move(sl_source_t *src, void *p, size_t old_size, size_t new_size) {
  void *to;
  if (src) { /* a region copies: the same result, so the harnesses run it */
    to = sl_region_map(src, new_size, SL_CHUNK, NULL); /* cleared: the tail reads zero */
    if (to == NULL) return NULL;
    VA_UNPOISON(p, old_size); /* the caller's poison: the copy reads it */
    memcpy(to, p, old_size);
    sl_region_unmap(src, p, old_size, false);
  } else {
    to = sl_os_mmap_aligned(new_size, SL_CHUNK); /* the aligned target */
    if (to == NULL) return NULL;
    if (mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
      munmap(to, new_size);
      return NULL;
    }
    VA_UNPOISON(p, old_size); /* unmapped now: no stale shadow for its next user */
  }
  atomic_fetch_add_explicit(&sl_os_mapped, new_size - old_size, memory_order_relaxed);
  return to;
}

/* MADV_DONTNEED (default) frees the pages at once and they read back zero;
 * -DSL_DISCARD_LAZY=1 builds MADV_FREE instead (the kernel takes them only
 * under pressure, they count as resident until then, and their contents
 * are unknown), for the measurement recorded in segment.c. */
#ifndef SL_DISCARD_LAZY
#define SL_DISCARD_LAZY 0
#endif

bool sl_os_discard(sl_source_t *src, void *p, size_t size) {
  if (src) return false; /* a region's pages are the caller's: none to give back */
  if (SL_DISCARD_LAZY) {
    madvise(p, size, MADV_FREE); /* advice: a failure loses nothing */
    return false;
  }
  return madvise(p, size, MADV_DONTNEED) == 0;
}

uint64_t sl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
