"""Project-wide build macros."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def weft_cc_test(name, srcs, deps = [], size = "small", **kwargs):
    """A GoogleTest test with weft's sanitizer suppressions linked in.

    Args:
      name: test name.
      srcs: test sources.
      deps: dependencies; GoogleTest's main is added.
      size: Bazel test size; "small" unless the test spawns processes.
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
            "//third_party:gtest_main",
            "//tools/sanitizers:suppressions",
        ],
        **kwargs
    )
