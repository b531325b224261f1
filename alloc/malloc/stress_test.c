/* vedalloc drop-in — the op programs of the harness (fuzz/ops.h), run on
 * real threads against the library's own backend (TLS, the pthread key,
 * the process pool): the stress target, for TSan.
 *
 * A program's virtual threads become pthreads: thread t runs the ops that
 * the program gives it, in order; `exit t` ends that pthread (its key
 * destructor detaches the heap, as at any thread exit) and a later op of t
 * runs on a new pthread. Ops on different slots run concurrently; ops on
 * one slot keep the program's order (a slot's ops wait their turn, so a
 * block freed by another thread was handed over with a happens-before).
 * A `check` op is a quiescent point: every thread finishes the ops before
 * it, threads that exited are joined, and then the backend's checker runs
 * (every heap's V2 invariants, the pool's states and remote queues) and the
 * number of heaps is compared with the peak number of threads alive at
 * once (vedalloc.h: "at most the peak number of live threads").
 *
 * Blocks are filled with a pattern of (slot, generation) and verified
 * before every free and realloc (the prefix after a realloc); calloc must
 * be zero; memalign aligned. Misuse ops and writes are left out (misuse
 * aborts here, as in any program), as are requests above 4 MiB.
 * Programs: the seed texts (fuzz/seeds), the v2_dropin corpus, generated ones
 * heavy on threads. Under TSan a subset (VM_T_TSAN_PROGRAMS) runs.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/malloc/vm_backend.h"
#include "alloc/testing/check.h"
#include "fuzz/ops.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VM_T_TSAN 1
#endif
#endif
#ifndef VM_T_TSAN
#define VM_T_TSAN 0
#endif

#define VM_T_MAX_OPS 2048
#define VM_T_MAX_SIZE ((size_t)4 << 20)
#define VM_T_MAX_RUNS (VA_THREADS * 64) /* thread incarnations per program */
#define VM_T_GENERATED (VM_T_TSAN ? 40 : 400)
#define VM_T_TSAN_PROGRAMS 60 /* corpus programs under TSan */

/* ---------------------------------------------------------------------------
 * One program, planned: which incarnation runs each op, each slot's order.
 * ------------------------------------------------------------------------- */
typedef struct vm_t_op {
  va_op_t op;
  unsigned run;      /* incarnation (pthread) that runs it */
  unsigned turn;     /* its place among its slot's ops */
  unsigned phase;    /* check ops before it */
} vm_t_op_t;

typedef struct vm_t_slot {
  unsigned char *p;
  size_t req;
  unsigned gen;
  _Atomic unsigned turn; /* ops of this slot done so far */
} vm_t_slot_t;

typedef struct vm_t_prog {
  vm_t_op_t ops[VM_T_MAX_OPS];
  size_t n;
  unsigned runs;                     /* incarnations */
  unsigned run_first[VM_T_MAX_RUNS]; /* first op of each (n: none) */
  unsigned run_last[VM_T_MAX_RUNS];  /* last op of each */
  unsigned run_prev[VM_T_MAX_RUNS];  /* the incarnation of the same thread
                                        before it (UINT32_MAX: none) */
  unsigned phases;
  size_t phase_ops[VM_T_MAX_OPS + 1]; /* ops per phase */
  vm_t_slot_t slot[VA_SLOTS];
  _Atomic unsigned phase;            /* the phase running */
  atomic_size_t phase_done;          /* its ops done */
  _Atomic bool run_done[VM_T_MAX_RUNS];
  pthread_t tid[VM_T_MAX_RUNS];
} vm_t_prog_t;

static atomic_long vm_t_bad;
static atomic_size_t vm_t_live, vm_t_peak; /* pthreads alive, main included */
static size_t vm_t_programs, vm_t_checks;

#define VM_T_FAIL(...)                                                         \
  do {                                                                         \
    if (atomic_fetch_add(&vm_t_bad, 1) < 10) fprintf(stderr, __VA_ARGS__);     \
  } while (0)

static bool vm_t_wanted(const va_op_t *op) {
  switch (op->kind) {
  case VA_OP_ALLOC:
  case VA_OP_REALLOC:
  case VA_OP_MEMALIGN: return op->size <= VM_T_MAX_SIZE;
  case VA_OP_CALLOC: {
    size_t t;
    return !__builtin_mul_overflow(op->arg, op->size, &t) && t <= VM_T_MAX_SIZE;
  }
  case VA_OP_FREE:
  case VA_OP_CHECK:
  case VA_OP_THREAD:
  case VA_OP_EXIT: return true;
  default: return false; /* writes and misuse */
  }
}

