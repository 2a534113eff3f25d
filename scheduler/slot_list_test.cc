// Copyright 2026 The weft Authors.

#include "scheduler/slot_list.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::scheduler::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

TEST(SlotListTest, SixteenBytes) { EXPECT_EQ(sizeof(SlotList), 16u); }

TEST(SlotListTest, InlineThenHeap) {
  SlotList l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_THAT(l, IsEmpty());
  for (uint32_t v : {0u, 7u, SlotList::kMaxValue, 3u}) l.push_back(v);
  EXPECT_THAT(l, ElementsAre(0, 7, SlotList::kMaxValue, 3));
  EXPECT_EQ(l.back(), 3u);
  for (uint32_t v = 10; v < 30; ++v) l.push_back(v);  // spills, grows
  EXPECT_EQ(l.size(), 24u);
  EXPECT_EQ(l[4], 10u);
  EXPECT_EQ(l.back(), 29u);
  while (!l.empty()) l.pop_back();
  EXPECT_EQ(l.size(), 0u);
  l.push_back(5);
  EXPECT_THAT(l, ElementsAre(5));
  l.clear();
  EXPECT_TRUE(l.empty());
}

TEST(SlotListTest, EraseKeepsOrder) {
  SlotList l;
  for (uint32_t v : {1u, 2u, 3u}) l.push_back(v);
  l.erase(std::find(l.begin(), l.end(), 2u));
  EXPECT_THAT(l, ElementsAre(1, 3));
  for (uint32_t v = 4; v < 9; ++v) l.push_back(v);
  l.erase(l.begin());
  EXPECT_THAT(l, ElementsAre(3, 4, 5, 6, 7, 8));
  l.erase(l.end() - 1);
  EXPECT_THAT(l, ElementsAre(3, 4, 5, 6, 7));
}

TEST(SlotListTest, WritableThroughIterators) {
  SlotList l;
  for (uint32_t v : {1u, 2u, 3u}) l.push_back(v);
  *l.begin() = l.back();  // the scheduler's swap-remove
  l.pop_back();
  EXPECT_THAT(l, ElementsAre(3, 2));
  l[1] = 9;
  EXPECT_THAT(l, ElementsAre(3, 9));
}

TEST(SlotListTest, CopyAndMove) {
  for (size_t n : {0, 2, 4, 5, 17}) {
    SlotList a;
    std::vector<uint32_t> want;
    for (uint32_t v = 0; v < n; ++v) {
      a.push_back(v * 3);
      want.push_back(v * 3);
    }
    SlotList b = a;
    EXPECT_THAT(b, ElementsAreArray(want));
    SlotList c = std::move(b);
    EXPECT_THAT(c, ElementsAreArray(want));
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): specified
    SlotList d;
    d.push_back(99);
    d = c;
    EXPECT_THAT(d, ElementsAreArray(want));
    const SlotList& same = d;  // (`d = d` draws a compiler warning)
    d = same;                   // self-assignment
    EXPECT_THAT(d, ElementsAreArray(want));
    SlotList e;
    for (int i = 0; i < 9; ++i) e.push_back(1);
    e = std::move(d);
    EXPECT_THAT(e, ElementsAreArray(want));
    EXPECT_THAT(a, ElementsAreArray(want));
  }
}

TEST(SlotListTest, AgreesWithAVector) {
  std::mt19937 rng(7);
  SlotList l;
  std::vector<uint32_t> model;
  for (int step = 0; step < 100000; ++step) {
    const int op = rng() % 10;
    if (op < 5 || model.empty()) {
      const uint32_t v = rng() % 1000;
      l.push_back(v);
      model.push_back(v);
    } else if (op < 7) {
      l.pop_back();
      model.pop_back();
    } else if (op < 9) {
      const size_t i = rng() % model.size();
      l.erase(l.begin() + i);
      model.erase(model.begin() + i);
    } else if (rng() % 50 == 0) {
      l.clear();
      model.clear();
    } else {
      SlotList copy = l;
      l = std::move(copy);
    }
    ASSERT_EQ(l.size(), model.size());
    ASSERT_EQ(l.empty(), model.empty());
    ASSERT_TRUE(std::equal(l.begin(), l.end(), model.begin(), model.end()));
  }
}

}  // namespace
}  // namespace weft::scheduler::internal
