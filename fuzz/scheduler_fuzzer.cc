// Copyright 2026 The weft Authors.
//
// Drives SchedulerState (scheduler/scheduler_state.h) with an event
// sequence read from the input: submissions (with dependencies and borrowed
// objects, valid or not), results, failures, blocked tasks, worker joins,
// deaths and expiries, losses, replicas, puts, references, cancels,
// contained references (AddContained), and stray or malformed reports.
// Options::check_invariants is on and CheckInvariants() runs after every
// event: a violation aborts. A simulated cluster mirrors the actions, as in
// scheduler_state_random_test.cc, and checks them:
//   - a task is assigned only to a known worker, and not twice to one;
//   - every input of an assigned task has a holder or comes whole inline;
//   - reports that do not match what a worker runs are refused;
//   - a batch of known dependencies is accepted, one naming an unknown
//     object or itself is refused.
// At the end every task left runs to completion: each object a client
// still holds ends in memory, erred or cancelled, and once every client is
// gone the scheduler keeps no object.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "fuzz/fuzz_check.h"
#include "scheduler/scheduler_state.h"

namespace weft::scheduler {
namespace {

// Ids the input may name that were never issued.
constexpr ObjectId kStrayObject = 1'000'000;
constexpr WorkerId kStrayWorker = 1'000'000;
constexpr ClientId kStrayClient = 1'000'000;

class Sim {
 public:
  explicit Sim(FuzzedDataProvider& in) : in_(in) {
    SchedulerState::Options o;
    o.saturation = in_.ConsumeIntegralInRange(1, 3);
    o.max_worker_deaths_per_task = in_.ConsumeIntegralInRange(1, 3);
    o.inline_limit_bytes = 16;
    o.adaptive_saturation = in_.ConsumeBool();
    o.check_invariants = true;
    s_ = std::make_unique<SchedulerState>(o);
    AddClient(next_client_++);
    AddClient(next_client_++);
    AddWorker(in_.ConsumeIntegralInRange(1, 3));
  }

  void Step() {
    const int event = in_.ConsumeIntegralInRange(0, 17);
    if (trace_) std::fprintf(stderr, "event %d\n", event);
    switch (event) {
      case 0:
      case 1:
        Submit();
        break;
      case 2:
      case 3:
        FinishOne(/*fail=*/false);
        break;
      case 4:
        FinishOne(/*fail=*/true);
        break;
      case 5:
        AddWorker(in_.ConsumeIntegralInRange(0, 4));
        break;
      case 6:
        RemoveWorker();
        break;
      case 7:
        LoseOrReplicate();
        break;
      case 8:
        ReleaseRef();
        break;
      case 9:
        AddRef();
        break;
      case 10:
        CancelOne();
        break;
      case 11:
        AddPut();
        break;
      case 12:
        ReplaceClient();
        break;
      case 13:
        AddContained();
        break;
      case 14:
        Block();
        break;
      case 15:
        Heartbeats();
        break;
      default:
        Stray();
        break;
    }
    Drain();
    s_->CheckInvariants();
  }

  // Runs everything left to completion and checks the outcome.
  void Finish() {
    AddWorker(4);
    Drain();
    for (int i = 0; i < 100000; ++i) {
      bool any = false;
      for (const auto& [w, ids] : running_) any |= !ids.empty();
      if (!any) break;
      const auto [w, id] = AnyRunning(0);
      running_[w].erase(id);
      if (trace_) std::fprintf(stderr, "  %lu finishes on %lu\n", (unsigned long)id, (unsigned long)w);
      FUZZ_CHECK(s_->TaskFinished(w, id, s_->AttemptOf(id), 1, "v").ok());
      Drain();
    }
    for (const auto& [c, ids] : held_) {
      for (ObjectId id : ids) {
        const TaskState st = s_->StateOf(id);
        FUZZ_CHECK(st == TaskState::kMemory || st == TaskState::kErred ||
                   st == TaskState::kCancelled);
      }
    }
    FUZZ_CHECK(s_->num_ready() == 0);
    for (const auto& [c, ids] : held_) s_->RemoveClient(c);
    Drain();
    s_->CheckInvariants();
    // Values holding each other's references keep each other alive, as
    // reference counts do; only without such a cycle must all be gone.
    if (!maybe_cyclic_) FUZZ_CHECK(s_->num_objects() == 0);
  }

 private:
  template <class C>
  auto Pick(const C& c) {
    auto it = c.begin();
    std::advance(it, in_.ConsumeIntegralInRange<size_t>(0, c.size() - 1));
    return *it;
  }

