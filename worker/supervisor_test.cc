// Copyright 2026 The weft Authors.

#include "worker/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "worker/worker.h"

namespace weft::worker {
namespace {

// A supervised "worker": a shell script that counts its starts in a file.
class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/supervisor-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()),
              0);
    options_.program = "/bin/sh";
    options_.min_backoff = absl::Milliseconds(1);
    options_.max_backoff = absl::Milliseconds(4);
  }

  // argv running `script`, in which $STARTS is the number of this start.
  std::vector<std::string> Script(const std::string& script) {
    return {"sh", "-c",
            absl::StrCat("echo x >> ", dir_, "/starts; STARTS=$(wc -l < ",
                         dir_, "/starts); ", script)};
  }

  int Starts() {
    std::ifstream in(dir_ + "/starts");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  std::string dir_;
  SupervisorOptions options_;
};

TEST_F(SupervisorTest, CrashedWorkerIsRestartedUntilItFinishes) {
  // Crashes twice (a segfault, an abort), then exits normally.
  const int code = Supervise(
      Script("if [ $STARTS -eq 1 ]; then kill -SEGV $$; fi; "
             "if [ $STARTS -eq 2 ]; then kill -ABRT $$; fi; exit 0"),
      options_);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Starts(), 3);
}

TEST_F(SupervisorTest, AnUnexpectedExitCodeIsACrashToo) {
  const int code = Supervise(
      Script("if [ $STARTS -eq 1 ]; then exit 7; fi; exit 0"), options_);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Starts(), 2);
}

TEST_F(SupervisorTest, DecisionsAreNotRetried) {
  for (int decided : {1, 2, kExitNoScheduler}) {
    ASSERT_EQ(std::system(("rm -f " + dir_ + "/starts").c_str()), 0);
    EXPECT_EQ(Supervise(Script(absl::StrCat("exit ", decided)), options_),
              decided);
    EXPECT_EQ(Starts(), 1) << "exit " << decided;
  }
}

TEST_F(SupervisorTest, RestartsRunOut) {
  options_.max_restarts = 2;
  const int code = Supervise(Script("kill -KILL $$"), options_);
  EXPECT_EQ(code, 128 + SIGKILL);
  EXPECT_EQ(Starts(), 3);  // the first start and two restarts
}

// A stop signal to the supervisor reaches the worker, which is then not
// restarted whatever its exit.
TEST_F(SupervisorTest, StopSignalsArePassedOnAndEndIt) {
  const std::string started = dir_ + "/started";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The worker says it started, then waits; on SIGTERM it exits 9 (which
    // would be a crash, were it not stopping).
    ::_exit(Supervise(Script(absl::StrCat("trap 'exit 9' TERM; touch ",
                                          started,
                                          "; while true; do sleep 0.01; done")),
                      options_));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (::access(started.c_str(), F_OK) != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(::access(started.c_str(), F_OK), 0);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 9);
  EXPECT_EQ(Starts(), 1);
}

TEST(DescribeExitTest, SaysHowAProcessEnded) {
  EXPECT_EQ(DescribeExit(3 << 8), "exited with status 3");
  const std::string killed = DescribeExit(SIGSEGV);
  EXPECT_EQ(killed.rfind("was killed by signal 11", 0), 0u) << killed;
}

}  // namespace
}  // namespace weft::worker
