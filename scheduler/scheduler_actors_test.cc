// Copyright 2026 The weft Authors.
//
// Deterministic tests of SchedulerState's actors (scheduler_actors.cc,
// actor_table.h): placement and held threads, the order of calls, restarts,
// retries, deaths and names. Every step runs CheckInvariants.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/testing/state_test_base.h"

namespace weft::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A plain task (no actor).
TaskDef Task(ObjectId id, std::vector<ObjectId> deps = {}) {
  return testing::Def(id, std::move(deps));
}

TaskDef Call(ObjectId id, ActorId actor, std::vector<ObjectId> deps = {}) {
  TaskDef d = Task(id, std::move(deps));
  d.name = "Counter::Add";
  d.function = "Counter::Add";
  d.actor = actor;
  d.borrowed = {actor};  // a call holds its actor, as the clients send it
  return d;
}

ActorDef Actor(ActorId id, int num_cpus = 1, std::string name = "") {
  ActorDef a;
  a.id = id;
  a.class_name = "Counter";
  a.name = std::move(name);
  a.args = "args";
  a.num_cpus = num_cpus;
  return a;
}

class ActorsTest : public testing::StateTestBase {
 protected:
  void SetUp() override {
    Init();
    ASSERT_TRUE(s_->AddClient(kC2).ok());
  }
  void Create(ActorDef def, ClientId c = kC1) {
    absl::Status st = s_->CreateActor(c, std::move(def));
    ASSERT_TRUE(st.ok()) << st;
  }
  // Actor 100, holding no threads, whose constructor takes object `input`.
  void CreateNeeding(ObjectId input) {
    ActorDef def = Actor(100, 0);
    def.deps = {input};
    Create(def);
  }
  ActorState StateOf(ActorId id) { return s_->ActorInfo(id)->state; }
};

TEST_F(ActorsTest, ActorHoldsItsThreadsSoTasksGoElsewhere) {
  Worker(10);
  Worker(20);
  Create(Actor(100));
  Drained d = Take();
  ASSERT_THAT(d.PlacedIds(), ElementsAre(P{10, 100}));
  EXPECT_EQ(d.places[0].def.args, "args");
  EXPECT_EQ(StateOf(100), ActorState::kCreating);
  // Worker 10's one thread is the actor's: both tasks go to worker 20, one
  // at a time (saturation 1).
  Submit({Task(1), Task(2)});
  d = Take();
  EXPECT_THAT(d.assigns, ElementsAre(P{20, 1}));
  Finish(20, 1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{20, 2}));
}

TEST_F(ActorsTest, ActorWaitsForAWorkerWithRoom) {
  Worker(10);
  Create(Actor(100));
  Create(Actor(200));
  Drained d = Take();
  EXPECT_THAT(d.PlacedIds(), ElementsAre(P{10, 100}));
  EXPECT_EQ(StateOf(200), ActorState::kPending);
  Worker(20);
  EXPECT_THAT(Take().PlacedIds(), ElementsAre(P{20, 200}));
  // An actor that holds no threads goes anywhere.
  Create(Actor(300, /*num_cpus=*/0));
  EXPECT_THAT(Take().PlacedIds(), ElementsAre(P{10, 300}));
}

TEST_F(ActorsTest, KillingAnActorFreesItsThreads) {
  Worker(10);
  Create(Actor(100));
  Create(Actor(200));
  Take();
  ASSERT_TRUE(s_->KillActor(kC1, 100).ok());
  Drained d = Take();
  EXPECT_THAT(d.stops, ElementsAre(P{10, 100}));
  EXPECT_THAT(d.PlacedIds(), ElementsAre(P{10, 200}));
  EXPECT_EQ(StateOf(100), ActorState::kDead);
  EXPECT_EQ(s_->ActorInfo(100)->death->kind, ErrorKind::kActorDied);
  EXPECT_THAT(s_->ActorInfo(100)->death->message, HasSubstr("killed"));
}

