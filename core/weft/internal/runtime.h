// Copyright 2026 The weft Authors.
//
// Runtime: the seam between the typed public API and an engine that runs
// tasks. The embedded runtime (threads and fibers in this process) and the
// cluster runtime (a scheduler and worker processes over gRPC) implement it,
// so a program written against weft.h runs unchanged on either.

#ifndef WEFT_CORE_WEFT_INTERNAL_RUNTIME_H_
#define WEFT_CORE_WEFT_INTERNAL_RUNTIME_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weft/actor_status.h"
#include "weft/internal/any_value.h"
#include "weft/internal/object_state.h"
#include "weft/internal/task_events.h"
#include "weft/internal/wire.h"
#include "weft/options.h"
#include "weft/worker_status.h"

namespace weft::internal {

// A bound call: the function and its stored arguments.
class TaskBody {
 public:
  virtual ~TaskBody() = default;
  // Runs the call in this process once every dependency is ready: reads the
  // dependencies' values, calls the function, returns its result. Throws
  // what the function throws. `last_attempt` allows moving arguments in.
  virtual AnyValue Run(bool last_attempt) = 0;
  // Encodes the arguments for another process, telling `refs` (if not
  // null) of each object reference inside them that the task receives as a
  // reference (an ObjectRef parameter, or one inside a value): the runtime
  // must keep those alive until the task has run. Errors: InvalidArgument
  // for an argument that cannot be serialized, or a reference whose value
  // type differs from the parameter type.
  virtual absl::Status ToWire(std::vector<WireArg>& out,
                              RefCollector* refs) const = 0;
};

// A value for put(), with a way to serialize it if it must leave the process.
struct PutSpec {
  AnyValue value;
  // Encodes `value` into `sink` (one Allocate, then the bytes). Errors:
  // Unimplemented if its type is not serializable; Internal if its
  // serialize() wrote a different size than it measured.
  absl::AnyInvocable<absl::Status(ResultSink&) const> encode;
};

// Everything a runtime needs to run one task. Built by the typed API layer.
struct TaskSpec {
  // Readable task name (options.name, the registered name, or "lambda").
  std::string name;
  // Registered function name; empty for unregistered callables, which only
  // an in-process runtime can run.
  std::string function_name;
  TaskOptions options;
  // Objects that must be ready before the task runs, in argument order.
  std::vector<std::shared_ptr<ObjectState>> deps;
  // The bound call.
  std::unique_ptr<TaskBody> body;
  // Object id for the result (NewObjectId(), or a pure node's hash).
  uint64_t id = 0;
};

// Everything a runtime needs to create an actor. Built by weft/actor.h.
struct ActorSpec {
  // The class's registered name (WEFT_ACTOR).
  std::string class_name;
  ActorOptions options;
  // Objects that must be ready before the constructor runs.
  std::vector<std::shared_ptr<ObjectState>> deps;
  // The bound constructor call: Run() returns an AnyValue holding a
  // std::shared_ptr<void>, the new instance; ToWire() encodes the
  // constructor's arguments.
  std::unique_ptr<TaskBody> body;
  // The actor's id (NewObjectId()), also its anchor's.
  uint64_t id = 0;
};

// An actor another program created, found by name.
struct FoundActor {
  uint64_t id = 0;
  std::string class_name;
  std::shared_ptr<ObjectState> anchor;
};

// Thread-safe. Failures are absl::Status; Client and the free functions turn
// them into the documented exceptions with ThrowIfError (throw_status.h).
class Runtime {
 public:
  virtual ~Runtime() = default;

  // Schedules `spec` and returns the (pending) state of its result. Never
  // blocks on the task; the task's own failures (it throws, the runtime
  // shuts down first) arrive through the returned state. Errors, for a task
  // the runtime cannot take: InvalidArgument (a function not registered by
  // name on a cluster, arguments that cannot be serialized).
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> Submit(
      TaskSpec spec) = 0;

  // Stores a value and returns its (ready) state. Errors (a cluster):
  // InvalidArgument (a value that cannot be serialized), FailedPrecondition
  // (a large value and no worker to hold it), and the data plane's errors
  // storing it (Unavailable, DeadlineExceeded, ...).
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> Put(PutSpec spec) = 0;

  // Number of task slots (threads, or total worker threads on a cluster).
  virtual int num_slots() const = 0;

