// Copyright 2026 The weft Authors.
//
// Actors (weft/actor.h, docs/api.md "Actors") on every runtime: the
// embedded runtime, a LocalCluster and a cluster started with the `weft`
// command, with the fixture of tests/runtime_fixture.h and the actor
// classes of tests/suite_tasks.h. Worker deaths (restarts, retries) are
// tested on the clusters: the embedded runtime has no worker to lose.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runtime_fixture.h"
#include "tests/suite_tasks.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;
using namespace runtime_fixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using suite::Journal;
using suite::Picky;

class ActorTest : public RuntimeTest {
 protected:
  // A name no other runtime's test uses (the clusters outlive a test).
  std::string Unique(const std::string& name) const {
    return name + "-" + Name(GetParam()) + "-" + dir_.substr(dir_.size() - 6);
  }
  // Waits (bounded) until `actor`'s status satisfies `done`.
  bool WaitForStatus(const weft::Actor<Journal>& actor,
                     const std::function<bool(const weft::ActorStatus&)>& done) {
    return WaitFor([&] { return done(actor.status()); }, 60s);
  }
};

TEST_P(ActorTest, CallsKeepStateAndRunInTheCallersOrder) {
  weft::Actor<Journal> journal = weft::actor<Journal>()("a:");
  std::vector<weft::ObjectRef<std::string>> refs;
  for (int i = 0; i < 100; ++i) {
    refs.push_back(journal.remote(&Journal::Append)(std::to_string(i)));
  }
  std::vector<std::string> entries =
      weft::get(journal.remote(&Journal::Entries)(), 60s);
  ASSERT_EQ(entries.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(entries[i], "a:" + std::to_string(i));
  }
  EXPECT_EQ(weft::get(refs[7], 30s), "a:7");
  EXPECT_TRUE(journal.alive());
  EXPECT_EQ(journal.status().state, weft::ActorState::kAlive);
  EXPECT_FALSE(journal.status().worker.empty());
}

TEST_P(ActorTest, ArgumentsMayBeObjectRefs) {
  weft::Actor<Journal> journal = weft::actor<Journal>()("");
  weft::ObjectRef<std::string> entry = weft::put(std::string("from a ref"));
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)(entry), 30s),
            "from a ref");
}

TEST_P(ActorTest, HandlesGoToTasksAndToOtherActors) {
  weft::Actor<Journal> journal = weft::actor<Journal>()("j:");
  // Another caller's calls (the task's) are ordered only after this one's
  // if this one is done before they are made.
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("first"), 30s),
            "j:first");
  // A task's calls are its own caller's: they run in the task's order.
  EXPECT_EQ(weft::get(weft::remote(suite::AppendAll)(
                          journal, std::vector<std::string>{"x", "y", "z"}),
                      60s),
            4);
  weft::Actor<Journal> other = weft::actor<Journal>()("o:");
  EXPECT_EQ(weft::get(other.remote(&Journal::AppendTo)(journal, "via"), 60s),
            "j:via");
  EXPECT_THAT(weft::get(journal.remote(&Journal::Entries)(), 30s),
              ElementsAre("j:first", "j:x", "j:y", "j:z", "j:via"));
  EXPECT_EQ(weft::get(other.remote(&Journal::Size)(), 30s), 0);
}

