"""Project-wide build macros."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

def weft_cc_test(name, srcs, deps = [], size = "small",
                 main = "//third_party:gtest_main", env = {}, **kwargs):
    """A GoogleTest test with weft's sanitizer suppressions linked in.

    Args:
      name: test name.
      srcs: test sources.
      deps: dependencies; a main() is added.
      size: Bazel test size; "small" unless the test spawns processes.
      main: the library providing main(); //core:test_main for tests whose
        binary also serves as cluster workers.
      env: test environment; WEFT_CHECK_INVARIANTS=1 is added, so every
        scheduler a test starts checks its state machine's invariants.
      **kwargs: passed to cc_test.
    """
    test_env = {"WEFT_CHECK_INVARIANTS": "1"}
    test_env.update(env)
    cc_test(
        name = name,
        srcs = srcs,
        size = size,
        # Static linking of our own libraries keeps the sanitizer hooks in
        # tools/sanitizers ahead of the runtime's weak defaults.
        linkstatic = True,
        deps = deps + [
            main,
            "//third_party:gtest",
            "//tools/sanitizers:suppressions",
        ],
        env = test_env,
        **kwargs
    )

def weft_fuzzer(name, srcs, deps = [], size = "small", **kwargs):
    """A libFuzzer target and the test that replays its corpus.

    `name` is a binary whose LLVMFuzzerTestOneInput is in `srcs`. Under
    --config=fuzz (tools/fuzz.sh) it is a libFuzzer binary; in every other
    configuration it links //fuzz:replay_main instead and runs the files it
    is given. `name`_replay_test runs every file of fuzz/corpus/`name`/ once
    (in `bazel test //...`, and under ASan with --config=asan). See
    docs/fuzzing.md.

    Args:
      name: the target's name, `<area>_fuzzer`.
      srcs: the sources defining LLVMFuzzerTestOneInput.
      deps: what they need.
      size: the replay test's size.
      **kwargs: passed to the replay test.
    """
    cc_library(
        name = name + "_target",
        testonly = True,
        srcs = srcs,
        # <fuzzer/FuzzedDataProvider.h> (Debian: libclang-rt-14-dev) for gcc
        # too, searched after every other directory.
        copts = ["-idirafter", "/usr/include/clang/14/include"],
        deps = deps + ["//fuzz:fuzz_check"],
        alwayslink = True,
    )
    always = [
        ":" + name + "_target",
        "//tools/sanitizers:suppressions",
    ]
    cc_binary(
        name = name,
        testonly = True,
        linkstatic = True,
        deps = always + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    cc_test(
        name = name + "_replay_test",
        size = size,
        linkstatic = True,
        deps = always + ["//fuzz:replay_main"],
        data = native.glob(["corpus/" + name + "/**"]),
        args = ["fuzz/corpus/" + name],
        **kwargs
    )
