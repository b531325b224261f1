/* vedalloc — the op interpreter (interp.h has the contract).
 *
 * Policy: the interpreter owns the meaning of every op and nothing else.
 * It keeps the slots (what is live where, what each slot freed last), the
 * virtual threads, the skipped-request window and the bad pointers, and it
 * makes every allocator call itself; what a call must have done is for the
 * observers to judge (the shadow model in exec.c, or a property). The one
 * judgement it makes is the allocator's error hook on a valid call, which
 * every harness treats the same: "error:<kind>".
 */
#include "fuzz/interp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define VA_OTHER_REGION ((size_t)64 << 20) /* the second instance's region (reserved, touched as used) */
#define VA_OTHER_BLOCK 64                 /* its live block's size */

/* What a bad op of kind `global` frees: an address in static storage. */
static _Alignas(64) uint8_t va_interp_global[256];

/* ---------------------------------------------------------------------------
 * Failures
 * ------------------------------------------------------------------------- */
bool va_interp_fail(va_interp_t *in, const char *invariant, const char *fmt, ...) {
  va_failure_t *f = in->fail;
  f->op_index = in->op_index;
  f->op = in->op;
  f->invariant = invariant;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->detail, sizeof f->detail, fmt, ap);
  va_end(ap);
  return false;
}

const char *va_interp_name(va_interp_t *in, const char *prefix, const char *name) {
  snprintf(in->fail->invariant_buf, sizeof in->fail->invariant_buf, "%s%s",
           prefix, name ? name : "?");
  return in->fail->invariant_buf;
}

void va_failure_print(const va_failure_t *f, void *file) {
  FILE *out = file ? (FILE *)file : stderr;
  char buf[96];
  fprintf(out, "op #%zu (%s): %s: %s\n", f->op_index,
          va_op_format(&f->op, buf, sizeof buf),
          f->invariant ? f->invariant : "(none)", f->detail);
}

static const char *va_error_invariant(int kind) {
  switch (kind) {
  case VA_ERR_INVALID_FREE: return "error:invalid_free";
  case VA_ERR_NOT_A_BLOCK: return "error:not_a_block";
  case VA_ERR_DOUBLE_FREE: return "error:double_free";
  case VA_ERR_CORRUPTION: return "error:corruption";
  }
  return "error:unknown";
}

/* The hook of the instance under test: counted against the call in
 * progress, or, when none is (a thread exit draining what others freed),
 * kept for the interpreter to report. */
typedef struct va_stray {
  int kind;
  const char *op;
} va_stray_t;

static _Thread_local va_stray_t va_interp_stray;

static void va_interp_on_error(void *ctx, va_error_kind_t kind, const char *op,
                               const void *ptr, const char *message) {
  va_interp_t *in = ctx;
  (void)ptr, (void)message;
  va_call_t *c = in->call;
  if (c == NULL) {
    if (!va_interp_stray.kind) va_interp_stray = (va_stray_t){(int)kind, op};
    return;
  }
  if (!c->raised) c->raised = (int)kind;
  c->raised_count++;
}

/* A raise outside any call: always a failure. */
static bool va_interp_no_stray(va_interp_t *in) {
  va_stray_t s = va_interp_stray;
  if (!s.kind) return true;
  va_interp_stray = (va_stray_t){0, NULL};
  return va_interp_fail(in, va_error_invariant(s.kind),
                        "%s() raised \"%s\" outside any call of the program", s.op,
                        va_error_name((va_error_kind_t)s.kind));
}

/* ---------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------- */
static void va_interp_invoke(va_interp_t *in, va_call_t *c) {
  const va_allocator_t *a = in->a;
  switch (c->kind) {
  case VA_CALL_MALLOC: c->result = a->malloc(in->heap, c->req); break;
  case VA_CALL_FREE: a->free(in->heap, c->ptr); break;
  case VA_CALL_REALLOC: c->result = a->realloc(in->heap, c->ptr, c->req); break;
  case VA_CALL_CALLOC: c->result = a->calloc(in->heap, in->op.arg, in->op.size); break;
  case VA_CALL_MEMALIGN: c->result = a->memalign(in->heap, c->align, c->req); break;
  }
}

