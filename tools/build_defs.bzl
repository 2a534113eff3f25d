"""Project-wide build macros."""

load("@rules_cc//cc:defs.bzl", "cc_test")

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
