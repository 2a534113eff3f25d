// Copyright 2026 The weft Authors.

#include "weft/internal/spin_wait.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "weft/internal/task_context.h"

namespace weft::internal {
namespace {

using std::chrono::microseconds;

TEST(SpinWaitTest, ParsesTheBudget) {
  EXPECT_EQ(ParseSpinBudget(nullptr), microseconds(500));
  EXPECT_EQ(ParseSpinBudget("200"), microseconds(200));
  EXPECT_EQ(ParseSpinBudget("0"), microseconds(0));
  EXPECT_EQ(ParseSpinBudget("-3"), microseconds(0));
  EXPECT_EQ(ParseSpinBudget("99999"), microseconds(10'000));
  EXPECT_EQ(ParseSpinBudget("fast"), microseconds(500));
  EXPECT_EQ(ParseSpinBudget(""), microseconds(500));
}

// A condition that counts its polls in `polls` and always answers `ready`.
auto Counted(int& polls, bool ready) {
  return [&polls, ready] {
    ++polls;
    return ready;
  };
}

TEST(SpinWaitTest, ReturnsAtOnceWhenReady) {
  int polls = 0;
  EXPECT_TRUE(SpinUntil(Counted(polls, true), std::nullopt));
  // With spinning disabled (WEFT_SPIN_US=0) nothing is polled.
  EXPECT_EQ(polls, SpinBudget().count() > 0 ? 1 : 0);
}

TEST(SpinWaitTest, SeesAConditionThatBecomesTrueWhilePolling) {
  if (SpinBudget().count() == 0) GTEST_SKIP() << "WEFT_SPIN_US=0";
  // SpinUntil polls once more after its budget ends, so a condition that
  // turns true on the second poll is seen however slow the yields are.
  int polls = 0;
  EXPECT_TRUE(SpinUntil([&] { return ++polls == 2; }, std::nullopt));
  EXPECT_EQ(polls, 2);
}

TEST(SpinWaitTest, GivesUpAtTheDeadline) {
  int polls = 0;
  EXPECT_FALSE(
      SpinUntil(Counted(polls, false), std::chrono::steady_clock::now()));
  EXPECT_LE(polls, 2);  // one poll, and one more after the deadline
}

class FakeTask final : public TaskContext {
 public:
  std::string key() const override { return "fake"; }
  int num_cpus() const override { return 1; }
  bool cancelled() const override { return false; }
  std::shared_ptr<ClientImpl> client() const override { return nullptr; }
  void BeginBlocking() override {}
  void EndBlocking() override {}
  void AddChild(const std::shared_ptr<ObjectState>&) override {}
};

TEST(SpinWaitTest, NeverSpinsOnATaskThread) {
  FakeTask task;
  TaskContext::SetCurrent(&task);
  int polls = 0;
  const bool ready = SpinUntil(
      [&] {
        ++polls;
        return true;
      },
      std::nullopt);
  TaskContext::SetCurrent(nullptr);
  EXPECT_FALSE(ready);
  EXPECT_EQ(polls, 0);
}

}  // namespace
}  // namespace weft::internal
