/* vedalloc trace recorder — an LD_PRELOAD library that writes every
 * malloc/free/realloc/calloc (and the aligned variants) of a process as a
 * trace in the text form bench/trace.h reads:
 *     a <id> <size>    f <id>    r <id> <size>
 * one file per process: $VATRACE_OUT with "%p" replaced by the pid
 * (default /tmp/vatrace.%p.trace). Ids are assigned in allocation order and
 * never reused; tools/trace_record.sh trims and renumbers them.
 *
 * Policy and pitfalls:
 *   - No recursion: recording never allocates (a static output buffer,
 *     flushed with write(2); integers formatted by hand; the pointer -> id
 *     table lives in one anonymous mapping). A thread-local flag also sends
 *     any nested call straight to the real function, unrecorded.
 *   - Bootstrap: the real functions come from dlsym(RTLD_NEXT); dlsym may
 *     itself call calloc, which is served from a static arena while the
 *     lookup runs. free() of an arena pointer is ignored.
 *   - Blocks allocated before recording began, or in the arena, are not in
 *     the table: their free is not recorded, and their realloc is recorded
 *     as a fresh allocation.
 *   - fork(): the child truncates nothing of the parent's file; it drops
 *     the parent's unflushed bytes and its table, and opens its own file.
 * Cost: one hash-table probe and a few dozen bytes of output per call, under
 * one spinlock. Non-goals: recording mmap, sbrk, or the contents of blocks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define VT_EXPORT __attribute__((visibility("default")))
#define VT_TABLE_BITS 23 /* pointer -> id slots: 8M, 128 MiB reserved, touched as used */
#define VT_TABLE_SIZE ((size_t)1 << VT_TABLE_BITS)
#define VT_BUF_SIZE (1 << 16)
#define VT_ARENA_SIZE 65536

/* The real allocator, looked up once. */
typedef struct vt_real {
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void *(*memalign)(size_t, size_t);
} vt_real_t;

/* One slot of the open-addressing table: key 0 = empty. */
typedef struct vt_slot {
  uintptr_t ptr;
  uint32_t id;
} vt_slot_t;

static vt_real_t vt_real;
static int vt_state;                        /* 0 new, 1 looking up, 2 ready */
static _Alignas(16) char vt_arena[VT_ARENA_SIZE];  /* dlsym's own allocations */
static size_t vt_arena_used;
static vt_slot_t *vt_table;
static size_t vt_table_count;
static uint32_t vt_next_id;
static char vt_buf[VT_BUF_SIZE];
static size_t vt_buf_used;
static int vt_fd = -1;
static volatile int vt_lock_word;
static __thread int vt_nested;

/* ---------------------------------------------------------------------------
 * Lock, output.
 * ------------------------------------------------------------------------- */
static void vt_lock(void) {
  while (__atomic_exchange_n(&vt_lock_word, 1, __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(&vt_lock_word, __ATOMIC_RELAXED)) __builtin_ia32_pause();
  }
}

static void vt_unlock(void) { __atomic_store_n(&vt_lock_word, 0, __ATOMIC_RELEASE); }

