// Copyright 2026 The weft Authors.
//
// Deterministic tests of SchedulerState. Every step runs CheckInvariants
// (Options::check_invariants), and the fixture checks again after each
// TakeActions.

#include "scheduler/scheduler_state.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/testing/state_test_base.h"

namespace weft::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

using testing::CheckedOptions;
using testing::Def;
using testing::Defs;

WorkerRegistration Info(int nthreads) {
  return WorkerRegistration{"tcp://w:1", nthreads, "host"};
}

class SchedulerStateTest : public testing::StateTestBase {
 protected:
  static SchedulerState::Options Opts(int saturation = 1) {
    return CheckedOptions(saturation);
  }
  // Adaptive saturation: ~2 ms of work in flight, between 2 and 64 tasks.
  static SchedulerState::Options AdaptiveOpts() {
    SchedulerState::Options o = Opts(2);
    o.adaptive_saturation = true;
    o.target_queue_time = absl::Milliseconds(2);
    o.max_saturation = 64;
    return o;
  }
  // Adaptive saturation, one worker of one thread, and tasks 1 to `n` of
  // "fn": 2 go out (the minimum before any report), then the first reports
  // a 10 us run, which raises the limit to the maximum. Returns the 63
  // tasks assigned then (64 in flight: 1 processing + 63 new).
  Drained AfterOneTinyTask(ObjectId n) {
    Init(AdaptiveOpts());
    Worker(10, 1);
    Submit(Defs(1, n));
    EXPECT_EQ(Take().assigns.size(), 2u);
    FinishAfter(10, 1, absl::Microseconds(10));
    EXPECT_EQ(s_->saturation(), 64);
    Drained d = Take();
    EXPECT_EQ(d.assigns.size(), 63u);
    return d;
  }

  // Worker 10 and, when `with_20`, worker 20; object 1, of 1 MiB (too
  // large to keep inline: only its holder has it), done on worker 10.
  void LargeResultOnWorker10(bool with_20) {
    Init();
    Worker(10);
    if (with_20) Worker(20);
    Submit({Def(1)});
    EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
    Finish(10, 1, 1 << 20);
  }

  // Object 1 done on worker 20, which task 9 then keeps busy: a task that
  // needs 1 goes to another worker and fetches it from 20.
  void InputOnBusyWorker20() {
    Worker(20);
    Submit({Def(1), Def(9)});
    EXPECT_THAT(Take().assigns, ElementsAre(P{20, 1}));
    Finish(20, 1);
    EXPECT_THAT(Take().assigns, ElementsAre(P{20, 9}));
  }
};

TEST(StateNamesTest, EveryStateHasTheNameUsersSee) {
  std::vector<std::string> tasks;
  for (int i = 0; i <= kNumTaskStates; ++i) {
    tasks.push_back(TaskStateName(static_cast<TaskState>(i)));
  }
  EXPECT_THAT(tasks, ElementsAre("waiting", "ready", "processing", "memory",
                                 "erred", "released", "cancelled", "unknown"));
  EXPECT_STREQ(ActorStateName(ActorState::kPending), "pending");
  EXPECT_STREQ(ActorStateName(ActorState::kDead), "dead");
  EXPECT_STREQ(ActorStateName(static_cast<ActorState>(9)), "unknown");
}

TEST_F(SchedulerStateTest, IndependentTasksAcrossTwoWorkers) {
  Init();
  Worker(10);
  Worker(20);
  Submit({Def(1), Def(2), Def(3), Def(4)});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}, P{20, 2}));
  EXPECT_EQ(s_->StateOf(3), TaskState::kReady);
  Finish(20, 2);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 3}));
  EXPECT_THAT(d.ready, ElementsAre(P{kC1, 2}));
  Finish(10, 1);
  Finish(20, 3);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 4}));
  Finish(10, 4);
  for (ObjectId id : {1, 2, 3, 4}) {
    EXPECT_EQ(s_->StateOf(id), TaskState::kMemory);
  }
  EXPECT_THAT(s_->HoldersOf(3), ElementsAre(20));
}

// The size a result reported is what fetchers are told to expect, while
// the object is in memory.
TEST_F(SchedulerStateTest, SizeOfIsTheRecordedSizeWhileInMemory) {
  Init();
  Worker(10);
  Submit({Def(1)});
  Take();
  EXPECT_EQ(s_->SizeOf(1), 0u);  // processing
  Finish(10, 1, 12345);
  EXPECT_EQ(s_->SizeOf(1), 12345u);
  EXPECT_EQ(s_->SizeOf(99), 0u);  // unknown
}

TEST_F(SchedulerStateTest, DiamondGraph) {
  Init(Opts(2));
  Worker(10, 2);
  Submit({Def(1), Def(2, {1}), Def(3, {1}), Def(4, {2, 3})});
  EXPECT_EQ(s_->StateOf(4), TaskState::kWaiting);
  // The client only keeps the sink.
  for (ObjectId id : {1, 2, 3}) ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));
  Finish(10, 1);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}, P{10, 3}));
  EXPECT_THAT(d.ready, IsEmpty());  // nobody holds 1
  Finish(10, 2);
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);  // 3 still needs it
  Finish(10, 3);
  d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}));
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 4}));
  ASSERT_EQ(d.assign_msgs.size(), 1u);
  ASSERT_EQ(d.assign_msgs[0].deps.size(), 2u);
  EXPECT_EQ(d.assign_msgs[0].deps[0].object, 2u);
  EXPECT_THAT(d.assign_msgs[0].deps[0].holders, ElementsAre(10));
  Finish(10, 4);
  d = Take();
  EXPECT_THAT(d.releases, UnorderedElementsAre(P{10, 2}, P{10, 3}));
  EXPECT_THAT(d.ready, ElementsAre(P{kC1, 4}));
  // 1..3 stay as lineage of 4 until 4 is released.
  EXPECT_EQ(s_->StateOf(2), TaskState::kReleased);
  EXPECT_EQ(s_->num_objects(), 4u);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 4).ok());
  d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 4}));
  EXPECT_EQ(s_->num_objects(), 0u);
}

TEST_F(SchedulerStateTest, TreeReduction) {
  Init(Opts(2));
  Worker(10, 2);
  Worker(20, 2);
  std::vector<TaskDef> defs;
  for (ObjectId i = 1; i <= 8; ++i) defs.push_back(Def(i));
  ObjectId next = 9;
  std::vector<ObjectId> level = {1, 2, 3, 4, 5, 6, 7, 8};
  while (level.size() > 1) {
    std::vector<ObjectId> up;
    for (size_t i = 0; i < level.size(); i += 2) {
      defs.push_back(Def(next, {level[i], level[i + 1]}));
      up.push_back(next++);
    }
    level = up;
  }
  const ObjectId root = level[0];
  EXPECT_EQ(root, 15u);
  Submit(defs);
  for (ObjectId i = 1; i < root; ++i) ASSERT_TRUE(s_->ReleaseRef(kC1, i).ok());
  // Run to completion: finish everything assigned, in order.
  for (int round = 0; round < 20; ++round) {
    Drained d = Take();
    for (auto [w, id] : d.assigns) Finish(w, id, 100);
  }
  EXPECT_EQ(s_->StateOf(root), TaskState::kMemory);
  for (ObjectId i = 1; i < root; ++i) {
    EXPECT_EQ(s_->StateOf(i), TaskState::kReleased) << i;
  }
  for (const WorkerSummary& w : s_->Workers()) {
    EXPECT_EQ(w.processing, 0u);
    EXPECT_LE(w.num_objects, 1u);
  }
  ASSERT_TRUE(s_->ReleaseRef(kC1, root).ok());
  EXPECT_EQ(s_->num_objects(), 0u);
}

// A task of 40,000 inputs, with the invariants checked by each Take() as
// the inputs finish, a thousand at a time. The checks count each edge
// once: when they counted every input of a task in the dependents list of
// each input, as they did, each check cost 40,000^2 steps: this test took
// 62 s instead of 0.5, and a cluster's scheduler in tests (which checks
// every index-size / 256 events) held its lock for seconds at a time and
// dropped its workers (RuntimeTest.SubmissionsOfMoreThanASliceRunWhole).
TEST_F(SchedulerStateTest, TheChecksOfAWideFanInAreLinear) {
  SchedulerState::Options o = Opts();
  o.check_invariants = false;  // only Take() checks, 42 times
  Init(o);
  Worker(10, 1000);
  constexpr ObjectId kInputs = 40000;
  std::vector<TaskDef> defs = Defs(1, kInputs);
  std::vector<ObjectId> inputs;
  for (ObjectId i = 1; i <= kInputs; ++i) inputs.push_back(i);
  defs.push_back(Def(kInputs + 1, inputs));
  Submit(defs);
  for (ObjectId i = 1; i <= kInputs; ++i) {
    ASSERT_TRUE(s_->ReleaseRef(kC1, i).ok());
  }
  ObjectId finished = 0;
  while (finished < kInputs) {
    Drained d = Take();
    ASSERT_FALSE(d.assigns.empty()) << finished << " inputs finished";
    for (auto [w, id] : d.assigns) {
      ASSERT_LE(id, kInputs);
      Finish(w, id, 8);
      ++finished;
    }
  }
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, kInputs + 1}));
  Finish(10, kInputs + 1, 8);
  EXPECT_EQ(s_->StateOf(kInputs + 1), TaskState::kMemory);
  s_->CheckInvariants();
}