TEST_F(ActorsTest, CallsWaitForTheActorAndGoInOrderChargingNothing) {
  Worker(10);
  Create(Actor(100, /*num_cpus=*/0));
  Submit({Call(1, 100), Call(2, 100), Call(3, 100)});
  Drained d = Take();
  EXPECT_THAT(d.PlacedIds(), ElementsAre(P{10, 100}));
  EXPECT_THAT(d.assigns, IsEmpty());  // not constructed yet
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  d = Take();
  ASSERT_THAT(d.assigns, ElementsAre(P{10, 1}, P{10, 2}, P{10, 3}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.assign_msgs[i].task.actor, 100u);
    EXPECT_EQ(d.assign_msgs[i].task.caller, kC1);
    EXPECT_EQ(d.assign_msgs[i].task.actor_seq, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(d.assign_msgs[i].task.first_unfinished, 1u);
  }
  // The calls hold no thread: a task still runs on the one thread.
  Submit({Task(50)});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 50}));
  Finish(10, 1);
  Finish(10, 2);
  Submit({Call(4, 100)});
  d = Take();
  ASSERT_THAT(d.assigns, ElementsAre(P{10, 4}));
  EXPECT_EQ(d.assign_msgs[0].task.actor_seq, 4u);
  EXPECT_EQ(d.assign_msgs[0].task.first_unfinished, 3u);
}

TEST_F(ActorsTest, ACallWaitingForItsInputHoldsBackLaterCallsOfItsCaller) {
  Worker(10);
  Worker(20);
  Create(Actor(100, 0));
  ASSERT_THAT(Take().PlacedIds(), ElementsAre(P{10, 100}));
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Task(1)});  // the input of the first call
  Drained d = Take();
  ASSERT_THAT(d.assigns, ElementsAre(P{10, 1}));
  Submit({Call(2, 100, {1}), Call(3, 100)});
  Submit({Call(4, 100)}, kC2);  // another caller does not wait
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 4}));
  Finish(10, 1);
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}, P{10, 3}));
}

TEST_F(ActorsTest, AThrowingCallFailsAloneAndIsNotRetried) {
  Worker(10);
  Create(Actor(100, 0));
  Take();
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  TaskDef failing = Call(1, 100);
  failing.retries = 3;  // ignored for calls
  Submit({failing, Call(2, 100)});
  Take();
  Throw(10, 1);
  Drained d = Take();
  EXPECT_THAT(d.assigns, IsEmpty());
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kTaskFailed);
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  Finish(10, 2);
  EXPECT_EQ(s_->StateOf(2), TaskState::kMemory);
  EXPECT_EQ(StateOf(100), ActorState::kAlive);
}

TEST_F(ActorsTest, WorkerDeathRestartsTheActorAndRetriesItsCalls) {
  Worker(10);
  Worker(20);
  ActorDef def = Actor(100);
  def.max_restarts = 1;
  def.max_task_retries = 1;
  Create(def);
  ASSERT_THAT(Take().PlacedIds(), ElementsAre(P{10, 100}));
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Call(1, 100), Call(2, 100)});
  ASSERT_THAT(Take().assigns, ElementsAre(P{10, 1}, P{10, 2}));
  Finish(10, 1, 1, "x");  // a small result, sent whole
  ASSERT_TRUE(s_->RemoveWorker(10, "segfault").ok());
  Drained d = Take();
  ASSERT_THAT(d.PlacedIds(), ElementsAre(P{20, 100}));
  EXPECT_EQ(d.places[0].restarts, 1);
  EXPECT_THAT(d.assigns, IsEmpty());
  EXPECT_EQ(s_->ActorInfo(100)->restarts, 1);
  // Call 1's small result came whole: kept here, it outlives the worker.
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  ASSERT_TRUE(s_->ActorCreated(20, 100).ok());
  d = Take();
  ASSERT_THAT(d.assigns, ElementsAre(P{20, 2}));
  EXPECT_EQ(d.assign_msgs[0].task.first_unfinished, 2u);
  // Out of restarts: the next death is the last; every call fails.
  Submit({Call(3, 100)});
  Take();
  Worker(30);
  ASSERT_TRUE(s_->RemoveWorker(20, "oom").ok());
  d = Take();
  EXPECT_THAT(d.places, IsEmpty());
  EXPECT_EQ(StateOf(100), ActorState::kDead);
  ASSERT_EQ(d.failed.size(), 2u);
  for (const ObjectFailed& f : d.failed) {
    EXPECT_EQ(f.error.kind, ErrorKind::kActorDied);
    EXPECT_THAT(f.error.message, HasSubstr("max_restarts 1"));
  }
  // A later call fails at once.
  Submit({Call(4, 100)});
  d = Take();
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].object, 4u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kActorDied);
}