  // An object id: mostly a recent one, sometimes any, sometimes unknown.
  ObjectId AnyObject() {
    if (objects_.empty() || in_.ConsumeIntegralInRange(0, 15) == 0) {
      return in_.ConsumeBool() ? kStrayObject : next_object_;
    }
    const size_t n = objects_.size();
    const size_t back = in_.ConsumeIntegralInRange<size_t>(
        0, std::min<size_t>(n, in_.ConsumeBool() ? 8 : n) - 1);
    return objects_[n - 1 - back];
  }

  ClientId AnyClient() {
    if (in_.ConsumeIntegralInRange(0, 15) == 0) return kStrayClient;
    return Pick(held_).first;
  }

  WorkerId AnyWorker() {
    if (running_.empty() || in_.ConsumeIntegralInRange(0, 15) == 0) {
      return kStrayWorker;
    }
    return Pick(running_).first;
  }

  std::pair<WorkerId, ObjectId> AnyRunning(size_t pick) {
    std::vector<std::pair<WorkerId, ObjectId>> all;
    for (const auto& [w, ids] : running_) {
      for (ObjectId id : ids) all.emplace_back(w, id);
    }
    return all[pick % all.size()];
  }

  bool AnyTaskRunning() const {
    for (const auto& [w, ids] : running_) {
      if (!ids.empty()) return true;
    }
    return false;
  }

  void AddClient(ClientId c) {
    FUZZ_CHECK(s_->AddClient(c).ok());
    FUZZ_CHECK(s_->AddClient(c).code() == absl::StatusCode::kAlreadyExists);
    held_[c];
  }

  void AddWorker(int nthreads) {
    const WorkerId w = next_worker_++;
    const absl::Status st =
        s_->AddWorker(w, WorkerRegistration{"w", nthreads, "h"}, now_);
    FUZZ_CHECK(st.ok() == (nthreads >= 1));
    if (trace_) std::fprintf(stderr, "  worker %lu joins: %s\n", (unsigned long)w, st.ToString().c_str());
    if (st.ok()) running_[w];
  }

  void RemoveWorker() {
    const WorkerId w = AnyWorker();
    const absl::Status st = s_->RemoveWorker(w, "fuzzed death");
    if (trace_) std::fprintf(stderr, "  worker %lu dies: %s\n", (unsigned long)w, st.ToString().c_str());
    FUZZ_CHECK(st.ok() == running_.contains(w));
    if (st.ok()) removed_.insert(w);
    running_.erase(w);
  }

  // Applies the scheduler's actions to the simulated cluster.
  void Drain() {
    for (const Action& a : s_->TakeActions()) {
      if (trace_) Trace(a);
      if (auto* x = std::get_if<AssignTask>(&a)) {
        if (removed_.contains(x->worker)) {
          // Emitted before the worker was removed in the same batch of
          // events (e.g. several expiring at once); the service drops
          // messages to removed workers, and the task went back to the
          // queue with the worker.
          FUZZ_CHECK(s_->ProcessingOn(x->task.id) != x->worker ||
                     s_->StateOf(x->task.id) != TaskState::kProcessing);
          continue;
        }
        FUZZ_CHECK(running_.contains(x->worker));
        FUZZ_CHECK(running_[x->worker].insert(x->task.id).second);
        for (const DepLocation& d : x->deps) {
          FUZZ_CHECK(!d.holders.empty() ||
                     d.inline_value.size() == d.size_bytes);
        }
      } else if (auto* x = std::get_if<CancelTasks>(&a)) {
        auto it = running_.find(x->worker);
        FUZZ_CHECK(it != running_.end() || removed_.contains(x->worker));
        if (it == running_.end()) continue;
        for (const TaskAttempt& run : x->tasks) it->second.erase(run.task);
      } else if (auto* x = std::get_if<ObjectReady>(&a)) {
        FUZZ_CHECK(!x->holders.empty() ||
                   x->inline_value.size() == x->size_bytes);
      }
    }
  }