/* One allocator call under the observers. */
static bool va_interp_call(va_interp_t *in, va_call_t *c) {
  for (size_t i = 0; i < in->nobs; i++)
    if (in->obs[i].before && !in->obs[i].before(in->obs[i].ctx, in, c)) return false;
  in->running[in->thread] = true;
  in->call = c;
  errno = 0;
  va_interp_invoke(in, c);
  c->err = errno;
  in->call = NULL;
  if (c->result) {
    in->pending = c->result;
    c->usable = in->a->usable_size(in->heap, c->result);
    if (c->kind == VA_CALL_REALLOC && !c->bad) /* the old block is gone */
      in->slot[c->slot] = (va_slot_t){.stale = in->slot[c->slot].stale};
  }
  if (!c->bad && c->raised)
    return va_interp_fail(in, va_error_invariant(c->raised),
                          "%s() raised \"%s\" on a valid call", c->name,
                          va_error_name((va_error_kind_t)c->raised));
  for (size_t i = 0; i < in->nobs; i++)
    if (in->obs[i].after && !in->obs[i].after(in->obs[i].ctx, in, c)) return false;
  return va_interp_no_stray(in);
}

int va_interp_probe_free(va_interp_t *in, void *p) {
  va_call_t c = {.kind = VA_CALL_FREE, .name = "free", .ptr = p, .bad = true};
  va_call_t *outer = in->call;
  in->call = &c;
  in->a->free(in->heap, p);
  in->call = outer;
  return c.raised;
}

/* The result of an allocating call becomes slot s's block. */
static void va_interp_keep(va_interp_t *in, const va_call_t *c) {
  va_slot_t *b = &in->slot[c->slot];
  uint8_t *stale = b->stale;
  if (c->kind == VA_CALL_REALLOC && c->old.ptr && c->old.ptr != c->result)
    stale = c->old.ptr; /* a move frees the old block */
  *b = (va_slot_t){.ptr = c->result, .req = c->req, .usable = c->usable,
                   .stale = stale};
  in->pending = NULL;
}

/* Free slot s (a no-op when empty). */
static bool va_interp_free_slot(va_interp_t *in, unsigned s) {
  va_slot_t *b = &in->slot[s];
  if (!b->ptr) return true;
  va_call_t c = {.kind = VA_CALL_FREE, .name = "free", .slot = s, .ptr = b->ptr,
                 .old = *b};
  if (!va_interp_call(in, &c)) return false;
  *b = (va_slot_t){.stale = c.old.ptr};
  return true;
}

/* Is a request of `bytes` in the skipped window? */
static bool va_interp_skipped(const va_interp_t *in, size_t bytes, bool overflow) {
  const va_interp_config_t *cfg = &in->cfg;
  size_t until = cfg->skip_until ? cfg->skip_until : (size_t)PTRDIFF_MAX;
  return !overflow && cfg->skip_above && bytes > cfg->skip_above && bytes <= until;
}

/* alloc, calloc, memalign: refill the call's slot with what it returns. */
static bool va_interp_refill(va_interp_t *in, va_call_t *c) {
  if (!va_interp_free_slot(in, c->slot)) return false;
  c->old = in->slot[c->slot];
  if (!va_interp_call(in, c)) return false;
  if (c->result) va_interp_keep(in, c);
  return true;
}

/* ---------------------------------------------------------------------------
 * The ops
 * ------------------------------------------------------------------------- */
static bool va_op_alloc(va_interp_t *in, const va_op_t *op) {
  if (va_interp_skipped(in, op->size, false)) return true;
  va_call_t c = {.kind = VA_CALL_MALLOC, .name = "malloc", .slot = op->slot,
                 .req = op->size};
  return va_interp_refill(in, &c);
}

