// Copyright 2026 The weft Authors.

#include "scheduler/types.h"

#include "absl/strings/str_cat.h"

namespace weft::scheduler {

const char* TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kWaiting:
      return "waiting";
    case TaskState::kReady:
      return "ready";
    case TaskState::kProcessing:
      return "processing";
    case TaskState::kMemory:
      return "memory";
    case TaskState::kErred:
      return "erred";
    case TaskState::kReleased:
      return "released";
    case TaskState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string TaskKey(const std::string& name, ObjectId id) {
  // The same spelling as the client's keys (weft::internal::MakeKey).
  return absl::StrCat(name, "-", absl::Hex(id, absl::kZeroPad16));
}

Destination DestinationOf(const Action& action) {
  struct Visitor {
    Destination operator()(const AssignTask& a) const { return {true, a.worker}; }
    Destination operator()(const ReleaseObjects& a) const {
      return {true, a.worker};
    }
    Destination operator()(const CancelTasks& a) const {
      return {true, a.worker};
    }
    Destination operator()(const ObjectReady& a) const {
      return {false, a.client};
    }
    Destination operator()(const ObjectFailed& a) const {
      return {false, a.client};
    }
    Destination operator()(const ReplicateObject& a) const {
      return {true, a.worker};
    }
    Destination operator()(const WorkerRetired& a) const {
      return {true, a.worker};
    }
  };
  return std::visit(Visitor{}, action);
}

}  // namespace weft::scheduler
