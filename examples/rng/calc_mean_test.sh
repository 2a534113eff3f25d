#!/bin/bash
# Checks that the C++ examples print exactly what NumPy prints.
# Usage: calc_mean_test.sh BINARY EXPECTED [BINARY EXPECTED ...]
set -euo pipefail
status=0
while [ $# -gt 0 ]; do
  if ! diff -u "$2" <("$1"); then
    echo "FAIL: $1 differs from $2" >&2
    status=1
  else
    echo "OK: $1"
  fi
  shift 2
done
exit $status
