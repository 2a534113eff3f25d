// Copyright 2026 The weft Authors.
//
// A 200 MB object made by a task on one worker and used by a task on
// another: it moves worker to worker in chunks, far above gRPC's 4 MB
// message limit, and arrives intact.

#include <chrono>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;

constexpr int64_t kDoubles = 25'000'000;  // 200 MB

// A recognisable pattern, so a lost or reordered chunk cannot go unnoticed.
std::vector<double> Make(int64_t n) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1000003);
  return v;
}

// Checks both vectors element by element; returns how many matched.
int64_t Compare(const std::vector<double>& a, const std::vector<double>& b) {
  int64_t same = 0;
  const int64_t n = static_cast<int64_t>(std::min(a.size(), b.size()));
  for (int64_t i = 0; i < n; ++i) same += a[i] == b[i];
  return same;
}

pid_t Pid() { return ::getpid(); }
WEFT_REMOTE(Make, Compare, Pid);

TEST(TransferTest, TwoHundredMegabytesBetweenWorkers) {
  weft::LocalCluster cluster(2);
  // Both are ready at once, so they go to different (least loaded)
  // workers; Compare then runs where the larger input is and fetches the
  // other 200 MB from its peer.
  auto a = weft::remote(Make)(kDoubles);
  auto b = weft::remote(Make)(kDoubles + 1);
  weft::wait(std::vector{a, b}, 2, 120s);
  auto same = weft::remote(Compare)(a, b);
  EXPECT_EQ(weft::get(same, 120s), kDoubles);
  // The worker that ran Compare now holds both objects: it fetched one.
  uint64_t most = 0;
  for (const auto& w : cluster.client().workers()) {
    most = std::max(most, w.memory_bytes);
  }
  EXPECT_GE(most, uint64_t{2} * kDoubles * sizeof(double));
  // And the client can fetch it too.
  std::vector<double> local = weft::get(a, 120s);
  ASSERT_EQ(local.size(), static_cast<size_t>(kDoubles));
  EXPECT_EQ(local[1000003 + 5], 5.0);
}

}  // namespace
