// Copyright 2026 The weft Authors.
//
// `weft cluster start --hosts=...` and `weft cluster stop` against real
// OpenSSH servers in test hosts (tests/testing/ssh_hosts.h): workers started
// over ssh join and work, stop ends every one of them and nothing else, and
// an unreachable host, a host without sshd or a missing program is a clear
// error that leaves nothing running. The `weft` command runs in host "c"
// (the user's machine); w1 and w2 run sshd, w3 does not.

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy_tasks.h"
#include "tests/testing/ssh_hosts.h"
#include "tests/testing/test_hosts.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace weft::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// Live processes on the machine that carry `mark` (WEFT_CLUSTER=mark).
std::vector<pid_t> Marked(const std::string& mark) {
  const std::string variable = "WEFT_CLUSTER=" + mark;
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::vector<std::string> environment = absl::StrSplit(
        ReadFile(absl::StrCat("/proc/", pid, "/environ")), '\0');
    if (std::find(environment.begin(), environment.end(), variable) !=
        environment.end()) {
      found.push_back(pid);
    }
  }
  return found;
}

bool Runs(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string pid_field, comm, state;
  return (stat >> pid_field >> comm >> state) && state != "Z";
}

class SshClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ThisTestRole().empty()) return;
    available_ = new absl::Status(SshHosts::Availability());
    if (!available_->ok()) return;
    absl::StatusOr<std::unique_ptr<TestNetwork>> network =
        TestNetwork::Create();
    if (!network.ok()) {
      *available_ = network.status();
      return;
    }
    network_ = network->release();
    for (const char* name : {"c", "w1", "w2", "w3"}) {
      if (absl::StatusOr<TestHost*> h = network_->AddHost(name); !h.ok()) {
        *available_ = h.status();
        return;
      }
    }
    absl::StatusOr<std::unique_ptr<SshHosts>> ssh = SshHosts::Start(
        *network_, {network_->host("w1"), network_->host("w2")});
    if (!ssh.ok()) {
      *available_ = ssh.status();
      return;
    }
    ssh_ = ssh->release();
  }

  static void TearDownTestSuite() {
    delete ssh_;  // before its network
    ssh_ = nullptr;
    delete network_;
    network_ = nullptr;
  }

  void SetUp() override {
    if (!ThisTestRole().empty()) return;
    ASSERT_NE(available_, nullptr);
    if (!available_->ok()) GTEST_SKIP() << "no ssh hosts here: "
                                        << available_->message();
    // A home of its own for each test: token, state file, logs.
    home_ = absl::StrCat(network_->state_dir(), "/home-",
                         ::testing::UnitTest::GetInstance()
                             ->current_test_info()
                             ->name());
    std::filesystem::create_directories(home_);
  }

  TestHost* host(const char* name) { return network_->host(name); }

  // Runs `weft ARGS...` in host c as a user would (ssh from PATH, the
  // test's home) and waits for it.
  RunResult Weft(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {Absolute(RunfilePath("tools/weft"))};
    argv.insert(argv.end(), args.begin(), args.end());
    EnvOverrides env = ssh_->ClientEnv();
    env["WEFT_HOME"] = home_;
    env["WEFT_TOKEN"] = "";
    absl::StatusOr<std::unique_ptr<HostProcess>> process =
        host("c")->Spawn(argv, env);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return {.exit_code = -1, .output = ""};
    const absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(120));
    EXPECT_TRUE(code.ok()) << "still running: " << (*process)->Output();
    return {.exit_code = code.value_or(-1), .output = (*process)->Output()};
  }

  std::string Library() {
    return "--load=" + Absolute(RunfilePath("tests/libdeploy_tasks.so"));
  }

  // The cluster's mark, from its state file.
  std::string Mark() {
    for (absl::string_view line :
         absl::StrSplit(ReadFile(home_ + "/cluster"), '\n')) {
      if (absl::ConsumePrefix(&line, "cluster ")) return std::string(line);
    }
    return "";
  }

  // The processes that came in over ssh to `name`.
  std::vector<pid_t> Sessions(const char* name) {
    absl::StatusOr<std::vector<pid_t>> pids =
        ssh_->SessionProcesses(*host(name));
    EXPECT_TRUE(pids.ok()) << pids.status();
    return pids.value_or(std::vector<pid_t>{});
  }

  // Runs the "client" role in host c against the cluster of this test's
  // home: it expects `workers` workers, on `hosts`.
  void CheckClient(int workers, const std::string& hosts) {
    absl::StatusOr<std::unique_ptr<HostProcess>> client =
        host("c")->SpawnThisTest(
            "client", {{"WEFT_HOME", home_},
                       {"WEFT_TOKEN", ""},
                       {"WEFT_SCHEDULER", ""},
                       {"TEST_WORKERS", absl::StrCat(workers)},
                       {"TEST_HOSTS", hosts}});
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ((*client)->Wait(absl::Seconds(120)).value_or(-1), 0)
        << (*client)->Output();
  }

  static absl::Status* available_;
  static TestNetwork* network_;
  static SshHosts* ssh_;
  std::string home_;
};

