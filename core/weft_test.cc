// Copyright 2026 The weft Authors.
//
// Tests of the public API on the embedded runtime.

#include "weft/weft.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/testing/task_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "weft/serialize.h"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::weft::testing::TaskErrorOf;
using namespace std::chrono_literals;

double Square(double x) { return x * x; }
double Total(std::vector<double> xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}
int Fail(int x) {
  if (x < 0) throw std::invalid_argument("negative input");
  return x;
}
int AddOne(int x) { return x + 1; }
int Add(int a, int b) { return a + b; }
struct Stats {
  static double Mean(const std::vector<double>& xs) {
    return std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
  }
};
WEFT_REMOTE(Square, Total, Fail, AddOne, Add, Stats::Mean);

// A gate that tasks block on (polling a flag) until the test opens it.
class Gate {
 public:
  void Open() { open_ = true; }
  void Wait() const {
    while (!open_) std::this_thread::sleep_for(1ms);
  }

 private:
  std::atomic<bool> open_{false};
};

// Counts live instances, to check that values are freed.
struct Tracked {
  static std::atomic<int> live;
  Tracked() { ++live; }
  Tracked(const Tracked&) { ++live; }
  Tracked(Tracked&&) noexcept { ++live; }
  ~Tracked() { --live; }
  std::vector<char> payload = std::vector<char>(1000);
};
std::atomic<int> Tracked::live{0};

class WeftTest : public ::testing::Test {
 protected:
  weft::Client client_ = weft::Client::Local(2);
};

TEST_F(WeftTest, DelayedComputeSum) {
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
  double total = weft::compute(weft::delayed(Total)(parts));
  EXPECT_EQ(total, 285.0);
}