// Tasks that all take one put object (a bootstrap's data): its dependents
// list is long, and an index says where each dependent sits in it, so that
// forgetting one does not search the list. The tasks are released in an
// order unlike the one they were added in, the list shrinks past the point
// where its index is dropped and grows past the one where it is made again;
// each Take() checks the index against the list.
TEST_F(SchedulerStateTest, TasksSharingOneInputAreForgottenInAnyOrder) {
  Init();
  Worker(10, 64);
  constexpr ObjectId kData = 1000;
  ASSERT_TRUE(s_->AddPut(kC1, kData, 0, 8, "12345678").ok());
  auto submit = [&](ObjectId first, ObjectId last) {
    std::vector<TaskDef> defs;
    for (ObjectId i = first; i <= last; ++i) defs.push_back(Def(i, {kData}));
    Submit(defs);
    for (ObjectId i = first; i <= last; ++i) {
      Drained d = Take();
      for (auto [w, id] : d.assigns) Finish(w, id);
    }
  };
  auto release = [&](ObjectId id) {
    ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
    Take();
  };
  submit(1, 100);
  EXPECT_EQ(s_->num_objects(), 101u);
  for (ObjectId i = 2; i <= 100; i += 2) release(i);  // the evens
  for (ObjectId i = 99; i >= 9; i -= 2) release(i);   // odds, backward
  EXPECT_EQ(s_->num_objects(), 5u);                   // 1, 3, 5, 7 and the data
  submit(101, 140);                                   // grows long again
  for (ObjectId i : {3, 1, 7, 5}) release(i);
  for (ObjectId i = 140; i >= 101; --i) release(i);
  EXPECT_EQ(s_->num_objects(), 1u);
  release(kData);
  EXPECT_EQ(s_->num_objects(), 0u);
}

// A put kept inline that many tasks take (more than 16 dependents): the
// first assignment to each worker carries the value marked keep; once the
// worker reports its copy, its assignments carry no value (its store has
// it), while other workers still get the value. An input few tasks take
// is sent inline each time, unmarked.
TEST_F(SchedulerStateTest, AnInlineInputManyTasksTakeIsSentToAWorkerOnce) {
  Init(Opts(1));
  Worker(10, 1);
  Worker(20, 1);
  constexpr ObjectId kData = 1000;
  constexpr ObjectId kFew = 2000;
  ASSERT_TRUE(s_->AddPut(kC1, kData, 0, 4, "data").ok());
  ASSERT_TRUE(s_->AddPut(kC1, kFew, 0, 3, "few").ok());
  std::vector<TaskDef> defs;
  for (ObjectId i = 1; i <= 40; ++i) defs.push_back(Def(i, {kData}));
  defs.push_back(Def(41, {kFew}));
  Submit(defs);
  auto dep_of = [](const AssignTask& a) { return a.deps.at(0); };
  Drained d = Take();
  ASSERT_EQ(d.assign_msgs.size(), 2u);  // one a worker
  for (const AssignTask& a : d.assign_msgs) {
    EXPECT_EQ(dep_of(a).inline_value, "data");
    EXPECT_TRUE(dep_of(a).keep);
  }
  ASSERT_TRUE(s_->AddReplica(10, kData).ok());  // worker 10 kept it
  for (int round = 0; round < 5; ++round) {
    for (auto [w, id] : d.assigns) Finish(w, id);
    d = Take();
    for (const AssignTask& a : d.assign_msgs) {
      if (a.task.id == 41) continue;
      EXPECT_EQ(dep_of(a).inline_value.empty(), a.worker == 10) << a.worker;
      EXPECT_EQ(dep_of(a).keep, a.worker == 20) << a.worker;
      EXPECT_EQ(dep_of(a).holders, std::vector<WorkerId>{10});
    }
  }
  // The input of one task is not kept.
  for (int round = 0; round < 40 && s_->StateOf(41) != TaskState::kMemory;
       ++round) {
    for (const AssignTask& a : d.assign_msgs) {
      if (a.task.id != 41) continue;
      EXPECT_EQ(dep_of(a).inline_value, "few");
      EXPECT_FALSE(dep_of(a).keep);
    }
    for (auto [w, id] : d.assigns) Finish(w, id);
    d = Take();
  }
  EXPECT_EQ(s_->StateOf(41), TaskState::kMemory);
}

TEST_F(SchedulerStateTest, PlacementPrefersMostInputBytes) {
  Init(Opts(2));
  Worker(10, 2);
  Worker(20, 2);
  ASSERT_TRUE(s_->AddPut(kC1, 100, 10, 10, "").ok());
  ASSERT_TRUE(s_->AddPut(kC1, 101, 20, 1000, "").ok());
  ASSERT_TRUE(s_->AddPut(kC1, 102, 10, 500, "").ok());
  Submit({Def(1, {100, 101}), Def(2, {100, 102})});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}, P{20, 1}));  // by worker
  // Ties in bytes go to the less loaded worker; here both hold 100 only.
  ASSERT_TRUE(s_->AddReplica(20, 100).ok());
  Submit({Def(3, {100})});
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 3}));  // equal load: lowest id
}

TEST_F(SchedulerStateTest, LeastLoadedPlacement) {
  Init(Opts(1));
  Worker(10, 4);
  Worker(20, 1);
  Submit({Def(1), Def(2), Def(3), Def(4)});
  Drained d = Take();
  // 1: both idle -> 10. 2: 10 at 1/4, 20 at 0 -> 20. 3, 4: only 10 fits.
  EXPECT_THAT(d.assigns,
              ElementsAre(P{10, 1}, P{10, 3}, P{10, 4}, P{20, 2}));
  auto workers = s_->Workers();
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].processing, 3u);
  EXPECT_EQ(workers[1].processing, 1u);
}

TEST_F(SchedulerStateTest, PriorityThenSubmissionOrder) {
  Init(Opts(1));
  Submit({Def(1, {}, 0), Def(2, {}, 5), Def(3, {}, 1), Def(4, {}, 5)});
  Worker(10, 1);
  std::vector<ObjectId> order;
  for (int i = 0; i < 4; ++i) {
    Drained d = Take();
    ASSERT_EQ(d.assigns.size(), 1u);
    order.push_back(d.assigns[0].second);
    Finish(10, d.assigns[0].second);
  }
  EXPECT_THAT(order, ElementsAre(2, 4, 3, 1));
}

TEST_F(SchedulerStateTest, SaturationAndRebalance) {
  Init(Opts(2));
  Worker(10, 1);
  Worker(20, 1);
  Submit(Defs(1, 10));
  Drained d = Take();
  EXPECT_THAT(d.assigns,
              ElementsAre(P{10, 1}, P{10, 3}, P{20, 2}, P{20, 4}));
  EXPECT_EQ(s_->num_ready(), 6u);
  // Worker 10 is fast: whatever it frees is refilled at once.
  Finish(10, 1);
  Finish(10, 3);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 5}, P{10, 6}));
  // A new worker picks up queued work immediately.
  Worker(30, 1);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{30, 7}, P{30, 8}));
  EXPECT_EQ(s_->num_ready(), 2u);
}

TEST_F(SchedulerStateTest, NumCpus) {
  Init(Opts(1));
  Worker(10, 2);
  Worker(20, 4);
  TaskDef big = Def(1);
  big.num_cpus = 4;
  TaskDef mid = Def(2);
  mid.num_cpus = 3;
  Submit({big, mid, Def(3), Def(4)});
  Drained d = Take();
  // 1 needs all of worker 20; 2 fits nowhere now (10 has 2 threads) and
  // does not block the one-cpu tasks behind it.
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 3}, P{10, 4}, P{20, 1}));
  EXPECT_EQ(s_->StateOf(2), TaskState::kReady);
  Finish(20, 1);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 2}));
  EXPECT_EQ(s_->Workers()[1].used_cpus, 3u);
}

TEST_F(SchedulerStateTest, NumCpusAboveEveryWorkerTakesTheLargest) {
  Init(Opts(1));
  Worker(10, 2);
  Worker(20, 3);
  TaskDef huge = Def(1);
  huge.num_cpus = 8;  // more than any worker has
  Submit({huge});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 1}));
  EXPECT_EQ(s_->Workers()[1].used_cpus, 3u);
  Finish(20, 1);
  Take();
  EXPECT_EQ(s_->Workers()[1].used_cpus, 0u);
}

