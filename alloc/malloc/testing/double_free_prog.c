/* vedalloc drop-in — a program that frees a block twice through the
 * standard free(), run under LD_PRELOAD by preload_test.sh, which expects
 * "vedalloc: free(): double free of 0x..." on stderr and an abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char *p = malloc(64);
  strcpy(p, "hello");
  puts(p);
  fflush(stdout);
  free(p);
  free(p);
  for (int i = 0; i < 1000; i++) free(malloc(64)); /* a deferred report lands here */
  return 0;
}
