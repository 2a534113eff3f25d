// Copyright 2026 The weft Authors.
//
// SchedulerState: the central scheduler's state machine. It tracks clients,
// workers, tasks and the objects they produce, decides which worker runs
// which task, and emits Actions (types.h) for the service layer to send.
// It has no sockets, threads or clocks: time comes in as arguments, and
// every event is a method call. See docs/scheduler.md for the model.
//
// Thread-safety: not thread-safe. The caller serializes all calls (e.g. one
// event loop, or a weft::internal::Mutex around the object).
//
// Error handling: every event validates its input first. A bad event
// (unknown id, duplicate id, a report from the wrong worker, ...) returns a
// non-OK status and leaves the state as it was, except that a rejected
// result or replica report from a known worker may emit a ReleaseObjects
// telling that worker to drop the value nobody wants.

#ifndef WEFT_SCHEDULER_SCHEDULER_STATE_H_
#define WEFT_SCHEDULER_SCHEDULER_STATE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "scheduler/actor_table.h"
#include "scheduler/compact_bytes.h"
#include "scheduler/placement.h"
#include "scheduler/slot_index.h"
#include "scheduler/slot_list.h"
#include "scheduler/slot_set.h"
#include "scheduler/types.h"
#include "weft/internal/inline_limit.h"
#include "weft/internal/object_id_hash.h"

namespace weft::scheduler {

// A worker as the state machine reports it (SchedulerState::Workers()): its
// registration and the load the state machine counts. The service turns it
// into rpc::WorkerInfo rows for `weft status` and Client::workers(), and
// into the dashboard's rows.
struct WorkerSummary {
  WorkerId id = 0;
  WorkerRegistration registration;  // as the worker announced itself
  uint32_t processing = 0;   // tasks assigned and not finished
  uint32_t used_cpus = 0;    // their num_cpus, summed
  uint64_t num_objects = 0;  // objects it holds
  uint64_t held_bytes = 0;   // their sizes, summed
  uint64_t reported_memory_bytes = 0;  // from its last heartbeat
  absl::Time last_seen;
};

// A record as the dashboard's graph shows it (SchedulerState::Graph).
struct GraphNode {
  ObjectId id = 0;
  std::string name;      // "put" for a put
  std::string function;  // empty for a put
  TaskState state = TaskState::kReleased;
  std::vector<ObjectId> deps;  // inputs, all among the returned nodes
};

class SchedulerState {
 public:
  struct Options {
    // A task that was processing on this many workers when they died errs
    // with ErrorKind::kWorkerDied (Dask's KilledWorker). >= 1.
    int max_worker_deaths_per_task = 3;
    // A task whose inputs could not be fetched (InputsUnavailable) this
    // many times errs with ErrorKind::kObjectLost. >= 1.
    int max_input_misses_per_task = 5;
    // Results up to this size are kept in the scheduler and sent inline
    // with ObjectReady and AssignTask; larger inline values are ignored.
    size_t inline_limit_bytes = weft::internal::kInlineValueBytes;
    // A worker is assigned at most saturation * nthreads cpus of tasks at a
    // time; the rest stay queued here. >= 1. With adaptive_saturation this
    // is the minimum.
    int saturation = 2;
    // Raise the limit for short tasks: keep about `target_queue_time` of
    // work in flight per worker thread, judged by the average run time that
    // workers report, between `saturation` and `max_saturation`. Tiny tasks
    // then never wait on a scheduler round trip, while long tasks stay
    // queued here, where an idle worker can take them.
    bool adaptive_saturation = true;
    absl::Duration target_queue_time = absl::Milliseconds(2);
    int max_saturation = 256;
    // Tiny tasks go to workers in runs. A one-cpu task without inputs, of
    // a function whose recent reported run times are all below `pack_time`
    // (r: the largest, decaying by 1% a report), joins the run that the
    // current scheduling pass opened for that function on one worker, up to
    // pack_time / r tasks and the worker's saturation; then the next
    // least-loaded worker opens a run. A message to a worker costs more
    // than spreading such tasks gains (a round trip is tens of µs), and
    // with many workers a spread batch of submissions puts one or two tasks
    // in each message. Functions with no reported run time, and longer
    // ones, are spread one task at a time. Zero: always spread. Needs
    // adaptive_saturation (which collects the run times).
    absl::Duration pack_time = absl::Microseconds(100);
    // ExpiredWorkers() reports workers silent for longer than this.
    absl::Duration heartbeat_timeout = absl::Seconds(5);
    // Run CheckInvariants() after events: every event while the state is
    // small, then every k-th with k growing with the number of objects, so
    // checked runs stay linear on big graphs. Off by default, in every
    // build: the checks cost most of a busy scheduler's CPU. Tests turn it
    // on (directly, or through WEFT_CHECK_INVARIANTS=1 for a SchedulerService).
    bool check_invariants = false;
  };

