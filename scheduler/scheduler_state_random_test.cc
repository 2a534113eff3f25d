// Copyright 2026 The weft Authors.
//
// Randomized test of SchedulerState: random graphs, clients, worker deaths
// and retirements, failures, losses, cancels and ref changes, with every invariant checked
// after every event. A simulated cluster mirrors the actions (which worker
// runs what), and at the end runs everything to completion: every object a
// client still holds must end in memory, erred or cancelled (no hang).

#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/scheduler_state.h"

namespace weft::scheduler {
namespace {

class Sim {
 public:
  explicit Sim(uint32_t seed) : rng_(seed) {
    SchedulerState::Options o;
    o.saturation = 1 + Uniform(2);
    o.max_worker_deaths_per_task = 1 + Uniform(3);
    o.inline_limit_bytes = 16;
    o.check_invariants = true;
    s_ = std::make_unique<SchedulerState>(o);
    for (ClientId c : {1, 2}) AddClient(c);
  }

  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <typename C>
  auto Pick(const C& c) {
    auto it = c.begin();
    std::advance(it, Uniform(static_cast<int>(c.size())));
    return *it;
  }

  void AddClient(ClientId c) {
    ASSERT_TRUE(s_->AddClient(c).ok());
    held_[c];
  }

  void AddWorker(int nthreads) {
    const WorkerId w = next_worker_++;
    ASSERT_TRUE(s_->AddWorker(w, WorkerRegistration{"w", nthreads, "h"},
                              absl::UnixEpoch())
                    .ok());
    running_[w];
  }

  // Applies the scheduler's actions to the simulated cluster.
  void Drain() {
    for (const Action& a : s_->TakeActions()) {
      if (auto* x = std::get_if<AssignTask>(&a)) {
        ASSERT_TRUE(running_.contains(x->worker));
        ASSERT_FALSE(retiring_.contains(x->worker))
            << "a retiring worker got a task";
        ASSERT_NE(x->task.attempt, 0u);
        ASSERT_TRUE(
            running_[x->worker].emplace(x->task.id, x->task.attempt).second);
        inputs_[x->task.attempt] = x->deps;
        // A worker holds each input, or it comes whole inline (kept put).
        for (const DepLocation& d : x->deps) {
          ASSERT_TRUE(!d.holders.empty() ||
                      d.inline_value.size() == d.size_bytes);
        }
      } else if (auto* x = std::get_if<CancelTasks>(&a)) {
        // The worker drops the run the cancel names; that run's reports
        // may still arrive late.
        for (const TaskAttempt& run : x->tasks) {
          auto& runs = running_[x->worker];
          auto it = runs.find(run.task);
          ASSERT_TRUE(it != runs.end() && it->second == run.attempt);
          runs.erase(it);
          stale_.push_back({x->worker, run.task, run.attempt});
        }
      } else if (auto* x = std::get_if<ObjectReady>(&a)) {
        // Holders are named exactly when the value is not whole inline.
        ASSERT_EQ(x->holders.empty(), x->inline_value.size() == x->size_bytes);
      } else if (auto* x = std::get_if<ReplicateObject>(&a)) {
        // The copy arrives (refused if the object went meanwhile).
        ASSERT_TRUE(running_.contains(x->worker));
        ASSERT_FALSE(retiring_.contains(x->worker));
        (void)s_->AddReplica(x->worker, x->object);
      } else if (auto* x = std::get_if<WorkerRetired>(&a)) {
        // It goes: its tasks are done (or it is the last worker).
        ASSERT_TRUE(retiring_.contains(x->worker));
        ASSERT_TRUE(s_->RemoveWorker(x->worker, "retired").ok());
        running_.erase(x->worker);
        retiring_.erase(x->worker);
      }
    }
  }

