// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/dashboard/json.h"

namespace weft::dashboard {
namespace {

using scheduler::SchedulerState;
using scheduler::TaskState;

// A worker's field as a sample value, for the per-worker table below.
template <auto kField>
double Field(const WorkerRow& r) {
  return static_cast<double>(r.*kField);
}

// A label value, escaped as the format wants.
std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return ShortestDouble(v);
}

template <class... Parts>
void Append(std::string& out, const Parts&... parts) {
  (out.append(std::string_view(parts)), ...);
}

class Writer {
 public:
  // Starts a metric family.
  void Family(std::string_view name, std::string_view type,
              std::string_view help) {
    Append(out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
           "\n");
  }
  // A family of one sample without labels.
  void Single(std::string_view name, std::string_view type,
              std::string_view help, double value) {
    Family(name, type, help);
    Sample(name, "", value);
  }
  // One sample; `labels` is `k="v",...` already escaped (or empty).
  void Sample(std::string_view name, std::string_view labels, double value) {
    Append(out_, name, labels.empty() ? "" : "{", labels,
           labels.empty() ? "" : "}", " ", Number(value), "\n");
  }
  std::string Take() && { return std::move(out_); }

 private:
  std::string out_;
};

std::string FunctionLabel(std::string_view function) {
  return absl::StrCat("function=\"", Escape(function), "\"");
}

std::string WorkerLabels(const WorkerRow& w) {
  return absl::StrCat("worker=\"", w.id, "\",address=\"", Escape(w.address),
                      "\"");
}

// A counter family with one sample per function: its `count`.
void PerFunctionCounter(Writer& w, std::string_view name, std::string_view help,
                        const std::vector<scheduler::FunctionTotals>& functions,
                        uint64_t scheduler::FunctionTotals::*count) {
  w.Family(name, "counter", help);
  for (const scheduler::FunctionTotals& f : functions) {
    w.Sample(name, FunctionLabel(f.function), static_cast<double>(f.*count));
  }
}

// A counter family with one sample per transfer path.
void PerPathCounter(
    Writer& w, std::string_view name, std::string_view help,
    const std::array<uint64_t, scheduler::kNumTransferPaths>& values) {
  w.Family(name, "counter", help);
  for (int p = 0; p < scheduler::kNumTransferPaths; ++p) {
    w.Sample(name,
             absl::StrCat("path=\"",
                          scheduler::TransferPathName(
                              static_cast<scheduler::TransferPath>(p)),
                          "\""),
             static_cast<double>(values[p]));
  }
}

}  // namespace