  SchedulerState();
  explicit SchedulerState(Options options);
  SchedulerState(const SchedulerState&) = delete;
  SchedulerState& operator=(const SchedulerState&) = delete;
  ~SchedulerState();

  // --- Clients ------------------------------------------------------------

  // Registers a client. Errors: AlreadyExists.
  absl::Status AddClient(ClientId client);
  // Forgets a client and drops every reference it holds (objects nobody
  // else needs are released). No-op for an unknown client.
  void RemoveClient(ClientId client);

  // --- Workers ------------------------------------------------------------

  // Registers a worker seen at `now`; queued tasks may be assigned to it at
  // once. Errors: AlreadyExists, InvalidArgument (nthreads < 1).
  absl::Status AddWorker(WorkerId worker, WorkerRegistration info,
                         absl::Time now);
  // Removes a worker that died or left. Its processing tasks go back to
  // the queue (each counts one death; at max_worker_deaths_per_task the
  // task errs with kWorkerDied). Objects whose last copy it held are
  // recomputed from their lineage if still needed; a lost put errs with
  // kObjectLost. `reason` appears in error messages. Errors: NotFound.
  absl::Status RemoveWorker(WorkerId worker, const std::string& reason);
  // Records that `worker` is alive at `now`. Errors: NotFound.
  // `worker` leaves by choice (SIGTERM, a walltime, `leaving`): it gets no
  // new tasks, and those assigned to it finish there. Once none is left,
  // each object that only it holds and that is still needed is copied to
  // the least loaded other worker (ReplicateObject; a copy whose target
  // dies is asked of another), and once each has a second holder (or is no
  // longer needed), WorkerRetired says it may go. With no other worker to
  // take them, WorkerRetired comes at once and its objects are lost when it
  // goes. Its removal (RemoveWorker) then charges its tasks no death.
  // Idempotent. Errors: NotFound (unknown worker).
  absl::Status RetireWorker(WorkerId worker);

  absl::Status Heartbeat(WorkerId worker, absl::Time now,
                         WorkerLoad load = {});
  // Records that `worker` was heard from at `time` (any message, not only
  // a heartbeat) without changing its reported load. Errors: NotFound.
  absl::Status Seen(WorkerId worker, absl::Time time);
  // Returns the workers (by ascending id) whose last heartbeat (or
  // AddWorker) is older than now - heartbeat_timeout. Does not remove
  // them: the caller calls RemoveWorker for each.
  std::vector<WorkerId> ExpiredWorkers(absl::Time now) const;

  // --- Tasks and objects --------------------------------------------------

