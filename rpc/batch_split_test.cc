// Copyright 2026 The weft Authors.

#include "rpc/batch_split.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

constexpr size_t kValue = 64 << 10;  // an inline value at the inline limit

// An assignment of task `id` whose one input is a 64 KiB inline value
// (with a holder when `address` is set).
Assignment Assign(uint64_t id, const std::string& value,
                  const std::string& address = "") {
  Assignment a;
  a.mutable_task()->set_id(id);
  a.mutable_task()->set_attempt(static_cast<uint32_t>(id + 1000));
  a.mutable_task()->set_function("fn");
  Location* dep = a.add_deps();
  dep->set_id(7);
  dep->set_size(value.size());
  dep->set_inline_value(value);
  if (!address.empty()) dep->add_addresses(address);
  return a;
}

// Many tasks sharing one 64 KiB input, sent to a worker with many threads,
// with everything else a batch can carry around them.
SchedulerToWorker BigBatch(int tasks) {
  const std::string value(kValue, 'v');
  SchedulerToWorker m;
  m.set_worker_id(3);
  m.add_release(11);
  m.add_release(12);
  TaskAttempt* cancel = m.add_cancel();
  cancel->set_id(13);
  cancel->set_attempt(2);
  m.add_place_actor()->mutable_def()->set_id(21);
  m.add_place_actor()->mutable_def()->set_id(22);
  for (int i = 0; i < tasks; ++i) *m.add_assign() = Assign(100 + i, value);
  m.add_stop_actor(23);
  m.add_fetch()->set_id(31);
  m.set_shutdown(true);
  return m;
}

TEST(BatchSplitTest, ABatchWithinTheLimitIsSentWhole) {
  SchedulerToWorker m = BigBatch(3);
  std::vector<SchedulerToWorker> sent;
  ASSERT_TRUE(SendBatch(m, [&](const SchedulerToWorker& piece) {
    sent.push_back(piece);
    return true;
  }));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].SerializeAsString(), m.SerializeAsString());
}

TEST(BatchSplitTest, ALargeBatchIsSplitUnderTheLimitWithNothingLost) {
  constexpr size_t kLimit = 1 << 20;
  const SchedulerToWorker m = BigBatch(100);  // ~6.4 MiB
  ASSERT_GT(m.ByteSizeLong(), 6 * kLimit);
  std::vector<SchedulerToWorker> sent;
  ASSERT_TRUE(SendBatch(
      m,
      [&](const SchedulerToWorker& piece) {
        sent.push_back(piece);
        return true;
      },
      kLimit));
  ASSERT_GE(sent.size(), 7u);
  SchedulerToWorker joined;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_LE(sent[i].ByteSizeLong(), kLimit) << "message " << i;
    // What the worker reads before the assignments comes first, what it
    // reads after them last.
    if (i > 0) {
      EXPECT_EQ(sent[i].worker_id(), 0u);
      EXPECT_EQ(sent[i].release_size(), 0);
      EXPECT_EQ(sent[i].cancel_size(), 0);
    }
    if (i + 1 < sent.size()) {
      EXPECT_FALSE(sent[i].shutdown());
      EXPECT_EQ(sent[i].stop_actor_size(), 0);
      EXPECT_EQ(sent[i].fetch_size(), 0);
    }
    joined.MergeFrom(sent[i]);
  }
  // Nothing lost, nothing reordered.
  EXPECT_EQ(joined.SerializeAsString(), m.SerializeAsString());
}

TEST(BatchSplitTest, AFailedSendStopsTheRest) {
  int sends = 0;
  EXPECT_FALSE(SendBatch(
      BigBatch(100),
      [&](const SchedulerToWorker&) {
        ++sends;
        return false;
      },
      1 << 20));
  EXPECT_EQ(sends, 1);
}

TEST(BatchSplitTest, AnAssignmentLargerThanTheLimitFetchesWhatHasHolders) {
  constexpr size_t kLimit = 256 << 10;
  SchedulerToWorker m;
  Assignment a = Assign(1, std::string(kValue, 'a'), "10.0.0.1:7000");
  for (int i = 0; i < 5; ++i) *a.add_deps() = a.deps(0);
  // A kept input (no holder): it can only come inline.
  Location* kept = a.add_deps();
  kept->set_id(8);
  kept->set_size(kValue);
  kept->set_inline_value(std::string(kValue, 'k'));
  *m.add_assign() = a;
  *m.add_assign() = Assign(2, "small");
  ASSERT_GT(m.ByteSizeLong(), kLimit);
  std::vector<SchedulerToWorker> pieces = SplitBatch(m, kLimit);
  SchedulerToWorker joined;
  for (const SchedulerToWorker& piece : pieces) {
    EXPECT_LE(piece.ByteSizeLong(), kLimit);
    joined.MergeFrom(piece);
  }
  ASSERT_EQ(joined.assign_size(), 2);
  const Assignment& lean = joined.assign(0);
  ASSERT_EQ(lean.deps_size(), 7);
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(lean.deps(i).inline_value().empty());
    EXPECT_EQ(lean.deps(i).size(), kValue);
    EXPECT_EQ(lean.deps(i).addresses(0), "10.0.0.1:7000");
  }
  EXPECT_EQ(lean.deps(6).inline_value().size(), kValue);
  EXPECT_EQ(joined.assign(1).SerializeAsString(),
            m.assign(1).SerializeAsString());
}

}  // namespace
}  // namespace weft::rpc
