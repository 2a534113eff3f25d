// Copyright 2026 The weft Authors.

#include "rpc/heap.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/process_stats.h"

namespace weft::rpc {
namespace {

// The test binary links the default allocator (jemalloc) unless built with
// a sanitizer or --define=weft_malloc=system, where the count is -1.
TEST(HeapTest, LiveBytesCountABlockWhileItLives) {
  const int64_t before = LiveHeapBytes();
  if (before < 0) GTEST_SKIP() << "the allocator is not jemalloc";
  constexpr int64_t kBlock = 16 << 20;
  auto block = std::make_unique<char[]>(kBlock);
  block[0] = 1;
  const int64_t during = LiveHeapBytes();
  EXPECT_GE(during, before + kBlock);
  block.reset();
  EXPECT_LT(LiveHeapBytes(), during - kBlock / 2);
}

// jemalloc keeps freed blocks' pages resident for reuse for seconds (its
// decay; blocks of 8 MiB and more it gives back at once, so these are
// smaller); glibc's malloc keeps them in its heap until a trim. Either way,
// once ReturnFreedMemory() returns the pages are gone.
TEST(HeapTest, FreedPagesLeaveResidentMemory) {
#ifdef WEFT_SANITIZER
  GTEST_SKIP() << "a sanitizer's allocator keeps freed memory (quarantine)";
#endif
  constexpr size_t kBlock = 512 << 10;
  constexpr int kBlocks = 128;  // 64 MiB in all
  const uint64_t before = ProcessRssBytes();
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back(std::make_unique<char[]>(kBlock));
    std::memset(blocks.back().get(), 1, kBlock);  // every page resident
  }
  ASSERT_GE(ProcessRssBytes(), before + kBlock * kBlocks / 2);
  blocks.clear();
  ReturnFreedMemory();
  EXPECT_LT(ProcessRssBytes(), before + kBlock * kBlocks / 4);
}

}  // namespace
}  // namespace weft::rpc