TEST_F(ActorsTest, WithoutRetriesARunningCallFailsAndQueuedOnesWait) {
  Worker(10);
  Worker(20);
  ActorDef def = Actor(100);
  def.max_restarts = -1;
  Create(def);
  Take();
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Task(5)});
  Take();  // task 5 runs on worker 20
  Submit({Call(1, 100), Call(2, 100, {5})});
  ASSERT_THAT(Take().assigns, ElementsAre(P{10, 1}));
  ASSERT_TRUE(s_->RemoveWorker(10, "killed").ok());
  Drained d = Take();
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].object, 1u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kActorDied);
  EXPECT_THAT(d.failed[0].error.message, HasSubstr("max_task_retries is 0"));
  // Restarting: worker 20's thread is busy with task 5 but not reserved.
  EXPECT_THAT(d.PlacedIds(), ElementsAre(P{20, 100}));
  ASSERT_TRUE(s_->ActorCreated(20, 100).ok());
  Finish(20, 5);
  EXPECT_THAT(Take().assigns, ElementsAre(P{20, 2}));
}

TEST_F(ActorsTest, KillFailsUnfinishedCallsAndLaterOnes) {
  Worker(10);
  Create(Actor(100, 0));
  Take();
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Task(5)});
  Submit({Call(1, 100), Call(2, 100, {5})});
  ASSERT_THAT(Take().assigns, ElementsAre(P{10, 5}, P{10, 1}));
  ASSERT_TRUE(s_->KillActor(kC2, 100).ok());
  Drained d = Take();
  EXPECT_THAT(d.stops, ElementsAre(P{10, 100}));
  EXPECT_THAT(d.cancels, ElementsAre(P{10, 1}));
  EXPECT_EQ(d.failed.size(), 2u);
  EXPECT_EQ(s_->ErrorOf(2)->kind, ErrorKind::kActorDied);
  EXPECT_THAT(s_->ErrorOf(2)->message, HasSubstr("killed by client 2"));
  // The running call's late result is refused.
  EXPECT_FALSE(s_->TaskFinished(10, 1, s_->AttemptOf(1), 1, "x").ok());
  Take();
  EXPECT_TRUE(s_->KillActor(kC1, 100).ok());  // no-op
  EXPECT_TRUE(Take().stops.empty());
}

TEST_F(ActorsTest, TheActorEndsWithItsLastHandleAfterItsPendingCalls) {
  Worker(10);
  Create(Actor(100));
  Take();
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Call(1, 100)});
  Take();
  ASSERT_TRUE(s_->ReleaseRef(kC1, 100).ok());  // the creator's handle
  Drained d = Take();
  EXPECT_THAT(d.stops, IsEmpty());  // the pending call holds the actor
  EXPECT_EQ(StateOf(100), ActorState::kAlive);
  Finish(10, 1);
  d = Take();
  EXPECT_THAT(d.stops, ElementsAre(P{10, 100}));
  EXPECT_FALSE(s_->ActorInfo(100).has_value());  // forgotten
  EXPECT_EQ(s_->num_actors(), 0u);
  // Its thread is free again.
  Submit({Task(2)});
  EXPECT_THAT(Take().assigns, ElementsAre(P{10, 2}));
}

TEST_F(ActorsTest, AFailingConstructorKillsTheActorWithItsError) {
  Worker(10);
  Create(Actor(100));
  Submit({Call(1, 100)});
  Take();
  ErrorInfo error;
  error.exception_type = "std::invalid_argument";
  error.message = "bad start";
  ASSERT_TRUE(s_->ActorCreationFailed(10, 100, error).ok());
  Drained d = Take();
  ASSERT_EQ(d.failed.size(), 1u);
  EXPECT_EQ(d.failed[0].error.kind, ErrorKind::kActorDied);
  EXPECT_EQ(d.failed[0].error.exception_type, "std::invalid_argument");
  EXPECT_THAT(d.failed[0].error.message, HasSubstr("bad start"));
  EXPECT_THAT(d.stops, IsEmpty());
  // A late report of the constructor is refused and the instance dropped.
  EXPECT_FALSE(s_->ActorCreated(10, 100).ok());
  EXPECT_THAT(Take().stops, ElementsAre(P{10, 100}));
}

