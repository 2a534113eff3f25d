// Copyright 2026 The weft Authors.
//
// Actors on the embedded runtime (weft/actor.h): what is particular to it
// (slots held by actors, states, unregistered methods, values that are
// never serialized). tests/actor_test.cc runs the shared promises on every
// runtime.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/task_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "weft/weft.h"

namespace embedded_actor_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::weft::testing::TaskErrorOf;

class Log {
 public:
  explicit Log(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string Append(std::string entry) {
    entries_.push_back(prefix_ + entry);
    return entries_.back();
  }
  std::vector<std::string> Entries() const { return entries_; }
  int Size() const { return static_cast<int>(entries_.size()); }
  // Not registered: callable on the embedded runtime only.
  int Twice(int x) const { return 2 * x; }
  void Fail(const std::string& why) { throw std::invalid_argument(why); }
  // Blocks until `gate` opens; returns how many calls were inside when it
  // came in (counted in `inside`).
  int Inside(std::shared_ptr<std::atomic<bool>> gate,
             std::shared_ptr<std::atomic<int>> inside) {
    const int now = ++*inside;
    while (!gate->load()) std::this_thread::sleep_for(1ms);
    --*inside;
    return now;
  }

 private:
  std::string prefix_;
  std::vector<std::string> entries_;
};
WEFT_ACTOR(Log(std::string), &Log::Append, &Log::Entries, &Log::Size,
           &Log::Fail);

class Picky {
 public:
  explicit Picky(int x) {
    if (x < 0) throw std::out_of_range("negative start");
  }
  int One() const { return 1; }
};
WEFT_ACTOR(Picky(int), &Picky::One);

int Length(weft::Actor<Log> log) {
  return weft::get(log.remote(&Log::Size)());
}
int Slow(int x) {
  std::this_thread::sleep_for(20ms);
  return x;
}

class ActorTest : public ::testing::Test {
 protected:
  weft::Client client_ = weft::Client::Local(2);
};

TEST_F(ActorTest, CallsKeepStateAndRunInOrder) {
  weft::Actor<Log> log = client_.actor<Log>()("a:");
  std::vector<weft::ObjectRef<std::string>> refs;
  for (int i = 0; i < 50; ++i) {
    refs.push_back(log.remote(&Log::Append)(std::to_string(i)));
  }
  EXPECT_EQ(weft::get(refs[3]), "a:3");
  std::vector<std::string> entries = weft::get(log.remote(&Log::Entries)());
  ASSERT_EQ(entries.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(entries[i], "a:" + std::to_string(i));
  // A method that is not registered runs here too.
  EXPECT_EQ(weft::get(log.remote(&Log::Twice)(21)), 42);
  EXPECT_TRUE(log.alive());
  EXPECT_EQ(log.status().state, weft::ActorState::kAlive);
  EXPECT_EQ(log.status().worker, "local");
}

TEST_F(ActorTest, ObjectRefArgumentsWaitAndLaterCallsWaitForThem) {
  weft::Actor<Log> log = client_.actor<Log>()("");
  weft::ObjectRef<int> slow = client_.remote(Slow)(7);
  weft::ObjectRef<std::string> first =
      log.remote(&Log::Append)(client_.remote([](int x) {
        return std::to_string(x);
      })(slow));
  weft::ObjectRef<std::string> second = log.remote(&Log::Append)("after");
  EXPECT_EQ(weft::get(second), "after");
  EXPECT_THAT(weft::get(log.remote(&Log::Entries)()),
              ElementsAre("7", "after"));
  EXPECT_EQ(weft::get(first), "7");
}

TEST_F(ActorTest, AThrowingMethodFailsThatCallOnly) {
  weft::Actor<Log> log = client_.actor<Log>()("");
  auto bad = log.remote(&Log::Fail)("nope");
  auto good = log.remote(&Log::Append)("fine");
  const auto e = TaskErrorOf([&] { weft::get(bad); });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind(), weft::ErrorKind::kTaskFailed);
  EXPECT_EQ(e->exception_type(), "std::invalid_argument");
  EXPECT_EQ(e->message(), "nope");
  EXPECT_EQ(weft::get(good), "fine");
  EXPECT_TRUE(log.alive());
}

TEST_F(ActorTest, ConcurrencyIsOneCallAtATimeUnlessAskedForMore) {
  for (int concurrency : {1, 3}) {
    weft::Actor<Log> log =
        client_.actor<Log>({.num_cpus = 0, .max_concurrency = concurrency})("");
    auto gate = std::make_shared<std::atomic<bool>>(false);
    auto inside = std::make_shared<std::atomic<int>>(0);
    std::vector<weft::ObjectRef<int>> refs;
    for (int i = 0; i < 3; ++i) {
      refs.push_back(log.remote(&Log::Inside)(gate, inside));
    }
    // With room for all three, all three get in before the gate opens.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (inside->load() < concurrency &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    gate->store(true);
    std::vector<int> seen = weft::get(refs);
    EXPECT_EQ(*std::max_element(seen.begin(), seen.end()), concurrency);
  }
}

TEST_F(ActorTest, AnActorHoldsItsSlots) {
  // Two slots: an actor holding both leaves none for tasks until it dies.
  weft::Actor<Log> big = client_.actor<Log>({.num_cpus = 2})("");
  EXPECT_EQ(weft::get(big.remote(&Log::Size)()), 0);
  weft::ObjectRef<int> task = client_.remote(Slow)(1);
  EXPECT_THROW(weft::get(task, 300ms), weft::TimeoutError);
  // A second actor waits for slots too.
  weft::Actor<Log> second = client_.actor<Log>({.num_cpus = 1})("");
  EXPECT_EQ(second.status().state, weft::ActorState::kPending);
  EXPECT_TRUE(weft::kill(big));
  EXPECT_EQ(weft::get(task, 30s), 1);
  EXPECT_EQ(weft::get(second.remote(&Log::Size)(), 30s), 0);
}

TEST_F(ActorTest, KilledActorsFailEveryCallWithActorDiedError) {
  weft::Actor<Log> log = client_.actor<Log>()("");
  EXPECT_EQ(weft::get(log.remote(&Log::Append)("x")), "x");
  EXPECT_TRUE(weft::kill(log));
  EXPECT_FALSE(weft::kill(log));
  EXPECT_FALSE(log.alive());
  weft::ActorStatus status = log.status();
  EXPECT_EQ(status.state, weft::ActorState::kDead);
  ASSERT_NE(status.death, nullptr);
  EXPECT_THAT(status.death->message, HasSubstr("killed"));
  try {
    weft::get(log.remote(&Log::Size)());
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kActorDied);
    EXPECT_THAT(e.what(), HasSubstr("killed"));
  }
}

