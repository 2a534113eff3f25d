// Copyright 2026 The weft Authors.

#include "scheduler/proto_mapping.h"

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
  return task;
}

ErrorDetail FromProto(const rpc::Error& error) {
  ErrorDetail detail;
  const int kind = error.kind();
  detail.kind = kind >= 0 && kind <= static_cast<int>(kLastErrorKind)
                    ? static_cast<ErrorKind>(kind)
                    : ErrorKind::kTaskFailed;
  detail.task_name = error.task_name();
  detail.task_key = error.task_key();
  detail.exception_type = error.exception_type();
  detail.message = error.message();
  return detail;
}

void ToProto(const ErrorDetail& error, rpc::Error& out) {
  out.set_kind(static_cast<int32_t>(error.kind));
  out.set_task_name(error.task_name);
  out.set_task_key(error.task_key);
  out.set_exception_type(error.exception_type);
  out.set_message(error.message);
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
  for (const DepLocation& dep : assign.deps) {
    FillLocation(dep.object, dep.size_bytes, dep.holders, dep.inline_value,
                 address_of, *out.add_deps());
  }
}

WorkerInfo FromProto(const rpc::WorkerInfo& info) {
  WorkerInfo out;
  out.address = info.address();
  out.host = info.host();
  out.nthreads = info.nthreads();
  return out;
}

}  // namespace weft::scheduler
