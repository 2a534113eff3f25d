#!/usr/bin/env bash
# The layers of docs/architecture.md, checked with `bazel query`: each line
# below names a target and what must not be among its dependencies. Run by
# `./weft test`; prints what it checked and exits 1 on the first breach,
# with the path that breaks it.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

rc=0
# TARGET FORBIDDEN... (why)
check() {
  local target=$1 forbidden path
  shift
  local deps
  if ! deps=$(bazel query --noshow_progress "deps($target)" 2>/dev/null); then
    echo "layers: bazel query deps($target) failed" >&2
    rc=1
    return
  fi
  for forbidden in "$@"; do
    if grep -qxF "$forbidden" <<<"$deps"; then
      path=$(bazel query --noshow_progress \
        "somepath($target, $forbidden)" 2>/dev/null | tr '\n' ' ')
      echo "layers: $target must not depend on $forbidden: $path" >&2
      rc=1
    fi
  done
}

# The scheduler's state machine: no sockets, no runtime.
check //scheduler:scheduler_state //third_party:grpc //rpc:rpc \
  //core:api //third_party:boost_fiber
# The scheduler service: the wire, not the client runtime or fibers.
check //scheduler:service //rpc:cluster_runtime //core:api \
  //third_party:boost_fiber
# The wire layer below the client runtime.
check //rpc:rpc //rpc:cluster_runtime //core:api //third_party:boost_fiber
check //rpc:frame_stream //core:api //third_party:boost_fiber
# The shared base: nothing but Abseil.
check //core:base //core:api //rpc:rpc //third_party:grpc

if ((rc == 0)); then
  echo "layers (tools/check_layers.sh): as docs/architecture.md draws them"
fi
exit "$rc"
