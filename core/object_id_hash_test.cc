// Copyright 2026 The weft Authors.

#include "weft/internal/object_id_hash.h"

#include <cstdint>
#include <set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace weft::internal {
namespace {

// absl's place for an entry: the hash's bits above the lowest 7.
uint64_t PlaceOf(uint64_t id) { return ObjectIdHash{}(id) >> 7; }

constexpr uint64_t kRun = uint64_t{1} << ObjectIdHash::kRunBits;
constexpr uint64_t kSalt = uint64_t{0x1234567} << 32;  // as NewObjectId

TEST(ObjectIdHashTest, ARunOfConsecutiveIdsTakesConsecutivePlaces) {
  for (uint64_t first : {kSalt, kSalt + 5 * kRun, uint64_t{0}}) {
    for (uint64_t i = 1; i < kRun; ++i) {
      EXPECT_EQ(PlaceOf(first + i), PlaceOf(first) + i) << first << "+" << i;
    }
  }
}

TEST(ObjectIdHashTest, RunsAndTagsSpread) {
  // The places of 4,096 runs, and the tags of their first ids, as
  // absl::Hash would spread them.
  std::set<uint64_t> places;
  std::vector<int> tags(128);
  for (uint64_t run = 0; run < 4096; ++run) {
    const uint64_t id = kSalt + run * kRun;
    places.insert(PlaceOf(id) & 0xfffff);  // a table of 2^20 places
    ++tags[ObjectIdHash{}(id)&0x7f];
  }
  EXPECT_GT(places.size(), 4000u);  // a few collide, as at random
  for (int count : tags) EXPECT_LT(count, 4096 / 128 * 3);
  // Within a run the tags differ too (absl compares them within a group).
  std::set<uint64_t> run_tags;
  for (uint64_t i = 0; i < kRun; ++i) {
    run_tags.insert(ObjectIdHash{}(kSalt + i) & 0x7f);
  }
  EXPECT_GT(run_tags.size(), kRun / 2);
}

// Ids spaced by powers of two (the worst strides for a hash that keeps
// the low bits) and several processes' counters at once: the table holds
// and finds them all.
TEST(ObjectIdHashTest, TablesStayCorrectForAnySpacing) {
  for (uint64_t stride : {uint64_t{1}, uint64_t{2}, kRun, uint64_t{1} << 10,
                          uint64_t{1} << 20, uint64_t{1} << 32}) {
    absl::flat_hash_set<uint64_t, ObjectIdHash> set;
    std::vector<uint64_t> ids;
    for (uint64_t process = 0; process < 4; ++process) {
      for (uint64_t i = 0; i < 50'000; ++i) {
        ids.push_back((process << 58) + 1 + i * stride);
      }
    }
    for (uint64_t id : ids) ASSERT_TRUE(set.insert(id).second) << id;
    ASSERT_EQ(set.size(), ids.size());
    for (uint64_t id : ids) ASSERT_TRUE(set.contains(id)) << id;
    for (size_t i = 0; i < ids.size(); i += 2) set.erase(ids[i]);
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(set.contains(ids[i]), i % 2 == 1) << ids[i];
    }
  }
}

TEST(ObjectIdHashTest, ObjectIdMapIsAMap) {
  ObjectIdMap<int> map;
  for (int i = 0; i < 1000; ++i) map[kSalt + i] = i;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(map.at(kSalt + i), i);
  EXPECT_FALSE(map.contains(kSalt + 1000));
}

}  // namespace
}  // namespace weft::internal