  void Step() {
    const int op = Uniform(100);
    if (op < 25) {
      Submit();
    } else if (op < 50) {
      FinishOne(/*fail=*/Uniform(10) == 0);
    } else if (op < 55) {
      if (running_.size() > 0 && Uniform(2) == 0) {
        const WorkerId w = Pick(running_).first;
        if (Uniform(3) == 0) {
          ASSERT_TRUE(s_->RetireWorker(w).ok());
          retiring_.insert(w);
        } else {
          ASSERT_TRUE(s_->RemoveWorker(w, "random death").ok());
          running_.erase(w);
          retiring_.erase(w);
        }
      } else {
        AddWorker(1 + Uniform(3));
      }
    } else if (op < 60) {
      if (!objects_.empty()) {
        const ObjectId id = Pick(objects_);
        std::vector<WorkerId> h = s_->HoldersOf(id);
        if (!h.empty()) {
          ASSERT_TRUE(s_->ObjectLost(Pick(h), id).ok());
        }
      }
    } else if (op < 65) {
      if (!objects_.empty() && !running_.empty()) {
        const ObjectId id = Pick(objects_);
        const WorkerId w = Pick(running_).first;
        const bool in_memory = s_->StateOf(id) == TaskState::kMemory;
        // A retiring worker takes no copies either (it is not asked to).
        if (!retiring_.contains(w)) {
          ASSERT_EQ(s_->AddReplica(w, id).ok(), in_memory);
        }
      }
    } else if (op < 75) {
      const ClientId c = Pick(held_).first;
      if (!held_[c].empty()) {
        const ObjectId id = Pick(held_[c]);
        ASSERT_TRUE(s_->ReleaseRef(c, id).ok());
        held_[c].erase(id);
      }
    } else if (op < 82) {
      const ClientId c = Pick(held_).first;
      if (!objects_.empty()) {
        const ObjectId id = Pick(objects_);
        absl::Status st = s_->AddRef(c, id);
        if (st.ok()) held_[c].insert(id);
      }
    } else if (op < 87) {
      const ClientId c = Pick(held_).first;
      if (!held_[c].empty()) {
        ASSERT_TRUE(s_->Cancel(c, Pick(held_[c])).ok());
      }
    } else if (op < 92) {
      const ClientId c = Pick(held_).first;
      const ObjectId id = next_object_++;
      if (Uniform(3) == 0) {
        // Small enough to come whole inline: kept, held by no worker.
        ASSERT_TRUE(s_->AddPut(c, id, 0, 1, "v").ok());
        held_[c].insert(id);
        objects_.push_back(id);
      } else if (!running_.empty()) {
        // Whole inline when the size is 1 and the value comes ("v").
        ASSERT_TRUE(s_->AddPut(c, id, Pick(running_).first, 1 + Uniform(1000),
                               Uniform(2) ? "v" : "")
                        .ok());
        held_[c].insert(id);
        objects_.push_back(id);
      }
    } else if (op < 94) {
      const ClientId c = Pick(held_).first;
      s_->RemoveClient(c);
      held_.erase(c);
      AddClient(next_client_++);
    } else {
      // Stray and bad reports: must be rejected without harm.
      if (!stale_.empty()) {
        // A late or repeated report of a run that was cancelled, or
        // already reported: never changes the current run.
        const StaleRun run = Pick(stale_);
        const TaskState before = s_->StateOf(run.task);
        const Attempt current = s_->AttemptOf(run.task);
        if (Uniform(2) == 0) {
          EXPECT_FALSE(
              s_->TaskFailed(run.worker, run.task, run.attempt, ErrorInfo{})
                  .ok());
        } else {
          EXPECT_FALSE(
              s_->TaskBlocked(run.worker, run.task, run.attempt, true).ok());
          EXPECT_FALSE(
              s_->TaskFinished(run.worker, run.task, run.attempt, 1, "").ok());
        }
        EXPECT_EQ(s_->StateOf(run.task), before);
        EXPECT_EQ(s_->AttemptOf(run.task), current);
      }
      if (!running_.empty() && !objects_.empty()) {
        const WorkerId w = Pick(running_).first;
        const ObjectId id = Pick(objects_);
        if (!running_[w].contains(id)) {
          EXPECT_FALSE(s_->TaskFinished(w, id, s_->AttemptOf(id), 1, "").ok());
          EXPECT_FALSE(s_->TaskFailed(w, id, s_->AttemptOf(id), {}).ok());
        }
      }
    }
    Drain();
  }

  void Submit() {
    const ClientId c = Pick(held_).first;
    std::vector<TaskDef> batch;
    const int n = 1 + Uniform(6);
    std::vector<ObjectId> candidates(objects_.end() - std::min<size_t>(
                                                          objects_.size(), 30),
                                     objects_.end());
    for (int i = 0; i < n; ++i) {
      TaskDef d;
      d.id = next_object_++;
      d.name = Uniform(2) ? "inc" : "add";
      d.function = d.name;
      d.retries = Uniform(4) == 0 ? 1 : 0;
      d.num_cpus = Uniform(8) == 0 ? 2 : 1;
      d.priority = Uniform(3);
      const int ndeps = Uniform(4);
      for (int k = 0; k < ndeps && !candidates.empty(); ++k) {
        d.deps.push_back(Pick(candidates));
      }
      candidates.push_back(d.id);
      batch.push_back(d);
    }
    // Deps may have been forgotten meanwhile: then the batch is refused.
    bool all_known = true;
    std::set<ObjectId> in_batch;
    for (const TaskDef& d : batch) {
      for (ObjectId dep : d.deps) {
        if (!in_batch.contains(dep) && !Known(dep)) all_known = false;
      }
      in_batch.insert(d.id);
    }
    absl::Status st = s_->SubmitTasks(c, batch);
    ASSERT_EQ(st.ok(), all_known) << st;
    if (st.ok()) {
      for (const TaskDef& d : batch) {
        held_[c].insert(d.id);
        objects_.push_back(d.id);
      }
    }
  }

