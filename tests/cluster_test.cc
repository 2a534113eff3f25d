// Copyright 2026 The weft Authors.
//
// Integration tests: a LocalCluster of real worker processes over loopback.

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "weft/weft.h"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

double Square(double x) { return x * x; }
double Total(std::vector<double> xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}
int AddOne(int x) { return x + 1; }
int Fail(int x) {
  if (x < 0) throw std::invalid_argument("negative input");
  return x;
}
std::string Hello() { return "Hello, World"; }
WEFT_REMOTE(Square, Total, AddOne, Fail, Hello);

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new weft::LocalCluster(2); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { cluster_->client().make_default(); }

  static weft::LocalCluster* cluster_;
};
weft::LocalCluster* ClusterTest::cluster_ = nullptr;

TEST_F(ClusterTest, DelayedGraphAcrossWorkers) {
  std::vector<weft::Delayed<double>> parts;
  for (int i = 0; i < 10; ++i) parts.push_back(weft::delayed(Square)(i));
  EXPECT_EQ(weft::compute(weft::delayed(Total)(parts)), 285.0);
}

TEST_F(ClusterTest, RemoteAndMap) {
  EXPECT_EQ(weft::get(weft::remote(Square)(3.0)), 9.0);
  std::vector<int> xs(1000);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<int> out = weft::get(weft::map(AddOne, xs), 60s);
  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[i], i + 1);
}

TEST_F(ClusterTest, ThrowingTaskIsReportedWithRootCause) {
  auto bad = weft::remote(Fail)(-1);
  auto dependent = weft::remote(AddOne)(bad);
  try {
    weft::get(dependent, 30s);
    FAIL();
  } catch (const weft::TaskError& e) {
    EXPECT_EQ(e.task_name(), "Fail");
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "negative input");
  }
  EXPECT_EQ(weft::get(weft::remote(AddOne)(1), 30s), 2);
}

TEST_F(ClusterTest, UnregisteredFunctionIsAClearError) {
  try {
    weft::remote([](int x) { return x; })(1);
    FAIL();
  } catch (const weft::UsageError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("WEFT_REMOTE"));
  }
}

TEST_F(ClusterTest, RunOnAllWorkersAndWorkers) {
  weft::Client client = cluster_->client();
  EXPECT_EQ(client.workers().size(), 2u);
  EXPECT_THAT(client.run_on_all_workers(Hello),
              ElementsAre("Hello, World", "Hello, World"));
}

TEST_F(ClusterTest, PutAndBroadcast) {
  weft::Client client = cluster_->client();
  auto data = weft::put(std::vector<double>{1, 2, 3});
  EXPECT_EQ(weft::get(weft::remote(Total)(data), 30s), 6.0);
  auto everywhere = client.broadcast(std::vector<double>{4, 5});
  EXPECT_EQ(weft::get(weft::remote(Total)(everywhere), 30s), 9.0);
}

}  // namespace

namespace {

int Fib(int n) {
  if (n < 2) return n;
  auto a = weft::remote(Fib)(n - 1);
  auto b = weft::remote(Fib)(n - 2);
  return weft::get(a) + weft::get(b);
}
WEFT_REMOTE(Fib);

// A task blocked in get() gives its cpu back to the scheduler (secede), so
// recursion cannot deadlock even one single-threaded worker.
TEST(NestedClusterTest, RecursiveFibonacciOnOneWorker) {
  weft::LocalCluster cluster(1);
  EXPECT_EQ(weft::get(weft::remote(Fib)(10), std::chrono::seconds(60)), 55);
}

}  // namespace
