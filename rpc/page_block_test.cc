// Copyright 2026 The weft Authors.

#include "rpc/page_block.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

std::unique_ptr<PageBlock> Make(size_t size) {
  auto block = PageBlock::Create(size);
  EXPECT_TRUE(block.ok()) << block.status();
  return block.ok() ? *std::move(block) : nullptr;
}

// Every byte of `block` is zero (checked at each page and the last byte).
bool AllZero(const PageBlock& block) {
  for (size_t i = 0; i < block.size(); i += 4096) {
    if (block.data()[i] != 0) return false;
  }
  return block.data()[block.size() - 1] == 0;
}

TEST(PageBlockTest, AGivenBackBlockIsReusedCleared) {
  PageBlock::DropKept();
  const size_t before = PageBlock::KeptBytes();
  EXPECT_EQ(before, 0u);
  auto first = Make(64 * kMiB);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(AllZero(*first));
  std::memset(first->data(), 0x5a, first->size());
  const char* const where = first->data();
  first.reset();
  EXPECT_EQ(PageBlock::KeptBytes(), before + 64 * kMiB);
  PageBlock::AwaitKept();  // given its huge pages, where they apply
  // A smaller request, over half the kept size, takes that mapping,
  // cleared.
  auto second = Make(40 * kMiB);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->data(), where);
  EXPECT_EQ(second->size(), 40 * kMiB);
  EXPECT_TRUE(AllZero(*second));
  EXPECT_EQ(PageBlock::KeptBytes(), before);
  second.reset();
  EXPECT_EQ(PageBlock::KeptBytes(), before + 64 * kMiB);  // whole mapping
}

TEST(PageBlockTest, SmallBlocksAndMuchSmallerRequestsDoNotUseTheCache) {
  PageBlock::DropKept();
  const size_t before = PageBlock::KeptBytes();
  Make(2 * kMiB).reset();  // under kPageBlockKeepMinBytes: unmapped
  EXPECT_EQ(PageBlock::KeptBytes(), before);
  auto big = Make(100 * kMiB);
  ASSERT_NE(big, nullptr);
  const char* const where = big->data();
  big.reset();
  // A 10 MiB request would waste most of a kept 100 MiB mapping.
  auto small = Make(10 * kMiB);
  ASSERT_NE(small, nullptr);
  EXPECT_NE(small->data(), where);
  EXPECT_TRUE(AllZero(*small));
}

TEST(PageBlockTest, TheCacheIsBounded) {
  PageBlock::DropKept();
  const size_t before = PageBlock::KeptBytes();
  std::vector<std::unique_ptr<PageBlock>> blocks;
  for (size_t i = 0; i < kPageBlockKeepMaxBlocks + 3; ++i) {
    blocks.push_back(Make(16 * kMiB));
  }
  blocks.clear();  // at most kPageBlockKeepMaxBlocks of them are kept
  EXPECT_LE(PageBlock::KeptBytes(),
            before + kPageBlockKeepMaxBlocks * 16 * kMiB);
  // Two blocks of 200 MiB (never written: no memory used) cannot both be
  // kept.
  blocks.push_back(Make(200 * kMiB));
  blocks.push_back(Make(200 * kMiB));
  blocks.clear();
  EXPECT_LE(PageBlock::KeptBytes(), kPageBlockKeepMaxBytes);
}

TEST(PageBlockTest, ForOverwriteReusesAKeptBlockWithoutClearingIt) {
  PageBlock::DropKept();
  const size_t before = PageBlock::KeptBytes();
  auto first = Make(32 * kMiB);
  ASSERT_NE(first, nullptr);
  std::memset(first->data(), 0x5a, first->size());
  const char* const where = first->data();
  first.reset();
  ASSERT_EQ(PageBlock::KeptBytes(), before + 32 * kMiB);
  PageBlock::AwaitKept();
  auto block = PageBlock::CreateForOverwrite(30 * kMiB);
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ((*block)->data(), where);
  EXPECT_EQ((*block)->size(), 30 * kMiB);
  EXPECT_EQ(PageBlock::KeptBytes(), before);
  // Writable all through; what it held before is unspecified (the kernel
  // may have reclaimed the pages, MADV_FREE), so it is not checked.
  std::memset((*block)->data(), 0x11, (*block)->size());
  EXPECT_EQ((*block)->data()[(*block)->size() - 1], 0x11);
  // Without a kept block, a fresh mapping, as Create's.
  EXPECT_TRUE(
      absl::IsInvalidArgument(PageBlock::CreateForOverwrite(0).status()));
  auto fresh = PageBlock::CreateForOverwrite(9 * kMiB);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)->size(), 9 * kMiB);
}

