#!/usr/bin/python3
"""Turns the JSON lines of bench/run_all.sh into a table, a chart and
BENCHMARKS.md.

    /usr/bin/python3 bench/report.py [--results bench/results]
                                     [--benchmarks BENCHMARKS.md]

Reads RESULTS/{weft,dask,ipyparallel}.json (any may be missing) and
RESULTS/run.json (command, duration, load at start); writes
RESULTS/table.md, RESULTS/chart.png and the BENCHMARKS.md given. With
RESULTS/scale.json and RESULTS/scale_curve.json (bench/scale_bench and
scheduler_state_bench --curve; RESULTS/scale_run.json says when), adds a
"Scale" section, followed by the hand-written bench/scale_notes.md;
--scale-section prints only that section. bench/history.md, also
hand-written, becomes the "Performance history" section.
If RESULTS/crosshost/section.md exists (bench/crosshost.sh), BENCHMARKS.md
includes it.

    /usr/bin/python3 bench/report.py --crosshost DIR

writes DIR/section.md from bench/crosshost.sh's results in DIR instead.
"""

import argparse
import glob
import json
import math
import os
import platform
import statistics
import subprocess
from collections import namedtuple

SYSTEMS = ["weft", "weft-embedded", "dask", "dask-saturation-inf",
           "ipyparallel"]
RESULT_FILES = ["weft.json", "weft-default.json", "dask.json",
                "ipyparallel.json"]
# Records of these files are variants of weft's own (see find()).
VARIANT_FILES = {"weft-default.json": "default_build"}
PEERS = ["dask", "ipyparallel"]  # ratio columns: weft / peer

# One table row: a field of one workload's record (optionally the record
# whose `match` fields equal the given values), whether higher is better,
# the target for weft (op, value) and how to print it.
Row = namedtuple("Row", "workload match field label higher target unit")

ROWS = [
    Row("startup", {}, "seconds", "cluster start-up (s)", False, None, "s"),
    Row("W1_map", {}, "tasks_per_second", "W1 map: tasks/s", True,
        (">=", 100_000), "/s"),
    Row("W1_delayed", {}, "tasks_per_second", "W1 delayed+compute: tasks/s",
        True, None, "/s"),
    Row("W1_map", {"variant": "default_build"}, "tasks_per_second",
        "W1 map, default build (no --config=opt): tasks/s", True, None, "/s"),
    Row("W1_map", {"variant": "default_build"}, "of_opt",
        "W1 map, default build / --config=opt", True, (">=", 0.5), "%"),
    Row("W2_latency", {}, "p50_us", "W2 round trip p50 (µs)", False,
        ("<=", 100), "us"),
    Row("W2_latency", {}, "p99_us", "W2 round trip p99 (µs)", False, None,
        "us"),
    Row("W3_tree", {}, "build_seconds", "W3 tree: build (s)",
        False, None, "s"),
    Row("W3_tree", {}, "compute_seconds", "W3 tree: compute (s)", False,
        None, "s"),
    Row("W3_tree", {}, "total_seconds", "W3 tree: build + compute (s)",
        False, ("<=", 2.0), "s"),
    Row("W4_cpu", {}, "efficiency", "W4 CPU-bound: efficiency", True,
        (">=", 0.98), "%"),
    Row("W5_data", {"data": "random"}, "mb_per_second",
        "W5 move, random (MB/s)", True, (">=", 4000), "MB/s"),
    Row("W5_data", {"data": "constant"}, "mb_per_second",
        "W5 move, constant (MB/s)", True, (">=", 4000), "MB/s"),
    Row("W6_loo_rf", {}, "serial_seconds", "W6 LOO random forest: serial (s)",
        False, None, "s"),
    Row("W6_loo_rf", {}, "wall_seconds", "W6: 2 workers wall (s)", False,
        None, "s"),
    Row("W6_loo_rf", {}, "efficiency", "W6: efficiency", True,
        (">=", 0.97), "%"),
    Row("W7_scale", {}, "tasks", "W7 N (tasks)", None, None, "n"),
    Row("W7_scale", {}, "submit_seconds", "W7 submit N tasks (s)", False,
        None, "s"),
    Row("W7_scale", {}, "accepted_seconds",
        "W7 N tasks accepted by the scheduler (s)", False, ("<=", 5.0), "s"),
    Row("W7_scale", {}, "total_seconds", "W7 run N tasks (s)", False, None,
        "s"),
    Row("W7_scale", {}, "scheduler_bytes_per_task",
        "W7 scheduler's process: peak RSS growth / N (B)", False, None, "B"),
    Row("W7_scale", {}, "scheduler_alone_bytes_per_pending_task",
        "W7 scheduler alone: RSS per pending task (B)", False, ("<=", 300),
        "B"),
    Row("W7_scale", {"variant": "delayed"}, "submit_seconds",
        "W7 via delayed + persist: submit (s)", False, None, "s"),
    Row("W7_scale", {"variant": "delayed"}, "scheduler_bytes_per_task",
        "W7 via delayed + persist: peak RSS growth / N (B)", False, None,
        "B"),
    Row("METG", {}, "metg_us", "METG(50%) (µs)", False, ("<=", 50), "us"),
]