TEST_F(SchedulerStateTest, BlockedTaskGivesBackItsCpus) {
  Init(Opts(1));
  Worker(10, 1);
  Submit({Def(1)});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));
  // Task 1 submits a child and waits for it: without giving its cpu back,
  // the saturated worker could never run the child.
  Submit({Def(2)});
  d = Take();
  EXPECT_TRUE(d.assigns.empty());
  ASSERT_TRUE(s_->TaskBlocked(10, 1, s_->AttemptOf(1), true).ok());
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}));
  Finish(10, 2);
  Take();
  ASSERT_TRUE(s_->TaskBlocked(10, 1, s_->AttemptOf(1), false).ok());
  EXPECT_EQ(s_->Workers()[0].used_cpus, 1u);
  // Blocking twice is a no-op; finishing while blocked releases nothing
  // twice.
  ASSERT_TRUE(s_->TaskBlocked(10, 1, s_->AttemptOf(1), true).ok());
  ASSERT_TRUE(s_->TaskBlocked(10, 1, s_->AttemptOf(1), true).ok());
  Finish(10, 1);
  Take();
  EXPECT_EQ(s_->Workers()[0].used_cpus, 0u);
  // Bad reports are errors and change nothing.
  EXPECT_EQ(s_->TaskBlocked(10, 1, s_->AttemptOf(1), true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->TaskBlocked(99, 1, s_->AttemptOf(1), true).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(s_->TaskBlocked(10, 77, s_->AttemptOf(77), true).code(),
            absl::StatusCode::kNotFound);
  s_->CheckInvariants();
}

TEST_F(SchedulerStateTest, AdaptiveSaturationFollowsRunTimes) {
  // Tiny tasks (10 us): the limit rises to the maximum.
  Drained d = AfterOneTinyTask(200);
  ASSERT_EQ(d.assigns.size(), 63u);
  // Long tasks (50 ms) bring it back to the minimum.
  for (int i = 0; i < 60; ++i) {
    FinishAfter(10, d.assigns[i].second, absl::Milliseconds(50));
  }
  EXPECT_EQ(s_->saturation(), 2);
  s_->CheckInvariants();
}

TEST_F(SchedulerStateTest, SaturationIsPerFunctionAndMinimalUntilKnown) {
  // Tiny tasks of "fn" teach the scheduler a high limit for "fn".
  Drained d = AfterOneTinyTask(100);
  // Let everything of "fn" finish, so the worker is empty again.
  std::vector<ObjectId> running = {2};
  for (const auto& a : d.assigns) running.push_back(a.second);
  while (!running.empty()) {
    ObjectId id = running.back();
    running.pop_back();
    FinishAfter(10, id, absl::Microseconds(10));
    for (const auto& a : Take().assigns) running.push_back(a.second);
  }
  // A function that has not reported a run time gets the minimum, not
  // "fn"'s limit: 2 of these long tasks go out, the rest wait.
  Submit(Defs(1001, 1010, "slow"));
  EXPECT_EQ(Take().assigns.size(), 2u);
  s_->CheckInvariants();
}

class PackingTest : public testing::StateTestBase {
 protected:
  // Adaptive saturation up to 64 tasks a thread; runs of up to 100 us.
  static SchedulerState::Options Packing() {
    SchedulerState::Options o = testing::CheckedOptions(2);
    o.adaptive_saturation = true;
    o.max_saturation = 64;
    o.pack_time = absl::Microseconds(100);
    return o;
  }

  // Workers 10, 20, 30 and 40 (one thread each), and "fn" known to run in
  // 10 us (task 1, on worker 10) and then, with `then_long`, in 1 ms (task 2).
  // Returns how many of the next `n` tasks of "fn" each worker got, by id.
  std::map<uint64_t, int> SpreadOfTinyTasks(SchedulerState::Options o,
                                            bool then_long, ObjectId n) {
    Init(o);
    for (WorkerId w : {10, 20, 30, 40}) Worker(w);
    Submit({Def(1)});
    Take();
    FinishAfter(10, 1, absl::Microseconds(10));
    if (then_long) {
      Submit({Def(2)});
      Take();
      FinishAfter(10, 2, absl::Milliseconds(1));
    }
    Submit(Defs(101, 100 + n));
    std::map<uint64_t, int> per_worker;
    for (const auto& [worker, task] : Take().assigns) ++per_worker[worker];
    return per_worker;
  }
};

TEST_F(PackingTest, TinyTasksGoToWorkersInRuns) {
  // 100 us / 10 us: runs of 10, to the least loaded worker in turn.
  EXPECT_THAT(SpreadOfTinyTasks(Packing(), false, 30),
              ElementsAre(std::pair<const uint64_t, int>{10, 10},
                          std::pair<const uint64_t, int>{20, 10},
                          std::pair<const uint64_t, int>{30, 10}));
  s_->CheckInvariants();
}

TEST_F(PackingTest, OneLongRunSpreadsTheFunctionAgain) {
  EXPECT_THAT(SpreadOfTinyTasks(Packing(), true, 8),
              ElementsAre(std::pair<const uint64_t, int>{10, 2},
                          std::pair<const uint64_t, int>{20, 2},
                          std::pair<const uint64_t, int>{30, 2},
                          std::pair<const uint64_t, int>{40, 2}));
}

TEST_F(PackingTest, ZeroPackTimeSpreads) {
  SchedulerState::Options o = Packing();
  o.pack_time = absl::ZeroDuration();
  EXPECT_THAT(SpreadOfTinyTasks(o, false, 8),
              ElementsAre(std::pair<const uint64_t, int>{10, 2},
                          std::pair<const uint64_t, int>{20, 2},
                          std::pair<const uint64_t, int>{30, 2},
                          std::pair<const uint64_t, int>{40, 2}));
}

TEST_F(PackingTest, RunsStopAtTheSaturationLimit) {
  // 100 us / 1 us would be runs of 100; saturation stops them at 64 (the
  // largest, for a 1 us function: 2 ms / 1 us, capped).
  Init(Packing());
  for (WorkerId w : {10, 20}) Worker(w);
  Submit({Def(1)});
  Take();
  FinishAfter(10, 1, absl::Microseconds(1));
  Submit(Defs(101, 200));
  std::map<uint64_t, int> per_worker;
  for (const auto& [worker, task] : Take().assigns) ++per_worker[worker];
  EXPECT_THAT(per_worker, ElementsAre(std::pair<const uint64_t, int>{10, 64},
                                      std::pair<const uint64_t, int>{20, 36}));
}

TEST_F(PackingTest, TasksWithInputsAndOtherFunctionsAreNotPacked) {
  Init(Packing());
  for (WorkerId w : {10, 20, 30, 40}) Worker(w);
  Submit({Def(1)});
  Take();
  FinishAfter(10, 1, absl::Microseconds(10));
  // Tasks of "fn" that need object 1 go by placement as before (the
  // holder, worker 10, until it is full); tasks of a function with no
  // reported run time are spread.
  std::vector<TaskDef> defs = Defs(101, 104, "other");
  for (ObjectId id = 201; id <= 204; ++id) defs.push_back(Def(id, {1}));
  Submit(defs);
  std::map<uint64_t, int> other;
  std::map<uint64_t, int> with_input;
  for (const auto& [worker, task] : Take().assigns) {
    ++(task < 200 ? other : with_input)[worker];
  }
  EXPECT_EQ(other.size(), 4u);  // one each
  EXPECT_THAT(with_input, ElementsAre(std::pair<const uint64_t, int>{10, 4}));
}

TEST_F(SchedulerStateTest, FailurePropagatesRootCause) {
  Init(Opts(2));
  Worker(10, 2);
  Submit({Def(1), Def(2, {1}), Def(3, {2}), Def(4)});
  Take();
  Throw(10, 1);
  Drained d = Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  EXPECT_EQ(s_->StateOf(2), TaskState::kErred);
  EXPECT_EQ(s_->StateOf(3), TaskState::kErred);
  EXPECT_EQ(s_->StateOf(4), TaskState::kProcessing);
  ASSERT_EQ(d.failed.size(), 3u);
  for (const ObjectFailed& f : d.failed) {
    EXPECT_EQ(f.client, kC1);
    EXPECT_EQ(f.error.kind, ErrorKind::kTaskFailed);
    EXPECT_EQ(f.error.task_key, weft::internal::MakeKey("f", 1));
    EXPECT_EQ(f.error.message, "boom");
  }
  Finish(10, 4);
  EXPECT_EQ(s_->StateOf(4), TaskState::kMemory);
  // A task submitted on top of an erred object errs at once.
  Submit({Def(5, {3})});
  ASSERT_NE(s_->ErrorOf(5), nullptr);
  EXPECT_EQ(s_->ErrorOf(5)->task_key, weft::internal::MakeKey("f", 1));
  // Releasing the erred refs forgets them.
  for (ObjectId id : {1, 2, 3, 5}) ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
  EXPECT_EQ(s_->num_objects(), 1u);
}

TEST_F(SchedulerStateTest, Retries) {
  Init();
  Worker(10);
  Worker(20);
  TaskDef t = Def(1);
  t.retries = 2;
  Submit({t});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  ASSERT_TRUE(s_->TaskFailed(10, 1, s_->AttemptOf(1), ErrorInfo{}).ok());
  Drained d = Take();
  ASSERT_EQ(d.assign_msgs.size(), 1u);
  EXPECT_EQ(d.assign_msgs[0].task.retries, 1);
  ASSERT_TRUE(
      s_->TaskFailed(d.assigns[0].first, 1, s_->AttemptOf(1), ErrorInfo{})
          .ok());
  d = Take();
  EXPECT_THAT(d.failed, IsEmpty());
  ASSERT_TRUE(
      s_->TaskFailed(d.assigns[0].first, 1, s_->AttemptOf(1), ErrorInfo{})
          .ok());
  d = Take();
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  // A task with retries left that then succeeds.
  t = Def(2);
  t.retries = 1;
  Submit({t});
  d = Take();
  ASSERT_TRUE(
      s_->TaskFailed(d.assigns[0].first, 2, s_->AttemptOf(2), ErrorInfo{})
          .ok());
  d = Take();
  Finish(d.assigns[0].first, 2);
  EXPECT_EQ(s_->StateOf(2), TaskState::kMemory);
}

TEST_F(SchedulerStateTest, CancelQueuedProcessingAndDependents) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2), Def(3, {1}), Def(4, {3})});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  // Queued: no message to any worker.
  ASSERT_TRUE(s_->Cancel(kC1, 2).ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, IsEmpty());
  EXPECT_EQ(s_->StateOf(2), TaskState::kCancelled);
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kCancelled);
  // Processing, with dependents.
  ASSERT_TRUE(s_->Cancel(kC1, 1).ok());
  d = Take();
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 1}));
  for (ObjectId id : {1, 3, 4}) {
    EXPECT_EQ(s_->StateOf(id), TaskState::kCancelled);
    EXPECT_EQ(s_->ErrorOf(id)->task_key, weft::internal::MakeKey("f", 1));
  }
  EXPECT_EQ(d.failed.size(), 3u);
  // The worker's late result is refused and dropped.
  absl::Status st = s_->TaskFinished(10, 1, s_->AttemptOf(1), 8, "");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 1}));
  // Cancelling something already finished is a no-op.
  ASSERT_TRUE(s_->Cancel(kC1, 1).ok());
  EXPECT_THAT(Take().all, IsEmpty());
}

