// Copyright 2026 The weft Authors.

#include "scheduler/telemetry.h"

#include <algorithm>
#include <utility>

namespace weft::scheduler {
namespace {

using internal::MutexLock;

// Task durations, in seconds: 100 µs to 10 min.
constexpr double kDurationBounds[] = {0.0001, 0.001, 0.01, 0.1, 1,
                                      10,     60,    600};

template <class Event>
std::vector<Event> Since(const std::deque<Event>& ring, uint64_t first,
                         uint64_t cursor, size_t max, uint64_t* next,
                         bool* dropped) {
  const uint64_t begin = std::max(cursor, first);
  if (dropped != nullptr) *dropped = cursor != 0 && cursor < first;
  std::vector<Event> out;
  const uint64_t end = first + ring.size();
  for (uint64_t at = begin; at < end && out.size() < max; ++at) {
    out.push_back(ring[at - first]);
  }
  *next = begin + out.size();
  return out;
}

}  // namespace

const char* TransferPathName(TransferPath path) {
  switch (path) {
    case TransferPath::kInline:
      return "inline";
    case TransferPath::kSharedMemory:
      return "shared_memory";
    case TransferPath::kNetwork:
      return "network";
  }
  return "?";
}

Telemetry::Telemetry() {
  totals_.duration_bounds.assign(std::begin(kDurationBounds),
                                 std::end(kDurationBounds));
  totals_.duration_counts.assign(totals_.duration_bounds.size() + 1, 0);
}

void Telemetry::RecordTask(TaskEvent event) {
  const double seconds = absl::ToDoubleSeconds(event.end - event.start);
  MutexLock lock(&mu_);
  FunctionProgress& f = functions_[event.function];
  if (event.failed) {
    ++totals_.tasks_failed;
    ++f.failed;
    failures_.push_back(event);
    if (failures_.size() > kMaxFailures) failures_.pop_front();
  } else {
    ++totals_.tasks_finished;
    ++f.done;
  }
  f.run_seconds += seconds;
  totals_.duration_sum_seconds += seconds;
  for (size_t i = 0; i <= totals_.duration_bounds.size(); ++i) {
    if (i == totals_.duration_bounds.size() ||
        seconds <= totals_.duration_bounds[i]) {
      ++totals_.duration_counts[i];
    }
  }
  tasks_.push_back(std::move(event));
  if (tasks_.size() > kMaxTaskEvents) {
    tasks_.pop_front();
    ++tasks_first_;
  }
}

void Telemetry::RecordTransfer(TransferEvent event) {
  MutexLock lock(&mu_);
  switch (event.path) {
    case TransferPath::kInline:
      totals_.bytes_inline += event.bytes;
      break;
    case TransferPath::kSharedMemory:
      totals_.bytes_shared_memory += event.bytes;
      break;
    case TransferPath::kNetwork:
      totals_.bytes_network += event.bytes;
      break;
  }
  transfers_.push_back(std::move(event));
  if (transfers_.size() > kMaxTransferEvents) {
    transfers_.pop_front();
    ++transfers_first_;
  }
}

void Telemetry::WorkerJoined(const WorkerView& worker) {
  MutexLock lock(&mu_);
  ++totals_.workers_joined;
  workers_[worker.id] = worker;
}

void Telemetry::WorkerRemoved(WorkerId worker, bool left) {
  MutexLock lock(&mu_);
  if (workers_.erase(worker) == 0) return;
  ++(left ? totals_.workers_left : totals_.workers_removed);
}

void Telemetry::WorkerHeartbeat(WorkerId worker, double cpu_seconds,
                                uint64_t memory_bytes) {
  MutexLock lock(&mu_);
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  it->second.cpu_seconds = cpu_seconds;
  it->second.memory_bytes = memory_bytes;
}

void Telemetry::ClientConnected() {
  MutexLock lock(&mu_);
  ++totals_.clients_connected;
}

std::vector<TaskEvent> Telemetry::TasksSince(uint64_t cursor, size_t max,
                                             uint64_t* next,
                                             bool* dropped) const {
  MutexLock lock(&mu_);
  return Since(tasks_, tasks_first_, cursor, max, next, dropped);
}

std::vector<TransferEvent> Telemetry::TransfersSince(uint64_t cursor,
                                                     size_t max,
                                                     uint64_t* next,
                                                     bool* dropped) const {
  MutexLock lock(&mu_);
  return Since(transfers_, transfers_first_, cursor, max, next, dropped);
}

std::vector<TaskEvent> Telemetry::RecentFailures() const {
  MutexLock lock(&mu_);
  return {failures_.begin(), failures_.end()};
}

std::vector<WorkerView> Telemetry::Workers() const {
  MutexLock lock(&mu_);
  std::vector<WorkerView> out;
  out.reserve(workers_.size());
  for (const auto& [id, w] : workers_) out.push_back(w);
  std::sort(out.begin(), out.end(),
            [](const WorkerView& a, const WorkerView& b) { return a.id < b.id; });
  return out;
}

Totals Telemetry::totals() const {
  MutexLock lock(&mu_);
  return totals_;
}

std::map<std::string, FunctionProgress> Telemetry::FunctionTotals() const {
  MutexLock lock(&mu_);
  return functions_;
}

}  // namespace weft::scheduler
