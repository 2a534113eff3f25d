#!/usr/bin/python3
"""Dask distributed side of the side-by-side benchmarks (bench/run_all.sh).

    /usr/bin/python3 bench/peers/dask_bench.py [--quick] [--only W1_map,...]

Prints one JSON object per line on stdout (schema: bench/README.md);
progress goes to stderr. Cluster: distributed.LocalCluster with 2 worker
processes x 1 thread on loopback; the scheduler runs inside this process
(an event loop thread), as LocalCluster(processes=True) does.

Systems reported: "dask" (default config) and "dask-saturation-inf"
(distributed.scheduler.worker-saturation = inf; startup and W1 only).

With --scheduler ADDRESS it starts no cluster: it connects to a running
dask-scheduler with 2 workers (bench/crosshost.sh starts them on other test
hosts, with this directory on their PYTHONPATH) and reports the workloads
as system --system NAME (default "dask-remote"); no dask-saturation-inf.
"""

import gc
import logging
import time

import common
from common import log

# A running cluster's scheduler address (--scheduler), or None: LocalCluster.
_REMOTE_SCHEDULER = None


def start_cluster(saturation=None):
    """Starts LocalCluster(2 x 1, processes) + Client; returns (cluster,
    client, seconds). `saturation` overrides worker-saturation if given."""
    import dask
    from distributed import Client, LocalCluster

    overrides = {}
    if saturation is not None:
        overrides["distributed.scheduler.worker-saturation"] = saturation
    start = time.perf_counter()
    if _REMOTE_SCHEDULER is not None:
        client = Client(_REMOTE_SCHEDULER, timeout=60)
        client.wait_for_workers(2, timeout=60)
        return None, client, time.perf_counter() - start
    with dask.config.set(overrides):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        client.wait_for_workers(2)
    return cluster, client, time.perf_counter() - start


def stop_cluster(cluster, client):
    for closable in (client, cluster):
        if closable is None:
            continue
        try:
            closable.close()
        except Exception:  # noqa: BLE001 - best effort at shutdown
            pass


def wait_idle(client, limit_s=60.0):
    """Waits until the scheduler has forgotten every task (e.g. the 200k
    released by W7), so one workload's clean-up does not bleed into the
    next one's timing."""
    def pending(dask_scheduler):
        return len(dask_scheduler.tasks)
    deadline = time.perf_counter() + limit_s
    while (client.run_on_scheduler(pending) > 0
           and time.perf_counter() < deadline):
        time.sleep(0.1)


def warm_up(client):
    """A few tasks so connections and imports are hot (not measured)."""
    client.gather(client.map(common.inc, range(200), pure=False))
    client.submit(common.inc, 0, pure=False).result()


# --------------------------------------------------------------------------
# Workloads. Each returns a list of field dicts (one JSON line each).
# --------------------------------------------------------------------------

def w1_map(client, sizes):
    """10,000 independent f(i) = i + 1, client.map, then gather all."""
    n = sizes["w1_tasks"]
    start = time.perf_counter()
    futures = client.map(common.inc, range(n), pure=False)
    results = client.gather(futures)
    wall = time.perf_counter() - start
    assert sum(results) == n * (n + 1) // 2
    return [{"tasks": n, "wall_seconds": round(wall, 4),
             "tasks_per_second": round(n / wall, 1)}]


def w1_delayed(client, sizes):
    """The same tasks through dask.delayed + dask.compute (graph path)."""
    import dask
    n = sizes["w1_tasks"]
    start = time.perf_counter()
    lazy = [dask.delayed(common.inc, pure=False)(i) for i in range(n)]
    built = time.perf_counter()
    results = dask.compute(*lazy)
    wall = time.perf_counter() - start
    assert sum(results) == n * (n + 1) // 2
    return [{"tasks": n, "wall_seconds": round(wall, 4),
             "build_seconds": round(built - start, 4),
             "tasks_per_second": round(n / wall, 1),
             "note": "tasks_per_second counts building the delayed objects "
                     "and dask.compute"}]


def w2_latency(client, sizes):
    """Sequential round trips: submit one tiny task, wait for its result."""
    rounds = sizes["w2_round_trips"]
    for i in range(20):  # warm-up, not measured
        client.submit(common.inc, i, pure=False).result()
    seconds = []
    for i in range(rounds):
        start = time.perf_counter()
        client.submit(common.inc, i, pure=False).result()
        seconds.append(time.perf_counter() - start)
    return [{"round_trips": rounds, **common.latency_fields(seconds),
             "note": "Dask batches messages on every hop: a BatchedSend "
                     "holds a message until its interval has passed since "
                     "the previous send (client 10 ms, scheduler 5 ms, "
                     "worker 2 ms; hard-coded in distributed 2022.12)"}]


