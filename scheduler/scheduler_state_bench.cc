// Copyright 2026 The weft Authors.
//
// SchedulerState alone: how fast it takes tasks in and what each costs.
//
//   bazel run --config=opt //scheduler:scheduler_state_bench [-- N]
//       [--clients=K] [--shared-input] [--workers=W] [--threads=T]
//       N independent tasks (default 1M): submit (one batch), then assign +
//       finish until done on W workers of T threads (default 16 x 8), then
//       release. With --clients=K, K - 1 more
//       clients are connected and hold nothing, as the nested clients of
//       real workers (one each) do. With --shared-input, every task takes
//       one object the client put (a bootstrap's data): its dependents
//       list is N long.
//   bazel run --config=opt //scheduler:scheduler_state_bench -- --curve
//       [--max=10000000] [--json]
//       graphs of 10k, 30k, 100k, ... up to 10M tasks, each in a fresh
//       process: binary reduction trees (half the tasks are leaves, every
//       other task adds two earlier ones), submitted in batches of 100,000
//       as a client's messages would bring them. Per size: the time to
//       accept the graph, and the resident (and live heap) bytes per
//       pending task. With --json, one JSON line per size instead of the
//       table.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "rpc/heap.h"
#include "rpc/process_stats.h"
#include "scheduler/scheduler_state.h"

