// Copyright 2026 The weft Authors.

#include "scheduler/dashboard/report.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scheduler/dashboard/json.h"
#include "scheduler/dashboard/pages.h"

namespace weft::dashboard {
namespace {

constexpr std::string_view kDataMarker = "<!--weft-report-data-->";

std::string KeyOf(const internal::TaskRunEvent& t) {
  return absl::StrCat(t.name, "-", absl::Hex(t.id, absl::kZeroPad16));
}

// The part of [start, end] inside [lo, hi].
int64_t Overlap(int64_t start, int64_t end, int64_t lo, int64_t hi) {
  return std::max<int64_t>(0, std::min(end, hi) - std::max(start, lo));
}

// Rows of the task stream: each listed worker's threads, then any (worker,
// thread) a run or transfer names that is not among them.
class Rows {
 public:
  explicit Rows(const ReportInput& input) {
    for (const auto& w : input.workers) {
      for (int t = 0; t < std::max(1, w.nthreads); ++t) Add(w.id, t);
    }
    for (const auto& t : input.events.tasks) Add(t.worker, t.thread);
    for (const auto& t : input.events.transfers) Add(t.worker, t.thread);
  }
  int Of(uint64_t worker, int thread) const {
    return index_.at({worker, thread});
  }
  void Write(JsonWriter& j) const {
    j.BeginArray();
    for (const auto& [worker, thread] : order_) {
      j.String(absl::StrCat("worker ", worker, " · ", thread));
    }
    j.EndArray();
  }

