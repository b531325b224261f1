/* vedalloc — the security suite's programs: `misuse CASE` does one misuse
 * of the standard allocator API (the one LD_PRELOAD puts in place) and
 * says what came of it, in the style of hardened_malloc's test/ programs.
 *
 * Outcomes, as security_test.sh reads them:
 *   the allocator reports: its message on stderr, then SIGABRT;
 *   "fault in program": the misuse itself touched memory that faults
 *     (a guard page, an unmapped block): detected by the hardware;
 *   "fault in allocator": a SIGSEGV/SIGBUS whose PC lies in the allocator's
 *     library: the allocator followed damaged metadata. Never acceptable;
 *   "detected: ...": a property case (uninitialised read, reuse) held;
 *   "not detected": the misuse went through, and the program ended.
 *
 * Every case is a few lines; SMALL, MEDIUM and LARGE are sizes in the
 * classes of the allocators compared (tcache/slab, page-sized, mmap'd).
 */
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define SMALL 24
#define MEDIUM 4000
#define LARGE (256 << 10)

/* Keep the compiler from reasoning about the misuse away. */
static void *volatile sink;
static void *opaque(void *p) {
  sink = p;
  return sink;
}
static void *xmalloc(size_t n) { return opaque(malloc(n)); }

/* Bytes written through a volatile pointer: the compiler may not drop or
 * fold a write past an object it can see the size of. */
static void poke(void *at, size_t n, int byte) {
  volatile uint8_t *p = at;
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)byte;
}
static uint8_t peek(const void *at) { return *(const volatile uint8_t *)at; }

/* A property case's verdict (main says "not detected" when none was said). */
static int said;
static void say(const char *what) {
  puts(what);
  said = 1;
}

/* ---- overflows and underflows: write, then free the block ------------- */
static void overflow(size_t size, size_t by) {
  uint8_t *p = xmalloc(size), *q = xmalloc(size);
  poke(p + malloc_usable_size(p), by, 0x41); /* past the usable end */
  free(p);
  free(q);
}
static void underflow(size_t size, size_t by) {
  uint8_t *q = xmalloc(size), *p = xmalloc(size);
  poke(p - by, by, 0x41);
  free(p);
  free(q);
}

/* ---- double frees ----------------------------------------------------- */
static void df_immediate(size_t size) {
  void *p = xmalloc(size);
  free(p);
  free(p);
}
static void df_delayed(void) {
  void *p = xmalloc(SMALL);
  free(p);
  for (int i = 0; i < 100; i++) free(xmalloc(SMALL * (1 + i % 7)));
  free(p);
}
static void df_interleaved(void) {
  void *a = xmalloc(SMALL), *b = xmalloc(SMALL);
  free(a);
  free(b);
  free(a);
}
static void df_after_reuse(void) { /* a's slot is b's now: free(a) frees b */
  void *a = xmalloc(SMALL);
  free(a);
  void *b = xmalloc(SMALL);
  free(a);
  free(b);
}
static void df_realloc(void) {
  void *p = xmalloc(SMALL);
  free(p);
  sink = realloc(p, 100);
}

/* ---- invalid frees ---------------------------------------------------- */
static char global_buf[64];
static void inv_stack(void) {
  char buf[64];
  free(opaque(buf + 16));
}
static void inv_global(void) { free(opaque(global_buf + 16)); }
static void inv_interior(size_t size) {
  char *p = xmalloc(size);
  free(p + 16);
}
static void inv_unaligned(void) {
  char *p = xmalloc(SMALL);
  free(p + 1);
}
static void inv_far(void) { free(opaque((void *)(uintptr_t)0x10000000000ull)); }
static void inv_mmap(void) {
  char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  free(opaque(m + 64));
}
static void inv_after_munmap(void) {
  char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(m, 1 << 16);
  free(opaque(m + 64));
}
static void inv_realloc_interior(void) {
  char *p = xmalloc(MEDIUM);
  sink = realloc(p + 64, 10);
}

/* ---- use after free ----------------------------------------------------- */
static void uaf_read(size_t size) {
  uint8_t *p = xmalloc(size);
  poke(p, size, 0x5A);
  free(p);
  say(peek(p + size / 2) == 0x5A ? "not detected: freed bytes still readable"
                                  : "detected: freed bytes changed");
}
static void uaf_write(size_t size) { /* caught when the block is handed out again */
  uint8_t *p = xmalloc(size);
  free(p);
  poke(p + size / 2, 8, 0x5A);
  for (int i = 0; i < 64; i++) sink = malloc(size);
}
static void uaf_write_reuse(void) {
  uint8_t *p = xmalloc(SMALL);
  free(p);
  poke(p, SMALL, 0x5A);
  uint8_t *q = xmalloc(SMALL);
  free(q);
}

/* ---- zero-size blocks, uninitialised reads, reuse ---------------------- */
static void zero_read(void) {
  uint8_t *p = xmalloc(0);
  sink = (void *)(uintptr_t)peek(p);
}
static void zero_write(void) {
  uint8_t *p = xmalloc(0);
  poke(p, 8, 0x41);
  free(p);
}
static void uninit_read(size_t size) {
  uint8_t *p = xmalloc(size);
  poke(p, size, 0x5A);
  free(p);
  uint8_t *q = xmalloc(size);
  size_t old = 0;
  for (size_t i = 0; i < size; i++) old += q[i] == 0x5A;
  say(old ? "not detected: a freed block's bytes are read" : "detected: no old data");
}
static void reuse_immediate(size_t size) {
  void *p = xmalloc(size);
  free(p);
  void *q = xmalloc(size);
  say(p == q ? "not detected: the freed block came straight back"
             : "detected: the freed block was not reused at once");
}

