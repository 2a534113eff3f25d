// Copyright 2026 The weft Authors.
//
// The API's promises (docs/api.md) on every runtime: the embedded runtime,
// a LocalCluster, and a cluster started with the `weft` command (`weft
// scheduler` + `weft worker --load=libsuite_tasks.so`). Each test runs once
// per runtime; the runtimes are made once and shared by the tests.

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/suite_tasks.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using weft::testing::RunfilePath;
using weft::testing::WeftCluster;

enum class Runtime { kEmbedded, kLocalCluster, kWeftCommand };

std::string Name(Runtime r) {
  switch (r) {
    case Runtime::kEmbedded:
      return "Embedded";
    case Runtime::kLocalCluster:
      return "LocalCluster";
    case Runtime::kWeftCommand:
      return "WeftCommand";
  }
  return "?";
}

// The three runtimes, made on first use and stopped after the last test.
class Runtimes : public ::testing::Environment {
 public:
  static weft::Client Get(Runtime r) {
    auto it = clients_.find(r);
    if (it != clients_.end()) return it->second;
    switch (r) {
      case Runtime::kEmbedded:
        clients_.emplace(r, weft::Client::Local(2));
        break;
      case Runtime::kLocalCluster:
        local_ = std::make_unique<weft::LocalCluster>(2);
        clients_.emplace(r, local_->client());
        break;
      case Runtime::kWeftCommand: {
        auto cluster = WeftCluster::Start(
            {.workers = 2, .loads = {RunfilePath("tests/libsuite_tasks.so")}});
        if (!cluster.ok()) {
          ADD_FAILURE() << cluster.status();
          std::abort();
        }
        command_ = *std::move(cluster);
        clients_.emplace(r, weft::Client::Connect(command_->address(),
                                                  command_->token_file()));
        break;
      }
    }
    return clients_.at(r);
  }

  void TearDown() override {
    clients_.clear();  // before the clusters they talk to
    local_.reset();
    command_.reset();
  }

 private:
  static inline std::map<Runtime, weft::Client> clients_;
  static inline std::unique_ptr<weft::LocalCluster> local_;
  static inline std::unique_ptr<WeftCluster> command_;
};

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// The contents of a file ("" if there is none).
std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Lines in a file written by suite::Mark (0 if none).
int Runs(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Waits (bounded) until `done()`.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::seconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Files in `dir` whose names end in `suffix`.
int CountFiles(const std::string& dir, const std::string& suffix) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      n += name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
               0;
    }
    ::closedir(d);
  }
  return n;
}

class RuntimeTest : public ::testing::TestWithParam<Runtime> {
 protected:
  void SetUp() override {
    client_ = Runtimes::Get(GetParam());
    client_.make_default();
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/rt-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    Open();  // no gate may outlive its test
  }

  void Open() {
    const int fd = ::open((dir_ + "/open").c_str(), O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) ::close(fd);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  bool IsCluster() const { return GetParam() != Runtime::kEmbedded; }

  // Starts `n` Gate tasks (named gate-K) and waits until `running` of them
  // run: every task slot is then busy.
  std::vector<weft::ObjectRef<int>> FillSlots(int n, int running) {
    std::vector<weft::ObjectRef<int>> gates;
    for (int k = 0; k < n; ++k) {
      gates.push_back(weft::remote(suite::Gate)(dir_, "gate-" + std::to_string(k)));
    }
    EXPECT_TRUE(WaitFor([&] { return CountFiles(dir_, ".started") >= running; }));
    return gates;
  }

  uint64_t WorkerObjects() {
    uint64_t n = 0;
    for (const auto& w : client_.workers()) n += w.objects;
    return n;
  }
  uint64_t WorkerBytes() {
    uint64_t n = 0;
    for (const auto& w : client_.workers()) n += w.memory_bytes;
    return n;
  }

  weft::Client client_ = weft::Client::Local(1);
  std::string dir_;
};

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

INSTANTIATE_TEST_SUITE_P(, RuntimeTest,
                         ::testing::Values(Runtime::kEmbedded,
                                           Runtime::kLocalCluster,
                                           Runtime::kWeftCommand),
                         [](const auto& info) { return Name(info.param); });

[[maybe_unused]] auto* const kRuntimes =
    ::testing::AddGlobalTestEnvironment(new Runtimes);

}  // namespace
