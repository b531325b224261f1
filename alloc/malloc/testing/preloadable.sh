# vedalloc drop-in tests: sourced by every test that preloads a library.
# A sanitizer runtime must be the first library of a process, so an
# instrumented build cannot be preloaded into python, sort or a test
# program: such a test says so and passes with nothing run.
#   va_require_preloadable LIB
va_require_preloadable() {
  if nm -D --undefined-only "$1" 2>/dev/null | grep -q '__[amt]san_\|__ubsan_'; then
    echo "SKIP: $1 is sanitizer-instrumented (not preloadable)"
    echo "0 passed, 0 failed"
    exit 0
  fi
}
