// Copyright 2026 The weft Authors.
//
// The worker process around a Worker (worker/worker.h): what `weft worker`
// and a program started with --weft-worker run. RunWorker installs the
// signal handling (SIGTERM retires, a second one or a timeout leaves), the
// crash traces and the limits a worker needs; WorkerOptionsFromFlags reads
// worker mode from the command line and the environment; WorkerFlags is the
// reverse, for launchers.

#ifndef WEFT_WORKER_WORKER_MAIN_H_
#define WEFT_WORKER_WORKER_MAIN_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "worker/worker.h"

namespace weft::worker {

// Runs a worker until the scheduler tells it to stop or it is asked to
// leave (SIGTERM, SIGINT: it retires as options.retire_timeout says, or
// leaves at once, telling the scheduler, which reschedules its work; quietly
// either way): returns 0. A worker that loses the scheduler
// drops what it held (the scheduler has given it up too) and rejoins as a
// new worker, for up to options.rejoin_timeout. Returns kExitNoScheduler
// if it cannot join within options.connect_timeout or gives up rejoining,
// kExitCannotStart if it cannot start (printing why on stderr in every
// case). Sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to
// 1 unless already set, so each task slot runs one BLAS/OpenMP thread.
int RunWorker(const WorkerOptions& options);

// Worker mode from the command line: --weft-worker, --weft-scheduler=ADDR,
// --weft-nthreads=N (default: the CPUs of its SLURM task inside a SLURM
// job, else 1), --weft-host=H (default: the node's host name inside a
// SLURM job, else chosen by RunWorker), --weft-connect-timeout=SECONDS,
// --weft-rejoin-timeout=SECONDS (0: do not rejoin),
// --weft-retire-timeout=SECONDS (0: leave at once), --weft-no-supervisor,
// --weft-max-restarts=N (or
// WEFT_WORKER=1 and WEFT_SCHEDULER in the environment); the token from
// $WEFT_TOKEN or --weft-token-file=F. Removes the --weft-* flags it
// recognised from argv. Returns nullopt when the process is not a worker.
// Exits with a message on malformed flags.
std::optional<WorkerOptions> WorkerOptionsFromFlags(int& argc, char** argv);

// Parses a positive number of seconds (e.g. "60", "0.5") given to `flag`,
// or zero if `allow_zero`; exits with a message naming the flag if it is
// not one.
std::chrono::milliseconds ParseSeconds(std::string_view flag,
                                       const std::string& value,
                                       bool allow_zero = false);

// The flags that start a worker of this binary (for launchers).
std::vector<std::string> WorkerFlags(const std::string& scheduler_address,
                                     int nthreads, const std::string& host);

}  // namespace weft::worker

#endif  // WEFT_WORKER_WORKER_MAIN_H_
