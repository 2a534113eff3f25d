#!/bin/bash
# Runs one example program with small sizes and checks what it prints.
# Usage: smoke_test.sh NAME BINARY [EXPECTED_FILE]
set -euo pipefail
name=$1
binary=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export WEFT_PROGRESS=0

# expect REGEX: the output has a line matching REGEX (grep -E).
expect() {
  if ! grep -Eq -- "$1" "$out"; then
    echo "FAIL: $name: no line matches /$1/; output was:" >&2
    cat "$out" >&2
    exit 1
  fi
}

# Runs the binary with the given flags; it must exit 0.
run() {
  if ! "$binary" "$@" >"$out" 2>&1; then
    echo "FAIL: $name $* exited with status $?; output was:" >&2
    cat "$out" >&2
    exit 1
  fi
}

case "$name" in
  demo)
    run
    expect '^  fibers     ok$'
    expect '^   compute -> 338350 '
    expect '^2\. remote: ObjectRef\(Square-[0-9a-f]{16}\)$'
    expect '^   get -> 9$'
    expect 'pi ~ 3\.1[0-9]*$'
    expect 'same answer: yes$'
    expect 'failed task Ratio-[0-9a-f]{16} \(Ratio\): std::domain_error: division by zero$'
    expect '^5\. nested: Fib\(15\) = 610 '
    ;;
  hello_workers)
    run --workers=3
    expect "^slots: \[0, 1, 2\]$"
    expect "^\['Hello, World', 'Hello, World', 'Hello, World'\]$"
    expect '^  answered by task Hello-[0-9a-f]{16}$'
    ;;
  loo_random_forest)
    run --n=40 --p=6 --trees=10 --threads=2
    expect '^leave-one-out random forest: n = 40, p = 6, 10 trees, 2 task slots$'
    expect '^predictions: +-?[0-9]+\.[0-9]{4}'
    expect '^LOO mean squared error: [0-9]+\.[0-9]{4} '
    expect '^serial and parallel predictions identical: yes$'
    ;;
  calc_mean_delayed | calc_mean_remote)
    run
    if [ "$name" = calc_mean_delayed ]; then
      expect "^\[Delayed\('CalcMean-[0-9a-f]{16}'\),$"
    else
      expect "^\[ObjectRef\(CalcMean-[0-9a-f]{16}\),$"
    fi
    # The results equal NumPy's.
    if ! diff -u "$3" <(grep -E '^\[-?[0-9]' "$out"); then
      echo "FAIL: $name differs from NumPy ($3)" >&2
      exit 1
    fi
    run --n=10 --p=3
    [ "$(grep -Ec '^\[-?[0-9]' "$out")" = 3 ] || { cat "$out"; exit 1; }
    ;;
  threaded_task)
    run --n=60 --slots=2
    expect '^2 task slots; x is 60 x 60$'
    expect '^num_cpus = 1: task GramCholesky-[0-9a-f]{16} used 1 thread,'
    expect '^num_cpus = 2: task GramCholesky-[0-9a-f]{16} used 2 threads,'
    expect '^num_cpus = 4: task GramCholesky-[0-9a-f]{16} used 2 threads,'
    expect '^same result with every thread count: yes$'
    ;;
  graph_reduction)
    dot_file="${TEST_TMPDIR:-/tmp}/graph_reduction.dot"
    run --n=10 "--dot=$dot_file"
    expect '^graph: 10 squares, 9 additions, root Add-[0-9a-f]{16}$'
    expect '^sum of squares 1\.\.10 = 385 \(n\(n\+1\)\(2n\+1\)/6 = 385\)$'
    grep -q 'digraph weft' "$dot_file" || { echo "FAIL: no DOT" >&2; exit 1; }
    [ "$(grep -c -- '->' "$dot_file")" = 18 ] || {
      echo "FAIL: expected 18 edges in $dot_file" >&2; cat "$dot_file" >&2; exit 1; }
    ;;
  *)
    echo "unknown example $name" >&2
    exit 2
    ;;
esac
echo "OK: $name"