/* Plan ops (already filtered) into incarnations, slot turns and phases. */
static bool vm_t_plan(vm_t_prog_t *g, const va_op_t *ops, size_t n) {
  memset(g, 0, sizeof *g);
  unsigned cur = 0, run_of[VA_THREADS], last_run[VA_THREADS], turns[VA_SLOTS] = {0};
  for (unsigned t = 0; t < VA_THREADS; t++) run_of[t] = last_run[t] = UINT32_MAX;
  for (size_t i = 0; i < n && g->n < VM_T_MAX_OPS; i++) {
    va_op_t op = ops[i];
    va_op_normalize(&op);
    if (!vm_t_wanted(&op)) continue;
    if (op.kind == VA_OP_THREAD) { cur = op.slot; continue; }
    if (op.kind == VA_OP_CHECK) { g->phases++; continue; }
    unsigned t = op.kind == VA_OP_EXIT ? op.slot : cur;
    if (op.kind == VA_OP_EXIT && run_of[t] == UINT32_MAX) continue; /* not running */
    if (run_of[t] == UINT32_MAX) { /* thread t starts (again): a new pthread */
      if (g->runs == VM_T_MAX_RUNS) return false;
      g->run_prev[g->runs] = last_run[t];
      last_run[t] = g->runs;
      run_of[t] = g->runs;
      g->run_first[g->runs] = (unsigned)g->n;
      g->runs++;
    }
    vm_t_op_t *o = &g->ops[g->n];
    o->op = op;
    o->run = run_of[t];
    o->phase = g->phases;
    o->turn = op.kind == VA_OP_EXIT ? 0 : turns[op.slot]++;
    g->run_last[o->run] = (unsigned)g->n;
    g->phase_ops[o->phase]++;
    g->n++;
    if (op.kind == VA_OP_EXIT) run_of[t] = UINT32_MAX;
  }
  g->phases++;
  return true;
}

/* ---------------------------------------------------------------------------
 * Running one op (by the pthread of its incarnation)
 * ------------------------------------------------------------------------- */
static unsigned char vm_t_byte(unsigned s, unsigned gen, size_t k) {
  return (unsigned char)(s * 29 + gen * 13 + k * 7 + (k >> 8));
}

static void vm_t_fill(vm_t_slot_t *b, unsigned s, size_t from) {
  for (size_t k = from; k < b->req; k++) b->p[k] = vm_t_byte(s, b->gen, k);
}

static bool vm_t_verify(const vm_t_slot_t *b, unsigned s, size_t upto, const unsigned char *at) {
  for (size_t k = 0; k < upto; k++)
    if (at[k] != vm_t_byte(s, b->gen, k)) {
      VM_T_FAIL("slot %u: byte %zu of %zu is 0x%02x, wrote 0x%02x\n", s, k, upto, at[k],
                vm_t_byte(s, b->gen, k));
      return false;
    }
  return true;
}

static void vm_t_release(vm_t_slot_t *b, unsigned s) {
  if (!b->p) return;
  vm_t_verify(b, s, b->req, b->p);
  vm_free(b->p);
  b->p = NULL;
}

static void vm_t_took(vm_t_slot_t *b, unsigned s, void *p, size_t req, const char *what) {
  if (p == NULL) {
    VM_T_FAIL("%s(%zu) failed (errno %d)\n", what, req, errno);
    return;
  }
  b->p = p;
  b->req = req;
  b->gen++;
  vm_t_fill(b, s, 0);
}

static void vm_t_do(vm_t_prog_t *g, const va_op_t *op) {
  vm_t_slot_t *b = &g->slot[op->slot];
  unsigned s = op->slot;
  switch (op->kind) {
  case VA_OP_ALLOC:
    vm_t_release(b, s);
    vm_t_took(b, s, vm_malloc(op->size), op->size, "malloc");
    break;
  case VA_OP_FREE: vm_t_release(b, s); break;
  case VA_OP_CALLOC: {
    vm_t_release(b, s);
    size_t n = op->arg * op->size;
    unsigned char *p = vm_calloc(op->arg, op->size);
    for (size_t k = 0; p && k < n; k++)
      if (p[k]) { VM_T_FAIL("calloc(%zu) byte %zu is not zero\n", n, k); break; }
    vm_t_took(b, s, p, n, "calloc");
    break;
  }
  case VA_OP_MEMALIGN: {
    vm_t_release(b, s);
    size_t a = op->arg;
    bool valid = a && !(a & (a - 1)) && a <= ((size_t)1 << 20);
    if (!valid) break; /* invalid alignments: single-threaded matters, fuzzed elsewhere */
    unsigned char *p = vm_memalign(a, op->size);
    if (p && (uintptr_t)p % a) VM_T_FAIL("memalign(%zu) gave %p\n", a, (void *)p);
    vm_t_took(b, s, p, op->size, "memalign");
    break;
  }
  case VA_OP_REALLOC: {
    size_t keep = b->p ? (b->req < op->size ? b->req : op->size) : 0;
    unsigned char *q = vm_realloc(b->p, op->size);
    if (!q) { VM_T_FAIL("realloc(%zu) failed (errno %d)\n", op->size, errno); break; }
    vm_t_verify(b, s, keep, q);
    b->p = q;
    b->req = op->size;
    vm_t_fill(b, s, keep);
    break;
  }
  default: break;
  }
}