  void Trace(const Action& a) {
    if (auto* x = std::get_if<AssignTask>(&a)) {
      std::fprintf(stderr, "  assign %lu to worker %lu\n",
                   (unsigned long)x->task.id, (unsigned long)x->worker);
    } else if (auto* x = std::get_if<CancelTasks>(&a)) {
      for (const TaskAttempt& run : x->tasks) {
        std::fprintf(stderr, "  cancel %lu (attempt %u) on worker %lu\n",
                     (unsigned long)run.task, (unsigned)run.attempt,
                     (unsigned long)x->worker);
      }
    } else if (auto* x = std::get_if<ReleaseObjects>(&a)) {
      for (ObjectId id : x->objects) {
        std::fprintf(stderr, "  release %lu on worker %lu\n",
                     (unsigned long)id, (unsigned long)x->worker);
      }
    } else if (auto* x = std::get_if<ObjectReady>(&a)) {
      std::fprintf(stderr, "  ready %lu to client %lu\n",
                   (unsigned long)x->object, (unsigned long)x->client);
    } else if (auto* x = std::get_if<ObjectFailed>(&a)) {
      std::fprintf(stderr, "  failed %lu to client %lu: %s\n",
                   (unsigned long)x->object, (unsigned long)x->client,
                   x->error.message.c_str());
    }
  }

  void Submit() {
    const ClientId c = AnyClient();
    const int n = in_.ConsumeIntegralInRange(1, 6);
    // What may break the batch: an unknown dependency or borrowed object,
    // a dependency on itself or a later task, bad num_cpus or retries, a
    // duplicate id.
    bool valid = held_.contains(c);
    std::vector<TaskDef> batch;
    std::set<ObjectId> in_batch;
    for (int i = 0; i < n; ++i) {
      TaskDef d;
      d.id = next_object_++;
      d.name = in_.ConsumeBool() ? "inc" : "add";
      d.function = d.name;
      d.retries = in_.ConsumeIntegralInRange(0, 7) == 0 ? 1 : 0;
      d.num_cpus = in_.ConsumeIntegralInRange(0, 7) == 0 ? 2 : 1;
      d.priority = in_.ConsumeIntegralInRange(-1, 2);
      const int ndeps = in_.ConsumeIntegralInRange(0, 3);
      for (int k = 0; k < ndeps; ++k) {
        const ObjectId dep = in_.ConsumeIntegralInRange(0, 3) == 0 &&
                                     !in_batch.empty()
                                 ? Pick(in_batch)
                                 : AnyObject();
        if (!in_batch.contains(dep) && !Known(dep)) valid = false;
        d.deps.push_back(dep);
      }
      const int nborrowed = in_.ConsumeIntegralInRange(0, 7) == 0
                                ? in_.ConsumeIntegralInRange(1, 3)
                                : 0;
      for (int k = 0; k < nborrowed; ++k) {
        const ObjectId b = AnyObject();
        if (!in_batch.contains(b) && !Known(b)) valid = false;
        d.borrowed.push_back(b);
      }
      switch (in_.ConsumeIntegralInRange(0, 31)) {
        case 0:
          d.deps.push_back(d.id);  // itself
          valid = false;
          break;
        case 1:
          d.deps.push_back(next_object_);  // a later task of the batch
          valid = false;
          break;
        case 2:
          d.num_cpus = in_.ConsumeBool() ? 0 : 70000;
          valid = false;
          break;
        case 3:
          d.retries = in_.ConsumeBool() ? -1 : 40000;
          valid = false;
          break;
        case 4:
          if (!objects_.empty()) {
            d.id = objects_.back();  // taken
            valid = false;
          }
          break;
        default:
          break;
      }
      in_batch.insert(d.id);
      batch.push_back(std::move(d));
    }
    const absl::Status st = s_->SubmitTasks(c, batch);
    if (trace_) {
      for (const TaskDef& d : batch) {
        std::fprintf(stderr, "  client %lu submits %lu deps", (unsigned long)c,
                     (unsigned long)d.id);
        for (ObjectId id : d.deps) std::fprintf(stderr, " %lu", (unsigned long)id);
        std::fprintf(stderr, " borrowed");
        for (ObjectId id : d.borrowed) std::fprintf(stderr, " %lu", (unsigned long)id);
        std::fprintf(stderr, "\n");
      }
      std::fprintf(stderr, "  -> %s\n", st.ToString().c_str());
    }
    if (valid) FUZZ_CHECK(st.ok());
    if (st.ok()) {
      for (const TaskDef& d : batch) {
        held_[c].insert(d.id);
        objects_.push_back(d.id);
      }
    }
  }