std::string MetricsText(const ClusterView& view,
                        const scheduler::Telemetry& telemetry,
                        const ServerCounts& server, absl::Time now) {
  Writer w;
  const std::vector<scheduler::FunctionTotals> functions =
      telemetry.Functions();
  const scheduler::Totals totals = telemetry.totals();

  // --- Tasks ----------------------------------------------------------------
  w.Family("weft_tasks", "gauge",
           "Tasks (and puts, function=\"put\") the scheduler keeps, by state "
           "and function.");
  for (const auto& [function, counts] : view.counts) {
    for (int s = 0; s < SchedulerState::kNumStates; ++s) {
      w.Sample("weft_tasks",
               absl::StrCat(FunctionLabel(function), ",state=\"",
                            scheduler::TaskStateName(static_cast<TaskState>(s)),
                            "\""),
               static_cast<double>(counts[s]));
    }
  }
  PerFunctionCounter(w, "weft_tasks_finished_total",
                     "Task runs that succeeded, by function.", functions,
                     &scheduler::FunctionTotals::done);
  PerFunctionCounter(w, "weft_tasks_failed_total",
                     "Task runs that failed (each retry counts), by function.",
                     functions, &scheduler::FunctionTotals::failed);
  w.Family("weft_task_duration_seconds", "histogram",
           "How long task runs took on their workers, by function.");
  for (const auto& f : functions) {
    const std::string label = FunctionLabel(f.function);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < scheduler::kDurationBounds.size(); ++i) {
      cumulative += f.durations[i];
      w.Sample("weft_task_duration_seconds_bucket",
               absl::StrCat(label, ",le=\"",
                            Number(scheduler::kDurationBounds[i]), "\""),
               static_cast<double>(cumulative));
    }
    cumulative += f.durations.back();
    w.Sample("weft_task_duration_seconds_bucket",
             absl::StrCat(label, ",le=\"+Inf\""),
             static_cast<double>(cumulative));
    w.Sample("weft_task_duration_seconds_sum", label, f.run_seconds);
    w.Sample("weft_task_duration_seconds_count", label,
             static_cast<double>(cumulative));
  }
  w.Single("weft_task_throughput", "gauge",
           "Task runs finished per second over the last 10 seconds.",
           telemetry.Throughput(now, 10));

  // --- Workers --------------------------------------------------------------
  w.Single("weft_workers", "gauge", "Workers connected now.",
           static_cast<double>(view.workers.size()));
  struct PerWorker {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const WorkerRow&);
  };
  static const PerWorker kPerWorker[] = {
      {"weft_worker_threads", "gauge", "Task slots of each worker.",
       Field<&WorkerRow::nthreads>},
      {"weft_worker_tasks_processing", "gauge",
       "Tasks assigned to each worker and not finished (running and queued "
       "there).",
       Field<&WorkerRow::processing>},
      {"weft_worker_tasks_executing", "gauge",
       "Tasks each worker was running at its last heartbeat.",
       Field<&WorkerRow::executing>},
      {"weft_worker_tasks_queued", "gauge",
       "Tasks assigned to each worker that wait there for a slot (its queue "
       "length).",
       [](const WorkerRow& r) {
         return std::max(0.0, static_cast<double>(r.processing) - r.executing);
       }},
      {"weft_worker_objects", "gauge", "Objects each worker holds.",
       Field<&WorkerRow::objects>},
      {"weft_worker_held_bytes", "gauge",
       "Bytes of the objects each worker holds.",
       Field<&WorkerRow::held_bytes>},
      {"weft_worker_resident_memory_bytes", "gauge",
       "Resident memory of each worker's process at its last heartbeat.",
       Field<&WorkerRow::rss_bytes>},
      {"weft_worker_cpu_seconds_total", "counter",
       "CPU time (user and system) of each worker's process.",
       Field<&WorkerRow::cpu_seconds>},
      {"weft_worker_cpu_busy_cores", "gauge",
       "Cores each worker's process kept busy between its last two "
       "heartbeats (1 = one core).",
       Field<&WorkerRow::cpu>},
  };
  for (const PerWorker& m : kPerWorker) {
    w.Family(m.name, m.type, m.help);
    for (const WorkerRow& r : view.workers) {
      w.Sample(m.name, WorkerLabels(r), m.value(r));
    }
  }

  // --- Data -----------------------------------------------------------------
  PerPathCounter(
      w, "weft_transfer_bytes_total",
      "Bytes of task inputs moved to workers, by path: inline (inside "
      "assignments), shared_memory (mapped from a same-host holder), "
      "network (streamed, or read from a worker's bulk port).",
      totals.transfer_bytes);
  PerPathCounter(w, "weft_transfers_total",
                 "Task inputs moved to workers, by path.", totals.transfers);

  // --- Connections ----------------------------------------------------------
  w.Single("weft_clients", "gauge", "Clients connected now.",
           static_cast<double>(view.clients));
  w.Single("weft_client_connections_total", "counter",
           "Clients that connected.",
           static_cast<double>(totals.clients_connected));
  w.Single("weft_worker_joins_total", "counter", "Workers that joined.",
           static_cast<double>(totals.workers_joined));
  w.Family("weft_worker_removals_total", "counter",
           "Workers removed: reason=\"left\" (they said so) or \"died\" "
           "(connection lost, silent, or dropped).");
  w.Sample("weft_worker_removals_total", "reason=\"left\"",
           static_cast<double>(totals.workers_left));
  w.Sample("weft_worker_removals_total", "reason=\"died\"",
           static_cast<double>(totals.workers_removed));
  w.Single("weft_dashboard_streams", "gauge",
           "Dashboard pages receiving live updates now.",
           static_cast<double>(server.streams_open));
  w.Single("weft_dashboard_requests_total", "counter",
           "HTTP requests the dashboard answered, refused ones included.",
           static_cast<double>(server.requests));
  w.Single("weft_dashboard_refused_total", "counter",
           "HTTP requests refused for want of the cluster token.",
           static_cast<double>(server.refused));

  // --- The scheduler's process ---------------------------------------------
  w.Single("process_cpu_seconds_total", "counter",
           "CPU time (user and system) of the scheduler's process.",
           view.scheduler_cpu_seconds);
  w.Single("process_resident_memory_bytes", "gauge",
           "Resident memory of the scheduler's process.",
           static_cast<double>(view.scheduler_rss_bytes));
  return std::move(w).Take();
}

}  // namespace weft::dashboard