TEST_F(WeftTest, DelayedRunsNothingUntilCompute) {
  std::atomic<int> runs{0};
  auto d = weft::delayed([&runs](int x) {
    ++runs;
    return x;
  })(1);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(weft::compute(d), 1);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(WeftTest, ComputeSeveralReturnsTuple) {
  auto a = weft::delayed(Square)(2.0);
  auto b = weft::delayed(AddOne)(1);
  auto [x, y] = weft::compute(a, b);
  EXPECT_EQ(x, 4.0);
  EXPECT_EQ(y, 2);
}

TEST_F(WeftTest, ComputeVectorOfDelayed) {
  std::vector<weft::Delayed<int>> ds;
  for (int i = 0; i < 5; ++i) ds.push_back(weft::delayed(AddOne)(i));
  EXPECT_THAT(weft::compute(ds), ElementsAre(1, 2, 3, 4, 5));
}

TEST_F(WeftTest, SharedSubexpressionRunsOnce) {
  std::atomic<int> runs{0};
  auto counted = [&runs](int x) {
    ++runs;
    return x * 10;
  };
  auto shared = weft::delayed(counted)(4);
  auto sum = weft::delayed(Add)(shared, shared);
  EXPECT_EQ(weft::compute(sum), 80);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(WeftTest, PureCallsShareKeysAndRunOnce) {
  static std::atomic<int> runs{0};
  runs = 0;
  auto f = +[](int x) {
    ++runs;
    return x + 1;
  };
  auto a = weft::delayed(f, {.pure = true})(7);
  auto b = weft::delayed(f, {.pure = true})(7);
  auto c = weft::delayed(f, {.pure = true})(8);
  EXPECT_EQ(a.key(), b.key());
  EXPECT_NE(a.key(), c.key());
  EXPECT_EQ(weft::compute(weft::delayed(Add)(a, b)), 16);
  EXPECT_EQ(runs.load(), 1);
  // Impure (the default) calls never share.
  auto d = weft::delayed(f)(7);
  auto e = weft::delayed(f)(7);
  EXPECT_NE(d.key(), e.key());
}

TEST_F(WeftTest, DeepChainComputesWithoutRecursion) {
  weft::Delayed<int> d = weft::delayed(AddOne)(0);
  for (int i = 1; i < 20000; ++i) d = weft::delayed(AddOne)(d);
  EXPECT_EQ(weft::compute(d), 20000);
}

TEST_F(WeftTest, PersistStartsAndReturnsRef) {
  auto ref = weft::persist(weft::delayed(Square)(5.0));
  EXPECT_EQ(weft::get(ref), 25.0);
  auto refs = weft::persist(std::vector{weft::delayed(AddOne)(1),
                                        weft::delayed(AddOne)(2)});
  EXPECT_THAT(weft::get(refs), ElementsAre(2, 3));
}

TEST_F(WeftTest, DelayedTakesObjectRefsAndVectorsOfThem) {
  auto x = weft::put(3.0);
  std::vector<weft::ObjectRef<double>> xs = {weft::put(1.0), weft::put(2.0)};
  EXPECT_EQ(weft::compute(weft::delayed(Square)(x)), 9.0);
  EXPECT_EQ(weft::compute(weft::delayed(Total)(xs)), 3.0);
}

TEST_F(WeftTest, ToDotDescribesGraph) {
  auto a = weft::delayed(Square)(1.0);
  auto b = weft::delayed(Square)(2.0);
  auto t = weft::delayed(Total)(std::vector{a, b});
  std::string dot = weft::to_dot(t);
  EXPECT_THAT(dot, HasSubstr("digraph weft"));
  EXPECT_THAT(dot, HasSubstr("\"" + a.key() + "\" -> \"" + t.key() + "\""));
  EXPECT_THAT(dot, HasSubstr("\"" + b.key() + "\" -> \"" + t.key() + "\""));
  EXPECT_THAT(dot, HasSubstr("label=\"Total\""));
  std::string path = ::testing::TempDir() + "/graph.dot";
  EXPECT_TRUE(weft::visualize(dot, path));
}

TEST_F(WeftTest, RemoteGetAndKeys) {
  weft::ObjectRef<double> r = weft::remote(Square)(3.0);
  EXPECT_EQ(weft::get(r), 9.0);
  EXPECT_TRUE(r.ready());
  EXPECT_THAT(r.key(), HasSubstr("Square-"));
  auto s = weft::remote(Stats::Mean)(std::vector<double>{1, 2, 3});
  EXPECT_EQ(weft::get(s), 2.0);
  EXPECT_THAT(s.key(), HasSubstr("Stats::Mean-"));
}

TEST_F(WeftTest, LambdasWithCapturesAndMoveOnlyResults) {
  int base = 100;
  auto r = weft::remote([base](int x) { return base + x; })(5);
  EXPECT_EQ(weft::get(r), 105);
  auto u = weft::remote([] { return std::make_unique<int>(7); })();
  // A move-only value can be read in place through another task.
  auto v = weft::remote([](const std::unique_ptr<int>& p) { return *p; })(u);
  EXPECT_EQ(weft::get(v), 7);
}

TEST_F(WeftTest, VoidTasksCompleteAndReportErrors) {
  std::atomic<int> calls{0};
  auto ok = weft::remote([&calls] { ++calls; })();
  weft::get(ok);
  EXPECT_EQ(calls.load(), 1);
  auto bad = weft::remote([] { throw std::runtime_error("void failed"); })();
  EXPECT_THROW(weft::get(bad), weft::TaskError);
}

TEST_F(WeftTest, TaskMayTakeAndReturnObjectRefs) {
  auto inner = weft::remote([] {
    return weft::remote(AddOne)(41);  // a task returning a reference
  })();
  weft::ObjectRef<int> ref = weft::get(inner);
  EXPECT_EQ(weft::get(ref), 42);
  // A parameter declared as ObjectRef receives the reference itself.
  auto outer = weft::remote([](weft::ObjectRef<int> r) {
    return weft::get(r) * 2;
  })(ref);
  EXPECT_EQ(weft::get(outer), 84);
}

TEST_F(WeftTest, ThrowingTaskGivesTaskErrorWithRootCause) {
  auto bad = weft::remote(Fail)(-1);
  auto dependent = weft::remote(AddOne)(bad);
  auto grandchild = weft::remote(AddOne)(dependent);
  auto fine = weft::remote(AddOne)(41);
  const auto e = TaskErrorOf([&] { weft::get(grandchild); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), weft::ErrorKind::kTaskFailed);
  EXPECT_EQ(e->task_name(), "Fail");
  EXPECT_EQ(e->task_key(), bad.key());
  EXPECT_EQ(e->exception_type(), "std::invalid_argument");
  EXPECT_EQ(e->message(), "negative input");
  EXPECT_EQ(e->requested_key(), grandchild.key());
  EXPECT_THAT(std::string(e->what()), HasSubstr("negative input"));
  EXPECT_THAT(std::string(e->what()), HasSubstr(grandchild.key()));
  EXPECT_EQ(weft::get(fine), 42);  // independent tasks go on
  EXPECT_THROW(weft::compute(weft::delayed(Fail)(-5)), weft::TaskError);
}

TEST_F(WeftTest, NonStandardExceptionIsReported) {
  auto r = weft::remote([]() -> int { throw 42; })();
  const auto e = TaskErrorOf([&] { weft::get(r); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exception_type(), "int");
  EXPECT_THAT(e->message(), HasSubstr("unknown exception"));
}

TEST_F(WeftTest, RetriesRerunAFlakyTask) {
  std::atomic<int> attempts{0};
  auto flaky = [&attempts]() {
    if (++attempts < 3) throw std::runtime_error("flaky");
    return attempts.load();
  };
  EXPECT_EQ(weft::get(weft::remote(flaky, {.retries = 2})()), 3);
  attempts = 0;
  EXPECT_THROW(weft::get(weft::remote(flaky, {.retries = 1})()),
               weft::TaskError);
  EXPECT_EQ(attempts.load(), 2);
}

TEST_F(WeftTest, OptionsNameAppearsInKeyAndErrors) {
  auto r = weft::remote(Fail, {.name = "validate"})(-1);
  EXPECT_THAT(r.key(), HasSubstr("validate-"));
  const auto e = TaskErrorOf([&] { weft::get(r); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->task_name(), "validate");
}

TEST_F(WeftTest, GetWithTimeoutThrowsAndTaskGoesOn) {
  auto gate = std::make_shared<Gate>();
  auto slow = weft::remote([gate] {
    gate->Wait();
    return 1;
  })();
  EXPECT_THROW(weft::get(slow, 20ms), weft::TimeoutError);
  gate->Open();
  EXPECT_EQ(weft::get(slow, 10s), 1);
  std::vector<weft::ObjectRef<int>> refs = {slow};
  EXPECT_THAT(weft::get(refs, 10s), ElementsAre(1));
}

TEST_F(WeftTest, GetVectorWithTimeout) {
  auto gate = std::make_shared<Gate>();
  std::vector<weft::ObjectRef<int>> refs = {
      weft::remote(AddOne)(1), weft::remote([gate] {
        gate->Wait();
        return 0;
      })()};
  EXPECT_THROW(weft::get(refs, 20ms), weft::TimeoutError);
  gate->Open();
  EXPECT_THAT(weft::get(refs), ElementsAre(2, 0));
}

TEST_F(WeftTest, GetVectorWithRepeatsAndMixedCompletion) {
  // A done prefix, a pending one in the middle, the same ref twice, and a
  // large tail: get() returns once everything is done, in order.
  auto gate = std::make_shared<Gate>();
  weft::ObjectRef<int> done = weft::remote(AddOne)(0);
  (void)weft::get(done);
  weft::ObjectRef<int> held = weft::remote([gate] {
    gate->Wait();
    return -1;
  })();
  std::vector<weft::ObjectRef<int>> refs = {done, held, done};
  for (int i = 0; i < 2000; ++i) refs.push_back(weft::remote(AddOne)(i));
  refs.push_back(held);
  EXPECT_THROW(weft::get(refs, 20ms), weft::TimeoutError);
  gate->Open();
  std::vector<int> out = weft::get(refs, 30s);
  ASSERT_EQ(out.size(), refs.size());
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], -1);
  EXPECT_EQ(out[2], 1);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(out[3 + i], i + 1);
  EXPECT_EQ(out.back(), -1);
}

TEST_F(WeftTest, CancelQueuedTaskAndItsDependents) {
  // Occupy both slots so the victim stays queued.
  auto gate = std::make_shared<Gate>();
  std::vector<weft::ObjectRef<int>> blockers;
  for (int i = 0; i < 2; ++i) {
    blockers.push_back(weft::remote([gate] {
      gate->Wait();
      return 0;
    })());
  }
  std::atomic<bool> ran{false};
  auto victim = weft::remote([&ran] {
    ran = true;
    return 1;
  })();
  auto dependent = weft::remote(AddOne)(victim);
  EXPECT_TRUE(weft::cancel(victim));
  gate->Open();
  EXPECT_THROW(weft::get(victim), weft::CancelledError);
  EXPECT_THROW(weft::get(dependent), weft::CancelledError);
  weft::get(blockers);
  EXPECT_FALSE(ran.load());
  // Cancelling a finished task changes nothing.
  auto done = weft::remote(AddOne)(1);
  EXPECT_EQ(weft::get(done), 2);
  EXPECT_FALSE(weft::cancel(done));
  EXPECT_EQ(weft::get(done), 2);
}

TEST_F(WeftTest, CancelRunningTaskDiscardsResult) {
  auto gate = std::make_shared<Gate>();
  std::atomic<bool> started{false};
  auto running = weft::remote([gate, &started] {
    started = true;
    gate->Wait();
    return 1;
  })();
  while (!started) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(weft::cancel(running));
  EXPECT_THROW(weft::get(running), weft::CancelledError);
  gate->Open();
}

TEST_F(WeftTest, WaitSplitsReadyAndNotReady) {
  auto gate = std::make_shared<Gate>();
  std::vector<weft::ObjectRef<int>> refs = {
      weft::remote(AddOne)(1), weft::remote(Fail)(-1),
      weft::remote([gate] {
        gate->Wait();
        return 0;
      })()};
  weft::WaitResult<int> w = weft::wait(refs, 2, 10s);
  EXPECT_EQ(w.ready.size(), 2u);  // a failure counts as ready
  ASSERT_EQ(w.not_ready.size(), 1u);
  EXPECT_EQ(w.not_ready[0], refs[2]);
  // A timeout returns what is ready so far.
  w = weft::wait(refs, 3, 20ms);
  EXPECT_EQ(w.ready.size(), 2u);
  gate->Open();
  w = weft::wait(refs, 3);
  EXPECT_EQ(w.ready.size(), 3u);
  EXPECT_TRUE(w.not_ready.empty());
}

TEST_F(WeftTest, AsCompletedYieldsInCompletionOrder) {
  auto gate = std::make_shared<Gate>();
  auto slow = weft::remote([gate] {
    gate->Wait();
    return 1;
  })();
  auto fast = weft::remote(AddOne)(1);
  std::vector<weft::ObjectRef<int>> refs = {slow, fast};
  auto completed = weft::as_completed(refs);
  auto first = completed.next(10s);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, fast);
  EXPECT_THROW(completed.next(20ms), weft::TimeoutError);
  gate->Open();
  std::vector<int> rest;
  for (const auto& r : completed) rest.push_back(weft::get(r));
  EXPECT_THAT(rest, ElementsAre(1));
  EXPECT_FALSE(completed.next().has_value());
}

TEST_F(WeftTest, MapIsOneTaskPerElement) {
  std::vector<int> xs(100);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<weft::ObjectRef<int>> refs = weft::map(AddOne, xs);
  std::vector<int> out = weft::get(refs);
  ASSERT_EQ(out.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], i + 1);
  // Several inputs zip; ObjectRefs are resolved.
  std::vector<weft::ObjectRef<int>> ys = weft::map(Add, refs, xs);
  EXPECT_EQ(weft::get(ys)[10], 21);
  EXPECT_THROW(weft::map(Add, xs, std::vector<int>(3)),
               std::invalid_argument);
  auto squares = weft::remote(Square, {.priority = 1}).map(std::vector{1.0, 2.0});
  EXPECT_THAT(weft::get(squares), ElementsAre(1.0, 4.0));
}

