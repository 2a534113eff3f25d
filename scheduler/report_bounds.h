// Copyright 2026 The weft Authors.
//
// Applies rpc/report_limits.h to what workers send the scheduler, before
// the state machine or the views see it. What is bounded, and how:
//   - a registration's thread count above kMaxWorkerThreads: clamped (the
//     worker gets at most that many tasks' CPUs at once);
//   - a heartbeat's memory and resident memory above
//     kMaxReportedMemoryBytes: clamped; a CPU time that is negative or not
//     finite: 0; negative task counts: 0;
//   - a result announcing more than kMaxObjectBytes, or more inline bytes
//     than its size: refused, the task failing with an error that names
//     the worker (retried if it has retries left);
//   - a fetched input's byte count above kMaxObjectBytes (the views'):
//     clamped.
// Each change yields a line for the log, naming the worker.

#ifndef WEFT_SCHEDULER_REPORT_BOUNDS_H_
#define WEFT_SCHEDULER_REPORT_BOUNDS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rpc/weft.pb.h"

namespace weft::scheduler {

// Bounds `info` (a worker's registration) in place; appends a line to
// `notes` for each value changed. `who` names the worker in them.
void BoundRegistration(rpc::WorkerInfo& info, const std::string& who,
                       std::vector<std::string>& notes);

// Returns null when `message` is within bounds (nothing is copied);
// otherwise a copy with the bounds applied, and a line in `notes` for
// each change.
std::unique_ptr<rpc::WorkerMessage> BoundWorkerMessage(
    const rpc::WorkerMessage& message, const std::string& who,
    std::vector<std::string>& notes);

// Why a result or put announcing `size` bytes, `inline_bytes` of them
// inline, cannot be true; empty if it can.
std::string ImpossibleObjectSize(uint64_t size, uint64_t inline_bytes);

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_REPORT_BOUNDS_H_
