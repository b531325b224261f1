"""Shared compiler flags and the build macros every package uses.

va_library builds each library twice: `name` with the flags of the current
config, and `name_fuzz` instrumented for libFuzzer + ASan + UBSan, so a fuzz
harness sees coverage inside the allocator whatever config the build uses
(Bazel 4.2.3 offline has no rules_fuzzing and no easy transitions).
"""

VA_COPTS = [
    "-std=c11",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wshadow",
    "-Wstrict-prototypes",
]

# Instrumentation of the code a fuzzer drives (the harness adds -fsanitize=fuzzer at link).
# Edge counters only, no comparison tracing: on v2_dropin, 60 s from the
# corpus, tracing cost 17% of the executions and found no more (cov 533 both
# ways, ft 2999 with it, 3019 without); the sizes and flags it would steer
# towards are in the dictionary (fuzz/alloc.dict).
FUZZ_COPTS = [
    "-fsanitize=fuzzer-no-link,address,undefined",
    "-fno-sanitize-coverage=trace-cmp",
    "-fno-sanitize-recover=all",
    "-DVA_SANITIZED=1",
    "-DVA_FUZZING=1",
]

FUZZ_LINKOPTS = ["-fsanitize=fuzzer,address,undefined"]

# The harness's own code (op language, interpreter, shadow) in a fuzz build:
# sanitized like the rest, but no coverage feedback of its own, so
# libFuzzer's guidance (and its comparison tracing) is the allocator's.
HARNESS_FUZZ_COPTS = [
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-DVA_SANITIZED=1",
    "-DVA_FUZZING=1",
]

def fuzz_label(label):
    """The `_fuzz` twin of a va_library label."""
    if label.startswith("@"):
        return label
    if ":" in label:
        return label + "_fuzz"
    return label + ":" + label.split("/")[-1] + "_fuzz"

def va_library(name, deps = [], copts = [], fuzz_deps = [], harness = False, **kwargs):
    """A cc_library with the shared flags, plus its fuzz-instrumented twin
    `name_fuzz` (harness code: sanitized, without coverage feedback)."""
    native.cc_library(name = name, deps = deps, copts = VA_COPTS + copts, **kwargs)
    fuzz_kwargs = dict(kwargs)
    fuzz_kwargs["tags"] = kwargs.get("tags", []) + ["fuzz"]
    native.cc_library(
        name = name + "_fuzz",
        deps = [fuzz_label(d) for d in deps] + fuzz_deps,
        copts = VA_COPTS + copts + (HARNESS_FUZZ_COPTS if harness else FUZZ_COPTS),
        **fuzz_kwargs
    )

def va_test(name, copts = [], **kwargs):
    """A cc_test with the shared flags."""
    native.cc_test(name = name, copts = VA_COPTS + copts, **kwargs)

def va_binary(name, copts = [], **kwargs):
    """A cc_binary with the shared flags."""
    native.cc_binary(name = name, copts = VA_COPTS + copts, **kwargs)
