// Copyright 2026 The weft Authors.
//
// A worker process: connects to the scheduler, runs the tasks it is given on
// N task slots (fibers, so a task blocked in get() yields its slot), keeps
// results in a local object store, serves them to peers and clients, and
// reports load in heartbeats. Any program that calls weft::Init can become a
// worker; so can the generic `weft worker` binary.

#ifndef WEFT_WORKER_WORKER_H_
#define WEFT_WORKER_WORKER_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rpc/token.h"

namespace weft::worker {

struct WorkerOptions {
  std::string scheduler_address;  // host:port
  // Where the cluster token comes from (read when connecting).
  rpc::TokenSource token = rpc::TokenSource::FromEnvironmentOr("");
  int nthreads = 1;               // task slots
  // Address peers and clients use to reach this worker's data service.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string name;
  std::chrono::milliseconds heartbeat_interval{500};
  // How long to wait for the scheduler (and its token) at start-up.
  std::chrono::milliseconds connect_timeout{60000};
};

// Runs a worker until the scheduler tells it to stop or it is asked to
// leave (SIGTERM, SIGINT: it tells the scheduler, which reschedules its
// work, and stops quietly): returns 0. Returns 1 if it cannot join the
// scheduler within options.connect_timeout, or loses it (printing why on
// stderr). Sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS
// to 1 unless already set, so each task slot runs one BLAS/OpenMP thread.
int RunWorker(const WorkerOptions& options);

// Worker mode from the command line: --weft-worker, --weft-scheduler=ADDR,
// --weft-nthreads=N (default: the CPUs of its SLURM task inside a SLURM
// job, else 1), --weft-host=H (default: the node's host name inside a
// SLURM job, else 127.0.0.1), --weft-connect-timeout=SECONDS (or
// WEFT_WORKER=1 and WEFT_SCHEDULER in the environment); the token from
// $WEFT_TOKEN or --weft-token-file=F. Removes the --weft-* flags it
// recognised from argv. Returns nullopt when the process is not a worker.
// Exits with a message on malformed flags.
std::optional<WorkerOptions> WorkerOptionsFromFlags(int& argc, char** argv);

// Parses a positive number of seconds (e.g. "60", "0.5") given to `flag`;
// exits with a message naming the flag if it is not one.
std::chrono::milliseconds ParseSeconds(std::string_view flag,
                                       const std::string& value);

// The flags that start a worker of this binary (for launchers).
std::vector<std::string> WorkerFlags(const std::string& scheduler_address,
                                     int nthreads, const std::string& host);

}  // namespace weft::worker

#endif  // WEFT_WORKER_WORKER_H_
