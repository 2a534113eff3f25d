#!/bin/bash
# Runs one example program with small sizes, on the embedded runtime and
# then on a LocalCluster of two worker processes (--cluster=2), checks what
# it prints, and checks that both runs computed the same numbers.
# Usage: smoke_test.sh NAME BINARY [EXPECTED_FILE]
set -euo pipefail
name=$1
binary=$2
out=$(mktemp)
embedded=$(mktemp)
trap 'rm -f "$out" "$embedded"' EXIT
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
  local status=0
  "$binary" "$@" >"$out" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAIL: $name $* exited with status $status; output was:" >&2
    cat "$out" >&2
    exit 1
  fi
}

# Keeps the output of the embedded run for same().
keep() { cp "$out" "$embedded"; }

# same SED_SCRIPT: the output, filtered by `sed -nE SED_SCRIPT`, equals the
# kept embedded run's, filtered likewise, and is not empty.
same() {
  if ! diff -u <(sed -nE "$1" "$embedded") <(sed -nE "$1" "$out"); then
    echo "FAIL: $name: the cluster run computed something else" >&2
    exit 1
  fi
  if [ -z "$(sed -nE "$1" "$out")" ]; then
    echo "FAIL: $name: nothing to compare (sed -nE '$1')" >&2
    exit 1
  fi
}

# checks the results of a calc_mean program against NumPy's ($1).
numpy_equal() {
  if ! diff -u "$1" <(grep -E '^\[-?[0-9]' "$out"); then
    echo "FAIL: $name differs from NumPy ($1)" >&2
    exit 1
  fi
}

