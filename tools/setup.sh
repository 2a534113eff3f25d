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
  # Mutual TLS (rpc/tls.h): OpenSSL 3, the same libssl Debian's gRPC links;
  # the openssl command for inspecting what `weft tls init` made.
  libssl-dev openssl
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
  # The ssh test harness (tests/testing/ssh_hosts.h): each test runs its own
  # sshd (/usr/sbin/sshd) with a private configuration inside test hosts,
  # and ssh / ssh-keygen as the client. Installing the server never starts
  # the machine's own sshd (see the policy below), and the tests never read
  # or write /etc/ssh or ~/.ssh.
  openssh-server openssh-client
  # A real SLURM cluster on test hosts (tests/testing/slurm_cluster.h): the
  # controller and node daemons, the client commands (sbatch, srun, squeue,
  # scancel, sinfo, scontrol) and munge, which authenticates them. The tests
  # run daemons of their own; the system-wide services stay off (below).
  slurmctld slurmd slurm-client munge
  # Allocator for cross-thread task allocation (see third_party/BUILD).
  libjemalloc-dev
  # A threaded BLAS and LAPACKE for the tutorial's section 2
  # (examples/threaded_task.cc): OpenBLAS built with pthreads, whose thread
  # count openblas_set_num_threads() sets, and LAPACKE's C interface to its
  # LAPACK (dpotrf). libopenblas-dev alone could pick the OpenMP or serial
  # build; the example needs the pthreads one (see examples/blas_threads.h).
  libopenblas-dev libopenblas-pthread-dev liblapacke-dev
  # Observability tests (tests/observability_test.cc, docs/dashboard.md):
  # nlohmann's JSON library reads the dashboard's, the reports' and
  # Chromium's JSON in tests; Prometheus (its server and promtool) checks
  # /metrics; Chromium, headless, loads the dashboard and a report
  # (fonts-dejavu-core so that its screenshots have legible text).
  nlohmann-json3-dev prometheus chromium fonts-dejavu-core
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
# These are build and test tools: installing them must not start services
# (openssh-server would start the machine's sshd on port 22). Debian's
# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d, and exit
# code 101 means "do not start". If the machine has no policy of its own
# (container images usually have one saying exactly that), one is put there
# for the install and removed afterwards. On a machine booted with systemd
# the package still enables ssh.service for the next boot; run
# `systemctl disable ssh` there if that is unwanted.
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e "$POLICY" ]]; then
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
  printf '#!/bin/sh\n# Written by weft tools/setup.sh for one install.\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
fi
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian's munge, slurmctld, slurmd and prometheus packages enable their
# services and start them where the init system lets them. Nothing in weft
# uses them (the SLURM tests start their own daemons with their own
# configuration, ports and munge socket; the Prometheus test its own server
# on a free port), so setup stops and disables the services it has just
# installed; services that were installed before are left alone.
services=()
for p in "${missing[@]}"; do
  case "$p" in munge | slurmctld | slurmd | prometheus) services+=("$p") ;; esac
done
for s in "${services[@]}"; do
  if [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl stop "$s" >/dev/null 2>&1 || true
  else
    "${SUDO[@]}" "/etc/init.d/$s" stop >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null; then
    "${SUDO[@]}" systemctl disable "$s" >/dev/null 2>&1 || true
  else
    "${SUDO[@]}" update-rc.d "$s" disable >/dev/null 2>&1 || true
  fi
done
