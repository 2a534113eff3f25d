// Copyright 2026 The weft Authors.
//
// WorkerPool: the scheduler's view of its workers (slots, load, capacity) and
// the placement rule that picks a worker for a ready task. Internal to
// //scheduler; SchedulerState owns one. Not thread-safe.

#ifndef WEFT_SCHEDULER_PLACEMENT_H_
#define WEFT_SCHEDULER_PLACEMENT_H_

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "scheduler/slot_set.h"
#include "scheduler/types.h"

namespace weft::scheduler::internal {

// A dense index for a live worker. Slots of removed workers are reused.
using WorkerSlot = uint32_t;

struct WorkerRecord {
  WorkerId id = 0;
  WorkerRegistration info;
  absl::Time last_seen;
  WorkerLoad reported;         // from the latest heartbeat
  uint32_t used_cpus = 0;      // sum of num_cpus of its processing tasks
  uint32_t num_processing = 0; // tasks assigned and not yet reported
  uint64_t held_bytes = 0;     // sizes of the objects it holds
  // Threads held by the actors placed on it (for their lifetimes), and how
  // many actors those are: tasks get the other nthreads - reserved_cpus.
  uint32_t reserved_cpus = 0;
  uint32_t num_actors = 0;
  bool live = false;           // false: a free slot
  // Leaving by choice: takes no new tasks (not in the load index).
  bool retiring = false;
  // The scheduler's record slots of the tasks processing on it and of the
  // objects it holds, so that removing a worker touches only its own work
  // (kept by SchedulerState; scheduler/slot_set.h, iterated in slot order).
  SlotSet processing;
  SlotSet held;
};

class WorkerPool {
 public:
  // The tasks-in-flight limit is the caller's, per query (`saturation` >= 1:
  // a worker takes at most saturation * nthreads cpus of processing tasks).
  // A lower limit takes effect as tasks finish; nothing is unassigned.
  WorkerPool() = default;

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Adds a worker and returns its slot. Errors: AlreadyExists for a known
  // id, InvalidArgument for nthreads < 1.
  absl::StatusOr<WorkerSlot> Add(WorkerId id, WorkerRegistration info,
                                 absl::Time now);
  // Frees `slot`. The caller has already dropped every reference to it
  // (holders, processing tasks); its load must be zero.
  void Remove(WorkerSlot slot);

  // Returns the slot of worker `id`, or nullopt if unknown.
  std::optional<WorkerSlot> Find(WorkerId id) const;

  // Takes `slot` out of placement for good: Fits() is false for it from
  // now on, and Choose() never returns it; its load is still counted.
  // Idempotent.
  void Retire(WorkerSlot slot);
  // The least loaded worker that is not retiring, for work that needs a
  // home whatever its load (objects handed off by a retiring worker).
  std::optional<WorkerSlot> LeastLoaded() const;

  WorkerRecord& at(WorkerSlot slot) { return slots_[slot]; }
  const WorkerRecord& at(WorkerSlot slot) const { return slots_[slot]; }

  // Number of live workers (retiring ones included).
  size_t size() const { return index_.size(); }
  // Upper bound (exclusive) of slot numbers, for iteration with at().live.
  size_t slot_limit() const { return slots_.size(); }

  // Returns true if `slot` can take a task needing `num_cpus` now:
  // num_cpus <= free and used_cpus + num_cpus <= saturation * free, where
  // free = nthreads - reserved_cpus (the threads its actors do not hold)
  // and a request above every worker's nthreads counts as the largest
  // worker's nthreads: it takes a whole largest worker (as the embedded
  // runtime clamps to its slots) instead of waiting forever.
  bool Fits(WorkerSlot slot, uint32_t num_cpus, uint32_t saturation) const;
  // Returns true if some worker could take a one-cpu task now.
  bool AnyCapacity(uint32_t saturation) const;

  // Account for a task of `num_cpus` starting / stopping on `slot`.
  void AddLoad(WorkerSlot slot, uint32_t num_cpus);
  // Changes a worker's charged cpus without changing its task count (a task
  // that blocks in get() gives its cpus back, and takes them when resumed).
  void ShiftLoad(WorkerSlot slot, int64_t delta_cpus);
  // The cpus a task asking for `num_cpus` occupies on worker `slot`
  // (clamped to its nthreads; stable for the worker's life).
  uint32_t Charge(WorkerSlot slot, uint32_t num_cpus) const;
  void RemoveLoad(WorkerSlot slot, uint32_t num_cpus);

  // Actors: an actor asking for `num_cpus` holds Reservation(num_cpus) of a
  // worker's threads while it lives (the largest worker's nthreads for a
  // larger request, as for tasks). Reserve and Unreserve add and remove one
  // actor holding `cpus` on `slot`.
  uint32_t Reservation(uint32_t num_cpus) const;
  // Whether `slot` has `cpus` threads no actor holds.
  bool CanReserve(WorkerSlot slot, uint32_t cpus) const;
  void Reserve(WorkerSlot slot, uint32_t cpus);
  void Unreserve(WorkerSlot slot, uint32_t cpus);

  // The placement rule. `input_bytes` lists, per worker slot, the bytes of
  // the task's inputs it already holds (each slot at most once, any order).
  // Returns the worker that fits the task and holds the most input bytes
  // (ties: least loaded, then lowest id); if no fitting worker holds any
  // input, the least loaded fitting worker (load = used_cpus / free
  // threads; ties: lowest id). Returns nullopt if no worker fits.
  std::optional<WorkerSlot> Choose(
      absl::Span<const std::pair<WorkerSlot, uint64_t>> input_bytes,
      uint32_t num_cpus, uint32_t saturation) const;

  // Live worker slots ordered by worker id.
  std::vector<WorkerSlot> SlotsById() const;

  // Aborts if the load index disagrees with the records.
  void CheckInvariants() const;

 private:
  // Orders workers by used_cpus / free threads (nthreads - reserved_cpus),
  // then id; workers whose every thread is reserved come last.
  struct LoadKey {
    uint32_t used_cpus;
    uint32_t nthreads;  // the free threads
    WorkerId id;
    WorkerSlot slot;
  };
  struct LoadLess {
    bool operator()(const LoadKey& a, const LoadKey& b) const;
  };
  LoadKey KeyOf(WorkerSlot slot) const;
  using LoadIndex = std::set<LoadKey, LoadLess>;
  // Applies `change` (a callable taking WorkerRecord&) to worker `slot`'s
  // record, keeping its place in by_load_ (if it has one) in step: its
  // node moves (no allocation, and no search to find it).
  template <typename Change>
  void ChangeLoad(WorkerSlot slot, Change change);
  // True if `a` is strictly less loaded than `b`, ties broken by id.
  bool LessLoaded(WorkerSlot a, WorkerSlot b) const;

  // Recomputes max_nthreads_ over the workers that take tasks.
  void UpdateMaxThreads();

  // The most threads any live worker that is not retiring has (0 with
  // none).
  uint32_t max_nthreads_ = 0;
  std::vector<WorkerRecord> slots_;
  std::vector<WorkerSlot> free_slots_;
  absl::flat_hash_map<WorkerId, WorkerSlot> index_;
  LoadIndex by_load_;  // workers that are not retiring
  // Per slot: its node in by_load_ while it has one.
  std::vector<LoadIndex::iterator> load_pos_;
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_PLACEMENT_H_
