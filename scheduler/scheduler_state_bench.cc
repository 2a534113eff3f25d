// Copyright 2026 The weft Authors.
//
// Throughput and memory of SchedulerState for 1M independent tasks:
// submit (one batch), then assign + finish until done, then release.
//
//   bazel run --config=opt //scheduler:scheduler_state_bench [-- N]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "scheduler/scheduler_state.h"

namespace {

using weft::scheduler::Action;
using weft::scheduler::AssignTask;
using weft::scheduler::SchedulerState;
using weft::scheduler::TaskDef;

// Resident set size in bytes, from /proc/self/statm.
long Rss() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  constexpr int kWorkers = 16;
  constexpr int kThreads = 8;
  SchedulerState::Options opts;
  opts.check_invariants = false;
  SchedulerState s(opts);
  if (!s.AddClient(1).ok()) return 1;

  const long rss0 = Rss();
  std::vector<TaskDef> defs(n);
  for (size_t i = 0; i < n; ++i) {
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
  for (int w = 1; w <= kWorkers; ++w) {
    if (!s.AddWorker(w, {"tcp://w", kThreads, "h"}, absl::Now()).ok()) {
      return 1;
    }
  }
  size_t done = 0;
  std::vector<Action> actions = s.TakeActions();
  while (!actions.empty()) {
    for (const Action& a : actions) {
      if (const auto* x = std::get_if<AssignTask>(&a)) {
        if (!s.TaskFinished(x->worker, x->task.id, 8, "").ok()) return 1;
        ++done;
      }
    }
    actions = s.TakeActions();
  }
  const double run_s = Since(t0);
  const long rss2 = Rss();
  std::printf("run:     %zu assign+finish in %.3f s = %.0f tasks/s "
              "(%d workers x %d threads)\n",
              done, run_s, done / run_s, kWorkers, kThreads);
  std::printf("memory:  %.0f bytes/task in memory (RSS %+.1f MiB)\n",
              double(rss2 - rss0) / n, (rss2 - rss0) / 1048576.0);
  t0 = std::chrono::steady_clock::now();
  s.RemoveClient(1);
  s.TakeActions();
  std::printf("release: %zu objects in %.3f s\n", n, Since(t0));
  std::printf("total:   %.0f tasks/s for submit+assign+finish\n",
              n / (submit_s + run_s));
  return s.num_objects() == 0 && done == n ? 0 : 1;
}
