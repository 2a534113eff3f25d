// Copyright 2026 The weft Authors.
//
// The API's promises (docs/api.md) on every runtime: the embedded runtime,
// a LocalCluster, and a cluster started with the `weft` command (`weft
// scheduler` + `weft worker --load=libsuite_tasks.so`), with the fixture of
// tests/runtime_fixture.h. Actors: tests/actor_test.cc.

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/runtime_fixture.h"
#include "tests/suite_tasks.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;
using namespace runtime_fixture;
using ::testing::ElementsAre;

// The data a performance report's page draws (the JSON in its
// <script id="weft-report-data">); null if it has none.
nlohmann::json ReportData(const std::string& html) {
  const std::string open = "<script type=\"application/json\" "
                           "id=\"weft-report-data\">";
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return nullptr;
  const size_t end = html.find("</script>", begin);
  if (end == std::string::npos) return nullptr;
  return nlohmann::json::parse(
      html.substr(begin + open.size(), end - begin - open.size()), nullptr,
      /*allow_exceptions=*/false);
}

// --- cancel ------------------------------------------------------------------

TEST_P(RuntimeTest, CancelQueuedTaskNeverRuns) {
  const int slots = client_.num_slots();
  // Two per slot: on a cluster each worker takes two tasks of a function
  // it has no run time for (saturation 2), so the target waits at the
  // scheduler; on the embedded runtime it waits in the queue.
  std::vector<weft::ObjectRef<int>> gates = FillSlots(2 * slots, slots);
  weft::ObjectRef<int> queued = weft::remote(suite::Unstarted)(dir_, "queued");
  EXPECT_TRUE(weft::cancel(queued));
  EXPECT_TRUE(queued.ready());
  EXPECT_THROW(weft::get(queued, 30s), weft::CancelledError);
  Open();
  for (const auto& g : gates) EXPECT_EQ(weft::get(g, 60s), 1);
  EXPECT_FALSE(Exists(Path("queued"))) << "a cancelled task ran";
  EXPECT_FALSE(weft::cancel(gates[0])) << "already done: not cancelled";
}

TEST_P(RuntimeTest, CancelRunningTaskDiscardsItsResultAndCancelsDependents) {
  weft::ObjectRef<int> running = weft::remote(suite::Gate)(dir_, "running");
  weft::ObjectRef<int> dependent =
      weft::remote(suite::MarkAfter)(dir_, "dependent", running);
  ASSERT_TRUE(WaitFor([&] { return Exists(Path("running.started")); }));
  EXPECT_TRUE(weft::cancel(running));
  try {
    weft::get(running, 30s);
    FAIL() << "a cancelled task's result was kept";
  } catch (const weft::CancelledError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kCancelled);
  }
  EXPECT_THROW(weft::get(dependent, 30s), weft::CancelledError);
  // The task itself learns it was cancelled (this_task::cancelled()).
  EXPECT_TRUE(WaitFor([&] { return Exists(Path("running.saw_cancel")); }));
  EXPECT_FALSE(Exists(Path("dependent")));
}

TEST_P(RuntimeTest, CancelTaskWaitingOnInputs) {
  weft::ObjectRef<int> input = weft::remote(suite::Gate)(dir_, "input");
  weft::ObjectRef<int> waiting =
      weft::remote(suite::MarkAfter)(dir_, "waiting", input);
  ASSERT_TRUE(WaitFor([&] { return Exists(Path("input.started")); }));
  EXPECT_TRUE(weft::cancel(waiting));
  EXPECT_THROW(weft::get(waiting, 30s), weft::CancelledError);
  Open();
  EXPECT_EQ(weft::get(input, 60s), 1) << "the input is not cancelled";
  EXPECT_FALSE(Exists(Path("waiting")));
}

TEST_P(RuntimeTest, CancelRunningTaskCancelsTheTasksItSubmitted) {
  constexpr int kChildren = 4;
  weft::ObjectRef<int> parent = weft::remote(suite::Parent)(dir_, kChildren);
  ASSERT_TRUE(WaitFor([&] { return CountFiles(dir_, ".started") >= 1; }));
  EXPECT_TRUE(weft::cancel(parent));
  EXPECT_THROW(weft::get(parent, 30s), weft::CancelledError);
  // Every child ended cancelled (the parent, still running, saw each get()
  // throw CancelledError), and the running ones were told.
  ASSERT_TRUE(WaitFor([&] {
    return CountFiles(dir_, ".cancelled") == kChildren;
  })) << CountFiles(dir_, ".cancelled") << " of " << kChildren << "; "
       << ReadFile(Path("parent.error"));
  for (int k = 0; k < kChildren; ++k) {
    const std::string child = Path("child-" + std::to_string(k));
    if (Exists(child + ".started")) {
      EXPECT_TRUE(WaitFor([&] { return Exists(child + ".saw_cancel"); }))
          << child;
    }
  }
  EXPECT_EQ(CountFiles(dir_, ".done"), 0);
}

