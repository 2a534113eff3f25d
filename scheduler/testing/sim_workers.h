// Copyright 2026 The weft Authors.
//
// SimWorkers: many simulated workers in one process, for tests and
// benchmarks of the scheduler with hundreds or thousands of workers. Each
// speaks the worker's side of the real protocol: it joins with the
// handshake of rpc/join.h (a gRPC call carrying the token, then a frame
// stream of its own on the scheduler's frame port), sends heartbeats, and
// answers every assignment with a result, on a real socket. Nothing runs:
// a task's result is its first argument plus one when that argument is an
// int64 (weft's serialization; the answer a registered `inc` would give),
// else an empty value. With `task_time` > 0 each worker answers its
// assignments one after another, `task_time` apart (one thread busy that
// long per task); with 0 it answers each batch of assignments at once.
//
//   SimWorkers::Options options;
//   options.scheduler_address = server->address();
//   options.token = token;
//   SimWorkers sims(options);
//   CHECK_OK(sims.Add(100));
//   ...
//   sims.Leave(50);   // 50 workers say they leave and close, at once
//
// All workers of one SimWorkers share a gRPC channel (for the handshakes
// only) and an event loop (which reads their frame streams and runs their
// timers).
//
// Thread-safe.

#ifndef WEFT_SCHEDULER_TESTING_SIM_WORKERS_H_
#define WEFT_SCHEDULER_TESTING_SIM_WORKERS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rpc/event_loop.h"
#include "rpc/weft.pb.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler::testing {

class SimWorkers {
 public:
  struct Options {
    std::string scheduler_address;  // host:port of its gRPC service
    std::string token;              // the cluster token
    int nthreads = 1;               // what each worker registers with
    // How long each task "runs" (see above); 0: answered at once.
    absl::Duration task_time = absl::ZeroDuration();
    // How often every worker sends a heartbeat.
    absl::Duration heartbeat_interval = absl::Milliseconds(500);  // as workers
    // Threads of the event loop all these workers share.
    int io_threads = 1;
    // Called on a loop thread with each assignment as it arrives, before
    // it is answered (e.g. to measure how long assignments take to come).
    // Must be thread-safe.
    std::function<void(const rpc::Assignment&)> on_assignment;
  };

  // What the workers have done so far.
  struct Counts {
    uint64_t joined = 0;      // handshakes completed
    uint64_t assigned = 0;    // assignments received
    uint64_t assign_messages = 0;  // messages that carried assignments
    uint64_t answered = 0;    // results sent
    uint64_t heartbeats = 0;  // heartbeats sent
    uint64_t ended = 0;       // streams that ended (by the scheduler or Leave)
    uint64_t shutdown = 0;    // workers the scheduler told to stop
  };

  // Raises this process's open-file limit to its hard limit: many
  // simulated workers, with the scheduler's ends of their connections when
  // it runs here too, need more descriptors than the usual soft limit.
  // Returns the limit now in force (0 if it cannot be read). Thread-safe.
  static uint64_t RaiseOpenFileLimit();

  explicit SimWorkers(Options options);
  // Closes every worker's stream (without saying it leaves).
  ~SimWorkers();

  SimWorkers(const SimWorkers&) = delete;
  SimWorkers& operator=(const SimWorkers&) = delete;

  // Joins `n` more workers, `parallel` handshakes at a time, each within
  // `timeout`. Returns when all have joined. Errors: the first failed
  // handshake's (the others that joined stay).
  absl::Status Add(int n, int parallel = 4,
                   absl::Duration timeout = absl::Seconds(30));

  // The `n` workers joined first that are still connected say they leave
  // (WorkerMessage.leaving) and close their streams, all at once. Returns
  // how many did.
  int Leave(int n);

  // Workers connected now (joined, not ended).
  int connected() const;
  // The ids the scheduler gave the workers still connected.
  std::vector<uint64_t> ids() const;
  Counts counts() const;

 private:
  struct Worker;

  // One handshake; on success the worker is serving and in workers_.
  absl::Status JoinOne(absl::Duration timeout);
  // On the loop: answers `assignments` (now, or into the worker's queue).
  void OnMessages(const std::shared_ptr<Worker>& worker,
                  const rpc::SchedulerToWorker& message);
  // On the loop, task_time after the head of the queue started: answers it
  // and starts the next.
  void OnTaskTimer(const std::shared_ptr<Worker>& worker);
  void SendHeartbeats();

  const Options options_;
  // Reset first by the destructor: no handler of ours runs after that.
  std::unique_ptr<rpc::EventLoop> loop_;
  std::shared_ptr<void> channel_;  // grpc::Channel, kept out of the header

  mutable ::weft::internal::Mutex mu_;
  std::vector<std::shared_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  int next_index_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<uint64_t> joined_{0};
  std::atomic<uint64_t> assigned_{0};
  std::atomic<uint64_t> assign_messages_{0};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> ended_{0};
  std::atomic<uint64_t> shutdown_{0};

  // Declared last: destroyed first, before the workers it visits.
  std::unique_ptr<rpc::Timer> heartbeat_;
};

}  // namespace weft::scheduler::testing

#endif  // WEFT_SCHEDULER_TESTING_SIM_WORKERS_H_
