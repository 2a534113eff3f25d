// Copyright 2026 The weft Authors.
//
// SchedulerState's actors: the events that create, place, restart and end
// them, and the glue between the actor table (actor_table.h) and the task
// records of their method calls. See docs/scheduler.md, "Actors".

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scheduler/scheduler_state.h"
#include "weft/internal/status_macros.h"

namespace weft::scheduler {

namespace {

std::string Hex(uint64_t id) { return absl::StrCat(absl::Hex(id)); }

std::string Limit(int n) {
  return n < 0 ? std::string("no limit") : absl::StrCat(n);
}

}  // namespace

// --- Events ----------------------------------------------------------------

absl::Status SchedulerState::CreateActor(ClientId client, ActorDef def) {
  WEFT_ASSIGN_OR_RETURN(internal::SlotSet * client_refs, RefsOf(client));
  const std::string what =
      absl::StrCat("actor ", weft::internal::MakeKey(def.class_name, def.id));
  if (def.class_name.empty()) {
    return absl::InvalidArgumentError(what + ": no class name");
  }
  if (def.num_cpus < 0 || def.num_cpus > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": num_cpus must be in [0, 65535], got ", def.num_cpus));
  }
  if (def.max_concurrency < 1 ||
      def.max_concurrency > ActorDef::kMaxConcurrency) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": max_concurrency must be in [1, ", ActorDef::kMaxConcurrency,
        "], got ", def.max_concurrency));
  }
  if (def.max_restarts < -1 || def.max_task_retries < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": max_restarts and max_task_retries must be -1 "
                           "(no limit) or more, got ",
                     def.max_restarts, " and ", def.max_task_retries));
  }
  if (index_.Contains(def.id) || actors_.Find(def.id) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat(what, ": object ", Hex(def.id), " already exists"));
  }
  if (!def.name.empty() && actors_.Named(def.name) != 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        what, ": a live actor is already named '", def.name, "'"));
  }
  std::vector<Slot> pins;
  for (const std::vector<ObjectId>* ids : {&def.deps, &def.borrowed}) {
    for (ObjectId id : *ids) {
      const Slot p = FindSlot(id);
      if (p == kNone) {
        return absl::NotFoundError(absl::StrCat(
            what, ": its arguments refer to unknown object ", Hex(id)));
      }
      pins.push_back(p);
    }
  }
  std::sort(pins.begin(), pins.end());
  pins.erase(std::unique(pins.begin(), pins.end()), pins.end());
  // The anchor: a value kept here (empty), referenced by the creator.
  const Slot s = NewSlot();
  Task& t = tasks_[s];
  t.id = def.id;
  index_.Insert(s);
  t.seq = next_seq_++;
  SetState(t, TaskState::kMemory);
  t.kept = true;
  inline_values_[s] = internal::CompactBytes(std::string());
  AddClientRef(client, *client_refs, s);
  t.num_refs = 1;
  const ActorId id = def.id;
  WEFT_RETURN_IF_ERROR(actors_.Add(std::move(def)));  // (checked above)
  Actor& actor = *actors_.Find(id);
  for (Slot p : pins) tasks_[p].num_refs++;
  actor.pins = pins;
  // An input kept only as lineage is needed again: recomputed (or failed).
  for (Slot p : pins) {
    if (tasks_[p].state == TaskState::kReleased) Activate(p);
  }
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::ActorCreated(WorkerId worker, ActorId id) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  Actor* actor = actors_.Find(id);
  if (actor == nullptr || actor->state != ActorState::kCreating ||
      actor->worker != *ws) {
    // An instance nobody wants (the actor was killed or released while
    // its constructor ran): the worker drops it.
    Emit(StopActor{worker, id});
    return absl::FailedPreconditionError(absl::StrCat(
        "actor ", Hex(id), " is not being created on worker ", worker));
  }
  actors_.SetAlive(*actor);
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::ActorCreationFailed(WorkerId worker, ActorId id,
                                                 ErrorInfo error) {
  std::optional<WorkerSlot> ws = pool_.Find(worker);
  if (!ws) return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  Actor* actor = actors_.Find(id);
  if (actor == nullptr || actor->state != ActorState::kCreating ||
      actor->worker != *ws) {
    return absl::FailedPreconditionError(absl::StrCat(
        "actor ", Hex(id), " is not being created on worker ", worker));
  }
  ActorDied(*actor,
            ActorError(*actor, error.exception_type,
                       absl::StrCat("its constructor failed on worker ",
                                    worker, ": ", error.message)),
            /*tell_worker=*/false);
  AfterEvent();
  return absl::OkStatus();
}

