#!/usr/bin/env bash
# Builds one fuzz target with libFuzzer and AddressSanitizer (clang-14,
# --config=fuzz) and runs it for SECONDS from its corpus in the tree.
#
#   tools/fuzz.sh TARGET SECONDS [--merge] [LIBFUZZER_FLAGS...]
#   tools/fuzz.sh serialize_fuzzer 600
#   tools/fuzz.sh frame_fuzzer 60 --merge      # keep what adds coverage
#   tools/fuzz.sh serialize_fuzzer 0 fuzz/findings/crash-...   # reproduce
#
# TARGET is a name in fuzz/BUILD (e.g. serialize_fuzzer). New inputs go to a
# scratch directory, not into the tree; with --merge, those that add
# coverage are merged into fuzz/corpus/TARGET/ at the end (libFuzzer
# -merge=1). Findings (crash-*, leak-*, oom-*, timeout-* files) go to
# fuzz/findings/ (ignored by git), and the script exits 1 if there is one.
# With SECONDS = 0 and files after it, runs the target on those files only.
#
# The build has an output base of its own (~/.cache/weft/bazel-fuzz): the
# clang toolchain must not replace the default build's gcc one. Its Bazel
# server exits after 10 idle minutes. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

(($# >= 2)) || usage
target=$1
seconds=$2
shift 2
merge=0
if [[ "${1:-}" == "--merge" ]]; then
  merge=1
  shift
fi
[[ "$target" =~ ^[a-z_]+_fuzzer$ ]] || usage
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

tools/setup.sh

bazel_fuzz=(bazel "--output_base=${HOME}/.cache/weft/bazel-fuzz"
  --max_idle_secs=600)
"${bazel_fuzz[@]}" build --config=fuzz "//fuzz:${target}" >&2
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)/fuzz/${target}"

corpus="fuzz/corpus/${target}"
findings="fuzz/findings"
mkdir -p "$corpus" "$findings"

# Known leaks of gRPC and Abseil at exit are not findings of ours
# (tools/sanitizers/suppressions.cc is linked in); a run stops at the first
# finding.
asan_options=detect_leaks=1:detect_stack_use_after_return=0
# worker_fuzzer: a quarantine of freed memory of 16 MiB, not ASan's 256.
# Through the larger one, each allocation took fresh pages (faults, and
# TLB shootdowns across the worker's threads): 5,000 inputs cost 23.0 and
# 27.7 s of CPU with it, 17.5 and 21.2 with 16 MiB (the same seed, two
# rounds; 6 December 2026). A use after free is still caught while the
# memory has not been reused, now within the last 16 MiB freed. And freed
# pages are kept, not given back to the kernel every 5 s: on this machine
# a first touch of a page costs about 13 us (100 MB of fresh memory took
# 330 ms to fill), so pages given back were paid for again. 3,000 inputs
# of one seed: 11.5 and 10.8 s of CPU kept, 12.3 and 11.9 given back (two
# rounds each, alternated; 6 December 2026).
if [[ "$target" == worker_fuzzer ]]; then
  asan_options+=:quarantine_size_mb=16:allocator_release_to_os_interval_ms=-1
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-${asan_options}}"
common=(-timeout=10 -rss_limit_mb=4096 "-artifact_prefix=${findings}/"
  -print_final_stats=1)
# gRPC frees some of a call's objects on its own threads after the call
# returns (and a worker's threads outlive the input that started their
# work), which libFuzzer's per-input leak check takes for leaks; the check
# at exit stays (docs/fuzzing.md).
case "$target" in
  data_client_fuzzer | worker_fuzzer | client_fuzzer) common+=(-detect_leaks=0) ;;
esac
# libFuzzer keeps as "rare" at least 100 features and every feature hit
# fewer than 256 times; it searches that list for every feature of every
# input. The scheduler target's inputs touch thousands of features, most
# of them rare by that measure: the search took half its time (perf, 5
# December 2026). With the bound at 32 hits, replaying its corpus ran
# twice as fast (511 inputs a second against 255) and a minute of fuzzing
# 1.4 times (725 against 531), reaching as many features
# (docs/fuzzing.md). worker_fuzzer spent 30% in the same search; with the
# bound, 243 inputs a second against 220.
case "$target" in
  scheduler_fuzzer | worker_fuzzer)
    common+=(-entropic_feature_frequency_threshold=32) ;;
esac

if ((seconds == 0)); then
  exec "$bin" "${common[@]}" "$@"
fi

scratch=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$scratch" "$log"' EXIT
echo "fuzz: ${target} for ${seconds} s, corpus ${corpus} ($(ls "$corpus" | wc -l) inputs)" >&2
set +e
start=$SECONDS
"$bin" "${common[@]}" -max_total_time="$seconds" "$@" "$scratch" "$corpus" \
  2>&1 | tee "$log" | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|==[0-9]+==' >&2
rc=${PIPESTATUS[0]}
elapsed=$((SECONDS - start))
set -e

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
# (libFuzzer also writes slow-unit-* files, which are not findings.)
found=$(grep -cE "^artifact_prefix=.*Test unit written to ${findings}/(crash|leak|oom|timeout)-" "$log" || true)
echo "fuzz: ${target}: ${executions:-?} executions in ${elapsed} s (${per_second:-?}/s), ${found} findings (exit ${rc})"
if ((found > 0)); then
  grep -E "Test unit written to ${findings}/(crash|leak|oom|timeout)-" "$log" || true
  grep -A8 -E '^==[0-9]+==ERROR|deadly signal' "$log" | head -40 || true
fi

if ((merge == 1)); then
  before=$(ls "$corpus" | wc -l)
  "$bin" -merge=1 "${common[@]}" "$corpus" "$scratch" >/dev/null 2>&1
  echo "fuzz: merged: ${corpus} has $(ls "$corpus" | wc -l) inputs (was ${before}), $(du -sh --apparent-size "$corpus" | cut -f1)"
fi
((rc == 0 && found == 0))
