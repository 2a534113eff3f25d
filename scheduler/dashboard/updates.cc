// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/updates.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/dashboard/json.h"
#include "weft/internal/object_key.h"

namespace weft::dashboard {
namespace {

using scheduler::TaskState;

// Progress of one function: current records by state, runs ever.
struct Progress {
  uint64_t done = 0;
  uint64_t failed = 0;
  uint64_t running = 0;  // processing
  uint64_t waiting = 0;  // waiting or ready
  uint64_t memory = 0;   // results held now
  double run_seconds = 0;
};

void WriteGraph(const std::vector<scheduler::GraphNode>& nodes,
                JsonWriter& j) {
  std::map<scheduler::ObjectId, size_t> index;
  for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i].id] = i;
  j.BeginObject();
  j.Key("nodes").BeginArray();
  for (const auto& n : nodes) {
    j.BeginArray()
        .String(weft::internal::MakeKey(n.name, n.id))
        .String(n.name)
        .String(n.function)
        .String(scheduler::TaskStateName(n.state))
        .EndArray();
  }
  j.EndArray();
  j.Key("edges").BeginArray();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (scheduler::ObjectId dep : nodes[i].deps) {
      auto it = index.find(dep);
      if (it == index.end()) continue;
      j.BeginArray().Uint(it->second).Uint(i).EndArray();
    }
  }
  j.EndArray();
  j.EndObject();
}

}  // namespace

std::string UpdateJson(const ClusterView& view,
                       const scheduler::Telemetry& telemetry,
                       EventCursor& cursor, size_t max_events,
                       absl::Time now) {
  const scheduler::Totals totals = telemetry.totals();
  JsonWriter j;
  j.BeginObject();
  j.Key("now_us").Int(view.now_us);
  j.Key("address").String(view.address);

  j.Key("totals").BeginObject();
  j.Key("done").Uint(totals.tasks_done);
  j.Key("failed").Uint(totals.tasks_failed);
  j.Key("throughput").Double(telemetry.Throughput(now, 5));
  j.Key("workers").Uint(view.workers.size());
  j.Key("clients").Uint(view.clients);
  j.Key("workers_joined").Uint(totals.workers_joined);
  j.Key("workers_removed").Uint(totals.workers_removed);
  j.Key("workers_left").Uint(totals.workers_left);
  j.Key("bytes").BeginObject();
  for (int p = 0; p < scheduler::kNumTransferPaths; ++p) {
    j.Key(scheduler::TransferPathName(static_cast<scheduler::TransferPath>(p)))
        .Uint(totals.transfer_bytes[p]);
  }
  j.EndObject();
  j.EndObject();

  j.Key("workers").ObjectArray(view.workers, [&](const WorkerRow& w) {
    j.Key("id").Uint(w.id);
    j.Key("address").String(w.address);
    j.Key("host").String(w.host);
    j.Key("threads").Int(w.nthreads);
    j.Key("pid").Int(w.pid);
    j.Key("processing").Uint(w.processing);
    j.Key("executing").Int(w.executing);
    j.Key("objects").Uint(w.objects);
    j.Key("held_bytes").Uint(w.held_bytes);
    j.Key("cpu").Double(w.cpu);
    j.Key("rss_bytes").Uint(w.rss_bytes);
  });

  std::map<std::string, Progress> progress;
  for (const auto& [function, counts] : view.counts) {
    if (function == "put") continue;
    Progress& p = progress[function];
    p.running = counts[static_cast<int>(TaskState::kProcessing)];
    p.waiting = counts[static_cast<int>(TaskState::kWaiting)] +
                counts[static_cast<int>(TaskState::kReady)];
    p.memory = counts[static_cast<int>(TaskState::kMemory)];
  }
  for (const scheduler::FunctionTotals& f : telemetry.Functions()) {
    Progress& p = progress[f.function];
    p.done = f.done;
    p.failed = f.failed;
    p.run_seconds = f.run_seconds;
  }
  j.Key("progress").ObjectArray(progress, [&](const auto& entry) {
    const auto& [function, p] = entry;
    j.Key("function").String(function);
    j.Key("done").Uint(p.done);
    j.Key("failed").Uint(p.failed);
    j.Key("running").Uint(p.running);
    j.Key("waiting").Uint(p.waiting);
    j.Key("memory").Uint(p.memory);
    j.Key("run_seconds").Double(p.run_seconds);
  });

  const std::vector<scheduler::TaskEvent> failures = telemetry.RecentFailures();
  j.Key("failures").ObjectArray(failures, [&](const scheduler::TaskEvent& f) {
    j.Key("key").String(weft::internal::MakeKey(f.name, f.task));
    j.Key("function").String(f.function);
    j.Key("worker").Uint(f.worker);
    j.Key("end_us").Int(f.end_us);
    j.Key("type").String(f.exception_type);
    j.Key("message").String(f.message);
  });

  // Events: the newest max_events after the cursor.
  if (!cursor.started) {
    cursor.started = true;
    const uint64_t t = telemetry.task_cursor();
    const uint64_t x = telemetry.transfer_cursor();
    cursor.tasks = t > max_events ? t - max_events : 0;
    cursor.transfers = x > max_events ? x - max_events : 0;
  }
  uint64_t skipped = 0;
  const uint64_t task_end = telemetry.task_cursor();
  if (task_end > cursor.tasks + max_events) {
    skipped += task_end - max_events - cursor.tasks;
    cursor.tasks = task_end - max_events;
  }
  uint64_t dropped = 0;
  std::vector<scheduler::TaskEvent> tasks =
      telemetry.TasksSince(cursor.tasks, max_events, &cursor.tasks, &dropped);
  skipped += dropped;
  j.Key("tasks").BeginArray();
  for (const scheduler::TaskEvent& t : tasks) {
    j.BeginArray()
        .String(weft::internal::MakeKey(t.name, t.task))
        .String(t.function)
        .Uint(t.worker)
        .Int(t.thread)
        .Int(t.start_us)
        .Int(t.end_us)
        .Bool(t.failed)
        .EndArray();
  }
  j.EndArray();
  const uint64_t transfer_end = telemetry.transfer_cursor();
  if (transfer_end > cursor.transfers + max_events) {
    cursor.transfers = transfer_end - max_events;
  }
  std::vector<scheduler::TransferEvent> transfers = telemetry.TransfersSince(
      cursor.transfers, max_events, &cursor.transfers);
  j.Key("transfers").BeginArray();
  for (const scheduler::TransferEvent& t : transfers) {
    j.BeginArray()
        .String(absl::StrCat(absl::Hex(t.object, absl::kZeroPad16)))
        .Uint(t.to)
        .Int(t.thread)
        .Int(t.start_us)
        .Int(t.end_us)
        .Uint(t.bytes)
        .String(scheduler::TransferPathName(t.path))
        .String(t.from)
        .EndArray();
  }
  j.EndArray();
  j.Key("skipped").Uint(skipped);

  j.Key("graph");
  if (view.graph.has_value()) {
    WriteGraph(*view.graph, j);
  } else {
    j.Null();
  }
  j.EndObject();
  return std::move(j).Take();
}

}  // namespace weft::dashboard