// The kB of huge pages in the mapping of this process that holds `p`
// (/proc/self/smaps, AnonHugePages); -1 if it cannot be read.
long HugeKiBAt(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2 &&
        line.find(':') > line.find('-')) {
      inside = begin <= at && at < end;
      continue;
    }
    long kib = 0;
    if (inside &&
        std::sscanf(line.c_str(), "AnonHugePages: %ld kB", &kib) == 1) {
      return kib;
    }
  }
  return -1;
}

// A block given back gets huge pages once, off the caller's path, and
// keeps them from one use to the next.
TEST(PageBlockTest, AKeptBlockGetsHugePagesOnce) {
  if (!PageBlock::KeptBlocksGetHugePages()) {
    GTEST_SKIP() << "transparent huge pages are off here, or the kernel has "
                    "no MADV_POPULATE_WRITE: kept blocks keep ordinary pages";
  }
  PageBlock::DropKept();
  PageBlock::AwaitKept();
  auto first = Make(64 * kMiB);
  ASSERT_NE(first, nullptr);
  std::memset(first->data(), 0x5a, first->size());
  const char* const where = first->data();
  EXPECT_EQ(HugeKiBAt(where), 0);  // a new mapping: ordinary pages
  first.reset();
  PageBlock::AwaitKept();
  auto second = PageBlock::CreateForOverwrite(64 * kMiB);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ((*second)->data(), where);
  std::memset((*second)->data(), 0x22, (*second)->size());
  // Whether the kernel found free 2 MiB pages is its business; on a test
  // machine with memory to spare it does.
  const long huge = HugeKiBAt(where);
  EXPECT_GT(huge, 0) << "no huge pages in the kept block";
  for (size_t i = 0; i < (*second)->size(); i += 4096) {
    ASSERT_EQ((*second)->data()[i], 0x22) << "at " << i;
  }
  // Given back again, it is ready at once: no second conversion.
  second->reset();
  auto third = PageBlock::CreateForOverwrite(64 * kMiB);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->data(), where);
}

// Threads taking, filling, checking and giving back blocks while the
// converter works and the cache is dropped: every block holds exactly what
// its writer wrote.
TEST(PageBlockTest, BlocksStayIntactWhileKeptBlocksAreConverted) {
  PageBlock::DropKept();
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &bad] {
      std::mt19937 gen(static_cast<unsigned>(t));
      for (int i = 0; i < 25; ++i) {
        const size_t size = (8 + gen() % 17) * kMiB + gen() % 4096;
        auto block = PageBlock::CreateForOverwrite(size);
        if (!block.ok()) {
          ++bad;
          return;
        }
        const char mark = static_cast<char>(t * 32 + i);
        std::memset((*block)->data(), mark, size);
        for (size_t at = 0; at < size; at += 4096) {
          if ((*block)->data()[at] != mark) ++bad;
        }
        if ((*block)->data()[size - 1] != mark) ++bad;
        if (t == 0 && i % 5 == 4) PageBlock::DropKept();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  PageBlock::AwaitKept();
  EXPECT_LE(PageBlock::KeptBytes(), kPageBlockKeepMaxBytes);
  // Dropped while converting: unmapped when the converter is done.
  Make(16 * kMiB).reset();
  PageBlock::DropKept();
  PageBlock::AwaitKept();
  EXPECT_EQ(PageBlock::KeptBytes(), 0u);
}

}  // namespace
}  // namespace weft::rpc
