// Copyright 2026 The weft Authors.

#include "scheduler/telemetry.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "weft/internal/enum_name.h"

namespace weft::scheduler {
namespace {

using ::weft::internal::MutexLock;

// The histogram bucket of a duration in seconds.
size_t BucketOf(double seconds) {
  for (size_t i = 0; i < kDurationBounds.size(); ++i) {
    if (seconds <= kDurationBounds[i]) return i;
  }
  return kDurationBounds.size();
}

// The values of `map`, sorted by `less`.
template <typename Map, typename Less>
std::vector<typename Map::mapped_type> SortedValues(const Map& map,
                                                    Less less) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(map.size());
  for (const auto& [key, value] : map) out.push_back(value);
  std::sort(out.begin(), out.end(), less);
  return out;
}

}  // namespace

const char* TransferPathName(TransferPath path) {
  static constexpr const char* kNames[] = {"inline", "shared_memory",
                                           "network"};
  static_assert(std::size(kNames) == kNumTransferPaths);
  return weft::internal::EnumName(path, kNames);
}

template <class T, size_t Capacity>
void Telemetry::Ring<T, Capacity>::Push(const T& item) {
  if (items.size() < Capacity) {
    items.push_back(item);
  } else {
    items[(next - 1) % Capacity] = item;
  }
  ++next;
}

uint32_t Telemetry::Intern(std::string_view s) {
  auto it = string_ids_.find(absl::string_view(s.data(), s.size()));
  if (it != string_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  string_ids_.emplace(strings_.back(), id);
  return id;
}

uint32_t Telemetry::InternName(std::string_view s) {
  auto it = string_ids_.find(absl::string_view(s.data(), s.size()));
  if (it != string_ids_.end()) return it->second;
  if (num_names_ >= kMaxNames) return kNone;
  ++num_names_;
  return Intern(s);
}

void Telemetry::RecordTasks(WorkerId worker,
                            const std::vector<TaskReport>& runs,
                            absl::Time now) {
  if (runs.empty()) return;
  const int64_t second = absl::ToUnixSeconds(now);
  MutexLock lock(&mu_);
  const size_t slot = static_cast<size_t>(second) % kThroughputSeconds;
  if (second_of_[slot] != second) {
    second_of_[slot] = second;
    per_second_[slot] = 0;
  }
  per_second_[slot] += runs.size();
  // Consecutive runs are mostly of one function: remember the last lookup.
  std::string_view last_function;
  uint32_t function = kNone;
  FunctionTotals* totals = nullptr;
  for (const TaskReport& run : runs) {
    if (totals == nullptr || run.function != last_function) {
      function = Intern(run.function);
      last_function = run.function;
      totals = &functions_[function];
      if (totals->function.empty()) totals->function = strings_[function];
    }
    const uint32_t name =
        run.name == run.function ? function : InternName(run.name);
    const double seconds =
        static_cast<double>(std::max<int64_t>(0, run.end_us - run.start_us)) *
        1e-6;
    totals->run_seconds += seconds;
    ++totals->durations[BucketOf(seconds)];
    const bool failed = run.failed;
    if (failed) {
      ++totals->failed;
      ++totals_.tasks_failed;
    } else {
      ++totals->done;
      ++totals_.tasks_done;
    }
    const uint64_t number = tasks_.next;
    tasks_.Push(StoredTask{run.task, worker, run.start_us, run.end_us,
                           name == kNone ? function : name, function,
                           run.thread, failed});
    ++totals_.task_events;
    if (failed) {
      Failure f{number, Expand(tasks_.At(number))};
      f.event.exception_type = run.exception_type;
      f.event.message = run.message;
      failures_.push_back(std::move(f));
      if (failures_.size() > kMaxFailures) failures_.pop_front();
    }
  }
}

void Telemetry::RecordTransfers(const std::vector<TransferEvent>& transfers) {
  if (transfers.empty()) return;
  MutexLock lock(&mu_);
  for (const TransferEvent& t : transfers) {
    const int path = static_cast<int>(t.path);
    if (path < 0 || path >= kNumTransferPaths) continue;
    totals_.transfer_bytes[path] += t.bytes;
    ++totals_.transfers[path];
    transfers_.Push(StoredTransfer{t.object, t.to, t.bytes, t.start_us,
                                   t.end_us, Intern(t.from), t.thread,
                                   t.path});
    ++totals_.transfer_events;
  }
}

void Telemetry::AddInlineBytes(uint64_t bytes, uint64_t count) {
  MutexLock lock(&mu_);
  const int path = static_cast<int>(TransferPath::kInline);
  totals_.transfer_bytes[path] += bytes;
  totals_.transfers[path] += count;
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

void Telemetry::WorkerHeartbeat(WorkerId worker, absl::Time now,
                                double cpu_seconds, uint64_t rss_bytes,
                                int executing) {
  MutexLock lock(&mu_);
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  WorkerView& w = it->second;
  const int64_t now_us = absl::ToUnixMicros(now);
  // CPU use since the previous heartbeat.
  if (w.heartbeat_us > 0 && now_us > w.heartbeat_us) {
    w.cpu = std::max(0.0, (cpu_seconds - w.cpu_seconds) /
                              (static_cast<double>(now_us - w.heartbeat_us) *
                               1e-6));
  }
  w.cpu_seconds = cpu_seconds;
  w.rss_bytes = rss_bytes;
  w.executing = executing;
  w.heartbeat_us = now_us;
}

void Telemetry::ClientConnected() {
  MutexLock lock(&mu_);
  ++totals_.clients_connected;
}

TaskEvent Telemetry::Expand(const StoredTask& t) const {
  TaskEvent e;
  e.task = t.task;
  e.name = strings_[t.name];
  e.function = strings_[t.function];
  e.worker = t.worker;
  e.thread = t.thread;
  e.start_us = t.start_us;
  e.end_us = t.end_us;
  e.failed = t.failed;
  return e;
}

std::vector<TaskEvent> Telemetry::TasksSince(uint64_t cursor, size_t max,
                                             uint64_t* next,
                                             uint64_t* dropped) const {
  MutexLock lock(&mu_);
  std::vector<TaskEvent> out =
      ExpandSince<TaskEvent>(tasks_, cursor, max, next, dropped);
  // Failed runs' messages are kept apart, in number order; out[i] is
  // event number first + i.
  const uint64_t first = *next + 1 - out.size();
  auto failure = failures_.begin();
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].failed) continue;
    while (failure != failures_.end() && failure->number < first + i) {
      ++failure;
    }
    if (failure != failures_.end() && failure->number == first + i) {
      out[i].exception_type = failure->event.exception_type;
      out[i].message = failure->event.message;
    }
  }
  return out;
}

