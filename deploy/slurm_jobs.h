// Copyright 2026 The weft Authors.
//
// Worker jobs submitted to SLURM from outside an allocation (a login node),
// as dask-jobqueue's SLURMCluster does: each job is one worker with the
// CPUs, memory and time it asked for; a WorkerJobPool keeps as many jobs as
// it is told (Scale) or as the scheduler's queue calls for (Adapt), and
// cancels them all when it closes. weft::SlurmCluster (core/weft/
// slurm_cluster.h) and `weft slurm` are built on it.
//
// How a job's worker is found: the job's script writes "HOST PID" of the
// worker it is about to exec to <marker_directory>/job-<ID> before exec'ing
// it, so the pool can match a job with the worker the scheduler sees (host
// and pid) and, when scaling down, cancel the jobs of idle workers first.
//
// Commands: sbatch --parsable (the script on its standard input), squeue
// --noheader --format='%i %T' --jobs=..., scancel ID...; from PATH unless
// SlurmCommands says otherwise.

#ifndef WEFT_DEPLOY_SLURM_JOBS_H_
#define WEFT_DEPLOY_SLURM_JOBS_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::deploy {

// What each worker job asks SLURM for, and what it runs.
struct WorkerJobSpec {
  // CPUs of the job (--cpus-per-task; one task): the worker's threads.
  int cores = 1;
  // --mem, e.g. "4G"; empty: the partition's default.
  std::string memory;
  // --time, e.g. "01:00:00"; empty: the partition's default.
  std::string walltime;
  // --partition and --account; empty: SLURM's defaults.
  std::string partition;
  std::string account;
  // --job-name.
  std::string job_name = "weft-worker";
  // More sbatch options, one per "#SBATCH" line, e.g. "--qos=debug".
  std::vector<std::string> directives;
  // Shell lines run before the worker starts (e.g. "module load gcc").
  std::vector<std::string> prologue;
  // The worker's command line, run as given (absolute paths: the job runs
  // on another node). The worker takes its threads and its address from
  // SLURM's environment (the job's CPUs, the node's host name).
  std::vector<std::string> worker_command;
  // A directory every node sees: the jobs' output (slurm-ID.out) and their
  // "HOST PID" notes (job-ID).
  std::string directory;
};

// The batch script of one worker job: a "#SBATCH" line per option, the
// prologue, the note of the worker's host and pid, then `exec` of the
// worker command.
std::string WorkerJobScript(const WorkerJobSpec& spec);

// Where the SLURM client commands are.
struct SlurmCommands {
  std::string sbatch = "sbatch";
  std::string squeue = "squeue";
  std::string scancel = "scancel";
};

// The scheduler's side of the pool's decisions.
struct WorkerLoad {
  std::string host;
  int64_t pid = 0;
  int nthreads = 0;
  int processing = 0;  // tasks assigned and not finished
};
struct ClusterLoad {
  size_t ready_tasks = 0;  // ready to run, waiting for a worker
  std::vector<WorkerLoad> workers;
};

// Keeps a number of worker jobs. Thread-safe.
class WorkerJobPool {
 public:
  struct Options {
    WorkerJobSpec spec;
    SlurmCommands commands;
    // How often the pool looks at the queue and at the load.
    absl::Duration poll_interval = absl::Seconds(2);
    // Adapt: how many looks in a row must want fewer jobs before it
    // cancels some.
    int scale_down_after = 3;
    // Jobs that end before their worker ever joined, in a row, after which
    // the pool submits no more (last_error() says why).
    int max_failed_starts = 3;
    // How long each SLURM command may take.
    absl::Duration command_timeout = absl::Seconds(60);
  };

  // `load` reports the scheduler's view; the pool calls it from its own
  // thread, never with its lock held. Submits nothing until told.
  WorkerJobPool(Options options, std::function<ClusterLoad()> load);
  // Close(), reporting a failure on stderr.
  ~WorkerJobPool();
  WorkerJobPool(const WorkerJobPool&) = delete;
  WorkerJobPool& operator=(const WorkerJobPool&) = delete;

  // Keeps `n` worker jobs from now on (adapting stops): submits the
  // missing ones now; cancels surplus ones now, pending jobs first, then
  // the jobs of idle workers, then the newest. Errors: InvalidArgument
  // (n < 0), FailedPrecondition after Close(), Internal with sbatch's or
  // scancel's output.
  absl::Status Scale(int n);

  // Keeps between `minimum` and `maximum` jobs from now on, as many as the
  // queue calls for: one job of spec.cores CPUs per spec.cores tasks that
  // run or wait (busy worker threads plus ready tasks, rounded up). Grows
  // at the next look; shrinks only after scale_down_after looks in a row
  // want fewer, and then cancels pending jobs and the jobs of idle workers
  // only. Errors: InvalidArgument (minimum < 0 or maximum < minimum),
  // FailedPrecondition after Close().
  absl::Status Adapt(int minimum, int maximum);

  // The jobs submitted and not seen to end, oldest first.
  std::vector<int64_t> jobs() const;

  // The last error of a SLURM command or of jobs that end without their
  // worker (empty if none).
  std::string last_error() const;

  // Stops scaling and cancels every job (scancel: SIGTERM, then SIGKILL
  // after SLURM's KillWait). Idempotent. Errors: Internal with scancel's
  // output.
  absl::Status Close();

 private:
  struct Job {
    int64_t id = 0;
    bool running = false;    // squeue said it runs
    bool joined = false;     // its worker was seen at the scheduler
    bool cancelled = false;  // the pool cancelled it
    std::optional<std::pair<std::string, int64_t>> worker;  // host, pid
  };

  void Loop();
  // One look: the queue, the load, then submit or cancel. Returns the
  // first error of a SLURM command.
  absl::Status Poll();
  absl::StatusOr<int64_t> SubmitOne();
  absl::Status CancelJobs(const std::vector<int64_t>& ids);
  // Which jobs to cancel to come down to `target`: pending ones first
  // (newest first), then those whose worker is idle or not there yet;
  // busy ones too (newest first) only if `busy_too`.
  std::vector<int64_t> Surplus(const std::vector<Job>& jobs,
                               const ClusterLoad& load, size_t target,
                               bool busy_too) const;

  const Options options_;
  const std::function<ClusterLoad()> load_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Job> jobs_;               // guarded by mu_
  std::optional<int> fixed_;            // Scale(n); guarded by mu_
  std::optional<std::pair<int, int>> adapt_;  // guarded by mu_
  int want_fewer_ = 0;                  // looks in a row; guarded by mu_
  int failed_starts_ = 0;               // guarded by mu_
  std::string last_error_;              // guarded by mu_
  bool closed_ = false;                 // guarded by mu_
  std::mutex poll_mu_;  // one look at a time (the thread's, Scale's)
  std::thread thread_;
};

}  // namespace weft::deploy

#endif  // WEFT_DEPLOY_SLURM_JOBS_H_
