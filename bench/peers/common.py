"""Shared helpers for the side-by-side benchmark peers (Dask, ipyparallel).

Everything here is importable on the driver *and* on the worker processes
(bench/peers is put on PYTHONPATH before any cluster starts), so the task
functions below are pickled by reference, exactly like a user's module.

Importing this module has no side effects beyond defining names.
"""

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager

# --------------------------------------------------------------------------
# Sizes: the figures, and a quick mode for a smoke run (< 1 min).
# --------------------------------------------------------------------------

FULL_SIZES = {
    "w1_tasks": 10_000,
    "w2_round_trips": 1_000,
    "w3_leaves": 65_536,
    "w4_tasks": 200,
    "w4_task_ms": 20.0,
    "w5_mb": 100,
    "w5_reps": 3,
    "w6_n": 200,
    "w6_p": 20,
    "w6_trees": 100,
    "w7_tasks": 200_000,
    # ipyparallel runs ~500-1,000 tiny tasks/s here: 200k would take minutes.
    "w7_tasks_ipyparallel": 20_000,
    # METG sweep: 10 us ... 100 ms in 1-2-5 steps; each step ~1.5 s.
    "metg_lengths_us": [10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000,
                        10_000, 20_000, 50_000, 100_000],
    "metg_step_seconds": 1.5,
    # Dask's W3 takes ~9 min on the 2-core machine: room for a slower day.
    "timeout_seconds": 900,
}

QUICK_SIZES = {
    "w1_tasks": 1_000,
    "w2_round_trips": 100,
    "w3_leaves": 1_024,
    "w4_tasks": 20,
    "w4_task_ms": 20.0,
    "w5_mb": 10,
    "w5_reps": 2,
    "w6_n": 30,
    "w6_p": 20,
    "w6_trees": 5,
    "w7_tasks": 5_000,
    "w7_tasks_ipyparallel": 2_000,
    "metg_lengths_us": [100, 1_000, 10_000, 100_000],
    "metg_step_seconds": 0.3,
    "timeout_seconds": 60,
}


def parse_args(description, argv=None, add_arguments=None):
    """Command line shared by both peers; `add_arguments(parser)`, if given,
    adds a peer's own flags."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, for a smoke run in under a minute")
    parser.add_argument("--only", default="",
                        help="comma-separated workloads to run "
                             "(e.g. W1_map,W2_latency); default: all")
    parser.add_argument("--w6-trees", type=int, default=None,
                        help="trees per random forest in W6 "
                             "(default 100, quick 5)")
    parser.add_argument("--w7-tasks", type=int, default=None,
                        help="number of tasks in W7 (default 200,000; "
                             "20,000 for ipyparallel)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-workload timeout in seconds")
    parser.add_argument("--w5-reps", type=int, default=None,
                        help="W5 repetitions per data kind "
                             "(default 5, quick 3)")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    sizes = dict(QUICK_SIZES if args.quick else FULL_SIZES)
    if args.w6_trees is not None:
        sizes["w6_trees"] = args.w6_trees
    if args.w7_tasks is not None:
        sizes["w7_tasks"] = args.w7_tasks
        sizes["w7_tasks_ipyparallel"] = args.w7_tasks
    if args.timeout is not None:
        sizes["timeout_seconds"] = args.timeout
    if args.w5_reps is not None:
        sizes["w5_reps"] = max(1, args.w5_reps)
    args.sizes = sizes
    args.only = {w for w in args.only.split(",") if w}
    return args


def add_peers_dir_to_pythonpath():
    """Lets spawned worker/engine processes import this module.

    Called from main(), before any cluster starts (processes inherit the
    environment), never at import.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([here] + parts)
    if here not in sys.path:
        sys.path.insert(0, here)


# --------------------------------------------------------------------------
# Output: one JSON object per line on stdout.
# --------------------------------------------------------------------------

def emit(record):
    """Prints one result record as a JSON line (flushed at once)."""
    print(json.dumps(record, sort_keys=False), flush=True)