static bool va_op_calloc(va_interp_t *in, const va_op_t *op) {
  size_t bytes;
  bool overflow = __builtin_mul_overflow(op->arg, op->size, &bytes);
  if (va_interp_skipped(in, bytes, overflow)) return true;
  va_call_t c = {.kind = VA_CALL_CALLOC, .name = "calloc", .slot = op->slot,
                 .req = overflow ? SIZE_MAX : bytes, .overflow = overflow};
  return va_interp_refill(in, &c);
}

static bool va_op_memalign(va_interp_t *in, const va_op_t *op) {
  if (!in->a->memalign || va_interp_skipped(in, op->size, false) ||
      (in->cfg.skip_above && op->arg > in->cfg.skip_above))
    return true;
  va_call_t c = {.kind = VA_CALL_MEMALIGN, .name = "memalign", .slot = op->slot,
                 .req = op->size, .align = op->arg};
  return va_interp_refill(in, &c);
}

static bool va_op_realloc(va_interp_t *in, const va_op_t *op) {
  if (va_interp_skipped(in, op->size, false)) return true;
  va_slot_t *b = &in->slot[op->slot];
  va_call_t c = {.kind = VA_CALL_REALLOC, .name = "realloc", .slot = op->slot,
                 .req = op->size, .ptr = b->ptr, .old = *b};
  if (!va_interp_call(in, &c)) return false;
  if (c.result) va_interp_keep(in, &c);
  return true;
}

/* Store byte o of v (little-endian) at p[o] for every o in [lo, hi). */
static void va_spray_range(uint8_t *p, size_t lo, size_t hi, uint64_t v) {
  uint8_t le[8];
  for (int i = 0; i < 8; i++) le[i] = (uint8_t)(v >> (8 * i));
  size_t o = lo;
  for (; o < hi && o % 8; o++) p[o] = le[o % 8];
  for (; o + 8 <= hi; o += 8) memcpy(p + o, le, 8);
  for (; o < hi; o++) p[o] = le[o % 8];
}

/* Copy n bytes from src to dst in this process through the kernel: no
 * ASan check on either side, and an address that is not mapped (writable)
 * is an error, not a fault. True when all n were copied. */
static bool va_kernel_copy(void *dst, const void *src, size_t n, bool to_dst) {
  struct iovec local = {to_dst ? (void *)src : dst, n};
  struct iovec remote = {to_dst ? dst : (void *)src, n};
  ssize_t done = to_dst ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
                        : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return done == (ssize_t)n;
}

/* After a smash: the checker runs (it may name the damage; it must not
 * crash on it), and every live block's usable_size must report corruption
 * or answer as before: an answer read from damaged metadata, or another
 * report, is the allocator following the damage. */
static bool va_smash_probe(va_interp_t *in) {
  if (in->a->check) {
    va_report_t r;
    (void)in->a->check(in->heap, &r);
  }
  for (unsigned s = 0; s < VA_SLOTS; s++) {
    const va_slot_t *b = &in->slot[s];
    if (!b->ptr) continue;
    va_call_t c = {.name = "usable_size", .slot = s};
    in->call = &c;
    size_t u = in->a->usable_size(in->heap, b->ptr);
    in->call = NULL;
    if (c.raised && c.raised != VA_ERR_CORRUPTION)
      return va_interp_fail(in, "smash.misnamed",
                            "usable_size(slot %u) after the smash reported %s, not corruption",
                            s, va_error_name((va_error_kind_t)c.raised));
    if (!c.raised && u != b->usable)
      return va_interp_fail(in, "smash.followed",
                            "usable_size(slot %u) after the smash is %zu, was %zu, unreported",
                            s, u, b->usable);
  }
  return va_interp_no_stray(in);
}