TEST_F(SchedulerStateTest, ReleaseFreesEveryHolder) {
  Init();
  Worker(10);
  Worker(20);
  Submit({Def(1)});
  Take();
  Finish(10, 1, 64);
  ASSERT_TRUE(s_->AddReplica(20, 1).ok());
  EXPECT_THAT(s_->HoldersOf(1), ElementsAre(10, 20));
  EXPECT_EQ(s_->Workers()[1].held_bytes, 64u);
  Take();
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}, P{20, 1}));
  EXPECT_EQ(s_->num_objects(), 0u);
  EXPECT_EQ(s_->Workers()[0].held_bytes, 0u);
}

TEST_F(SchedulerStateTest, TwoClientsShareAnObject) {
  Init();
  ASSERT_TRUE(s_->AddClient(kC2).ok());
  Worker(10);
  Submit({Def(1)});
  ASSERT_TRUE(s_->AddRef(kC2, 1).ok());
  ASSERT_TRUE(s_->AddRef(kC2, 1).ok());  // idempotent
  Take();
  Finish(10, 1, 3, "abc");
  Drained d = Take();
  EXPECT_THAT(d.ready, ElementsAre(P{kC1, 1}, P{kC2, 1}));
  auto* r = std::get_if<ObjectReady>(&d.all.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->inline_value, "abc");
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  EXPECT_THAT(Take().releases, IsEmpty());
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  // A client that gets the ref later hears about it at once.
  ASSERT_TRUE(s_->AddRef(kC1, 1).ok());
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 1}));
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC2, 1).ok());
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 1}));
}

// A client is told where to fetch a value only when it did not get the
// whole value inline.
TEST_F(SchedulerStateTest, ObjectReadyNamesHoldersOnlyOfValuesNotInline) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2)});
  Take();
  Finish(10, 1, 3, "abc");  // whole
  Drained d = Take();
  auto* r = std::get_if<ObjectReady>(&d.all.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->object, 1u);
  EXPECT_EQ(r->inline_value, "abc");
  EXPECT_THAT(r->holders, IsEmpty());
  Finish(10, 2, 1 << 20);  // large: fetched from its holder
  d = Take();
  r = std::get_if<ObjectReady>(&d.all.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->object, 2u);
  EXPECT_EQ(r->size_bytes, 1u << 20);
  EXPECT_EQ(r->inline_value, "");
  EXPECT_THAT(r->holders, ElementsAre(10));
}

// Found by fuzz/scheduler_fuzzer: task 2 depends on task 1, and 1's value
// holds the only reference to 2 (AddContained). When 2 finished, releasing
// its input 1 dropped that reference, which released and forgot 2 while
// TaskFinished was still walking 2's inputs (a use after free).
TEST_F(SchedulerStateTest, FinishedTaskFreedByReleasingItsInput) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2, {1})});
  ASSERT_TRUE(s_->AddContained(kC1, 1, {2}).ok());
  s_->RemoveClient(kC1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  Finish(10, 1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  Finish(10, 2);
  Drained d = Take();
  EXPECT_THAT(d.releases, UnorderedElementsAre(P{10, 1}, P{10, 2}));
  EXPECT_EQ(s_->num_objects(), 0u);
}

TEST_F(SchedulerStateTest, RemoveClientDropsItsRefsAndWork) {
  Init();
  ASSERT_TRUE(s_->AddClient(kC2).ok());
  Worker(10);
  Submit({Def(1), Def(2)});
  Submit({Def(3)}, kC2);
  Take();
  Finish(10, 1);
  Take();
  // 1 in memory, 2 processing, 3 queued.
  s_->RemoveClient(kC1);
  Drained d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}));
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 2}));
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 3}));
  EXPECT_EQ(s_->num_objects(), 1u);
  EXPECT_EQ(s_->num_clients(), 1u);
  EXPECT_EQ(s_->AddRef(kC1, 3).code(), absl::StatusCode::kNotFound);
}

TEST_F(SchedulerStateTest, ReleasingAPendingResultThatIsStillNeeded) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2, {1})});
  Take();
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  EXPECT_EQ(s_->StateOf(1), TaskState::kProcessing);  // 2 needs it
  EXPECT_THAT(Take().cancels, IsEmpty());
  Finish(10, 1);
  EXPECT_THAT(Take().ready, IsEmpty());
  Finish(10, 2);
  Drained d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}));
}

TEST_F(SchedulerStateTest, WorkerDeathReschedulesAndRecomputesLineage) {
  Init(Opts(2));
  Worker(10, 1);
  Submit({Def(1), Def(2, {1}), Def(3, {2}), Def(4)});
  for (ObjectId id : {1, 2}) ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
  Take();
  Finish(10, 1, 100);
  Finish(10, 2, 100);
  Drained d = Take();
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}));
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}, P{10, 3}));
  Worker(20, 1);
  Take();
  // 10 dies with 3 and 4 running and the only copy of 2; 1 is gone too.
  ASSERT_TRUE(s_->RemoveWorker(10, "connection reset").ok());
  d = Take();
  EXPECT_EQ(s_->StateOf(3), TaskState::kWaiting);
  EXPECT_EQ(s_->StateOf(2), TaskState::kWaiting);
  EXPECT_EQ(s_->StateOf(1), TaskState::kProcessing);
  // 1 (recompute) and 4 (rescheduled) fill worker 20; 4 was submitted
  // after 1, so 1 goes first.
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 1}, P{20, 4}));
  for (int round = 0; round < 5; ++round) {
    for (auto [w, id] : Take().assigns) Finish(w, id, 100);
  }
  Finish(20, 1, 100);
  Finish(20, 4, 100);
  for (int round = 0; round < 5; ++round) {
    for (auto [w, id] : Take().assigns) Finish(w, id, 100);
  }
  EXPECT_EQ(s_->StateOf(3), TaskState::kMemory);
  EXPECT_EQ(s_->StateOf(4), TaskState::kMemory);
  EXPECT_EQ(s_->StateOf(1), TaskState::kReleased);
}

TEST_F(SchedulerStateTest, KilledWorkerAfterThreeDeaths) {
  Init();
  Submit({Def(1), Def(2, {1})});
  for (WorkerId w : {7, 8, 9}) {
    Worker(w);
    EXPECT_THAT(Take().assigns, ElementsAre(P{w, 1}));
    ASSERT_TRUE(s_->RemoveWorker(w, "segfault").ok());
  }
  Drained d = Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  EXPECT_EQ(s_->StateOf(2), TaskState::kErred);
  const ErrorInfo* e = s_->ErrorOf(2);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, ErrorKind::kWorkerDied);
  EXPECT_EQ(e->exception_type, "KilledWorker");
  EXPECT_THAT(e->message,
              HasSubstr("was running on 3 workers that died (last: worker 9"));
  EXPECT_THAT(e->message, HasSubstr("segfault"));
  EXPECT_EQ(d.failed.size(), 2u);
}