TEST_F(ActorTest, AThrowingConstructorKillsTheActor) {
  weft::Actor<Picky> picky = client_.actor<Picky>()(-1);
  try {
    weft::get(picky.remote(&Picky::One)());
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_EQ(e.exception_type(), "std::out_of_range");
    EXPECT_THAT(e.message(), HasSubstr("negative start"));
  }
  EXPECT_FALSE(picky.alive());
}

TEST_F(ActorTest, NamedActorsAreFoundByName) {
  weft::Actor<Log> log = client_.actor<Log>({.name = "journal"})("j:");
  weft::Actor<Log> found = client_.get_actor<Log>("journal");
  EXPECT_EQ(found, log);
  EXPECT_EQ(weft::get(found.remote(&Log::Append)("1")), "j:1");
  EXPECT_THROW(client_.actor<Log>({.name = "journal"})(""), weft::UsageError);
  EXPECT_THROW(client_.get_actor<Picky>("journal"), weft::UsageError);
  EXPECT_THROW(client_.get_actor<Log>("nobody"), weft::UsageError);
  weft::kill(log);
  EXPECT_THROW(client_.get_actor<Log>("journal"), weft::UsageError);
}

TEST_F(ActorTest, HandlesGoToTasksAndTheActorEndsWithTheLastOne) {
  weft::Actor<Log> log = client_.actor<Log>({.name = "short-lived"})("");
  log.remote(&Log::Append)("a");
  EXPECT_EQ(weft::get(client_.remote(Length)(log)), 1);
  weft::ObjectRef<std::string> last = log.remote(&Log::Append)("b");
  log = weft::Actor<Log>();  // the last handle; the call still runs
  EXPECT_EQ(weft::get(last), "b");
  // Gone: its name is free.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    try {
      client_.get_actor<Log>("short-lived");
      std::this_thread::sleep_for(5ms);
    } catch (const weft::UsageError&) {
      gone = true;
    }
  }
  EXPECT_TRUE(gone);
}

TEST_F(ActorTest, CancelledCallsNeverRun) {
  weft::Actor<Log> log = client_.actor<Log>()("");
  auto gate = std::make_shared<std::atomic<bool>>(false);
  auto blocker = log.remote(&Log::Inside)(
      gate, std::make_shared<std::atomic<int>>(0));
  auto queued = log.remote(&Log::Append)("never");
  EXPECT_TRUE(weft::cancel(queued));
  gate->store(true);
  EXPECT_EQ(weft::get(blocker), 1);
  EXPECT_THROW(weft::get(queued), weft::CancelledError);
  EXPECT_EQ(weft::get(log.remote(&Log::Size)()), 0);
}

}  // namespace embedded_actor_test