def log(message):
    """Progress messages go to stderr, never mixed with the JSON."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


class WorkloadTimeout(Exception):
    """Raised in the main thread when a workload exceeds its time limit."""


@contextmanager
def time_limit(seconds):
    """Raises WorkloadTimeout in the main thread after `seconds`.

    Uses SIGALRM: blocking waits in Dask's and ipyparallel's clients wait on
    interruptible locks, so the exception does get through.
    """
    def on_alarm(signum, frame):
        raise WorkloadTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_workload(system, workload, fn, timeout_s, base=None):
    """Runs fn() -> list of field dicts; emits one line per dict.

    A failure or a timeout emits a line with "error" and returns False, so
    the caller can reset its cluster and carry on with the next workload.
    """
    base = dict(base or {})
    log(f"{system}: {workload} ...")
    start = time.perf_counter()
    try:
        with time_limit(timeout_s):
            results = fn()
    except Exception as exc:  # noqa: BLE001 - any failure is reported
        emit({"system": system, "workload": workload, **base,
              "error": f"{type(exc).__name__}: {exc}",
              "elapsed_seconds": round(time.perf_counter() - start, 3)})
        log(traceback.format_exc())
        return False
    for fields in results:
        emit({"system": system, "workload": workload, **base, **fields})
    log(f"{system}: {workload} done in {time.perf_counter() - start:.1f} s")
    return True


# --------------------------------------------------------------------------
# Task functions (run on the workers/engines).
# --------------------------------------------------------------------------

def inc(i):
    """W1, W2, W7: the tiny task f(i) = i + 1."""
    return i + 1


def leaf(i):
    """W3: a leaf of the reduction tree, i -> i."""
    return i


def add(a, b):
    """W3: an inner node of the reduction tree."""
    return a + b


def spin(iterations):
    """Pure-Python busy work: `iterations` additions (holds the GIL)."""
    x = 0
    for _ in range(iterations):
        x += 1
    return x


def timed_spin(iterations):
    """W4: spins and returns how long it took inside the worker (s)."""
    start = time.perf_counter()
    spin(iterations)
    return time.perf_counter() - start


def calibrate_spin(target_seconds=0.02, repeats=5):
    """Iterations of spin() per second in this process (best of repeats)."""
    probe = 200_000
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        spin(probe)
        best = min(best, time.perf_counter() - start)
    rate = probe / best
    # Refine at the target length itself (loop overheads are not linear).
    iterations = max(1, int(rate * target_seconds))
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        spin(iterations)
        best = min(best, time.perf_counter() - start)
    return iterations / best


# W5: arrays kept in the worker/engine process between tasks (ipyparallel
# direct views address engines, not objects, so the producer stores its
# result here and the consumer on the same engine reads it back).
_STORE = {}


def make_array(megabytes, kind):
    """W5 producer: a float64 array of `megabytes` MB (10**6 bytes)."""
    import numpy as np
    count = megabytes * 1_000_000 // 8
    if kind == "random":
        return np.random.default_rng(0).random(count)
    return np.ones(count)


def array_sum(x):
    """W5 consumer."""
    return float(x.sum())


def store_array(name, megabytes, kind):
    """W5 producer for ipyparallel: makes the array and keeps it here."""
    _STORE[name] = make_array(megabytes, kind)
    return _STORE[name].nbytes


def sum_stored(name):
    """W5 same-engine consumer for ipyparallel."""
    return array_sum(_STORE[name])


def get_stored(name):
    """W5: hands a stored array back (for the client-mediated move)."""
    return _STORE[name]


def drop_stored(name):
    _STORE.pop(name, None)


def make_loo_data(n, p, seed=0):
    """W6: the tutorial's data (section 3.1.3), with a fixed seed."""
    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, size=(n, p))
    Y = (X[:, 0] + np.power(np.abs(X[:, 1] * X[:, 2]), 0.5) + X[:, 1]
         - X[:, 2] + rng.normal(0, 1, n))
    return X, Y


def loo_fit(index, Y, X, trees):
    """W6: the tutorial's looFit, n_jobs=1, seeded by the held-out index."""
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    rf = RandomForestRegressor(n_estimators=trees, n_jobs=1,
                               random_state=index)
    rf.fit(np.delete(X, index, axis=0), np.delete(Y, index))
    return float(rf.predict(X[index:index + 1, :])[0])


