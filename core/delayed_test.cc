// Copyright 2026 The weft Authors.
//
// Graph nodes: their size, reference counting and destruction, and that
// options survive the compact storage. (The API is tested in weft_test.)

#include "weft/delayed.h"

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "weft/api.h"

namespace {

int64_t Inc(int64_t x) { return x + 1; }
WEFT_REMOTE(Inc);

using weft::internal::CallNode;
using weft::internal::DelayedNode;
using weft::internal::NodeRef;

TEST(DelayedNodeTest, OneArgumentCallIsSmall) {
  // W7 builds a million of these: one 80-byte size class each (64 for the
  // call, 24 for the record of its last submission), no separate control
  // block.
  EXPECT_LE((sizeof(CallNode<int64_t (*)(int64_t), int64_t>)), 80u);
  EXPECT_EQ(sizeof(weft::Delayed<int64_t>), sizeof(void*));
}

// A node that counts its destructions.
class CountedNode final : public DelayedNode {
 public:
  explicit CountedNode(std::atomic<int>* destroyed, NodeRef child = {})
      : DelayedNode(1, weft::internal::InternedName("counted"), false),
        destroyed_(destroyed),
        child_(std::move(child)) {}
  ~CountedNode() override { ++*destroyed_; }
  void Children(std::vector<const DelayedNode*>& out) const override {
    if (child_.get() != nullptr) out.push_back(child_.get());
  }
  std::shared_ptr<weft::internal::ObjectState> Submit(
      weft::internal::ClientImpl&, const weft::internal::SubmitMemo&,
      uint64_t) const override {
    return nullptr;
  }

 private:
  std::atomic<int>* destroyed_;
  NodeRef child_;
};

TEST(DelayedNodeTest, LastReferenceDeletesOnce) {
  std::atomic<int> destroyed{0};
  NodeRef a(new CountedNode(&destroyed));
  {
    NodeRef b = a;
    NodeRef c = std::move(b);
    EXPECT_EQ(b.get(), nullptr);  // NOLINT(bugprone-use-after-move)
    a = c;  // self-sharing assignment
    NodeRef d;
    d = std::move(c);
  }
  EXPECT_EQ(destroyed, 0);
  a = NodeRef();
  EXPECT_EQ(destroyed, 1);
}

TEST(DelayedNodeTest, ReferencesFromManyThreads) {
  std::atomic<int> destroyed{0};
  NodeRef root(new CountedNode(&destroyed));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([root] {
      for (int i = 0; i < 10000; ++i) {
        NodeRef copy = root;
        NodeRef moved = std::move(copy);
      }
    });
  }
  root = NodeRef();  // the threads' copies keep it alive
  for (auto& th : threads) th.join();
  EXPECT_EQ(destroyed, 1);
}

TEST(DelayedNodeTest, LongChainIsDestroyedWithoutRecursion) {
  std::atomic<int> destroyed{0};
  constexpr int kLength = 1000000;
  NodeRef head;
  for (int i = 0; i < kLength; ++i) {
    head = NodeRef(new CountedNode(&destroyed, std::move(head)));
  }
  head = NodeRef();
  EXPECT_EQ(destroyed, kLength);
}

TEST(DelayedNodeTest, OptionsSurviveCompactStorage) {
  weft::Client client = weft::Client::Local(2);
  std::atomic<int> attempts{0};
  auto flaky = [&attempts](int64_t x) {
    if (++attempts < 3) throw std::runtime_error("flaky");
    EXPECT_EQ(weft::this_task::num_cpus(), 2);
    return x;
  };
  auto d = weft::delayed(flaky, {.name = "flaky", .retries = 2,
                                 .num_cpus = 2, .priority = 3})(int64_t{7});
  EXPECT_EQ(d.name(), "flaky");
  EXPECT_EQ(d.key().substr(0, 6), "flaky-");
  EXPECT_EQ(weft::compute(d), 7);
  EXPECT_EQ(attempts, 3);
  // Default options: the registered name.
  EXPECT_EQ(weft::delayed(Inc)(int64_t{1}).name(), "Inc");
  EXPECT_EQ(weft::compute(weft::delayed(Inc)(int64_t{1})), 2);
}

TEST(SubmitGraphTest, SameLeafTwiceRunsOnce) {
  weft::Client client = weft::Client::Local(2);
  std::atomic<int> runs{0};
  auto count = [&runs](int64_t x) {
    ++runs;
    return x;
  };
  auto d = weft::delayed(count)(int64_t{5});
  auto [a, b] = weft::compute(d, d);
  EXPECT_EQ(a, 5);
  EXPECT_EQ(b, 5);
  EXPECT_EQ(runs, 1);
  // A leaf that is also another root's input: one task.
  runs = 0;
  auto e = weft::delayed(count)(int64_t{6});
  auto [x, y] = weft::compute(e, weft::delayed(Inc)(e));
  EXPECT_EQ(x, 6);
  EXPECT_EQ(y, 7);
  EXPECT_EQ(runs, 1);
}

TEST(SubmitGraphTest, RootsAreSubmittedInOrder) {
  weft::Client client = weft::Client::Local(1);
  std::vector<int64_t> order;  // one thread: no lock needed
  auto record = [&order](int64_t x) {
    order.push_back(x);
    return x;
  };
  std::vector<weft::Delayed<int64_t>> ds;
  for (int64_t i = 0; i < 100; ++i) ds.push_back(weft::delayed(record)(i));
  ds.push_back(ds[3]);  // a second reference: through the memo
  std::vector<weft::ObjectRef<int64_t>> refs = weft::persist(ds);
  std::vector<int64_t> values = weft::get(refs);
  ASSERT_EQ(values.size(), 101u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(values[i], i);
  EXPECT_EQ(values[100], 3);
  EXPECT_EQ(refs[100], refs[3]);
  ASSERT_EQ(order.size(), 100u);
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

}  // namespace