TEST_F(SchedulerStateTest, LostPutFailsDependents) {
  Init();
  Worker(10);
  Worker(20);
  ASSERT_TRUE(s_->AddPut(kC1, 100, 10, 1 << 20, "").ok());
  Submit({Def(1, {100}), Def(2, {1}), Def(3)});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}, P{20, 3}));
  ASSERT_TRUE(s_->RemoveWorker(10, "oom").ok());
  d = Take();
  for (ObjectId id : {100, 1, 2}) {
    EXPECT_EQ(s_->StateOf(id), TaskState::kErred) << id;
    EXPECT_EQ(s_->ErrorOf(id)->kind, ErrorKind::kObjectLost);
    EXPECT_THAT(s_->ErrorOf(id)->message, HasSubstr("put()"));
    EXPECT_THAT(s_->ErrorOf(id)->message, HasSubstr("oom"));
  }
  EXPECT_EQ(d.failed.size(), 3u);
  EXPECT_EQ(s_->StateOf(3), TaskState::kProcessing);
}

TEST_F(SchedulerStateTest, APutWholeInlineIsKeptWithoutAHolderAndNeverLost) {
  Init(Opts(8));
  Worker(10);
  Worker(20);
  // No holder at all: the scheduler keeps the value.
  ASSERT_TRUE(s_->AddPut(kC1, 100, 0, 2, "hi").ok());
  EXPECT_EQ(s_->StateOf(100), TaskState::kMemory);
  EXPECT_TRUE(s_->HoldersOf(100).empty());
  // Held by a worker too, and whole inline: still kept.
  ASSERT_TRUE(s_->AddPut(kC1, 101, 10, 3, "abc").ok());
  Submit({Def(1, {100}), Def(2, {101})});
  Drained d = Take();
  ASSERT_EQ(d.assign_msgs.size(), 2u);
  for (const AssignTask& a : d.assign_msgs) {
    ASSERT_EQ(a.deps.size(), 1u);
    EXPECT_EQ(a.deps[0].inline_value.size(), a.deps[0].size_bytes);
  }
  // Losing the worker that held 101 loses neither put.
  ASSERT_TRUE(s_->RemoveWorker(10, "oom").ok());
  d = Take();
  EXPECT_TRUE(d.failed.empty());
  EXPECT_EQ(s_->StateOf(100), TaskState::kMemory);
  EXPECT_EQ(s_->StateOf(101), TaskState::kMemory);
  EXPECT_TRUE(s_->HoldersOf(101).empty());
  // A later task still gets it (inline, nothing to fetch).
  Submit({Def(3, {101})});
  d = Take();
  bool assigned = false;
  for (const AssignTask& a : d.assign_msgs) {
    if (a.task.id != 3) continue;
    assigned = true;
    EXPECT_EQ(a.deps[0].inline_value, "abc");
    EXPECT_TRUE(a.deps[0].holders.empty());
  }
  EXPECT_TRUE(assigned);
  // Released: nothing to tell a worker.
  ASSERT_TRUE(s_->ReleaseRef(kC1, 100).ok());
  d = Take();
  EXPECT_TRUE(d.releases.empty());
}

TEST_F(SchedulerStateTest, APutWithoutAHolderMustComeWholeInline) {
  Init();
  Worker(10);
  EXPECT_EQ(s_->AddPut(kC1, 100, 0, 1000, "abc").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->AddPut(kC1, 101, 0, 1 << 20, "").code(),
            absl::StatusCode::kInvalidArgument);
  const std::string too_big(s_->options().inline_limit_bytes + 1, 'x');
  EXPECT_EQ(s_->AddPut(kC1, 102, 0, too_big.size(), too_big).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->StateOf(100), TaskState::kReleased);
  EXPECT_EQ(s_->StateOf(102), TaskState::kReleased);
}

TEST_F(SchedulerStateTest, ObjectLostIsRecomputed) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2, {1})});
  Take();
  Finish(10, 1);
  Take();
  // 2 runs on 10 and needs 1, which 10 now reports gone.
  ASSERT_TRUE(s_->ObjectLost(10, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 2}));
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));
  EXPECT_EQ(s_->StateOf(2), TaskState::kWaiting);
  Finish(10, 1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
}

TEST_F(SchedulerStateTest, AddRefToLineageRecomputes) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2, {1})});
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Take();
  Finish(10, 1);
  Take();
  Finish(10, 2);
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 1}));
  EXPECT_EQ(s_->StateOf(1), TaskState::kReleased);
  ASSERT_TRUE(s_->AddRef(kC1, 1).ok());
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
}

TEST_F(SchedulerStateTest, BorrowedObjectsLiveWhileTheTaskIsPending) {
  Init();
  Worker(10);
  Submit({Def(1)});
  Take();
  Finish(10, 1);
  Take();
  // Task 2 receives a reference to 1 (not its value): no dependency, so it
  // is assigned at once, and 1 stays alive while 2 is pending although the
  // client lets go of it.
  TaskDef borrower = Def(2);
  borrower.borrowed = {1};
  Submit({borrower});
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}));
  EXPECT_THAT(d.releases, IsEmpty());
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  Finish(10, 2);
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 1}));
  EXPECT_EQ(s_->StateOf(1), TaskState::kReleased);
}

TEST_F(SchedulerStateTest, BorrowedReferenceToAnUnknownObjectIsRejected) {
  Init();
  TaskDef borrower = Def(2);
  borrower.borrowed = {77};
  EXPECT_EQ(s_->SubmitTasks(kC1, {borrower}).code(),
            absl::StatusCode::kNotFound);
  TaskDef self = Def(3);
  self.borrowed = {3};
  EXPECT_EQ(s_->SubmitTasks(kC1, {self}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->num_objects(), 0u);
}

TEST_F(SchedulerStateTest, CancelledBorrowerLetsGoOfItsReferences) {
  Init();
  Worker(10);
  Submit({Def(1)});
  Take();
  Finish(10, 1);
  TaskDef borrower = Def(2);
  borrower.borrowed = {1};
  Submit({borrower});
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Take();
  ASSERT_TRUE(s_->Cancel(kC1, 2).ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 2}));
  EXPECT_THAT(d.releases, ElementsAre(P{10, 1}));
}

TEST_F(SchedulerStateTest, ContainedReferencesLiveAsLongAsTheirContainer) {
  Init();
  ASSERT_TRUE(s_->AddClient(kC2).ok());  // a worker's nested client
  Worker(10, 4);
  Submit({Def(1)});  // the task that returns references
  Take();
  // While it runs, its code submits 2 and 3 through client 2, and returns
  // references to them: client 2 reports them contained in 1, then lets
  // go of them.
  Submit({Def(2), Def(3)}, kC2);
  ASSERT_TRUE(s_->AddContained(kC2, 1, {2, 3, 2}).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC2, 2).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC2, 3).ok());
  EXPECT_NE(s_->StateOf(2), TaskState::kReleased);
  Take();
  Finish(10, 2);
  Finish(10, 3);
  Finish(10, 1);
  Take();
  // The program reads 1's value and takes its own reference to 3.
  ASSERT_TRUE(s_->AddRef(kC1, 3).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());  // 1's references go with it
  Drained d = Take();
  EXPECT_THAT(d.releases, UnorderedElementsAre(P{10, 1}, P{10, 2}));
  EXPECT_EQ(s_->StateOf(3), TaskState::kMemory);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 3).ok());
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 3}));
  EXPECT_EQ(s_->num_objects(), 0u);
}

TEST_F(SchedulerStateTest, ContainmentRulesAndReplacement) {
  Init();
  Worker(10, 4);
  Submit({Def(1), Def(2), Def(3)});
  Take();
  // The reporter must hold what it says is contained.
  ASSERT_TRUE(s_->AddClient(kC2).ok());
  EXPECT_EQ(s_->AddContained(kC2, 1, {2}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->AddContained(kC1, 77, {2}).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(s_->AddContained(kC1, 1, {2}).ok());
  // A recomputed result replaces the set: 2 is no longer held by 1.
  ASSERT_TRUE(s_->AddContained(kC1, 1, {3}).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC1, 2).ok());
  EXPECT_THAT(Take().cancels, ElementsAre(P{10, 2}));
  // A container that was released needs nothing kept.
  ASSERT_TRUE(s_->ReleaseRef(kC1, 3).ok());  // still held by 1
  EXPECT_NE(s_->StateOf(3), TaskState::kReleased);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, UnorderedElementsAre(P{10, 1}, P{10, 3}));
  EXPECT_EQ(s_->num_objects(), 0u);
}

// A client adopts an object again while its release still waits in its
// batch: it withdraws the release, so the reference it sends is one it holds
// already. The state it had (where the object is) went with the old handle:
// it is told again, and nothing else changes.
TEST_F(SchedulerStateTest, AddRefOfAHeldObjectTellsTheClientAgain) {
  Init();
  Worker(10);
  Submit({Def(1), Def(2)});
  Take();
  Finish(10, 1, 3, "abc");
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 1}));
  ASSERT_TRUE(s_->AddRef(kC1, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.ready, ElementsAre(P{kC1, 1}));
  auto* r = std::get_if<ObjectReady>(&d.all.back());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->inline_value, "abc");
  // Still one reference: one release frees it.
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  EXPECT_THAT(Take().releases, ElementsAre(P{10, 1}));
  // A pending object is told of when it is done, once.
  ASSERT_TRUE(s_->AddRef(kC1, 2).ok());
  EXPECT_THAT(Take().ready, IsEmpty());
  Finish(10, 2, 3, "def");
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 2}));
}

