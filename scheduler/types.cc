// Copyright 2026 The weft Authors.

#include "scheduler/types.h"

#include <iterator>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "weft/internal/enum_name.h"

namespace weft::scheduler {

const char* TaskStateName(TaskState state) {
  static constexpr const char* kNames[] = {"waiting",  "ready", "processing",
                                           "memory",   "erred", "released",
                                           "cancelled"};
  static_assert(std::size(kNames) == kNumTaskStates);
  return weft::internal::EnumName(state, kNames);
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