// --- persist and compute share nodes across calls ----------------------------

TEST_P(RuntimeTest, PersistTotalThenPersistParts) {
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 5; ++i) {
    parts.push_back(weft::delayed(suite::MarkedSquare)(
        dir_, "part-" + std::to_string(i), i));
  }
  // The total waits at a gate, so its parts are still needed when the
  // second persist() comes.
  auto total = weft::delayed(suite::GatedTotal)(dir_, "total", parts);
  weft::ObjectRef<double> r = weft::persist(total);
  std::vector<weft::ObjectRef<double>> rs = weft::persist(parts);
  Open();
  EXPECT_EQ(weft::get(r, 60s), 30.0);
  EXPECT_THAT(weft::get(rs, 60s), ElementsAre(0, 1, 4, 9, 16));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Runs(Path("part-" + std::to_string(i))), 1) << i;
    EXPECT_EQ(rs[i].key(), parts[i].key());
  }
}

TEST_P(RuntimeTest, PersistPartsThenComputeTotal) {
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 5; ++i) {
    parts.push_back(weft::delayed(suite::MarkedSquare)(
        dir_, "part-" + std::to_string(i), i));
  }
  std::vector<weft::ObjectRef<double>> rs = weft::persist(parts);
  EXPECT_EQ(weft::compute(weft::delayed(suite::Total)(parts)), 30.0);
  EXPECT_EQ(weft::compute(weft::delayed(suite::Total)(parts)), 30.0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Runs(Path("part-" + std::to_string(i))), 1) << i;
  }
  // The same node persisted again is the same object.
  weft::ObjectRef<double> again = weft::persist(parts[2]);
  EXPECT_EQ(again, rs[2]);
  EXPECT_EQ(weft::get(again, 30s), 4.0);
}

TEST_P(RuntimeTest, ComputeAgainAfterTheResultsWereDropped) {
  auto d = weft::delayed(suite::MarkedSquare)(dir_, "again", 3.0);
  EXPECT_EQ(weft::compute(d), 9.0);
  EXPECT_EQ(weft::compute(d), 9.0);  // nothing kept it: it runs again
  EXPECT_GE(Runs(Path("again")), 1);
}

// --- large submissions
// --------------------------------------------------------

// A map, and a graph computed at once, each of 20,000 tasks: on a cluster
// the client hands such a batch over in pieces of 16,384 tasks as it makes
// it (rpc::ClusterRuntime::kSubmitPiece), and the scheduler takes a larger
// message in slices of as many (SchedulerService::Options::submit_slice;
// scheduler_service_test covers that). Every task runs once and the total,
// which depends on tasks of both pieces, is exact.
TEST_P(RuntimeTest, SubmissionsOfMoreThanASliceRunWhole) {
  constexpr int kTasks = 20000;
  std::vector<double> xs(kTasks);
  for (int i = 0; i < kTasks; ++i) xs[i] = i;
  const std::vector<double> squares =
      weft::get(weft::remote(suite::Square).map(xs), 120s);
  ASSERT_EQ(squares.size(), kTasks);
  int wrong = 0;
  for (int i = 0; i < kTasks; ++i) wrong += squares[i] != xs[i] * xs[i];
  EXPECT_EQ(wrong, 0);

  std::vector<weft::Delayed<double>> parts;
  parts.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    parts.push_back(weft::delayed(suite::Square)(xs[i]));
  }
  // The sum of i^2 for i < n is (n - 1) n (2n - 1) / 6, exact in a double.
  constexpr double n = kTasks;
  EXPECT_EQ(weft::compute(weft::delayed(suite::Total)(parts)),
            (n - 1) * n * (2 * n - 1) / 6);
}

// --- ObjectRefs as arguments and results -------------------------------------