TEST_F(WeftTest, PutValuesAreSharedByTasks) {
  auto data = weft::put(std::vector<double>{1, 2, 3, 4});
  std::vector<weft::ObjectRef<double>> means;
  for (int i = 0; i < 4; ++i) means.push_back(weft::remote(Stats::Mean)(data));
  EXPECT_THAT(weft::get(means), ElementsAre(2.5, 2.5, 2.5, 2.5));
}

TEST_F(WeftTest, ValuesAreFreedWhenLastRefDies) {
  ASSERT_EQ(Tracked::live.load(), 0);
  {
    auto ref = weft::remote([] { return Tracked(); })();
    weft::get(ref);  // a copy, destroyed at once
    EXPECT_EQ(Tracked::live.load(), 1);
    // A pending task's argument keeps the value alive too.
    auto gate = std::make_shared<Gate>();
    auto user = weft::remote([gate](const Tracked&) {
      gate->Wait();
      return 1;
    })(ref);
    ref = {};
    EXPECT_EQ(Tracked::live.load(), 1);
    gate->Open();
    EXPECT_EQ(weft::get(user), 1);
    // The task has let go of its argument once done.
    for (int i = 0; i < 1000 && Tracked::live.load() != 0; ++i) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(Tracked::live.load(), 0);
  }
  {
    auto p = weft::put(Tracked());
    EXPECT_EQ(Tracked::live.load(), 1);
  }
  EXPECT_EQ(Tracked::live.load(), 0);
  // compute() moves the result out when nobody else holds it.
  {
    Tracked t = weft::compute(weft::delayed([] { return Tracked(); })());
    EXPECT_EQ(Tracked::live.load(), 1);
  }
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(WeftNestedTest, NestedTwentyLevelsOnTwoThreads) {
  weft::Client client = weft::Client::Local(2);
  std::function<int(int)> depth;
  depth = [&](int n) -> int {
    if (n == 0) return 0;
    return weft::get(weft::remote(depth)(n - 1)) + 1;
  };
  EXPECT_EQ(weft::get(weft::remote(depth)(20)), 20);
}

int Fib(int n) {
  if (n < 2) return n;
  auto a = weft::remote(Fib)(n - 1);
  auto b = weft::remote(Fib)(n - 2);
  return weft::get(a) + weft::get(b);
}
WEFT_REMOTE(Fib);

TEST(WeftNestedTest, RecursiveFibonacciOnOneThread) {
  weft::Client client = weft::Client::Local(1);
  EXPECT_EQ(weft::get(weft::remote(Fib)(15)), 610);
}

TEST(WeftNestedTest, FanOutAndReduceInsideATask) {
  weft::Client client = weft::Client::Local(2);
  auto r = weft::remote([] {
    std::vector<weft::ObjectRef<double>> parts = weft::map(
        Square, std::vector<double>{1, 2, 3});
    return Total(weft::get(parts));
  })();
  EXPECT_EQ(weft::get(r), 14.0);
}

TEST(WeftSlotsTest, MultiCpuTaskHoldsSeveralSlots) {
  weft::Client client = weft::Client::Local(2);
  std::atomic<int> running{0}, max_running{0};
  auto body = [&](int cpus) {
    EXPECT_EQ(weft::this_task::num_cpus(), cpus);
    int now = ++running;
    int prev = max_running.load();
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(5ms);
    --running;
    return 0;
  };
  std::vector<weft::ObjectRef<int>> refs;
  for (int i = 0; i < 6; ++i) {
    refs.push_back(weft::remote(body, {.num_cpus = 2})(2));
  }
  weft::get(refs);
  EXPECT_EQ(max_running.load(), 1);  // each holds both slots
  EXPECT_FALSE(weft::this_task::active());
  EXPECT_EQ(weft::this_task::num_cpus(), 1);
}

TEST(WeftSlotsTest, HigherPriorityRunsFirst) {
  weft::Client client = weft::Client::Local(1);
  auto gate = std::make_shared<Gate>();
  auto blocker = weft::remote([gate] {
    gate->Wait();
    return 0;
  })();
  std::vector<int> order;
  std::mutex mu;
  auto record = [&](int x) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(x);
    return x;
  };
  auto low = weft::remote(record, {.priority = 0})(0);
  auto high = weft::remote(record, {.priority = 5})(5);
  gate->Open();
  weft::get(std::vector{low, high});
  weft::get(blocker);
  EXPECT_THAT(order, ElementsAre(5, 0));
}

