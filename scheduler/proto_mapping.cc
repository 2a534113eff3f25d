// Copyright 2026 The weft Authors.

#include "scheduler/proto_mapping.h"

#include "weft/actor_status.h"

namespace weft::scheduler {

TaskDef FromProto(const rpc::TaskDef& def) {
  TaskDef task;
  task.id = def.id();
  task.name = def.name();
  task.function = def.function();
  task.deps.assign(def.deps().begin(), def.deps().end());
  rpc::TaskDef args_only;
  *args_only.mutable_args() = def.args();
  task.args = args_only.SerializeAsString();
  task.retries = def.retries();
  task.num_cpus = def.num_cpus() <= 0 ? 1 : def.num_cpus();
  task.priority = def.priority();
  task.borrowed.assign(def.borrowed().begin(), def.borrowed().end());
  task.actor = def.actor_call().actor();
  return task;
}

void FillLocation(ObjectId id, uint64_t size,
                  const std::vector<WorkerId>& holders,
                  const std::string& inline_value,
                  absl::FunctionRef<std::string(WorkerId)> address_of,
                  rpc::Location& out) {
  out.set_id(id);
  out.set_size(size);
  out.set_inline_value(inline_value);
  for (WorkerId w : holders) {
    std::string address = address_of(w);
    if (!address.empty()) out.add_addresses(std::move(address));
  }
}

void ToProto(const AssignTask& assign,
             absl::FunctionRef<std::string(WorkerId)> address_of,
             rpc::Assignment& out) {
  rpc::TaskDef* task = out.mutable_task();
  task->ParseFromString(assign.task.args);  // the arguments
  task->set_id(assign.task.id);
  task->set_name(assign.task.name);
  task->set_function(assign.task.function);
  task->mutable_deps()->Add(assign.task.deps.begin(), assign.task.deps.end());
  task->set_retries(assign.task.retries);
  task->set_num_cpus(assign.task.num_cpus);
  task->set_priority(assign.task.priority);
  task->set_attempt(assign.task.attempt);
  if (assign.task.actor != 0) {
    rpc::ActorCall* call = task->mutable_actor_call();
    call->set_actor(assign.task.actor);
    call->set_caller(assign.task.caller);
    call->set_seq(assign.task.actor_seq);
    call->set_first_unfinished(assign.task.first_unfinished);
  }
  for (const DepLocation& dep : assign.deps) {
    rpc::Location& location = *out.add_deps();
    FillLocation(dep.object, dep.size_bytes, dep.holders, dep.inline_value,
                 address_of, location);
    location.set_keep(dep.keep);
  }
}

ActorDef FromProto(const rpc::ActorDef& def) {
  ActorDef actor;
  actor.id = def.id();
  actor.class_name = def.class_name();
  actor.name = def.name();
  rpc::ActorDef args_only;
  *args_only.mutable_args() = def.args();
  actor.args = args_only.SerializeAsString();
  actor.deps.assign(def.deps().begin(), def.deps().end());
  actor.borrowed.assign(def.borrowed().begin(), def.borrowed().end());
  actor.num_cpus = def.num_cpus();
  actor.max_restarts = def.max_restarts();
  actor.max_task_retries = def.max_task_retries();
  actor.max_concurrency = def.max_concurrency();
  return actor;
}

void ToProto(const PlaceActor& place,
             absl::FunctionRef<std::string(WorkerId)> address_of,
             rpc::ActorPlacement& out) {
  rpc::ActorDef* def = out.mutable_def();
  def->ParseFromString(place.def.args);  // the arguments
  def->set_id(place.def.id);
  def->set_class_name(place.def.class_name);
  def->set_name(place.def.name);
  def->mutable_deps()->Add(place.def.deps.begin(), place.def.deps.end());
  def->set_num_cpus(place.def.num_cpus);
  def->set_max_restarts(place.def.max_restarts);
  def->set_max_task_retries(place.def.max_task_retries);
  def->set_max_concurrency(place.def.max_concurrency);
  out.set_restarts(place.restarts);
  for (const DepLocation& dep : place.deps) {
    FillLocation(dep.object, dep.size_bytes, dep.holders, dep.inline_value,
                 address_of, *out.add_deps());
  }
}

void ToProto(const SchedulerState::ActorSummary& actor,
             const std::string& worker, rpc::ActorInfo& out) {
  out.set_id(actor.id);
  out.set_class_name(actor.class_name);
  out.set_name(actor.name);
  weft::ActorState state = weft::ActorState::kDead;
  switch (actor.state) {
    case ActorState::kPending:
    case ActorState::kCreating:
      state = actor.restarts > 0 ? weft::ActorState::kRestarting
                                 : weft::ActorState::kPending;
      break;
    case ActorState::kAlive:
      state = weft::ActorState::kAlive;
      break;
    case ActorState::kDead:
      state = weft::ActorState::kDead;
      break;
  }
  out.set_state(static_cast<int32_t>(state));
  out.set_restarts(actor.restarts);
  out.set_worker(worker);
  if (actor.death != nullptr) {
    rpc::ToProto(*actor.death, *out.mutable_death());
  }
}

WorkerRegistration FromProto(const rpc::WorkerInfo& info) {
  WorkerRegistration out;
  out.address = info.address();
  out.host = info.host();
  out.nthreads = info.nthreads();
  return out;
}

}  // namespace weft::scheduler
