#include "examples/blas_threads.h"

#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cblas.h"
#include "gtest/gtest.h"

namespace weft::examples {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Waits (polling) until `done()` holds; false after 30 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// The thread count OpenBLAS reports inside a section of `threads` threads.
int CountInside(BlasThreads& gate, int threads) {
  auto section = gate.Enter(threads);
  return openblas_get_num_threads();
}

TEST(BlasThreadsTest, EachSectionSetsItsCount) {
  BlasThreads gate;
  {
    auto section = gate.Enter(2);
    EXPECT_EQ(section.threads(), 2);
    EXPECT_EQ(openblas_get_num_threads(), 2);
  }
  {
    auto section = gate.Enter(1);
    EXPECT_EQ(section.threads(), 1);
    EXPECT_EQ(openblas_get_num_threads(), 1);
  }
  EXPECT_EQ(CountInside(gate, 3), 3);
  EXPECT_EQ(gate.peak_threads(), 3);
}

TEST(BlasThreadsTest, OneThreadSectionsRunTogether) {
  BlasThreads gate;
  auto held = gate.Enter(1);
  // Another one-thread section enters while this one is inside.
  auto other =
      std::async(std::launch::async, [&] { return CountInside(gate, 1); });
  ASSERT_EQ(other.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(other.get(), 1);
  EXPECT_EQ(gate.peak_threads(), 2);
}

TEST(BlasThreadsTest, ThreadedSectionRunsAlone) {
  BlasThreads gate;
  std::optional<BlasThreads::Section> held;
  held.emplace(gate.Enter(1));
  auto threaded =
      std::async(std::launch::async, [&] { return CountInside(gate, 2); });
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  EXPECT_EQ(threaded.wait_for(milliseconds(0)), std::future_status::timeout);
  held.reset();  // leave: now the threaded section may enter
  ASSERT_EQ(threaded.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(threaded.get(), 2);
  EXPECT_EQ(gate.peak_threads(), 2);  // never 1 + 2
}

TEST(BlasThreadsTest, SectionsEnterInArrivalOrder) {
  BlasThreads gate;
  std::mutex mu;
  std::vector<int> order;  // counts seen inside, in order of entry
  auto enter = [&](int threads) {
    auto section = gate.Enter(threads);
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(openblas_get_num_threads());
  };
  std::optional<BlasThreads::Section> held;
  held.emplace(gate.Enter(1));
  auto threaded = std::async(std::launch::async, enter, 2);
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 1; }));
  // A one-thread section could join the one inside, but it arrived after
  // the waiting threaded section, so it waits too.
  auto single = std::async(std::launch::async, enter, 1);
  ASSERT_TRUE(Eventually([&] { return gate.waiting() == 2; }));
  held.reset();
  ASSERT_EQ(threaded.wait_for(seconds(30)), std::future_status::ready);
  ASSERT_EQ(single.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  EXPECT_EQ(gate.waiting(), 0);
}

TEST(BlasThreadsTest, EnterTimesOut) {
  BlasThreads gate(milliseconds(50));
  std::optional<BlasThreads::Section> held;
  held.emplace(gate.Enter(1));
  auto threaded = std::async(std::launch::async, [&] {
    EXPECT_THROW(gate.Enter(2), std::runtime_error);
  });
  ASSERT_EQ(threaded.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(gate.waiting(), 0);  // the timed-out section left the line
  // ... and the one inside can still be joined.
  auto single =
      std::async(std::launch::async, [&] { return CountInside(gate, 1); });
  ASSERT_EQ(single.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(single.get(), 1);
  held.reset();
  EXPECT_EQ(CountInside(gate, 2), 2);
}

TEST(BlasThreadsTest, RejectsFewerThanOneThread) {
  BlasThreads gate;
  EXPECT_THROW(gate.Enter(0), std::invalid_argument);
  EXPECT_EQ(gate.waiting(), 0);
}

}  // namespace
}  // namespace weft::examples