/* The op that touches the damage: free(s) with the damage in place, in a
 * forked child (the free changes state the program does not expect, and
 * may be where an allocator that follows damage dies). It must report
 * corruption, or go through without having used the damage: with the
 * bytes put back (unless the free rewrote them), the heap checker passes. A crash, another report, or a
 * checker failure is the allocator following the damaged metadata. */
static bool va_smash_free(va_interp_t *in, const va_slot_t *b, uint8_t *at,
                          const uint8_t *saved, const uint8_t *bytes, size_t n, size_t code) {
  fflush(NULL); /* one OS thread drives every virtual one: fork is safe */
  pid_t pid = fork();
  if (pid < 0) return true;
  if (pid == 0) {
    va_call_t c = {.name = "free"};
    in->call = &c;
    in->a->free(in->heap, b->ptr);
    in->call = NULL;
    if (c.raised) _exit(c.raised == VA_ERR_CORRUPTION ? 0 : 3);
    if (in->cfg.canaries && !(code & VA_SMASH_BEFORE) && memcmp(saved, bytes, n) != 0)
      _exit(4); /* an overflow that changed a byte, unseen */
    va_report_t r;
    uint8_t now[VA_SMASH_MAX];
    /* The free rewrote the bytes itself (recycled free memory, a merge):
     * they were its to write, and putting the old ones back would damage
     * what it made of them. Judged by the checker only when untouched. */
    if (!va_kernel_copy(now, at, n, false) || memcmp(now, bytes, n) != 0) _exit(0);
    if (!va_kernel_copy(at, saved, n, true)) _exit(0);
    if (in->a->check && !in->a->check(in->heap, &r)) { /* say what, for the log */
      fprintf(stderr, "smash free probe (block %p, bytes %p+%zu): checker: %s at %p: %s\n",
              (void *)b->ptr, (void *)at, n, r.invariant, r.addr, r.detail);
      _exit(2);
    }
    _exit(0);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(st))
    return va_interp_fail(in, "smash.followed",
                          "free(slot %u) with the damage in place died of signal %d",
                          (unsigned)(b - in->slot), WTERMSIG(st));
  if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
    return va_interp_fail(in, "smash.misnamed",
                          "free(slot %u) with the damage in place reported other than corruption",
                          (unsigned)(b - in->slot));
  if (WIFEXITED(st) && WEXITSTATUS(st) == 4)
    return va_interp_fail(in, "smash.missed",
                          "free(slot %u) did not report an overflow of %zu bytes past its end",
                          (unsigned)(b - in->slot), n);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
    return va_interp_fail(in, "smash.followed",
                          "free(slot %u) went through the damage: with it put back, the checker fails",
                          (unsigned)(b - in->slot));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) /* a sanitizer's report (on stderr) */
    return va_interp_fail(in, "smash.followed",
                          "free(slot %u) with the damage in place: the child exited %d",
                          (unsigned)(b - in->slot), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return true;
}

/* write(s, +-n, v): damage the n bytes past s's block or before it, probe,
 * put them back (ops.h). */
static bool va_op_smash(va_interp_t *in, const va_slot_t *b, size_t code, uint64_t v) {
  size_t n = 1 + (code & 63);
  uint8_t *at = code & VA_SMASH_BEFORE ? b->ptr - n : b->ptr + b->usable;
  uint8_t saved[VA_SMASH_MAX], bytes[VA_SMASH_MAX];
  for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)(v >> (8 * (i % 8)));
  if (!va_kernel_copy(saved, at, n, false)) return true; /* not mapped */
  if (!va_kernel_copy(at, bytes, n, true)) {
    va_kernel_copy(at, saved, n, true); /* a partial write undone */
    return true;
  }
  in->smashes++;
  bool ok = va_smash_probe(in) && va_smash_free(in, b, at, saved, bytes, n, code);
  if (!va_kernel_copy(at, saved, n, true))
    return va_interp_fail(in, "smash.restore", "could not put %zu bytes back at %p", n,
                          (void *)at);
  return ok;
}