TEST_P(RuntimeTest, TaskTakesAReference) {
  weft::ObjectRef<double> two = weft::put(2.0);
  EXPECT_EQ(weft::get(weft::remote(suite::Deref)(two), 30s), 3.0);
  EXPECT_EQ(weft::get(weft::remote(suite::Deref)(weft::remote(suite::Square)(3.0)),
                      30s),
            10.0);
  std::vector<weft::ObjectRef<double>> refs = {weft::put(1.0), weft::put(2.0),
                                               weft::remote(suite::Square)(3.0)};
  EXPECT_EQ(weft::get(weft::remote(suite::SumRefs)(refs), 30s), 12.0);
  EXPECT_EQ(weft::get(weft::remote(suite::Unwrap)(
                          suite::Holder{weft::put(7.0), "seven"}),
                      30s),
            7.0);
}

// An empty (default-constructed) reference names no object: a call that
// needs one says so with UsageError before anything is submitted; inside
// a value, or as a parameter of type ObjectRef, it travels as it is, and a
// task that then calls get() on it fails with that error.
TEST_P(RuntimeTest, AnEmptyReferenceIsAUsageErrorWhereAnObjectIsNeeded) {
  const weft::ObjectRef<double> empty;
  ASSERT_FALSE(empty.valid());
  const std::vector<weft::ObjectRef<double>> list = {weft::put(1.0), empty};
  auto says_empty = [](auto&& call) {
    try {
      call();
    } catch (const weft::UsageError& e) {
      return std::string(e.what()).find("empty ObjectRef") != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(says_empty([&] { weft::get(empty); }));
  EXPECT_TRUE(says_empty([&] { weft::get(empty, 1s); }));
  EXPECT_TRUE(says_empty([&] { weft::get(list, 1s); }));
  EXPECT_TRUE(says_empty([&] { weft::wait(list, 1, 1s); }));
  EXPECT_TRUE(says_empty([&] { weft::as_completed(list); }));
  EXPECT_TRUE(says_empty([&] { weft::cancel(empty); }));
  EXPECT_TRUE(says_empty([&] { weft::remote(suite::Square)(empty); }));
  EXPECT_TRUE(says_empty([&] { weft::remote(suite::Total)(list); }));
  EXPECT_TRUE(
      says_empty([&] { weft::compute(weft::delayed(suite::Square)(empty)); }));

  // Travels empty; the task's get() fails, and only that task.
  auto fails_empty = [](const weft::ObjectRef<double>& ref) {
    try {
      weft::get(ref, 30s);
    } catch (const weft::TaskError& e) {
      return std::string(e.what()).find("empty ObjectRef") != std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(fails_empty(weft::remote(suite::Deref)(empty)));
  EXPECT_TRUE(
      fails_empty(weft::remote(suite::Unwrap)(suite::Holder{empty, "none"})));
  EXPECT_EQ(weft::get(weft::remote(suite::Deref)(weft::put(2.0)), 30s), 3.0);
}

TEST_P(RuntimeTest, TaskReturnsReferences) {
  weft::ObjectRef<std::vector<weft::ObjectRef<double>>> outer =
      weft::remote(suite::Fan)(3, 1.0);
  std::vector<weft::ObjectRef<double>> inner = weft::get(outer, 30s);
  outer = {};  // the inner objects live on while the program holds them
  EXPECT_THAT(weft::get(inner, 30s), ElementsAre(1, 4, 9));
  suite::Holder held = weft::get(weft::remote(suite::Wrap)(8.0, "eight"), 30s);
  EXPECT_EQ(held.label, "eight");
  EXPECT_EQ(weft::get(held.ref, 30s), 8.0);
}

TEST_P(RuntimeTest, BorrowedReferenceOutlivesItsOtherHolders) {
  weft::ObjectRef<weft::ObjectRef<double>> forwarded;
  {
    weft::ObjectRef<double> five = weft::remote(suite::Square)(std::sqrt(5.0));
    forwarded = weft::remote(suite::Forward)(five);
  }  // the program's own reference is gone; the task's result holds it
  weft::ObjectRef<double> five = weft::get(forwarded, 30s);
  forwarded = {};
  EXPECT_NEAR(weft::get(five, 30s), 5.0, 1e-12);
}

TEST_P(RuntimeTest, ObjectsMadeInsideTasksAreFreedWithTheLastReference) {
  if (!IsCluster()) GTEST_SKIP() << "workers' object counts: clusters only";
  ASSERT_TRUE(WaitFor([&] { return WorkerObjects() == 0; }))
      << "objects left over: " << WorkerObjects();
  {
    std::vector<weft::ObjectRef<double>> inner =
        weft::get(weft::remote(suite::Fan)(6, 2.0), 30s);
    EXPECT_EQ(weft::get(weft::remote(suite::SumRefs)(inner), 30s),
              4 + 9 + 16 + 25 + 36 + 49);
    EXPECT_GT(WorkerObjects(), 0u);
  }
  EXPECT_TRUE(WaitFor([&] { return WorkerObjects() == 0; }))
      << WorkerObjects() << " objects still held on workers";
}

// --- workers free what they hold ----------------------------------------------

TEST_P(RuntimeTest, WorkersFreeSmallValuesTheyFetched) {
  if (!IsCluster()) GTEST_SKIP() << "workers' memory: clusters only";
  ASSERT_TRUE(WaitFor([&] { return WorkerBytes() == 0; }))
      << "bytes left over: " << WorkerBytes();
  constexpr int kRounds = 12;
  constexpr int kBlobs = 24;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<weft::ObjectRef<std::string>> blobs;
    for (int i = 0; i < kBlobs; ++i) {
      // 4 KiB to 64 KiB: values that travel inline, between workers.
      blobs.push_back(weft::remote(suite::Blob)(4096 + i * 2560, round + i));
    }
    // Each consumer takes every blob: wherever it runs, it fetches those
    // the other worker made.
    std::vector<weft::ObjectRef<int64_t>> combined;
    for (int i = 0; i < 2; ++i) {
      combined.push_back(weft::remote(suite::CombineAll)(blobs));
    }
    for (const auto& c : weft::get(combined, 60s)) EXPECT_GT(c, 0);
  }
  // Heartbeats (every 500 ms) report each worker's store: after two of
  // them, all of it must be back.
  std::this_thread::sleep_for(1200ms);
  EXPECT_TRUE(WaitFor([&] { return WorkerBytes() == 0; }, 20s))
      << WorkerBytes() << " bytes still held on workers after " << kRounds
      << " rounds";
}

// One put object of 8 KB that 300 tasks take (a bootstrap's data): on a
// cluster it travels inline to each worker once, which keeps it while its
// tasks need it (rpc::Location.keep), not with each task. Every task sees
// the whole value, and once nothing refers to the object the workers'
// stores are empty again.
TEST_P(RuntimeTest, AnInputManyTasksTakeIsKeptOnAWorkerAndFreed) {
  if (IsCluster()) {
    ASSERT_TRUE(WaitFor([&] { return WorkerBytes() == 0; }))
        << "bytes left over: " << WorkerBytes();
  }
  const std::string value = suite::Blob(8000, 7);
  {
    const weft::ObjectRef<std::string> data = weft::put(value);
    const std::vector<weft::ObjectRef<std::string>> inputs(300, data);
    const std::vector<uint64_t> digests =
        weft::get(weft::remote(suite::Digest).map(inputs), 60s);
    ASSERT_EQ(digests.size(), 300u);
    EXPECT_EQ(std::count(digests.begin(), digests.end(), suite::Digest(value)),
              300);
  }
  if (IsCluster()) {
    EXPECT_TRUE(WaitFor([&] { return WorkerBytes() == 0; }, 20s))
        << WorkerBytes() << " bytes still held on workers";
  }
}

// --- reports -------------------------------------------------------------------

// weft::performance_report and weft::trace (weft/report.h) record the
// runs inside their scope, from the runtime's processes, and not the ones
// before.
TEST_P(RuntimeTest, PerformanceReportAndTraceRecordTheRunsInside) {
  EXPECT_EQ(weft::get(weft::remote(suite::Inc)(41), 30s), 42);  // before
  const std::string html = Path("report.html");
  const std::string json = Path("trace.json");
  constexpr int kSquares = 12;
  constexpr int kBlobs = 4;
  {
    weft::performance_report report(html);
    weft::trace trace(json);
    std::vector<weft::ObjectRef<double>> squares;
    for (int i = 0; i < kSquares; ++i) {
      squares.push_back(weft::remote(suite::Square)(i));
    }
    // 256 KiB values: stored, not inline; the combining task fetches those
    // made on the other worker.
    std::vector<weft::ObjectRef<std::string>> blobs;
    for (int i = 0; i < kBlobs; ++i) {
      blobs.push_back(weft::remote(suite::Blob)(256 << 10, i));
    }
    weft::ObjectRef<int64_t> combined = weft::remote(suite::CombineAll)(blobs);
    weft::ObjectRef<int> rejected =
        weft::remote(suite::Reject)(std::string("no thanks"));
    EXPECT_EQ(weft::get(squares, 60s).size(), kSquares);
    EXPECT_GT(weft::get(combined, 60s), 0);
    EXPECT_THROW(weft::get(rejected, 60s), weft::TaskError);
  }

  // The trace: Chrome's Trace Event Format.
  nlohmann::json t = nlohmann::json::parse(ReadFile(json), nullptr, false);
  ASSERT_TRUE(t.is_object()) << ReadFile(json).substr(0, 500);
  std::map<std::string, int> runs;  // by function name
  std::map<std::string, uint64_t> worker_of;  // a run's process, by key
  int failed = 0;
  std::string failure;
  int transfers_into_combiner = 0;
  std::vector<nlohmann::json> transfers;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ASSERT_GE(e["dur"].get<int64_t>(), 0);
    const std::string cat = e["cat"];
    if (cat.starts_with("task")) {
      const std::string name = e["name"];
      ++runs[name];
      worker_of[name + "#" + e["args"]["key"].get<std::string>()] = e["pid"];
      if (cat == "task,failed") {
        ++failed;
        failure = e["args"]["exception"].get<std::string>() + ": " +
                  e["args"]["message"].get<std::string>();
      }
    } else {
      EXPECT_EQ(cat, "transfer");
      transfers.push_back(e);
    }
  }
  auto count = [&](const std::string& fn) {
    int n = 0;
    for (const auto& [name, k] : runs) {
      if (name.find(fn) != std::string::npos) n += k;
    }
    return n;
  };
  EXPECT_EQ(count("Square"), kSquares) << t.dump().substr(0, 2000);
  EXPECT_EQ(count("Blob"), kBlobs);
  EXPECT_EQ(count("CombineAll"), 1);
  EXPECT_EQ(count("Reject"), 1);
  EXPECT_EQ(count("Inc"), 0) << "a run before the scope was recorded";
  EXPECT_EQ(failed, 1);
  EXPECT_THAT(failure, ::testing::HasSubstr("invalid_argument"));
  EXPECT_THAT(failure, ::testing::HasSubstr("no thanks"));
  // Every blob made on another worker than the combining task's moved to
  // it, and the trace shows each move there.
  uint64_t combiner = 0;
  int elsewhere = 0;
  for (const auto& [key, pid] : worker_of) {
    if (key.find("CombineAll") != std::string::npos) combiner = pid;
  }
  for (const auto& [key, pid] : worker_of) {
    if (key.find("Blob") != std::string::npos && pid != combiner) ++elsewhere;
  }
  for (const auto& e : transfers) {
    if (e["pid"] == combiner && e["args"]["bytes"] >= (256 << 10)) {
      ++transfers_into_combiner;
    }
  }
  EXPECT_EQ(transfers_into_combiner, elsewhere);
  if (!IsCluster()) {
    EXPECT_EQ(elsewhere, 0);
  }

  // The report: one self-contained page with the same runs in its data.
  const std::string page = ReadFile(html);
  EXPECT_EQ(page.find("<script src="), std::string::npos) << "fetches a script";
  EXPECT_EQ(page.find("<link"), std::string::npos) << "fetches a stylesheet";
  nlohmann::json data = ReportData(page);
  ASSERT_TRUE(data.is_object()) << page.substr(0, 500);
  int recorded = 0;
  for (const auto& [name, k] : runs) recorded += k;
  EXPECT_EQ(data["summary"]["runs"], recorded);
  EXPECT_EQ(data["summary"]["failed"], 1);
  EXPECT_EQ(data["summary"]["transfers"], transfers.size());
  EXPECT_EQ(data["summary"]["workers"], IsCluster() ? 2 : 1);
  int reported = 0;
  for (const auto& f : data["functions"]) {
    if (f["function"].get<std::string>().find("Square") != std::string::npos) {
      reported += f["runs"].get<int>();
    }
  }
  EXPECT_EQ(reported, kSquares);
  ASSERT_EQ(data["failures"].size(), 1u);
  EXPECT_EQ(data["failures"][0]["message"], "no thanks");
  EXPECT_EQ(data["stream"]["tasks"].size(), recorded);
  // Where the live dashboard is: clusters serve one, the embedded runtime
  // has none.
  EXPECT_EQ(data["dashboard"].get<std::string>().empty(), !IsCluster());
  EXPECT_EQ(client_.dashboard_link().empty(), !IsCluster());
}

INSTANTIATE_TEST_SUITE_P(, RuntimeTest,
                         ::testing::Values(Runtime::kEmbedded,
                                           Runtime::kLocalCluster,
                                           Runtime::kWeftCommand),
                         [](const auto& info) { return Name(info.param); });

[[maybe_unused]] auto* const kRuntimes =
    ::testing::AddGlobalTestEnvironment(new Runtimes);

}  // namespace
