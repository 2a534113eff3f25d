// Copyright 2026 The weft Authors.

#include "worker/object_store.h"

#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/buffer.h"
#include "rpc/shared_region.h"

namespace weft::worker {
namespace {

TEST(ObjectStoreTest, PutGetEraseAndAccounting) {
  ObjectStore store;
  EXPECT_TRUE(store.Put(1, "abc"));
  EXPECT_FALSE(store.Put(1, "other"));  // immutable
  ASSERT_TRUE(store.Get(1).has_value());
  EXPECT_EQ(store.Get(1)->view(), "abc");
  EXPECT_EQ(store.total_bytes(), 3u);
  EXPECT_EQ(store.shared_bytes(), 0u);
  EXPECT_EQ(store.num_objects(), 1u);
  std::optional<rpc::Buffer> held = store.Get(1);
  EXPECT_TRUE(store.Erase(1));
  EXPECT_FALSE(store.Erase(1));
  EXPECT_FALSE(store.Get(1).has_value());
  EXPECT_EQ(held->view(), "abc");  // readers keep what they hold
  EXPECT_EQ(store.total_bytes(), 0u);
}

TEST(ObjectStoreTest, ClearEmptiesTheStoreButNotWhatReadersHold) {
  ObjectStore store;
  EXPECT_TRUE(store.Put(1, "abc"));
  EXPECT_TRUE(store.Put(2, "defg"));
  std::optional<rpc::Buffer> held = store.Get(2);
  EXPECT_EQ(store.Clear(), 2u);
  EXPECT_EQ(store.num_objects(), 0u);
  EXPECT_EQ(store.total_bytes(), 0u);
  EXPECT_FALSE(store.Contains(1));
  EXPECT_EQ(held->view(), "defg");
  EXPECT_TRUE(store.Put(1, "new"));  // the id may come back
  EXPECT_EQ(store.total_bytes(), 3u);
}

rpc::Buffer SharedBytes(size_t size, char fill) {
  rpc::BufferBuilder room = rpc::BufferBuilder::Allocate(size, true);
  EXPECT_TRUE(room.in_shared_memory());
  std::memset(room.data(), fill, size);
  return std::move(room).Finish();
}

TEST(ObjectStoreTest, SharedMemoryObjectsAreCountedAndUnmappedOnErase) {
  const int64_t live = rpc::SharedRegion::LiveCount();
  const size_t size = 2 * rpc::kSharedMinBytes;
  ObjectStore store;
  ASSERT_TRUE(store.Put(7, SharedBytes(size, 's')));
  ASSERT_TRUE(store.Put(8, "small"));
  EXPECT_EQ(store.total_bytes(), size + 5);
  EXPECT_EQ(store.shared_bytes(), size);
  EXPECT_EQ(rpc::SharedRegion::LiveCount(), live + 1);
  EXPECT_FALSE(store.Put(7, SharedBytes(size, 't')));  // immutable
  EXPECT_EQ(rpc::SharedRegion::LiveCount(), live + 1);
  std::optional<rpc::Buffer> reader = store.Get(7);
  ASSERT_TRUE(reader.has_value());
  ASSERT_NE(reader->region(), nullptr);
  EXPECT_EQ(reader->data()[size - 1], 's');
  // Erased while read: the reader's copy keeps the mapping until it goes.
  EXPECT_TRUE(store.Erase(7));
  EXPECT_EQ(store.total_bytes(), 5u);
  EXPECT_EQ(store.shared_bytes(), 0u);
  EXPECT_EQ(rpc::SharedRegion::LiveCount(), live + 1);
  EXPECT_EQ(reader->data()[0], 's');
  reader.reset();
  EXPECT_EQ(rpc::SharedRegion::LiveCount(), live);
}

TEST(ObjectStoreTest, ConcurrentWriters) {
  ObjectStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (uint64_t i = 0; i < 1000; ++i) store.Put(t * 1000 + i, "x");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store.num_objects(), 4000u);
  EXPECT_EQ(store.total_bytes(), 4000u);
}

}  // namespace
}  // namespace weft::worker