  // Submits a batch of tasks for `client`, which gets a reference to each
  // result. A dependency must be an existing object (a task or put) or a
  // task earlier in the batch; duplicates in `deps` are ignored. So must a
  // borrowed object (TaskDef::borrowed), which the task keeps alive while
  // it is pending (again whenever it is recomputed, if the object still
  // exists then). A task whose dependency already erred errs at once with
  // the same root cause.
  // The batch is accepted or rejected whole. Errors: NotFound (client,
  // dependency), AlreadyExists (task id), InvalidArgument (num_cpus,
  // retries, a dependency on itself or on a later task of the batch).
  absl::Status SubmitTasks(ClientId client, std::vector<TaskDef> tasks);
  // Records a value `client` stored on `holder` (a put), of `size` bytes,
  // and gives the client a reference to it. It has no lineage: if its last
  // copy is lost, it and its dependents err with kObjectLost. A put whose
  // whole value comes inline (inline_value.size() == size_bytes <=
  // inline_limit_bytes) is kept here: `holder` may then be 0 (no worker
  // holds it; tasks get it inline), and it is never lost. Errors: NotFound
  // (client, worker), AlreadyExists (object), InvalidArgument (holder 0
  // without the whole value inline).
  absl::Status AddPut(ClientId client, ObjectId object, WorkerId holder,
                      uint64_t size_bytes, std::string inline_value);
  // `worker` finished the run of `task` it was assigned as `attempt`
  // (AssignTask::task.attempt); the result is `size_bytes` long, and a
  // small one may come with its value. Errors: NotFound (worker, task),
  // FailedPrecondition (task not processing on `worker`, or processing
  // there as another attempt: a late report of an earlier run, which
  // changes nothing). On a FailedPrecondition the worker is told to drop
  // the value, unless it holds it legitimately or a current run of the
  // task on it will store one under the same id.
  // `run_time` is how long the task ran on the worker (0 if unknown); it
  // drives adaptive saturation.
  absl::Status TaskFinished(WorkerId worker, ObjectId task, Attempt attempt,
                            uint64_t size_bytes, std::string inline_value,
                            absl::Duration run_time = absl::ZeroDuration());
  // The current tasks-in-flight limit per worker thread.
  int saturation() const { return static_cast<int>(last_saturation_); }
  // `worker` reports that its run `attempt` of `task` failed. The task is
  // retried while it has retries left; then it errs with `error`
  // (task_name/task_key filled in if empty) and every pending dependent
  // errs with the same root cause. Errors: as TaskFinished (without the
  // ReleaseObjects); a report of an earlier attempt changes nothing.
  absl::Status TaskFailed(WorkerId worker, ObjectId task, Attempt attempt,
                          ErrorInfo error);
  // `worker`'s run `attempt` of `task` did not start: it could not fetch
  // the inputs `misses` names from any of the holders it tried (`tried`:
  // worker ids, e.g. of a holder that died). That is no fault of the task:
  // it is charged no retry and no death. Each tried holder's copy is
  // dropped (ReleaseObjects to it; it could not serve it); an input left
  // without a copy is handled as in ObjectLost (recomputed from lineage, a
  // put errs with kObjectLost), and the task waits for it, or is queued
  // again if its inputs are still in memory elsewhere. A task that keeps
  // missing inputs errs with kObjectLost after max_input_misses_per_task
  // times, and an actor call (which is not re-run out of order) errs at
  // once with `error` (the worker's account, as TaskFailed). Misses of
  // objects that are not inputs of `task`, and tried workers that do not
  // hold them, are ignored. Errors: as TaskFailed.
  absl::Status InputsUnavailable(WorkerId worker, ObjectId task,
                                 Attempt attempt,
                                 const std::vector<InputMiss>& misses,
                                 ErrorInfo error);
  // `worker` reports that its run `attempt` of `task` is waiting for other
  // tasks (blocked in get()) or has resumed. A blocked task gives its cpus
  // back so the tasks it waits for can run there (Dask's secede/rejoin);
  // nested tasks cannot deadlock a saturated worker. Errors: NotFound
  // (worker, task), FailedPrecondition (task not processing on `worker` as
  // `attempt`).
  absl::Status TaskBlocked(WorkerId worker, ObjectId task, Attempt attempt,
                           bool blocked);
  // `worker` no longer has `object`. If that was the last copy, the object
  // is handled as in RemoveWorker. Errors: NotFound (worker, object, or the
  // worker is not a holder).
  absl::Status ObjectLost(WorkerId worker, ObjectId object);
  // `worker` now holds a copy of `object` (e.g. it fetched an input).
  // No-op if already recorded. Errors: NotFound (worker, object),
  // FailedPrecondition (object not in memory; the worker is told to drop
  // its copy).
  absl::Status AddReplica(WorkerId worker, ObjectId object);

  // --- References ---------------------------------------------------------

  // Gives `client` a reference to `object` (e.g. it received the id inside a
  // result). Idempotent. If the object is in memory or failed, the client
  // is told at once, also when it held the reference already (a client that
  // withdraws a release adopts the object afresh); if it was released, it
  // is recomputed from lineage.
  // Errors: NotFound (client, object); for an unknown object the client is
  // also sent ObjectFailed (kObjectLost), so that nothing waits for it.
  absl::Status AddRef(ClientId client, ObjectId object);
  // Drops `client`'s reference. An object nobody needs any more (no client
  // reference, no pending dependent) is released: its copies are dropped,
  // and a pending task is dropped too. Errors: NotFound (client, or the
  // client holds no reference to `object`).
  absl::Status ReleaseRef(ClientId client, ObjectId object);
  // Cancels `object`'s task and, transitively, its pending dependents: they
  // end kCancelled with an error of kind kCancelled naming `object`. No-op
  // if the object already is in memory, erred or cancelled. Errors:
  // NotFound (client, object).
  absl::Status Cancel(ClientId client, ObjectId object);
  // `container`'s value holds references to `objects` (ObjectRefs inside a
  // task's result or a put() value): the container keeps each alive while
  // it is pending or in memory, as a client reference would; a later call
  // for the same container replaces the set (a recomputed result holds new
  // references). Ignored (FailedPrecondition) if the container is neither
  // pending nor in memory: its references are then not needed. Errors:
  // NotFound (client, container), FailedPrecondition (the client holds no
  // reference to one of `objects`, so it may be gone already).
  absl::Status AddContained(ClientId client, ObjectId container,
                            const std::vector<ObjectId>& objects);

