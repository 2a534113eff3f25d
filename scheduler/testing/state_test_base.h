// Copyright 2026 The weft Authors.
//
// StateTestBase: the vocabulary shared by SchedulerState's deterministic
// tests (scheduler_state_test.cc, scheduler_actors_test.cc): a state with
// its invariants checked at every step, and one-line steps that assert
// the state accepted them.

#ifndef WEFT_SCHEDULER_TESTING_STATE_TEST_BASE_H_
#define WEFT_SCHEDULER_TESTING_STATE_TEST_BASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/testing/drained.h"

namespace weft::scheduler::testing {

// A task of function "fn" named "f", with `deps`.
inline TaskDef Def(ObjectId id, std::vector<ObjectId> deps = {},
                   int priority = 0) {
  TaskDef d;
  d.id = id;
  d.name = "f";
  d.function = "fn";
  d.deps = std::move(deps);
  d.priority = priority;
  return d;
}

// Tasks `first` to `last` of `function`, without dependencies.
inline std::vector<TaskDef> Defs(ObjectId first, ObjectId last,
                                 const std::string& function = "fn") {
  std::vector<TaskDef> defs;
  for (ObjectId id = first; id <= last; ++id) {
    defs.push_back(Def(id));
    defs.back().function = function;
  }
  return defs;
}

// Options for a fixed `saturation` with the invariants checked after every
// event.
inline SchedulerState::Options CheckedOptions(int saturation = 1) {
  SchedulerState::Options o;
  o.saturation = saturation;
  o.adaptive_saturation = false;
  o.check_invariants = true;
  return o;
}

// A fixture owning `s_`. Each step ASSERTs that the state accepted it, so a
// test stops at the first refused step. Not thread-safe (as the state is
// not).
class StateTestBase : public ::testing::Test {
 protected:
  using Drained = testing::Drained;
  using P = Drained::P;

  static constexpr ClientId kC1 = 1;  // joined by Init
  static constexpr ClientId kC2 = 2;
  // The clock of every step: these tests do not depend on time passing.
  static inline const absl::Time kT0 = absl::FromUnixSeconds(1000);

  // REQUIRES: called before any other step; again to start over.
  void Init(SchedulerState::Options o = CheckedOptions()) {
    s_ = std::make_unique<SchedulerState>(o);
    ASSERT_TRUE(s_->AddClient(kC1).ok());
  }
  // Worker `id` with `nthreads` threads joins at kT0.
  void Worker(WorkerId id, int nthreads = 1) {
    absl::Status st = s_->AddWorker(
        id, WorkerRegistration{"tcp://w:1", nthreads, "host"}, kT0);
    ASSERT_TRUE(st.ok()) << st;
  }
  void Submit(std::vector<TaskDef> defs, ClientId c = kC1) {
    absl::Status st = s_->SubmitTasks(c, std::move(defs));
    ASSERT_TRUE(st.ok()) << st;
  }
  // Worker `w` reports the current attempt of `id` done.
  void Finish(WorkerId w, ObjectId id, uint64_t size = 8,
              std::string value = "",
              absl::Duration run_time = absl::ZeroDuration()) {
    absl::Status st = s_->TaskFinished(w, id, s_->AttemptOf(id), size,
                                       std::move(value), run_time);
    ASSERT_TRUE(st.ok()) << st;
  }
  // Worker `w` reports `id` done after running for `run_time`.
  void FinishAfter(WorkerId w, ObjectId id, absl::Duration run_time) {
    Finish(w, id, 8, "", run_time);
  }
  // Worker `w` reports that the current attempt of `id` threw a
  // std::runtime_error saying "boom".
  void Throw(WorkerId w, ObjectId id) {
    ErrorInfo boom;
    boom.exception_type = "std::runtime_error";
    boom.message = "boom";
    absl::Status st = s_->TaskFailed(w, id, s_->AttemptOf(id), boom);
    ASSERT_TRUE(st.ok()) << st;
  }
  // The actions since the last Take, after checking the invariants.
  Drained Take() { return Drain(*s_); }

  std::unique_ptr<SchedulerState> s_;
};

}  // namespace weft::scheduler::testing

#endif  // WEFT_SCHEDULER_TESTING_STATE_TEST_BASE_H_
