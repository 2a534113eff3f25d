"""weft_proto_library: C++ Protobuf and gRPC code from .proto files, offline.

Runs Debian's `protoc` with `grpc_cpp_plugin` in a genrule (no rules_proto, no
downloads) and wraps the generated sources in a cc_library.

Usage, in a BUILD file:

    load("//rpc:proto.bzl", "weft_proto_library")
    weft_proto_library(name = "scheduler_proto", srcs = ["scheduler.proto"])

Generated headers are included by their workspace path, for example
`#include "rpc/scheduler.grpc.pb.h"`.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def weft_proto_library(name, srcs, deps = [], grpc = True, visibility = None):
    """Generates and compiles C++ code for `srcs`.

    Args:
      name: the cc_library to create.
      srcs: .proto files in this package.
      deps: other weft_proto_library targets whose .proto files `srcs` import.
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

    cmd = "%s --proto_path=. --cpp_out=$(GENDIR)" % _PROTOC
    if grpc:
        cmd += " --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=%s" % _GRPC_PLUGIN
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
        deps = deps + ["//third_party:grpc" if grpc else "//third_party:protobuf"],
        visibility = visibility,
    )