  // --- Actors (actor_table.h, docs/scheduler.md) ---------------------------

  // Creates actor `def` for `client`: its anchor object (which `client`
  // then references, as a task's result) and a pending actor, placed on a
  // worker (PlaceActor) once its inputs are in memory and a worker has
  // def.num_cpus threads no other actor holds. The actor holds its inputs
  // and borrowed objects until it dies. Errors: NotFound (client, an input
  // or borrowed object), AlreadyExists (the id, or a live actor's name),
  // InvalidArgument (class name, num_cpus, max_concurrency, max_restarts,
  // max_task_retries out of range).
  absl::Status CreateActor(ClientId client, ActorDef def);
  // `worker` constructed `actor`: its calls go there from now on. Errors:
  // NotFound (worker, actor), FailedPrecondition (not being created on
  // `worker`; then the worker is told to drop it).
  absl::Status ActorCreated(WorkerId worker, ActorId actor);
  // `actor`'s constructor failed on `worker`: the actor dies with `error`
  // as its cause (no restart). Errors: as ActorCreated.
  absl::Status ActorCreationFailed(WorkerId worker, ActorId actor,
                                   ErrorInfo error);
  // Ends `actor` for good: its worker drops it (StopActor), and every
  // unfinished call fails with kActorDied. No-op for a dead actor. Errors:
  // NotFound (client, actor).
  absl::Status KillActor(ClientId client, ActorId actor);

  // An actor as clients see it.
  struct ActorSummary {
    ActorId id = 0;
    std::string class_name;
    std::string name;
    ActorState state = ActorState::kPending;
    int restarts = 0;
    WorkerId worker = 0;  // 0 unless creating or alive
    std::shared_ptr<const ErrorInfo> death;  // set when dead
  };
  // The actor, or nullopt if unknown (never created, or forgotten once
  // nothing referenced it).
  std::optional<ActorSummary> ActorInfo(ActorId actor) const;
  // The live actor named `name`, or 0.
  ActorId FindActor(const std::string& name) const {
    return actors_.Named(name);
  }
  size_t num_actors() const { return actors_.size(); }

  // --- Output -------------------------------------------------------------

  // Returns and clears the actions emitted since the last call. They are
  // grouped by destination (workers by id, then clients by id), in emission
  // order within one destination, and consecutive ReleaseObjects or
  // CancelTasks to one worker are merged, so all AssignTasks for one worker
  // are adjacent and can be sent as one message.
  std::vector<Action> TakeActions();
  // The same, into `out` (replacing what it held): a caller that passes
  // the same vector each time, and clears it after use, reuses its buffer
  // instead of allocating (and faulting in) a new one at every drain.
  void TakeActions(std::vector<Action>& out);
  // How many actions a buffer kept between drains may hold (about 4 MiB:
  // an action is a few hundred bytes); a larger one is given back.
  static constexpr size_t kKeptActions = 16384;

  // --- Introspection ------------------------------------------------------