// An empty (default-constructed) handle names no actor: using it is a
// UsageError, in the program and inside a task or another actor's method
// it was passed to (it travels as it is), and nothing else fails.
TEST_P(ActorTest, AnEmptyHandleIsAUsageError) {
  const weft::Actor<Journal> empty;
  ASSERT_FALSE(empty.valid());
  auto says_empty = [](auto&& call) {
    try {
      call();
    } catch (const weft::UsageError& e) {
      return std::string(e.what()).find("empty Actor handle") !=
             std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(says_empty([&] { empty.remote (&Journal::Append)("x"); }));
  EXPECT_TRUE(says_empty([&] { empty.status(); }));
  EXPECT_TRUE(says_empty([&] { empty.alive(); }));
  EXPECT_TRUE(says_empty([&] { weft::kill(empty); }));
  auto fails_empty = [](const auto& ref) {
    try {
      weft::get(ref, 60s);
    } catch (const weft::TaskError& e) {
      return std::string(e.what()).find("empty Actor handle") !=
             std::string::npos;
    }
    return false;
  };
  EXPECT_TRUE(fails_empty(
      weft::remote(suite::AppendAll)(empty, std::vector<std::string>{"x"})));
  weft::Actor<Journal> other = weft::actor<Journal>()("o:");
  EXPECT_TRUE(fails_empty(other.remote(&Journal::AppendTo)(empty, "via")));
  EXPECT_EQ(weft::get(other.remote(&Journal::Append)("still"), 30s), "o:still");
}

TEST_P(ActorTest, AThrowingMethodFailsThatCallOnly) {
  weft::Actor<Journal> journal = weft::actor<Journal>()("");
  weft::ObjectRef<int> bad = journal.remote(&Journal::Fail)("nope");
  weft::ObjectRef<std::string> good = journal.remote(&Journal::Append)("fine");
  try {
    weft::get(bad, 30s);
    FAIL() << "no error";
  } catch (const weft::TaskError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kTaskFailed);
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "nope");
  }
  EXPECT_EQ(weft::get(good, 30s), "fine");
  EXPECT_TRUE(journal.alive());
}

TEST_P(ActorTest, OneCallAtATimeUnlessMaxConcurrencySaysMore) {
  for (int concurrency : {1, 3}) {
    const std::string dir = Path("c" + std::to_string(concurrency));
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    weft::Actor<Journal> journal =
        weft::actor<Journal>({.max_concurrency = concurrency})("");
    std::vector<weft::ObjectRef<int>> refs;
    for (int i = 0; i < 3; ++i) {
      refs.push_back(
          journal.remote(&Journal::Inside)(dir, "call-" + std::to_string(i)));
    }
    // With room for three, all three are inside before the gate opens.
    if (concurrency == 3) {
      ASSERT_TRUE(WaitFor([&] { return CountFiles(dir, ".started") == 3; }))
          << CountFiles(dir, ".started") << " calls started";
    }
    const int fd = ::open((dir + "/open").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
    for (const auto& r : refs) EXPECT_EQ(weft::get(r, 60s), concurrency);
  }
}

TEST_P(ActorTest, KilledActorsFailEveryCallWithActorDiedError) {
  weft::Actor<Journal> journal = weft::actor<Journal>()("");
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("x"), 30s), "x");
  EXPECT_TRUE(weft::kill(journal));
  EXPECT_FALSE(weft::kill(journal));
  EXPECT_FALSE(journal.alive());
  weft::ActorStatus status = journal.status();
  EXPECT_EQ(status.state, weft::ActorState::kDead);
  ASSERT_NE(status.death, nullptr);
  EXPECT_THAT(status.death->message, HasSubstr("killed"));
  try {
    weft::get(journal.remote(&Journal::Size)(), 30s);
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kActorDied);
    EXPECT_THAT(e.what(), HasSubstr("killed"));
  }
}

TEST_P(ActorTest, AThrowingConstructorKillsTheActor) {
  weft::Actor<Picky> picky = weft::actor<Picky>()(-1);
  try {
    weft::get(picky.remote(&Picky::One)(), 30s);
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_EQ(e.exception_type(), "std::out_of_range");
    EXPECT_THAT(e.message(), HasSubstr("negative start"));
  }
  EXPECT_FALSE(picky.alive());
  weft::Actor<Picky> fine = weft::actor<Picky>()(1);
  EXPECT_EQ(weft::get(fine.remote(&Picky::One)(), 30s), 1);
}

TEST_P(ActorTest, NamedActorsAreFoundFromAnotherClient) {
  const std::string name = Unique("journal");
  weft::Actor<Journal> journal = weft::actor<Journal>({.name = name})("n:");
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("0"), 30s), "n:0");
  {
    weft::Client other = Runtimes::Another(GetParam());
    weft::Actor<Journal> found = other.get_actor<Journal>(name);
    EXPECT_EQ(found, journal);
    EXPECT_EQ(weft::get(found.remote(&Journal::Append)("1"), 30s), "n:1");
    EXPECT_THROW(other.get_actor<Picky>(name), weft::UsageError);
    EXPECT_THROW(other.get_actor<Journal>(Unique("nobody")), weft::UsageError);
    // The name is taken while the actor lives.
    EXPECT_THROW(other.actor<Journal>({.name = name})(""), weft::UsageError);
  }
  client_.make_default();
  EXPECT_THAT(weft::get(journal.remote(&Journal::Entries)(), 30s),
              ElementsAre("n:0", "n:1"));
  EXPECT_TRUE(weft::kill(journal));
  EXPECT_THROW(client_.get_actor<Journal>(name), weft::UsageError);
}

