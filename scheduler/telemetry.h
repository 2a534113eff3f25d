// Copyright 2026 The weft Authors.
//
// Telemetry: what a scheduler has seen, for the views users watch: the
// dashboard, /metrics, performance reports and traces. The service records
// into it as events happen (cheaply: counters, and bounded rings of recent
// events); readers take snapshots.
//
// Recording never blocks on a reader for long: one short lock, no I/O. The
// rings keep the most recent events only (kMaxTaskEvents, ...), so a
// reader that polls (the dashboard every second, a report at its end)
// asks for the events after a cursor and learns if some were dropped.

#ifndef WEFT_SCHEDULER_TELEMETRY_H_
#define WEFT_SCHEDULER_TELEMETRY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "scheduler/types.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler {

// How an object's bytes reached the task that needed them.
enum class TransferPath : uint8_t {
  kInline,        // inside the assignment (at most 64 KiB)
  kSharedMemory,  // a same-host holder's memory, mapped
  kNetwork,       // streamed from another worker
};
const char* TransferPathName(TransferPath path);

// One run of a task, as its worker reported it.
struct TaskEvent {
  ObjectId task = 0;
  std::string key;       // "name-<hex id>"
  std::string function;  // registered function name
  WorkerId worker = 0;
  int thread = 0;        // the worker's task slot it ran on
  absl::Time start;      // on the worker's clock
  absl::Time end;
  bool failed = false;
  std::string error_type;     // when failed
  std::string error_message;  // when failed
};

// One input fetched by a worker for a task.
struct TransferEvent {
  ObjectId object = 0;
  WorkerId to = 0;
  std::string from;  // the holder's address ("" when inline)
  uint64_t bytes = 0;
  TransferPath path = TransferPath::kInline;
  absl::Time start;
  absl::Time end;
};

// A worker as the views show it.
struct WorkerView {
  WorkerId id = 0;
  std::string address;
  std::string host;
  int nthreads = 0;
  int64_t pid = 0;
  uint32_t processing = 0;     // tasks assigned to it, not finished
  uint64_t objects = 0;        // objects it holds
  uint64_t memory_bytes = 0;   // bytes it holds
  double cpu_seconds = 0;      // its process's CPU time, from heartbeats
  absl::Time joined;
};

// Tasks of one function by state (released tasks done: `memory` counts
// results still held, `done` every success).
struct FunctionProgress {
  uint64_t waiting = 0;
  uint64_t ready = 0;
  uint64_t processing = 0;
  uint64_t memory = 0;
  uint64_t erred = 0;
  uint64_t cancelled = 0;
  uint64_t done = 0;        // finished successfully, ever
  uint64_t failed = 0;      // failed for good, ever
  double run_seconds = 0;   // sum of their run times
};

// Counters since the scheduler started.
struct Totals {
  uint64_t tasks_finished = 0;
  uint64_t tasks_failed = 0;
  uint64_t bytes_inline = 0;
  uint64_t bytes_shared_memory = 0;
  uint64_t bytes_network = 0;
  uint64_t workers_joined = 0;
  uint64_t workers_removed = 0;  // dropped or died (not left)
  uint64_t workers_left = 0;
  uint64_t clients_connected = 0;
  // Upper bounds (seconds) of the task-duration histogram's buckets, and
  // the count of durations at most each (cumulative, as Prometheus wants);
  // the last bucket is +Inf.
  std::vector<double> duration_bounds;
  std::vector<uint64_t> duration_counts;
  double duration_sum_seconds = 0;
};

class Telemetry {
 public:
  static constexpr size_t kMaxTaskEvents = 100000;
  static constexpr size_t kMaxTransferEvents = 20000;
  static constexpr size_t kMaxFailures = 100;

  Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // --- Recording (the scheduler service) --------------------------------
  void RecordTask(TaskEvent event);
  void RecordTransfer(TransferEvent event);
  void WorkerJoined(const WorkerView& worker);
  // `left`: it said it was leaving (else it died or was dropped).
  void WorkerRemoved(WorkerId worker, bool left);
  void WorkerHeartbeat(WorkerId worker, double cpu_seconds,
                       uint64_t memory_bytes);
  void ClientConnected();

  // --- Reading (the views) ------------------------------------------------
  // Task events after `cursor` (0: from the oldest kept), at most `max`,
  // and the cursor to pass next time. `*dropped` is set if events after
  // `cursor` were dropped from the ring before this call.
  std::vector<TaskEvent> TasksSince(uint64_t cursor, size_t max,
                                    uint64_t* next, bool* dropped) const;
  std::vector<TransferEvent> TransfersSince(uint64_t cursor, size_t max,
                                            uint64_t* next,
                                            bool* dropped) const;
  // The most recent failures, newest last.
  std::vector<TaskEvent> RecentFailures() const;
  // Workers as of their last heartbeat (processing/objects/memory are
  // filled in by the service from the state machine; see
  // SchedulerService::Snapshot).
  std::vector<WorkerView> Workers() const;
  Totals totals() const;
  // Per function: done, failed and run time so far (the counts by state
  // come from the state machine).
  std::map<std::string, FunctionProgress> FunctionTotals() const;

 private:
  mutable internal::Mutex mu_;
  std::deque<TaskEvent> tasks_ ABSL_GUARDED_BY(mu_);
  uint64_t tasks_first_ ABSL_GUARDED_BY(mu_) = 1;  // cursor of tasks_[0]
  std::deque<TransferEvent> transfers_ ABSL_GUARDED_BY(mu_);
  uint64_t transfers_first_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<TaskEvent> failures_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerId, WorkerView> workers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, FunctionProgress> functions_ ABSL_GUARDED_BY(mu_);
  Totals totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_TELEMETRY_H_
