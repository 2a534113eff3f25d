// Copyright 2026 The weft Authors.
//
// SchedulerState's internal transitions and the scheduling loop. The public
// events (scheduler_state.cc) validate their input and then call these; see
// docs/scheduler.md for the states and the rules they implement. Every walk
// over the graph uses an explicit stack, so long chains cannot overflow the
// call stack.

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "scheduler/scheduler_state.h"

namespace weft::scheduler {

void SchedulerState::Emit(Action action) {
  const Destination d = DestinationOf(action);
  if (d.is_worker) {
    last_action_of_[d.id] = static_cast<uint32_t>(actions_.size());
  }
  actions_.push_back(std::move(action));
}

void SchedulerState::EmitRelease(WorkerId worker, ObjectId object) {
  auto it = last_action_of_.find(worker);
  if (it != last_action_of_.end()) {
    if (auto* r = std::get_if<ReleaseObjects>(&actions_[it->second])) {
      r->objects.push_back(object);
      return;
    }
  }
  Emit(ReleaseObjects{worker, {object}});
}

void SchedulerState::AddHolder(Slot s, WorkerSlot w) {
  Task& t = tasks_[s];
  t.holders.push_back(w);
  internal::WorkerRecord& rec = pool_.at(w);
  rec.held_bytes += t.size_bytes;
  rec.held.Insert(s);
}

void SchedulerState::RemoveHolder(Slot s, WorkerSlot w) {
  Task& t = tasks_[s];
  auto it = std::find(t.holders.begin(), t.holders.end(), w);
  if (it == t.holders.end()) return;
  t.holders.erase(it);
  internal::WorkerRecord& rec = pool_.at(w);
  rec.held_bytes -= t.size_bytes;
  rec.held.Erase(s);
}

// Makes a released record pending again (or failed), first doing the same
// for every released input it needs: recomputation by lineage. Post-order
// walk: a record is finished after all the inputs it activated.
void SchedulerState::Activate(Slot root) {
  walk_.clear();
  walk_.emplace_back(root, false);
  while (!walk_.empty()) {
    const auto [s, expanded] = walk_.back();
    Task& t = tasks_[s];
    if (expanded) {
      walk_.pop_back();
      FinishActivation(s);
      continue;
    }
    if (t.state != TaskState::kReleased) {  // reached twice (a diamond)
      walk_.pop_back();
      continue;
    }
    if (!t.has_def) {
      walk_.pop_back();
      const std::string id = absl::StrCat(absl::Hex(t.id));
      FailWith(s, ErrorKind::kObjectLost, "ObjectLost",
               absl::StrCat("object ", id,
                            " was stored with put() and no copy is left "
                            "(it was released or lost); it cannot be "
                            "recomputed"));
      continue;
    }
    if (t.pinned && actors_.FindCall(s) == nullptr) {
      // Not a fresh call: a finished one whose value is gone.
      walk_.pop_back();
      FailWith(s, ErrorKind::kObjectLost, "ObjectLost",
               absl::StrCat("the result of actor call ", KeyOf(t),
                            " is gone (released or lost), and actor calls "
                            "are not re-run"));
      continue;
    }
    walk_.back().second = true;
    SetState(t, TaskState::kWaiting);  // provisional until FinishActivation
    t.activating = true;
    for (Slot dep : t.deps) {
      if (tasks_[dep].state == TaskState::kReleased) {
        walk_.emplace_back(dep, false);
      }
    }
    // Pending again: its arguments' references are held, and a released
    // one is needed again (recomputed; the task does not wait for it).
    HoldBorrowed(s);
    auto pins = borrow_pins_.find(s);
    if (pins != borrow_pins_.end()) {
      for (Slot b : pins->second) {
        if (tasks_[b].state == TaskState::kReleased) {
          walk_.emplace_back(b, false);
        }
      }
    }
  }
}

void SchedulerState::HoldBorrowed(Slot s) {
  auto ids = borrowed_ids_.find(s);
  if (ids == borrowed_ids_.end()) return;
  std::vector<Slot> pins;
  for (ObjectId id : ids->second) {
    // Gone (e.g. released before a recompute): the task's code gets an
    // ObjectLost error when it reads the reference.
    const Slot b = FindSlot(id);
    if (b == kNone || b == s) continue;
    tasks_[b].num_refs++;
    pins.push_back(b);
  }
  if (!pins.empty()) borrow_pins_[s] = std::move(pins);
}

void SchedulerState::DropPins(absl::flat_hash_map<Slot, std::vector<Slot>>& pins,
                              Slot s, std::vector<Slot>& unpinned) {
  auto it = pins.find(s);
  if (it == pins.end()) return;
  for (Slot target : it->second) {
    tasks_[target].num_refs--;
    unpinned.push_back(target);
  }
  pins.erase(it);
}

void SchedulerState::DropAllPins(Slot s, bool was_pending,
                                 std::vector<Slot>& unpinned) {
  if (was_pending) DropPins(borrow_pins_, s, unpinned);
  DropPins(contain_pins_, s, unpinned);
}

void SchedulerState::FinishActivation(Slot s) {
  Task& t = tasks_[s];
  t.activating = false;
  std::shared_ptr<const ErrorInfo> cause;
  uint32_t waiting = 0;
  for (Slot dep : t.deps) {
    Task& d = tasks_[dep];
    d.num_waiters++;
    if (d.state == TaskState::kErred || d.state == TaskState::kCancelled) {
      if (!cause) cause = errors_.at(dep);
    } else if (d.state != TaskState::kMemory) {
      ++waiting;
    }
  }
  t.waiting_on = waiting;
  if (cause) {
    Fail(s, std::move(cause));
  } else if (waiting == 0) {
    MakeReady(s);
  } else {
    SetState(t, TaskState::kWaiting);
  }
}

void SchedulerState::MakeReady(Slot s) {
  Task& t = tasks_[s];
  SetState(t, TaskState::kReady);
  if (t.pinned) {  // queued at its actor, not for any worker
    actors_.MarkDirty(actors_.FindCall(s)->actor);
    return;
  }
  ready_.push_back(ReadyEntry{t.priority, s, t.seq});
  std::push_heap(ready_.begin(), ready_.end(), ReadyLess());
}

TaskDef SchedulerState::DefOf(Slot s) const {
  const Task& t = tasks_[s];
  TaskDef def;
  def.id = t.id;
  def.name = strings_[t.name];
  def.function = strings_[t.function];
  def.deps.reserve(t.deps.size());
  for (Slot dep : t.deps) def.deps.push_back(tasks_[dep].id);
  def.args = t.args.str();
  def.retries = t.retries_left;
  def.num_cpus = t.num_cpus;
  def.priority = t.priority;
  def.attempt = t.attempt;
  if (t.pinned) {
    const ActorTable::Call* call = actors_.FindCall(s);
    def.actor = call->actor;
    def.caller = call->caller;
    def.actor_seq = call->seq;
    def.first_unfinished = actors_.FirstUnfinished(call->actor, call->caller);
  }
  return def;
}

std::vector<WorkerId> SchedulerState::HolderIds(const Task& t) const {
  std::vector<WorkerId> ids;
  ids.reserve(t.holders.size());
  for (WorkerSlot h : t.holders) ids.push_back(pool_.at(h).id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

DepLocation SchedulerState::LocationOf(Slot dep, WorkerSlot to) const {
  const Task& d = tasks_[dep];
  DepLocation loc;
  loc.object = d.id;
  loc.size_bytes = d.size_bytes;
  loc.holders = HolderIds(d);
  const bool held_there =
      std::find(d.holders.begin(), d.holders.end(), to) != d.holders.end();
  // A value sent inline with every task that takes it costs the scheduler
  // its bytes each time: 100,000 tasks that took one 8 KB put ran at
  // 16,000 a second, against 96,000 with an 8-byte one (cluster_bench).
  // Where many tasks take it, the worker keeps the first copy it gets.
  const bool many = to != kNone && d.dependents.size() > kScanSlots;
  if (many && held_there) return loc;  // its store has it
  auto it = inline_values_.find(dep);
  if (it != inline_values_.end()) {
    loc.inline_value = it->second.str();
    loc.keep = many;
  }
  return loc;
}

void SchedulerState::Assign(Slot s, WorkerSlot w) {
  Task& t = tasks_[s];
  SetState(t, TaskState::kProcessing);
  t.processing_on = w;
  if (++last_attempt_ == 0) last_attempt_ = 1;  // 0 means none
  t.attempt = last_attempt_;
  pool_.at(w).processing.Insert(s);
  t.blocked = false;
  pool_.AddLoad(w, ChargedCpus(t));
  if (t.pinned) actors_.SetAssigned(s, true);
  AssignTask a;
  a.worker = pool_.at(w).id;
  a.task = DefOf(s);
  a.deps.reserve(t.deps.size());
  for (Slot dep : t.deps) a.deps.push_back(LocationOf(dep, w));
  Emit(std::move(a));
}

void SchedulerState::Unassign(Slot s, bool send_cancel) {
  Task& t = tasks_[s];
  const WorkerSlot w = t.processing_on;
  pool_.RemoveLoad(w, ChargedCpus(t));
  pool_.at(w).processing.Erase(s);
  t.processing_on = kNone;
  t.blocked = false;
  if (t.pinned) actors_.SetAssigned(s, false);
  if (send_cancel) {
    Emit(CancelTasks{pool_.at(w).id, {TaskAttempt{t.id, t.attempt}}});
  }
  t.attempt = 0;
}

void SchedulerState::FailWith(Slot root, ErrorKind kind, std::string type,
                              std::string message) {
  Fail(root, std::make_shared<const ErrorInfo>(DetailFor(
                 tasks_[root], kind, std::move(type), std::move(message))));
}

// Fails `root` with `error`, and every pending record that depends on it,
// transitively, with the same root cause. `root` is pending, or released
// (a put that cannot be recomputed), or just left memory.
void SchedulerState::Fail(Slot root, std::shared_ptr<const ErrorInfo> error) {
  const TaskState terminal = error->kind == ErrorKind::kCancelled
                                 ? TaskState::kCancelled
                                 : TaskState::kErred;
  absl::InlinedVector<Slot, 16> stack{root};
  absl::InlinedVector<Slot, 16> touched;
  while (!stack.empty()) {
    const Slot s = stack.back();
    stack.pop_back();
    Task& t = tasks_[s];
    const bool pending = IsPending(t.state);
    if (s != root && !pending) continue;  // reached twice
    if (t.state == TaskState::kProcessing) Unassign(s, /*send_cancel=*/true);
    SetState(t, terminal);
    t.waiting_on = 0;
    errors_[s] = error;
    if (pending && t.pinned) CallLeftPending(s);
    if (pending) {
      for (Slot dep : t.deps) {
        tasks_[dep].num_waiters--;
        touched.push_back(dep);
      }
    }
    std::vector<Slot> unpinned;
    DropAllPins(s, pending, unpinned);
    touched.insert(touched.end(), unpinned.begin(), unpinned.end());
    NotifyFailed(s);
    touched.push_back(s);
    // A dependent still being activated is not counted as a waiter yet; it
    // sees this failure when its activation finishes.
    for (Slot d : t.dependents) {
      if (IsPending(tasks_[d].state) && !tasks_[d].activating) {
        stack.push_back(d);
      }
    }
  }
  for (Slot s : touched) MaybeRelease(s);
}

// Releases `s` if nothing needs it, then its inputs that this leaves
// unneeded; forgets what is no longer part of any lineage.
void SchedulerState::MaybeRelease(Slot start) {
  absl::InlinedVector<Slot, 16> stack{start};
  while (!stack.empty()) {
    const Slot s = stack.back();
    stack.pop_back();
    Task& t = tasks_[s];
    if (!t.live || IsNeeded(t)) continue;
    std::vector<Slot> unpinned;
    if (t.state == TaskState::kMemory) {
      for (WorkerSlot w : t.holders) EmitRelease(pool_.at(w).id, t.id);
      while (!t.holders.empty()) RemoveHolder(s, t.holders.back());
      inline_values_.erase(s);
      SetState(t, TaskState::kReleased);
      DropAllPins(s, /*was_pending=*/false, unpinned);
      if (!t.has_def && !actors_.empty()) AnchorReleased(s);
    } else if (IsPending(t.state)) {
      if (t.state == TaskState::kProcessing) Unassign(s, true);
      if (t.pinned) CallLeftPending(s);
      for (Slot dep : t.deps) {
        tasks_[dep].num_waiters--;
        stack.push_back(dep);
      }
      t.waiting_on = 0;
      SetState(t, TaskState::kReleased);
      DropAllPins(s, /*was_pending=*/true, unpinned);
    }
    stack.insert(stack.end(), unpinned.begin(), unpinned.end());
    MaybeForget(s);
  }
}

// Forgets `s` if it is finished with (released or failed), no client holds
// it and no record depends on it; then its inputs, which may now qualify.
void SchedulerState::MaybeForget(Slot start) {
  absl::InlinedVector<Slot, 16> stack{start};
  while (!stack.empty()) {
    const Slot s = stack.back();
    stack.pop_back();
    Task& t = tasks_[s];
    if (!t.live || t.num_refs > 0 || IsPending(t.state) ||
        t.state == TaskState::kMemory || !t.dependents.empty()) {
      continue;
    }
    for (Slot dep : t.deps) {
      RemoveDependent(dep, s);
      stack.push_back(dep);
    }
    FreeSlot(s);
  }
}

// `s` was in memory and its last copy is gone: it is now released, and its
// pending dependents wait for it again (a processing one is cancelled on
// its worker, which may not be able to fetch the input). Processing actor
// calls among them are appended to `cut_calls`.
void SchedulerState::LeaveMemory(Slot s, std::vector<Slot>& unpinned,
                                 std::vector<Slot>& cut_calls) {
  Task& t = tasks_[s];
  SetState(t, TaskState::kReleased);
  inline_values_.erase(s);
  // The references its value held go with the value (a recompute makes
  // new ones).
  DropAllPins(s, /*was_pending=*/false, unpinned);
  for (Slot d : t.dependents) {
    Task& dt = tasks_[d];
    if (!IsPending(dt.state)) continue;
    dt.waiting_on++;
    if (dt.state == TaskState::kProcessing) {
      Unassign(d, /*send_cancel=*/true);
      if (dt.pinned) cut_calls.push_back(d);
    }
    SetState(dt, TaskState::kWaiting);
  }
}

void SchedulerState::HandleLost(Slot s, const std::string& why) {
  std::vector<Slot> unpinned;
  std::vector<Slot> cut_calls;
  LeaveMemory(s, unpinned, cut_calls);
  // An actor call cut off from its input fails: run again after the input
  // is rebuilt, it would run after calls its caller made later.
  struct FailCutCalls {
    SchedulerState* state;
    std::vector<Slot>* slots;
    std::string input;
    ~FailCutCalls() {
      for (Slot c : *slots) {
        Task& ct = state->tasks_[c];
        if (!ct.live || !IsPending(ct.state)) continue;
        state->FailWith(
            c, ErrorKind::kObjectLost, "ObjectLost",
            absl::StrCat("input ", input, " of actor call ", state->KeyOf(ct),
                         " was lost while the call ran; an actor call is "
                         "not re-run after calls made later"));
      }
    }
  } fail_cut_calls{this, &cut_calls, KeyOf(tasks_[s])};
  // After this record's own fate is settled: an unpinned object may be an
  // input it still needs.
  struct ReleaseAfter {
    SchedulerState* state;
    std::vector<Slot>* slots;
    ~ReleaseAfter() {
      for (Slot u : *slots) state->MaybeRelease(u);
    }
  } release_after{this, &unpinned};
  Task& t = tasks_[s];
  if (!IsNeeded(t)) {
    MaybeRelease(s);
  } else if (t.has_def && !t.pinned) {
    Activate(s);  // recompute, with any lost inputs, from lineage
  } else if (t.pinned) {
    FailWith(s, ErrorKind::kObjectLost, "ObjectLost",
             absl::StrCat("the result of actor call ", KeyOf(t),
                          " was lost, and actor calls are not re-run: ", why));
  } else {
    FailWith(s, ErrorKind::kObjectLost, "ObjectLost",
             absl::StrCat("object ", absl::Hex(t.id),
                          " was stored with put() and its only copy was "
                          "lost: ",
                          why));
  }
}

void SchedulerState::NotifyClient(ClientId client, Slot s) {
  const Task& t = tasks_[s];
  if (t.state == TaskState::kMemory) {
    ObjectReady ready{client, t.id, t.size_bytes, {}, {}};
    if (auto it = inline_values_.find(s); it != inline_values_.end()) {
      ready.inline_value = it->second.str();
    }
    // A client fetches only a value that did not come whole inline
    // (rpc/cluster_runtime.cc, OnDone): for the rest, which tiny results
    // are, the holders are not named.
    if (ready.inline_value.size() != t.size_bytes) {
      ready.holders = HolderIds(t);
    }
    Emit(std::move(ready));
  } else if (t.state == TaskState::kErred ||
             t.state == TaskState::kCancelled) {
    Emit(ObjectFailed{client, t.id, *errors_.at(s)});
  }
}

void SchedulerState::NotifyReady(Slot s) {
  if (tasks_[s].num_refs == 0) return;
  for (ClientId client : holding_) {
    if (clients_.at(client).Contains(s)) NotifyClient(client, s);
  }
}

void SchedulerState::NotifyFailed(Slot s) { NotifyReady(s); }

std::optional<internal::WorkerSlot> SchedulerState::ChooseWorker(
    const Task& t, uint32_t saturation) {
  absl::InlinedVector<std::pair<WorkerSlot, uint64_t>, 8> bytes;
  for (Slot dep : t.deps) {
    const Task& d = tasks_[dep];
    for (WorkerSlot h : d.holders) {
      auto it = std::find_if(bytes.begin(), bytes.end(),
                             [h](const auto& p) { return p.first == h; });
      if (it == bytes.end()) {
        bytes.emplace_back(h, d.size_bytes);
      } else {
        it->second += d.size_bytes;
      }
    }
  }
  return pool_.Choose(bytes, t.num_cpus, saturation);
}

void SchedulerState::Schedule() {
  // Actors first: one placed now holds threads tasks then do not get.
  if (!actors_.empty()) ScheduleActors();
  // Tasks that fit no worker right now (num_cpus) are set aside and put
  // back; the cap bounds the work per event when many are stuck.
  constexpr size_t kMaxSkipped = 4096;
  std::vector<ReadyEntry> skipped;
  // Each task's in-flight limit depends on its function (SaturationFor);
  // no worker has room for any task when none has at the widest limit.
  const uint32_t widest = WidestSaturation();
  // The run of tiny tasks open in this pass (Options::pack_time): its
  // worker, function, and how many more tasks it takes.
  struct Run {
    WorkerSlot worker = kNone;
    uint32_t function = 0;
    uint32_t left = 0;
  } run;
  while (!ready_.empty() && pool_.AnyCapacity(widest)) {
    std::pop_heap(ready_.begin(), ready_.end(), ReadyLess());
    const ReadyEntry e = ready_.back();
    ready_.pop_back();
    const Task& t = tasks_[e.slot];
    if (!t.live || t.seq != e.seq || t.state != TaskState::kReady) continue;
    const uint32_t limit = SaturationFor(t.function);
    // Only one-cpu tasks without inputs (whose placement is by load alone)
    // are packed.
    const bool packable = t.num_cpus == 1 && t.deps.empty();
    if (packable && run.left > 0 && run.function == t.function &&
        pool_.Fits(run.worker, 1, limit)) {
      --run.left;
      Assign(e.slot, run.worker);
      continue;
    }
    std::optional<WorkerSlot> w = ChooseWorker(t, limit);
    if (!w && t.num_cpus == 1 && !pool_.AnyCapacity(limit)) {
      // Every worker is at this function's limit: the oldest ready task
      // waits, and so does what is queued behind it (FIFO within a
      // priority), instead of popping the whole queue at every event.
      ready_.push_back(e);
      std::push_heap(ready_.begin(), ready_.end(), ReadyLess());
      break;
    }
    if (!w) {
      skipped.push_back(e);
      if (skipped.size() >= kMaxSkipped) break;
      continue;
    }
    if (packable) {
      run = Run{*w, t.function, RunLengthFor(t.function) - 1};
    }
    Assign(e.slot, *w);
  }
  for (const ReadyEntry& e : skipped) {
    ready_.push_back(e);
    std::push_heap(ready_.begin(), ready_.end(), ReadyLess());
  }
  // Drop stale entries when they dominate, so the heap stays O(ready).
  if (ready_.size() > 1024 && ready_.size() > 2 * index_.size()) {
    std::vector<ReadyEntry> fresh;
    for (const ReadyEntry& e : ready_) {
      const Task& t = tasks_[e.slot];
      if (t.live && t.seq == e.seq && t.state == TaskState::kReady) {
        fresh.push_back(e);
      }
    }
    ready_ = std::move(fresh);
    std::make_heap(ready_.begin(), ready_.end(), ReadyLess());
  }
}

}  // namespace weft::scheduler
