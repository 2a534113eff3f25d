// Copyright 2026 The weft Authors.

#include "scheduler/slot_set.h"

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace weft::scheduler::internal {
namespace {

TEST(SlotSetTest, StartsEmpty) {
  SlotSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.size(), 0u);
  EXPECT_FALSE(set.Contains(0));
  EXPECT_FALSE(set.Contains(123456789));
  EXPECT_FALSE(set.Erase(7));
  EXPECT_TRUE(set.ToVector().empty());
}

TEST(SlotSetTest, InsertAndEraseSayWhetherTheyChangedIt) {
  SlotSet set;
  EXPECT_TRUE(set.Insert(5));
  EXPECT_FALSE(set.Insert(5));
  EXPECT_TRUE(set.Contains(5));
  EXPECT_FALSE(set.Contains(4));
  EXPECT_FALSE(set.Contains(6));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_TRUE(set.Erase(5));
  EXPECT_FALSE(set.Erase(5));
  EXPECT_FALSE(set.Contains(5));
  EXPECT_TRUE(set.empty());
}

TEST(SlotSetTest, IteratesInAscendingOrderAcrossChunksAndWordEdges) {
  SlotSet set;
  // Word edges (63, 64), a chunk's edges (32767, 32768), a far chunk, and
  // the largest slot a record can have.
  const std::vector<uint32_t> slots = {0,     1,     63,        64,
                                       32767, 32768, 5'000'000, 0x7ffffffe};
  for (auto it = slots.rbegin(); it != slots.rend(); ++it) set.Insert(*it);
  EXPECT_EQ(set.ToVector(), slots);
  std::vector<uint32_t> seen;
  set.ForEach([&](uint32_t s) { seen.push_back(s); });
  EXPECT_EQ(seen, slots);
}

TEST(SlotSetTest, AChunkEmptiedAndRefilledKeepsOthers) {
  SlotSet set;
  set.Insert(10);
  set.Insert(40000);           // another chunk
  EXPECT_TRUE(set.Erase(10));  // its chunk is freed
  EXPECT_FALSE(set.Contains(10));
  EXPECT_TRUE(set.Contains(40000));
  EXPECT_TRUE(set.Insert(11));  // and made again, zeroed
  EXPECT_FALSE(set.Contains(10));
  EXPECT_EQ(set.ToVector(), (std::vector<uint32_t>{11, 40000}));
  set.Clear();
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.Contains(40000));
  EXPECT_TRUE(set.Insert(40000));
}

TEST(SlotSetTest, MovesLeaveTheSourceEmpty) {
  SlotSet a;
  a.Insert(3);
  SlotSet b = std::move(a);
  EXPECT_TRUE(b.Contains(3));
  EXPECT_EQ(b.size(), 1u);
}

// Random inserts and erases over a range of a few chunks, checked against
// std::set after every step.
TEST(SlotSetTest, AgreesWithStdSetUnderRandomOperations) {
  std::mt19937 rng(20261207);
  std::uniform_int_distribution<uint32_t> slot(0, 4 * 32768);
  SlotSet set;
  std::set<uint32_t> model;
  for (int i = 0; i < 200'000; ++i) {
    const uint32_t s = slot(rng);
    if (rng() % 3 == 0) {
      ASSERT_EQ(set.Erase(s), model.erase(s) == 1) << "erase " << s;
    } else {
      ASSERT_EQ(set.Insert(s), model.insert(s).second) << "insert " << s;
    }
    ASSERT_EQ(set.Contains(s), model.contains(s));
    ASSERT_EQ(set.size(), model.size());
  }
  EXPECT_EQ(set.ToVector(), std::vector<uint32_t>(model.begin(), model.end()));
}

}  // namespace
}  // namespace weft::scheduler::internal
