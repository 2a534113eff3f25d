// Copyright 2026 The weft Authors.
//
// Plain data types shared by the scheduler's state machine and the service
// layer that wires it to gRPC: ids, task definitions, errors, and the actions
// the state machine asks the service layer to carry out. No protobuf here; the
// service layer maps its messages to and from these structs.

#ifndef WEFT_SCHEDULER_TYPES_H_
#define WEFT_SCHEDULER_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "weft/errors.h"
#include "weft/internal/object_key.h"  // task keys
#include "weft/options.h"

namespace weft::scheduler {

using ClientId = uint64_t;
using WorkerId = uint64_t;
// A task's id is the id of the object holding its result.
using ObjectId = uint64_t;
// The number the scheduler gives each assignment of a task to a worker
// (from 1; 0 means none). Each assignment gets the next number, so it is
// unique among one scheduler's assignments (it wraps only after 2^32
// assignments, far longer than any message is late). A worker's result,
// failure and block changes echo it, and a cancel names it: a late message
// about an earlier run of a task (before a retry, a cancel and resubmit, or
// a reassignment) is told from one about the current run and ignored.
using Attempt = uint32_t;
// An actor's id is the id of its anchor: the object its handles reference,
// whose release (no handle left anywhere) ends the actor (actor_table.h).
using ActorId = uint64_t;

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
inline constexpr int kNumTaskStates =
    static_cast<int>(TaskState::kCancelled) + 1;

// Returns a readable name for `state`, e.g. "processing".
const char* TaskStateName(TaskState state);

// An index for a new element of `slots`: the last index in `free` (taken
// from it), else that of a default element appended to `slots`. For tables
// whose removed elements leave their index to the next one added.
template <class Index, class Slots>
Index TakeSlot(Slots& slots, std::vector<Index>& free) {
  if (!free.empty()) {
    const Index index = free.back();
    free.pop_back();
    return index;
  }
  slots.emplace_back();
  return static_cast<Index>(slots.size() - 1);
}

// Why an object's value is not available, and its root cause: weft's own
// ErrorKind and ErrorInfo (core/weft/errors.h), which clients get in a
// TaskError. A failed task and every task that depended on it report the
// same ErrorInfo, which names the task that failed first (its task_key
// spelled by weft::internal::MakeKey()).
using ::weft::ErrorInfo;
using ::weft::ErrorKind;
using ::weft::ErrorKindName;

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
  // Nonzero: a call of this actor's method `function`, run on the actor's
  // worker (see actor_table.h). Its retries and num_cpus are ignored.
  ActorId actor = 0;
  // Set by the scheduler in an assignment of an actor call: the client that
  // made it, its number among that client's calls to the actor (from 1),
  // and the lowest number of that client's calls to the actor not yet
  // finished. The worker starts one caller's calls in number order.
  ClientId caller = 0;
  uint64_t actor_seq = 0;
  uint64_t first_unfinished = 0;
  // Set by the scheduler in an assignment: this run's attempt, which the
  // worker echoes in its reports about the run.
  Attempt attempt = 0;
};

// An actor as a client creates it: an instance of a registered class,
// constructed on a worker from `args` and kept there, serving calls.
struct ActorDef {
  ActorId id = 0;          // also the id of its anchor object
  std::string class_name;  // registered actor class
  std::string name;        // unique among live actors; empty: unnamed
  std::string args;        // opaque serialized constructor arguments
  std::vector<ObjectId> deps;      // inputs of the constructor
  std::vector<ObjectId> borrowed;  // references its arguments hold
  int num_cpus = 1;          // held on its worker while it lives, 0..65535
  int max_restarts = 0;      // restarts after a worker death; -1: no limit
  int max_task_retries = 0;  // re-runs of a call cut off by a worker death;
                             // -1: no limit
  int max_concurrency = 1;   // calls it runs at once, 1..kMaxConcurrency

  static constexpr int kMaxConcurrency = ActorOptions::kMaxConcurrency;
};

// What a worker announces when it joins: the state machine's copy of the
// registration part of rpc::WorkerInfo (the wire's worker message; the
// service converts it with FromProto in proto_mapping.h). What the state
// machine reports about a worker is SchedulerState's WorkerSummary, and what
// a program sees is weft::WorkerStatus (core/weft/worker_status.h).
struct WorkerRegistration {
  std::string address;  // where its data server listens
  int nthreads = 1;     // task threads, >= 1
  std::string host;     // machine name, for display
};

// What a worker reports in a heartbeat.
struct WorkerLoad {
  uint64_t memory_bytes = 0;  // resident memory the worker reports
};

// An input a worker could not fetch for a task, and the holders it tried.
struct InputMiss {
  ObjectId object = 0;
  std::vector<WorkerId> tried;
};

// One input of an assigned task and where to get it.
struct DepLocation {
  ObjectId object = 0;
  uint64_t size_bytes = 0;
  std::vector<WorkerId> holders;  // workers with a copy (none: kept put)
  std::string inline_value;       // the value itself if small, else empty
                                  // (always set when `holders` is empty)
  // The worker that gets it keeps the inline value as a copy (and reports
  // it as a replica): many tasks take this object (rpc::Location.keep).
  bool keep = false;
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

// One run of a task: the task and the attempt that assigned it.
struct TaskAttempt {
  ObjectId task = 0;
  Attempt attempt = 0;

  friend bool operator==(const TaskAttempt&, const TaskAttempt&) = default;
};

// `worker` should stop (or not start) each of `tasks`' runs and drop any
// results of them; a run of another attempt of the same task is left alone.
struct CancelTasks {
  WorkerId worker = 0;
  std::vector<TaskAttempt> tasks;
};

// Tell `client` that `object` is in memory. May be sent again for the same
// object, e.g. after it was recomputed on other workers.
struct ObjectReady {
  ClientId client = 0;
  ObjectId object = 0;
  uint64_t size_bytes = 0;
  // Where to fetch it; empty when inline_value is the whole value.
  std::vector<WorkerId> holders;
  std::string inline_value;  // empty if the value is large
};

// Tell `client` that `object` cannot be produced, and why.
struct ObjectFailed {
  ClientId client = 0;
  ObjectId object = 0;
  ErrorInfo error;
};

// Construct actor `def` on `worker` (its inputs listed in `def.deps`
// order); `restarts` is how often it was restarted before.
struct PlaceActor {
  WorkerId worker = 0;
  ActorDef def;
  std::vector<DepLocation> deps;
  int restarts = 0;
};

// `worker` should drop actor `actor`: its queued calls never run, a running
// call's result is dropped, and the instance is destroyed.
struct StopActor {
  WorkerId worker = 0;
  ActorId actor = 0;
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
                            WorkerRetired, PlaceActor, StopActor>;

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
