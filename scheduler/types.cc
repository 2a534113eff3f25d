// Copyright 2026 The weft Authors.

#include "scheduler/types.h"

#include <type_traits>
#include <variant>

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

Destination DestinationOf(const Action& action) {
  // Each action names exactly one of a worker or a client.
  return std::visit(
      [](const auto& a) -> Destination {
        using A = std::decay_t<decltype(a)>;
        constexpr bool kToWorker = requires(const A& x) { x.worker; };
        static_assert(kToWorker != requires(const A& x) { x.client; },
                      "an action is for a worker or for a client");
        if constexpr (kToWorker) {
          return {true, a.worker};
        } else {
          return {false, a.client};
        }
      },
      action);
}

}  // namespace weft::scheduler
