#!/usr/bin/python3
"""ipyparallel side of the side-by-side benchmarks (bench/run_all.sh).

    /usr/bin/python3 bench/peers/ipyparallel_bench.py [--quick] [--only ...]

Prints one JSON object per line on stdout (schema: bench/README.md);
progress goes to stderr. Cluster: ipp.Cluster(n=2) started with
start_and_connect_sync(), i.e. a controller process (hub + task schedulers)
and 2 engine processes on loopback; tasks go through a load-balanced view.
"""

import gc
import logging
import time

import common
from common import log

SYSTEM = "ipyparallel"


def start_cluster():
    """Starts ipp.Cluster(n=2); returns (cluster, client, seconds)."""
    import ipyparallel as ipp
    start = time.perf_counter()
    cluster = ipp.Cluster(n=2, log_level=logging.ERROR)
    client = cluster.start_and_connect_sync()
    client.wait_for_engines(2, timeout=120)
    return cluster, client, time.perf_counter() - start


def stop_cluster(cluster, client):
    try:
        client.close()
    except Exception:  # noqa: BLE001 - best effort at shutdown
        pass
    try:
        cluster.stop_cluster_sync()
    except Exception:  # noqa: BLE001
        pass


def warm_up(client):
    """A few tasks so connections and imports are hot (not measured)."""
    view = client.load_balanced_view()
    view.map_sync(common.inc, range(200))
    client[:].apply_sync(common.inc, 0)


def forget(client):
    """Drops results the client and hub keep for every task (memory)."""
    try:
        client.purge_everything()
    except Exception:  # noqa: BLE001 - only housekeeping
        pass


# --------------------------------------------------------------------------
# Workloads. Each returns a list of field dicts (one JSON line each).
# --------------------------------------------------------------------------

def w1_map(client, sizes):
    """10,000 independent f(i) = i + 1: lview.map (chunksize 1), get all."""
    view = client.load_balanced_view()
    n = sizes["w1_tasks"]
    start = time.perf_counter()
    results = view.map_async(common.inc, range(n)).get()
    wall = time.perf_counter() - start
    assert sum(results) == n * (n + 1) // 2
    return [{"tasks": n, "wall_seconds": round(wall, 4),
             "tasks_per_second": round(n / wall, 1),
             "note": "load-balanced view map, chunksize=1 (one message per "
                     "task)"}]


def w2_latency(client, sizes):
    """Sequential round trips: apply_sync of one tiny task."""
    view = client.load_balanced_view()
    rounds = sizes["w2_round_trips"]
    for i in range(20):  # warm-up, not measured
        view.apply_sync(common.inc, i)
    seconds = []
    for i in range(rounds):
        start = time.perf_counter()
        view.apply_sync(common.inc, i)
        seconds.append(time.perf_counter() - start)
    return [{"round_trips": rounds, **common.latency_fields(seconds)}]


def w4_cpu(client, sizes, spin_rate):
    """200 tasks of ~20 ms of pure-Python busy work, map + get."""
    view = client.load_balanced_view()
    n, task_ms = sizes["w4_tasks"], sizes["w4_task_ms"]
    iterations = int(spin_rate * task_ms / 1e3)
    start = time.perf_counter()
    inside = view.map_async(common.timed_spin, [iterations] * n).get()
    wall = time.perf_counter() - start
    return [{"tasks": n, "task_ms": task_ms,
             "task_ms_measured_in_workers": round(sum(inside) / n * 1e3, 2),
             "wall_seconds": round(wall, 4),
             "efficiency": round(n * task_ms / 1e3 / 2 / wall, 4)}]


def w5_data(client, sizes):
    """100 MB float64 made on engine 0, summed on engine 1.

    ipyparallel has no engine-to-engine transfer: the array goes engine 0
    -> client -> engine 1 (a result, then an argument). move = that path
    minus a sum on engine 0 itself; medians over repetitions.
    """
    e0, e1 = client[client.ids[0]], client[client.ids[1]]
    mb, reps = sizes["w5_mb"], sizes["w5_reps"]
    records = []
    for kind in ("random", "constant"):
        same_s, cross_s, pull_s = [], [], []
        for rep in range(reps):
            name = f"w5-{kind}-{rep}"
            e0.apply_sync(common.store_array, name, mb, kind)
            start = time.perf_counter()
            e0.apply_sync(common.sum_stored, name)
            same_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            array = e0.apply_sync(common.get_stored, name)
            pulled = time.perf_counter()
            e1.apply_sync(common.array_sum, array)
            cross_s.append(time.perf_counter() - start)
            pull_s.append(pulled - start)
            del array
            e0.apply_sync(common.drop_stored, name)
            forget(client)
        move = common.median(cross_s) - common.median(same_s)
        records.append({
            "data": kind, "megabytes": mb, "repetitions": reps,
            "same_worker_seconds": round(common.median(same_s), 4),
            "cross_worker_seconds": round(common.median(cross_s), 4),
            "pull_to_client_seconds": round(common.median(pull_s), 4),
            "move_seconds": round(move, 4),
            "mb_per_second": round(mb / move, 1) if move > 0 else None,
            "note": "client-mediated: ipyparallel cannot move data engine "
                    "to engine, so the array goes engine 0 -> client -> "
                    "engine 1 through the controller (ZeroMQ, no "
                    "compression)"})
    return records


