// Copyright 2026 The weft Authors.
//
// StreamPair: order, early messages kept for Serve(), Read() deadlines,
// and closing either end ending both.

#include "rpc/testing/stream_pair.h"

#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rpc/weft.pb.h"

namespace weft::rpc::testing {
namespace {

using Pair = decltype(MakeStreamPair<WorkerMessage, SchedulerToWorker>());

SchedulerToWorker Numbered(uint64_t n) {
  SchedulerToWorker m;
  m.set_worker_id(n);
  return m;
}

TEST(StreamPairTest, ReadGetsMessagesInOrderAndHonoursItsDeadline) {
  auto [a, b] = MakeStreamPair<WorkerMessage, SchedulerToWorker>();
  ASSERT_TRUE(b->Send(Numbered(1)));
  ASSERT_TRUE(b->Send(Numbered(2)));
  SchedulerToWorker got;
  ASSERT_TRUE(a->Read(got, absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(got.worker_id(), 1u);
  ASSERT_TRUE(a->Read(got, absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(got.worker_id(), 2u);
  const absl::Time start = absl::Now();
  EXPECT_FALSE(a->Read(got, start + absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

TEST(StreamPairTest, ServeGetsEarlyMessagesThenLiveOnesOnTheSendingThread) {
  auto [a, b] = MakeStreamPair<WorkerMessage, SchedulerToWorker>();
  ASSERT_TRUE(b->Send(Numbered(1)));
  std::vector<uint64_t> seen;
  a->Serve(
      [&](absl::Span<const SchedulerToWorker* const> ms) {
        for (const auto* m : ms) seen.push_back(m->worker_id());
      },
      [](const absl::Status&) {});
  EXPECT_EQ(seen, std::vector<uint64_t>{1});
  ASSERT_TRUE(b->Send(Numbered(2)));
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));  // before Send returned
}

TEST(StreamPairTest, ClosingOneEndEndsBoth) {
  auto [a, b] = MakeStreamPair<WorkerMessage, SchedulerToWorker>("worker",
                                                                 "scheduler");
  absl::Status why;
  int closed = 0;
  a->Serve([](absl::Span<const SchedulerToWorker* const>) {},
           [&](const absl::Status& s) {
             why = s;
             ++closed;
           });
  b->Close();
  EXPECT_EQ(closed, 1);
  EXPECT_TRUE(absl::IsUnavailable(why)) << why;
  EXPECT_TRUE(a->closed_by_peer());
  EXPECT_FALSE(b->closed_by_peer());
  EXPECT_FALSE(a->Send(WorkerMessage()));
  EXPECT_FALSE(b->Send(SchedulerToWorker()));
  a->Close();  // idempotent: no second closed call
  EXPECT_EQ(closed, 1);
  // A reader wakes at the end rather than at its deadline.
  WorkerMessage got;
  EXPECT_FALSE(b->Read(got, absl::InfiniteFuture()));
}

}  // namespace
}  // namespace weft::rpc::testing
