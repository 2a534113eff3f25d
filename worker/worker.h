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
#include <memory>
#include <string>

#include "rpc/token.h"
#include "worker/scheduler_connector.h"

namespace weft::worker {

struct WorkerOptions {
  std::string scheduler_address;  // host:port
  // Where the cluster token comes from (read when connecting).
  rpc::TokenSource token = rpc::TokenSource::FromEnvironmentOr("");
  int nthreads = 1;  // task slots
  // Address peers and clients use to reach this worker's data service.
  // Empty: 127.0.0.1 if the scheduler is on this machine, else this
  // machine's address on the route to the scheduler. RunWorker refuses a
  // loopback address (127.0.0.1, or a name that resolves to one) when the
  // scheduler is on another machine: peers there could not reach it.
  std::string host;
  int port = 0;  // 0: any free port
  std::string name;
  std::chrono::milliseconds heartbeat_interval{500};
  // How long to wait for the scheduler (and its token) at start-up.
  std::chrono::milliseconds connect_timeout{60000};
  // After losing the scheduler (its stream ended, or it was silent for
  // twice its heartbeat timeout: a partition, a SIGSTOP, a restart), how
  // long to keep trying to rejoin it, with backoff. Zero: exit at once.
  std::chrono::milliseconds rejoin_timeout{60000};
  // On SIGTERM (scancel, a walltime) the worker retires: it takes no new
  // tasks, finishes its own, waits while the objects only it holds are
  // copied to other workers, and exits; after this long it leaves anyway
  // (SLURM's KillWait, between SIGTERM and SIGKILL, is 30 s by default). A
  // second SIGTERM or SIGINT leaves at once. Zero: leave at once.
  std::chrono::milliseconds retire_timeout{20000};
  // Run under a supervisor that restarts the worker when it crashes
  // (worker/supervisor.h). Used by the launchers (weft::Init, `weft
  // worker`), not by RunWorker itself.
  bool supervised = true;
  int max_restarts = -1;  // for the supervisor; negative: no limit
};

// The exit code of a worker that could not join its scheduler, or gave up
// rejoining it: a supervisor does not restart it (nothing would change).
inline constexpr int kExitNoScheduler = 3;
// The exit code of a worker that could not start (its data service could
// not listen, a loopback address for peers on other machines).
inline constexpr int kExitCannotStart = 1;

// A worker: starts its data service (a gRPC server on options.host and
// options.port, and a bulk port), joins the scheduler through `connector`,
// and runs what the scheduler sends on options.nthreads task slots, until
// told to stop or asked to leave; rejoins after losing the scheduler, as
// options.rejoin_timeout says. RunWorker (worker/worker_main.h) is the process
// around it (signals, crash traces, limits); tests drive one through a
// connector of their own (worker/scheduler_connector.h). Several may live in
// one process.
//
// Thread-safety: Leave() and Retire() may be called from any thread while
// Run() runs; Run() is called once.
class Worker {
 public:
  // `connector` reaches the scheduler; GrpcSchedulerConnector for a real
  // one at options.scheduler_address.
  Worker(WorkerOptions options, std::unique_ptr<SchedulerConnector> connector);
  // REQUIRES: Run() has returned, or was never called.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves schedulers until the worker stops. Returns the exit code as
  // RunWorker does: 0 (told to stop, or asked to leave), kExitNoScheduler
  // (could not join, or gave up rejoining), kExitCannotStart (its data
  // service could not listen); says why on stderr. Running tasks finish
  // before it returns; queued ones are dropped.
  // REQUIRES: called once.
  int Run();

  // Leaves at once: tells the scheduler (which reschedules this worker's
  // work) and makes Run() return 0. Idempotent.
  void Leave();

  // Starts retiring (see WorkerOptions::retire_timeout): the scheduler
  // sends no new tasks, and tells this worker to stop once its tasks are
  // done and its only copies are copied elsewhere. Returns false if there
  // is no scheduler to retire from (not joined, or leaving): the caller
  // leaves instead.
  bool Retire();

  const WorkerOptions& options() const;

 private:
  class Impl;
  const std::unique_ptr<Impl> impl_;
};

}  // namespace weft::worker

#endif  // WEFT_WORKER_WORKER_H_
