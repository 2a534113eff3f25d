// Copyright 2026 The weft Authors.

#include "rpc/cluster_files.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/token.h"

namespace weft::rpc {
namespace {

using ::testing::HasSubstr;

class ClusterFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/files-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    ::unsetenv("SLURM_JOB_ID");
    ::unsetenv("WEFT_HOME");
    ::setenv("HOME", dir_.c_str(), 1);
  }
  std::string dir_;
};

TEST_F(ClusterFilesTest, StateDirIsKeyedBySlurmJob) {
  EXPECT_EQ(DefaultStateDir().value(), dir_ + "/.weft");
  ::setenv("WEFT_HOME", "/somewhere", 1);
  EXPECT_EQ(DefaultStateDir().value(), "/somewhere");
  ::setenv("SLURM_JOB_ID", "1234", 1);
  EXPECT_EQ(DefaultStateDir().value(), "/somewhere/slurm-1234");
  EXPECT_EQ(DefaultTokenPath().value(), "/somewhere/slurm-1234/token");
  EXPECT_EQ(DefaultSchedulerFile().value(), "/somewhere/slurm-1234/scheduler");
  EXPECT_EQ(SchedulerFileBeside("").value(), "/somewhere/slurm-1234/scheduler");
  EXPECT_EQ(SchedulerFileBeside("/a/b/token").value(), "/a/b/scheduler");
  EXPECT_EQ(SchedulerFileBeside("token").value(), "scheduler");
  ::setenv("SLURM_JOB_ID", "../x", 1);  // not a job id: ignored
  EXPECT_EQ(DefaultStateDir().value(), "/somewhere");
  ::unsetenv("WEFT_HOME");
  ::unsetenv("HOME");
  EXPECT_EQ(DefaultStateDir().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A token file is never written through a symbolic link: a link planted
// where the token goes (pointing at a file of the user's, or at a name in
// a directory an attacker reads) is replaced by the token file itself.
TEST_F(ClusterFilesTest, TheTokenFileIsNeverWrittenThroughASymbolicLink) {
  const std::string victim = dir_ + "/victim";
  {
    FILE* f = std::fopen(victim.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("precious\n", f);
    std::fclose(f);
  }
  const std::string token_path = dir_ + "/token";
  ASSERT_EQ(::symlink(victim.c_str(), token_path.c_str()), 0);
  const std::string dangling_target = dir_ + "/would-be-created";
  const std::string other_path = dir_ + "/other-token";
  ASSERT_EQ(::symlink(dangling_target.c_str(), other_path.c_str()), 0);

  ASSERT_TRUE(WriteTokenFile(token_path, "secret-1").ok());
  ASSERT_TRUE(WriteTokenFile(other_path, "secret-2").ok());
  EXPECT_EQ(ReadTokenFile(victim).value(), "precious");
  EXPECT_NE(::access(dangling_target.c_str(), F_OK), 0);
  for (const auto& [path, token] :
       {std::pair<std::string, std::string>{token_path, "secret-1"},
        {other_path, "secret-2"}}) {
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600) << path;
    EXPECT_EQ(ReadTokenFile(path).value(), token);
  }
}

// Without HOME (and WEFT_HOME) there is no default token file: an error
// that says what to do, never a guess in a shared directory such as /tmp.
TEST_F(ClusterFilesTest, AMissingHomeIsAnErrorNotAFileElsewhere) {
  ::unsetenv("HOME");
  absl::StatusOr<std::string> path = DefaultTokenPath();
  EXPECT_EQ(path.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(path.status().message(), HasSubstr("--token-file"));
  ::setenv("HOME", "", 1);  // empty is missing too
  EXPECT_EQ(DefaultTokenPath().status().code(),
            absl::StatusCode::kFailedPrecondition);
  ::unsetenv("WEFT_TOKEN");
  absl::StatusOr<std::string> token = TokenSource::FromEnvironmentOr("").Read();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClusterFilesTest, SchedulerFileRoundTripsAndMakesItsDirectories) {
  const std::string path = dir_ + "/a/b/scheduler";
  EXPECT_TRUE(absl::IsNotFound(ReadSchedulerFile(path).status()));
  ASSERT_TRUE(WriteSchedulerFile(path, "node1:41234").ok());
  EXPECT_EQ(ReadSchedulerFile(path).value(), "node1:41234");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(ClusterFilesTest, MalformedSchedulerFileIsAnError) {
  const std::string path = dir_ + "/scheduler";
  for (const char* bad :
       {"node1", "node1:", "node1:x", "a b:1", ":80", "node1:70000"}) {
    ASSERT_TRUE(WriteFileAtomically(path, bad, "scheduler file").ok());
    EXPECT_THAT(ReadSchedulerFile(path).status().message(),
                HasSubstr("not one host:port"))
        << bad;
  }
}

TEST_F(ClusterFilesTest, WaitForSchedulerFileWaitsForTheWriter) {
  const std::string path = dir_ + "/late/scheduler";
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(WriteSchedulerFile(path, "h:1").ok());
  });
  EXPECT_EQ(
      WaitForSchedulerFile(path, absl::Now() + absl::Seconds(30)).value_or(""),
      "h:1");
  writer.join();
  const absl::Status missing =
      WaitForSchedulerFile(dir_ + "/never",
                           absl::Now() + absl::Milliseconds(100))
          .status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(missing.message(), HasSubstr(dir_ + "/never"));
}

TEST_F(ClusterFilesTest, ReachableAddressNamesThisHostForWildcards) {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  EXPECT_EQ(ReachableAddress("0.0.0.0", 5), absl::StrCat(name, ":5"));
  EXPECT_EQ(ReachableAddress("", 5), absl::StrCat(name, ":5"));
  EXPECT_EQ(ReachableAddress("10.0.0.1", 5), "10.0.0.1:5");
}

TEST_F(ClusterFilesTest, InterfaceAddressFindsLoopbackAndNamesTheOthers) {
  // Every Linux network namespace has "lo".
  EXPECT_EQ(InterfaceAddress("lo").value_or(""), "127.0.0.1");
  absl::StatusOr<std::string> none = InterfaceAddress("no-such-if0");
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_THAT(std::string(none.status().message()),
              ::testing::HasSubstr("lo (127.0.0.1)"));
}

TEST_F(ClusterFilesTest, LocateServerOnThisMachine) {
  absl::StatusOr<Whereabouts> where = LocateServer("127.0.0.1:8786");
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_TRUE(where->here);
  EXPECT_EQ(where->local_address, "127.0.0.1");
  // This machine's own non-loopback address, if it has one, is here too.
  absl::StatusOr<std::string> eth = InterfaceAddress("eth0");
  if (eth.ok()) {
    where = LocateServer(*eth + ":1");
    ASSERT_TRUE(where.ok()) << where.status();
    EXPECT_TRUE(where->here);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(LocateServer("nocolon").status()));
  EXPECT_TRUE(
      absl::IsNotFound(LocateServer("no-such-host.invalid:1").status()));
}

TEST_F(ClusterFilesTest, IsLoopbackHost) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.0.1.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
  EXPECT_FALSE(IsLoopbackHost("no-such-host.invalid"));
}

}  // namespace
}  // namespace weft::rpc
