#!/usr/bin/env bash
# The side-by-side benchmarks: the same workload suite on weft, Dask
# distributed and ipyparallel, one after the other on the same machine, then
# the report (table, chart, BENCHMARKS.md).
#
#   bench/run_all.sh            full sizes (~25 min on 2 cores); writes
#                               bench/results/{weft,dask,ipyparallel,scale,scale_curve}.json,
#                               table.md, chart.png and ./BENCHMARKS.md
#   bench/run_all.sh --quick    smoke run (~2 min) into bench/results/quick/
#                               (its own table, chart and BENCHMARKS.md), so
#                               it never overwrites the full results
#
# `./weft bench [--quick]` runs this. Each system's part may fail or be
# missing (e.g. //bench:workloads not written yet) without stopping the rest.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

PY=/usr/bin/python3 # Debian's Python: it has Dask, ipyparallel, sklearn.
quick=()
out=bench/results
for arg in "$@"; do
  case "$arg" in
    --quick)
      quick=(--quick)
      out=bench/results/quick
      ;;
    *)
      echo "usage: bench/run_all.sh [--quick]" >&2
      exit 2
      ;;
  esac
done
# Backstop per system (each workload also has its own timeout inside).
if ((${#quick[@]})); then limit=600; else limit=3000; fi

tools/setup.sh bench || exit 1
mkdir -p "$out"
started=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The code this run builds: the commit, and whether sources differed from it
# (the run's own outputs do not count).
commit_at_start=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain --untracked-files=no -- . \
      ':!bench/results' ':!BENCHMARKS.md' 2>/dev/null)" ]]; then
  commit_at_start+=" (with uncommitted changes)"
fi
echo "run_all: load average at start: $load_at_start (2 cores; other jobs" \
  "running now distort every figure)" >&2

# run NAME CMD...: CMD's stdout (JSON lines) -> $out/NAME.json, its stderr
# -> the terminal and $out/NAME.log; a failure is reported, not fatal.
run() {
  local name=$1
  shift
  echo "run_all: === $name ===" >&2
  local t0=$SECONDS
  timeout --kill-after=30 "$limit" "$@" >"$out/$name.json.tmp" \
    2> >(tee "$out/$name.log" >&2)
  local rc=$?
  mv "$out/$name.json.tmp" "$out/$name.json"
  echo "run_all: $name finished in $((SECONDS - t0)) s (exit $rc)" >&2
  [[ $rc -eq 0 ]] || echo "run_all: WARNING: $name exited $rc;" \
    "its results may be partial (see $out/$name.log)" >&2
}

# --- weft (the lead's //bench:workloads, JSON lines on stdout) -------------
if bazel query //bench:workloads >/dev/null 2>&1; then
  if bazel build --config=opt //bench:workloads >&2; then
    run weft bazel-bin/bench/workloads "${quick[@]}"
    # The build a user gets from the README (`bazel build`, no
    # --config=opt): W1 again, which must be within 2x of the above.
    if bazel build //bench:workloads >&2; then
      run weft-default bazel-bin/bench/workloads --no-embedded --only=W1 \
        "${quick[@]}"
    fi
  else
    echo "run_all: WARNING: bazel build //bench:workloads failed;" \
      "no weft results" >&2
    rm -f "$out/weft.json"
  fi
else
  echo "run_all: NOTE: //bench:workloads does not exist in this tree yet" \
    "(weft's side of the suite); running the peers only" >&2
  rm -f "$out/weft.json"
fi

# --- weft at scale: one scheduler, 10 to 1,000 workers; 10k..10M graphs --------
# bench/scale_bench.cc and scheduler/scheduler_state_bench.cc (--curve); the
# report's "Scale" section. Not in --quick (they take about 5 minutes).
if ((${#quick[@]} == 0)); then
  if bazel build --config=opt //bench:scale_bench \
      //scheduler:scheduler_state_bench >&2; then
    cat >"$out/scale_run.json" <<EOF
{"command": "bench/run_all.sh: bazel-bin/bench/scale_bench; bazel-bin/scheduler/scheduler_state_bench --curve --json (both --config=opt)",
 "started_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "load_average_at_start": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "commit": "$commit_at_start"}
EOF
    run scale bazel-bin/bench/scale_bench
    run scale_curve bazel-bin/scheduler/scheduler_state_bench --curve --json
  else
    echo "run_all: WARNING: the scale benchmarks did not build;" \
      "no scale results" >&2
    rm -f "$out/scale.json" "$out/scale_curve.json"
  fi
fi

# --- the peers ----------------------------------------------------------------
run dask "$PY" bench/peers/dask_bench.py "${quick[@]}"
run ipyparallel "$PY" bench/peers/ipyparallel_bench.py "${quick[@]}"

# --- the report ----------------------------------------------------------------
finished=$(date +%s)
if ((${#quick[@]})); then is_quick=true; else is_quick=false; fi
cat >"$out/run.json" <<EOF
{"command": "bench/run_all.sh${quick:+ --quick}", "quick": $is_quick,
 "started_utc": "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)",
 "duration_seconds": $((finished - started)),
 "load_average_at_start": "$load_at_start",
 "commit": "$commit_at_start"}
EOF
if ((${#quick[@]})); then
  benchmarks_md="$out/BENCHMARKS.md"
else
  benchmarks_md=BENCHMARKS.md
fi
"$PY" bench/report.py --results "$out" --benchmarks "$benchmarks_md"
echo "run_all: done in $((finished - started)) s; see $benchmarks_md" >&2