  // The workers, as of now. Errors (a cluster): Unavailable (the connection
  // to the scheduler is lost), DeadlineExceeded (it did not answer).
  virtual absl::StatusOr<std::vector<WorkerStatus>> Workers() = 0;
  // Blocks until at least `n` workers are connected. Errors:
  // DeadlineExceeded naming how many there are.
  virtual absl::Status WaitForWorkers(int n,
                                      std::chrono::milliseconds timeout) = 0;
  // Runs the call once on every worker, now, outside the graph; returns one
  // completed object per worker (a value or the failure). Errors: as
  // Submit and Workers.
  virtual absl::StatusOr<std::vector<std::shared_ptr<ObjectState>>>
  RunOnAllWorkers(TaskSpec spec) = 0;
  // Places a value on every worker; returns its (ready) state. Errors: as
  // Put and Workers.
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> Broadcast(
      PutSpec spec) = 0;

  // Hands over submissions held back during a SubmitBatch (see below).
  virtual void FlushSubmissions() {}

  // --- Actors (weft/actor.h) ---------------------------------------------
  // The defaults answer Unimplemented.

  // Creates an actor and returns its anchor, a ready object: the actor
  // lives while the anchor's state (or a pending call of the actor) lives
  // anywhere in the runtime, until killed. Errors: InvalidArgument
  // (arguments that cannot be serialized, bad options), NotFound (a class
  // not registered, on a cluster), AlreadyExists (a live actor's name),
  // Unavailable (the runtime is gone).
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> CreateActor(
      ActorSpec spec);
  // Submits a method call of actor `actor` (whose anchor the caller holds
  // in `anchor`). spec.body calls the method on CurrentActorInstance();
  // spec.function_name is the method's registered name (empty: not
  // registered, embedded only). Calls of one caller run in submission
  // order. Never blocks on the call; its own failures arrive through the
  // returned state. Errors: InvalidArgument (a method not registered by
  // name on a cluster, arguments that cannot be serialized).
  virtual absl::StatusOr<std::shared_ptr<ObjectState>> SubmitActorCall(
      uint64_t actor, const std::shared_ptr<ObjectState>& anchor,
      TaskSpec spec);
  // The actor's state now. Errors: NotFound (unknown to the runtime),
  // Unavailable.
  virtual absl::StatusOr<ActorStatus> GetActorStatus(uint64_t actor);
  // The live actor named `name`, with a reference to its anchor. Errors:
  // NotFound, Unavailable.
  virtual absl::StatusOr<FoundActor> LookupActor(const std::string& name);
  // Ends the actor: its unfinished calls fail with kActorDied, later ones
  // too. Returns whether it was alive. Errors: NotFound, Unavailable.
  virtual absl::StatusOr<bool> KillActor(uint64_t actor);
  // Starts recording the tasks that run from now on, for reports and
  // traces (task_events.h). The reader must be destroyed before the
  // runtime. Errors: Unimplemented if the runtime records nothing,
  // Unavailable if a cluster's scheduler cannot be reached.
  virtual absl::StatusOr<std::unique_ptr<EventReader>> OpenEvents() {
    return absl::UnimplementedError("this runtime records no task events");
  }

  // The URL of the cluster's dashboard (http://host:port/); empty when
  // there is none (the embedded runtime, or a scheduler without one).
  // Errors: as Workers.
  virtual absl::StatusOr<std::string> DashboardLink() { return ""; }
};

// Open on a thread while the API submits many tasks in one call (map, a
// graph's compute/persist). Until the outermost batch on the thread ends, a
// runtime may hold that thread's submissions back and hand them over
// together (one message to the scheduler instead of one per task); the
// batch's end calls FlushSubmissions(). Nothing can wait on a held task
// before that: the batch ends before the API call returns or throws.
// Batches for another runtime opened inside one are not batched.
class SubmitBatch {
 public:
  explicit SubmitBatch(Runtime& runtime);
  ~SubmitBatch();
  SubmitBatch(const SubmitBatch&) = delete;
  SubmitBatch& operator=(const SubmitBatch&) = delete;

  // Whether submissions to `runtime` on this thread may be held now.
  static bool Holding(const Runtime& runtime);

 private:
  Runtime* const runtime_;
  const bool counted_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_RUNTIME_H_