static bool va_op_write(va_interp_t *in, const va_op_t *op) {
  va_slot_t *b = &in->slot[op->slot];
  uint64_t v = (uint64_t)op->arg;
  if (!b->ptr) return true;
  if (VA_WRITE_NORMAL(op->size) >= VA_WRITE_SMASH) /* misuse: as the bad ops */
    return !in->cfg.misuse || va_op_smash(in, b, VA_WRITE_NORMAL(op->size), v);
  bool spray = op->size >= VA_WRITE_SPRAY;
  size_t off = 0;
  if (spray) {
    size_t r[VA_OWNED_RANGES][2], nr = va_owned_ranges(b->usable, r);
    for (size_t i = 0; i < nr; i++) va_spray_range(b->ptr, r[i][0], r[i][1], v);
    b->writes = 0;
  } else {
    if (b->usable < 8 || b->writes >= VA_WRITES_PER_BLOCK) return true;
    off = op->size % (b->usable - 7);
    for (int i = 0; i < 8; i++) b->ptr[off + i] = (uint8_t)(v >> (8 * i));
    b->writes++;
  }
  for (size_t i = 0; i < in->nobs; i++)
    if (in->obs[i].wrote && !in->obs[i].wrote(in->obs[i].ctx, in, op->slot, off, v, spray))
      return false;
  return true;
}

static bool va_op_thread(va_interp_t *in, const va_op_t *op) {
  in->thread = op->slot;
  in->running[op->slot] = true;
  if (in->a->thread_switch) in->a->thread_switch(in->heap, op->slot);
  return va_interp_no_stray(in);
}

static bool va_thread_exit(va_interp_t *in, unsigned t) {
  if (!in->running[t]) return true;
  in->running[t] = false;
  if (in->a->thread_exit) in->a->thread_exit(in->heap, t);
  return va_interp_no_stray(in);
}

/* ---------------------------------------------------------------------------
 * Misuse
 * ------------------------------------------------------------------------- */
/* The second instance and its live block, made on first use. */
/* One region for every run's second instance, mapped once (zero, as the
 * options say): a region source keeps its record of clean chunks in it
 * between runs (alloc/slab/os.h), so no run clears what none dirtied. */
static void *va_interp_other_region;

static void *va_interp_foreign(va_interp_t *in) {
  if (in->other || in->other_region) return in->other_block; /* made, or tried */
  va_options_t o = in->opts;
  if (o.source == VA_SOURCE_REGION) {
    if (!va_interp_other_region) {
      void *m = mmap(NULL, VA_OTHER_REGION, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) return NULL;
      va_interp_other_region = m;
    }
    in->other_region = va_interp_other_region;
    o.region = in->other_region;
    o.region_size = VA_OTHER_REGION;
    o.region_zero = true;
  }
  in->other = in->a->create(&o);
  if (in->other) in->other_block = in->a->malloc(in->other, VA_OTHER_BLOCK);
  return in->other_block;
}

/* Is p the start of a live block of the program? */
static bool va_interp_is_live(const va_interp_t *in, const void *p) {
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (in->slot[s].ptr == p) return true;
  return false;
}

/* The bad pointer of op, or NULL when the op is a no-op (ops.h). */
static uint8_t *va_interp_bad_ptr(va_interp_t *in, const va_op_t *op, uint8_t *stack) {
  const va_slot_t *b = &in->slot[op->slot];
  uint32_t k = VA_BAD_K(op->arg);
  switch (VA_BAD_HOW(op->arg)) {
  case VA_BAD_STALE:
    return b->stale && !va_interp_is_live(in, b->stale) ? b->stale : NULL;
  case VA_BAD_INTERIOR:
    return b->ptr && b->usable > 8 ? b->ptr + 8 * (1 + k % ((b->usable - 1) / 8)) : NULL;
  case VA_BAD_UNALIGNED:
    return b->ptr && b->usable >= 8 ? b->ptr + 1 + k % 7 : NULL;
  case VA_BAD_FOREIGN: return va_interp_foreign(in);
  case VA_BAD_STACK: return stack;
  case VA_BAD_GLOBAL: return va_interp_global + 64;
  case VA_BAD_KINDS: break;
  }
  return NULL;
}

