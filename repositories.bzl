"""weft_dependencies(): the repositories weft's BUILD files need, offline.

weft's own WORKSPACE calls it, and so does the WORKSPACE of any other Bazel
workspace that uses weft (docs/build.md, "Using weft from your own Bazel
workspace"):

    local_repository(name = "weft", path = "/path/to/weft")

    load("@weft//:repositories.bzl", "weft_dependencies")

    weft_dependencies()

Every repository comes from a Debian package (tools/setup.sh installs them) or
from weft's own tree; nothing is downloaded. A repository the calling
WORKSPACE already declared above the call is left alone, so a workspace
with its own rules_java, say, keeps it.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")

# A file in weft's third_party/ package, resolved against weft's repository
# whatever name the calling workspace gave it. Its directory holds the
# repositories weft carries in its tree.
_THIRD_PARTY_ANCHOR = Label("//third_party:BUILD")

def _weft_tree_repository_impl(rctx):
    src = rctx.path(rctx.attr._anchor).dirname.get_child(rctx.attr.dir)
    if not src.exists:
        fail("weft: %s is missing from weft's third_party/" % rctx.attr.dir)
    for entry in src.readdir():
        rctx.symlink(entry, entry.basename)

# A repository whose files are a directory of weft's third_party/ (symlinked).
# local_repository cannot name it: its path is relative to the *calling*
# workspace, and weft's absolute location is known only here, through a label.
_weft_tree_repository = repository_rule(
    implementation = _weft_tree_repository_impl,
    attrs = {
        "dir": attr.string(mandatory = True, doc = "directory under third_party/"),
        "_anchor": attr.label(default = _THIRD_PARTY_ANCHOR),
    },
    local = True,
)

def weft_dependencies():
    """Declares rules_cc, rules_java, platforms and remote_coverage_tools.

    Call from a WORKSPACE file, after the repository holding weft is declared.
    Each repository is declared only if the WORKSPACE has not declared one of
    that name already.

    - rules_java, platforms: Debian's bazel-rules-java and bazel-platforms
      (/usr/share/bazel/...). Bazel 4's built-in WORKSPACE suffix would
      otherwise download them.
    - rules_cc: weft's third_party/rules_cc, a stand-in that forwards
      `load("@rules_cc//cc:defs.bzl", ...)` to Bazel's native C++ rules.
    - remote_coverage_tools: weft's third_party/remote_coverage_tools, empty
      targets that let `bazel test` set up offline.
    """
    maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    maybe(
        native.local_repository,
        name = "platforms",
        path = "/usr/share/bazel/tools/platforms",
    )
    maybe(
        _weft_tree_repository,
        name = "rules_cc",
        dir = "rules_cc",
    )
    maybe(
        _weft_tree_repository,
        name = "remote_coverage_tools",
        dir = "remote_coverage_tools",
    )
