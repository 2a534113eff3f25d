// Copyright 2026 The weft Authors.

#include "rpc/process_stats.h"

#include <unistd.h>

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

TEST(ProcessStatsTest, CpuTimeGrowsWithWork) {
  const double before = ProcessCpuSeconds();
  // Spin until the kernel has charged this process 20 ms more (getrusage's
  // resolution is a tick); bounded, so a broken clock fails instead of
  // hanging.
  volatile uint64_t x = 1;
  double after = before;
  for (int round = 0; round < 2000 && after < before + 0.02; ++round) {
    for (int i = 0; i < 1000000; ++i) x = x * 6364136223846793005ull + 1;
    after = ProcessCpuSeconds();
  }
  EXPECT_GE(after, before + 0.02);
}

TEST(ProcessStatsTest, ResidentMemoryCountsTouchedPages) {
  const uint64_t before = ProcessRssBytes();
  EXPECT_GT(before, 0u);
  std::vector<char> block(64 << 20, 1);  // 64 MiB, every page written
  const uint64_t after = ProcessRssBytes();
  EXPECT_GE(after, before + (48 << 20)) << "block at "
                                        << static_cast<void*>(block.data());
}

TEST(ProcessStatsTest, ResidentMemoryOfAProcessByPid) {
  EXPECT_GT(ProcessRssBytes(::getpid()), 0u);
  // Above the kernel's largest pid (pid_max is at most 2^22).
  EXPECT_EQ(ProcessRssBytes(pid_t{1} << 23), 0u);
}

}  // namespace
}  // namespace weft::rpc