static void vt_open(void) {
  char path[512], pid[24];
  const char *pat = getenv("VATRACE_OUT");
  if (!pat || !*pat) pat = "/tmp/vatrace.%p.trace";
  int n = 0;
  for (pid_t p = getpid(); p > 0 && n < 23; p /= 10) pid[n++] = (char)('0' + p % 10);
  size_t o = 0;
  for (const char *s = pat; *s && o + 24 < sizeof path; s++) {
    if (s[0] == '%' && s[1] == 'p') {
      for (int k = n; k-- > 0;) path[o++] = pid[k];
      s++;
    } else {
      path[o++] = *s;
    }
  }
  path[o] = 0;
  vt_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void vt_flush(void) {
  if (vt_fd < 0) vt_open();
  size_t off = 0;
  while (vt_fd >= 0 && off < vt_buf_used) {
    ssize_t w = write(vt_fd, vt_buf + off, vt_buf_used - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  vt_buf_used = 0;
}

static void vt_put_uint(uint64_t v) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n > 0) vt_buf[vt_buf_used++] = tmp[--n];
}

/* Appends "k id[ size]\n". Caller holds the lock. */
static void vt_emit(char kind, uint32_t id, size_t size, bool with_size) {
  if (vt_buf_used + 64 > VT_BUF_SIZE) vt_flush();
  vt_buf[vt_buf_used++] = kind;
  vt_buf[vt_buf_used++] = ' ';
  vt_put_uint(id);
  if (with_size) {
    vt_buf[vt_buf_used++] = ' ';
    vt_put_uint(size);
  }
  vt_buf[vt_buf_used++] = '\n';
}

/* ---------------------------------------------------------------------------
 * The pointer -> id table: linear probing with backward-shift deletion
 * (no tombstones), so it never clogs however many blocks come and go.
 * ------------------------------------------------------------------------- */
static size_t vt_hash(uintptr_t p) {
  return (size_t)(((uint64_t)p * 0x9E3779B97F4A7C15ull) >> (64 - VT_TABLE_BITS));
}

static bool vt_table_ready(void) {
  if (vt_table) return true;
  void *m = mmap(NULL, VT_TABLE_SIZE * sizeof(vt_slot_t), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return false;
  vt_table = m;
  return true;
}

static void vt_table_put(uintptr_t p, uint32_t id) {
  if (!vt_table_ready() || vt_table_count >= VT_TABLE_SIZE * 3 / 4) return;
  size_t i = vt_hash(p);
  while (vt_table[i].ptr && vt_table[i].ptr != p) i = (i + 1) & (VT_TABLE_SIZE - 1);
  if (!vt_table[i].ptr) vt_table_count++;
  vt_table[i].ptr = p;
  vt_table[i].id = id;
}

/* Removes p; returns its id, or -1 if p was never recorded. */
static int64_t vt_table_take(uintptr_t p) {
  if (!vt_table) return -1;
  size_t mask = VT_TABLE_SIZE - 1, i = vt_hash(p);
  while (vt_table[i].ptr != p) {
    if (!vt_table[i].ptr) return -1;
    i = (i + 1) & mask;
  }
  int64_t id = vt_table[i].id;
  for (size_t j = (i + 1) & mask; vt_table[j].ptr; j = (j + 1) & mask) {
    size_t k = vt_hash(vt_table[j].ptr);
    bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
    if (movable) {
      vt_table[i] = vt_table[j];
      i = j;
    }
  }
  vt_table[i].ptr = 0;
  vt_table_count--;
  return id;
}

/* ---------------------------------------------------------------------------
 * Bootstrap.
 * ------------------------------------------------------------------------- */
static void *vt_arena_alloc(size_t n) {
  size_t need = (n + 15) & ~(size_t)15;
  if (vt_arena_used + need > VT_ARENA_SIZE) return NULL;
  void *p = vt_arena + vt_arena_used;
  vt_arena_used += need;
  return p; /* static storage: already zero, as calloc requires */
}

static bool vt_in_arena(const void *p) {
  return (const char *)p >= vt_arena && (const char *)p < vt_arena + VT_ARENA_SIZE;
}

static void vt_child_after_fork(void) {
  vt_buf_used = 0;
  vt_fd = -1; /* O_CLOEXEC only covers exec; the parent's fd stays open, unused */
  if (vt_table) memset(vt_table, 0, VT_TABLE_SIZE * sizeof(vt_slot_t));
  vt_table_count = 0;
  vt_lock_word = 0;
}

static void vt_at_exit(void) {
  vt_lock();
  vt_flush();
  vt_unlock();
}

static void vt_init(void) {
  if (vt_state != 0) return;
  vt_state = 1;
  vt_real.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  vt_real.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  vt_real.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  vt_real.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  vt_real.posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  vt_real.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  vt_real.memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  vt_state = 2;
  pthread_atfork(NULL, NULL, vt_child_after_fork);
  atexit(vt_at_exit);
}

__attribute__((constructor)) static void vt_constructor(void) { vt_init(); }
__attribute__((destructor)) static void vt_destructor(void) { vt_at_exit(); }

/* ---------------------------------------------------------------------------
 * Recording.
 * ------------------------------------------------------------------------- */
static void vt_record_alloc(void *p, size_t n) {
  if (!p || vt_nested) return;
  vt_lock();
  uint32_t id = vt_next_id++;
  vt_table_put((uintptr_t)p, id);
  vt_emit('a', id, n, true);
  vt_unlock();
}

static void vt_record_free(void *p) {
  if (!p || vt_nested) return;
  vt_lock();
  int64_t id = vt_table_take((uintptr_t)p);
  if (id >= 0) vt_emit('f', (uint32_t)id, 0, false);
  vt_unlock();
}

/* realloc(p, n) returned q (non-NULL). */
static void vt_record_realloc(void *p, void *q, size_t n) {
  if (vt_nested) return;
  vt_lock();
  int64_t id = p ? vt_table_take((uintptr_t)p) : -1;
  if (id < 0) {
    id = vt_next_id++;
    vt_emit('a', (uint32_t)id, n, true);
  } else {
    vt_emit('r', (uint32_t)id, n, true);
  }
  vt_table_put((uintptr_t)q, (uint32_t)id);
  vt_unlock();
}

/* ---------------------------------------------------------------------------
 * The interposed entry points.
 * ------------------------------------------------------------------------- */
VT_EXPORT void *malloc(size_t n) {
  if (vt_state != 2) {
    if (vt_state == 1) return vt_arena_alloc(n);
    vt_init();
  }
  vt_nested++;
  void *p = vt_real.malloc(n);
  vt_nested--;
  vt_record_alloc(p, n);
  return p;
}

VT_EXPORT void *calloc(size_t c, size_t n) {
  if (vt_state != 2) {
    size_t total;
    if (__builtin_mul_overflow(c, n, &total)) return NULL;
    if (vt_state == 1) return vt_arena_alloc(total);
    vt_init();
  }
  vt_nested++;
  void *p = vt_real.calloc(c, n);
  vt_nested--;
  vt_record_alloc(p, c * n);
  return p;
}

VT_EXPORT void free(void *p) {
  if (!p || vt_in_arena(p)) return;
  if (vt_state != 2) vt_init();
  vt_record_free(p);
  vt_nested++;
  vt_real.free(p);
  vt_nested--;
}

VT_EXPORT void *realloc(void *p, size_t n) {
  if (vt_state != 2) vt_init();
  if (p && vt_in_arena(p)) { /* move a bootstrap block to the real heap */
    void *q = malloc(n);
    if (q) memcpy(q, p, n < 64 ? n : 64);
    return q;
  }
  if (p && n == 0) { /* glibc: frees p, returns NULL */
    vt_record_free(p);
    vt_nested++;
    void *q = vt_real.realloc(p, 0);
    vt_nested--;
    return q;
  }
  vt_nested++;
  void *q = vt_real.realloc(p, n);
  vt_nested--;
  if (q) vt_record_realloc(p, q, n);
  return q;
}

VT_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
  if (vt_state != 2) vt_init();
  vt_nested++;
  int rc = vt_real.posix_memalign(out, align, n);
  vt_nested--;
  if (rc == 0) vt_record_alloc(*out, n);
  return rc;
}

VT_EXPORT void *aligned_alloc(size_t align, size_t n) {
  if (vt_state != 2) vt_init();
  vt_nested++;
  void *p = vt_real.aligned_alloc(align, n);
  vt_nested--;
  vt_record_alloc(p, n);
  return p;
}

VT_EXPORT void *memalign(size_t align, size_t n) {
  if (vt_state != 2) vt_init();
  vt_nested++;
  void *p = vt_real.memalign(align, n);
  vt_nested--;
  vt_record_alloc(p, n);
  return p;
}
