// Copyright 2026 The weft Authors.
//
// The dashboard's data as JSON: what /status.json answers and what each
// live update (/events) carries. The page (assets/dashboard.js) reads it;
// docs/dashboard.md describes the fields.

#ifndef WEFT_SCHEDULER_DASHBOARD_UPDATES_H_
#define WEFT_SCHEDULER_DASHBOARD_UPDATES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "scheduler/dashboard/view.h"
#include "scheduler/telemetry.h"

namespace weft::dashboard {

// Where a page's stream of task events stands.
struct EventCursor {
  bool started = false;  // false: the first update, from the recent past
  uint64_t tasks = 0;
  uint64_t transfers = 0;
};

// One update: the cluster now (workers, progress per function, totals,
// recent failures, the graph if `view` has one) and the task runs and
// transfers recorded after `cursor`, which it advances. At most
// `max_events` of each kind are sent, the newest; the update says how many
// were skipped. A first update starts `max_events` back.
std::string UpdateJson(const ClusterView& view,
                       const scheduler::Telemetry& telemetry,
                       EventCursor& cursor, size_t max_events, absl::Time now);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_UPDATES_H_
