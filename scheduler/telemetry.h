// Copyright 2026 The weft Authors.
//
// Telemetry: what a scheduler has seen, for the views users watch: the
// dashboard, /metrics, performance reports and traces
// (scheduler/dashboard/, weft/report.h). The service records into it as
// events happen; readers take copies.
//
// Recording is cheap and never waits on a reader for long: one short lock
// per worker message (not per task), no I/O, no allocation once the rings
// are full. Events are kept in bounded rings (kMaxTaskEvents, ...) of
// compact records whose strings are interned; readers ask for the events
// after a cursor and learn how many they missed. Counters (per function,
// per transfer path, per worker) are kept for the whole life of the
// scheduler.
//
// Times are microseconds since the Unix epoch. Task and transfer times are
// on the clock of the worker that reported them (its runs and fetches);
// the rest is on the scheduler's.
//
// Thread-safety: thread-safe.

#ifndef WEFT_SCHEDULER_TELEMETRY_H_
#define WEFT_SCHEDULER_TELEMETRY_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "scheduler/types.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler {

// How an object's bytes reached the worker whose task needed them. The
// values are the wire's (rpc::TaskTransfer.path).
enum class TransferPath : uint8_t {
  kInline = 0,        // inside the assignment (at most 64 KiB)
  kSharedMemory = 1,  // a same-host holder's memory, mapped
  kNetwork = 2,       // streamed from another worker
};
inline constexpr int kNumTransferPaths = 3;
// "inline", "shared_memory", "network".
const char* TransferPathName(TransferPath path);

// Upper bounds (seconds) of the task-duration histogram's buckets; a last
// bucket (+Inf) follows them.
inline constexpr std::array<double, 10> kDurationBounds = {
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.1, 1, 10, 60, 600};

// One run of a task, as its worker reported it.
struct TaskEvent {
  ObjectId task = 0;
  std::string name;      // readable name (the function's if unknown)
  std::string function;  // registered function name
  WorkerId worker = 0;
  int thread = 0;        // the worker's task slot it ran on
  int64_t start_us = 0;  // worker's clock
  int64_t end_us = 0;
  bool failed = false;
  // When failed, and while the failure is among the kMaxFailures most
  // recent ones.
  std::string exception_type;
  std::string message;
};

// One input fetched by a worker for a task (inline inputs are only
// counted, not recorded one by one).
struct TransferEvent {
  ObjectId object = 0;
  WorkerId to = 0;
  int thread = 0;    // the task slot that fetched it
  std::string from;  // the holder's data address
  uint64_t bytes = 0;
  TransferPath path = TransferPath::kNetwork;
  int64_t start_us = 0;  // worker's clock
  int64_t end_us = 0;
};

// A task run as the service hands it in (RecordTasks).
struct TaskReport {
  ObjectId task = 0;
  std::string_view name;
  std::string_view function;
  int thread = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool failed = false;
  std::string_view exception_type;  // when failed
  std::string_view message;
};

// What a worker's heartbeats said, and its identity.
struct WorkerView {
  WorkerId id = 0;
  std::string address;
  std::string host;
  int nthreads = 0;
  int64_t pid = 0;
  int64_t joined_us = 0;
  int64_t heartbeat_us = 0;  // when its last heartbeat arrived (0: none yet)
  // From its last heartbeat (zeros before the first).
  double cpu_seconds = 0;  // its process's CPU time so far
  double cpu = 0;          // cores busy over the last interval (1.0 = one)
  uint64_t rss_bytes = 0;
  int executing = 0;       // tasks running now
};

// Per function, since the scheduler started.
struct FunctionTotals {
  std::string function;
  uint64_t done = 0;         // runs that succeeded
  uint64_t failed = 0;       // runs that failed (retries count each time)
  double run_seconds = 0;    // the runs' durations, summed
  // Runs of at most kDurationBounds[i] seconds (not cumulative), then
  // longer ones.
  std::array<uint64_t, kDurationBounds.size() + 1> durations = {};
};

// Counters since the scheduler started.
struct Totals {
  uint64_t tasks_done = 0;
  uint64_t tasks_failed = 0;
  std::array<uint64_t, kNumTransferPaths> transfer_bytes = {};
  std::array<uint64_t, kNumTransferPaths> transfers = {};
  uint64_t workers_joined = 0;
  uint64_t workers_removed = 0;  // died or dropped
  uint64_t workers_left = 0;     // said they were leaving
  uint64_t clients_connected = 0;
  // Events recorded into the rings (kept or since overwritten).
  uint64_t task_events = 0;
  uint64_t transfer_events = 0;
};

class Telemetry {
 public:
  static constexpr size_t kMaxTaskEvents = 100000;
  static constexpr size_t kMaxTransferEvents = 20000;
  static constexpr size_t kMaxFailures = 100;
  // Distinct task names kept (names differing from their function's, e.g.
  // TaskOptions::name); later ones read as their function's name.
  static constexpr size_t kMaxNames = 4096;

  Telemetry() = default;
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // --- Recording (the scheduler service) --------------------------------

  // Runs reported by `worker` in one message, received at `now`.
  void RecordTasks(WorkerId worker, const std::vector<TaskReport>& runs,
                   absl::Time now);
  // Inputs `worker` fetched.
  void RecordTransfers(const std::vector<TransferEvent>& transfers);
  // Bytes of inputs handed to workers inside assignments.
  void AddInlineBytes(uint64_t bytes, uint64_t count);
  void WorkerJoined(const WorkerView& worker);
  // `left`: it said it was leaving (else it died or was dropped).
  void WorkerRemoved(WorkerId worker, bool left);
  void WorkerHeartbeat(WorkerId worker, absl::Time now, double cpu_seconds,
                       uint64_t rss_bytes, int executing);
  void ClientConnected();

