"""Project-wide build macros."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def weft_cc_test(name, srcs, deps = [], size = "small",
                 main = "//third_party:gtest_main", **kwargs):
    """A GoogleTest test with weft's sanitizer suppressions linked in.

    Args:
      name: test name.
      srcs: test sources.
      deps: dependencies; a main() is added.
      size: Bazel test size; "small" unless the test spawns processes.
      main: the library providing main(); //core:test_main for tests whose
        binary also serves as cluster workers.
      **kwargs: passed to cc_test.
    """
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
        **kwargs
    )
