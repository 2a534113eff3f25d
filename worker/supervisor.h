// Copyright 2026 The weft Authors.
//
// The worker's supervisor (Dask's nanny): a small parent process that runs
// the worker as its child and starts it again when it crashes, so that a
// task that segfaults or aborts costs the cluster one worker process for a
// moment, not a worker for good. `weft worker` and programs started with
// --weft-worker (by srun, ssh or `weft cluster start`) run supervised unless
// told --no-supervisor, as do the workers of a symmetric SLURM start
// (--weft-slurm, tasks 1 and up); LocalCluster restarts its workers itself.
//
//   parent (supervisor)            child (the worker)
//   forwards SIGTERM/SIGINT/HUP -> leaves the scheduler, exits 0
//   sees it die of a signal     -> starts it again (backoff if it keeps dying)
//   sees exit 0, 1, 2, 3        -> exits with that code (nothing to retry)

#ifndef WEFT_WORKER_SUPERVISOR_H_
#define WEFT_WORKER_SUPERVISOR_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace weft::worker {

struct SupervisorOptions {
  // Restarts at most this many times in all (negative: no limit).
  int max_restarts = -1;
  // A worker that dies within `healthy_after` of starting is restarted
  // after a delay that starts at `min_backoff` and doubles up to
  // `max_backoff` (a crash loop costs little); one that ran longer is
  // restarted at once and the delay starts over.
  absl::Duration min_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration healthy_after = absl::Seconds(60);
  // Names the supervised process in log lines ("weft worker").
  std::string name = "weft worker";
  // The program to run; empty: this one (/proc/self/exe). For tests.
  std::string program;
};

// The environment variable a supervised child finds set to "1": it runs the
// worker itself instead of supervising again.
inline constexpr char kSupervisedVariable[] = "WEFT_SUPERVISED";

// True in a process that a supervisor (or LocalCluster) started as a
// worker: $WEFT_SUPERVISED is "1".
bool IsSupervisedChild();

// Runs this program again (/proc/self/exe, or options.program) with `argv`
// (argv[0] included)
// and the current environment plus WEFT_SUPERVISED=1, as a child that dies
// with this process; restarts it when it dies of a signal or exits with a
// code other than 0 (done), 1 (could not start), 2 (bad usage) or
// kExitNoScheduler (no scheduler to serve), each restart said on stderr
// with the cause. SIGTERM, SIGINT and SIGHUP are passed on to the child,
// and then it is not restarted. Returns the exit code this process should
// exit with: the child's, or 128 + its signal when restarts ran out.
// Blocks those signals while it runs (restores the mask on return).
// REQUIRES: the calling process has no other threads (it forks, and waits
// for the signals itself).
int Supervise(const std::vector<std::string>& argv,
              const SupervisorOptions& options);

// How a child process ended, from a waitpid() status, for log lines:
// "exited with status 3", "was killed by signal 11 (Segmentation fault)".
std::string DescribeExit(int wait_status);

}  // namespace weft::worker

#endif  // WEFT_WORKER_SUPERVISOR_H_
