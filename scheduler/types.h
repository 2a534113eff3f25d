// Copyright 2026 The weft Authors.
//
// Plain data types shared by the scheduler's state machine and the service
// layer that wires it to gRPC: ids, task definitions, errors, and the actions
// the state machine asks the service layer to carry out. No protobuf here; the
// service layer maps its messages to and from these structs.

#ifndef WEFT_SCHEDULER_TYPES_H_
#define WEFT_SCHEDULER_TYPES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "weft/errors.h"

namespace weft::scheduler {

using ClientId = uint64_t;
using WorkerId = uint64_t;
// A task's id is the id of the object holding its result.
using ObjectId = uint64_t;

// Where an object is in its life cycle.
enum class TaskState : uint8_t {
  kWaiting,     // some input is not in memory yet
  kReady,       // every input in memory; queued for a worker
  kProcessing,  // assigned to a worker
  kMemory,      // the result is held by one or more workers
  kErred,       // failed (its own error, or a dependency's root cause)
  kReleased,    // not needed; no value. Kept only as lineage (or unknown).
  kCancelled,   // cancelled, or depends on a cancelled task
};

// Returns a readable name for `state`, e.g. "processing".
const char* TaskStateName(TaskState state);

// Why an object's value is not available: weft's own ErrorKind, so that
// the service layer passes kinds through unchanged.
using ::weft::ErrorKind;
using ::weft::ErrorKindName;

// The root cause of a failure. A failed task and every task that depended on
// it report the same ErrorDetail, which names the task that failed first.
struct ErrorDetail {
  ErrorKind kind = ErrorKind::kTaskFailed;
  std::string task_name;       // e.g. "Square"
  std::string task_key;        // e.g. "Square-000000000000001f"; TaskKey()
  std::string exception_type;  // e.g. "std::invalid_argument"; may be empty
  std::string message;

  friend bool operator==(const ErrorDetail&, const ErrorDetail&) = default;
};

// A task as a client submits it and a worker runs it.
struct TaskDef {
  ObjectId id = 0;             // also the id of its result
  std::string name;            // readable name, e.g. "Square"; shared
  std::string function;        // registered function to call
  std::vector<ObjectId> deps;  // inputs, in argument order
  std::string args;            // opaque serialized arguments
  int retries = 0;             // extra attempts after a failure, 0..32767
  int num_cpus = 1;            // threads it needs on one worker, 1..65535
  int priority = 0;            // higher runs first among ready tasks
  // Objects the arguments hold references to (ObjectRefs the task gets as
  // references, not values): kept alive while the task is pending.
  std::vector<ObjectId> borrowed;
};

// The readable unique key of a task: "<name>-<id in hex>".
std::string TaskKey(const std::string& name, ObjectId id);

// What a worker announces when it joins.
struct WorkerInfo {
  std::string address;  // where its data server listens
  int nthreads = 1;     // task threads, >= 1
  std::string host;     // machine name, for display
};

// What a worker reports in a heartbeat.
struct WorkerLoad {
  uint64_t memory_bytes = 0;  // resident memory the worker reports
};

// One input of an assigned task and where to get it.
struct DepLocation {
  ObjectId object = 0;
  uint64_t size_bytes = 0;
  std::vector<WorkerId> holders;  // workers with a copy (none: kept put)
  std::string inline_value;       // the value itself if small, else empty
                                  // (always set when `holders` is empty)
};

// --- Actions: what the state machine asks the service layer to do. -------

// Run `task` on `worker`. Inputs are listed in `task.deps` order.
struct AssignTask {
  WorkerId worker = 0;
  TaskDef task;
  std::vector<DepLocation> deps;
};

// `worker` should drop its copies of `objects`.
struct ReleaseObjects {
  WorkerId worker = 0;
  std::vector<ObjectId> objects;
};

// `worker` should stop (or not start) `tasks` and drop any results of them.
struct CancelTasks {
  WorkerId worker = 0;
  std::vector<ObjectId> tasks;
};

// Tell `client` that `object` is in memory. May be sent again for the same
// object, e.g. after it was recomputed on other workers.
struct ObjectReady {
  ClientId client = 0;
  ObjectId object = 0;
  uint64_t size_bytes = 0;
  std::vector<WorkerId> holders;
  std::string inline_value;  // empty if the value is large
};

// Tell `client` that `object` cannot be produced, and why.
struct ObjectFailed {
  ClientId client = 0;
  ObjectId object = 0;
  ErrorDetail error;
};

// `worker` should fetch a copy of `object` from one of `holders` and report
// it as a replica: a retiring worker hands off what only it holds.
struct ReplicateObject {
  WorkerId worker = 0;
  ObjectId object = 0;
  uint64_t size_bytes = 0;
  std::vector<WorkerId> holders;
};

// Retiring `worker` has handed off everything still needed (or there was
// nobody to take it): it may go.
struct WorkerRetired {
  WorkerId worker = 0;
  size_t handed_off = 0;  // objects copied to other workers
};

using Action = std::variant<AssignTask, ReleaseObjects, CancelTasks,
                            ObjectReady, ObjectFailed, ReplicateObject,
                            WorkerRetired>;

// Whom an action is for.
struct Destination {
  bool is_worker = false;  // false: a client
  uint64_t id = 0;

  friend bool operator==(const Destination&, const Destination&) = default;
};

// Returns the worker or client `action` is addressed to.
Destination DestinationOf(const Action& action);

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_TYPES_H_
