/* vedalloc drop-in — glibc's introspection calls and vedalloc_stats, over
 * each backend, against what the test itself knows it holds (every block
 * it made, with its usable size) and against each other. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/malloc/vedalloc.h"
#include "alloc/testing/check.h"

enum { SMALL = 100, LARGE = 2 };
static void *blocks[SMALL + LARGE];

static bool v2(void) { return strncmp(vm_backend_name(), "v2", 2) == 0; }

static size_t held_bytes(size_t from, size_t to) {
  size_t sum = 0;
  for (size_t i = from; i < to; i++) sum += blocks[i] ? vm_malloc_usable_size(blocks[i]) : 0;
  return sum;
}

static void test_counts(void) {
  for (size_t i = 0; i < SMALL; i++) blocks[i] = vm_malloc(100);
  for (size_t i = 0; i < LARGE; i++) blocks[SMALL + i] = vm_malloc(1 << 20);
  struct vedalloc_stats s;
  VT_CHECK(vedalloc_stats(&s) == 0);
  VT_CHECK(s.live_blocks == SMALL + LARGE && s.live_bytes == held_bytes(0, SMALL + LARGE));
  VT_CHECK(s.heaps == 1 && s.heaps_unseen == 0 && s.committed > 0 && s.mapped >= s.committed);
  VT_CHECK(s.resident > 0 && s.resident <= s.mapped);
  if (v2()) {
    VT_CHECK(s.large_live == LARGE && s.large_live_bytes == held_bytes(SMALL, SMALL + LARGE));
    size_t live = 0, cls100 = 0;
    for (size_t c = 0; c < s.nclasses; c++) {
      live += s.cls[c].live_blocks;
      if (s.cls[c].block_size >= 100 && cls100 == 0) cls100 = s.cls[c].live_blocks;
    }
    VT_CHECK(live == SMALL && cls100 == SMALL && s.pages >= 1);
  }
  struct mallinfo2 m = vm_mallinfo2();
  VT_CHECK(m.uordblks == s.live_bytes && m.arena == s.committed && m.hblks == s.large_live &&
           m.ordblks == s.free_blocks && m.fordblks == s.free_bytes + s.large_cached_bytes);
  struct mallinfo o = vm_mallinfo();
  VT_CHECK((size_t)o.uordblks == m.uordblks && (size_t)o.arena == m.arena);
  for (size_t i = 0; i < SMALL; i += 2) vm_free(blocks[i]), blocks[i] = NULL;
  VT_CHECK(vedalloc_stats(&s) == 0 && s.live_blocks == SMALL / 2 + LARGE &&
           s.live_bytes == held_bytes(0, SMALL + LARGE));
  VT_CHECK(vedalloc_stats(NULL) == -1 && errno == EINVAL);
}

/* malloc_info writes glibc's XML; malloc_stats glibc's lines on stderr. */
static void test_reports(void) {
  FILE *f = tmpfile();
  VT_CHECK(f && vm_malloc_info(0, f) == 0);
  char text[16384] = {0};
  rewind(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  VT_CHECK(n > 0 && strncmp(text, "<malloc version=\"1\">", 20) == 0 &&
           strstr(text, "</malloc>\n") && strstr(text, "<system type=\"current\""));
  if (v2()) VT_CHECK(strstr(text, "<size from=") != NULL); /* the freed slots of 112 bytes */
  VT_CHECK(vm_malloc_info(1, stdout) == -1 && errno == EINVAL);
  char path[] = "/tmp/introspect_XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  dup2(fd, 2);
  vm_malloc_stats();
  dup2(saved, 2);
  char out[1024] = {0};
  VT_CHECK(pread(fd, out, sizeof out - 1, 0) > 0);
  close(fd), close(saved), unlink(path);
  struct vedalloc_stats s;
  vedalloc_stats(&s);
  char want[64];
  snprintf(want, sizeof want, "in use bytes     = %10zu\n", s.live_bytes);
  VT_CHECK(strncmp(out, "Arena 0:\n", 9) == 0 && strstr(out, want) != NULL);
}

/* Freed large blocks are cached; malloc_trim gives them back (V2). */
static void test_trim(void) {
  for (size_t i = 0; i < SMALL + LARGE; i++) vm_free(blocks[i]), blocks[i] = NULL;
  struct vedalloc_stats before, after;
  vedalloc_stats(&before);
  VT_CHECK(before.live_blocks == 0 && before.live_bytes == 0);
  int released = vm_malloc_trim(0);
  vedalloc_stats(&after);
  if (v2()) {
    VT_CHECK(before.large_cached + before.pages > 0);
    VT_CHECK(released == 1 && after.committed < before.committed && after.large_cached == 0);
  } else {
    VT_CHECK(released == 0);
  }
}

/* A heap another live thread holds is not walked; once the thread exits
 * (abandoned), it is, with the block it left live. */
static pthread_barrier_t bar;
static void *holder(void *arg) {
  (void)arg;
  void *p = vm_malloc(64);
  pthread_barrier_wait(&bar); /* holding its heap */
  pthread_barrier_wait(&bar); /* the main thread looked */
  return p;                   /* left live */
}

static void test_other_threads(void) {
  pthread_t t;
  pthread_barrier_init(&bar, NULL, 2);
  pthread_create(&t, NULL, holder, NULL);
  pthread_barrier_wait(&bar);
  struct vedalloc_stats s;
  vedalloc_stats(&s);
  if (v2()) VT_CHECK(s.heaps == 2 && s.heaps_unseen == 1 && s.live_blocks == 0);
  else VT_CHECK(s.heaps == 1 && s.heaps_unseen == 0 && s.live_blocks == 1);
  pthread_barrier_wait(&bar);
  void *p;
  pthread_join(t, &p);
  vedalloc_stats(&s);
  VT_CHECK(s.heaps_unseen == 0 && s.live_blocks == 1);
  vm_free(p);
  vedalloc_stats(&s);
  VT_CHECK(s.live_blocks == 0);
}

/* Blocks one thread frees for another are counted once the holder takes
 * them back (its next malloc drains its queue). */
enum { HANDED = 40 };
static void *handed[HANDED];
static void *freer(void *arg) {
  (void)arg;
  for (size_t i = 0; i < HANDED; i++) vm_free(handed[i]);
  return NULL;
}

static void test_remote_frees(void) {
  struct vedalloc_stats before, after;
  vedalloc_stats(&before);
  for (size_t i = 0; i < HANDED; i++) handed[i] = vm_malloc(48);
  pthread_t t;
  pthread_create(&t, NULL, freer, NULL);
  pthread_join(t, NULL);
  vm_free(vm_malloc(48)); /* the drain */
  vedalloc_stats(&after);
  if (v2()) VT_CHECK(after.remote_frees == before.remote_frees + HANDED);
  else VT_CHECK(after.remote_frees == 0);
  VT_CHECK(after.live_blocks == before.live_blocks);
}

int main(void) {
  VT_RUN(test_counts);
  VT_RUN(test_reports);
  VT_RUN(test_trim);
  VT_RUN(test_other_threads);
  VT_RUN(test_remote_frees);
  return va_check_summary();
}