def w6_loo_rf(client, sizes):
    """The tutorial's leave-one-out CV of a random forest, 2 engines.

    As in the tutorial: push X and Y to every engine, then one
    load-balanced task per held-out index.
    """
    import ipyparallel as ipp
    n, p, trees = sizes["w6_n"], sizes["w6_p"], sizes["w6_trees"]
    X, Y = common.make_loo_data(n, p)
    start = time.perf_counter()
    serial = [common.loo_fit(i, Y, X, trees) for i in range(n)]
    serial_s = time.perf_counter() - start
    view = client.load_balanced_view()
    start = time.perf_counter()
    client[:].push({"X": X, "Y": Y}, block=True)
    results = [view.apply_async(common.loo_fit, i, ipp.Reference("Y"),
                                ipp.Reference("X"), trees)
               for i in range(n)]
    parallel = [r.get() for r in results]
    wall = time.perf_counter() - start
    return [{"n": n, "p": p, "trees": trees,
             "serial_seconds": round(serial_s, 3),
             "wall_seconds": round(wall, 3),
             "efficiency": round(serial_s / (2 * wall), 4),
             "matches_serial": parallel == serial,
             "note": "wall includes pushing X and Y to both engines"}]


def controller_processes(cluster):
    """psutil.Process of the controller and its children (schedulers)."""
    process = cluster.controller.process
    return [process] + process.children(recursive=True)


def w7_scale(client, sizes, cluster):
    """N independent tiny tasks: submission time, total time, memory."""
    view = client.load_balanced_view()
    n = sizes["w7_tasks_ipyparallel"]
    gc.collect()
    watched = controller_processes(cluster)
    before = common.rss_bytes(watched)
    with common.PeakRss(watched) as peak:
        start = time.perf_counter()
        result = view.map_async(common.inc, range(n))
        submitted = time.perf_counter()
        after_submit = common.rss_bytes(watched)
        result.wait()
        done = time.perf_counter()
    ok = result.successful()
    del result
    forget(client)
    return [{"tasks": n,
             "submit_seconds": round(submitted - start, 3),
             "total_seconds": round(done - start, 3),
             "scheduler_bytes_per_task": round((peak.peak - before) / n, 1),
             "rss_growth_after_submit_bytes_per_task":
                 round((after_submit - before) / n, 1),
             "all_succeeded": ok,
             "note": "RSS of the controller process and its children (hub "
                     "and task schedulers), peak growth during the run / N; "
                     "the client process is not counted"}]


def metg(client, sizes, spin_rate, tasks_per_second):
    """Task Bench's METG(50%): sweep busy-work length, find 50% efficiency."""
    view = client.load_balanced_view()

    def run_batch(iterations, n):
        view.map_async(common.spin, [iterations] * n).get()
    return [common.metg_sweep(sizes, spin_rate, tasks_per_second, run_batch,
                              cleanup=lambda: forget(client))]


# --------------------------------------------------------------------------
# Driver.
# --------------------------------------------------------------------------

class Session:
    """The ipyparallel cluster, rebuilt after a workload fails."""

    def __init__(self, args):
        self.args = args
        self.cluster = self.client = None

    def start(self):
        def startup():
            self.cluster, self.client, seconds = start_cluster()
            return [{"seconds": round(seconds, 3), "workers": 2,
                     "note": "ipp.Cluster(n=2).start_and_connect_sync() "
                             "until both engines are registered"}]
        ok = common.run_workload(SYSTEM, "startup", startup,
                                 self.args.sizes["timeout_seconds"])
        if ok:
            warm_up(self.client)
        return ok

    def wanted(self, workload):
        return not self.args.only or workload in self.args.only

    def skip(self, workload, reason):
        if self.wanted(workload):
            common.emit({"system": SYSTEM, "workload": workload,
                         "skipped": reason})

    def run(self, workload, fn, *extra):
        if not self.wanted(workload):
            return None
        if self.client is None:
            log(f"{SYSTEM}: restarting the cluster")
            self.cluster, self.client, _ = start_cluster()
        box = {}

        def call():
            box["records"] = fn(self.client, self.args.sizes, *extra)
            return box["records"]
        ok = common.run_workload(SYSTEM, workload, call,
                                 self.args.sizes["timeout_seconds"])
        if ok:
            forget(self.client)
        else:  # rebuild the cluster before the next workload
            stop_cluster(self.cluster, self.client)
            self.cluster = self.client = None
            return None
        return box["records"]

    def stop(self):
        if self.client is not None:
            stop_cluster(self.cluster, self.client)


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.add_peers_dir_to_pythonpath()
    spin_rate = common.calibrate_spin(args.sizes["w4_task_ms"] / 1e3)
    log(f"spin: {spin_rate / 1e6:.1f} M iterations/s in this process")

    session = Session(args)
    if session.start():
        w1 = session.run("W1_map", w1_map)
        session.skip("W1_delayed", "no lazy task graphs (no delayed API)")
        session.run("W2_latency", w2_latency)
        session.skip("W3_tree", "no task graphs")
        session.run("W4_cpu", w4_cpu, spin_rate)
        session.run("W5_data", w5_data)
        session.run("W6_loo_rf", w6_loo_rf)
        session.run("W7_scale",
                    lambda client, sizes: w7_scale(client, sizes,
                                                   session.cluster))
        rate = w1[0]["tasks_per_second"] if w1 else 1_000.0
        session.run("METG", metg, spin_rate, rate)
    session.stop()


if __name__ == "__main__":
    main()
