/* Run under LD_PRELOAD of a vedalloc library: glibc's introspection names
 * must reach vedalloc's (a program linked against glibc calls them by
 * those names), and agree with vedalloc_stats. Exits 0 when they do; 1
 * with the reason on stderr. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/malloc/vedalloc.h"

int main(void) {
  /* found in the preloaded library, not linked: this program is glibc's */
  int (*stats)(struct vedalloc_stats *) =
      (int (*)(struct vedalloc_stats *))dlsym(RTLD_DEFAULT, "vedalloc_stats");
  if (stats == NULL) return fprintf(stderr, "vedalloc_stats not found: not preloaded\n"), 1;
  void *p[200];
  for (int i = 0; i < 200; i++) p[i] = malloc(200);
  struct mallinfo2 m = mallinfo2();
  struct vedalloc_stats s;
  stats(&s);
  size_t live_bytes = s.live_bytes;
  if (m.uordblks != live_bytes || m.uordblks < 200 * 200)
    return fprintf(stderr, "mallinfo2 uordblks %zu, vedalloc_stats %zu\n", m.uordblks,
                   live_bytes), 1;
  if ((size_t)mallinfo().uordblks != m.uordblks) return fprintf(stderr, "mallinfo differs\n"), 1;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (malloc_info(0, f) != 0) return fprintf(stderr, "malloc_info failed\n"), 1;
  fclose(f);
  if (strstr(buf, "<malloc version=\"1\">") == NULL)
    return fprintf(stderr, "malloc_info wrote: %.200s\n", buf), 1;
  free(buf);
  for (int i = 0; i < 200; i++) free(p[i]);
  malloc_trim(0);
  malloc_stats();
  /* calloc hands out zeroes in every mode, also over reused dirty blocks */
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 200; i++) memset(p[i] = malloc(200), 0xA5, 200);
    for (int i = 0; i < 200; i++) free(p[i]);
    for (int i = 0; i < 200; i++) {
      unsigned char *c = p[i] = calloc(1, 200);
      for (int j = 0; j < 200; j++)
        if (c[j]) return fprintf(stderr, "calloc: byte %d of a block is %#x\n", j, c[j]), 1;
    }
    for (int i = 0; i < 200; i++) free(p[i]);
  }
  printf("ok\n");
  return 0;
}
