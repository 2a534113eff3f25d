// Copyright 2026 The weft Authors.
//
// Drain: what SchedulerState asked for since the last drain, split by kind,
// for the state machine's deterministic tests.

#ifndef WEFT_SCHEDULER_TESTING_DRAINED_H_
#define WEFT_SCHEDULER_TESTING_DRAINED_H_

#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

#include "scheduler/scheduler_state.h"

namespace weft::scheduler::testing {

// The actions of one drain, split by kind. Pairs are (worker or client,
// object, task or actor id).
struct Drained {
  using P = std::pair<uint64_t, uint64_t>;

  std::vector<Action> all;               // in the order they were asked
  std::vector<P> assigns;                // (worker, task)
  std::vector<AssignTask> assign_msgs;   // the same, whole
  std::vector<PlaceActor> places;
  std::vector<P> stops;                  // (worker, actor)
  std::vector<P> releases;               // (worker, object)
  std::vector<P> cancels;                // (worker, task)
  std::vector<P> ready;                  // (client, object)
  std::vector<ObjectFailed> failed;
  std::vector<ReplicateObject> copies;
  std::vector<WorkerRetired> retired;

  // `places` as (worker, actor).
  std::vector<P> PlacedIds() const {
    std::vector<P> out;
    for (const PlaceActor& p : places) out.emplace_back(p.worker, p.def.id);
    return out;
  }
};

// Takes `state`'s actions, runs its CheckInvariants (which aborts on a
// violation), and returns the actions split by kind. Not thread-safe (as
// `state` is not).
inline Drained Drain(SchedulerState& state) {
  Drained d;
  d.all = state.TakeActions();
  state.CheckInvariants();
  for (const Action& a : d.all) {
    if (auto* x = std::get_if<AssignTask>(&a)) {
      d.assigns.emplace_back(x->worker, x->task.id);
      d.assign_msgs.push_back(*x);
    } else if (auto* x = std::get_if<PlaceActor>(&a)) {
      d.places.push_back(*x);
    } else if (auto* x = std::get_if<StopActor>(&a)) {
      d.stops.emplace_back(x->worker, x->actor);
    } else if (auto* x = std::get_if<ReleaseObjects>(&a)) {
      for (ObjectId o : x->objects) d.releases.emplace_back(x->worker, o);
    } else if (auto* x = std::get_if<CancelTasks>(&a)) {
      for (const TaskAttempt& o : x->tasks) {
        d.cancels.emplace_back(x->worker, o.task);
      }
    } else if (auto* x = std::get_if<ObjectReady>(&a)) {
      d.ready.emplace_back(x->client, x->object);
    } else if (auto* x = std::get_if<ObjectFailed>(&a)) {
      d.failed.push_back(*x);
    } else if (auto* x = std::get_if<ReplicateObject>(&a)) {
      d.copies.push_back(*x);
    } else if (auto* x = std::get_if<WorkerRetired>(&a)) {
      d.retired.push_back(*x);
    }
  }
  return d;
}

}  // namespace weft::scheduler::testing

#endif  // WEFT_SCHEDULER_TESTING_DRAINED_H_