static void vm_t_wait_phase(vm_t_prog_t *g, unsigned phase) {
  while (atomic_load(&g->phase) < phase) sched_yield();
}

static void *vm_t_run(void *arg) {
  vm_t_prog_t *g = ((void **)arg)[0];
  unsigned r = (unsigned)(uintptr_t)((void **)arg)[1];
  free(arg);
  for (unsigned i = g->run_first[r]; i <= g->run_last[r]; i++) {
    vm_t_op_t *o = &g->ops[i];
    if (o->run != r) continue;
    vm_t_wait_phase(g, o->phase);
    if (o->op.kind != VA_OP_EXIT) {
      vm_t_slot_t *b = &g->slot[o->op.slot];
      while (atomic_load(&b->turn) != o->turn) sched_yield();
      vm_t_do(g, &o->op);
      atomic_fetch_add(&b->turn, 1);
    }
    atomic_fetch_add(&g->phase_done, 1);
  }
  atomic_store(&g->run_done[r], true);
  return NULL; /* the key destructor detaches this thread's heap */
}

/* ---------------------------------------------------------------------------
 * The main thread: start incarnations in order, check at quiescent points
 * ------------------------------------------------------------------------- */
static void vm_t_note_live(long d) {
  size_t live = atomic_fetch_add(&vm_t_live, (size_t)d) + (size_t)d;
  size_t peak = atomic_load(&vm_t_peak);
  while (live > peak && !atomic_compare_exchange_weak(&vm_t_peak, &peak, live)) {}
}

static void vm_t_check(const char *where) {
  va_report_t r;
  vm_t_checks++;
  if (!vm_be_check(&r))
    VM_T_FAIL("%s: check: %s at %p: %s\n", where, r.invariant, r.addr, r.detail);
  size_t heaps = vm_heap_count(), peak = atomic_load(&vm_t_peak);
  if (heaps > peak) VM_T_FAIL("%s: %zu heaps, at most %zu threads alive at once\n", where, heaps, peak);
}

static void vm_t_start(vm_t_prog_t *g, unsigned r) {
  void **arg = malloc(2 * sizeof *arg); /* from the library itself */
  arg[0] = g, arg[1] = (void *)(uintptr_t)r;
  vm_t_note_live(1);
  if (pthread_create(&g->tid[r], NULL, vm_t_run, arg) != 0) {
    VM_T_FAIL("pthread_create failed\n");
    vm_t_note_live(-1);
  }
}

static void vm_t_join(vm_t_prog_t *g, unsigned r) {
  pthread_join(g->tid[r], NULL);
  vm_t_note_live(-1);
}

/* An incarnation starts once the one before it (same thread id) is done. */
static void vm_t_execute(vm_t_prog_t *g) {
  bool started[VM_T_MAX_RUNS] = {0}, joined[VM_T_MAX_RUNS] = {0};
  atomic_store(&g->phase, 0);
  for (unsigned p = 0; p < g->phases; p++) {
    atomic_store(&g->phase_done, 0);
    atomic_store(&g->phase, p);
    size_t target = g->phase_ops[p];
    while (atomic_load(&g->phase_done) < target) {
      for (unsigned r = 0; r < g->runs; r++) {
        unsigned prev = g->run_prev[r];
        if (started[r] || g->ops[g->run_first[r]].phase > p ||
            (prev != UINT32_MAX && !atomic_load(&g->run_done[prev])))
          continue;
        started[r] = true;
        vm_t_start(g, r);
      }
      sched_yield();
    }
    for (unsigned r = 0; r < g->runs; r++) /* quiescent: the exited are joined */
      if (started[r] && !joined[r] && g->ops[g->run_last[r]].phase <= p) {
        while (!atomic_load(&g->run_done[r])) sched_yield();
        vm_t_join(g, r);
        joined[r] = true;
      }
    if (p + 1 < g->phases) vm_t_check("check op");
  }
  for (unsigned r = 0; r < g->runs; r++)
    if (started[r] && !joined[r]) vm_t_join(g, r);
  for (unsigned s = 0; s < VA_SLOTS; s++) vm_t_release(&g->slot[s], s);
  vm_t_check("end of program");
  vm_t_programs++;
}

static vm_t_prog_t vm_t_prog;