static bool va_op_bad(va_interp_t *in, const va_op_t *op) {
  _Alignas(64) uint8_t stack[128]; /* what `stack` frees; live for the call */
  if (!in->cfg.misuse) return true;
  uint8_t *p = va_interp_bad_ptr(in, op, stack + 64);
  if (p == NULL) return true;
  bool re = op->kind == VA_OP_BADREALLOC;
  va_call_t c = {.kind = re ? VA_CALL_REALLOC : VA_CALL_FREE,
                 .name = re ? "realloc" : "free", .slot = op->slot, .ptr = p,
                 .req = re ? op->size : 0, .bad = true, .how = VA_BAD_HOW(op->arg),
                 .old = in->slot[op->slot]};
  return va_interp_call(in, &c);
}

/* ---------------------------------------------------------------------------
 * Running a program
 * ------------------------------------------------------------------------- */
static bool va_interp_op(va_interp_t *in, const va_op_t *op) {
  switch (op->kind) {
  case VA_OP_ALLOC: return va_op_alloc(in, op);
  case VA_OP_FREE: return va_interp_free_slot(in, op->slot);
  case VA_OP_REALLOC: return va_op_realloc(in, op);
  case VA_OP_CALLOC: return va_op_calloc(in, op);
  case VA_OP_CHECK: return true; /* the observers' op_end does the checking */
  case VA_OP_MEMALIGN: return va_op_memalign(in, op);
  case VA_OP_WRITE: return va_op_write(in, op);
  case VA_OP_THREAD: return va_op_thread(in, op);
  case VA_OP_EXIT: return va_thread_exit(in, op->slot);
  case VA_OP_BADFREE:
  case VA_OP_BADREALLOC: return va_op_bad(in, op);
  }
  return true;
}

static bool va_interp_op_end(va_interp_t *in, const va_op_t *op) {
  for (size_t i = 0; i < in->nobs; i++)
    if (in->obs[i].op_end && !in->obs[i].op_end(in->obs[i].ctx, in, op)) return false;
  return true;
}

/* Free every slot, end every thread, then the end-observers. */
static bool va_interp_teardown(va_interp_t *in) {
  for (unsigned s = 0; s < VA_SLOTS; s++)
    if (!va_interp_free_slot(in, s)) return false;
  for (unsigned t = 0; t < VA_THREADS; t++)
    if (!va_thread_exit(in, t)) return false;
  for (size_t i = 0; i < in->nobs; i++)
    if (in->obs[i].end && !in->obs[i].end(in->obs[i].ctx, in)) return false;
  return true;
}

/* After a failure: an allocator without a checker (the process malloc)
 * cannot reclaim its blocks on destroy, so give back what is still trusted. */
static void va_interp_abandon(va_interp_t *in) {
  if (in->a->check) return;
  if (in->pending && !va_interp_is_live(in, in->pending))
    in->a->free(in->heap, in->pending);
  for (unsigned s = 0; s < VA_SLOTS; s++) {
    void *p = in->slot[s].ptr;
    in->slot[s].ptr = NULL;
    if (p && !va_interp_is_live(in, p)) in->a->free(in->heap, p);
  }
}

/* Page w of n, mixed from the block size: the interior windows move from
 * size to size, so a campaign checks every part of large blocks. */
static size_t va_owned_page(size_t usable, size_t salt, size_t n) {
  uint64_t x = (uint64_t)usable * 0x9E3779B97F4A7C15ull + salt * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return (size_t)(x % n);
}