TEST_P(ActorTest, TheLastHandleGoneEndsTheActor) {
  const std::string name = Unique("short-lived");
  weft::Actor<Journal> journal = weft::actor<Journal>({.name = name})("");
  weft::ObjectRef<std::string> last = journal.remote(&Journal::Append)("b");
  journal = weft::Actor<Journal>();  // the call still runs
  EXPECT_EQ(weft::get(last, 30s), "b");
  EXPECT_TRUE(WaitFor([&] {
    try {
      client_.get_actor<Journal>(name);
      return false;
    } catch (const weft::UsageError&) {
      return true;
    }
  }));
}

TEST_P(ActorTest, RestartedAfterItsWorkerDiesWithItsStateLost) {
  if (!IsCluster()) GTEST_SKIP() << "no worker to lose on the embedded runtime";
  weft::Actor<Journal> journal =
      weft::actor<Journal>({.max_restarts = 1})("r:");
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("before"), 30s),
            "r:before");
  // The call in flight when the worker dies fails (max_task_retries 0).
  try {
    weft::get(journal.remote(&Journal::CrashOnce)(dir_, "crash-1"), 60s);
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("max_task_retries is 0"));
  }
  ASSERT_TRUE(WaitForStatus(journal, [](const weft::ActorStatus& s) {
    return s.restarts == 1 && s.state == weft::ActorState::kAlive;
  })) << weft::ActorStateName(journal.status().state);
  // Constructed again: what it held is gone.
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("after"), 60s),
            "r:after");
  EXPECT_EQ(weft::get(journal.remote(&Journal::Size)(), 30s), 1);
  // Out of restarts: dead, and every call fails.
  EXPECT_THROW(
      weft::get(journal.remote(&Journal::CrashOnce)(dir_, "crash-2"), 60s),
      weft::ActorDiedError);
  ASSERT_TRUE(WaitForStatus(journal, [](const weft::ActorStatus& s) {
    return s.state == weft::ActorState::kDead;
  }));
  try {
    weft::get(journal.remote(&Journal::Size)(), 30s);
    FAIL() << "no error";
  } catch (const weft::ActorDiedError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kActorDied);
    EXPECT_THAT(e.what(), HasSubstr("its worker died"));
  }
}

TEST_P(ActorTest, CallsAreRetriedOnTheRestartedActor) {
  if (!IsCluster()) GTEST_SKIP() << "no worker to lose on the embedded runtime";
  weft::Actor<Journal> journal =
      weft::actor<Journal>({.max_restarts = 1, .max_task_retries = 1})("t:");
  EXPECT_EQ(weft::get(journal.remote(&Journal::Append)("a"), 30s), "t:a");
  weft::ObjectRef<int> crash =
      journal.remote(&Journal::CrashOnce)(dir_, "crash");
  weft::ObjectRef<std::string> after = journal.remote(&Journal::Append)("b");
  // Run again, first, on the new instance (which holds nothing yet).
  EXPECT_EQ(weft::get(crash, 60s), 0);
  EXPECT_EQ(weft::get(after, 60s), "t:b");
  EXPECT_THAT(weft::get(journal.remote(&Journal::Entries)(), 30s),
              ElementsAre("t:b"));
  EXPECT_EQ(journal.status().restarts, 1);
}

INSTANTIATE_TEST_SUITE_P(, ActorTest,
                         ::testing::Values(Runtime::kEmbedded,
                                           Runtime::kLocalCluster,
                                           Runtime::kWeftCommand),
                         [](const auto& info) { return Name(info.param); });

[[maybe_unused]] auto* const kRuntimes =
    ::testing::AddGlobalTestEnvironment(new Runtimes);

}  // namespace