def w3_tree(client, sizes):
    """Binary tree reduction over 65,536 leaves with dask.delayed."""
    import dask
    leaves = sizes["w3_leaves"]
    start = time.perf_counter()
    level = [dask.delayed(common.leaf)(i) for i in range(leaves)]
    while len(level) > 1:
        pairs = [dask.delayed(common.add)(level[k], level[k + 1])
                 for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    built = time.perf_counter()
    # client.compute is what dask.compute does under a distributed Client;
    # calling it directly splits graph submission from execution.
    future = client.compute(level[0])
    submitted = time.perf_counter()
    total = future.result()
    done = time.perf_counter()
    expected = leaves * (leaves - 1) // 2
    return [{"leaves": leaves, "tasks": 2 * leaves - 1,
             "build_seconds": round(built - start, 4),
             "compute_seconds": round(done - built, 4),
             "submit_seconds": round(submitted - built, 4),
             "total_seconds": round(done - start, 4),
             "sum_ok": total == expected,
             "note": "compute_seconds = client.compute (graph packing and "
                     "submission, submit_seconds) + execution"}]


def w4_cpu(client, sizes, spin_rate):
    """200 tasks of ~20 ms of pure-Python busy work, map + gather."""
    n, task_ms = sizes["w4_tasks"], sizes["w4_task_ms"]
    iterations = int(spin_rate * task_ms / 1e3)
    start = time.perf_counter()
    inside = client.gather(client.map(common.timed_spin, [iterations] * n,
                                      pure=False))
    wall = time.perf_counter() - start
    return [{"tasks": n, "task_ms": task_ms,
             "task_ms_measured_in_workers": round(sum(inside) / n * 1e3, 2),
             "wall_seconds": round(wall, 4),
             "efficiency": round(n * task_ms / 1e3 / 2 / wall, 4)}]


def w5_data(client, sizes):
    """100 MB float64 made on worker 0, summed on worker 1.

    move = (consumer on worker 1) - (consumer on worker 0, same worker),
    medians over repetitions; a fresh producer each repetition so worker 1
    never already holds a copy.
    """
    from distributed import wait
    workers = sorted(client.scheduler_info()["workers"])
    w0, w1 = workers[0], workers[1]
    mb, reps = sizes["w5_mb"], sizes["w5_reps"]
    pin = {"allow_other_workers": False, "pure": False}
    records = []

    def last_move(dask_worker, nbytes):
        """The duration of w1's newest incoming transfer of >= nbytes."""
        for entry in reversed(dask_worker.transfer_incoming_log):
            if entry["total"] >= nbytes:
                return entry["duration"]
        return None

    for kind in ("random", "constant"):
        same_s, cross_s, worker_s = [], [], []
        for _ in range(reps):
            produced = client.submit(common.make_array, mb, kind,
                                     workers=[w0], **pin)
            wait(produced)
            start = time.perf_counter()
            client.submit(common.array_sum, produced, workers=[w0],
                          **pin).result()
            same_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.submit(common.array_sum, produced, workers=[w1],
                          **pin).result()
            cross_s.append(time.perf_counter() - start)
            # The receiving worker's own record of the move (Dask's
            # transfer_incoming_log), as weft's W5 reads its transfer events.
            moved = client.run(last_move, nbytes=mb * 1_000_000,
                               workers=[w1]).get(w1)
            if moved:
                worker_s.append(moved)
            del produced
            time.sleep(0.2)  # let both workers drop their copies
        move = common.median(cross_s) - common.median(same_s)
        worker = {}
        if worker_s:
            worker = {"worker_move_seconds": round(common.median(worker_s), 4),
                      "worker_mb_per_second":
                          round(mb / common.median(worker_s), 1)}
        records.append({**worker,
            "data": kind, "megabytes": mb, "repetitions": reps,
            "same_worker_seconds": round(common.median(same_s), 4),
            "cross_worker_seconds": round(common.median(cross_s), 4),
            "move_seconds": round(move, 4),
            "mb_per_second": round(mb / move, 1) if move > 0 else None,
            "note": "worker-to-worker over Dask comms ("
                    + ("TCP between hosts" if _REMOTE_SCHEDULER
                       else "TCP loopback") + "); "
                    "compression=" + _compression() + " (Dask default)"})
    return records


def _compression():
    import dask
    setting = dask.config.get("distributed.comm.compression")
    if setting == "auto":
        from distributed.protocol import compression
        return f"auto->{compression.default_compression}"
    return str(setting)


def w6_loo_rf(client, sizes):
    """The tutorial's leave-one-out CV of a random forest, 2 workers."""
    n, p, trees = sizes["w6_n"], sizes["w6_p"], sizes["w6_trees"]
    X, Y = common.make_loo_data(n, p)
    start = time.perf_counter()
    serial = [common.loo_fit(i, Y, X, trees) for i in range(n)]
    serial_s = time.perf_counter() - start
    start = time.perf_counter()
    x_future = client.scatter(X, broadcast=True)
    y_future = client.scatter(Y, broadcast=True)
    futures = client.map(common.loo_fit, range(n), Y=y_future, X=x_future,
                         trees=trees, pure=False)
    parallel = client.gather(futures)
    wall = time.perf_counter() - start
    return [{"n": n, "p": p, "trees": trees,
             "serial_seconds": round(serial_s, 3),
             "wall_seconds": round(wall, 3),
             "efficiency": round(serial_s / (2 * wall), 4),
             "matches_serial": parallel == serial,
             "note": "wall includes scattering X and Y to both workers"}]


def w7_scale(client, sizes):
    """N independent tiny tasks: submission time, total time, memory."""
    import psutil
    from distributed import wait
    n = sizes["w7_tasks"]
    gc.collect()
    me = [psutil.Process()]
    before = common.rss_bytes(me)
    with common.PeakRss(me) as peak:
        start = time.perf_counter()
        futures = client.map(common.inc, range(n), pure=False)
        submitted = time.perf_counter()
        after_submit = common.rss_bytes(me)
        wait(futures)
        done = time.perf_counter()
    del futures
    return [{"tasks": n,
             "submit_seconds": round(submitted - start, 3),
             "total_seconds": round(done - start, 3),
             "scheduler_bytes_per_task": round((peak.peak - before) / n, 1),
             "rss_growth_after_submit_bytes_per_task":
                 round((after_submit - before) / n, 1),
             "note": "LocalCluster(processes=True) runs the scheduler in the "
                     "client process: bytes/task is that process's peak RSS "
                     "growth during the run / N, so it also counts the "
                     "client's futures and graph"}]


def metg(client, sizes, spin_rate, tasks_per_second):
    """Task Bench's METG(50%): sweep busy-work length, find 50% efficiency."""
    def run_batch(iterations, n):
        client.gather(client.map(common.spin, [iterations] * n, pure=False))
    return [common.metg_sweep(sizes, spin_rate, tasks_per_second, run_batch)]


# --------------------------------------------------------------------------
# Driver.
# --------------------------------------------------------------------------

class Session:
    """One system ("dask" or a variant): a cluster that is rebuilt after a
    workload fails, so one failure never poisons the rest."""

    def __init__(self, system, saturation, args):
        self.system = system
        self.saturation = saturation
        self.args = args
        self.cluster = self.client = None

    def start(self):
        def startup():
            self.cluster, self.client, seconds = start_cluster(
                self.saturation)
            return [{"seconds": round(seconds, 3), "workers": 2,
                     "threads_per_worker": 1}]
        ok = common.run_workload(self.system, "startup", startup,
                                 self.args.sizes["timeout_seconds"])
        if ok:
            warm_up(self.client)
        return ok

    def run(self, workload, fn, *extra):
        if self.args.only and workload not in self.args.only:
            return None
        if self.client is None:
            log(f"{self.system}: restarting the cluster")
            self.cluster, self.client, _ = start_cluster(self.saturation)
        box = {}

        def call():
            box["records"] = fn(self.client, self.args.sizes, *extra)
            return box["records"]
        ok = common.run_workload(self.system, workload, call,
                                 self.args.sizes["timeout_seconds"])
        if not ok:  # rebuild the cluster before the next workload
            stop_cluster(self.cluster, self.client)
            self.cluster = self.client = None
            return None
        wait_idle(self.client)
        return box["records"]

    def stop(self):
        if self.client is not None:
            stop_cluster(self.cluster, self.client)


def _add_arguments(parser):
    parser.add_argument("--scheduler", default=None,
                        help="address of a running dask-scheduler with 2 "
                             "workers (tcp://HOST:PORT); default: start a "
                             "LocalCluster")
    parser.add_argument("--system", default="dask-remote",
                        help="system name of the records with --scheduler")


def main(argv=None):
    global _REMOTE_SCHEDULER
    args = common.parse_args(__doc__.splitlines()[0], argv, _add_arguments)
    common.add_peers_dir_to_pythonpath()
    _REMOTE_SCHEDULER = args.scheduler
    spin_rate = common.calibrate_spin(args.sizes["w4_task_ms"] / 1e3)
    log(f"spin: {spin_rate / 1e6:.1f} M iterations/s in this process")

    dask_ = Session(args.system if args.scheduler else "dask", None, args)
    if dask_.start():
        w1 = dask_.run("W1_map", w1_map)
        dask_.run("W1_delayed", w1_delayed)
        dask_.run("W2_latency", w2_latency)
        dask_.run("W3_tree", w3_tree)
        dask_.run("W4_cpu", w4_cpu, spin_rate)
        dask_.run("W5_data", w5_data)
        dask_.run("W6_loo_rf", w6_loo_rf)
        dask_.run("W7_scale", w7_scale)
        rate = w1[0]["tasks_per_second"] if w1 else 2_000.0
        dask_.run("METG", metg, spin_rate, rate)
    dask_.stop()

    if args.scheduler:
        return  # a running cluster's configuration is its own
    inf = Session("dask-saturation-inf", "inf", args)
    if not args.only or args.only & {"startup", "W1_map", "W1_delayed"}:
        if inf.start():
            inf.run("W1_map", w1_map)
            inf.run("W1_delayed", w1_delayed)
        inf.stop()


if __name__ == "__main__":
    main()