absl::Status SchedulerState::KillActor(ClientId client, ActorId id) {
  WEFT_RETURN_IF_ERROR(RefsOf(client).status());
  Actor* actor = actors_.Find(id);
  if (actor == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown actor ", Hex(id)));
  }
  if (actor->state == ActorState::kDead) return absl::OkStatus();
  ActorDied(*actor,
            ActorError(*actor, "ActorDiedError",
                       absl::StrCat("it was killed by client ", client)),
            /*tell_worker=*/true);
  AfterEvent();
  return absl::OkStatus();
}

std::optional<SchedulerState::ActorSummary> SchedulerState::ActorInfo(
    ActorId id) const {
  const Actor* actor = actors_.Find(id);
  if (actor == nullptr) return std::nullopt;
  ActorSummary out;
  out.id = id;
  out.class_name = actor->def.class_name;
  out.name = actor->def.name;
  out.state = actor->state;
  out.restarts = actor->restarts;
  if (actor->worker != ActorTable::kNoWorker) {
    out.worker = pool_.at(actor->worker).id;
  }
  out.death = actor->death;
  return out;
}

// --- Transitions -----------------------------------------------------------

std::shared_ptr<const ErrorInfo> SchedulerState::ActorError(
    const Actor& actor, std::string type, std::string message) const {
  ErrorInfo d;
  d.kind = ErrorKind::kActorDied;
  d.task_name = actor.def.class_name;
  d.task_key = weft::internal::MakeKey(actor.def.class_name, actor.def.id);
  d.exception_type = std::move(type);
  d.message = absl::StrCat("actor ", d.task_key, " is dead: ", message);
  return std::make_shared<const ErrorInfo>(std::move(d));
}

void SchedulerState::ActorDied(Actor& actor,
                               std::shared_ptr<const ErrorInfo> why,
                               bool tell_worker) {
  const ActorId id = actor.def.id;
  if (actor.worker != ActorTable::kNoWorker) {
    if (tell_worker) {
      Emit(StopActor{pool_.at(actor.worker).id, id});
    }
    pool_.Unreserve(actor.worker, actor.reserved);
  }
  std::vector<Slot> pins;
  pins.swap(actor.pins);
  actors_.SetDead(actor, why);
  // Every unfinished call fails with the actor's death (a processing one
  // is cancelled on the worker). A call may already have failed in the
  // cascade of an earlier one it depends on.
  for (Slot c : actors_.CallsOf(id)) {
    if (tasks_[c].live && IsPending(tasks_[c].state)) Fail(c, why);
  }
  for (Slot p : pins) tasks_[p].num_refs--;
  for (Slot p : pins) MaybeRelease(p);
}

void SchedulerState::ActorsLostWorker(WorkerSlot ws, const std::string& why) {
  if (pool_.at(ws).num_actors == 0) return;
  for (ActorId id : actors_.Ids()) {
    Actor& actor = *actors_.Find(id);
    if (actor.worker != ws) continue;
    pool_.Unreserve(ws, actor.reserved);
    if (actor.def.max_restarts < 0 ||
        actor.restarts < actor.def.max_restarts) {
      // Its constructor runs again on another worker: its state is lost.
      actors_.SetRestarting(actor);
      continue;
    }
    actor.worker = ActorTable::kNoWorker;  // unreserved above
    ActorDied(actor,
              ActorError(actor, "ActorDiedError",
                         absl::StrCat("its worker died (", why,
                                      ") after it was restarted ",
                                      actor.restarts, " times (max_restarts ",
                                      Limit(actor.def.max_restarts), ")")),
              /*tell_worker=*/false);
  }
}

bool SchedulerState::RetryCall(Slot s, const std::string& why) {
  Task& t = tasks_[s];
  const ActorTable::Call* call = actors_.FindCall(s);
  const Actor& actor = *actors_.Find(call->actor);
  const int retries = actor.def.max_task_retries;
  if (retries < 0 || t.deaths <= retries) return true;
  Fail(s,
       ActorError(actor, "ActorDiedError",
                  absl::StrCat("call ", KeyOf(t),
                               " was running when the actor's worker died "
                               "(",
                               why, "), ", t.deaths,
                               " times, and max_task_retries is ", retries)));
  return false;
}

void SchedulerState::CallLeftPending(Slot s) { actors_.RemoveCall(s); }

void SchedulerState::AnchorReleased(Slot s) {
  Actor* actor = actors_.Find(tasks_[s].id);
  if (actor == nullptr || actor->state == ActorState::kDead) return;
  ActorDied(*actor,
            ActorError(*actor, "ActorDiedError",
                       "every handle to it was released"),
            /*tell_worker=*/true);
}