std::vector<TransferEvent> Telemetry::TransfersSince(uint64_t cursor,
                                                     size_t max,
                                                     uint64_t* next,
                                                     uint64_t* dropped) const {
  MutexLock lock(&mu_);
  return ExpandSince<TransferEvent>(transfers_, cursor, max, next, dropped);
}

TransferEvent Telemetry::Expand(const StoredTransfer& t) const {
  TransferEvent e;
  e.object = t.object;
  e.to = t.to;
  e.thread = t.thread;
  e.from = strings_[t.from];
  e.bytes = t.bytes;
  e.path = t.path;
  e.start_us = t.start_us;
  e.end_us = t.end_us;
  return e;
}

uint64_t Telemetry::task_cursor() const {
  MutexLock lock(&mu_);
  return tasks_.next - 1;
}

uint64_t Telemetry::transfer_cursor() const {
  MutexLock lock(&mu_);
  return transfers_.next - 1;
}

std::vector<TaskEvent> Telemetry::RecentFailures() const {
  MutexLock lock(&mu_);
  std::vector<TaskEvent> out;
  out.reserve(failures_.size());
  for (const Failure& f : failures_) out.push_back(f.event);
  return out;
}

std::vector<WorkerView> Telemetry::Workers() const {
  MutexLock lock(&mu_);
  return SortedValues(workers_, [](const WorkerView& a, const WorkerView& b) {
    return a.id < b.id;
  });
}

Totals Telemetry::totals() const {
  MutexLock lock(&mu_);
  return totals_;
}

std::vector<FunctionTotals> Telemetry::Functions() const {
  MutexLock lock(&mu_);
  return SortedValues(functions_,
                      [](const FunctionTotals& a, const FunctionTotals& b) {
                        return a.function < b.function;
                      });
}

double Telemetry::Throughput(absl::Time now, int seconds) const {
  seconds = std::clamp(seconds, 1, 60);
  const int64_t current = absl::ToUnixSeconds(now);
  MutexLock lock(&mu_);
  uint64_t sum = 0;
  for (int64_t s = current - seconds; s < current; ++s) {
    const size_t slot = static_cast<size_t>(s) % kThroughputSeconds;
    if (second_of_[slot] == s) sum += per_second_[slot];
  }
  return static_cast<double>(sum) / seconds;
}

}  // namespace weft::scheduler
