// Copyright 2026 The weft Authors.
//
// Tests of the public API on the embedded runtime.

#include "weft/weft.h"

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
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
WEFT_REMOTE(Square, Total, Fail, AddOne);

TEST(WeftTest, DelayedComputeSum) {
  weft::Client client = weft::Client::Local(2);
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
  double total = weft::compute(weft::delayed(Total)(parts));
  EXPECT_EQ(total, 285.0);
}

TEST(WeftTest, RemoteGet) {
  weft::Client client = weft::Client::Local(2);
  weft::ObjectRef<double> r = weft::remote(Square)(3.0);
  EXPECT_EQ(weft::get(r), 9.0);
  EXPECT_THAT(r.key(), HasSubstr("Square-"));
}

TEST(WeftTest, ThrowingTaskGivesTaskError) {
  weft::Client client = weft::Client::Local(2);
  auto bad = weft::remote(Fail)(-1);
  auto dependent = weft::remote(AddOne)(bad);
  auto fine = weft::remote(AddOne)(41);
  try {
    weft::get(dependent);
    FAIL() << "expected TaskError";
  } catch (const weft::TaskError& e) {
    EXPECT_EQ(e.task_name(), "Fail");
    EXPECT_EQ(e.task_key(), bad.key());
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "negative input");
    EXPECT_EQ(e.requested_key(), dependent.key());
    EXPECT_THAT(std::string(e.what()), HasSubstr("negative input"));
  }
  EXPECT_EQ(weft::get(fine), 42);
}

TEST(WeftTest, NestedTasksDoNotDeadlock) {
  weft::Client client = weft::Client::Local(2);
  std::function<int(int)> depth;
  depth = [&](int n) -> int {
    if (n == 0) return 0;
    return weft::get(weft::remote(depth)(n - 1)) + 1;
  };
  EXPECT_EQ(weft::get(weft::remote(depth)(20)), 20);
}

}  // namespace