 private:
  void Add(uint64_t worker, int thread) {
    if (index_.emplace(std::make_pair(worker, thread),
                       static_cast<int>(order_.size()))
            .second) {
      order_.emplace_back(worker, thread);
    }
  }
  std::map<std::pair<uint64_t, int>, int> index_;
  std::vector<std::pair<uint64_t, int>> order_;
};

struct FunctionStats {
  uint64_t runs = 0;
  uint64_t failed = 0;
  int64_t total_us = 0;
  int64_t max_us = 0;
};

struct WorkerStats {
  std::string address;
  int threads = 0;
  uint64_t runs = 0;
  int64_t busy_us = 0;  // within the report's span
};

struct PathStats {
  uint64_t count = 0;
  uint64_t bytes = 0;
  int64_t total_us = 0;
};

// The fields of `p`, into an open object.
void WriteStats(const PathStats& p, JsonWriter& j) {
  j.Key("count").Uint(p.count);
  j.Key("bytes").Uint(p.bytes);
  j.Key("seconds").Double(p.total_us * 1e-6);
}

// Opens a complete ("X") trace event for a run or transfer on (worker,
// thread) from start_us to end_us; the caller adds "args" and closes it.
template <class Event>
void BeginCompleteEvent(const Event& e, std::string_view name,
                        std::string_view category, int64_t origin,
                        JsonWriter& j) {
  j.BeginObject();
  j.Key("name").String(name);
  j.Key("cat").String(category);
  j.Key("ph").String("X");
  j.Key("ts").Int(e.start_us - origin);
  j.Key("dur").Int(std::max<int64_t>(0, e.end_us - e.start_us));
  j.Key("pid").Uint(e.worker);
  j.Key("tid").Int(e.thread);
}

}  // namespace

std::string PerformanceReportHtml(const ReportInput& input) {
  const internal::EventBatch& events = input.events;
  const int64_t span_us = std::max<int64_t>(1, input.end_us - input.start_us);

  std::map<std::string, FunctionStats> functions;
  std::map<uint64_t, WorkerStats> workers;
  for (const auto& w : input.workers) {
    workers[w.id].address = w.address;
    workers[w.id].threads = w.nthreads;
  }
  for (const auto& t : events.tasks) {
    FunctionStats& f = functions[t.function];
    const int64_t us = std::max<int64_t>(0, t.end_us - t.start_us);
    ++f.runs;
    f.failed += t.failed;
    f.total_us += us;
    f.max_us = std::max(f.max_us, us);
    WorkerStats& w = workers[t.worker];
    ++w.runs;
    w.busy_us += Overlap(t.start_us, t.end_us, input.start_us, input.end_us);
  }
  std::map<std::string, PathStats> paths;
  std::map<std::pair<std::string, uint64_t>, PathStats> links;
  for (const auto& t : events.transfers) {
    const int64_t us = std::max<int64_t>(0, t.end_us - t.start_us);
    for (PathStats* p : {&paths[t.path], &links[{t.from, t.worker}]}) {
      ++p->count;
      p->bytes += t.bytes;
      p->total_us += us;
    }
  }

  JsonWriter j;
  j.BeginObject();
  j.Key("runtime").String(input.runtime);
  j.Key("dashboard").String(input.dashboard);
  j.Key("start_us").Int(input.start_us);
  j.Key("end_us").Int(input.end_us);
  j.Key("dropped").Uint(events.dropped);

  uint64_t runs = 0, failed = 0;
  int64_t busy_us = 0, slot_us = 0;
  for (const auto& [name, f] : functions) {
    runs += f.runs;
    failed += f.failed;
  }
  for (const auto& [id, w] : workers) {
    busy_us += w.busy_us;
    slot_us += static_cast<int64_t>(std::max(1, w.threads)) * span_us;
  }
  j.Key("summary").BeginObject();
  j.Key("seconds").Double(span_us * 1e-6);
  j.Key("runs").Uint(runs);
  j.Key("failed").Uint(failed);
  j.Key("workers").Uint(workers.size());
  j.Key("transfers").Uint(events.transfers.size());
  j.Key("utilisation").Double(slot_us > 0 ? static_cast<double>(busy_us) / slot_us
                                          : 0);
  j.EndObject();

  // Slowest total first.
  std::vector<std::pair<std::string, FunctionStats>> by_time(functions.begin(),
                                                             functions.end());
  std::stable_sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) {
    return a.second.total_us > b.second.total_us;
  });
  j.Key("functions").ObjectArray(by_time, [&](const auto& entry) {
    const auto& [name, f] = entry;
    j.Key("function").String(name);
    j.Key("runs").Uint(f.runs);
    j.Key("failed").Uint(f.failed);
    j.Key("total_seconds").Double(f.total_us * 1e-6);
    j.Key("mean_seconds").Double(f.runs ? f.total_us * 1e-6 / f.runs : 0);
    j.Key("max_seconds").Double(f.max_us * 1e-6);
  });

  j.Key("workers").ObjectArray(workers, [&](const auto& entry) {
    const auto& [id, w] = entry;
    j.Key("id").Uint(id);
    j.Key("address").String(w.address);
    j.Key("threads").Int(w.threads);
    j.Key("runs").Uint(w.runs);
    j.Key("busy_seconds").Double(w.busy_us * 1e-6);
    j.Key("utilisation")
        .Double(static_cast<double>(w.busy_us) /
                (static_cast<double>(std::max(1, w.threads)) * span_us));
  });

  j.Key("transfer_paths").ObjectArray(paths, [&](const auto& entry) {
    const auto& [path, p] = entry;
    j.Key("path").String(path);
    WriteStats(p, j);
  });
  j.Key("transfer_links").ObjectArray(links, [&](const auto& entry) {
    const auto& [link, p] = entry;
    j.Key("from").String(link.first);
    j.Key("to").Uint(link.second);
    WriteStats(p, j);
  });

  j.Key("failures").BeginArray();
  size_t shown = 0;
  for (const auto& t : events.tasks) {
    if (!t.failed || shown++ >= 100) continue;
    j.BeginObject();
    j.Key("key").String(KeyOf(t));
    j.Key("worker").Uint(t.worker);
    j.Key("type").String(t.exception_type);
    j.Key("message").String(t.message);
    j.EndObject();
  }
  j.EndArray();

  // The task stream: the newest runs, and every transfer.
  Rows rows(input);
  j.Key("stream").BeginObject();
  j.Key("rows");
  rows.Write(j);
  const size_t first = events.tasks.size() > kMaxReportStreamRuns
                           ? events.tasks.size() - kMaxReportStreamRuns
                           : 0;
  j.Key("omitted").Uint(first);
  j.Key("tasks").BeginArray();
  for (size_t i = first; i < events.tasks.size(); ++i) {
    const auto& t = events.tasks[i];
    j.BeginArray()
        .Int(rows.Of(t.worker, t.thread))
        .Int(t.start_us)
        .Int(t.end_us)
        .String(t.function)
        .Bool(t.failed)
        .String(KeyOf(t))
        .EndArray();
  }
  j.EndArray();
  j.Key("transfers").BeginArray();
  for (const auto& t : events.transfers) {
    j.BeginArray()
        .Int(rows.Of(t.worker, t.thread))
        .Int(t.start_us)
        .Int(t.end_us)
        .Uint(t.bytes)
        .String(t.path)
        .String(t.from)
        .String(absl::StrCat(absl::Hex(t.object, absl::kZeroPad16)))
        .EndArray();
  }
  j.EndArray();
  j.EndObject();
  j.EndObject();

  std::string page = ExpandPage("report.html");
  const size_t at = page.find(kDataMarker);
  if (at != std::string::npos) {
    page.replace(at, kDataMarker.size(), j.text());
  }
  return page;
}

