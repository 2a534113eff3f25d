// Copyright 2026 The weft Authors.
//
// Records of what a program's tasks did, for batch jobs that nobody
// watches live (the dashboard is for those that run while you look; see
// docs/dashboard.md):
//
//   {
//     weft::performance_report report("report.html");   // Dask's, as a scope
//     weft::compute(graph);
//   }   // report.html: one self-contained page (task stream, time per
//       // function, transfers, worker utilisation, failures)
//
//   {
//     weft::trace trace("trace.json");
//     weft::compute(graph);
//   }   // open in ui.perfetto.dev or chrome://tracing
//
// Both record the task runs (and, on clusters, the transfers of their
// inputs between workers) that happen on the client's runtime while they
// live, from every client of that runtime, and work the same on the
// embedded runtime, a LocalCluster and a cluster reached with
// Client::Connect. Times come from the clocks of the processes that ran
// the tasks.
//
// On a cluster the scheduler keeps the most recent 100,000 runs
// (scheduler/telemetry.h); the scope reads them every 250 ms, so only a
// cluster finishing more than ~400,000 tasks a second loses some, and the
// file says how many. The report draws the newest 100,000 runs in its task
// stream; its tables count them all.

#ifndef WEFT_CORE_WEFT_REPORT_H_
#define WEFT_CORE_WEFT_REPORT_H_

#include <memory>
#include <string>

#include "weft/client.h"

namespace weft {

namespace internal {
class Recording;
}  // namespace internal

// Writes an HTML performance report of the tasks that run while it lives.
// Not thread-safe (one owner); the runtime's tasks may run on any thread.
class performance_report {
 public:
  // Starts recording on `client`'s runtime (the current client's by
  // default). Throws UsageError if the runtime cannot record (its scheduler
  // cannot be reached).
  explicit performance_report(std::string path,
                              const Client& client = Client::Current());
  // Writes the file unless close() did; an error is printed on stderr
  // (destructors do not throw).
  ~performance_report();
  performance_report(const performance_report&) = delete;
  performance_report& operator=(const performance_report&) = delete;

  // Stops recording and writes the file (replacing it whole). Throws
  // UsageError if the events cannot be read or the file cannot be written.
  // Later calls do nothing.
  void close();

 private:
  std::unique_ptr<internal::Recording> recording_;
};

// Writes the same events in the Trace Event Format (JSON) of Chrome's and
// Perfetto's trace viewers: a process per worker, a thread per task slot,
// a slice per task run or transfer.
class trace {
 public:
  // As performance_report's.
  explicit trace(std::string path, const Client& client = Client::Current());
  ~trace();
  trace(const trace&) = delete;
  trace& operator=(const trace&) = delete;
  void close();

 private:
  std::unique_ptr<internal::Recording> recording_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_REPORT_H_