void SchedulerState::ScheduleActors() {
  // Copies: placing or failing changes the sets.
  const std::set<ActorId> pending = actors_.pending();
  for (ActorId id : pending) {
    Actor* actor = actors_.Find(id);
    if (actor != nullptr && actor->state == ActorState::kPending) {
      TryPlace(*actor);
    }
  }
  for (ActorId id : actors_.TakeDirty()) DispatchCalls(id);
}

void SchedulerState::TryPlace(Actor& actor) {
  std::vector<Slot> inputs;
  inputs.reserve(actor.def.deps.size());
  for (ObjectId dep : actor.def.deps) {
    const Slot d = FindSlot(dep);  // pinned, so it exists
    const Task& dt = tasks_[d];
    if (dt.state == TaskState::kErred || dt.state == TaskState::kCancelled) {
      const ErrorInfo& cause = *errors_.at(d);
      ActorDied(actor,
                ActorError(actor, cause.exception_type,
                           absl::StrCat("its constructor's input ",
                                        cause.task_key, " failed: ",
                                        cause.message)),
                /*tell_worker=*/false);
      return;
    }
    if (dt.state != TaskState::kMemory) return;  // not yet
    inputs.push_back(d);
  }
  // The worker with the smallest share of its threads reserved, then the
  // fewest actors, then the least loaded, then the lowest id.
  const uint32_t need =
      pool_.Reservation(static_cast<uint32_t>(actor.def.num_cpus));
  std::optional<WorkerSlot> best;
  for (WorkerSlot w : pool_.SlotsById()) {
    if (!pool_.CanReserve(w, need)) continue;
    if (!best) {
      best = w;
      continue;
    }
    const internal::WorkerRecord& a = pool_.at(w);
    const internal::WorkerRecord& b = pool_.at(*best);
    const uint64_t ra = uint64_t{a.reserved_cpus} * b.info.nthreads;
    const uint64_t rb = uint64_t{b.reserved_cpus} * a.info.nthreads;
    const uint64_t la = uint64_t{a.used_cpus} * b.info.nthreads;
    const uint64_t lb = uint64_t{b.used_cpus} * a.info.nthreads;
    if (std::tie(ra, a.num_actors, la) < std::tie(rb, b.num_actors, lb)) {
      best = w;
    }
  }
  if (!best) return;  // no room now; tried again after every event
  pool_.Reserve(*best, need);
  actors_.SetCreating(actor, *best, need);
  PlaceActor place;
  place.worker = pool_.at(*best).id;
  place.def = actor.def;
  place.restarts = actor.restarts;
  place.deps.reserve(inputs.size());
  for (Slot d : inputs) place.deps.push_back(LocationOf(d));
  Emit(std::move(place));
}

void SchedulerState::DispatchCalls(ActorId id) {
  const Actor* actor = actors_.Find(id);
  if (actor == nullptr || actor->state != ActorState::kAlive) return;
  const WorkerSlot worker = actor->worker;
  for (Slot s : actors_.Dispatchable(id, [&](Slot c) {
         return tasks_[c].state == TaskState::kReady;
       })) {
    Assign(s, worker);
  }
}

// --- Invariants ------------------------------------------------------------