static void vm_t_program(const va_op_t *ops, size_t n) {
  if (!vm_t_plan(&vm_t_prog, ops, n)) return;
  vm_t_execute(&vm_t_prog);
}

/* ---------------------------------------------------------------------------
 * Programs: seeds (text), the corpus (binary), generated
 * ------------------------------------------------------------------------- */
static va_op_t vm_t_ops[VM_T_MAX_OPS];

static size_t vm_t_load_text(const char *path) {
  FILE *f = fopen(path, "r");
  char line[256];
  size_t n = 0;
  while (f && n < VM_T_MAX_OPS && fgets(line, sizeof line, f)) {
    char *c = line;
    while (*c == ' ' || *c == '\t') c++;
    if (*c == '#' || *c == '\n' || *c == 0) continue;
    if (va_op_parse(c, &vm_t_ops[n])) n++;
  }
  if (f) fclose(f);
  return n;
}

static size_t vm_t_load_binary(const char *path) {
  static uint8_t buf[VM_T_MAX_OPS * VA_OP_RECORD];
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return va_ops_decode(buf, len, vm_t_ops, VM_T_MAX_OPS);
}

static uint64_t vm_t_rng = 0x5eed5eed1234ull;
static uint64_t vm_t_rand(void) {
  vm_t_rng ^= vm_t_rng << 13, vm_t_rng ^= vm_t_rng >> 7, vm_t_rng ^= vm_t_rng << 17;
  return vm_t_rng;
}

/* Few slots, many thread switches and exits, sizes across the classes. */
static size_t vm_t_generate(void) {
  size_t n = 20 + vm_t_rand() % 200;
  for (size_t i = 0; i < n; i++) {
    va_op_t *op = &vm_t_ops[i];
    uint64_t r = vm_t_rand();
    memset(op, 0, sizeof *op);
    op->slot = (uint8_t)(r % 12);
    size_t size = (r >> 8) % 16 == 0 ? 32768 + (r >> 12) % 300000 : (r >> 12) % 2048;
    switch ((r >> 32) % 16) {
    case 0: case 1: case 2: case 3: op->kind = VA_OP_ALLOC; op->size = size; break;
    case 4: case 5: case 6: op->kind = VA_OP_FREE; break;
    case 7: case 8: op->kind = VA_OP_REALLOC; op->size = size; break;
    case 9: op->kind = VA_OP_CALLOC; op->arg = 1 + r % 4; op->size = size / 4; break;
    case 10: op->kind = VA_OP_MEMALIGN; op->arg = (size_t)64 << (r % 6); op->size = size; break;
    case 11: case 12: case 13: op->kind = VA_OP_THREAD; op->slot = (uint8_t)(r % VA_THREADS); break;
    case 14: op->kind = VA_OP_EXIT; op->slot = (uint8_t)(r % VA_THREADS); break;
    default: op->kind = VA_OP_CHECK; break;
    }
  }
  return n;
}

static int vm_t_by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of dir (sorted, at most `limit`), as programs. */
static void vm_t_dir(const char *dir, size_t limit) {
  DIR *d = opendir(dir);
  if (!d) { VM_T_FAIL("no directory %s\n", dir); return; }
  static char names[4096][64];
  static char *sorted[4096];
  size_t k = 0;
  for (struct dirent *e; (e = readdir(d)) && k < 4096;)
    if (e->d_name[0] != '.') snprintf(names[k], 64, "%s", e->d_name), sorted[k] = names[k], k++;
  closedir(d);
  qsort(sorted, k, sizeof *sorted, vm_t_by_name);
  char path[512];
  for (size_t i = 0; i < k && i < limit; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, sorted[i]);
    bool text = strstr(sorted[i], ".txt") != NULL;
    size_t n = text ? vm_t_load_text(path) : vm_t_load_binary(path);
    vm_t_program(vm_t_ops, n);
  }
}

int main(int argc, char **argv) {
  vm_free(vm_malloc(1)); /* the main thread's heap */
  vm_t_note_live(1);     /* the main thread */
  for (int i = 1; i < argc; i++) vm_t_dir(argv[i], VM_T_TSAN ? VM_T_TSAN_PROGRAMS : 1u << 20);
  for (size_t i = 0; i < VM_T_GENERATED; i++) vm_t_program(vm_t_ops, vm_t_generate());
  printf("%zu programs on real threads, %zu quiescent checks, %zu heaps, peak %zu threads alive\n",
         vm_t_programs, vm_t_checks, vm_heap_count(), atomic_load(&vm_t_peak));
  VT_CHECK(atomic_load(&vm_t_bad) == 0);
  VT_CHECK(vm_t_programs > VM_T_GENERATED);
  return va_check_summary();
}
