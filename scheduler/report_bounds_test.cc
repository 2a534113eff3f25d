// Copyright 2026 The weft Authors.

#include "scheduler/report_bounds.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/report_limits.h"

namespace weft::scheduler {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(ReportBoundsTest, AThreadCountAboveTheLimitIsClampedAndSaid) {
  rpc::WorkerInfo info;
  info.set_nthreads(2'000'000'000);
  std::vector<std::string> notes;
  BoundRegistration(info, "the worker at h:1", notes);
  EXPECT_EQ(info.nthreads(), rpc::kMaxWorkerThreads);
  ASSERT_THAT(notes, SizeIs(1));
  EXPECT_THAT(notes[0], HasSubstr("the worker at h:1"));
  EXPECT_THAT(notes[0], HasSubstr("2000000000 threads"));
  // Within bounds: unchanged, nothing said.
  info.set_nthreads(64);
  notes.clear();
  BoundRegistration(info, "w", notes);
  EXPECT_EQ(info.nthreads(), 64);
  EXPECT_THAT(notes, IsEmpty());
}

TEST(ReportBoundsTest, AMessageWithinBoundsIsNotCopied) {
  rpc::WorkerMessage m;
  m.mutable_heartbeat()->set_memory_bytes(uint64_t{1} << 40);
  m.mutable_heartbeat()->set_cpu_seconds(12.5);
  rpc::TaskResult* r = m.add_results();
  r->set_size(100);
  r->set_inline_value(std::string(100, 'x'));
  rpc::TaskResult* partial = m.add_results();
  partial->set_size(rpc::kMaxObjectBytes);
  partial->set_inline_value("head");
  std::vector<std::string> notes;
  EXPECT_EQ(BoundWorkerMessage(m, "w", notes), nullptr);
  EXPECT_THAT(notes, IsEmpty());
}

TEST(ReportBoundsTest, AHeartbeatsImpossibleFiguresAreClamped) {
  rpc::WorkerMessage m;
  rpc::Heartbeat* beat = m.mutable_heartbeat();
  beat->set_memory_bytes(std::numeric_limits<uint64_t>::max());
  beat->set_rss_bytes(std::numeric_limits<uint64_t>::max());
  beat->set_cpu_seconds(std::nan(""));
  beat->set_executing(-5);
  beat->set_processing(3);
  std::vector<std::string> notes;
  auto bounded = BoundWorkerMessage(m, "worker 7 (h:1)", notes);
  ASSERT_NE(bounded, nullptr);
  EXPECT_EQ(bounded->heartbeat().memory_bytes(), rpc::kMaxReportedMemoryBytes);
  EXPECT_EQ(bounded->heartbeat().rss_bytes(), rpc::kMaxReportedMemoryBytes);
  EXPECT_EQ(bounded->heartbeat().cpu_seconds(), 0);
  EXPECT_EQ(bounded->heartbeat().executing(), 0);
  EXPECT_EQ(bounded->heartbeat().processing(), 3);
  EXPECT_THAT(notes, SizeIs(4));
  for (const std::string& note : notes) {
    EXPECT_THAT(note, HasSubstr("worker 7 (h:1)"));
  }
  // An infinite or negative CPU time too.
  beat->set_memory_bytes(0);
  beat->set_rss_bytes(0);
  beat->set_executing(0);
  for (double cpu : {std::numeric_limits<double>::infinity(), -1.0}) {
    beat->set_cpu_seconds(cpu);
    notes.clear();
    bounded = BoundWorkerMessage(m, "w", notes);
    ASSERT_NE(bounded, nullptr) << cpu;
    EXPECT_EQ(bounded->heartbeat().cpu_seconds(), 0);
    EXPECT_THAT(notes, SizeIs(1));
  }
}

TEST(ReportBoundsTest, AResultOfImpossibleSizeBecomesAFailureNamingTheWorker) {
  rpc::WorkerMessage m;
  rpc::TaskResult* huge = m.add_results();
  huge->set_id(0x10);
  huge->set_size(rpc::kMaxObjectBytes + 1);
  rpc::TaskResult* inconsistent = m.add_results();
  inconsistent->set_id(0x11);
  inconsistent->set_size(2);
  inconsistent->set_inline_value("three");
  rpc::TaskResult* fine = m.add_results();
  fine->set_id(0x12);
  fine->set_size(5);
  fine->set_inline_value("fine!");
  rpc::TaskTransfer* transfer = fine->add_transfers();
  transfer->set_bytes(std::numeric_limits<uint64_t>::max());
  std::vector<std::string> notes;
  auto bounded = BoundWorkerMessage(m, "worker 3 (h:2)", notes);
  ASSERT_NE(bounded, nullptr);
  ASSERT_EQ(bounded->results_size(), 3);
  for (int i = 0; i < 2; ++i) {
    const rpc::TaskResult& r = bounded->results(i);
    EXPECT_TRUE(r.failed()) << i;
    EXPECT_EQ(r.size(), 0u);
    EXPECT_TRUE(r.inline_value().empty());
    EXPECT_EQ(r.error().kind(), 0);
    EXPECT_THAT(r.error().message(), HasSubstr("worker 3 (h:2)"));
  }
  EXPECT_THAT(bounded->results(0).error().message(),
              HasSubstr("above the limit"));
  EXPECT_THAT(bounded->results(1).error().message(),
              HasSubstr("5 inline"));
  EXPECT_FALSE(bounded->results(2).failed());
  EXPECT_EQ(bounded->results(2).inline_value(), "fine!");
  EXPECT_EQ(bounded->results(2).transfers(0).bytes(), rpc::kMaxObjectBytes);
  EXPECT_THAT(notes, SizeIs(3));
  // A failure's size is not looked at.
  rpc::WorkerMessage failed;
  failed.add_results()->set_failed(true);
  failed.mutable_results(0)->set_size(std::numeric_limits<uint64_t>::max());
  notes.clear();
  EXPECT_EQ(BoundWorkerMessage(failed, "w", notes), nullptr);
}

TEST(ReportBoundsTest, ImpossibleObjectSize) {
  EXPECT_EQ(ImpossibleObjectSize(0, 0), "");
  EXPECT_EQ(ImpossibleObjectSize(rpc::kMaxObjectBytes, 10), "");
  EXPECT_NE(ImpossibleObjectSize(rpc::kMaxObjectBytes + 1, 0), "");
  EXPECT_NE(ImpossibleObjectSize(3, 4), "");
}

}  // namespace
}  // namespace weft::scheduler
