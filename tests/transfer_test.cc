// Copyright 2026 The weft Authors.
//
// A 200 MB object made by a task on one worker and used by a task on
// another: it moves worker to worker in chunks, far above gRPC's 4 MB
// message limit, and arrives intact.

#include <chrono>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "tests/pattern_arrays.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;

constexpr int64_t kDoubles = 25'000'000;  // 200 MB

using weft::testing::Compare;
using weft::testing::Make;

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
