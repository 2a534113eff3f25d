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
}

// A chunk goes from offsets to a bitmap past kSparseMax slots and back at
// half of it, keeping its slots and their order either way.
TEST(SlotSetTest, AChunkTurnsDenseAndSparseAgain) {
  SlotSet set;
  std::vector<uint32_t> slots;
  for (uint32_t i = 0; i <= SlotSet::kSparseMax; ++i) {
    slots.push_back(32768 + 500 * (SlotSet::kSparseMax - i));  // descending
  }
  for (size_t i = 0; i < SlotSet::kSparseMax; ++i) set.Insert(slots[i]);
  const size_t sparse_bytes = set.HeapBytes();
  EXPECT_LT(sparse_bytes, 1024u);
  EXPECT_TRUE(set.Insert(slots.back()));  // the 65th: a bitmap now
  EXPECT_GT(set.HeapBytes(), 4096u);
  EXPECT_FALSE(set.Insert(slots.front()));
  std::vector<uint32_t> ascending(slots.rbegin(), slots.rend());
  EXPECT_EQ(set.ToVector(), ascending);
  for (uint32_t s : slots) EXPECT_TRUE(set.Contains(s));
  EXPECT_FALSE(set.Contains(32768 + 1));
  // Down to half of kSparseMax: offsets again.
  while (set.size() > SlotSet::kSparseMax / 2) {
    ASSERT_TRUE(set.Erase(ascending.back()));
    ascending.pop_back();
  }
  EXPECT_LT(set.HeapBytes(), 1024u);
  EXPECT_EQ(set.ToVector(), ascending);
  for (uint32_t s : ascending) EXPECT_TRUE(set.Contains(s));
}

// A few references scattered over a large table (a worker's nested client
// in a long-running scheduler) cost offsets, not a bitmap per chunk.
TEST(SlotSetTest, ScatteredSlotsCostBytesNotBitmaps) {
  SlotSet set;
  constexpr uint32_t kChunks = 300;  // a table of about 10M records
  for (uint32_t c = 0; c < kChunks; ++c) set.Insert(c * 32768 + c);
  EXPECT_EQ(set.size(), kChunks);
  // About 48 bytes a chunk and 8 of directory: far below 4 KiB a chunk.
  EXPECT_LT(set.HeapBytes(), kChunks * 100);
  EXPECT_TRUE(set.Contains(299 * 32768 + 299));
  EXPECT_FALSE(set.Contains(299 * 32768 + 298));
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

// The same near the thresholds: slots of three chunks drawn from 100
// offsets each, inserted and erased as often, so that each chunk's count
// wanders across kSparseMax and kSparseMax / 2 again and again.
TEST(SlotSetTest, AgreesWithStdSetAcrossTheThresholds) {
  std::mt19937 rng(7);
  SlotSet set;
  std::set<uint32_t> model;
  for (int i = 0; i < 200'000; ++i) {
    const uint32_t s = (rng() % 3) * 32768 + (rng() % 100) * 7;
    if (rng() % 2 == 0) {
      ASSERT_EQ(set.Erase(s), model.erase(s) == 1) << "erase " << s;
    } else {
      ASSERT_EQ(set.Insert(s), model.insert(s).second) << "insert " << s;
    }
    ASSERT_EQ(set.Contains(s), model.contains(s));
    ASSERT_EQ(set.size(), model.size());
    if (i % 1000 == 0) {
      ASSERT_EQ(set.ToVector(),
                std::vector<uint32_t>(model.begin(), model.end()));
    }
  }
}

}  // namespace
}  // namespace weft::scheduler::internal