  // Whether the scheduler still has `id` (a task or put that has not been
  // forgotten). A forgotten object reads as released and refuses AddRef;
  // probe with a client (AddRef is idempotent, so undo if it was new).
  bool Known(ObjectId id) {
    if (s_->StateOf(id) != TaskState::kReleased) return true;
    const ClientId probe = held_.begin()->first;
    if (held_[probe].contains(id)) return true;
    const absl::Status st = s_->AddRef(probe, id);
    Drain();  // an unknown object sends the probe ObjectFailed
    if (!st.ok()) return false;
    FUZZ_CHECK(s_->ReleaseRef(probe, id).ok());
    return true;
  }

  void FinishOne(bool fail) {
    if (!AnyTaskRunning()) return;
    const auto [w, id] = AnyRunning(in_.ConsumeIntegral<uint16_t>());
    FUZZ_CHECK(s_->ProcessingOn(id) == w);
    running_[w].erase(id);
    absl::Status st;
    if (fail) {
      st = s_->TaskFailed(
          w, id, s_->AttemptOf(id),
          ErrorInfo{ErrorKind::kTaskFailed, "", "", "E", "fuzzed"});
    } else {
      // Sometimes a result small enough to come inline, with its value.
      const uint64_t size = in_.ConsumeIntegralInRange<uint64_t>(1, 40);
      std::string value = in_.ConsumeBool() ? std::string(size, 'v') : "";
      st =
          s_->TaskFinished(w, id, s_->AttemptOf(id), size, std::move(value),
                           absl::Microseconds(in_.ConsumeIntegral<uint16_t>()));
    }
    FUZZ_CHECK(st.ok());
  }

  void LoseOrReplicate() {
    const ObjectId id = AnyObject();
    if (in_.ConsumeBool()) {
      std::vector<WorkerId> holders = s_->HoldersOf(id);
      const WorkerId w = holders.empty() || in_.ConsumeBool()
                             ? AnyWorker()
                             : Pick(holders);
      const bool holds =
          std::find(holders.begin(), holders.end(), w) != holders.end();
      FUZZ_CHECK(s_->ObjectLost(w, id).ok() == holds);
    } else {
      const WorkerId w = AnyWorker();
      const bool can = running_.contains(w) &&
                       s_->StateOf(id) == TaskState::kMemory;
      FUZZ_CHECK(s_->AddReplica(w, id).ok() == can);
    }
  }

  void ReleaseRef() {
    const ClientId c = AnyClient();
    const bool holds_any = held_.contains(c) && !held_[c].empty();
    const ObjectId id =
        holds_any && in_.ConsumeIntegralInRange(0, 7) != 0 ? Pick(held_[c])
                                                           : AnyObject();
    const bool holds = held_.contains(c) && held_[c].contains(id);
    FUZZ_CHECK(s_->ReleaseRef(c, id).ok() == holds);
    if (holds) held_[c].erase(id);
  }

  void AddRef() {
    const ClientId c = AnyClient();
    const ObjectId id = AnyObject();
    if (s_->AddRef(c, id).ok()) {
      FUZZ_CHECK(held_.contains(c));
      held_[c].insert(id);
    }
  }

  void CancelOne() {
    const ClientId c = AnyClient();
    const ObjectId id = held_.contains(c) && !held_[c].empty() &&
                                in_.ConsumeBool()
                            ? Pick(held_[c])
                            : AnyObject();
    const absl::Status st = s_->Cancel(c, id);
    if (held_.contains(c) && held_[c].contains(id)) FUZZ_CHECK(st.ok());
  }

  void AddPut() {
    const ClientId c = AnyClient();
    const ObjectId id = next_object_++;
    absl::Status st;
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0:  // whole inline, kept here
        st = s_->AddPut(c, id, 0, 1, "v");
        FUZZ_CHECK(st.ok() == held_.contains(c));
        break;
      case 1:  // holder 0 without the value: refused
        st = s_->AddPut(c, id, 0, 100, "");
        FUZZ_CHECK(!st.ok());
        break;
      default: {
        const WorkerId w = AnyWorker();
        const uint64_t size = in_.ConsumeIntegralInRange<uint64_t>(1, 1000);
        st = s_->AddPut(c, id, w, size, in_.ConsumeBool() ? "v" : "");
        FUZZ_CHECK(st.ok() == (held_.contains(c) && running_.contains(w)));
        break;
      }
    }
    if (st.ok()) {
      held_[c].insert(id);
      objects_.push_back(id);
    }
  }

  void ReplaceClient() {
    const ClientId c = Pick(held_).first;
    if (trace_) std::fprintf(stderr, "  client %lu leaves\n", (unsigned long)c);
    s_->RemoveClient(c);
    held_.erase(c);
    AddClient(next_client_++);
  }