// Objects in memory are announced only to the clients that hold
// references (a thousand workers' nested clients, holding nothing, are not
// asked each time); a client that held nothing for a while and then holds
// again is announced to again.
TEST_F(SchedulerStateTest, OnlyClientsHoldingReferencesAreTold) {
  Init();
  for (ClientId c = 100; c < 110; ++c) ASSERT_TRUE(s_->AddClient(c).ok());
  ASSERT_TRUE(s_->AddClient(kC2).ok());
  Worker(10);
  Submit({Def(1), Def(2), Def(3)});
  ASSERT_TRUE(s_->AddRef(kC2, 1).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC2, 1).ok());  // kC2 holds nothing now
  Take();
  Finish(10, 1, 3, "abc");
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 1}));
  ASSERT_TRUE(s_->AddRef(kC2, 2).ok());
  Take();
  Finish(10, 2, 3, "def");
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 2}, P{kC2, 2}));
  s_->RemoveClient(kC2);
  Finish(10, 3, 3, "ghi");
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 3}));
}

TEST_F(SchedulerStateTest, AddRefToAnUnknownObjectFailsItForTheClient) {
  Init();
  EXPECT_EQ(s_->AddRef(kC1, 77).code(), absl::StatusCode::kNotFound);
  Drained d = Take();
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].client, kC1);
  EXPECT_EQ(d.failed[0].object, 77u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kObjectLost);
}

TEST_F(SchedulerStateTest, CountsByFunctionFollowTheStates) {
  Init();
  Worker(10);
  TaskDef g = Def(3, {1});
  g.function = "gn";
  Submit({Def(1), Def(2), g});
  ASSERT_TRUE(s_->AddPut(kC1, 9, 0, 3, "abc").ok());
  auto counts = [&] {
    std::map<std::string, SchedulerState::StateCounts> out;
    for (auto& [f, c] : s_->CountsByFunction()) out[f] = c;
    return out;
  };
  auto at = [](const SchedulerState::StateCounts& c, TaskState s) {
    return c[static_cast<int>(s)];
  };
  std::map<std::string, SchedulerState::StateCounts> c = counts();
  EXPECT_EQ(at(c["fn"], TaskState::kProcessing), 1u);
  EXPECT_EQ(at(c["fn"], TaskState::kReady), 1u);
  EXPECT_EQ(at(c["gn"], TaskState::kWaiting), 1u);
  EXPECT_EQ(at(c["put"], TaskState::kMemory), 1u);
  Take();
  Finish(10, 1);
  c = counts();
  EXPECT_EQ(at(c["fn"], TaskState::kMemory), 1u);
  EXPECT_EQ(at(c["gn"], TaskState::kReady) + at(c["gn"], TaskState::kProcessing),
            1u);
  std::string_view name, function;
  ASSERT_TRUE(s_->NamesOf(3, &name, &function));
  EXPECT_EQ(name, "f");
  EXPECT_EQ(function, "gn");
  EXPECT_FALSE(s_->NamesOf(9, &name, &function));  // a put
}

TEST_F(SchedulerStateTest, HeartbeatExpiry) {
  SchedulerState::Options o = Opts();
  o.heartbeat_timeout = absl::Seconds(5);
  Init(o);
  Worker(10);
  Worker(20);
  ASSERT_TRUE(s_->Heartbeat(20, kT0 + absl::Seconds(4), {123}).ok());
  EXPECT_THAT(s_->ExpiredWorkers(kT0 + absl::Seconds(5)), IsEmpty());
  EXPECT_THAT(s_->ExpiredWorkers(kT0 + absl::Seconds(6)), ElementsAre(10));
  EXPECT_THAT(s_->ExpiredWorkers(kT0 + absl::Seconds(10)),
              ElementsAre(10, 20));
  EXPECT_EQ(s_->Workers()[1].reported_memory_bytes, 123u);
  for (WorkerId w : s_->ExpiredWorkers(kT0 + absl::Seconds(6))) {
    ASSERT_TRUE(s_->RemoveWorker(w, "heartbeat timeout").ok());
  }
  EXPECT_EQ(s_->num_workers(), 1u);
}

TEST_F(SchedulerStateTest, InlineValuesTravelWithAssignments) {
  Init();
  Worker(10);
  ASSERT_TRUE(s_->AddPut(kC1, 100, 10, 2, "hi").ok());
  Submit({Def(1, {100})});
  Drained d = Take();
  ASSERT_EQ(d.assign_msgs.size(), 1u);
  EXPECT_EQ(d.assign_msgs[0].deps[0].inline_value, "hi");
}

TEST_F(SchedulerStateTest, TakeActionsGroupsByDestination) {
  Init(Opts(4));
  Worker(20, 2);
  Worker(10, 2);
  Submit(Defs(1, 8));
  ASSERT_TRUE(s_->Cancel(kC1, 1).ok());
  ASSERT_TRUE(s_->Cancel(kC1, 2).ok());
  Drained d = Take();
  std::vector<Destination> order;
  for (const Action& a : d.all) order.push_back(DestinationOf(a));
  // Workers by id, each destination contiguous, then clients.
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end(),
                             [](const Destination& a, const Destination& b) {
                               return std::make_pair(!a.is_worker, a.id) <
                                      std::make_pair(!b.is_worker, b.id);
                             }));
  // Two cancels to worker 10 (tasks 1 and 2 went to 10 and 20? by load)
  // are merged per worker.
  size_t cancel_msgs = 0;
  for (const Action& a : d.all) cancel_msgs += std::holds_alternative<CancelTasks>(a);
  std::vector<WorkerId> cancel_workers;
  for (auto [w, id] : d.cancels) cancel_workers.push_back(w);
  std::sort(cancel_workers.begin(), cancel_workers.end());
  cancel_workers.erase(std::unique(cancel_workers.begin(), cancel_workers.end()),
                       cancel_workers.end());
  EXPECT_EQ(cancel_msgs, cancel_workers.size());
}

// Releases to one worker within a drain go as one action, not one each,
// but never ahead of another action to that worker emitted between them.
TEST_F(SchedulerStateTest, ReleasesToAWorkerAreOneActionInItsOrder) {
  Init();
  Worker(10, 8);
  Submit(Defs(1, 8));
  Take();
  for (ObjectId id = 1; id <= 8; ++id) Finish(10, id);
  Take();
  for (ObjectId id = 1; id <= 4; ++id)
    ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
  Submit({Def(9)});  // assigned to worker 10 between the releases
  for (ObjectId id = 5; id <= 8; ++id)
    ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
  Drained d = Take();
  std::vector<std::string> to_worker;
  for (const Action& a : d.all) {
    if (const auto* r = std::get_if<ReleaseObjects>(&a)) {
      to_worker.push_back(
          absl::StrCat("release ", absl::StrJoin(r->objects, ",")));
    } else if (const auto* x = std::get_if<AssignTask>(&a)) {
      to_worker.push_back(absl::StrCat("assign ", x->task.id));
    }
  }
  EXPECT_THAT(to_worker,
              ElementsAre("release 1,2,3,4", "assign 9", "release 5,6,7,8"));
}