case "$name" in
  demo)
    run
    expect '^weft tour on embedded runtime: [0-9]+ threads?$'
    expect '^  fibers     ok$'
    expect '^   compute -> 338350 '
    expect '^2\. remote: ObjectRef\(Square-[0-9a-f]{16}\)$'
    expect '^   get -> 9$'
    expect 'pi ~ 3\.1[0-9]*$'
    expect 'same answer: yes$'
    expect 'failed task Ratio-[0-9a-f]{16} \(Ratio\): std::domain_error: division by zero$'
    expect '^5\. nested: Fib\(15\) = 610 '
    keep
    run --cluster=2
    expect '^weft tour on LocalCluster: 2 worker processes x 1 thread$'
    expect '^   compute -> 338350 '
    expect '^2\. remote: ObjectRef\(Square-[0-9a-f]{16}\)$'
    expect '^   get -> 9$'
    expect 'same answer: yes$'
    expect 'failed task Ratio-[0-9a-f]{16} \(Ratio\): std::domain_error: division by zero$'
    expect '^5\. nested: Fib\(15\) = 610 '
    same 's/.*(pi ~ [0-9.]+)$/\1/p; s/^   (get -> .*)/\1/p'
    ;;
  hello_workers)
    run --workers=3
    expect '^embedded runtime: 3 threads$'
    expect '^ids: \[0\]$'
    expect "^\['Hello, World'\]$"
    expect '^  answered by process [0-9]+ \(this program\)$'
    run --cluster=2
    expect '^LocalCluster: 2 worker processes x 1 thread$'
    expect '^ids: \[0, 1\]$'
    expect "^\['Hello, World', 'Hello, World'\]$"
    # Two answers, from two processes that are not this program.
    pids=$(sed -nE 's/^  answered by process ([0-9]+)$/\1/p' "$out" | sort -u)
    [ "$(echo "$pids" | grep -c .)" = 2 ] || {
      echo "FAIL: $name: expected answers from 2 worker processes" >&2
      cat "$out" >&2; exit 1; }
    ;;
  loo_engines)
    run --n=24 --p=4 --trees=5 --engines=2
    expect '^embedded runtime: 2 threads$'
    expect '^leave-one-out random forest on 2 engines: n = 24, p = 4, 5 trees$'
    expect '^forests fitted by the engines: 24 for 48 calls$'
    expect '^engines and serial loop agree: yes$'
    keep
    run --n=24 --p=4 --trees=5 --engines=2 --cluster=2
    expect '^LocalCluster: 2 worker processes x 1 thread$'
    expect '^engines and serial loop agree: yes$'
    same '/^(leave-one-out|predictions|LOO mean|forests)/p'
    ;;
  loo_random_forest)
    run --n=40 --p=6 --trees=10 --threads=2
    expect '^embedded runtime: 2 threads$'
    expect '^leave-one-out random forest: n = 40, p = 6, 10 trees, 2 task slots$'
    expect '^predictions: +-?[0-9]+\.[0-9]{4}'
    expect '^LOO mean squared error: [0-9]+\.[0-9]{4} '
    expect '^serial and parallel predictions identical: yes$'
    keep
    run --n=40 --p=6 --trees=10 --cluster=2
    expect '^LocalCluster: 2 worker processes x 1 thread$'
    expect '^serial and parallel predictions identical: yes$'
    same '/^(leave-one-out|predictions|observed|LOO mean)/p'
    ;;
  calc_mean_delayed | calc_mean_remote)
    if [ "$name" = calc_mean_delayed ]; then
      placeholder="^\[Delayed\('CalcMean-[0-9a-f]{16}'\),$"
    else
      placeholder="^\[ObjectRef\(CalcMean-[0-9a-f]{16}\),$"
    fi
    run
    expect '^embedded runtime: 4 threads$'
    expect "$placeholder"
    numpy_equal "$3"
    run --cluster=2
    expect '^LocalCluster: 2 worker processes x 1 thread$'
    expect "$placeholder"
    numpy_equal "$3"  # the results equal NumPy's on the cluster too
    run --n=10 --p=3
    [ "$(grep -Ec '^\[-?[0-9]' "$out")" = 3 ] || { cat "$out"; exit 1; }
    keep
    run --n=10 --p=3 --cluster=2
    same '/^\[-?[0-9]/p'
    ;;
  threaded_task)
    # n = 200: OpenBLAS runs dsyrk and dpotrf single-threaded below n = 64.
    task='task GramCholesky-[0-9a-f]{16}'
    check_threaded_task() {  # $1: the largest task's slots
      expect "^  num_cpus = 1: $task used 1 BLAS thread, .*log det = "
      expect "^  num_cpus = $1 \(all\): $task used $1 BLAS threads, "
      expect "^2\. Together: two tasks with num_cpus = 1, one with num_cpus = 2:$"
      [ "$(grep -Ec "^  num_cpus = 1: $task used 1 BLAS thread, .* at the BLAS gate" "$out")" = 2 ] || {
        echo "FAIL: $name: expected two concurrent one-slot tasks" >&2
        cat "$out" >&2; exit 1; }
      expect "^  num_cpus = 2: $task used 2 BLAS threads, .* at the BLAS gate"
      expect '^  process [0-9]+ \([0-9]+ slots?, OPENBLAS_NUM_THREADS [^)]*\): at most [0-9]+ slots? held by running tasks, [0-9]+ BLAS threads? allowed$'
      expect '^BLAS threads = task slots in every task: yes$'
      expect '^no process used more BLAS threads or slots than it has: yes$'
      expect '^same log det with every thread count: yes '
      # NumPy agrees: x = default_rng(1).normal(0, 1, (200, 200)); 2 *
      # log(diag(cholesky(x.T @ x))).sum() = 854.75738408867 (any thread
      # count changes it by ~1e-13, far from the rounding boundary).
      [ "$(grep -Ec 'log det = 854\.7573840887$' "$out")" = \
        "$(grep -c 'log det = ' "$out")" ] || {
        echo "FAIL: $name: log det differs from NumPy's 854.7573840887" >&2
        cat "$out" >&2; exit 1; }
    }
    run --n=200 --slots=2
    expect '^embedded runtime: 2 threads$'
    expect '^2 task slots, at most 2 per task; x is 200 x 200; OpenBLAS 0\.3\.'
    check_threaded_task 2
    keep
    # More slots than cores: the two-thread task shares the process with
    # one-slot tasks, so BlasThreads orders them.
    run --n=200 --slots=4
    expect '^4 task slots, at most 4 per task; x is 200 x 200; '
    expect "^  num_cpus = 2: $task used 2 BLAS threads, .*log det = "
    check_threaded_task 4
    # Workers start with OPENBLAS_NUM_THREADS=1; a task asking for two slots
    # still gets two BLAS threads.
    run --n=200 --cluster=2 --threads_per_worker=2
    expect '^LocalCluster: 2 worker processes x 2 threads$'
    expect '^4 task slots, at most 2 per task; x is 200 x 200; '
    check_threaded_task 2
    expect '^  process [0-9]+ \(2 slots, OPENBLAS_NUM_THREADS = 1\): '
    # Same thread counts and log det as the embedded run (not keys or times):
    # the same OpenBLAS with the same thread count sums in the same order.
    same 's/^  (num_cpus = [^:]+): task [^ ]+ (used [0-9]+ BLAS threads?),.*(log det = .*)/\1 \2 \3/p'
    ;;
  graph_reduction)
    dot_file="${TEST_TMPDIR:-/tmp}/graph_reduction.dot"
    check_dot() {
      grep -q 'digraph weft' "$dot_file" || { echo "FAIL: no DOT" >&2; exit 1; }
      [ "$(grep -c -- '->' "$dot_file")" = 18 ] || {
        echo "FAIL: expected 18 edges in $dot_file" >&2; cat "$dot_file" >&2; exit 1; }
    }
    run --n=10 "--dot=$dot_file"
    expect '^graph: 10 squares, 9 additions, root Add-[0-9a-f]{16}$'
    expect '^sum of squares 1\.\.10 = 385 \(n\(n\+1\)\(2n\+1\)/6 = 385\)$'
    check_dot
    keep
    rm -f "$dot_file"
    run --n=10 "--dot=$dot_file" --cluster=2
    expect '^LocalCluster: 2 worker processes x 1 thread$'
    check_dot
    same '/^sum of squares/p'
    ;;
  *)
    echo "unknown example $name" >&2
    exit 2
    ;;
esac
echo "OK: $name"
