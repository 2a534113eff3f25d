#!/usr/bin/env bash
# Clang's thread-safety analysis over the whole tree: every target compiled
# by clang-14 with -Wthread-safety -Werror (--config=tsa in .bazelrc). It
# checks each ABSL_GUARDED_BY field and ABSL_EXCLUSIVE_LOCKS_REQUIRED
# function against the locks taken (core/weft/internal/mutex.h); any
# warning fails the build. Nothing is linked or run.
#
#   tools/tsa.sh [BAZEL_BUILD_ARGS...]
#
# `./weft test` runs it after the suite. The build has an output base of
# its own per checkout (~/.cache/weft/bazel-tsa-<hash of this directory>):
# the clang toolchain must not replace the default build's gcc one. Its
# Bazel server exits after 10 idle minutes. See docs/build.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

tools/setup.sh

# Every package of this tree. Not `//...`: in this output base the default
# build's convenience symlinks (bazel-bin, bazel-<name>, ...) are ordinary
# directories holding other BUILD files.
targets=()
for dir in */; do
  dir=${dir%/}
  [[ "$dir" == bazel-* ]] && continue
  if [[ -n "$(find "$dir" -name BUILD -print -quit)" ]]; then
    targets+=("//${dir}/...")
  fi
done
[[ -f BUILD ]] && targets+=("//:all")

base="${HOME}/.cache/weft/bazel-tsa-$(pwd -P | md5sum | cut -c1-12)"
exec bazel "--output_base=${base}" --max_idle_secs=600 \
  build --config=tsa "$@" -- "${targets[@]}"