  // A value (a task's result or a put) holds references to other objects.
  void AddContained() {
    const ClientId c = AnyClient();
    const ObjectId container = AnyObject();
    std::vector<ObjectId> objects;
    const int n = in_.ConsumeIntegralInRange(0, 3);
    for (int i = 0; i < n; ++i) {
      const bool from_held = held_.contains(c) && !held_[c].empty() &&
                             in_.ConsumeIntegralInRange(0, 3) != 0;
      objects.push_back(from_held ? Pick(held_[c]) : AnyObject());
    }
    const absl::Status st = s_->AddContained(c, container, objects);
    if (trace_) {
      std::fprintf(stderr, "  client %lu: %lu contains", (unsigned long)c,
                   (unsigned long)container);
      for (ObjectId id : objects) std::fprintf(stderr, " %lu", (unsigned long)id);
      std::fprintf(stderr, ": %s\n", st.ToString().c_str());
    }
    FUZZ_CHECK(st.ok() || st.code() == absl::StatusCode::kNotFound ||
               st.code() == absl::StatusCode::kFailedPrecondition);
    // Containing only older objects cannot close a cycle.
    for (ObjectId id : objects) {
      if (st.ok() && id >= container) maybe_cyclic_ = true;
    }
  }

  void Block() {
    if (AnyTaskRunning() && in_.ConsumeIntegralInRange(0, 3) != 0) {
      const auto [w, id] = AnyRunning(in_.ConsumeIntegral<uint16_t>());
      FUZZ_CHECK(
          s_->TaskBlocked(w, id, s_->AttemptOf(id), in_.ConsumeBool()).ok());
    } else {
      const WorkerId w = AnyWorker();
      const ObjectId id = AnyObject();
      const bool runs = running_.contains(w) && running_[w].contains(id);
      FUZZ_CHECK(
          s_->TaskBlocked(w, id, s_->AttemptOf(id), in_.ConsumeBool()).ok() ==
          runs);
    }
  }

  // Time passes; some workers report, the silent ones expire.
  void Heartbeats() {
    now_ += absl::Milliseconds(in_.ConsumeIntegralInRange(0, 8000));
    for (const auto& [w, ids] : running_) {
      if (in_.ConsumeBool()) {
        FUZZ_CHECK(s_->Heartbeat(w, now_, WorkerLoad{in_.ConsumeIntegral<
                                                         uint32_t>()})
                       .ok());
      }
    }
    FUZZ_CHECK(s_->Heartbeat(kStrayWorker, now_).code() ==
               absl::StatusCode::kNotFound);
    for (WorkerId w : s_->ExpiredWorkers(now_)) {
      FUZZ_CHECK(running_.contains(w));
      FUZZ_CHECK(s_->RemoveWorker(w, "expired").ok());
      removed_.insert(w);
      if (trace_) std::fprintf(stderr, "  worker %lu expires\n", (unsigned long)w);
      running_.erase(w);
    }
  }

  // Reports that do not match what the worker runs: refused, harmlessly.
  void Stray() {
    const WorkerId w = AnyWorker();
    const ObjectId id = AnyObject();
    if (running_.contains(w) && running_[w].contains(id)) return;
    FUZZ_CHECK(!s_->TaskFinished(w, id, s_->AttemptOf(id), 1, "").ok());
    FUZZ_CHECK(!s_->TaskFailed(w, id, s_->AttemptOf(id), {}).ok());
  }

  FuzzedDataProvider& in_;
  std::unique_ptr<SchedulerState> s_;
  std::map<ClientId, std::set<ObjectId>> held_;
  std::map<WorkerId, std::set<ObjectId>> running_;
  std::set<WorkerId> removed_;
  std::vector<ObjectId> objects_;
  absl::Time now_ = absl::UnixEpoch();
  bool maybe_cyclic_ = false;  // see Finish()
  // WEFT_FUZZ_TRACE=1: print each event and action, to read a reproducer.
  const bool trace_ = std::getenv("WEFT_FUZZ_TRACE") != nullptr;
  WorkerId next_worker_ = 1;
  ClientId next_client_ = 1;
  ObjectId next_object_ = 1;
};

}  // namespace
}  // namespace weft::scheduler

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  weft::scheduler::Sim sim(in);
  while (in.remaining_bytes() > 0) sim.Step();
  sim.Finish();
  return 0;
}
