// Copyright 2026 The weft Authors.

#include "scheduler/telemetry.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::SizeIs;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TaskReport Report(ObjectId id, std::string_view function, int64_t start_us,
               int64_t end_us, const ErrorInfo* error = nullptr) {
  TaskReport r;
  r.task = id;
  r.name = function;
  r.function = function;
  r.thread = static_cast<int>(id % 2);
  r.start_us = start_us;
  r.end_us = end_us;
  if (error != nullptr) {
    r.failed = true;
    r.exception_type = error->exception_type;
    r.message = error->message;
  }
  return r;
}

TEST(TelemetryTest, TasksComeBackInOrderWithTheirNames) {
  Telemetry t;
  TaskReport named = Report(3, "fit", 30, 40);
  named.name = "fit-fold-3";
  t.RecordTasks(7, {Report(1, "inc", 10, 20), Report(2, "add", 20, 25), named},
                kNow);
  uint64_t next = 0;
  uint64_t dropped = 99;
  std::vector<TaskEvent> events = t.TasksSince(0, 100, &next, &dropped);
  EXPECT_EQ(next, 3u);
  EXPECT_EQ(dropped, 0u);
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(events[0].task, 1u);
  EXPECT_EQ(events[0].function, "inc");
  EXPECT_EQ(events[0].name, "inc");
  EXPECT_EQ(events[0].worker, 7u);
  EXPECT_EQ(events[0].thread, 1);
  EXPECT_EQ(events[0].start_us, 10);
  EXPECT_EQ(events[0].end_us, 20);
  EXPECT_EQ(events[2].name, "fit-fold-3");
  EXPECT_EQ(events[2].function, "fit");
  // Nothing new after the cursor; then only what came since.
  EXPECT_THAT(t.TasksSince(next, 100, &next), SizeIs(0));
  EXPECT_EQ(next, 3u);
  t.RecordTasks(7, {Report(4, "inc", 50, 60)}, kNow);
  EXPECT_THAT(t.TasksSince(next, 100, &next),
              ElementsAre(Field(&TaskEvent::task, 4u)));
  EXPECT_EQ(next, 4u);
  EXPECT_EQ(t.task_cursor(), 4u);
}

TEST(TelemetryTest, AReaderLearnsWhatTheRingDropped) {
  Telemetry t;
  std::vector<TaskReport> runs;
  const size_t total = Telemetry::kMaxTaskEvents + 10;
  for (size_t i = 1; i <= total; ++i) runs.push_back(Report(i, "inc", 0, 1));
  t.RecordTasks(1, runs, kNow);
  uint64_t next = 0;
  uint64_t dropped = 0;
  std::vector<TaskEvent> events = t.TasksSince(0, 5, &next, &dropped);
  EXPECT_EQ(dropped, 10u);
  ASSERT_THAT(events, SizeIs(5));
  EXPECT_EQ(events[0].task, 11u);  // the oldest kept
  EXPECT_EQ(next, 15u);
  // A cursor within the kept events drops nothing.
  events = t.TasksSince(next, Telemetry::kMaxTaskEvents, &next, &dropped);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(events.size(), Telemetry::kMaxTaskEvents - 5);
  EXPECT_EQ(events.back().task, total);
  EXPECT_EQ(t.totals().task_events, total);
}

