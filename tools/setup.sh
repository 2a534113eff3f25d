#!/usr/bin/env bash
# Installs every Debian package weft needs to build, test and benchmark.
#
# Idempotent and quick: when everything is installed it only asks dpkg and
# returns within a second or two. It is the project's only install step; the
# `./weft` commands call it before doing anything else.
set -euo pipefail

PACKAGES=(
  # Build system, offline (see WORKSPACE).
  bazel-bootstrap bazel-rules-java bazel-platforms
  # Toolchain.
  g++ pkg-config
  # RPC and serialization.
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev
  # Abseil, Boost (Asio is header-only; Fiber needs Context).
  libabsl-dev libboost-dev libboost-fiber-dev libboost-context-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Allocator for cross-thread task allocation (see third_party/BUILD).
  libjemalloc-dev
  # NumPy, for regenerating the random-number test vectors and for the
  # side-by-side benchmarks (Debian's /usr/bin/python3).
  python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
