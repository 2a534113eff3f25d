// Copyright 2026 The weft Authors.

#include "rpc/liveness.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

// A peer that answers every ping is never given up, however many intervals
// pass.
TEST(LivenessTest, AnsweredPingsKeepThePeer) {
  EventLoop loop(1, "test-loop");
  std::atomic<int> pings{0};
  std::atomic<bool> silent{false};
  // Set once `watch` is made: the first ping may come before its
  // constructor returns (it pings from the loop's thread), and is then left
  // unanswered, as a lost answer would be.
  std::atomic<Liveness*> watch_ptr{nullptr};
  std::mutex mu;
  std::condition_variable cv;
  Liveness watch(
      loop, {absl::Milliseconds(5), absl::Seconds(30)},
      [&] {
        if (Liveness* w = watch_ptr.load()) w->Heard();  // the answer, at once
        std::lock_guard<std::mutex> lock(mu);
        ++pings;
        cv.notify_all();
      },
      [&](absl::Duration) { silent = true; });
  watch_ptr = &watch;
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                          [&] { return pings.load() >= 20; }));
  EXPECT_FALSE(silent.load());
  EXPECT_FALSE(watch.gave_up());
}

// A peer that never answers is given up once, after the timeout, and
// pinging stops.
TEST(LivenessTest, SilentPeerIsGivenUpOnce) {
  EventLoop loop(1, "test-loop");
  std::atomic<int> pings{0};
  std::atomic<int> gave_up{0};
  absl::Duration reported;
  std::mutex mu;
  std::condition_variable cv;
  const absl::Time start = absl::Now();
  Liveness watch(
      loop, {absl::Milliseconds(5), absl::Milliseconds(100)},
      [&] { ++pings; },
      [&](absl::Duration silent_for) {
        std::lock_guard<std::mutex> lock(mu);
        reported = silent_for;
        ++gave_up;
        cv.notify_all();
      });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                            [&] { return gave_up.load() > 0; }));
  }
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_GT(reported, absl::Milliseconds(100));
  EXPECT_TRUE(watch.gave_up());
  EXPECT_GT(pings.load(), 0);
  const int pings_then = pings.load();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(pings.load(), pings_then);
  EXPECT_EQ(gave_up.load(), 1);
}

// Hearing the peer late, but before the timeout, resets the watch.
TEST(LivenessTest, HeardResetsTheSilence) {
  EventLoop loop(1, "test-loop");
  std::atomic<bool> silent{false};
  Liveness watch(loop, {absl::Milliseconds(5), absl::Seconds(30)}, [] {},
                 [&](absl::Duration) { silent = true; });
  const absl::Time before = watch.last_heard();
  absl::SleepFor(absl::Milliseconds(20));
  watch.Heard();
  EXPECT_GT(watch.last_heard(), before);
  EXPECT_FALSE(silent.load());
}

// Stop() ends the watch while the object stays: no ping or give-up after
// it returns, and Heard() is still safe (the worker's stream reader may
// call it until its stream closes). Stopping from inside a ping returns.
TEST(LivenessTest, StopEndsTheWatchAndKeepsHeardSafe) {
  EventLoop loop(2, "test-loop");
  std::atomic<int> pings{0};
  std::atomic<bool> silent{false};
  std::atomic<Liveness*> watch_ptr{nullptr};
  Liveness watch(
      loop, {absl::Milliseconds(1), absl::Milliseconds(20)},
      [&] {
        if (++pings == 3) {
          if (Liveness* w = watch_ptr.load()) w->Stop();  // from a ping
        }
      },
      [&](absl::Duration) { silent = true; });
  watch_ptr = &watch;
  // Heard all along from another thread, so only Stop() ends the pings.
  std::atomic<bool> hearing{true};
  std::thread hearer([&] {
    while (hearing.load()) watch.Heard();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (pings.load() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GE(pings.load(), 3);
  watch.Stop();  // again, from outside: idempotent
  const int pings_then = pings.load();
  absl::SleepFor(absl::Milliseconds(60));  // three timeouts of silence
  hearing = false;
  hearer.join();
  EXPECT_EQ(pings.load(), pings_then);
  EXPECT_EQ(pings_then, 3);
  EXPECT_FALSE(silent.load());
  EXPECT_FALSE(watch.gave_up());
  watch.Heard();  // still fine after Stop()
}

// Destroying the watch stops it: nothing is called afterwards.
TEST(LivenessTest, DestroyedWatchCallsNothing) {
  EventLoop loop(1, "test-loop");
  auto calls = std::make_shared<std::atomic<int>>(0);
  {
    Liveness watch(loop, {absl::Milliseconds(1), absl::Milliseconds(2)},
                   [calls] { ++*calls; },
                   [calls](absl::Duration) { ++*calls; });
    absl::SleepFor(absl::Milliseconds(10));
  }
  const int then = calls->load();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(calls->load(), then);
}

}  // namespace
}  // namespace weft::rpc
