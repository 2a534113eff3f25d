// Copyright 2026 The weft Authors.
//
// What runtimes record of the tasks they run, for weft::performance_report
// and weft::trace (weft/report.h): task runs and the transfers of their
// inputs, read through an EventReader a runtime opens
// (Runtime::OpenEvents). The embedded runtime records them itself while a
// reader is open; a cluster's scheduler records them always
// (scheduler/telemetry.h) and a reader asks it for them.

#ifndef WEFT_CORE_WEFT_INTERNAL_TASK_EVENTS_H_
#define WEFT_CORE_WEFT_INTERNAL_TASK_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace weft::internal {

// One run of a task. Times are microseconds since the Unix epoch, on the
// clock of the process that ran it.
struct TaskRunEvent {
  uint64_t id = 0;
  std::string name;
  std::string function;  // registered name; the name for other callables
  uint64_t worker = 0;   // as WorkerStatus::id (0: embedded)
  int thread = 0;        // the worker's task slot
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool failed = false;
  std::string exception_type;  // when failed (clusters: if still known)
  std::string message;
};

// One input a worker fetched from another for a task.
struct TransferEvent {
  uint64_t object = 0;
  uint64_t worker = 0;   // the worker that received it
  int thread = 0;        // its task slot that fetched it
  std::string from;      // the holder's data address
  uint64_t bytes = 0;
  std::string path;      // "shared_memory" or "network"
  int64_t start_us = 0;
  int64_t end_us = 0;
};

// Events read so far.
struct EventBatch {
  std::vector<TaskRunEvent> tasks;
  std::vector<TransferEvent> transfers;
  // Events that happened but could not be kept (a recorder's buffer was
  // full, or the scheduler's ring overwrote them before they were read).
  uint64_t dropped = 0;
};

// Reads the events of tasks that run from its opening on. Not thread-safe:
// one thread reads at a time. Destroy it before the runtime it reads.
class EventReader {
 public:
  virtual ~EventReader() = default;
  // Appends the events recorded since the previous call (or the opening)
  // to `into`. Errors: Unavailable if the runtime can no longer answer
  // (a cluster's scheduler is gone); what was appended stays.
  virtual absl::Status Read(EventBatch& into) = 0;
};

// Microseconds since the Unix epoch, now.
int64_t UnixMicrosNow();

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_TASK_EVENTS_H_
