// Copyright 2026 The weft Authors.
//
// Tiny tasks reach workers in runs (SchedulerState::Options::pack_time)
// through the real service: a SchedulerServer with its default options, as
// LocalCluster and `weft scheduler` run it, 200 simulated workers on frame
// streams (SimWorkers, which report a run time of 1 us), and a client
// mapping 2,000 tasks. Spread one at a time over 200 workers, a message
// would carry at most 10 of them; in runs, up to 100. The results are
// exact either way.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/testing/server_fixture.h"
#include "scheduler/testing/sim_workers.h"
#include "weft/weft.h"

namespace {

int64_t Inc(int64_t x) { return x + 1; }  // what SimWorkers answer

}  // namespace

WEFT_REMOTE(Inc);

namespace weft::scheduler {
namespace {

using testing::SimWorkers;

constexpr char kToken[] = "packing-service-test-token";

class PackingServiceTest : public testing::SchedulerServerTest {
 protected:
  void SetUp() override {
    // 200 workers and their scheduler ends, in this process.
    ASSERT_GT(SimWorkers::RaiseOpenFileLimit(), 0u);
    token_file_ = WriteTokenFile(kToken);
    SchedulerService::Options options;  // pack_time as shipped: 100 us
    options.token = kToken;
    StartServer(options);
  }

  std::string token_file_;
};

TEST_F(PackingServiceTest, TinyTasksReachWorkersInRuns) {
  SimWorkers sims(SimOptions());
  ASSERT_TRUE(sims.Add(200, /*parallel=*/8).ok());
  Client client = Client::Connect(server_->address(), token_file_,
                                  std::chrono::seconds(20));
  // One task first: the scheduler learns that Inc is tiny.
  ASSERT_EQ(weft::get(client.map(Inc, std::vector<int64_t>{1}),
                      std::chrono::seconds(20)),
            std::vector<int64_t>{2});
  const SimWorkers::Counts before = sims.counts();

  std::vector<int64_t> xs(2000);
  std::iota(xs.begin(), xs.end(), int64_t{0});
  const std::vector<int64_t> ys =
      weft::get(client.map(Inc, xs), std::chrono::seconds(20));
  ASSERT_EQ(ys.size(), xs.size());
  for (size_t i = 0; i < xs.size(); ++i) ASSERT_EQ(ys[i], xs[i] + 1) << i;

  const SimWorkers::Counts after = sims.counts();
  const uint64_t assigned = after.assigned - before.assigned;
  const uint64_t messages = after.assign_messages - before.assign_messages;
  EXPECT_EQ(assigned, 2000u);
  ASSERT_GT(messages, 0u);
  std::fprintf(stderr, "2,000 tiny tasks in %llu assignment messages\n",
               static_cast<unsigned long long>(messages));
  EXPECT_GE(assigned / messages, 25u);
}

}  // namespace
}  // namespace weft::scheduler
