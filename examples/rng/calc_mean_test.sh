#!/bin/bash
# Checks that the C++ examples print exactly what NumPy prints, on the
# embedded runtime and on a LocalCluster of two worker processes.
# Usage: calc_mean_test.sh BINARY EXPECTED [BINARY EXPECTED ...]
set -euo pipefail
status=0
while [ $# -gt 0 ]; do
  for flags in "" "--cluster=2"; do
    # $flags unquoted: empty means no argument.
    # shellcheck disable=SC2086
    if ! diff -u "$2" <("$1" $flags); then
      echo "FAIL: $1 $flags differs from $2" >&2
      status=1
    else
      echo "OK: $1 $flags"
    fi
  done
  shift 2
done
exit $status
