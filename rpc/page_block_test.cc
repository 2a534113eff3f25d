// Copyright 2026 The weft Authors.

#include "rpc/page_block.h"

#include <cstring>
#include <memory>
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

}  // namespace
}  // namespace weft::rpc