  // --- Reading (the views) ------------------------------------------------

  // Cursors are event numbers: the first event recorded is 1. Events after
  // `cursor` (the oldest kept if they were overwritten), at most `max`,
  // oldest first; `*next` is the cursor to pass next time, `*dropped` (if
  // not null) counts events after `cursor` no longer kept.
  std::vector<TaskEvent> TasksSince(uint64_t cursor, size_t max,
                                    uint64_t* next,
                                    uint64_t* dropped = nullptr) const;
  std::vector<TransferEvent> TransfersSince(uint64_t cursor, size_t max,
                                            uint64_t* next,
                                            uint64_t* dropped = nullptr) const;
  // The cursors of the newest events (TasksSince(task_cursor(), ...) is
  // empty until the next one).
  uint64_t task_cursor() const;
  uint64_t transfer_cursor() const;
  // The most recent failures, newest last.
  std::vector<TaskEvent> RecentFailures() const;
  // Workers connected now, by id.
  std::vector<WorkerView> Workers() const;
  Totals totals() const;
  // Functions that ran, by name.
  std::vector<FunctionTotals> Functions() const;
  // Tasks finished (done or failed) per second over the last `seconds`
  // whole seconds before `now` (by the scheduler's clock), at most 60.
  double Throughput(absl::Time now, int seconds) const;

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};
  static constexpr int kThroughputSeconds = 64;

  // A task event in the ring: strings interned.
  struct StoredTask {
    ObjectId task;
    WorkerId worker;
    int64_t start_us;
    int64_t end_us;
    uint32_t name;
    uint32_t function;
    int32_t thread;
    bool failed;
  };
  struct StoredTransfer {
    ObjectId object;
    WorkerId to;
    uint64_t bytes;
    int64_t start_us;
    int64_t end_us;
    uint32_t from;
    int32_t thread;
    TransferPath path;
  };
  struct Failure {
    uint64_t number;  // its task event's number
    TaskEvent event;
  };
  // A ring of the newest `Capacity` events; event n (from 1) sits at
  // (n - 1) % Capacity.
  template <class T, size_t Capacity>
  struct Ring {
    std::vector<T> items;
    uint64_t next = 1;  // the number the next event gets
    void Push(const T& item);
    uint64_t first() const { return next - items.size(); }
    const T& At(uint64_t number) const {
      return items[(number - 1) % Capacity];
    }
    // The kept events after `cursor`, at most `max`: numbers [first,
    // second), with `*next_cursor` and `*dropped` as TasksSince says.
    std::pair<uint64_t, uint64_t> Since(uint64_t cursor, size_t max,
                                        uint64_t* next_cursor,
                                        uint64_t* dropped) const {
      const uint64_t begin = std::max(cursor + 1, first());
      if (dropped != nullptr) *dropped = begin - (cursor + 1);
      const uint64_t end = std::min<uint64_t>(next, begin + max);
      *next_cursor = end > begin ? end - 1 : std::max(cursor, begin - 1);
      return {begin, std::max(begin, end)};
    }
  };

  uint32_t Intern(std::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Same, for task names: kNone beyond kMaxNames distinct ones.
  uint32_t InternName(std::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A stored event with its strings looked up.
  TaskEvent Expand(const StoredTask& t) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TransferEvent Expand(const StoredTransfer& t) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The events of `ring` after `cursor` (Ring::Since), expanded.
  template <class Event, class Stored, size_t Capacity>
  std::vector<Event> ExpandSince(const Ring<Stored, Capacity>& ring,
                                 uint64_t cursor, size_t max, uint64_t* next,
                                 uint64_t* dropped) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto [begin, end] = ring.Since(cursor, max, next, dropped);
    std::vector<Event> out;
    out.reserve(end - begin);
    for (uint64_t n = begin; n < end; ++n) out.push_back(Expand(ring.At(n)));
    return out;
  }

  mutable ::weft::internal::Mutex mu_;
  // Interned strings (functions, names, addresses), never freed.
  std::vector<std::string> strings_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> string_ids_ ABSL_GUARDED_BY(mu_);
  size_t num_names_ ABSL_GUARDED_BY(mu_) = 0;
  Ring<StoredTask, kMaxTaskEvents> tasks_ ABSL_GUARDED_BY(mu_);
  Ring<StoredTransfer, kMaxTransferEvents> transfers_ ABSL_GUARDED_BY(mu_);
  std::deque<Failure> failures_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerId, WorkerView> workers_ ABSL_GUARDED_BY(mu_);
  // By interned function id.
  absl::flat_hash_map<uint32_t, FunctionTotals> functions_
      ABSL_GUARDED_BY(mu_);
  Totals totals_ ABSL_GUARDED_BY(mu_);
  // Tasks finished in each of the last kThroughputSeconds seconds, by
  // Unix second modulo the size, and which second each slot counts.
  std::array<uint64_t, kThroughputSeconds> per_second_ ABSL_GUARDED_BY(mu_) =
      {};
  std::array<int64_t, kThroughputSeconds> second_of_ ABSL_GUARDED_BY(mu_) =
      {};
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_TELEMETRY_H_