size_t va_owned_ranges(size_t usable, size_t range[VA_OWNED_RANGES][2]) {
  if (usable <= VA_FILL_CAP) {
    range[0][0] = 0, range[0][1] = usable;
    return 1;
  }
  /* Whole windows strictly between the first and the last: pages 1 ..
   * pages-2 of the block's VA_FILL_EDGE-sized pages, two of them. */
  size_t pages = usable / VA_FILL_EDGE, a = 1 + va_owned_page(usable, 1, pages - 2);
  size_t b = 1 + va_owned_page(usable, 2, pages - 2);
  if (a > b) { size_t t = a; a = b; b = t; }
  size_t n = 0;
  range[n][0] = 0, range[n][1] = VA_FILL_EDGE, n++;
  range[n][0] = a * VA_FILL_EDGE, range[n][1] = (a + 1) * VA_FILL_EDGE, n++;
  if (b != a) range[n][0] = b * VA_FILL_EDGE, range[n][1] = (b + 1) * VA_FILL_EDGE, n++;
  range[n][0] = usable - VA_FILL_EDGE, range[n][1] = usable, n++;
  return n;
}

void *va_state_take(va_spare_t *spare, size_t size) {
  void *p = atomic_exchange(spare, NULL);
  if (p == NULL) return calloc(1, size);
  memset(p, 0, size);
  return p;
}

void va_state_give(va_spare_t *spare, void *state) {
  void *none = NULL;
  if (!atomic_compare_exchange_strong(spare, &none, state)) free(state);
}

static va_spare_t va_interp_spare;

bool va_interp_run(const va_allocator_t *a, const va_options_t *opts,
                   const va_interp_config_t *cfg, const va_observer_t *obs,
                   size_t nobs, const va_op_t *ops, size_t n, va_failure_t *fail) {
  va_failure_t scratch;
  fail = fail ? fail : &scratch;
  memset(fail, 0, sizeof *fail);
  va_interp_t *in = va_state_take(&va_interp_spare, sizeof *in); /* off the fuzzer's stack */
  if (!in || nobs > VA_MAX_OBSERVERS) {
    if (in) va_state_give(&va_interp_spare, in);
    fail->invariant = "interp.setup";
    snprintf(fail->detail, sizeof fail->detail,
             "the interpreter could not get its state (%zu observers)", nobs);
    return false;
  }
  in->a = a;
  in->fail = fail;
  in->cfg = cfg ? *cfg : (va_interp_config_t){0};
  in->nobs = nobs;
  if (nobs) memcpy(in->obs, obs, nobs * sizeof *obs);
  in->opts = opts ? *opts : va_options_default();
  in->opts.on_error = va_interp_on_error;
  in->opts.error_ctx = in;
  in->running[0] = true;
  va_interp_stray = (va_stray_t){0, NULL};
  in->heap = a->create(&in->opts);
  bool ok = in->heap != NULL ||
            va_interp_fail(in, "interp.setup", "create() failed (errno %d)", errno);
  for (size_t i = 0; ok && i < in->nobs; i++)
    if (in->obs[i].start) ok = in->obs[i].start(in->obs[i].ctx, in);
  for (size_t i = 0; ok && i < n; i++) {
    in->op_index = i, in->op = ops[i], in->pending = NULL;
    va_op_normalize(&in->op);
    ok = va_interp_op(in, &in->op) && va_interp_op_end(in, &in->op);
  }
  if (ok) {
    in->op_index = n, in->op = (va_op_t){.kind = VA_OP_CHECK}, in->pending = NULL;
    ok = va_interp_teardown(in);
  }
  if (in->heap) {
    if (!ok) va_interp_abandon(in);
    a->destroy(in->heap);
  }
  if (in->other) {
    if (in->other_block) a->free(in->other, in->other_block);
    a->destroy(in->other);
  }
  va_interp_stray = (va_stray_t){0, NULL};
  va_state_give(&va_interp_spare, in);
  return ok;
}