TEST_F(SchedulerStateTest, BadInputIsRejectedAndStateStaysValid) {
  Init();
  Worker(10);
  Worker(20);
  Submit({Def(1), Def(2)});
  Take();
  const size_t objects = s_->num_objects();
  using absl::StatusCode;
  EXPECT_EQ(s_->AddClient(kC1).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s_->AddWorker(10, Info(1), kT0).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(s_->AddWorker(11, Info(0), kT0).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->RemoveWorker(99, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->Heartbeat(99, kT0).code(), StatusCode::kNotFound);
  // Submissions: unknown client, duplicate id (existing or in the batch),
  // unknown dependency, self or forward dependency, bad num_cpus/retries.
  EXPECT_EQ(s_->SubmitTasks(99, {Def(3)}).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Def(3), Def(1)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Def(3), Def(3)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Def(3), Def(4, {77})}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Def(3, {3})}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Def(3, {4}), Def(4)}).code(),
            StatusCode::kNotFound);
  TaskDef bad = Def(3);
  bad.num_cpus = 0;
  EXPECT_EQ(s_->SubmitTasks(kC1, {bad}).code(), StatusCode::kInvalidArgument);
  bad = Def(3);
  bad.retries = -1;
  EXPECT_EQ(s_->SubmitTasks(kC1, {bad}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s_->num_objects(), objects);  // batches are all or nothing
  EXPECT_EQ(s_->StateOf(3), TaskState::kReleased);
  // Puts.
  EXPECT_EQ(s_->AddPut(99, 100, 10, 1, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->AddPut(kC1, 100, 99, 1, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->AddPut(kC1, 1, 10, 1, "").code(), StatusCode::kAlreadyExists);
  // Reports: unknown worker/task, wrong worker, not processing.
  EXPECT_EQ(s_->TaskFinished(99, 1, s_->AttemptOf(1), 1, "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s_->TaskFinished(10, 77, s_->AttemptOf(77), 1, "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s_->TaskFinished(20, 1, s_->AttemptOf(1), 1, "").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->TaskFailed(20, 1, s_->AttemptOf(1), {}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->TaskFailed(99, 1, s_->AttemptOf(1), {}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s_->TaskFailed(10, 77, s_->AttemptOf(77), {}).code(),
            StatusCode::kNotFound);
  Drained d = Take();
  // The stray results are dropped on the workers that sent them.
  EXPECT_THAT(d.releases, ElementsAre(P{10, 77}, P{20, 1}));
  EXPECT_THAT(d.assigns, IsEmpty());
  Finish(10, 1);
  EXPECT_EQ(s_->TaskFinished(10, 1, s_->AttemptOf(1), 1, "").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_THAT(Take().releases, IsEmpty());  // 10 legitimately holds it
  EXPECT_EQ(s_->ObjectLost(20, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->ObjectLost(10, 77).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->ObjectLost(99, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->AddReplica(10, 2).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->AddReplica(99, 1).code(), StatusCode::kNotFound);
  // References.
  EXPECT_EQ(s_->AddRef(99, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->AddRef(kC1, 77).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->ReleaseRef(99, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->ReleaseRef(kC1, 77).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->Cancel(99, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(s_->Cancel(kC1, 77).code(), StatusCode::kNotFound);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  EXPECT_EQ(s_->ReleaseRef(kC1, 1).code(), StatusCode::kNotFound);
  s_->RemoveClient(99);  // no-op
  s_->CheckInvariants();
  EXPECT_EQ(s_->StateOf(2), TaskState::kProcessing);
}

TEST_F(SchedulerStateTest, LargeBatchIsAccepted) {
  SchedulerState::Options o = Opts(2);
  o.check_invariants = false;  // O(n) per event; checked once below
  s_ = std::make_unique<SchedulerState>(o);
  ASSERT_TRUE(s_->AddClient(kC1).ok());
  Worker(10, 8);
  std::vector<TaskDef> defs;
  for (ObjectId i = 1; i <= 100000; ++i) {
    defs.push_back(Def(i, i > 1 ? std::vector<ObjectId>{i / 2}
                                : std::vector<ObjectId>{}));
  }
  Submit(std::move(defs));
  EXPECT_EQ(s_->num_objects(), 100000u);
  s_->CheckInvariants();
  size_t done = 0;
  for (int round = 0; round < 200000 && done < 100000; ++round) {
    Drained d = {};
    d.all = s_->TakeActions();
    if (d.all.empty()) break;
    for (const Action& a : d.all) {
      if (auto* x = std::get_if<AssignTask>(&a)) {
        ASSERT_TRUE(s_->TaskFinished(x->worker, x->task.id,
                                     s_->AttemptOf(x->task.id), 8, "")
                        .ok());
        ++done;
      }
    }
  }
  EXPECT_EQ(done, 100000u);
  s_->CheckInvariants();
  s_->RemoveClient(kC1);
  EXPECT_EQ(s_->num_objects(), 0u);
}

// Once every record of a large graph is gone, the state gives the memory
// back (ReleaseCapacity) and goes on working: ids, the queue, references,
// inline values.
TEST_F(SchedulerStateTest, WorksOnAfterALargeGraphIsGone) {
  SchedulerState::Options o = Opts(/*saturation=*/100);
  o.check_invariants = false;  // 5k tasks: checked once per phase below
  Init(o);
  Worker(10, 1);
  for (int round = 0; round < 2; ++round) {
    std::vector<TaskDef> defs;
    for (ObjectId id = 1; id <= 5000; ++id) defs.push_back(Def(id));
    defs.push_back(Def(20000, {1, 2}));
    Submit(std::move(defs));
    s_->CheckInvariants();
    size_t finished = 0;
    for (Drained d = Take(); !d.assigns.empty(); d = Take()) {
      for (auto [w, id] : d.assigns) {
        Finish(w, id, 8, "v");
        ++finished;
      }
    }
    EXPECT_EQ(finished, 5001u);
    EXPECT_EQ(s_->StateOf(20000), TaskState::kMemory);
    for (ObjectId id = 1; id <= 5000; ++id) {
      ASSERT_TRUE(s_->ReleaseRef(kC1, id).ok());
    }
    EXPECT_EQ(s_->num_objects(), 3u);  // 20000 and its lineage, 1 and 2
    ASSERT_TRUE(s_->ReleaseRef(kC1, 20000).ok());
    Take();
    s_->CheckInvariants();
    EXPECT_EQ(s_->num_objects(), 0u);
    EXPECT_EQ(s_->num_ready(), 0u);
  }
  // Small graphs afterwards, with the invariants checked at every step.
  Init(Opts());
  Worker(10);
  Submit({Def(1), Def(2, {1})});
  Take();
  Finish(10, 1);
  Take();
  Finish(10, 2, 8, "x");
  Drained d = Take();
  EXPECT_THAT(d.ready, ElementsAre(P{kC1, 2}));
}

}  // namespace
}  // namespace weft::scheduler

namespace weft::scheduler {
namespace {

// --- Retiring workers --------------------------------------------------------

// A retiring worker takes no new tasks, finishes its own, then hands off
// what only it holds, and is told to go once every copy arrived.
TEST_F(SchedulerStateTest, RetiringWorkerFinishesHandsOffAndGoes) {
  Init(Opts(2));
  Worker(10);
  Submit({Def(1), Def(2)});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}, P{10, 2}));
  Finish(10, 1, /*size=*/1 << 20);  // large: only worker 10 holds it
  ASSERT_TRUE(s_->RetireWorker(10).ok());
  ASSERT_TRUE(s_->RetireWorker(10).ok());  // idempotent
  Worker(20);
  Submit({Def(3)});
  d = Take();
  // New work goes to 20 only; 10 still runs task 2, so nothing moves yet.
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 3}));
  EXPECT_THAT(d.copies, IsEmpty());
  EXPECT_THAT(d.retired, IsEmpty());
  Finish(10, 2, /*size=*/1 << 20);
  d = Take();
  // Both results are needed (the client holds them) and held by 10 alone.
  ASSERT_EQ(d.copies.size(), 2u);
  for (const ReplicateObject& c : d.copies) {
    EXPECT_EQ(c.worker, 20u);
    EXPECT_THAT(c.holders, ElementsAre(10));
    EXPECT_EQ(c.size_bytes, 1u << 20);
  }
  EXPECT_THAT(d.retired, IsEmpty());
  ASSERT_TRUE(s_->AddReplica(20, 1).ok());
  d = Take();
  EXPECT_THAT(d.retired, IsEmpty());
  ASSERT_TRUE(s_->AddReplica(20, 2).ok());
  d = Take();
  ASSERT_EQ(d.retired.size(), 1u);
  EXPECT_EQ(d.retired[0].worker, 10u);
  EXPECT_EQ(d.retired[0].handed_off, 2u);
  // Its going loses nothing and charges no task a death.
  ASSERT_TRUE(s_->RemoveWorker(10, "retired").ok());
  d = Take();
  EXPECT_THAT(d.failed, IsEmpty());
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  EXPECT_THAT(s_->HoldersOf(2), ElementsAre(20));
}

// Objects nobody needs any more are not copied; with nothing to hand off,
// the worker may go at once.
TEST_F(SchedulerStateTest, RetiringWorkerWithNothingNeededGoesAtOnce) {
  LargeResultOnWorker10(/*with_20=*/true);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  ASSERT_TRUE(s_->RetireWorker(10).ok());
  Drained d = Take();
  EXPECT_THAT(d.copies, IsEmpty());
  ASSERT_EQ(d.retired.size(), 1u);
  EXPECT_EQ(d.retired[0].handed_off, 0u);
}

// With no other worker, there is nobody to hand off to: it goes at once,
// and its objects are lost (recomputed later) when it is removed.
TEST_F(SchedulerStateTest, LastWorkerRetiresWithoutHandOff) {
  LargeResultOnWorker10(/*with_20=*/false);
  ASSERT_TRUE(s_->RetireWorker(10).ok());
  Drained d = Take();
  EXPECT_THAT(d.copies, IsEmpty());
  ASSERT_EQ(d.retired.size(), 1u);
}

// A copy whose target dies is asked of another worker.
TEST_F(SchedulerStateTest, HandOffToADeadTargetIsAskedAgain) {
  LargeResultOnWorker10(/*with_20=*/true);
  ASSERT_TRUE(s_->RetireWorker(10).ok());
  Drained d = Take();
  ASSERT_EQ(d.copies.size(), 1u);
  EXPECT_EQ(d.copies[0].worker, 20u);
  Worker(30);
  ASSERT_TRUE(s_->RemoveWorker(20, "died").ok());
  d = Take();
  ASSERT_EQ(d.copies.size(), 1u);
  EXPECT_EQ(d.copies[0].worker, 30u);
  ASSERT_TRUE(s_->AddReplica(30, 1).ok());
  d = Take();
  ASSERT_EQ(d.retired.size(), 1u);
  EXPECT_EQ(d.retired[0].handed_off, 1u);
}

// A worker that leaves (retiring or not) after its tasks were moved is no
// death: three planned exits do not fail a task with kWorkerDied.
TEST_F(SchedulerStateTest, PlannedExitsChargeNoDeaths) {
  SchedulerState::Options o = Opts();
  o.max_worker_deaths_per_task = 1;
  Init(o);
  for (WorkerId w : {10, 20, 30}) {
    Worker(w);
    if (w == 10) Submit({Def(1)});
    Drained d = Take();
    ASSERT_THAT(d.assigns, ElementsAre(P{w, 1}));
    ASSERT_TRUE(s_->RetireWorker(w).ok());
    ASSERT_TRUE(s_->RemoveWorker(w, "left").ok());  // before it finished
  }
  Drained d = Take();
  EXPECT_THAT(d.failed, IsEmpty());
  EXPECT_EQ(s_->StateOf(1), TaskState::kReady);
  EXPECT_EQ(s_->RetireWorker(99).code(), absl::StatusCode::kNotFound);
}

// --- Attempts: a late message of an earlier run never changes the current
// one (issue 15, item 4). ----------------------------------------------------

TEST_F(SchedulerStateTest, LateReportsOfARetriedAttemptOnTheSameWorker) {
  Init();
  Worker(10);
  TaskDef t = Def(1);
  t.retries = 1;
  Submit({t});
  Drained d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));
  const Attempt first = d.assign_msgs[0].task.attempt;
  EXPECT_NE(first, 0u);
  EXPECT_EQ(s_->AttemptOf(1), first);
  ErrorInfo err;
  err.message = "boom";
  ASSERT_TRUE(s_->TaskFailed(10, 1, first, err).ok());
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));  // retried here
  EXPECT_NE(d.assign_msgs[0].task.attempt, first);
  EXPECT_EQ(s_->AttemptOf(1), d.assign_msgs[0].task.attempt);
  // The first run's failure, delivered twice, a late block change and a
  // late result of it.
  EXPECT_EQ(s_->TaskFailed(10, 1, first, err).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->TaskBlocked(10, 1, first, true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s_->TaskFinished(10, 1, first, 8, "").code(),
            absl::StatusCode::kFailedPrecondition);
  d = Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kProcessing);
  EXPECT_THAT(d.failed, IsEmpty());
  // No release: the current run stores its value under the same id.
  EXPECT_THAT(d.releases, IsEmpty());
  Finish(10, 1);
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
}

TEST_F(SchedulerStateTest, LateResultAfterCancelAndResubmit) {
  Init();
  Worker(10);
  Submit({Def(1)});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  const Attempt cancelled = s_->AttemptOf(1);
  ASSERT_TRUE(s_->Cancel(kC1, 1).ok());
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 1}));
  // The cancel names the run it takes back.
  ASSERT_TRUE(std::holds_alternative<CancelTasks>(d.all[0]));
  EXPECT_THAT(std::get<CancelTasks>(d.all[0]).tasks,
              ElementsAre(TaskAttempt{1, cancelled}));
  EXPECT_EQ(s_->num_objects(), 0u);
  Submit({Def(1)});  // the same id again
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  EXPECT_NE(s_->AttemptOf(1), cancelled);
  // The cancelled run's result, sent before the worker saw the cancel.
  EXPECT_FALSE(s_->TaskFinished(10, 1, cancelled, 8, "").ok());
  d = Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kProcessing);
  EXPECT_THAT(d.ready, IsEmpty());
  EXPECT_THAT(d.releases, IsEmpty());
  Finish(10, 1);
  EXPECT_THAT(Take().ready, ElementsAre(P{kC1, 1}));
}

