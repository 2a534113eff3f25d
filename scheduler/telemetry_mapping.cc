// Copyright 2026 The weft Authors.

#include "scheduler/telemetry_mapping.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::scheduler {

void RecordWorkerMessage(const SchedulerState& state, WorkerId worker,
                         const rpc::WorkerMessage& message, absl::Time now,
                         Telemetry& telemetry) {
  if (message.results_size() > 0) {
    // The reports' names point into the state, which does not change
    // before RecordTasks has copied what it keeps.
    std::vector<TaskReport> runs;
    runs.reserve(message.results_size());
    std::vector<TransferEvent> transfers;
    for (int i = 0; i < message.results_size(); ++i) {
      const rpc::TaskResult& result = message.results(i);
      for (const rpc::TaskTransfer& t : result.transfers()) {
        TransferEvent& e = transfers.emplace_back();
        e.object = t.id();
        e.to = worker;
        e.thread = result.thread();
        e.from = t.from();
        e.bytes = t.bytes();
        e.path = t.path() == static_cast<int>(TransferPath::kSharedMemory)
                     ? TransferPath::kSharedMemory
                     : TransferPath::kNetwork;
        e.start_us = t.start_us();
        e.end_us = t.end_us();
      }
      std::string_view name, function;
      if (!state.NamesOf(result.id(), &name, &function)) continue;
      TaskReport& run = runs.emplace_back();
      run.task = result.id();
      run.name = name;
      run.function = function;
      run.thread = result.thread();
      run.start_us = result.start_us();
      run.end_us = std::max(result.end_us(), result.start_us());
      if (result.failed()) {
        run.failed = true;
        run.exception_type = result.error().exception_type();
        run.message = result.error().message();
      }
    }
    telemetry.RecordTasks(worker, runs, now);
    telemetry.RecordTransfers(transfers);
  }
  if (message.has_heartbeat()) {
    const rpc::Heartbeat& beat = message.heartbeat();
    telemetry.WorkerHeartbeat(worker, now, beat.cpu_seconds(),
                              beat.rss_bytes(), beat.executing());
  }
}

void FillTelemetryReply(const Telemetry& telemetry,
                        const rpc::TelemetryRequest& request,
                        rpc::TelemetryReply& reply) {
  if (request.from_now()) {
    reply.set_next_task_cursor(telemetry.task_cursor());
    reply.set_next_transfer_cursor(telemetry.transfer_cursor());
    return;
  }
  const size_t max = request.max_events() > 0 ? request.max_events()
                                              : kDefaultTelemetryEvents;
  uint64_t next = 0;
  uint64_t dropped = 0;
  for (const TaskEvent& e :
       telemetry.TasksSince(request.task_cursor(), max, &next, &dropped)) {
    rpc::TaskEvent* out = reply.add_tasks();
    out->set_id(e.task);
    out->set_name(e.name);
    out->set_function(e.function);
    out->set_worker(e.worker);
    out->set_thread(e.thread);
    out->set_start_us(e.start_us);
    out->set_end_us(e.end_us);
    out->set_failed(e.failed);
    out->set_exception_type(e.exception_type);
    out->set_message(e.message);
  }
  reply.set_next_task_cursor(next);
  uint64_t transfers_dropped = 0;
  for (const TransferEvent& e : telemetry.TransfersSince(
           request.transfer_cursor(), max, &next, &transfers_dropped)) {
    rpc::TransferEvent* out = reply.add_transfers();
    out->set_id(e.object);
    out->set_worker(e.to);
    out->set_thread(e.thread);
    out->set_from(e.from);
    out->set_bytes(e.bytes);
    out->set_path(static_cast<int>(e.path));
    out->set_start_us(e.start_us);
    out->set_end_us(e.end_us);
  }
  reply.set_next_transfer_cursor(next);
  reply.set_dropped(dropped + transfers_dropped);
}

}  // namespace weft::scheduler
