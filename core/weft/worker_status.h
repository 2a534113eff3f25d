// Copyright 2026 The weft Authors.
//
// WorkerStatus: one worker as a program sees it through Client::workers().
// This is the user's view of a worker; inside weft, the wire carries it as
// rpc::WorkerInfo (rpc/weft.proto) and the scheduler's state machine keeps
// its own record (scheduler::WorkerSummary).

#ifndef WEFT_CORE_WEFT_WORKER_STATUS_H_
#define WEFT_CORE_WEFT_WORKER_STATUS_H_

#include <cstdint>
#include <string>

namespace weft {

// One worker at the moment Client::workers() asked. A plain value: copying
// it is cheap and it does not change after it is returned.
struct WorkerStatus {
  // The scheduler's id for the worker (0 on the embedded runtime); task
  // runs in performance reports name their worker by it.
  uint64_t id = 0;
  // Where the worker's data server listens, "host:port" ("local" on the
  // embedded runtime).
  std::string address;
  std::string host;    // the machine's name, for display
  int nthreads = 0;    // task threads (slots)
  int64_t pid = 0;     // its process id (0 if the scheduler does not know it)
  int processing = 0;  // tasks assigned to it and not finished
  // Bytes of objects it holds (on a cluster, the larger of the sizes the
  // scheduler counts and the memory it reports); 0 on the embedded runtime.
  uint64_t memory_bytes = 0;
  uint64_t objects = 0;  // objects it holds; 0 on the embedded runtime
  // Clusters only, from the worker's last heartbeat (zeros before the first
  // and on the embedded runtime): tasks running now (the rest of
  // `processing` waits there), its process's CPU use over the last interval
  // (1.0 = one core busy) and resident memory.
  int executing = 0;
  double cpu = 0;
  uint64_t rss_bytes = 0;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_WORKER_STATUS_H_