namespace {

using weft::scheduler::Action;
using weft::scheduler::AssignTask;
using weft::scheduler::SchedulerState;
using weft::scheduler::TaskDef;

// This process's resident and live heap bytes (-1: not jemalloc).
long Rss() { return static_cast<long>(weft::rpc::ProcessRssBytes()); }
long HeapBytes() { return static_cast<long>(weft::rpc::LiveHeapBytes()); }

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// N independent tasks: submit, run, release; `clients` connected, the
// first submitting; with `shared_input`, each task takes one put object.
int Independent(size_t n, int clients, bool shared_input, int workers,
                int threads) {
  SchedulerState::Options opts;
  opts.check_invariants = false;
  SchedulerState s(opts);
  for (int c = 1; c <= clients; ++c) {
    if (!s.AddClient(c).ok()) return 1;
  }

  const weft::scheduler::ObjectId shared = n + 1;
  if (shared_input && !s.AddPut(1, shared, 0, 8, "12345678").ok()) return 1;
  const long rss0 = Rss();
  std::vector<TaskDef> defs(n);
  for (size_t i = 0; i < n; ++i) {
    if (shared_input) defs[i].deps = {shared};
    defs[i].id = i + 1;
    defs[i].name = "inc";
    defs[i].function = "inc";
    defs[i].args = "12345678";  // 8 bytes, like one serialized int64
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!s.SubmitTasks(1, std::move(defs)).ok()) return 1;
  const double submit_s = Since(t0);
  const long rss1 = Rss();
  std::printf("submit:  %zu tasks in %.3f s = %.0f tasks/s\n", n, submit_s,
              n / submit_s);
  // `defs` was moved in and freed: rss1 - rss0 is the scheduler's own.
  std::printf("memory:  %.0f bytes/task pending (RSS %+.1f MiB)\n",
              double(rss1 - rss0) / n, (rss1 - rss0) / 1048576.0);

  t0 = std::chrono::steady_clock::now();
  for (int w = 1; w <= workers; ++w) {
    if (!s.AddWorker(w, {"tcp://w", threads, "h"}, absl::Now()).ok()) {
      return 1;
    }
  }
  size_t done = 0;
  std::vector<Action> actions = s.TakeActions();
  while (!actions.empty()) {
    for (const Action& a : actions) {
      if (const auto* x = std::get_if<AssignTask>(&a)) {
        if (!s.TaskFinished(x->worker, x->task.id, x->task.attempt, 8, "").ok())
          return 1;
        ++done;
      }
    }
    actions = s.TakeActions();
  }
  const double run_s = Since(t0);
  const long rss2 = Rss();
  std::printf(
      "run:     %zu assign+finish in %.3f s = %.0f tasks/s "
      "(%d workers x %d threads)\n",
      done, run_s, done / run_s, workers, threads);
  std::printf("memory:  %.0f bytes/task in memory (RSS %+.1f MiB)\n",
              double(rss2 - rss0) / n, (rss2 - rss0) / 1048576.0);
  t0 = std::chrono::steady_clock::now();
  s.RemoveClient(1);
  s.TakeActions();
  std::printf("release: %zu objects in %.3f s\n", n, Since(t0));
  std::printf("total:   %.0f tasks/s for submit+assign+finish (%d clients)\n",
              n / (submit_s + run_s), clients);
  return s.num_objects() == 0 && done == n ? 0 : 1;
}

// One point of the curve, in this process: a reduction tree of `n` tasks
// submitted in batches. Prints its line; returns nonzero on failure.
int CurvePoint(size_t n, bool json) {
  constexpr size_t kBatch = 100'000;
  SchedulerState::Options opts;
  opts.check_invariants = false;
  SchedulerState s(opts);
  if (!s.AddClient(1).ok()) return 1;
  // Leaves are tasks 1..leaves; task leaves + k adds tasks 2k - 1 and 2k.
  const size_t leaves = n / 2 + 1;
  const long rss0 = Rss();
  const long heap0 = HeapBytes();
  double seconds = 0;
  std::vector<TaskDef> batch;
  for (size_t first = 1; first <= n; first += kBatch) {
    const size_t last = std::min(n, first + kBatch - 1);
    batch.clear();
    batch.resize(last - first + 1);
    for (size_t id = first; id <= last; ++id) {
      TaskDef& t = batch[id - first];
      t.id = id;
      t.args = "12345678";  // one serialized int64
      if (id <= leaves) {
        t.name = "leaf";
        t.function = "leaf";
      } else {
        const size_t k = id - leaves;
        t.name = "add";
        t.function = "add";
        t.deps = {2 * k - 1, 2 * k};
      }
    }
    // Building the batch is the client's work, not the scheduler's.
    const auto t0 = std::chrono::steady_clock::now();
    const absl::Status status = s.SubmitTasks(1, std::move(batch));
    seconds += Since(t0);
    if (!status.ok()) {
      std::fprintf(stderr, "scheduler_state_bench: %s\n",
                   std::string(status.message()).c_str());
      return 1;
    }
    batch = {};
  }
  const long rss1 = Rss();
  const long heap1 = HeapBytes();
  const double rss_per_task = double(rss1 - rss0) / double(n);
  const double heap_per_task =
      heap0 >= 0 && heap1 >= 0 ? double(heap1 - heap0) / double(n) : -1;
  if (s.num_objects() != n || s.num_ready() != leaves) return 1;
  if (json) {
    std::printf("{\"bench\": \"scheduler_state_curve\", \"tasks\": %zu, "
                "\"accept_seconds\": %.4f, \"tasks_per_second\": %.0f, "
                "\"bytes_per_pending_task\": %.1f, "
                "\"heap_bytes_per_pending_task\": %.1f}\n",
                n, seconds, double(n) / seconds, rss_per_task, heap_per_task);
  } else {
    std::printf("%12zu %10.3f %12.0f %9.0f %12.1f %11.1f %11.1f\n", n,
                seconds, double(n) / seconds, seconds * 1e9 / double(n),
                double(rss1 - rss0) / 1048576.0, rss_per_task, heap_per_task);
  }
  std::fflush(stdout);
  return 0;
}

int Curve(size_t max, bool json) {
  std::vector<size_t> sizes;
  for (size_t n = 10'000; n <= max; n *= 10) {
    sizes.push_back(n);
    if (3 * n <= max) sizes.push_back(3 * n);
  }
  if (!json) {
    std::printf("reduction trees submitted in batches of 100,000; a fresh "
                "process per size\n");
    std::printf("%12s %10s %12s %9s %12s %11s %11s\n", "tasks", "accept_s",
                "tasks/s", "ns/task", "RSS_MiB", "B/task_RSS", "B/task_heap");
    std::fflush(stdout);
  }
  int rc = 0;
  for (size_t n : sizes) {
    // A fresh process: memory the allocator kept from a smaller graph
    // would hide a larger one's growth.
    const pid_t pid = ::fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      std::fflush(nullptr);
      std::_Exit(CurvePoint(n, json));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "scheduler_state_bench: the run of %zu tasks "
                   "failed\n", n);
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  bool curve = false;
  bool json = false;
  size_t max = 10'000'000;
  size_t n = 1'000'000;
  int clients = 1;
  int workers = 16;
  int threads = 8;
  bool shared_input = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--curve") == 0) {
      curve = true;
    } else if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "--shared-input") == 0) {
      shared_input = true;
    } else if (std::strncmp(argv[i], "--clients=", 10) == 0) {
      clients = std::max(1, std::atoi(argv[i] + 10));
    } else if (std::strncmp(argv[i], "--workers=", 10) == 0) {
      workers = std::max(1, std::atoi(argv[i] + 10));
    } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::max(1, std::atoi(argv[i] + 10));
    } else if (std::strncmp(argv[i], "--max=", 6) == 0) {
      max = std::strtoull(argv[i] + 6, nullptr, 10);
    } else {
      n = std::strtoull(argv[i], nullptr, 10);
    }
  }
  return curve ? Curve(max, json)
               : Independent(n, clients, shared_input, workers, threads);
}
