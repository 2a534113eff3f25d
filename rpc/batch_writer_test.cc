// Copyright 2026 The weft Authors.

#include "rpc/batch_writer.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

// Records every delivered id, and whether two writes ever overlapped.
struct Sink {
  std::vector<uint64_t> ids;
  int batches = 0;
  std::atomic<bool> inside{false};
  std::atomic<bool> overlapped{false};

  bool Write(const ClientMessage& m) {
    if (inside.exchange(true)) overlapped = true;
    ++batches;
    ids.insert(ids.end(), m.release().begin(), m.release().end());
    inside = false;
    return true;
  }
};

void AddId(BatchWriter<ClientMessage>& w, uint64_t id) {
  w.Add([id](ClientMessage& m) { m.add_release(id); });
}

TEST(BatchWriterOnFlushTest, AddQueuesAndFlushWritesOneBatch) {
  Sink sink;
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage& m) { return sink.Write(m); },
      Delivery::kOnFlush);
  for (uint64_t i = 1; i <= 3; ++i) AddId(w, i);
  EXPECT_EQ(sink.batches, 0);
  w.Flush();
  EXPECT_EQ(sink.batches, 1);
  EXPECT_EQ(sink.ids, (std::vector<uint64_t>{1, 2, 3}));
  w.Flush();  // nothing pending: no empty batch
  EXPECT_EQ(sink.batches, 1);
}

TEST(BatchWriterOnFlushTest, NestedFlushIsLeftToTheWriterUpTheStack) {
  Sink sink;
  BatchWriter<ClientMessage>* self = nullptr;
  bool nested = false;
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage& m) {
        sink.Write(m);
        if (!nested) {
          nested = true;
          AddId(*self, 99);
          self->Flush();  // must return, not deadlock or recurse
          EXPECT_EQ(sink.batches, 1);
        }
        return true;
      },
      Delivery::kOnFlush);
  self = &w;
  AddId(w, 1);
  w.Flush();
  EXPECT_EQ(sink.batches, 2);
  EXPECT_EQ(sink.ids, (std::vector<uint64_t>{1, 99}));
}

TEST(BatchWriterOnFlushTest, ConcurrentSendersLoseNothingAndKeepOrder) {
  Sink sink;
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage& m) { return sink.Write(m); },
      Delivery::kOnFlush);
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AddId(w, static_cast<uint64_t>(t) * kEach + i);
        w.Flush();
      }
    });
  }
  for (auto& t : threads) t.join();
  w.Close();
  EXPECT_FALSE(sink.overlapped);
  ASSERT_EQ(sink.ids.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int64_t> last(kThreads, -1);
  for (uint64_t id : sink.ids) {
    const int t = static_cast<int>(id / kEach);
    EXPECT_GT(static_cast<int64_t>(id), last[t]);
    last[t] = static_cast<int64_t>(id);
  }
}

TEST(BatchWriterOnFlushTest, CloseFlushesAndLaterAddsAreRefused) {
  Sink sink;
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage& m) { return sink.Write(m); },
      Delivery::kOnFlush);
  AddId(w, 7);
  w.Close();
  EXPECT_EQ(sink.ids, (std::vector<uint64_t>{7}));
  EXPECT_FALSE(w.Add([](ClientMessage& m) { m.add_release(8); }));
  w.Close();  // idempotent
}

TEST(BatchWriterOnFlushTest, BrokenLinkDropsLaterUpdates) {
  int writes = 0;
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage&) {
        ++writes;
        return false;
      },
      Delivery::kOnFlush);
  AddId(w, 1);
  w.Flush();
  EXPECT_TRUE(w.broken());
  EXPECT_FALSE(w.Add([](ClientMessage& m) { m.add_release(2); }));
  w.Flush();
  EXPECT_EQ(writes, 1);
}