  // Returns the state of `object`; kReleased for an unknown object.
  TaskState StateOf(ObjectId object) const;
  // Returns the error of an erred or cancelled object, or nullptr.
  const ErrorInfo* ErrorOf(ObjectId object) const;
  // Returns the workers holding `object` (ascending id); empty if none.
  std::vector<WorkerId> HoldersOf(ObjectId object) const;
  // Returns the size in bytes recorded for `object` (its result's or put's)
  // while it is in memory; 0 otherwise.
  uint64_t SizeOf(ObjectId object) const;
  // Returns the worker processing `object`, or 0 if it is not processing.
  // (Use StateOf to tell worker 0 from "none".)
  WorkerId ProcessingOn(ObjectId object) const;
  // Returns the attempt `object` is processing as (its latest AssignTask's
  // task.attempt), or 0 if it is not processing.
  Attempt AttemptOf(ObjectId object) const;
  // Number of objects (tasks and puts) the scheduler keeps records for,
  // including released ones kept as lineage.
  size_t num_objects() const { return index_.size(); }
  // Number of tasks in kReady (queued for a worker).
  size_t num_ready() const;
  // How many records are in each state (indexed by TaskState), per
  // registered function; puts under "put". O(functions): kept as states
  // change.
  static constexpr int kNumStates = kNumTaskStates;
  using StateCounts = std::array<uint64_t, kNumStates>;
  std::vector<std::pair<std::string, StateCounts>> CountsByFunction() const;
  // The readable name and function of task `object`; false if unknown (or
  // a put). The views are valid until this state next changes.
  bool NamesOf(ObjectId object, std::string_view* name,
               std::string_view* function) const;
  // Every record (tasks, puts, released lineage) with its inputs, if there
  // are at most `max_nodes` and their slots are few enough to scan (at
  // most 64 x max_nodes: a scheduler that held a large graph not long ago
  // answers nullopt until it has freed it). O(slots). In no order.
  std::optional<std::vector<GraphNode>> Graph(size_t max_nodes) const;
  // Number of clients / workers.
  size_t num_clients() const { return clients_.size(); }
  size_t num_workers() const { return pool_.size(); }
  // Workers by ascending id.
  std::vector<WorkerSummary> Workers() const;
  const Options& options() const { return options_; }

  // Checks every invariant of the model (docs/scheduler.md); prints a
  // message and aborts on a violation. O(objects + edges).
  void CheckInvariants() const;

 private:
  using Slot = uint32_t;
  using WorkerSlot = internal::WorkerSlot;
  static constexpr uint32_t kNone = ~uint32_t{0};
  // Index values with this bit mark tasks of the batch being validated by
  // SubmitTasks (the low bits are the position in the batch). Real slots
  // stay far below it: 2^31 records would need hundreds of gigabytes.
  static constexpr uint32_t kBatchBit = uint32_t{1} << 31;

  // For index_: the id of the record (or batch task) an index value names.
  struct TaskIdOf {
    const SchedulerState* state;
    ObjectId operator()(uint32_t value) const;
  };

  // One object: a task (has_def) or a put. 128 bytes, so that std::deque
  // packs four to a 512-byte block (hence the one-bit flags).
  struct Task {
    ObjectId id = 0;
    uint64_t seq = 0;         // submission order
    uint64_t size_bytes = 0;  // valid in kMemory
    internal::CompactBytes args;
    internal::SlotList deps;        // distinct
    internal::SlotList dependents;  // every record depending on it
    internal::SlotList holders;     // worker slots
    int32_t priority = 0;
    uint32_t name = kNone;      // interned string
    uint32_t function = kNone;  // interned string
    uint32_t waiting_on = 0;    // pending: deps not in memory
    // Holders of a reference: clients, and records that pin it (a pending
    // task's borrowed objects, an object's contained references).
    uint32_t num_refs = 0;
    uint32_t num_waiters = 0;   // pending dependents
    WorkerSlot processing_on = kNone;
    Attempt attempt = 0;  // processing: the current run's; else 0
    int16_t retries_left = 0;
    uint16_t num_cpus = 1;
    uint8_t deaths = 0;
    TaskState state = TaskState::kReleased;
    bool has_def : 1 = false;     // a task (else a put: no lineage)
    bool live : 1 = false;        // false: a free slot
    bool activating : 1 = false;  // inside Activate's walk, not yet finished
    bool blocked : 1 = false;     // processing, but waiting in get(): no cpus
    // A put (or an actor call's result) whose whole value inline_values_
    // keeps: in memory with or without holders, never lost.
    bool kept : 1 = false;
    // An actor method call (TaskDef::actor): placed on its actor's worker
    // by the actor table, charged no cpus (the actor holds them), never
    // retried after throwing nor recomputed.
    bool pinned : 1 = false;
  };