absl::Status* SshClusterTest::available_ = nullptr;
TestNetwork* SshClusterTest::network_ = nullptr;
SshHosts* SshClusterTest::ssh_ = nullptr;

// In host c: the cluster of $WEFT_HOME has $TEST_WORKERS workers, one on
// each host of $TEST_HOSTS (a host listed twice has two), and they work.
void RunClient() {
  weft::Client client =
      weft::Client::Connect("", "", std::chrono::seconds(30));
  const int workers = std::atoi(std::getenv("TEST_WORKERS"));
  client.wait_for_workers(workers, std::chrono::seconds(60));
  std::multiset<std::string> expected;
  for (absl::string_view h :
       absl::StrSplit(std::getenv("TEST_HOSTS"), ',')) {
    expected.emplace(h);
  }
  std::multiset<std::string> seen;
  for (const auto& w : client.workers()) seen.insert(w.host);
  EXPECT_EQ(seen, expected);
  std::multiset<std::string> ran;
  for (const std::string& where :
       client.run_on_all_workers(deploy_tasks::Where)) {
    ran.insert(where.substr(0, where.find(' ')));
  }
  EXPECT_EQ(ran, expected);
  std::vector<double> xs = {1, 2, 3, 4};
  double sum = 0;
  for (double v : client.get(client.map(deploy_tasks::Square, xs))) sum += v;
  EXPECT_EQ(sum, 30);
}