std::string ChromeTraceJson(const ReportInput& input) {
  const internal::EventBatch& events = input.events;
  std::map<uint64_t, std::string> names;
  for (const auto& w : input.workers) {
    names[w.id] = w.address == "local" ? "this process (embedded runtime)"
                                       : absl::StrCat("worker ", w.id, " (",
                                                      w.address, ")");
  }
  std::set<std::pair<uint64_t, int>> threads;
  for (const auto& t : events.tasks) threads.emplace(t.worker, t.thread);
  for (const auto& t : events.transfers) threads.emplace(t.worker, t.thread);
  for (const auto& [worker, thread] : threads) {
    if (!names.contains(worker)) names[worker] = absl::StrCat("worker ", worker);
  }
  const int64_t origin = input.start_us;
  JsonWriter j;
  j.BeginObject();
  j.Key("traceEvents").BeginArray();
  for (const auto& [worker, name] : names) {
    j.BeginObject();
    j.Key("name").String("process_name");
    j.Key("ph").String("M");
    j.Key("pid").Uint(worker);
    j.Key("args").BeginObject().Key("name").String(name).EndObject();
    j.EndObject();
  }
  for (const auto& [worker, thread] : threads) {
    j.BeginObject();
    j.Key("name").String("thread_name");
    j.Key("ph").String("M");
    j.Key("pid").Uint(worker);
    j.Key("tid").Int(thread);
    j.Key("args")
        .BeginObject()
        .Key("name")
        .String(absl::StrCat("task slot ", thread))
        .EndObject();
    j.EndObject();
  }
  for (const auto& t : events.tasks) {
    BeginCompleteEvent(t, t.function, t.failed ? "task,failed" : "task",
                       origin, j);
    j.Key("args").BeginObject();
    j.Key("key").String(KeyOf(t));
    if (t.failed) {
      j.Key("exception").String(t.exception_type);
      j.Key("message").String(t.message);
    }
    j.EndObject();
    j.EndObject();
  }
  for (const auto& t : events.transfers) {
    BeginCompleteEvent(t, absl::StrCat("transfer (", t.path, ")"), "transfer",
                       origin, j);
    j.Key("args").BeginObject();
    j.Key("object").String(absl::StrCat(absl::Hex(t.object, absl::kZeroPad16)));
    j.Key("bytes").Uint(t.bytes);
    j.Key("from").String(t.from);
    j.EndObject();
    j.EndObject();
  }
  j.EndArray();
  j.Key("displayTimeUnit").String("ms");
  j.Key("otherData").BeginObject();
  j.Key("runtime").String(input.runtime);
  j.Key("start_unix_us").Int(input.start_us);
  j.Key("end_unix_us").Int(input.end_us);
  j.Key("dropped").Uint(events.dropped);
  j.EndObject();
  j.EndObject();
  return std::move(j).Take();
}

}  // namespace weft::dashboard
