"""va_fuzz_test: one libFuzzer harness, four targets (rules_fuzzing cannot be
downloaded here, so this is our own small version of its fuzzing_* macros).

For va_fuzz_test(name = "v1_firstfit", entry = "v1-firstfit"):
  v1_firstfit        cc_test: replays fuzz/corpus/v1_firstfit/* and every saved
                     reproducer fuzz/crashes/v1_firstfit/* once each, under
                     ASan + UBSan (part of `bazel test //...`)
  v1_firstfit_bin    the libFuzzer binary (-fsanitize=fuzzer,address,undefined)
  v1_firstfit_run    `bazel run //fuzz:v1_firstfit_run -- -max_total_time=3600 -fork=2`:
                     a campaign on the source corpus dir with the dictionary;
                     crashes land in fuzz/crashes/v1_firstfit/
  v1_firstfit_smoke  a bounded fuzz run (fixed seed, a few seconds) from a
                     copy of the corpus, tagged "fuzz_smoke" so it can be
                     filtered out (--test_tag_filters=-fuzz_smoke)
Every target is tagged "fuzz" (the tsan config leaves them out).
"""

load("//bazel:defs.bzl", "FUZZ_COPTS", "FUZZ_LINKOPTS", "VA_COPTS", "fuzz_label")

HARNESS_DEPS = [
    "//fuzz:exec",
    "//fuzz:harness",
    "//fuzz:ops",
]

def va_fuzz_test(
        name,
        entry = None,
        deps = ["//alloc:registry"],
        defines = [],
        corpus = None,
        smoke_seconds = 10,
        smoke_runs = 100000,
        testonly = False):
    """The four targets of one harness over the allocator registry entry `entry`."""
    corpus = corpus or name
    copts = VA_COPTS + FUZZ_COPTS + defines
    if entry:
        copts = copts + ["-DVA_FUZZ_ENTRY=\\\"%s\\\"" % entry]
    fdeps = [fuzz_label(d) for d in HARNESS_DEPS + deps]
    tags = ["fuzz"]

    native.filegroup(
        name = name + "_replay_files",
        srcs = native.glob([
            "corpus/%s/*" % corpus,
            "crashes/%s/*" % corpus,
        ]),
        testonly = testonly,
    )
    native.filegroup(
        name = name + "_corpus_files",
        srcs = native.glob(["corpus/%s/*" % corpus]),
        testonly = testonly,
    )
    native.cc_binary(
        name = name + "_bin",
        srcs = ["fuzz_alloc.c"],
        copts = copts,
        linkopts = FUZZ_LINKOPTS,
        deps = fdeps,
        tags = tags,
        testonly = testonly,
    )

    # -runs=0 with files: run each file once; with none: run nothing.
    native.cc_test(
        name = name,
        srcs = ["fuzz_alloc.c"],
        copts = copts,
        linkopts = FUZZ_LINKOPTS,
        deps = fdeps,
        args = ["-runs=0", "$(locations :%s_replay_files)" % name],
        data = [":%s_replay_files" % name],
        size = "small",
        tags = tags,
    )
    native.sh_test(
        name = name + "_smoke",
        srcs = ["//fuzz:fuzz_smoke.sh"],
        args = [
            "$(location :%s_bin)" % name,
            "$(location //fuzz:alloc.dict)",
            str(smoke_seconds),
            str(smoke_runs),
            "$(locations :%s_corpus_files)" % name,
        ],
        data = [
            ":%s_bin" % name,
            ":%s_corpus_files" % name,
            "//fuzz:alloc.dict",
        ],
        size = "medium",
        tags = tags + ["fuzz_smoke"],
        testonly = testonly,
    )
    native.sh_binary(
        name = name + "_run",
        srcs = ["//fuzz:fuzz_run.sh"],
        args = [
            "$(rootpath :%s_bin)" % name,
            corpus,
        ],
        data = [
            ":%s_bin" % name,
            "//fuzz:alloc.dict",
        ],
        tags = tags,
        testonly = testonly,
    )

def va_fuzz_bite_test(name, fault, expect, runs = 300000, seconds = 60, seeds = False, dict = None):
    """Runs the faulty-allocator fuzzer with VA_FAULT=fault (fixed seed,
    bounded runs; from an empty corpus, or with `seeds` from the compiled
    fuzz/seeds programs) and passes only if it
    crashes and its output matches the extended regex `expect` (the
    invariant that must be named)."""
    data = ["//fuzz:faulty_bin"]
    args = [
        "$(location //fuzz:faulty_bin)",
        fault,
        "'%s'" % expect,
        str(runs),
        str(seconds),
        "$(location %s)" % dict if dict else "-",
    ]
    if dict:
        data.append(dict)
    if seeds:
        data.append("//fuzz:seed_inputs")
        args.append("$(locations //fuzz:seed_inputs)")
    native.sh_test(
        name = name,
        srcs = ["//fuzz:fuzz_bite.sh"],
        args = args,
        data = data,
        size = "large" if seconds > 240 else "medium",
        tags = ["fuzz", "fuzz_bite"],
        testonly = True,
    )
