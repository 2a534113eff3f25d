// Copyright 2026 The weft Authors.

#include "worker/object_store.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace weft::worker {
namespace {

TEST(ObjectStoreTest, PutGetEraseAndAccounting) {
  ObjectStore store;
  EXPECT_TRUE(store.Put(1, "abc"));
  EXPECT_FALSE(store.Put(1, "other"));  // immutable
  ASSERT_NE(store.Get(1), nullptr);
  EXPECT_EQ(*store.Get(1), "abc");
  EXPECT_EQ(store.total_bytes(), 3u);
  EXPECT_EQ(store.num_objects(), 1u);
  ObjectStore::Bytes held = store.Get(1);
  EXPECT_TRUE(store.Erase(1));
  EXPECT_FALSE(store.Erase(1));
  EXPECT_EQ(store.Get(1), nullptr);
  EXPECT_EQ(*held, "abc");  // readers keep what they hold
  EXPECT_EQ(store.total_bytes(), 0u);
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