TEST(WeftClientTest, ExplicitClientMethods) {
  weft::Client a = weft::Client::Local(1);
  weft::Client b = weft::Client::Local(2);  // now the default
  EXPECT_EQ(weft::Client::Current().num_slots(), 2);
  a.make_default();
  EXPECT_EQ(weft::Client::Current().num_slots(), 1);
  auto r = b.remote(Square)(4.0);
  EXPECT_EQ(b.get(r), 16.0);
  EXPECT_EQ(b.get(r, 1s), 16.0);
  EXPECT_EQ(b.compute(weft::delayed(AddOne)(1)), 2);
  auto w = b.wait(std::vector{r}, 1, 1s);
  EXPECT_EQ(w.ready.size(), 1u);
  EXPECT_TRUE(b.cancel(b.remote(AddOne)(1)) || true);
  auto xs = b.map(AddOne, std::vector{1, 2});
  EXPECT_THAT(b.get(xs), ElementsAre(2, 3));
  auto p = b.put(5);
  EXPECT_EQ(b.get(p), 5);
}

TEST(WeftClientTest, ShutdownFailsQueuedTasks) {
  weft::ObjectRef<int> queued;
  auto gate = std::make_shared<Gate>();
  weft::ObjectRef<int> running;
  {
    weft::Client client = weft::Client::Local(1);
    auto started = std::make_shared<std::atomic<bool>>(false);
    running = weft::remote([gate, started] {
      *started = true;
      gate->Wait();
      return 1;
    })();
    while (!*started) std::this_thread::sleep_for(1ms);
    queued = weft::remote(AddOne)(1);
    std::thread opener([gate] {
      std::this_thread::sleep_for(20ms);
      gate->Open();
    });
    opener.detach();
  }  // the client's runtime shuts down here
  EXPECT_EQ(weft::get(running), 1);
  // A task queued behind a running one cannot have run.
  const auto e = TaskErrorOf([&] { weft::get(queued); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), weft::ErrorKind::kShutdown);
}

