// Copyright 2026 The weft Authors.
//
// SlurmCluster: a cluster whose workers are SLURM jobs, started from a
// program that runs outside an allocation (a login node), as dask-
// jobqueue's SLURMCluster does:
//
//   int main(int argc, char** argv) {
//     weft::Init(argc, argv);                // the worker jobs run this binary
//     weft::SlurmCluster cluster({.cores = 4, .memory = "8G",
//                                 .walltime = "01:00:00",
//                                 .partition = "batch"});
//     cluster.scale(10);                     // ten worker jobs...
//     // cluster.adapt(0, 20);               // ...or as many as the work needs
//     weft::Client client = cluster.client();
//     client.wait_for_workers(10);           // once SLURM has started them
//     ... the same weft calls as anywhere else ...
//   }                                        // every job is cancelled
//
// The scheduler runs in this process; each worker job is one task of
// `cores` CPUs running this program (or `worker_binary`) with
// --weft-worker, which takes its threads from the job's CPUs. Jobs are
// submitted with sbatch, watched with squeue and cancelled with scancel,
// which must be on the PATH (or named in Options). The program, and the
// directory holding the token and the jobs' output, must be on a file
// system the compute nodes share. See docs/deploy.md.
//
// Thread-safety: all methods are thread-safe.

#ifndef WEFT_CORE_WEFT_SLURM_CLUSTER_H_
#define WEFT_CORE_WEFT_SLURM_CLUSTER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "weft/client.h"

namespace weft {

class SlurmCluster {
 public:
  struct Options {
    // What each worker job asks for (sbatch's --cpus-per-task, --mem,
    // --time, --partition, --account, --job-name); empty strings leave
    // SLURM's defaults. `cores` is also the worker's thread count.
    int cores = 1;
    std::string memory = {};     // e.g. "4G"
    std::string walltime = {};   // e.g. "01:00:00"
    std::string partition = {};
    std::string account = {};
    std::string job_name = "weft-worker";
    // More sbatch options, one "#SBATCH" line each, e.g. "--qos=debug".
    std::vector<std::string> job_directives = {};
    // Shell lines the job runs before the worker, e.g. "module load gcc".
    std::vector<std::string> prologue = {};
    // The worker program, started with --weft-worker; empty: this program.
    std::string worker_binary = {};
    // The address workers reach the scheduler at; empty: the scheduler
    // listens on every interface and workers use this machine's host name.
    std::string host = {};
    int port = 0;  // 0: any free port
    // A directory the compute nodes see, for the token file and the jobs'
    // output (slurm-ID.out); empty: a new directory in weft's state
    // directory (~/.weft or $WEFT_HOME), removed when the cluster goes. A
    // directory given here is kept.
    std::string directory = {};
    // How often the queue and the load are looked at (adapt, and jobs
    // that ended).
    std::chrono::milliseconds poll_interval{2000};
    // The SLURM commands.
    std::string sbatch = "sbatch";
    std::string squeue = "squeue";
    std::string scancel = "scancel";
  };

  // Starts the scheduler and makes client() the default client; submits
  // no job yet. Throws UsageError if the scheduler cannot listen or the
  // directory cannot be made.
  explicit SlurmCluster(Options options);
  // Cancels every job (SLURM sends the workers SIGTERM, then SIGKILL after
  // its KillWait) and stops the scheduler. A failed scancel is reported on
  // stderr.
  ~SlurmCluster();
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // A client connected to this cluster's scheduler.
  Client client() const;
  // The scheduler's address as workers reach it (host:port).
  const std::string& address() const;
  // The batch script each worker job runs (dask-jobqueue's job_script()).
  std::string job_script() const;

  // Keeps `n` worker jobs from now on (stops adapting): submits the
  // missing ones at once; cancels surplus ones at once, pending jobs
  // first, then those of idle workers, then the newest. Throws
  // UsageError if n < 0 or sbatch or scancel fails (with their message).
  void scale(int n);
  // Keeps between `minimum` and `maximum` jobs, as many as the work needs:
  // one job per `cores` tasks that run or wait for a worker. Grows at the
  // next look; shrinks after three looks in a row want fewer, cancelling
  // only pending jobs and those of idle workers. Throws UsageError if not
  // 0 <= minimum <= maximum.
  void adapt(int minimum, int maximum);

  // The jobs submitted and not seen to end (cancelled ones until they
  // end), oldest first.
  std::vector<int64_t> job_ids() const;
  // The last error of a SLURM command, or of jobs that ended before their
  // worker joined (with their output's tail); empty if none. After three
  // such jobs in a row no more are submitted until scale() or adapt() is
  // called again.
  std::string last_error() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_SLURM_CLUSTER_H_