  // The worker's slot and the task's slot, for a report about run
  // `attempt` of a task that must be processing on that worker as that
  // attempt. Errors: NotFound (worker, task), FailedPrecondition (not
  // processing there, or as another attempt).
  absl::StatusOr<std::pair<WorkerSlot, Slot>> FindProcessing(
      WorkerId worker, ObjectId task, Attempt attempt) const;
  // Folds a reported run time into `function`'s average.
  void ObserveRunTime(absl::Duration run_time, uint32_t function);
  // Tasks-in-flight limit per worker thread for tasks of `function`: the
  // minimum until one of them reports a run time (an unknown function may
  // be slow; Dask assumes so too), then ~target_queue_time of work.
  uint32_t SaturationFor(uint32_t function) const;
  // How many tasks of `function` one worker takes in a run (pack_time): 1
  // (no run) unless its largest recent run time is known and below
  // pack_time.
  uint32_t RunLengthFor(uint32_t function) const;
  uint32_t WidestSaturation() const;
  // How many tasks of `seconds` each fill `budget`, between `least` and
  // WidestSaturation().
  uint32_t TasksWithin(absl::Duration budget, double seconds,
                       uint32_t least) const;

  // The cpus `t` occupies on its worker. REQUIRES: t is processing.
  uint32_t ChargedCpus(const Task& t) const {
    return t.blocked || t.pinned ? 0
                                 : pool_.Charge(t.processing_on, t.num_cpus);
  }

  struct ReadyEntry {
    int32_t priority;
    Slot slot;
    uint64_t seq;
  };
  struct ReadyLess {  // max-heap: higher priority, then lower seq, on top
    bool operator()(const ReadyEntry& a, const ReadyEntry& b) const {
      if (a.priority != b.priority) return a.priority < b.priority;
      return a.seq > b.seq;
    }
  };

  static bool IsPending(TaskState s) {
    return s == TaskState::kWaiting || s == TaskState::kReady ||
           s == TaskState::kProcessing;
  }
  static bool IsNeeded(const Task& t) {
    return t.num_refs > 0 || t.num_waiters > 0;
  }

  // Lookups.
  Slot FindSlot(ObjectId id) const;
  // The records `client` holds references to; NotFound if the client is
  // unknown. The pointer is good until clients_ changes.
  absl::StatusOr<internal::SlotSet*> RefsOf(ClientId client);
  // Adds `s` to `refs`, the set of `client` (from RefsOf), keeping
  // holding_. Returns whether it was new.
  bool AddClientRef(ClientId client, internal::SlotSet& refs, Slot s);

  // Moves `t` to `state`, keeping the per-function counts.
  void SetState(Task& t, TaskState state);
  // The counts `t` is counted in.
  std::array<uint32_t, kNumStates>& CountsOf(const Task& t);

  // Strings.
  uint32_t Intern(const std::string& s);
  void Unintern(uint32_t id);
  const std::string& NameOf(const Task& t) const;
  // The key a user sees for `t` (MakeKey: "<name>-<16 hex digits>").
  std::string KeyOf(const Task& t) const;
  ErrorInfo DetailFor(const Task& t, ErrorKind kind, std::string type,
                        std::string message) const;

  // Slots.
  Slot NewSlot();
  void FreeSlot(Slot s);
  // Edges: `s` depends on `dep`; no longer (forgotten). Constant time, with
  // dependent_at_ for long lists.
  void AddDependent(Slot dep, Slot s);
  void RemoveDependent(Slot dep, Slot s);

