// Copyright 2026 The weft Authors.

#include "scheduler/actor_table.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "weft/internal/enum_name.h"

namespace weft::scheduler {

const char* ActorStateName(ActorState state) {
  static constexpr const char* kNames[] = {"pending", "creating", "alive",
                                           "dead"};
  static_assert(std::size(kNames) ==
                static_cast<size_t>(ActorState::kDead) + 1);
  return weft::internal::EnumName(state, kNames);
}

absl::Status ActorTable::Add(ActorDef def) {
  if (actors_.contains(def.id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("actor ", absl::Hex(def.id), " exists"));
  }
  if (!def.name.empty() && names_.contains(def.name)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "an actor named '", def.name, "' exists (", def.class_name, ")"));
  }
  const ActorId id = def.id;
  if (!def.name.empty()) names_[def.name] = id;
  Actor& actor = actors_[id];
  actor.def = std::move(def);
  pending_.insert(id);
  return absl::OkStatus();
}

ActorTable::Actor* ActorTable::Find(ActorId id) {
  auto it = actors_.find(id);
  return it == actors_.end() ? nullptr : &it->second;
}

const ActorTable::Actor* ActorTable::Find(ActorId id) const {
  auto it = actors_.find(id);
  return it == actors_.end() ? nullptr : &it->second;
}

ActorId ActorTable::Named(const std::string& name) const {
  auto it = names_.find(name);
  return it == names_.end() ? 0 : it->second;
}

void ActorTable::Erase(ActorId id) {
  auto it = actors_.find(id);
  if (it == actors_.end()) return;
  const std::string& name = it->second.def.name;
  auto named = names_.find(name);
  if (!name.empty() && named != names_.end() && named->second == id) {
    names_.erase(named);
  }
  pending_.erase(id);
  dirty_.erase(id);
  queues_.erase(id);
  last_seq_.erase(id);
  actors_.erase(it);
}

std::vector<ActorId> ActorTable::Ids() const {
  std::vector<ActorId> out;
  out.reserve(actors_.size());
  for (const auto& [id, actor] : actors_) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

void ActorTable::SetCreating(Actor& actor, internal::WorkerSlot worker,
                             uint32_t reserved) {
  actor.state = ActorState::kCreating;
  actor.worker = worker;
  actor.reserved = reserved;
  pending_.erase(actor.def.id);
}

void ActorTable::SetAlive(Actor& actor) {
  actor.state = ActorState::kAlive;
  dirty_.insert(actor.def.id);
}

void ActorTable::SetRestarting(Actor& actor) {
  actor.state = ActorState::kPending;
  actor.worker = kNoWorker;
  actor.reserved = 0;
  actor.restarts++;
  pending_.insert(actor.def.id);
}

void ActorTable::SetDead(Actor& actor,
                         std::shared_ptr<const ErrorInfo> why) {
  actor.state = ActorState::kDead;
  actor.worker = kNoWorker;
  actor.reserved = 0;
  actor.death = std::move(why);
  pending_.erase(actor.def.id);
  dirty_.erase(actor.def.id);
  auto named = names_.find(actor.def.name);
  if (!actor.def.name.empty() && named != names_.end() &&
      named->second == actor.def.id) {
    names_.erase(named);
  }
}

uint64_t ActorTable::AddCall(ActorId actor, ClientId caller, Slot slot) {
  const uint64_t seq = ++last_seq_[actor][caller];
  calls_[slot] = Call{actor, caller, seq, false};
  queues_[actor][caller][seq] = slot;
  return seq;
}

const ActorTable::Call* ActorTable::FindCall(Slot slot) const {
  auto it = calls_.find(slot);
  return it == calls_.end() ? nullptr : &it->second;
}

void ActorTable::SetAssigned(Slot slot, bool assigned) {
  auto it = calls_.find(slot);
  if (it != calls_.end()) it->second.assigned = assigned;
}

void ActorTable::RemoveCall(Slot slot) {
  auto it = calls_.find(slot);
  if (it == calls_.end()) return;
  const Call call = it->second;
  calls_.erase(it);
  auto queue = queues_.find(call.actor);
  if (queue != queues_.end()) {
    auto caller = queue->second.find(call.caller);
    if (caller != queue->second.end()) {
      caller->second.erase(call.seq);
      if (caller->second.empty()) queue->second.erase(caller);
    }
    if (queue->second.empty()) queues_.erase(queue);
  }
  // A call that never reached the worker may have held back later ones.
  if (!call.assigned) dirty_.insert(call.actor);
}

uint64_t ActorTable::FirstUnfinished(ActorId actor, ClientId caller) const {
  auto queue = queues_.find(actor);
  if (queue == queues_.end()) return 0;
  auto calls = queue->second.find(caller);
  if (calls == queue->second.end() || calls->second.empty()) return 0;
  return calls->second.begin()->first;
}

std::vector<ActorTable::Slot> ActorTable::CallsOf(ActorId actor) const {
  std::vector<Slot> out;
  auto queue = queues_.find(actor);
  if (queue == queues_.end()) return out;
  for (const auto& [caller, calls] : queue->second) {
    for (const auto& [seq, slot] : calls) out.push_back(slot);
  }
  return out;
}

std::vector<ActorTable::Slot> ActorTable::Dispatchable(
    ActorId actor, absl::FunctionRef<bool(Slot)> is_ready) const {
  std::vector<Slot> out;
  auto queue = queues_.find(actor);
  if (queue == queues_.end()) return out;
  for (const auto& [caller, calls] : queue->second) {
    for (const auto& [seq, slot] : calls) {
      if (calls_.at(slot).assigned) continue;
      if (!is_ready(slot)) break;
      out.push_back(slot);
    }
  }
  return out;
}

std::set<ActorId> ActorTable::TakeDirty() {
  std::set<ActorId> out;
  out.swap(dirty_);
  return out;
}

}  // namespace weft::scheduler