  bool Known(ObjectId id) {
    // A forgotten object reads as released and refuses AddRef; probe with
    // a client that exists (AddRef is idempotent, so undo if new).
    if (s_->StateOf(id) != TaskState::kReleased) return true;
    const ClientId probe = held_.begin()->first;
    if (held_[probe].contains(id)) return true;
    absl::Status st = s_->AddRef(probe, id);
    if (!st.ok()) return false;
    EXPECT_TRUE(s_->ReleaseRef(probe, id).ok());
    return true;
  }

  void FinishOne(bool fail) {
    std::vector<StaleRun> all;
    for (const auto& [w, ids] : running_) {
      for (const auto& [id, attempt] : ids) all.push_back({w, id, attempt});
    }
    if (all.empty()) return;
    const auto [w, id, attempt] = all[Uniform(static_cast<int>(all.size()))];
    ASSERT_EQ(s_->ProcessingOn(id), w);
    ASSERT_EQ(s_->AttemptOf(id), attempt);
    running_[w].erase(id);
    stale_.push_back({w, id, attempt});  // may be delivered again
    const std::vector<DepLocation> inputs = std::move(inputs_[attempt]);
    inputs_.erase(attempt);
    if (fail && !inputs.empty() && Uniform(2) == 0) {
      // Its input could not be fetched from the holders it was told of.
      const DepLocation& dep = Pick(inputs);
      absl::Status st = s_->InputsUnavailable(
          w, id, attempt, {InputMiss{dep.object, dep.holders}}, {});
      ASSERT_TRUE(st.ok()) << st;
      return;
    }
    absl::Status st = fail ? s_->TaskFailed(w, id, attempt,
                                            ErrorInfo{ErrorKind::kTaskFailed,
                                                        "", "", "E", "random"})
                           : s_->TaskFinished(w, id, attempt, 1 + Uniform(100),
                                              Uniform(2) ? "val" : "");
    ASSERT_TRUE(st.ok()) << st;
  }

  // Runs everything left to completion and checks the outcome.
  void Finish() {
    AddWorker(4);
    Drain();
    for (int i = 0; i < 100000; ++i) {
      bool any = false;
      for (const auto& [w, ids] : running_) any |= !ids.empty();
      if (!any) break;
      FinishOne(false);
      Drain();
    }
    for (const auto& [c, ids] : held_) {
      for (ObjectId id : ids) {
        const TaskState st = s_->StateOf(id);
        EXPECT_TRUE(st == TaskState::kMemory || st == TaskState::kErred ||
                    st == TaskState::kCancelled)
            << "object " << id << " held by client " << c << " is "
            << TaskStateName(st);
      }
    }
    EXPECT_EQ(s_->num_ready(), 0u);
    // Dropping every client frees everything.
    for (const auto& [c, ids] : held_) s_->RemoveClient(c);
    EXPECT_EQ(s_->num_objects(), 0u);
    s_->CheckInvariants();
  }

 private:
  std::mt19937 rng_;
  std::unique_ptr<SchedulerState> s_;
  std::map<ClientId, std::set<ObjectId>> held_;
  // Per worker: the runs it was assigned (task -> attempt).
  std::map<WorkerId, std::map<ObjectId, Attempt>> running_;
  // Runs that ended (cancelled or reported) on a worker.
  struct StaleRun {
    WorkerId worker;
    ObjectId task;
    Attempt attempt;
  };
  std::vector<StaleRun> stale_;
  // The inputs of each run, as its assignment named them (by attempt).
  std::map<Attempt, std::vector<DepLocation>> inputs_;
  std::set<WorkerId> retiring_;  // told to retire, not yet gone
  std::vector<ObjectId> objects_;
  WorkerId next_worker_ = 1;
  ClientId next_client_ = 3;
  ObjectId next_object_ = 1;
};

TEST(SchedulerStateRandomTest, RandomGraphsWorkerDeathsAndFailures) {
  // WEFT_RANDOM_SEEDS / WEFT_RANDOM_STEPS make a longer soak run.
  const char* seeds_env = std::getenv("WEFT_RANDOM_SEEDS");
  const char* steps_env = std::getenv("WEFT_RANDOM_STEPS");
  const uint32_t seeds = seeds_env ? std::atoi(seeds_env) : 60;
  const int steps = steps_env ? std::atoi(steps_env) : 400;
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE(seed);
    Sim sim(seed);
    sim.AddWorker(2);
    for (int step = 0; step < steps; ++step) {
      sim.Step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    sim.Finish();
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace weft::scheduler