  // Transitions (scheduler_transitions.cc).
  void Activate(Slot root);
  void FinishActivation(Slot s);
  void MakeReady(Slot s);
  void Assign(Slot s, WorkerSlot w);
  void Unassign(Slot s, bool send_cancel);
  void Fail(Slot root, std::shared_ptr<const ErrorInfo> error);
  // Fail with DetailFor(tasks_[root], kind, type, message).
  void FailWith(Slot root, ErrorKind kind, std::string type,
                std::string message);
  void MaybeRelease(Slot s);
  void MaybeForget(Slot s);
  void LeaveMemory(Slot s, std::vector<Slot>& unpinned,
                   std::vector<Slot>& cut_calls);
  void HandleLost(Slot s, const std::string& why);
  void AddHolder(Slot s, WorkerSlot w);
  void RemoveHolder(Slot s, WorkerSlot w);
  void NotifyReady(Slot s);
  void NotifyFailed(Slot s);
  void NotifyClient(ClientId client, Slot s);
  // Record-held references (pins): `s` starts or stops holding one on each
  // of its borrowed objects (while pending) or contained references (while
  // pending or in memory). Drop* appends the slots whose reference count it
  // lowered to `unpinned`, for MaybeRelease.
  void HoldBorrowed(Slot s);
  void DropPins(absl::flat_hash_map<Slot, std::vector<Slot>>& pins, Slot s,
                std::vector<Slot>& unpinned);
  void DropAllPins(Slot s, bool was_pending, std::vector<Slot>& unpinned);
  void Schedule();
  std::optional<WorkerSlot> ChooseWorker(const Task& t, uint32_t saturation);
  TaskDef DefOf(Slot s) const;
  // Appends `action` to what TakeActions() returns next.
  void Emit(Action action);
  // Tells `worker` to drop its copy of `object`: added to the worker's
  // last action of this drain if that is a ReleaseObjects (the worker's
  // order is kept), else a new one. Releasing a map's results thus makes
  // an action per worker, not one per object (each with a vector of its
  // own).
  void EmitRelease(WorkerId worker, ObjectId object);
  // The ids of the workers holding `t`, sorted.
  std::vector<WorkerId> HolderIds(const Task& t) const;
  // Where object `dep` is (holders, inline value), for an assignment. For
  // an assignment to worker `to`, an object kept inline
  // that many tasks take (more than kScanSlots dependents) is sent with
  // its value once, to be kept there (DepLocation::keep); once `to` holds
  // it, without its value.
  DepLocation LocationOf(Slot dep, WorkerSlot to = kNone) const;
  // Moves retiring workers along: hand-offs started once their tasks are
  // done, copies re-asked when their target died, WorkerRetired once done.
  void AdvanceRetirements();
  void AfterEvent();

  // Actors (scheduler_actors.cc).
  using Actor = ActorTable::Actor;
  // Places pending actors that can be, and hands actors' ready calls to
  // their workers in order.
  void ScheduleActors();
  void TryPlace(Actor& actor);
  void DispatchCalls(ActorId actor);
  // The error a call of a dead actor fails with, and one saying why.
  std::shared_ptr<const ErrorInfo> ActorError(const Actor& actor,
                                                std::string type,
                                                std::string message) const;
  // Ends `actor` with `why`: its threads on its worker are freed (and the
  // worker told to drop it when `tell_worker`), its unfinished calls fail
  // with `why`, and its pins are dropped.
  void ActorDied(Actor& actor, std::shared_ptr<const ErrorInfo> why,
                 bool tell_worker);
  // Worker `ws` is being removed: its actors restart or die. Called after
  // its processing tasks were unassigned.
  void ActorsLostWorker(WorkerSlot ws, const std::string& why);
  // Whether pinned call `s`, just unassigned because its worker died, goes
  // back to its actor's queue (else it failed).
  bool RetryCall(Slot s, const std::string& why);
  // Pinned call `s` left pending (finished, failed or released).
  void CallLeftPending(Slot s);
  // Anchor `s` was released: nothing references the actor any more.
  void AnchorReleased(Slot s);
  void CheckActorInvariants(std::vector<uint32_t>& refs) const;
  void CheckCallInvariants(Slot s) const;
  // Says on stderr that invariant `what` does not hold, and aborts
  // (scheduler_invariants.cc).
  [[noreturn]] static void Violation(const std::string& what);
  // Whether the slots are distinct; time linear in their number, so that
  // checking a task of 40,000 inputs costs no more than 40,000 tasks.
  static bool Distinct(absl::Span<const Slot> slots);
  // Frees what records, indexes and the queue grew to. REQUIRES: no live
  // record.
  void ReleaseCapacity();