TEST(TelemetryTest, CountsPerFunctionWithDurationBuckets) {
  Telemetry t;
  ErrorInfo error;
  error.exception_type = "std::runtime_error";
  error.message = "boom";
  t.RecordTasks(1,
                {Report(1, "inc", 0, 50),             // 50 µs
                 Report(2, "inc", 0, 2'000),          // 2 ms
                 Report(3, "slow", 0, 3'000'000),     // 3 s
                 Report(4, "inc", 0, 100, &error)},   // failed, 100 µs
                kNow);
  std::vector<FunctionTotals> functions = t.Functions();
  ASSERT_THAT(functions, SizeIs(2));
  const FunctionTotals& inc = functions[0];
  EXPECT_EQ(inc.function, "inc");
  EXPECT_EQ(inc.done, 2u);
  EXPECT_EQ(inc.failed, 1u);
  EXPECT_NEAR(inc.run_seconds, 0.00215, 1e-9);
  EXPECT_EQ(inc.durations[0], 2u);  // <= 100 µs: 50 µs and the failure
  EXPECT_EQ(inc.durations[3], 1u);  // <= 5 ms
  EXPECT_EQ(functions[1].function, "slow");
  EXPECT_EQ(functions[1].durations[7], 1u);  // <= 10 s
  const Totals totals = t.totals();
  EXPECT_EQ(totals.tasks_done, 3u);
  EXPECT_EQ(totals.tasks_failed, 1u);
}

TEST(TelemetryTest, KeepsRecentFailuresWithTheirErrors) {
  Telemetry t;
  ErrorInfo error;
  error.exception_type = "std::invalid_argument";
  error.message = "negative input";
  t.RecordTasks(2, {Report(1, "inc", 0, 1), Report(2, "check", 5, 9, &error)},
                kNow);
  std::vector<TaskEvent> failures = t.RecentFailures();
  ASSERT_THAT(failures, SizeIs(1));
  EXPECT_EQ(failures[0].task, 2u);
  EXPECT_EQ(failures[0].function, "check");
  EXPECT_EQ(failures[0].exception_type, "std::invalid_argument");
  EXPECT_EQ(failures[0].message, "negative input");
  EXPECT_TRUE(failures[0].failed);
  // The task stream's copy carries the error too.
  uint64_t next = 0;
  std::vector<TaskEvent> events = t.TasksSince(0, 10, &next);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_FALSE(events[0].failed);
  EXPECT_TRUE(events[1].failed);
  EXPECT_EQ(events[1].message, "negative input");

  std::vector<TaskReport> more;
  for (size_t i = 0; i < Telemetry::kMaxFailures + 5; ++i) {
    more.push_back(Report(100 + i, "check", 0, 1, &error));
  }
  t.RecordTasks(2, more, kNow);
  failures = t.RecentFailures();
  ASSERT_THAT(failures, SizeIs(Telemetry::kMaxFailures));
  EXPECT_EQ(failures.back().task, 100 + Telemetry::kMaxFailures + 4);
}

TEST(TelemetryTest, DistinctNamesAreCapped) {
  Telemetry t;
  std::vector<std::string> names;
  for (size_t i = 0; i < Telemetry::kMaxNames + 3; ++i) {
    names.push_back(absl::StrCat("task-", i));
  }
  std::vector<TaskReport> runs;
  for (size_t i = 0; i < names.size(); ++i) {
    TaskReport r = Report(i + 1, "f", 0, 1);
    r.name = names[i];
    runs.push_back(r);
  }
  t.RecordTasks(1, runs, kNow);
  uint64_t next = 0;
  std::vector<TaskEvent> events = t.TasksSince(0, names.size(), &next);
  ASSERT_EQ(events.size(), names.size());
  EXPECT_EQ(events.front().name, "task-0");
  EXPECT_EQ(events[Telemetry::kMaxNames - 1].name,
            absl::StrCat("task-", Telemetry::kMaxNames - 1));
  // Beyond the cap, names read as the function's.
  EXPECT_EQ(events[Telemetry::kMaxNames].name, "f");
  EXPECT_EQ(events.back().name, "f");
}

TEST(TelemetryTest, TransfersAreCountedByPath) {
  Telemetry t;
  TransferEvent mapped;
  mapped.object = 5;
  mapped.to = 2;
  mapped.from = "127.0.0.1:4000";
  mapped.bytes = 8 << 20;
  mapped.path = TransferPath::kSharedMemory;
  TransferEvent streamed = mapped;
  streamed.object = 6;
  streamed.bytes = 3 << 20;
  streamed.path = TransferPath::kNetwork;
  t.RecordTransfers({mapped, streamed});
  t.AddInlineBytes(800, 2);
  const Totals totals = t.totals();
  EXPECT_EQ(totals.transfer_bytes[0], 800u);
  EXPECT_EQ(totals.transfers[0], 2u);
  EXPECT_EQ(totals.transfer_bytes[1], uint64_t{8} << 20);
  EXPECT_EQ(totals.transfer_bytes[2], uint64_t{3} << 20);
  uint64_t next = 0;
  std::vector<TransferEvent> events = t.TransfersSince(0, 10, &next);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].from, "127.0.0.1:4000");
  EXPECT_EQ(events[1].path, TransferPath::kNetwork);
  EXPECT_EQ(next, 2u);
  EXPECT_STREQ(TransferPathName(TransferPath::kSharedMemory), "shared_memory");
}

TEST(TelemetryTest, WorkersAndTheirCpuFromHeartbeats) {
  Telemetry t;
  WorkerView w;
  w.id = 3;
  w.address = "127.0.0.1:5000";
  w.nthreads = 2;
  t.WorkerJoined(w);
  t.WorkerHeartbeat(3, kNow, 10.0, 1 << 20, 1);
  EXPECT_EQ(t.Workers()[0].cpu, 0.0);  // one heartbeat: no interval yet
  t.WorkerHeartbeat(3, kNow + absl::Milliseconds(500), 10.75, 2 << 20, 2);
  std::vector<WorkerView> workers = t.Workers();
  ASSERT_THAT(workers, SizeIs(1));
  EXPECT_NEAR(workers[0].cpu, 1.5, 1e-9);  // 0.75 s of CPU in 0.5 s
  EXPECT_EQ(workers[0].rss_bytes, 2u << 20);
  EXPECT_EQ(workers[0].executing, 2);
  t.WorkerHeartbeat(99, kNow, 1, 1, 1);  // unknown: ignored
  t.WorkerRemoved(3, /*left=*/false);
  t.WorkerRemoved(3, /*left=*/true);  // already gone: not counted
  EXPECT_THAT(t.Workers(), SizeIs(0));
  EXPECT_EQ(t.totals().workers_joined, 1u);
  EXPECT_EQ(t.totals().workers_removed, 1u);
  EXPECT_EQ(t.totals().workers_left, 0u);
}

TEST(TelemetryTest, ThroughputOverWholeSeconds) {
  Telemetry t;
  std::vector<TaskReport> runs(30, Report(1, "inc", 0, 1));
  t.RecordTasks(1, runs, kNow);
  t.RecordTasks(1, {runs.begin(), runs.begin() + 10},
                kNow + absl::Seconds(1));
  // Over the 2 seconds before kNow + 2 s: 40 tasks.
  EXPECT_DOUBLE_EQ(t.Throughput(kNow + absl::Seconds(2), 2), 20.0);
  // The current second is not counted yet.
  EXPECT_DOUBLE_EQ(t.Throughput(kNow + absl::Seconds(1), 1), 30.0);
  // Long after: nothing.
  EXPECT_DOUBLE_EQ(t.Throughput(kNow + absl::Seconds(600), 10), 0.0);
}

}  // namespace
}  // namespace weft::scheduler