TEST_F(ActorsTest, NamesAreUniqueAmongLiveActors) {
  Worker(10, 4);
  Create(Actor(100, 1, "ps"));
  EXPECT_EQ(s_->FindActor("ps"), 100u);
  EXPECT_EQ(s_->CreateActor(kC2, Actor(200, 1, "ps")).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(s_->KillActor(kC1, 100).ok());
  EXPECT_EQ(s_->FindActor("ps"), 0u);
  Create(Actor(200, 1, "ps"), kC2);
  EXPECT_EQ(s_->FindActor("ps"), 200u);
  Take();
}

TEST_F(ActorsTest, TheConstructorWaitsForItsInputsAndHoldsThem) {
  Worker(10);
  Worker(20);
  Submit({Task(1)});
  Take();
  CreateNeeding(1);
  EXPECT_THAT(Take().places, IsEmpty());
  Finish(10, 1, 5, "hello");
  Drained d = Take();
  ASSERT_THAT(d.PlacedIds(), ElementsAre(P{10, 100}));
  ASSERT_EQ(d.places[0].deps.size(), 1u);
  EXPECT_EQ(d.places[0].deps[0].inline_value, "hello");
  // The client lets go of the input: the actor still holds it (a restart
  // needs it).
  ASSERT_TRUE(s_->ReleaseRef(kC1, 1).ok());
  Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kMemory);
  ASSERT_TRUE(s_->KillActor(kC1, 100).ok());
  Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kReleased);
}

TEST_F(ActorsTest, AFailedInputKillsTheActor) {
  Worker(10);
  Submit({Task(1)});
  Take();
  CreateNeeding(1);
  Submit({Call(2, 100)});
  Take();
  ASSERT_TRUE(s_->TaskFailed(10, 1, s_->AttemptOf(1), ErrorInfo{}).ok());
  Drained d = Take();
  EXPECT_EQ(StateOf(100), ActorState::kDead);
  EXPECT_EQ(s_->ErrorOf(2)->kind, ErrorKind::kActorDied);
}

TEST_F(ActorsTest, ALargeCallResultLostWithItsWorkerIsNotRecomputed) {
  Worker(10);
  Worker(20);
  ActorDef def = Actor(100);
  def.max_restarts = 1;
  Create(def);
  Take();
  ASSERT_TRUE(s_->ActorCreated(10, 100).ok());
  Submit({Call(1, 100)});
  Take();
  Finish(10, 1, /*size=*/1 << 20, /*value=*/"");
  ASSERT_TRUE(s_->RemoveWorker(10, "gone").ok());
  Drained d = Take();
  EXPECT_EQ(s_->StateOf(1), TaskState::kErred);
  EXPECT_EQ(s_->ErrorOf(1)->kind, ErrorKind::kObjectLost);
  EXPECT_THAT(s_->ErrorOf(1)->message, HasSubstr("not re-run"));
  EXPECT_THAT(d.PlacedIds(), ElementsAre(P{20, 100}));
}

TEST_F(ActorsTest, BadActorsAreRefused) {
  Worker(10);
  ActorDef no_class = Actor(100);
  no_class.class_name = "";
  EXPECT_EQ(s_->CreateActor(kC1, no_class).code(),
            absl::StatusCode::kInvalidArgument);
  ActorDef bad_concurrency = Actor(100);
  bad_concurrency.max_concurrency = 0;
  EXPECT_EQ(s_->CreateActor(kC1, bad_concurrency).code(),
            absl::StatusCode::kInvalidArgument);
  ActorDef unknown_input = Actor(100);
  unknown_input.deps = {12345};
  EXPECT_EQ(s_->CreateActor(kC1, unknown_input).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(s_->SubmitTasks(kC1, {Call(1, 999)}).code(),
            absl::StatusCode::kNotFound);
  Create(Actor(100));
  EXPECT_EQ(s_->CreateActor(kC1, Actor(100)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s_->ActorCreated(10, 555).code(),
            absl::StatusCode::kFailedPrecondition);
  Take();
}

}  // namespace
}  // namespace weft::scheduler
