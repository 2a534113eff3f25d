#!/usr/bin/env bash
# Installs every Debian package weft needs to build, test and benchmark.
#
#   tools/setup.sh          the base list (build, test, weft's own benchmarks)
#   tools/setup.sh bench    the base list plus the optional "bench" group:
#                           Dask, ipyparallel, scikit-learn and matplotlib for
#                           the side-by-side benchmarks (bench/run_all.sh).
#                           CI runs plain setup and never installs these.
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
  # Fuzzing (docs/fuzzing.md): clang-14 builds the libFuzzer targets
  # (tools/fuzz.sh); libclang-rt-14-dev has libFuzzer's runtime
  # (libclang_rt.fuzzer-x86_64.a, for -fsanitize=fuzzer) and
  # <fuzzer/FuzzedDataProvider.h>, which the corpus replay tests of the
  # default gcc build include too.
  clang-14 libclang-rt-14-dev
  # Test hosts (tests/testing/test_hosts.h): `ip` and `tc`. The tests also
  # use nsenter, setsid (util-linux) and getent (libc-bin), which Debian
  # always has.
  iproute2
  # Allocator for cross-thread task allocation (see third_party/BUILD).
  libjemalloc-dev
  # A threaded BLAS and LAPACKE for the tutorial's section 2
  # (examples/threaded_task.cc): OpenBLAS built with pthreads, whose thread
  # count openblas_set_num_threads() sets, and LAPACKE's C interface to its
  # LAPACK (dpotrf). libopenblas-dev alone could pick the OpenMP or serial
  # build; the example needs the pthreads one (see examples/blas_threads.h).
  libopenblas-dev libopenblas-pthread-dev liblapacke-dev
  # NumPy, for regenerating the random-number test vectors and for the
  # side-by-side benchmarks (Debian's /usr/bin/python3).
  python3-numpy
)

# Optional group "bench": the peers of bench/run_all.sh, from Debian (not pip).
BENCH_PACKAGES=(
  python3-distributed python3-ipyparallel python3-numpy python3-sklearn
  python3-matplotlib python3-psutil
)

for group in "$@"; do
  case "$group" in
    bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
    *)
      echo "setup: unknown group '$group' (known: bench)" >&2
      exit 2
      ;;
  esac
done

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