TEST_F(SchedulerStateTest, LateFailureAfterTheInputsHolderWasRemoved) {
  Init();
  InputOnBusyWorker20();
  Worker(10);
  Submit({Def(2, {1})});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  const Attempt first = s_->AttemptOf(2);
  ASSERT_TRUE(s_->ReleaseRef(kC1, 9).ok());  // 9 kept 20 busy; not needed
  Take();
  // 20 dies: 1 is recomputed on 10, 2 waits for it (and is taken back).
  ASSERT_TRUE(s_->RemoveWorker(20, "killed").ok());
  Drained d = Take();
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 2}));
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));
  Finish(10, 1);
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 2}));
  // The first run of 2 could not fetch 1 from 20; it says so late.
  ErrorInfo err;
  err.message = "could not fetch input";
  EXPECT_FALSE(s_->TaskFailed(10, 2, first, err).ok());
  d = Take();
  EXPECT_EQ(s_->StateOf(2), TaskState::kProcessing);
  EXPECT_THAT(d.failed, IsEmpty());
  Finish(10, 2);
  EXPECT_EQ(s_->StateOf(2), TaskState::kMemory);
}

// --- Input fetch failures are charged to the holder, not the task (issue
// 15, item 5). ------------------------------------------------------------

TEST_F(SchedulerStateTest, AnInputThatCannotBeFetchedIsRecomputedUncharged) {
  Init();
  InputOnBusyWorker20();
  Worker(10);
  Submit({Def(2, {1})});  // no retries
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  ErrorInfo err;
  err.message = "could not fetch input 1: connection refused";
  ASSERT_TRUE(
      s_->InputsUnavailable(10, 2, s_->AttemptOf(2), {InputMiss{1, {20}}}, err)
          .ok());
  Drained d = Take();
  EXPECT_THAT(d.failed, IsEmpty());
  EXPECT_THAT(d.releases, ElementsAre(P{20, 1}));  // its copy is given up
  EXPECT_THAT(d.assigns, ElementsAre(P{10, 1}));   // recomputed
  EXPECT_EQ(s_->StateOf(2), TaskState::kWaiting);  // waits for it
  Finish(10, 1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  Finish(10, 2);
  EXPECT_EQ(s_->StateOf(2), TaskState::kMemory);
}

TEST_F(SchedulerStateTest, AnInputWithAnotherCopyIsFetchedFromThatOne) {
  Init();
  InputOnBusyWorker20();
  Worker(30);
  ASSERT_TRUE(s_->AddReplica(30, 1).ok());
  Submit({Def(8)});
  EXPECT_THAT(Take().assigns, ElementsAre(P{30, 8}));  // 30 too
  Worker(10);
  Submit({Def(2, {1})});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  ASSERT_TRUE(s_->InputsUnavailable(10, 2, s_->AttemptOf(2),
                                    {InputMiss{1, {20}}}, ErrorInfo{})
                  .ok());
  Drained d = Take();
  EXPECT_THAT(d.failed, IsEmpty());
  EXPECT_THAT(d.releases, ElementsAre(P{20, 1}));
  EXPECT_THAT(s_->HoldersOf(1), ElementsAre(30));
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  ASSERT_THAT(d.assigns, ElementsAre(P{10, 2}));  // queued again at once
  EXPECT_THAT(d.assign_msgs[0].deps[0].holders, ElementsAre(30));
}

TEST_F(SchedulerStateTest, AnUnfetchablePutFailsItsTaskAsLostNotAsFailed) {
  Init();
  Worker(20);
  Submit({Def(9)});
  EXPECT_THAT(Take().assigns, ElementsAre(P{20, 9}));  // 20 is busy
  Worker(10);
  ASSERT_TRUE(s_->AddPut(kC1, 1, 20, 1 << 20, "").ok());
  Submit({Def(2, {1})});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
  ASSERT_TRUE(s_->InputsUnavailable(10, 2, s_->AttemptOf(2),
                                    {InputMiss{1, {20}}}, ErrorInfo{})
                  .ok());
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  ASSERT_NE(s_->ErrorOf(2), nullptr);
  EXPECT_EQ(s_->ErrorOf(2)->kind, ErrorKind::kObjectLost);
}

TEST_F(SchedulerStateTest, ATaskThatKeepsMissingInputsErrsAsLost) {
  SchedulerState::Options o = Opts();
  o.max_input_misses_per_task = 3;
  Init(o);
  Worker(10);
  ASSERT_TRUE(s_->AddPut(kC1, 1, 0, 1, "v").ok());  // kept: never dropped
  TaskDef t = Def(2, {1});
  t.retries = 5;
  Submit({t});
  for (int i = 1; i <= 3; ++i) {
    Drained d = Take();
    ASSERT_THAT(d.assigns, ElementsAre(P{10, 2})) << i;
    const Attempt attempt = s_->AttemptOf(2);
    ASSERT_TRUE(
        s_->InputsUnavailable(10, 2, attempt, {InputMiss{1, {}}}, ErrorInfo{})
            .ok());
    // A late, repeated report of that run changes nothing.
    EXPECT_EQ(
        s_->InputsUnavailable(10, 2, attempt, {InputMiss{1, {}}}, ErrorInfo{})
            .code(),
        absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(s_->StateOf(2), TaskState::kErred);
  EXPECT_EQ(s_->ErrorOf(2)->kind, ErrorKind::kObjectLost);
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
}

}  // namespace
}  // namespace weft::scheduler
