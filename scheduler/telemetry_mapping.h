// Copyright 2026 The weft Authors.
//
// Between the wire and Telemetry (scheduler/telemetry.h): what a worker's
// message tells the scheduler's views, and a client's request for the
// recorded events (weft::performance_report and weft::trace on a cluster).

#ifndef WEFT_SCHEDULER_TELEMETRY_MAPPING_H_
#define WEFT_SCHEDULER_TELEMETRY_MAPPING_H_

#include "absl/time/time.h"
#include "rpc/weft.pb.h"
#include "scheduler/scheduler_state.h"
#include "scheduler/telemetry.h"

namespace weft::scheduler {

// Records the task runs, fetched inputs and heartbeat in `message` from
// `worker`, received at `now`. Runs of tasks `state` no longer knows are
// not recorded (nothing names them). REQUIRES: called before the message's
// results reach `state` (so that it still knows their tasks).
void RecordWorkerMessage(const SchedulerState& state, WorkerId worker,
                         const rpc::WorkerMessage& message, absl::Time now,
                         Telemetry& telemetry);

// Task runs and transfers per telemetry request, when it names no maximum.
inline constexpr uint32_t kDefaultTelemetryEvents = 50000;

// Answers a client's TelemetryRequest.
void FillTelemetryReply(const Telemetry& telemetry,
                        const rpc::TelemetryRequest& request,
                        rpc::TelemetryReply& reply);

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_TELEMETRY_MAPPING_H_
