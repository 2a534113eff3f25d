// Copyright 2026 The weft Authors.
//
// The files weft::performance_report and weft::trace write (weft/report.h),
// from the task runs and transfers a runtime recorded
// (weft/internal/task_events.h):
//
//  - PerformanceReportHtml: one self-contained HTML page (scripts, styles
//    and data inside it; nothing fetched): a summary, the task stream (a
//    row per worker thread, a bar per run coloured by function, transfers
//    marked), time per function, worker utilisation, transfers by path
//    and between workers, failures.
//  - ChromeTraceJson: the same runs and transfers in the Trace Event
//    Format that chrome://tracing and ui.perfetto.dev open: a process per
//    worker, a thread per task slot, a complete ("X") event per run or
//    transfer, times in microseconds from the report's start.

#ifndef WEFT_SCHEDULER_DASHBOARD_REPORT_H_
#define WEFT_SCHEDULER_DASHBOARD_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "weft/internal/runtime.h"
#include "weft/internal/task_events.h"
#include "weft/worker_status.h"

namespace weft::dashboard {

struct ReportInput {
  std::string runtime;    // what ran it, e.g. "LocalCluster at 127.0.0.1:4000"
  std::string dashboard;  // the live dashboard's URL, or ""
  int64_t start_us = 0;   // the recorded span, µs since the Unix epoch
  int64_t end_us = 0;
  // Workers at the end (runs on workers not listed get rows too).
  std::vector<WorkerStatus> workers;
  internal::EventBatch events;
};

// Task runs drawn in a report's task stream at most (the newest); the
// tables count every run.
inline constexpr size_t kMaxReportStreamRuns = 100000;

std::string PerformanceReportHtml(const ReportInput& input);
std::string ChromeTraceJson(const ReportInput& input);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_REPORT_H_
