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
#include <vector>

namespace weft::worker {

struct WorkerOptions {
  std::string scheduler_address;  // host:port
  std::string token;              // the cluster token
  int nthreads = 1;               // task slots
  // Address peers and clients use to reach this worker's data service.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string name;
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds connect_timeout{10000};
};

// Runs a worker until the scheduler tells it to stop (returns 0) or the
// connection fails (prints why on stderr, returns 1). Sets OMP_NUM_THREADS,
// OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to 1 unless already set, so each
// task slot runs one BLAS/OpenMP thread.
int RunWorker(const WorkerOptions& options);

// Worker mode from the command line: --weft-worker, --weft-scheduler=ADDR,
// --weft-nthreads=N, --weft-host=H (or WEFT_WORKER=1 and WEFT_SCHEDULER in
// the environment); the token from $WEFT_TOKEN or --weft-token-file=F.
// Removes the --weft-* flags it recognised from argv. Returns nullopt when
// the process is not a worker. Exits with a message on malformed flags.
std::optional<WorkerOptions> WorkerOptionsFromFlags(int& argc, char** argv);

// The flags that start a worker of this binary (for launchers).
std::vector<std::string> WorkerFlags(const std::string& scheduler_address,
                                     int nthreads, const std::string& host);

}  // namespace weft::worker

#endif  // WEFT_WORKER_WORKER_H_