# --------------------------------------------------------------------------
# Reading.
# --------------------------------------------------------------------------

def read_records(results_dir):
    """All JSON records from the result files; bad lines are skipped."""
    records, missing = [], []
    for name in RESULT_FILES:
        path = os.path.join(results_dir, name)
        if not os.path.exists(path):
            missing.append(name)
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if name in VARIANT_FILES:
                    record["variant"] = VARIANT_FILES[name]
                records.append(record)
    opt_w1 = next((r for r in records if r.get("system") == "weft"
                   and r.get("workload") == "W1_map"
                   and "variant" not in r), None)
    for record in records:  # derived fields the table wants
        if (record.get("variant") == "default_build"
                and record.get("workload") == "W1_map" and opt_w1
                and opt_w1.get("tasks_per_second")):
            record["of_opt"] = (record.get("tasks_per_second", 0)
                                / opt_w1["tasks_per_second"])
        if (record.get("workload") == "W3_tree"
                and "total_seconds" not in record
                and "build_seconds" in record
                and "compute_seconds" in record):
            record["total_seconds"] = (record["build_seconds"]
                                       + record["compute_seconds"])
    return records, missing


def read_run_info(results_dir):
    path = os.path.join(results_dir, "run.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def find(records, system, row):
    """The record of `system` for `row` (the last one if repeated).

    A record with a "variant" (e.g. weft's W7 through delayed + persist)
    only fills rows that ask for that variant.
    """
    found = None
    for record in records:
        if record.get("system") != system:
            continue
        if record.get("workload") != row.workload:
            continue
        if any(record.get(k) != v for k, v in row.match.items()):
            continue
        if "variant" in record and "variant" not in row.match:
            continue
        found = record
    return found


def value_of(record, row):
    if record is None:
        return None
    value = record.get(row.field)
    return value if isinstance(value, (int, float)) else None


# --------------------------------------------------------------------------
# Formatting.
# --------------------------------------------------------------------------

def fmt_number(value, unit):
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "n":
        return f"{value:,.0f}"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def cell(record, row):
    """Table cell: the value, or why there is none."""
    if record is None:
        return "—"
    if "skipped" in record:
        return "skipped"
    if "error" in record:
        return "error"
    value = value_of(record, row)
    if value is None and row.workload == "METG" and record.get("sweep"):
        longest = max(p["length_us"] for p in record["sweep"])
        return f"> {longest:,} (not reached)"
    text = fmt_number(value, row.unit)
    if row.workload == "W7_scale" and row.field != "tasks" and value is not None:
        text += f" (N={record.get('tasks', 0):,})"
    return text


def ratio(records, row, peer):
    """weft's figure / the peer's; W7 times per task when the Ns differ."""
    mine, theirs = find(records, "weft", row), find(records, peer, row)
    a, b = value_of(mine, row), value_of(theirs, row)
    if a is None or b is None or b == 0 or row.unit == "n":
        return "—"
    if (row.workload == "W7_scale" and row.unit == "s"
            and mine.get("tasks") != theirs.get("tasks")
            and mine.get("tasks") and theirs.get("tasks")):
        per_task = (a / mine["tasks"]) / (b / theirs["tasks"])
        return f"{per_task:.3g}× per task"
    return f"{a / b:.3g}×"


def target_text(row):
    if row.target is None:
        return ""
    op, value = row.target
    shown = fmt_number(value, row.unit)
    if row.field == "accepted_seconds":
        shown += " at N=1M"
    return f"{'≥' if op == '>=' else '≤'} {shown}"


def target_met(records, row):
    """Whether weft (distributed) meets the issue's target for this row."""
    if row.target is None:
        return ""
    record = find(records, "weft", row)
    value = value_of(record, row)
    if value is None:
        return "no data"
    if row.field == "accepted_seconds" and record.get("tasks", 0) < 1_000_000:
        return f"n/a (N={record.get('tasks', 0):,})"
    op, goal = row.target
    met = value >= goal if op == ">=" else value <= goal
    return "yes" if met else "**no**"


def markdown_table(records):
    systems = [s for s in SYSTEMS if any(r.get("system") == s
                                         for r in records)]
    head = (["metric"] + systems + [f"weft/{p}" for p in PEERS]
            + ["target (weft)", "met?"])
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for row in ROWS:
        arrow = {True: " ↑", False: " ↓", None: ""}[row.higher]
        cells = ([f"{row.label}{arrow}"]
                 + [cell(find(records, s, row), row) for s in systems]
                 + [ratio(records, row, p) for p in PEERS]
                 + [target_text(row), target_met(records, row)])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def notes(records):
    """Every note and error from the records, one bullet each."""
    bullets = []
    for record in records:
        for key in ("note", "error", "skipped"):
            if key in record:
                tag = record.get("data", record.get("variant"))
                variant = f" ({tag})" if tag else ""
                bullets.append(f"- {record.get('system')} "
                               f"{record.get('workload')}{variant} — "
                               f"{key}: {record[key]}")
    return "\n".join(dict.fromkeys(bullets)) + "\n" if bullets else ""


def metg_sweeps(records):
    """A small table of every METG sweep (efficiency by task length)."""
    sweeps = {r["system"]: r["sweep"] for r in records
              if r.get("workload") == "METG" and "sweep" in r}
    if not sweeps:
        return ""
    lengths = sorted({p["length_us"] for s in sweeps.values() for p in s})
    head = ["task length (µs)"] + list(sweeps)
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---:"] * len(head)) + "|"]
    for length in lengths:
        cells = [f"{length:,}"]
        for sweep in sweeps.values():
            point = next((p for p in sweep if p["length_us"] == length), None)
            cells.append(f"{point['efficiency'] * 100:.1f}%" if point
                         else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Chart.
# --------------------------------------------------------------------------

# (title, [(workload, match, field, tick label, weft target or None)]).
PANELS = [
    ("Throughput (tasks/s, higher is better)",
     [("W1_map", {}, "tasks_per_second", "W1 map", 100_000),
      ("W1_delayed", {}, "tasks_per_second", "W1 delayed", None),
      ("W7_scale", {}, "tasks_per_second", "W7 N tasks", None)]),
    ("Latency (µs, lower is better)",
     [("W2_latency", {}, "p50_us", "W2 p50", 100),
      ("W2_latency", {}, "p99_us", "W2 p99", None),
      ("METG", {}, "metg_us", "METG(50%)", 50)]),
    ("Data move between workers (MB/s, higher is better)",
     [("W5_data", {"data": "random"}, "mb_per_second", "random", 4000),
      ("W5_data", {"data": "constant"}, "mb_per_second", "constant", 4000)]),
]


def chart_value(records, system, workload, match, field):
    row = Row(workload, match, field, "", True, None, "")
    record = find(records, system, row)
    if record is None:
        return None
    if field == "tasks_per_second" and workload == "W7_scale":
        if record.get("total_seconds"):
            return record["tasks"] / record["total_seconds"]
        return None
    return value_of(record, row)


def write_chart(records, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s for s in SYSTEMS if any(r.get("system") == s
                                         for r in records)]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(15, 4.8))
    width = 0.8 / max(1, len(systems))
    for ax, (title, metrics) in zip(axes, PANELS):
        for k, system in enumerate(systems):
            xs, ys = [], []
            for m, (workload, match, field, _, _) in enumerate(metrics):
                value = chart_value(records, system, workload, match, field)
                if value is not None and value > 0:
                    xs.append(m + (k - (len(systems) - 1) / 2) * width)
                    ys.append(value)
            ax.bar(xs, ys, width, label=system, color=f"C{k}")
        for m, metric in enumerate(metrics):
            if metric[4] is not None:
                ax.hlines(metric[4], m - 0.45, m + 0.45, colors="k",
                          linestyles="--", linewidth=1,
                          label="weft target" if m == 0 else None)
        ax.set_yscale("log")
        ax.set_xticks(range(len(metrics)))
        ax.set_xticklabels([m[3] for m in metrics])
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("weft vs Dask vs ipyparallel — 2 workers × 1 thread, "
                 "loopback (log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------
# Machine and versions.
# --------------------------------------------------------------------------

def shell(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True,
                              text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def versions():
    found = {"python": platform.python_version()}
    for module in ("dask", "distributed", "ipyparallel", "numpy", "sklearn",
                   "matplotlib"):
        try:
            found[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001
            found[module] = "not installed"
    return found


def machine_section(run):
    # The commit the run built (recorded by run_all.sh at its start); for
    # older runs, the checkout now, without the run's own outputs.
    commit = run.get("commit")
    if not commit:
        commit = shell("git rev-parse --short HEAD")
        if shell("git status --porcelain --untracked-files=no -- . "
                 "':!bench/results' ':!BENCHMARKS.md'"):
            commit += " (with uncommitted changes)"
    lines = [
        f"- CPU: {cpu_model()}; `nproc` = {shell('nproc')}",
        f"- Memory (`free -h`):\n\n```\n{shell('free -h')}\n```\n",
        f"- Kernel: {platform.release()} ({platform.machine()}); "
        f"{shell('. /etc/os-release && echo $PRETTY_NAME')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- weft commit: `{commit}`",
    ]
    if run:
        lines.append(f"- Run started {run.get('started_utc', '?')}, took "
                     f"{run.get('duration_seconds', '?')} s; load average at "
                     f"start: {run.get('load_average_at_start', '?')}")
    return "\n".join(lines) + "\n"


HOW_TO_READ = """\
- One column per system, all on the same machine in one run, one system
  after the other: **weft** (distributed: `weft::LocalCluster`, scheduler in
  the program + 2 worker processes over gRPC), **weft-embedded** (the
  in-process runtime, for reference), **dask** (`distributed.LocalCluster`,
  2 worker processes × 1 thread, default config), **dask-saturation-inf**
  (the same with `distributed.scheduler.worker-saturation: inf`; start-up
  and W1 only), **ipyparallel** (`ipp.Cluster(n=2)`, load-balanced view).
- ↑: higher is better; ↓: lower is better. `weft/dask` and
  `weft/ipyparallel` divide weft's figure by the peer's: above 1 is better
  for weft on ↑ rows, below 1 is better for weft on ↓ rows.
- "target (weft)" is the issue's goal for weft; "met?" says whether weft's
  distributed figure reaches it. The peers are not held to it.
- Cluster start-up is reported on its own row and excluded from every other
  figure; each workload starts with warm connections.
- "skipped": the system has no way to express the workload (ipyparallel
  has no task graphs); "error": the workload failed or timed out (see the
  notes); "—": no figure.
- W4, W6, METG efficiency = ideal time on 2 workers / wall time. W5 MB/s =
  100 MB / (consumer task on the other worker − the same consumer on the
  producer's worker). W7's N differs between systems (written in the
  cell): the peers cannot run 1M tiny tasks in the time budget, so W7's
  time ratios compare seconds per task.
- W7 memory: "scheduler's process" is the process the scheduler runs in,
  sampled for its peak during the run: the client's process for weft and
  Dask (their LocalClusters run the scheduler there, so client-side
  futures count too), the controller for ipyparallel. "Scheduler alone"
  (weft only) is a separate run against a scheduler in its own process
  with no workers, measured once it accepted the N tasks: the issue's
  target of 300 bytes per pending task applies to it. weft's W7 uses
  `weft::map`, as the peers use `client.map`; the delayed + persist rows
  are the same N tasks built as a lazy graph.
- Python peers run pure-Python busy loops calibrated in the driver process
  to the task length; weft runs C++ busy loops: the CPU figures compare
  scheduling overhead, not language speed.
"""


# --------------------------------------------------------------------------
# Scale: one scheduler with 10 to 1,000 workers; graphs of 10k to 10M tasks.
# --------------------------------------------------------------------------

# Issue 14's targets: at N = 1,000 workers, and for the 10M-task graph.
SCALE_TARGETS = {"tasks_per_second": (">=", 200000),
                 "scheduler_threads": ("<=", 32),
                 "scheduler_rss_per_worker_bytes": ("<=", 100000),
                 "false_removals": ("<=", 0)}
CURVE_TARGETS = {"accept_seconds": ("<=", 30.0),
                 "bytes_per_pending_task": ("<=", 200.0)}


def read_lines(path):
    """The JSON records of one file of JSON lines ([] if it is missing)."""
    records = []
    if not os.path.exists(path):
        return records
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return records


def meets(value, target):
    op, bound = target
    return value >= bound if op == ">=" else value <= bound


def marked(value, target, bound_text):
    """The value's cell with whether it meets `target`."""
    mark = "met" if meets(value, target) else "MISSED"
    return f"{fmt_number(value, '')} ({mark}: {target[0]} {bound_text})"


def scale_section(results_dir):
    """The "Scale" section's markdown, or "" without scale results."""
    scale = [r for r in read_lines(os.path.join(results_dir, "scale.json"))
             if r.get("bench") == "scale"]
    curve = [r for r in read_lines(os.path.join(results_dir,
                                                "scale_curve.json"))
             if r.get("bench") == "scheduler_state_curve"]
    if not scale and not curve:
        return ""
    info = {}
    info_path = os.path.join(results_dir, "scale_run.json")
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as handle:
            info = json.load(handle)
    text = ["## Scale: one scheduler, many workers; large graphs\n"]
    if info:
        text.append(
            f"Command: `{info.get('command', '?')}`. Started "
            f"{info.get('started_utc', '?')}, load average at start "
            f"{info.get('load_average_at_start', '?')} (2 cores, shared: "
            f"the scheduler, every simulated worker and the client run on "
            f"them together); commit `{info.get('commit', '?')}`.\n")
    if scale:
        text.append(
            "`bench/scale_bench.cc`: one scheduler process, N simulated "
            "workers on real sockets in the bench process (on one event "
            "loop of two threads), a client of tiny tasks (`task_ms` 0) or "
            "1 ms tasks. p50/p99: a probe task's submission to its "
            "assignment reaching a worker, a probe (priority 1) every 2 ms "
            "whether or not the last one was assigned (open loop; before "
            "6 December 2026 each probe waited for the last, which hid "
            "stalls). scheduler_cpu_us_per_task and "
            "bench_cpu_us_per_task: the CPU time of the scheduler and of "
            "the bench process (client and simulated workers) during the "
            "bulk, per task; together, what a task costs the two cores. "
            "Issue 14's targets apply at N = 1,000.\n")
        fields = ["tasks_per_second", "p50_us", "p99_us",
                  "scheduler_threads", "scheduler_rss_per_worker_bytes",
                  "false_removals", "join_seconds",
                  "scheduler_cpu_us_per_task", "bench_cpu_us_per_task"]
        text.append("| workers | task_ms | tasks | " + " | ".join(fields)
                    + " |")
        text.append("|" + "---:|" * (3 + len(fields)))
        for r in scale:
            cells = [str(r.get("workers")), str(r.get("task_ms")),
                     f"{r.get('tasks', 0):,}"]
            for f in fields:
                v = r.get(f)
                if v is None:
                    cells.append("—")
                elif r.get("workers") == 1000 and f in SCALE_TARGETS:
                    cells.append(marked(v, SCALE_TARGETS[f],
                                        f"{SCALE_TARGETS[f][1]:,}"))
                else:
                    cells.append(fmt_number(v, ""))
            text.append("| " + " | ".join(cells) + " |")
        text.append("")
    if curve:
        text.append(
            "`scheduler/scheduler_state_bench.cc --curve`: the scheduler's "
            "state machine alone (with jemalloc, as `weft scheduler` runs) "
            "accepting binary reduction trees in batches of 100,000 tasks, "
            "each size in a fresh process. Issue 14's targets at 10M: "
            "accepted in <= 30 s, <= 200 bytes per pending task.\n")
        text.append("| tasks | accept (s) | tasks/s | RSS bytes per pending "
                    "task | heap bytes per pending task |")
        text.append("|---:|---:|---:|---:|---:|")
        for r in curve:
            cells = [f"{r.get('tasks', 0):,}"]
            for f in ["accept_seconds", "tasks_per_second",
                      "bytes_per_pending_task",
                      "heap_bytes_per_pending_task"]:
                v = r.get(f)
                if v is None:
                    cells.append("—")
                elif r.get("tasks") == 10000000 and f in CURVE_TARGETS:
                    cells.append(marked(v, CURVE_TARGETS[f],
                                        f"{CURVE_TARGETS[f][1]:g}"))
                else:
                    cells.append(fmt_number(v, ""))
            text.append("| " + " | ".join(cells) + " |")
        text.append("")
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "scale_notes.md")
    if os.path.exists(notes_path):
        with open(notes_path, encoding="utf-8") as handle:
            text.append(handle.read().rstrip("\n"))
    return "\n".join(text) + "\n"


def write_benchmarks(records, missing, run, table, chart_rel, path,
                     results_dir, scale=""):
    command = run.get("command", "bench/run_all.sh")
    text = [
        "# Benchmarks: weft side by side with Dask and ipyparallel\n",
        "Generated by `bench/report.py` from the JSON lines in "
        "`bench/results/`. Do not edit by hand: rerun the command.\n",
        "## Command\n",
        f"```sh\n{command}        # or: ./weft bench"
        f"{' --quick' if run.get('quick') else ''}\n```\n",
        "Installs the bench packages (`tools/setup.sh bench`), builds and "
        "runs weft's `//bench:workloads`, then `bench/peers/dask_bench.py` "
        "and `bench/peers/ipyparallel_bench.py` (Debian's /usr/bin/python3), "
        "then this report.\n",
    ]
    if missing:
        text.append("**Missing results:** " + ", ".join(missing)
                    + " (that system did not run; see run_all's output).\n")
    text += [
        "## Machine\n", machine_section(run),
        "## Results\n", table,
        f"\n![throughput, latency and data-move chart]({chart_rel})\n",
        "### METG sweep (efficiency by task length)\n", metg_sweeps(records),
    ]
    if scale:
        text.append(scale)
    text += [
        "## How to read\n", HOW_TO_READ,
        "## Notes from the run\n", notes(records) or "None.\n",
    ]
    crosshost = os.path.join(results_dir, "crosshost", "section.md")
    if os.path.exists(crosshost):
        with open(crosshost, encoding="utf-8") as handle:
            text += ["## Cross-host (test hosts, bench/crosshost.sh)\n",
                     handle.read()]
    history = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "history.md")
    if os.path.exists(history):
        with open(history, encoding="utf-8") as handle:
            text += ["## Performance history (before/after)\n", handle.read()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(text))


# --------------------------------------------------------------------------
# Cross-host runs (bench/crosshost.sh).
# --------------------------------------------------------------------------

CROSSHOST_SYSTEMS = [("weft-xhost", "weft, bulk TCP"),
                     ("weft-xhost-grpc", "weft, gRPC stream"),
                     ("dask-xhost", "Dask"),
                     ("tcp-floor", "TCP floor")]
# (label, workload, match, field, unit, higher is better)
CROSSHOST_ROWS = [
    ("W5 random, MB/s", "W5_data", {"data": "random"},
     "mb_per_second", "MB/s", True),
    ("W5 constant, MB/s", "W5_data", {"data": "constant"},
     "mb_per_second", "MB/s", True),
    ("W5 random, MB/s as the receiving worker times the move",
     "W5_data", {"data": "random"}, "worker_mb_per_second", "MB/s", True),
    ("W5 constant, MB/s as the receiving worker times the move",
     "W5_data", {"data": "constant"}, "worker_mb_per_second", "MB/s", True),
    ("W5 random, move seconds", "W5_data", {"data": "random"},
     "move_seconds", "s", False),
    ("W5 constant, move seconds", "W5_data", {"data": "constant"},
     "move_seconds", "s", False),
    ("W1_map, tasks/s", "W1_map", {}, "tasks_per_second", "/s",
     True),
    ("W1_delayed, tasks/s", "W1_delayed", {}, "tasks_per_second",
     "/s", True),
    ("W2 latency p50, us", "W2_latency", {}, "p50_us", "us", False),
    ("W2 latency p99, us", "W2_latency", {}, "p99_us", "us", False),
]
CROSSHOST_TARGET_MB_PER_S = 2500  # issue 13: weft cross-host W5


def read_crosshost(results_dir):
    """{system: [record, ...]} over every round's file in results_dir."""
    by_system = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        if os.path.basename(path) == "run.json":
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                by_system.setdefault(record.get("system"), []).append(record)
    return by_system


def crosshost_values(records, workload, match, field):
    """The field's value in each round's matching record (None skipped)."""
    values = []
    for record in records:
        if record.get("workload") != workload:
            continue
        if any(record.get(k) != v for k, v in match.items()):
            continue
        value = record.get(field)
        if isinstance(value, (int, float)):
            values.append(float(value))
    return values


def crosshost_cell(values):
    if not values:
        return "—"
    median = statistics.median(values)
    text = fmt_number(median, "")
    if len(values) > 1:
        text += (f" ({fmt_number(min(values), '')}–"
                 f"{fmt_number(max(values), '')}, n={len(values)})")
    return text


def crosshost_sizes(by_system):
    """W5's megabytes, W1's tasks and W2's round trips, as the records say."""
    found = {}
    for records in by_system.values():
        for record in records:
            workload = record.get("workload")
            for key, field in (("W5_data", "megabytes"), ("W1_map", "tasks"),
                               ("W2_latency", "count"),
                               ("W2_latency", "round_trips")):
                if workload == key and field in record:
                    found.setdefault(key, set()).add(record[field])
    parts = []
    for key, what in (("W5_data", "MB"), ("W1_map", "tasks"),
                      ("W2_latency", "round trips")):
        if key in found:
            values = "/".join(f"{v:,}" for v in sorted(found[key]))
            parts.append(f"{key} {values} {what}")
    return ", ".join(parts) or "?"


def crosshost_section(results_dir):
    """The BENCHMARKS.md section for a cross-host run, as markdown."""
    by_system = read_crosshost(results_dir)
    run = read_run_info(results_dir)
    lines = [
        "Scheduler, two workers and the client each on a test host of its "
        "own: a network namespace with its own address and host name, "
        "joined to the others by a veth pair and a bridge "
        f"(MTU {run.get('veth_mtu', '?')}), so no same-host shortcut "
        "(shared memory) applies. Workers: 1 process x 1 thread each "
        "(weft: `workloads --weft-worker`, supervised; Dask: `dask-worker "
        "--nworkers 1 --nthreads 1`, with nanny). Each round starts fresh "
        "clusters and runs the TCP floor (one plain TCP connection from "
        "worker host w1 to w2 moving W5's bytes into the memory weft's "
        "fetch receives into (a kept block, not cleared), no "
        "protocol: bench/stream_floor.cc), weft (bulk on), weft "
        "(`WEFT_BULK_TRANSFER=0`) and Dask one after the other; a cell is the median over rounds "
        "(min–max, n rounds) of each round's figure, itself a median over "
        f"{run.get('w5_reps', '?')} W5 repetitions per data kind. W5's "
        "MB/s is 100 MB over the difference of two medians (the consumer "
        "on the other worker, less the same consumer beside its input); the "
        "rows \"as the receiving worker times the move\" divide 100 MB by "
        "the median of the receiving worker's own record of each fetch "
        "(weft: its transfer events; Dask: `transfer_incoming_log`), which "
        "leaves the consumers' work and its noise out.\n",
        "```sh",
        f"{run.get('command', 'bench/crosshost.sh')}"
        "        # as root; or: ./weft bench --crosshost",
        "```\n",
        f"- Run started {run.get('started_utc', '?')}, took "
        f"{run.get('duration_seconds', '?')} s; weft commit "
        f"`{run.get('commit', '?')}`",
        f"- `uptime` at start: `{run.get('uptime_at_start', '?').strip()}`",
        f"- `uptime` at end: `{run.get('uptime_at_end', '?').strip()}`",
        "- 2 cores shared with other jobs: every figure is noisy.\n",
        "Sizes: " + crosshost_sizes(by_system) + ".\n",
        "| workload | " + " | ".join(l for _, l in CROSSHOST_SYSTEMS) + " |",
        "|---|" + "---:|" * len(CROSSHOST_SYSTEMS),
    ]
    for label, workload, match, field, _unit, _higher in CROSSHOST_ROWS:
        cells = [crosshost_cell(crosshost_values(
            by_system.get(system, []), workload, match, field))
            for system, _ in CROSSHOST_SYSTEMS]
        if all(c == "—" for c in cells):
            continue
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    bulk = crosshost_values(by_system.get("weft-xhost", []), "W5_data",
                            {"data": "random"}, "mb_per_second")
    if bulk:
        median = statistics.median(bulk)
        if median >= CROSSHOST_TARGET_MB_PER_S:
            verdict = "met"
        else:
            short = CROSSHOST_TARGET_MB_PER_S - median
            verdict = (f"missed by {short:.0f} MB/s "
                       f"({100 * short / CROSSHOST_TARGET_MB_PER_S:.0f}%)")
        floor = crosshost_values(by_system.get("tcp-floor", []), "W5_data",
                                 {"data": "random"}, "mb_per_second")
        if floor:
            floor_median = statistics.median(floor)
            verdict += (f"; the TCP floor in the same run is "
                        f"{floor_median:,.0f} MB/s, and weft reaches "
                        f"{100 * median / floor_median:.0f}% of it")
        timed = crosshost_values(by_system.get("weft-xhost", []), "W5_data",
                                 {"data": "random"}, "worker_mb_per_second")
        if timed:
            verdict += (f"; the receiving workers' own records of the move "
                        f"read {statistics.median(timed):,.0f} MB/s")
        lines.append(f"Target (issue 13): weft cross-host W5 random ≥ "
                     f"{CROSSHOST_TARGET_MB_PER_S} MB/s: {verdict}.\n")
    notes_seen = []
    for system, _ in CROSSHOST_SYSTEMS:
        for record in by_system.get(system, []):
            for key in ("note", "error"):
                text = record.get(key)
                if not text or record.get("workload") not in (
                        "W5_data", "W1_map", "W2_latency"):
                    continue
                line = (f"- {system} {record['workload']}"
                        f"{' (' + record['data'] + ')' if 'data' in record else ''}"
                        f" — {key}: {text}")
                if line not in notes_seen:
                    notes_seen.append(line)
    if notes_seen:
        lines += ["Notes from the records (each distinct one once):\n"]
        lines += notes_seen
        lines.append("")
    missing = [s for s, _ in CROSSHOST_SYSTEMS if s not in by_system]
    if missing:
        lines.append("**Missing results:** " + ", ".join(missing) + "\n")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="bench/results")
    parser.add_argument("--benchmarks", default="BENCHMARKS.md")
    parser.add_argument("--scale-section", action="store_true",
                        help="print only the Scale section and stop")
    parser.add_argument("--crosshost", default=None, metavar="DIR",
                        help="write DIR/section.md from bench/crosshost.sh's "
                             "results in DIR, and nothing else")
    args = parser.parse_args(argv)
    if args.scale_section:
        print(scale_section(args.results), end="")
        return
    if args.crosshost:
        path = os.path.join(args.crosshost, "section.md")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(crosshost_section(args.crosshost))
        print(f"report: cross-host section -> {path}")
        return

    records, missing = read_records(args.results)
    run = read_run_info(args.results)
    table = markdown_table(records)
    with open(os.path.join(args.results, "table.md"), "w",
              encoding="utf-8") as handle:
        handle.write(table)
    chart = os.path.join(args.results, "chart.png")
    write_chart(records, chart)
    chart_rel = os.path.relpath(chart, os.path.dirname(
        os.path.abspath(args.benchmarks)) or ".")
    write_benchmarks(records, missing, run, table, chart_rel,
                     args.benchmarks, args.results,
                     scale_section(args.results))
    print(f"report: {len(records)} records -> "
          f"{os.path.join(args.results, 'table.md')}, {chart}, "
          f"{args.benchmarks}")


if __name__ == "__main__":
    main()
