// Copyright 2026 The weft Authors.

#include "rpc/rate_limited_log.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

using ::testing::ElementsAre;

// A log on a clock the test moves, writing into `lines`.
struct Fixture {
  absl::Time now = absl::FromUnixSeconds(1000);
  std::mutex mu;  // the sink may be called on several threads at once
  std::vector<std::string> lines;
  RateLimitedLog log{"weft test", "strangers",
                     RateLimitedLog::Options{3, absl::Seconds(10)},
                     [this] { return now; },
                     [this](const std::string& l) {
                       std::lock_guard<std::mutex> lock(mu);
                       lines.push_back(l);
                     }};
};

TEST(RateLimitedLogTest, WritesUpToTheQuotaOfAWindowThenCountsTheRest) {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(f.log.Write(absl::StrCat("line ", i)), i < 3) << i;
  }
  EXPECT_THAT(f.lines, ElementsAre("weft test: line 0", "weft test: line 1",
                                   "weft test: line 2"));
  EXPECT_EQ(f.log.suppressed(), 2u);
  // Still the same window a moment before its end.
  f.now += absl::Seconds(10) - absl::Nanoseconds(1);
  EXPECT_FALSE(f.log.Write("line 5"));
  EXPECT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.log.suppressed(), 3u);
}

TEST(RateLimitedLogTest, ANewWindowSaysHowManyLinesWereNotWritten) {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.log.Write(absl::StrCat("line ", i));
  f.now += absl::Seconds(10);
  EXPECT_TRUE(f.log.Write("later"));
  EXPECT_THAT(f.lines,
              ElementsAre("weft test: line 0", "weft test: line 1",
                          "weft test: line 2",
                          "weft test: (1 more line about strangers was not "
                          "written)",
                          "weft test: later"));
  // Counted once: the next line has no such note.
  EXPECT_TRUE(f.log.Write("and more"));
  EXPECT_EQ(f.lines.back(), "weft test: and more");
  EXPECT_EQ(f.lines.size(), 6u);
}

TEST(RateLimitedLogTest, AWindowStartsWithTheFirstLineAfterThePreviousOne) {
  Fixture f;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(f.log.Write("first"));
  f.now += absl::Seconds(15);  // quiet for longer than a window
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(f.log.Write("second"));
  // 9 s into the window that began at the first "second" line.
  f.now += absl::Seconds(9);
  EXPECT_FALSE(f.log.Write("third"));
  f.now += absl::Seconds(1);
  EXPECT_TRUE(f.log.Write("fourth"));
  EXPECT_EQ(f.log.suppressed(), 1u);
}

TEST(RateLimitedLogTest, ManyThreadsWriteNoMoreThanTheQuota) {
  Fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f] {
      for (int i = 0; i < 100; ++i) f.log.Write("busy");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.log.suppressed(), 397u);
}

}  // namespace
}  // namespace weft::rpc
