/* vedalloc — print the registry's entry names, one per line: the one list
 * that .clusterfuzzlite/build.sh, tools/fuzz_campaign.sh and the
 * fuzz/BUILD check (//fuzz:registry_list_test) read. With -f, print them as
 * fuzzer names (v2-slab -> v2_slab). */
#include <stdio.h>
#include <string.h>

#include "alloc/registry.h"

int main(int argc, char **argv) {
  int as_fuzzer = argc > 1 && strcmp(argv[1], "-f") == 0;
  if (argc > 1 && !as_fuzzer) {
    fprintf(stderr, "registry_names: unknown flag '%s' (want -f or nothing)\n", argv[1]);
    return 2;
  }
  for (size_t i = 0; i < va_registry_len; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s", va_registry[i].name);
    for (char *c = name; as_fuzzer && *c; c++)
      if (*c == '-') *c = '_';
    puts(name);
  }
  return 0;
}