TEST_F(SshClusterTest, StartsWorkersOverSshAndStopsThemAll) {
  if (ThisTestRole() == "client") return RunClient();
  const RunResult start = Weft({"cluster", "start", "--hosts=w1,w2", "-n", "4",
                                "--port=8786", Library()});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_THAT(start.output, HasSubstr("scheduler at c:8786, 4 workers on w1,w2"));
  CheckClient(4, "w1,w1,w2,w2");
  // Each worker is two processes: its supervisor and the worker itself.
  EXPECT_EQ(Sessions("w1").size(), 4);
  EXPECT_EQ(Sessions("w2").size(), 4);
  const std::string mark = Mark();
  ASSERT_FALSE(mark.empty());
  // The scheduler, and 4 workers of two processes each.
  EXPECT_EQ(Marked(mark).size(), 9);

  const RunResult stop = Weft({"cluster", "stop"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_THAT(stop.output, HasSubstr("stopped (5 processes)"));
  EXPECT_THAT(Sessions("w1"), IsEmpty());
  EXPECT_THAT(Sessions("w2"), IsEmpty());
  EXPECT_THAT(Marked(mark), IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(home_ + "/cluster"));
}

TEST_F(SshClusterTest, HostfileListsTheHosts) {
  if (ThisTestRole() == "client") return RunClient();
  std::ofstream(home_ + "/hosts") << "# the workers\nw2\n\n  w1   # another\n";
  const RunResult start = Weft({"cluster", "start",
                                "--hostfile=" + home_ + "/hosts",
                                "--port=8787", Library()});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  CheckClient(2, "w1,w2");
  EXPECT_EQ(Weft({"cluster", "stop"}).exit_code, 0);
  EXPECT_THAT(Sessions("w1"), IsEmpty());
  EXPECT_THAT(Sessions("w2"), IsEmpty());
}

TEST_F(SshClusterTest, UnreachableHostIsAnErrorThatLeavesNothingRunning) {
  ASSERT_TRUE(host("w2")->LinkDown().ok());
  const absl::Time started = absl::Now();
  const RunResult start = Weft({"cluster", "start", "--hosts=w1,w2", "-n", "2",
                                "--port=8788", Library()});
  const absl::Duration took = absl::Now() - started;
  ASSERT_TRUE(host("w2")->LinkUp().ok());
  EXPECT_EQ(start.exit_code, 2) << start.output;
  EXPECT_THAT(start.output, HasSubstr("w2: cannot reach it over ssh: ssh: "
                                      "connect to host w2 port 22: "
                                      "Connection timed out"))
      << "after " << took;
  EXPECT_THAT(start.output, HasSubstr("nothing is left running"));
  // w1's worker was started, then stopped again; so was the scheduler.
  EXPECT_THAT(Sessions("w1"), IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(home_ + "/cluster"));
}

TEST_F(SshClusterTest, HostWithoutSshdIsRefused) {
  const RunResult start = Weft({"cluster", "start", "--hosts=w3",
                                "--port=8789", Library()});
  EXPECT_EQ(start.exit_code, 2) << start.output;
  EXPECT_THAT(start.output,
              HasSubstr("w3: cannot reach it over ssh: ssh: connect to host "
                        "w3 port 22: Connection refused"));
  EXPECT_FALSE(std::filesystem::exists(home_ + "/cluster"));
}

TEST_F(SshClusterTest, MissingProgramOrLibraryIsNamed) {
  RunResult start = Weft({"cluster", "start", "--hosts=w1", "--port=8790",
                          "--remote-weft=/nowhere/weft", Library()});
  EXPECT_EQ(start.exit_code, 2) << start.output;
  EXPECT_THAT(start.output,
              HasSubstr("w1: weft: no executable /nowhere/weft on w1 (exit "
                        "status 127)"));
  start = Weft({"cluster", "start", "--hosts=w1", "--port=8790",
                "--load=/nowhere/libtasks.so"});
  EXPECT_EQ(start.exit_code, 2) << start.output;
  EXPECT_THAT(start.output,
              HasSubstr("w1: weft: no library /nowhere/libtasks.so on w1"));
  EXPECT_THAT(Sessions("w1"), IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(home_ + "/cluster"));
}

// The state file names a process that is not the cluster's (a pid reused,
// or an edited file): stop leaves it alone.
TEST_F(SshClusterTest, StopLeavesOtherProcessesAlone) {
  const RunResult start = Weft({"cluster", "start", "--hosts=w1",
                                "--port=8791", Library()});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  absl::StatusOr<SshResult> decoy = ssh_->Run(
      *host("c"), "w1", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!");
  ASSERT_TRUE(decoy.ok() && decoy->exit_code == 0);
  int remote = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(decoy->out), &remote));
  absl::StatusOr<std::unique_ptr<HostProcess>> local =
      host("c")->Spawn({"sleep", "300"});
  ASSERT_TRUE(local.ok());
  std::ofstream(home_ + "/cluster", std::ios::app)
      << "ssh w1 " << remote << "\nlocal " << (*local)->pid() << "\n";
  const RunResult stop = Weft({"cluster", "stop"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_THAT(stop.output, HasSubstr("stopped (2 processes)"));
  EXPECT_TRUE(Runs(remote));
  EXPECT_TRUE(Runs((*local)->pid()));
  EXPECT_THAT(Sessions("w1"), UnorderedElementsAre(remote));
  ::kill(remote, SIGKILL);
}

}  // namespace
}  // namespace weft::testing
