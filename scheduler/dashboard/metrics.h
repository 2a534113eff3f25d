// Copyright 2026 The weft Authors.
//
// The scheduler's metrics in Prometheus's text exposition format (version
// 0.0.4), served at /metrics: tasks by state and function, finished and
// failed tasks and their durations (histograms) per function, throughput,
// per-worker threads, tasks, memory and CPU, bytes moved by path,
// connections and removals, and the scheduler process's own CPU and memory.
// docs/dashboard.md lists every metric.

#ifndef WEFT_SCHEDULER_DASHBOARD_METRICS_H_
#define WEFT_SCHEDULER_DASHBOARD_METRICS_H_

#include <cstdint>
#include <string>

#include "scheduler/dashboard/view.h"
#include "scheduler/telemetry.h"

namespace weft::dashboard {

// What the dashboard's server itself counts.
struct ServerCounts {
  uint64_t streams_open = 0;       // live-update streams (browsers) now
  uint64_t requests = 0;           // HTTP requests answered
  uint64_t refused = 0;            // requests refused for want of the token
};

// The exposition text. `now` is the scheduler's clock (for throughput).
std::string MetricsText(const ClusterView& view,
                        const scheduler::Telemetry& telemetry,
                        const ServerCounts& server, absl::Time now);

// The Content-Type of MetricsText.
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_METRICS_H_