  Options options_;
  ActorTable actors_;
  size_t events_since_check_ = 0;  // see Options::check_invariants
  // A function's reported run times, in seconds.
  struct RunTimes {
    double mean = 0;  // moving average, for SaturationFor
    // The largest recent one (decaying by 1% a report), for RunLengthFor:
    // one long run keeps a function from being packed for a while.
    double recent_max = 0;
  };
  // Per interned function name. Dropped when the name is no longer
  // interned.
  absl::flat_hash_map<uint32_t, RunTimes> run_times_;
  // The limit from the latest report, for saturation().
  uint32_t last_saturation_ = 1;
  internal::WorkerPool pool_;
  std::deque<Task> tasks_;  // by slot; deque: no reallocation slack
  std::vector<Slot> free_slots_;
  // The batch SubmitTasks is validating, for index values with kBatchBit.
  const std::vector<TaskDef>* batch_ = nullptr;
  // Live records by id: 4-byte slots, hashed by their records' ids.
  internal::SlotIndex<TaskIdOf> index_{TaskIdOf{this}};
  absl::flat_hash_map<Slot, std::shared_ptr<const ErrorInfo>> errors_;
  // Small values of objects in memory (24-byte entries; up to 15 bytes
  // inline). Slots are handed out in runs as tasks are submitted, and
  // finish and are released in about that order: hashed as object ids, a
  // run of 16 shares a line of control bytes and six of entries.
  absl::flat_hash_map<Slot, internal::CompactBytes,
                      weft::internal::ObjectIdHash>
      inline_values_;
  // Per client: the objects it holds a reference to (a bitmap: each
  // result asks every holding client's set, scheduler/slot_set.h).
  absl::flat_hash_map<ClientId, internal::SlotSet> clients_;
  // The clients whose sets above are not empty. An
  // object in memory is announced to these, not to every client: each
  // worker's nested client is one, and usually holds nothing (with 1,000
  // of them, asking each cost about 3.4 us a task). In id order, so that
  // the announcements' order does not depend on hashing.
  absl::btree_set<ClientId> holding_;
  // Tasks whose arguments hold references: the objects, by id (lineage;
  // looked up whenever the task becomes pending).
  absl::flat_hash_map<Slot, std::vector<ObjectId>> borrowed_ids_;
  // References records hold, each counted in its target's num_refs: a
  // pending task's borrowed objects, and a pending or in-memory object's
  // contained references (AddContained). Targets are distinct per holder.
  absl::flat_hash_map<Slot, std::vector<Slot>> borrow_pins_;
  absl::flat_hash_map<Slot, std::vector<Slot>> contain_pins_;
  // Tasks whose inputs could not be fetched: how often (InputsUnavailable).
  absl::flat_hash_map<Slot, int> input_misses_;
  std::vector<ReadyEntry> ready_;  // a heap under ReadyLess; lazy deletion
  uint64_t next_seq_ = 1;
  Attempt last_attempt_ = 0;  // the latest assignment's (Assign)
  // Records by state, per interned function name (indexed as strings_),
  // and for puts.
  std::vector<std::array<uint32_t, kNumStates>> states_by_function_;
  std::array<uint32_t, kNumStates> put_states_ = {};
  // Interned names and function names, refcounted.
  std::vector<std::string> strings_;
  std::vector<uint32_t> string_refs_;
  std::vector<uint32_t> free_strings_;
  absl::flat_hash_map<std::string, uint32_t> string_ids_;
  std::vector<Action> actions_;
  // For each worker with an action in actions_, the index of its last one.
  absl::flat_hash_map<WorkerId, uint32_t> last_action_of_;
  // Scratch for TakeActions: actions by destination, kept between drains.
  struct KeyedAction {
    bool is_client;
    uint64_t id;
    uint32_t index;
  };
  std::vector<KeyedAction> keyed_actions_;
  // Scratch for Activate's depth-first walk; reused to avoid allocations.
  std::vector<std::pair<Slot, bool>> walk_;
  // Scratch for SubmitTasks: the dependencies of one task seen so far.
  absl::flat_hash_set<Slot> dep_seen_;
  // Lists of slots this long or shorter are scanned; a longer one gets a
  // set or an index (SubmitTasks' duplicate deps, dependent_at_, the
  // invariant checks).
  static constexpr size_t kScanSlots = 16;
  // For each record with more than kScanSlots dependents, where each sits
  // in its dependents list. Forgetting a dependent searched the list: the
  // tasks of a bootstrap, which all take one put object, cost the square
  // of their number to release (200,000 of them 3.6 s, one hold of the
  // lock). An index is made as its list grows past the bound and dropped
  // when it shrinks to half of it.
  absl::flat_hash_map<Slot, absl::flat_hash_map<Slot, uint32_t>> dependent_at_;
  // Retiring workers (RetireWorker) that have not been told WorkerRetired:
  // the objects being copied off each, and to whom.
  struct Retirement {
    bool handing_off = false;  // its tasks were done; copies asked for
    absl::flat_hash_map<ObjectId, WorkerId> copies;  // object -> target
    size_t handed_off = 0;
  };
  absl::flat_hash_map<WorkerId, Retirement> retiring_;
};

inline ObjectId SchedulerState::TaskIdOf::operator()(uint32_t value) const {
  return (value & kBatchBit) != 0 ? (*state->batch_)[value & ~kBatchBit].id
                                  : state->tasks_[value].id;
}

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_SCHEDULER_STATE_H_
