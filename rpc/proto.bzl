"""weft_proto_library: C++ Protobuf and gRPC code from .proto files, offline.

Runs Debian's `protoc` with `grpc_cpp_plugin` in a genrule (no rules_proto, no
downloads) and wraps the generated sources in a cc_library.

Usage, in a BUILD file:

    load("//rpc:proto.bzl", "weft_proto_library")
    weft_proto_library(name = "scheduler_proto", srcs = ["scheduler.proto"])

Generated headers are included by their path inside the repository that holds
the .proto file, for example `#include "rpc/scheduler.grpc.pb.h"`, whether that
repository is the main one or an external one (weft used from another
workspace through `local_repository(name = "weft", ...)`).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

# Labels resolved against weft's repository, not the caller's: weft's own
# BUILD files and another repository's both get weft's system-library targets.
_GRPC = Label("//third_party:grpc")
_PROTOBUF = Label("//third_party:protobuf")

def _repository_root():
    """The calling package's repository root, relative to the execution root.

    "" in the main repository; "external/<name>" in an external one, where
    Bazel 4 places its sources (and, below $(GENDIR), its generated files).
    """
    repo = native.repository_name()  # "@" for the main repository
    return "" if repo == "@" else "external/" + repo[1:]

def weft_proto_library(name, srcs, deps = [], grpc = True, visibility = None):
    """Generates and compiles C++ code for `srcs`.

    Args:
      name: the cc_library to create.
      srcs: .proto files in this package.
      deps: other weft_proto_library targets, in the same repository, whose
        .proto files `srcs` import (by their path inside that repository).
      grpc: also generate gRPC service stubs (*.grpc.pb.{h,cc}).
      visibility: visibility of the cc_library.
    """
    stems = [s[:-len(".proto")] for s in srcs]
    hdrs = [s + ".pb.h" for s in stems]
    cc_srcs = [s + ".pb.cc" for s in stems]
    if grpc:
        hdrs += [s + ".grpc.pb.h" for s in stems]
        cc_srcs += [s + ".grpc.pb.cc" for s in stems]

    # The .proto files of deps, so that imports resolve inside the sandbox.
    dep_protos = [d + "_protos" for d in deps]
    native.filegroup(name = name + "_protos", srcs = srcs + dep_protos)

    # protoc names each output, and the #include lines inside the generated
    # code, by the .proto file's path relative to --proto_path. Rooting both
    # the input and output trees at the repository keeps those paths as
    # "rpc/weft.pb.h" in an external repository too (not
    # "external/weft/rpc/weft.pb.h", which no include path finds); Bazel's
    # per-repository -iquote of the generated tree resolves them.
    root = _repository_root()
    proto_path = root or "."
    out_dir = "$(GENDIR)/" + root if root else "$(GENDIR)"
    cmd = "%s --proto_path=%s --cpp_out=%s" % (_PROTOC, proto_path, out_dir)
    if grpc:
        cmd += " --grpc_out=%s --plugin=protoc-gen-grpc=%s" % (out_dir, _GRPC_PLUGIN)
    cmd += " " + " ".join(["$(location %s)" % s for s in srcs])

    native.genrule(
        name = name + "_gen",
        srcs = srcs + dep_protos,
        outs = hdrs + cc_srcs,
        cmd = cmd,
        message = "protoc " + " ".join(srcs),
    )

    cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        # Generated code is not ours to keep warning-free.
        copts = ["-w"],
        deps = deps + [_GRPC if grpc else _PROTOBUF],
        visibility = visibility,
    )
