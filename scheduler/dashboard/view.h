// Copyright 2026 The weft Authors.
//
// What the dashboard and /metrics show, and where it comes from: a
// ViewSource (the scheduler service) answers a ClusterView (a copy of the
// state machine's counts and workers, taken under its lock) and lends its
// Telemetry (scheduler/telemetry.h), which has its own lock.

#ifndef WEFT_SCHEDULER_DASHBOARD_VIEW_H_
#define WEFT_SCHEDULER_DASHBOARD_VIEW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/scheduler_state.h"
#include "scheduler/telemetry.h"

namespace weft::dashboard {

// A worker as the views show it: its identity and heartbeats (the
// telemetry's WorkerView), and the state machine's account of its work.
struct WorkerRow : scheduler::WorkerView {
  uint32_t processing = 0;  // assigned and not finished (running + queued)
  uint64_t objects = 0;     // objects it holds
  uint64_t held_bytes = 0;  // their sizes
};

struct ClusterView {
  int64_t now_us = 0;    // the scheduler's clock
  std::string address;   // the scheduler's host:port
  size_t clients = 0;    // connected now
  // Records by state (indexed by scheduler::TaskState) per function; puts
  // under "put".
  std::vector<std::pair<std::string, scheduler::SchedulerState::StateCounts>>
      counts;
  std::vector<WorkerRow> workers;  // by id
  // The graph, when asked for and small enough (SchedulerState::Graph).
  std::optional<std::vector<scheduler::GraphNode>> graph;
  // The scheduler process's own CPU time and resident memory.
  double scheduler_cpu_seconds = 0;
  uint64_t scheduler_rss_bytes = 0;
};

// Thread-safe.
class ViewSource {
 public:
  virtual ~ViewSource() = default;
  // The cluster now; with the graph of at most `graph_nodes` records if
  // `graph_nodes` > 0.
  virtual ClusterView View(size_t graph_nodes) = 0;
  // Lives as long as the source.
  virtual const scheduler::Telemetry& telemetry() = 0;
};

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_VIEW_H_