# --------------------------------------------------------------------------
# Statistics.
# --------------------------------------------------------------------------

def percentile(values, q):
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def latency_fields(seconds):
    """W2: p50/p99/min/mean in microseconds."""
    return {
        "p50_us": round(percentile(seconds, 50) * 1e6, 1),
        "p99_us": round(percentile(seconds, 99) * 1e6, 1),
        "min_us": round(min(seconds) * 1e6, 1),
        "mean_us": round(sum(seconds) / len(seconds) * 1e6, 1),
    }


def metg_tasks_for_step(length_s, step_seconds, tasks_per_second, workers=2):
    """Tasks in one METG step so that it takes about step_seconds.

    Ideal wall time is tasks * length / workers; a system also cannot go
    faster than its tiny-task throughput, so take the smaller count.
    """
    by_work = step_seconds * workers / length_s
    by_rate = step_seconds * tasks_per_second
    return int(max(8, min(by_work, by_rate, 200_000)))


def metg_from_sweep(sweep, threshold=0.5):
    """METG(threshold): smallest task length whose efficiency >= threshold.

    `sweep` is a list of {"length_us", "efficiency"} in increasing length.
    Interpolates log(length) linearly in efficiency between the last point
    below the threshold and the first at or above it (Task Bench, SC20).
    Returns (metg_us or None, note or None).
    """
    points = sorted(sweep, key=lambda s: s["length_us"])
    for k, point in enumerate(points):
        if point["efficiency"] < threshold:
            continue
        if k == 0:
            return point["length_us"], ("efficiency already >= threshold at "
                                        "the shortest length swept: an "
                                        "upper bound")
        lo, hi = points[k - 1], point
        span = hi["efficiency"] - lo["efficiency"]
        frac = (threshold - lo["efficiency"]) / span if span > 0 else 1.0
        log_len = (math.log(lo["length_us"])
                   + frac * (math.log(hi["length_us"]) -
                             math.log(lo["length_us"])))
        return round(math.exp(log_len), 1), None
    return None, "efficiency never reached the threshold in the sweep"


# --------------------------------------------------------------------------
# Memory: RSS of a set of processes, and its peak while something runs.
# --------------------------------------------------------------------------

def rss_bytes(processes):
    """Sum of the resident set sizes of psutil.Process objects."""
    total = 0
    for proc in processes:
        try:
            total += proc.memory_info().rss
        except Exception:  # noqa: BLE001 - a process may have exited
            pass
    return total


class PeakRss:
    """Samples RSS of some processes every `interval` s in a thread."""

    def __init__(self, processes, interval=0.005):
        self._processes = processes
        self._interval = interval
        self._stop = threading.Event()
        self.peak = rss_bytes(processes)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self._processes))
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self._processes))


def metg_sweep(sizes, spin_rate, tasks_per_second, run_batch, cleanup=None):
    """Task Bench's METG(50%) sweep, shared by the peers.

    `run_batch(iterations, n)` runs n independent `spin(iterations)` tasks
    on the system under test and returns when all are done; `cleanup()`,
    if given, runs after each timed batch, outside the timing. Returns the
    workload's record: `metg_us`, the `sweep` points and a `note` if any.
    """
    sweep = []
    for length_us in sizes["metg_lengths_us"]:
        length = length_us / 1e6
        n = metg_tasks_for_step(length, sizes["metg_step_seconds"],
                                tasks_per_second)
        iterations = max(1, int(spin_rate * length))
        start = time.perf_counter()
        run_batch(iterations, n)
        wall = time.perf_counter() - start
        if cleanup is not None:
            cleanup()
        sweep.append({"length_us": length_us, "tasks": n,
                      "wall_seconds": round(wall, 4),
                      "efficiency": round(n * length / 2 / wall, 4)})
    metg_us, note = metg_from_sweep(sweep)
    record = {"metg_us": metg_us, "sweep": sweep}
    if note:
        record["note"] = note
    return record