/* ---- the table -------------------------------------------------------- */
typedef struct misuse_case {
  const char *name;
  void (*run)(size_t, size_t);
  size_t a, b;
} misuse_case_t;

#define ARGS0(f) static void f##_0(size_t a, size_t b) { (void)a, (void)b, f(); }
#define ARGS1(f) static void f##_1(size_t a, size_t b) { (void)b, f(a); }
#define ARGS2(f) static void f##_2(size_t a, size_t b) { f(a, b); }
ARGS2(overflow) ARGS2(underflow) ARGS1(df_immediate) ARGS0(df_delayed) ARGS0(df_interleaved)
ARGS0(df_after_reuse) ARGS0(df_realloc) ARGS0(inv_stack) ARGS0(inv_global) ARGS1(inv_interior)
ARGS0(inv_unaligned) ARGS0(inv_far) ARGS0(inv_mmap) ARGS0(inv_after_munmap)
ARGS0(inv_realloc_interior) ARGS1(uaf_read) ARGS1(uaf_write) ARGS0(uaf_write_reuse)
ARGS0(zero_read) ARGS0(zero_write) ARGS1(uninit_read) ARGS1(reuse_immediate)

static const misuse_case_t cases[] = {
    {"overflow_1_small", overflow_2, SMALL, 1},
    {"overflow_8_small", overflow_2, SMALL, 8},
    {"overflow_32_small", overflow_2, SMALL, 32},
    {"overflow_1_medium", overflow_2, MEDIUM, 1},
    {"overflow_8_medium", overflow_2, MEDIUM, 8},
    {"overflow_32_medium", overflow_2, MEDIUM, 32},
    {"overflow_1_large", overflow_2, LARGE, 1},
    {"overflow_8_large", overflow_2, LARGE, 8},
    {"overflow_32_large", overflow_2, LARGE, 32},
    {"overflow_1m_small", overflow_2, SMALL, 1 << 20},
    {"underflow_1_small", underflow_2, SMALL, 1},
    {"underflow_8_small", underflow_2, SMALL, 8},
    {"underflow_32_small", underflow_2, SMALL, 32},
    {"underflow_1_medium", underflow_2, MEDIUM, 1},
    {"underflow_8_medium", underflow_2, MEDIUM, 8},
    {"underflow_32_medium", underflow_2, MEDIUM, 32},
    {"underflow_1_large", underflow_2, LARGE, 1},
    {"underflow_8_large", underflow_2, LARGE, 8},
    {"underflow_32_large", underflow_2, LARGE, 32},
    {"double_free_small", df_immediate_1, SMALL, 0},
    {"double_free_medium", df_immediate_1, MEDIUM, 0},
    {"double_free_large", df_immediate_1, LARGE, 0},
    {"double_free_delayed", df_delayed_0, 0, 0},
    {"double_free_interleaved", df_interleaved_0, 0, 0},
    {"double_free_after_reuse", df_after_reuse_0, 0, 0},
    {"double_free_realloc", df_realloc_0, 0, 0},
    {"invalid_free_stack", inv_stack_0, 0, 0},
    {"invalid_free_global", inv_global_0, 0, 0},
    {"invalid_free_interior_small", inv_interior_1, SMALL, 0},
    {"invalid_free_interior_large", inv_interior_1, LARGE, 0},
    {"invalid_free_unaligned", inv_unaligned_0, 0, 0},
    {"invalid_free_far", inv_far_0, 0, 0},
    {"invalid_free_mmap", inv_mmap_0, 0, 0},
    {"invalid_free_after_munmap", inv_after_munmap_0, 0, 0},
    {"invalid_realloc_interior", inv_realloc_interior_0, 0, 0},
    {"uaf_read_small", uaf_read_1, SMALL, 0},
    {"uaf_read_large", uaf_read_1, LARGE, 0},
    {"uaf_write_small", uaf_write_1, SMALL, 0},
    {"uaf_write_medium", uaf_write_1, MEDIUM, 0},
    {"uaf_write_reuse", uaf_write_reuse_0, 0, 0},
    {"zero_size_read", zero_read_0, 0, 0},
    {"zero_size_write", zero_write_0, 0, 0},
    {"uninit_read_small", uninit_read_1, SMALL, 0},
    {"uninit_read_medium", uninit_read_1, MEDIUM, 0},
    {"reuse_immediate_small", reuse_immediate_1, SMALL, 0},
    {"reuse_immediate_medium", reuse_immediate_1, MEDIUM, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* A fault: whose code was running? The allocator's library, or not. */
static void on_fault(int sig, siginfo_t *si, void *uc_) {
  ucontext_t *uc = uc_;
  void *pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
  Dl_info di;
  const char *lib = dladdr(pc, &di) && di.dli_fname ? di.dli_fname : "?";
  const char *base = strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib;
  bool in_alloc = strncmp(base, "libvedalloc", 11) == 0 || strncmp(base, "libjemalloc", 11) == 0 ||
                  strncmp(base, "libmimalloc", 11) == 0 || strncmp(base, "libtcmalloc", 11) == 0 ||
                  strncmp(base, "libc.so", 7) == 0; /* glibc's malloc */
  const char *what = in_alloc ? "fault in allocator\n" : "fault in program\n";
  (void)!write(1, what, strlen(what));
  (void)sig, (void)si;
  _exit(3);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < NCASES; i++) puts(cases[i].name);
    return 0;
  }
  for (size_t i = 0; argc == 2 && i < NCASES; i++) {
    if (strcmp(argv[1], cases[i].name) != 0) continue;
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    cases[i].run(cases[i].a, cases[i].b);
    if (!said) puts("not detected");
    return 0;
  }
  fprintf(stderr, "usage: misuse CASE | --list (unknown case %s)\n", argc > 1 ? argv[1] : "");
  return 2;
}
