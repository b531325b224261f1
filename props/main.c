/* vedalloc — main of every property test binary: the catalogue files linked
 * in register their properties; prop_main runs them (see props/prop.h). */
#include "props/prop.h"

PROP_ASAN_DEFAULTS

int main(int argc, char **argv) { return prop_main(argc, argv); }
