// Copyright 2026 The weft Authors.

#include "scheduler/slot_index.h"

#include <cstdint>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace weft::scheduler::internal {
namespace {

// Records in a vector; slots with the top bit set stand for entries of a
// second store, as SchedulerState encodes tasks of a batch being checked.
struct Records {
  std::vector<uint64_t> ids;
  std::vector<uint64_t> pending;
};
struct IdOf {
  const Records* records;
  uint64_t operator()(uint32_t slot) const {
    return (slot >> 31) != 0 ? records->pending[slot & ~(uint32_t{1} << 31)]
                             : records->ids[slot];
  }
};
using Index = SlotIndex<IdOf>;

TEST(SlotIndexTest, FindsSlotsById) {
  Records r;
  Index index(IdOf{&r});
  r.ids = {100, 200, 300};
  for (uint32_t s = 0; s < 3; ++s) EXPECT_TRUE(index.Insert(s));
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find(200), 1u);
  EXPECT_EQ(index.Find(300), 2u);
  EXPECT_EQ(index.Find(400), Index::kNone);
  EXPECT_TRUE(index.Contains(100));
  EXPECT_FALSE(index.Contains(0));
}

TEST(SlotIndexTest, RefusesADuplicateId) {
  Records r;
  Index index(IdOf{&r});
  r.ids = {7, 7};
  EXPECT_TRUE(index.Insert(0));
  EXPECT_FALSE(index.Insert(1));  // another slot, same id
  EXPECT_FALSE(index.Insert(0));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Find(7), 0u);
}

// As SubmitTasks does: an entry reserved as a batch position becomes the
// record's slot in place; the table still finds it after growing.
TEST(SlotIndexTest, ReplaceTurnsABatchEntryIntoARecordSlot) {
  Records r;
  Index index(IdOf{&r});
  constexpr uint32_t kBatch = uint32_t{1} << 31;
  r.pending = {500, 600};
  EXPECT_TRUE(index.Insert(kBatch | 0));
  EXPECT_TRUE(index.Insert(kBatch | 1));
  r.ids = {600, 500};  // the records, in another order than the batch
  EXPECT_TRUE(index.Replace(500, 1));
  EXPECT_TRUE(index.Replace(600, 0));
  EXPECT_FALSE(index.Replace(700, 2));  // not indexed: nothing changes
  r.pending.clear();  // the batch is gone: only record slots may be read
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Find(500), 1u);
  EXPECT_EQ(index.Find(600), 0u);
  for (uint32_t s = 2; s < 1000; ++s) {  // rehashes, reading record ids
    r.ids.push_back(1000 + s);
    ASSERT_TRUE(index.Insert(s));
  }
  EXPECT_EQ(index.Find(500), 1u);
  EXPECT_EQ(index.Find(600), 0u);
  EXPECT_EQ(index.Find(1999), 999u);
}

TEST(SlotIndexTest, EraseThenReuseTheSlotForAnotherId) {
  Records r;
  Index index(IdOf{&r});
  r.ids = {1, 2};
  index.Insert(0);
  index.Insert(1);
  EXPECT_TRUE(index.Erase(1));
  EXPECT_FALSE(index.Erase(1));
  r.ids[0] = 11;  // erased first, so the record may change
  index.Insert(0);
  EXPECT_EQ(index.Find(11), 0u);
  EXPECT_EQ(index.Find(1), Index::kNone);
  EXPECT_EQ(index.Find(2), 1u);
}

TEST(SlotIndexTest, EncodedSlotsResolveThroughTheFunction) {
  Records r;
  Index index(IdOf{&r});
  r.pending = {55, 66};
  const uint32_t batch = uint32_t{1} << 31;
  EXPECT_TRUE(index.Insert(batch | 0));
  EXPECT_TRUE(index.Insert(batch | 1));
  EXPECT_EQ(index.Find(66), batch | 1);
  // Replace an encoded entry by a real slot with the same id.
  r.ids = {66};
  EXPECT_TRUE(index.Erase(66));
  EXPECT_TRUE(index.Insert(0));
  EXPECT_EQ(index.Find(66), 0u);
  EXPECT_EQ(index.Find(55), batch | 0);
}

TEST(SlotIndexTest, AgreesWithAMapUnderChurn) {
  Records r;
  Index index(IdOf{&r});
  absl::flat_hash_map<uint64_t, uint32_t> model;
  std::vector<uint32_t> free_slots;
  std::mt19937_64 rng(1);
  for (int step = 0; step < 200000; ++step) {
    if (model.empty() || rng() % 3 != 0) {
      const uint64_t id = rng() % 50000;
      if (model.contains(id)) continue;
      uint32_t s;
      if (!free_slots.empty()) {
        s = free_slots.back();
        free_slots.pop_back();
        r.ids[s] = id;
      } else {
        s = static_cast<uint32_t>(r.ids.size());
        r.ids.push_back(id);
      }
      ASSERT_TRUE(index.Insert(s));
      model[id] = s;
    } else {
      auto it = model.begin();
      std::advance(it, rng() % std::min<size_t>(model.size(), 8));
      ASSERT_TRUE(index.Erase(it->first));
      free_slots.push_back(it->second);
      model.erase(it);
    }
  }
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [id, s] : model) ASSERT_EQ(index.Find(id), s);
  index.Reserve(1000000);
  for (const auto& [id, s] : model) ASSERT_EQ(index.Find(id), s);
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find(model.begin()->first), Index::kNone);
  EXPECT_TRUE(index.Insert(model.begin()->second));
  EXPECT_EQ(index.Find(model.begin()->first), model.begin()->second);
}

}  // namespace
}  // namespace weft::scheduler::internal
