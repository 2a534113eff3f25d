#!/bin/bash
# Uses weft from another Bazel workspace, as docs/build.md tells users to:
# copies tests/consumer/ out of weft's tree, points its local_repository at
# this weft source tree, and with a nested Bazel (offline: downloads are
# disabled) runs `bazel test //...` there (which builds the program and runs
# it) and then runs the built program directly. The program runs work on the
# embedded runtime and on a LocalCluster of two worker processes and checks
# the results; this script checks what it printed.
#
# Usage: consumer_test.sh WEFT_WORKSPACE_FILE CONSUMER_FILE...
#   WEFT_WORKSPACE_FILE  weft's WORKSPACE (locates the source tree)
#   CONSUMER_FILE...     the files of tests/consumer/
#
# The nested Bazel runs in batch mode (no server is left behind) with its
# output tree under $TEST_TMPDIR. It shares weft's disk cache
# (~/.cache/weft/bazel-disk of the user running the test), so only the first
# run on a machine compiles weft from scratch.
set -euo pipefail

weft_root=$(dirname "$(readlink -f "$1")")
shift

ws="$TEST_TMPDIR/ws"
rm -rf "$ws"
mkdir -p "$ws"
for f in "$@"; do
  name=$(basename "$f")
  case "$name" in
    WORKSPACE.in) sed "s|@WEFT_ROOT@|$weft_root|" "$f" >"$ws/WORKSPACE" ;;
    BUILD.in) cp "$f" "$ws/BUILD" ;;
    bazelrc.in) cp "$f" "$ws/.bazelrc" ;;
    *) cp "$f" "$ws/$name" ;;
  esac
done
for f in WORKSPACE BUILD .bazelrc main.cc run.sh; do
  [[ -f "$ws/$f" ]] || { echo "FAIL: consumer workspace lacks $f" >&2; exit 1; }
done
chmod +x "$ws/run.sh"

# Bazel gives tests an empty HOME; the disk cache is the real user's.
user_home=$(getent passwd "$(id -u)" | cut -d: -f6)
disk_cache="${user_home:-$TEST_TMPDIR}/.cache/weft/bazel-disk"
export HOME="$TEST_TMPDIR/home"
mkdir -p "$HOME"

# The consumer's own .bazelrc and the system one (Debian's /etc/bazel/bazelrc
# names the install base), not ~/.bazelrc.
startup=(--batch --nohome_rc
         "--output_user_root=$TEST_TMPDIR/bazel-root")
flags=("--disk_cache=$disk_cache" --experimental_repository_disable_download
       --color=no --curses=no --noshow_progress)

log="$TEST_TMPDIR/consumer.log"
cd "$ws"
if ! bazel "${startup[@]}" test "${flags[@]}" --nocache_test_results \
    --test_output=all //... >"$log" 2>&1; then
  echo "FAIL: bazel test //... in the consumer workspace; output was:" >&2
  cat "$log" >&2
  exit 1
fi
grep -q '^//:consumer_test  *PASSED' "$log" || {
  echo "FAIL: //:consumer_test did not pass; output was:" >&2
  cat "$log" >&2
  exit 1
}

# The program as a user runs it, outside Bazel's test runner.
out="$TEST_TMPDIR/consumer.out"
rc=0
timeout 120 bazel-bin/consumer >"$out" 2>&1 || rc=$?
if ((rc != 0)); then
  echo "FAIL: bazel-bin/consumer exited with status $rc; output was:" >&2
  cat "$out" >&2
  exit 1
fi
for line in \
    'embedded runtime: sum of squares 0..9 = 285, Square(3) = 9' \
    'LocalCluster of 2 workers: sum of squares 0..9 = 285, Square(3) = 9' \
    'consumer: ok'; do
  grep -qxF "$line" "$out" || {
    echo "FAIL: the program did not print '$line'; output was:" >&2
    cat "$out" >&2
    exit 1
  }
done
cat "$out"
# How much the nested build took from the disk cache.
grep -E '^INFO: ([0-9]+ processes|Elapsed time)' "$log" || true
echo "OK: weft used from another workspace"