void SchedulerState::CheckActorInvariants(std::vector<uint32_t>& refs) const {
  std::vector<uint32_t> reserved(pool_.slot_limit(), 0);
  std::vector<uint32_t> placed(pool_.slot_limit(), 0);
  for (ActorId id : actors_.Ids()) {
    const Actor& a = *actors_.Find(id);
    const std::string what = absl::StrCat(
        "actor ", weft::internal::MakeKey(a.def.class_name, id), " (",
        ActorStateName(a.state), "): ");
    const Slot anchor = FindSlot(id);
    if (anchor == kNone) Violation(what + "no anchor");
    const Task& at = tasks_[anchor];
    if (at.has_def) Violation(what + "its anchor is a task");
    if (a.state != ActorState::kDead &&
        (at.state != TaskState::kMemory || !at.kept)) {
      Violation(what + "its anchor is not a kept value");
    }
    if ((a.state == ActorState::kDead) != (a.death != nullptr)) {
      Violation(what + "a cause of death exactly when dead");
    }
    if ((a.state == ActorState::kPending) != actors_.pending().contains(id)) {
      Violation(what + "pending set");
    }
    const bool named_here =
        !a.def.name.empty() && actors_.Named(a.def.name) == id;
    if (!a.def.name.empty() && (a.state != ActorState::kDead) != named_here) {
      Violation(what + "name index");
    }
    if (a.state == ActorState::kDead && !a.pins.empty()) {
      Violation(what + "dead and still pinning objects");
    }
    if (!Distinct(a.pins)) Violation(what + "pins an object twice");
    for (Slot p : a.pins) {
      if (p >= tasks_.size() || !tasks_[p].live || p == anchor) {
        Violation(absl::StrCat(what, "pins a bad slot ", p));
      }
      refs[p]++;
    }
    const bool is_placed = a.state == ActorState::kCreating ||
                           a.state == ActorState::kAlive;
    if (is_placed != (a.worker != ActorTable::kNoWorker)) {
      Violation(what + "a worker exactly when creating or alive");
    }
    if (is_placed) {
      if (a.worker >= pool_.slot_limit() || !pool_.at(a.worker).live) {
        Violation(what + "on a dead worker");
      }
      reserved[a.worker] += a.reserved;
      placed[a.worker]++;
      if (a.reserved > static_cast<uint32_t>(a.def.num_cpus)) {
        Violation(what + "holds more threads than it asked for");
      }
    } else if (a.reserved != 0) {
      Violation(what + "holds threads while not placed");
    }
    if (a.state == ActorState::kDead && !actors_.CallsOf(id).empty()) {
      Violation(what + "dead with unfinished calls");
    }
    // Nothing left that could be done now.
    if (a.state == ActorState::kAlive &&
        !actors_
             .Dispatchable(id,
                           [&](Slot c) {
                             return tasks_[c].state == TaskState::kReady;
                           })
             .empty()) {
      Violation(what + "a call could go to its worker and did not");
    }
    if (a.state == ActorState::kPending) {
      bool inputs_ready = true;
      for (ObjectId dep : a.def.deps) {
        const Slot d = FindSlot(dep);
        if (d == kNone) Violation(what + "an input was forgotten");
        inputs_ready &= tasks_[d].state == TaskState::kMemory;
      }
      const uint32_t need =
          pool_.Reservation(static_cast<uint32_t>(a.def.num_cpus));
      for (WorkerSlot w : pool_.SlotsById()) {
        if (inputs_ready && pool_.CanReserve(w, need)) {
          Violation(what + "could be placed and was not");
        }
      }
    }
  }
  for (WorkerSlot w = 0; w < pool_.slot_limit(); ++w) {
    const internal::WorkerRecord& rec = pool_.at(w);
    if (!rec.live) continue;
    if (rec.reserved_cpus != reserved[w] || rec.num_actors != placed[w]) {
      Violation(absl::StrCat("worker ", rec.id, ": actor reservations"));
    }
  }
  // Unfinished calls: live pending call records of live actors; on the
  // worker exactly while processing there; per caller, those on the worker
  // come first.
  for (const auto& [slot, call] : actors_.calls()) {
    if (slot >= tasks_.size() || !tasks_[slot].live ||
        !tasks_[slot].pinned || !IsPending(tasks_[slot].state)) {
      Violation(absl::StrCat("stale actor call in slot ", slot));
    }
    const Actor* a = actors_.Find(call.actor);
    if (a == nullptr || a->state == ActorState::kDead) {
      Violation(absl::StrCat("an unfinished call of a dead actor in slot ",
                             slot));
    }
    const Task& t = tasks_[slot];
    if (call.assigned != (t.state == TaskState::kProcessing)) {
      Violation(absl::StrCat("actor call in slot ", slot,
                             ": assigned exactly while processing"));
    }
    if (call.assigned &&
        (a->state != ActorState::kAlive || t.processing_on != a->worker)) {
      Violation(absl::StrCat("actor call in slot ", slot,
                             " processing away from its actor"));
    }
  }
  for (ActorId id : actors_.Ids()) {
    std::map<ClientId, bool> seen_unassigned;
    for (Slot c : actors_.CallsOf(id)) {
      const ActorTable::Call& call = *actors_.FindCall(c);
      if (call.assigned && seen_unassigned[call.caller]) {
        Violation(absl::StrCat("actor ", Hex(id), ": a call of client ",
                               call.caller,
                               " reached the worker before an earlier one"));
      }
      if (!call.assigned) seen_unassigned[call.caller] = true;
    }
  }
}

void SchedulerState::CheckCallInvariants(Slot s) const {
  const Task& t = tasks_[s];
  if (t.pinned && !t.has_def) {
    Violation(absl::StrCat("slot ", s, ": an actor call without definition"));
  }
  const bool tracked = actors_.FindCall(s) != nullptr;
  if ((t.pinned && IsPending(t.state)) != tracked) {
    Violation(absl::StrCat("slot ", s,
                           ": an actor call is tracked exactly while "
                           "pending"));
  }
}

}  // namespace weft::scheduler
