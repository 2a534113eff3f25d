#!/bin/bash
# Runs tests/chaos_test.cc as a soak: graph after graph while workers are
# killed and stopped at random, for SECONDS (default 1800: 30 minutes), then
# prints what it saw (graphs, kills, stops; every graph's total checked).
# Not part of CI. With --asan, under AddressSanitizer.
#
#   tools/chaos_soak.sh [SECONDS] [--asan]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=1800
config=()
for arg in "$@"; do
  case "$arg" in
    --asan) config=(--config=asan) ;;
    ''|*[!0-9]*) echo "usage: tools/chaos_soak.sh [SECONDS] [--asan]" >&2; exit 2 ;;
    *) seconds="$arg" ;;
  esac
done
exec bazel test "${config[@]}" //tests:chaos_test \
  --test_env=WEFT_CHAOS_SECONDS="$seconds" \
  --test_timeout=$((seconds + 600)) --test_output=all --cache_test_results=no