TEST(WeftClientTest, ImplicitDefaultClientWorks) {
  // No client alive in this test: free functions create one.
  EXPECT_EQ(weft::get(weft::remote(AddOne)(1)), 2);
}

}  // namespace

namespace {

// Regression: with wake-ups coalesced, a burst of two tasks where the first
// blocks must still run the second on the other thread.
TEST(WeftWakeupTest, SecondTaskOfABurstRunsWhileFirstBlocks) {
  for (int round = 0; round < 50; ++round) {
    weft::Client client = weft::Client::Local(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // runners asleep
    auto gate = std::make_shared<std::atomic<bool>>(false);
    auto slow = weft::remote([gate] {
      while (!*gate) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return 1;
    })();
    auto fast = weft::remote([] { return 2; })();
    EXPECT_EQ(weft::get(fast, std::chrono::seconds(10)), 2) << round;
    *gate = true;
    EXPECT_EQ(weft::get(slow), 1);
  }
}

}  // namespace

namespace {

// Resolves references by making fresh states, and remembers what it saw.
class FakeResolver final : public weft::internal::RefResolver {
 public:
  absl::StatusOr<std::shared_ptr<weft::internal::ObjectState>> Resolve(
      uint64_t id, std::string_view name) override {
    seen.emplace_back(id, std::string(name));
    return std::make_shared<weft::internal::ObjectState>(id, name);
  }
  std::vector<std::pair<uint64_t, std::string>> seen;
};

struct IdsSeen final : weft::internal::RefCollector {
  void Add(uint64_t id) override { ids.push_back(id); }
  std::vector<uint64_t> ids;
};

TEST(ObjectRefSerializationTest, TravelsAsIdAndNameThroughTheRuntimeHooks) {
  weft::Client client = weft::Client::Local(1);
  std::vector<weft::ObjectRef<double>> refs = {
      client.put(1.0), weft::ObjectRef<double>(), client.put(2.0)};
  const size_t size = weft::SerializedSize(refs);
  std::string bytes(size, '\0');
  IdsSeen written;
  ASSERT_TRUE(weft::internal::SerializeIntoWithRefs(refs, bytes.data(), size,
                                                    &written));
  EXPECT_THAT(written.ids, ElementsAre(refs[0].id(), refs[2].id()));

  FakeResolver resolver;
  auto back = weft::internal::DeserializeWithRefs<
      std::vector<weft::ObjectRef<double>>>(bytes, &resolver);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[0].id(), refs[0].id());
  EXPECT_FALSE((*back)[1].valid());
  EXPECT_EQ((*back)[2].key(), refs[2].key());
  EXPECT_EQ(resolver.seen.size(), 2u);

  // Outside a runtime there is nobody to hold the reference.
  auto refused = weft::Deserialize<std::vector<weft::ObjectRef<double>>>(bytes);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("can only be decoded by a weft runtime"));
}

}  // namespace
