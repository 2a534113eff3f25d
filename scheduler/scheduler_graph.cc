// Copyright 2026 The weft Authors.
//
// SchedulerState::Graph: the records of a small computation, for the
// dashboard's graph view.

#include "scheduler/scheduler_state.h"

namespace weft::scheduler {

std::optional<std::vector<GraphNode>> SchedulerState::Graph(
    size_t max_nodes) const {
  if (index_.size() > max_nodes || tasks_.size() > 64 * max_nodes) {
    return std::nullopt;
  }
  std::vector<GraphNode> out;
  out.reserve(index_.size());
  for (const Task& t : tasks_) {
    if (!t.live) continue;
    GraphNode node;
    node.id = t.id;
    if (t.has_def) {
      node.name = strings_[t.name];
      node.function = strings_[t.function];
    } else {
      node.name = "put";
    }
    node.state = t.state;
    node.deps.reserve(t.deps.size());
    for (Slot d : t.deps) node.deps.push_back(tasks_[d].id);
    out.push_back(std::move(node));
  }
  return out;
}

}  // namespace weft::scheduler
