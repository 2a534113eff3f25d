#!/bin/bash
# Builds the weft::random benchmark with --config=opt, runs it and the same
# workloads in NumPy (best of 5, N = 10**7), and prints a side-by-side table.
# Usage: bench/random_vs_numpy.sh   (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3   # Debian's Python, which has NumPy.

bazel build --config=opt //bench:random_bench >&2
json=$(mktemp)
trap 'rm -f "$json"' EXIT
# Best of 5 repetitions, like the NumPy side.
bazel-bin/bench/random_bench \
  --benchmark_filter='BM_(RandomRaw|StandardNormal)/' \
  --benchmark_repetitions=5 --benchmark_min_time=0.5 \
  --benchmark_format=json >"$json" 2>/dev/null

"$PY" - "$json" <<'PYEOF'
import json, sys, timeit
import numpy as np

N = 10**7
gen = np.random.default_rng(12345)
numpy_s = {
    "random_raw": min(timeit.repeat(
        lambda: gen.bit_generator.random_raw(size=N), number=1, repeat=5)),
    "standard_normal": min(timeit.repeat(
        lambda: gen.standard_normal(size=N), number=1, repeat=5)),
}
weft_s = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    key = "random_raw" if b["name"].startswith("BM_RandomRaw/") \
        else "standard_normal"
    secs = b["real_time"] / 1e3  # reported in ms
    weft_s[key] = min(weft_s.get(key, 1e9), secs)

print("NumPy %s, N = 10**7 values, best of 5" % np.__version__)
print("%-16s %12s %12s %14s %14s %8s" % (
    "workload", "weft ms", "numpy ms", "weft Mval/s", "numpy Mval/s",
    "speedup"))
for key in ("random_raw", "standard_normal"):
    w, n = weft_s[key], numpy_s[key]
    print("%-16s %12.2f %12.2f %14.0f %14.0f %7.2fx" % (
        key, w * 1e3, n * 1e3, N / w / 1e6, N / n / 1e6, n / w))
PYEOF