TEST(BatchWriterThreadTest, WriterThreadDeliversEverythingBeforeClose) {
  Sink sink;
  {
    BatchWriter<ClientMessage> w(
        [&](const ClientMessage& m) { return sink.Write(m); });
    for (uint64_t i = 0; i < 1000; ++i) AddId(w, i);
  }  // destructor closes and flushes
  ASSERT_EQ(sink.ids.size(), 1000u);
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_EQ(sink.ids[i], i);
}

TEST(BatchWriterThreadTest, LazyUpdatesWaitForCompanyOrTheirLinger) {
  internal::Mutex mu;
  std::vector<std::vector<uint64_t>> batches;
  auto delivered = [&] {
    internal::MutexLock lock(&mu);
    return batches;
  };
  BatchWriter<ClientMessage> w([&](const ClientMessage& m) {
    internal::MutexLock lock(&mu);
    batches.emplace_back(m.release().begin(), m.release().end());
    return true;
  });
  auto lazy = [](uint64_t id) {
    return [id](ClientMessage& m) { m.add_release(id); };
  };
  // A long linger: nothing goes until an ordinary Add(), which takes the
  // lazy updates along in the same batch.
  w.AddLazy(lazy(1), std::chrono::seconds(60));
  w.AddLazy(lazy(2), std::chrono::seconds(60));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(delivered().empty());
  AddId(w, 3);
  for (int i = 0; i < 2000 && delivered().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(delivered()[0], (std::vector<uint64_t>{1, 2, 3}));
  // A short linger: it goes on its own.
  w.AddLazy(lazy(4), std::chrono::microseconds(500));
  for (int i = 0; i < 2000 && delivered().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(delivered().size(), 2u);
  EXPECT_EQ(delivered()[1], (std::vector<uint64_t>{4}));
  // Close sends what is still lingering.
  w.AddLazy(lazy(5), std::chrono::seconds(60));
  w.Close();
  ASSERT_EQ(delivered().size(), 3u);
  EXPECT_EQ(delivered()[2], (std::vector<uint64_t>{5}));
}

TEST(BatchWriterLingeringTest, FlushSendsAtOnceAndTheThreadOnlyLingers) {
  internal::Mutex mu;
  std::vector<std::vector<uint64_t>> batches;
  std::vector<std::thread::id> writers;
  auto delivered = [&] {
    internal::MutexLock lock(&mu);
    return batches;
  };
  BatchWriter<ClientMessage> w(
      [&](const ClientMessage& m) {
        internal::MutexLock lock(&mu);
        batches.emplace_back(m.release().begin(), m.release().end());
        writers.push_back(std::this_thread::get_id());
        return true;
      },
      Delivery::kOnFlushLingering);
  auto lazy = [](uint64_t id) {
    return [id](ClientMessage& m) { m.add_release(id); };
  };
  // Add() waits for the caller's Flush(), which writes on the caller.
  AddId(w, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(delivered().empty());
  w.Flush();
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(writers[0], std::this_thread::get_id());
  // Lazy updates go with the next Flush() if it comes first...
  w.AddLazy(lazy(2), std::chrono::seconds(60));
  w.Flush();
  ASSERT_EQ(delivered().size(), 2u);
  EXPECT_EQ(delivered()[1], (std::vector<uint64_t>{2}));
  // ...or from the thread once their linger passes.
  w.AddLazy(lazy(3), std::chrono::microseconds(500));
  w.AddLazy(lazy(4), std::chrono::microseconds(500));
  for (int i = 0; i < 2000 && delivered().size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(delivered().size(), 3u);
  EXPECT_EQ(delivered()[2], (std::vector<uint64_t>{3, 4}));
  {
    internal::MutexLock lock(&mu);
    EXPECT_NE(writers[2], std::this_thread::get_id());
  }
  // Close sends what is still lingering.
  w.AddLazy(lazy(5), std::chrono::seconds(60));
  w.Close();
  ASSERT_EQ(delivered().size(), 4u);
  EXPECT_EQ(delivered()[3], (std::vector<uint64_t>{5}));
  EXPECT_FALSE(w.Add([](ClientMessage& m) { m.add_release(6); }));
}

}  // namespace
}  // namespace weft::rpc
