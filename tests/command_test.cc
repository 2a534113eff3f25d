// Copyright 2026 The weft Authors.
//
// The `weft` command as docs/cluster.md tells operators to use it: start-up
// in any order, restarts, stopping, and the errors of a busy port or a
// missing scheduler.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/token.h"
#include "tests/suite_tasks.h"
#include "tests/testing/ports.h"
#include "tests/testing/test_hosts.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"
#include "worker/worker.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using weft::testing::HostProcess;
using weft::testing::RunfilePath;
using weft::testing::SpawnLocal;
using namespace std::chrono_literals;


class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/cmd-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    token_file_ = dir_ + "/token";
    port_ = weft::testing::UnusedPort();
    address_ = absl::StrCat("127.0.0.1:", port_);
  }

  std::unique_ptr<HostProcess> Start(std::vector<std::string> argv,
                                     const std::string& log,
                                     weft::testing::EnvOverrides env = {}) {
    argv.insert(argv.begin(), RunfilePath("tools/weft"));
    auto process = SpawnLocal(argv, dir_ + "/" + log, env);
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *std::move(process) : nullptr;
  }
  std::unique_ptr<HostProcess> Scheduler(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"scheduler",
                                     absl::StrCat("--port=", port_),
                                     "--token-file=" + token_file_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Start(argv, absl::StrCat("scheduler-", ++started_, ".log"));
  }
  std::unique_ptr<HostProcess> Worker(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        "worker", "--scheduler=" + address_, "--token-file=" + token_file_,
        "--load=" + RunfilePath("tests/libsuite_tasks.so")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Start(argv, absl::StrCat("worker-", ++started_, ".log"));
  }
  // Waits until the scheduler's log shows `n` joins.
  void WaitForJoins(HostProcess& scheduler, int n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    int joined = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string out = scheduler.Output();
      joined = 0;
      for (size_t at = out.find(" joined: "); at != std::string::npos;
           at = out.find(" joined: ", at + 1)) {
        ++joined;
      }
      if (joined >= n) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << joined << " of " << n << " workers joined:\n"
           << scheduler.Output();
  }

  std::string dir_;
  std::string token_file_;
  int port_ = 0;
  std::string address_;
  int started_ = 0;
};

TEST_F(CommandTest, WorkerStartedBeforeTheSchedulerJoinsIt) {
  // As in docs/deploy.md's recipes: the worker may come first; there is no
  // token file yet either.
  auto worker = Worker();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(worker->Poll(), std::nullopt) << worker->Output();
  auto scheduler = Scheduler();
  WaitForJoins(*scheduler, 1);
  weft::Client client = weft::Client::Connect(address_, token_file_);
  EXPECT_EQ(client.get(client.remote(suite::Inc)(41), 30s), 42);
}

TEST_F(CommandTest, ClientStartedBeforeTheSchedulerConnects) {
  std::optional<weft::Client> client;
  std::thread connecting([&] {
    client = weft::Client::Connect(address_, token_file_, 60s);
  });
  std::this_thread::sleep_for(300ms);
  auto scheduler = Scheduler();
  auto worker = Worker();
  connecting.join();
  ASSERT_TRUE(client.has_value());
  client->wait_for_workers(1, 60s);
  EXPECT_EQ(client->get(client->remote(suite::Inc)(1), 30s), 2);
}

TEST_F(CommandTest, WorkersStartedWithTheSchedulerAllJoin) {
  constexpr int kWorkers = 10;
  std::vector<std::unique_ptr<HostProcess>> workers;
  auto scheduler = Scheduler();
  for (int i = 0; i < kWorkers; ++i) workers.push_back(Worker());
  WaitForJoins(*scheduler, kWorkers);
  for (auto& w : workers) EXPECT_EQ(w->Poll(), std::nullopt) << w->Output();
}

TEST_F(CommandTest, RestartedSchedulerKeepsTheTokenOfItsCluster) {
  auto first = Scheduler();
  ASSERT_TRUE(first->WaitForOutput("listening on", absl::Seconds(30)).ok())
      << first->Output();
  const absl::StatusOr<std::string> token = weft::rpc::ReadTokenFile(token_file_);
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(first->Signal(SIGTERM).ok());
  ASSERT_EQ(first->Wait(absl::Seconds(30)).value_or(-1), 0) << first->Output();

  auto second = Scheduler();
  auto worker = Worker();
  WaitForJoins(*second, 1);
  EXPECT_EQ(weft::rpc::ReadTokenFile(token_file_).value_or(""), *token);
  ASSERT_TRUE(second->Signal(SIGTERM).ok());
  ASSERT_EQ(second->Wait(absl::Seconds(30)).value_or(-1), 0);

  auto third = Scheduler({"--new-token"});
  ASSERT_TRUE(third->WaitForOutput("listening on", absl::Seconds(30)).ok())
      << third->Output();
  EXPECT_NE(weft::rpc::ReadTokenFile(token_file_).value_or(*token), *token);
}

TEST_F(CommandTest, WorkerThatFindsNoSchedulerSaysSoAndExits) {
  auto worker = Worker({"--connect-timeout=1"});
  const absl::StatusOr<int> code = worker->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << "still waiting after 30 s";
  // Not a crash: its supervisor does not restart it.
  EXPECT_EQ(*code, weft::worker::kExitNoScheduler) << worker->Output();
  EXPECT_THAT(worker->Output(),
              HasSubstr("cannot join the scheduler at " + address_));
  EXPECT_THAT(worker->Output(), Not(HasSubstr("restarting")));
}

// A scheduler that crashes and comes back (same port, same token file):
// its workers rejoin it, and the cluster works again.
TEST_F(CommandTest, WorkersRejoinARestartedScheduler) {
  auto first = Scheduler();
  auto worker = Worker();
  WaitForJoins(*first, 1);
  first->Kill();
  ASSERT_TRUE(worker->WaitForOutput("lost the scheduler", absl::Seconds(30))
                  .ok())
      << worker->Output();
  std::this_thread::sleep_for(500ms);  // it retries meanwhile
  auto second = Scheduler();
  WaitForJoins(*second, 1);
  ASSERT_TRUE(worker->WaitForOutput("rejoined the scheduler", absl::Seconds(30))
                  .ok())
      << worker->Output();
  weft::Client client = weft::Client::Connect(address_, token_file_);
  EXPECT_EQ(client.get(client.remote(suite::Inc)(1), 30s), 2);
  EXPECT_EQ(worker->Poll(), std::nullopt);
}

// A worker keeps trying to rejoin for --rejoin-timeout, then exits saying
// why (and its supervisor does not restart it).
TEST_F(CommandTest, WorkerGivesUpRejoiningAndSaysWhy) {
  auto scheduler = Scheduler();
  auto worker = Worker({"--rejoin-timeout=1"});
  WaitForJoins(*scheduler, 1);
  scheduler->Kill();
  const absl::StatusOr<int> code = worker->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << worker->Output();
  EXPECT_EQ(*code, weft::worker::kExitNoScheduler) << worker->Output();
  EXPECT_THAT(worker->Output(), HasSubstr("lost the scheduler"));
  EXPECT_THAT(worker->Output(), HasSubstr("gave up rejoining after 1s"));
  EXPECT_THAT(worker->Output(), Not(HasSubstr("restarting")));
}

// Workers started by `weft worker` run under a supervisor: a task that
// crashes its worker costs a restart, not the worker; after three such
// deaths the task fails with kWorkerDied, and the cluster keeps its
// workers.
TEST_F(CommandTest, SupervisorRestartsWorkersATaskCrashes) {
  auto scheduler = Scheduler();
  auto a = Worker();
  auto b = Worker();
  WaitForJoins(*scheduler, 2);
  weft::Client client = weft::Client::Connect(address_, token_file_);
  try {
    client.get(client.remote(suite::Segfault)(dir_, "segfault"), 120s);
    FAIL() << "the crashing task returned";
  } catch (const weft::TaskError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kWorkerDied) << e.what();
  }
  std::ifstream runs(dir_ + "/segfault");
  int n = 0;
  for (std::string line; std::getline(runs, line);) ++n;
  EXPECT_EQ(n, 3);  // SchedulerState::Options::max_worker_deaths_per_task
  // Both workers are back (3 deaths, 3 restarts, 5 joins in all).
  WaitForJoins(*scheduler, 5);
  client.wait_for_workers(2, 60s);
  EXPECT_EQ(client.get(client.remote(suite::Inc)(2), 30s), 3);
  EXPECT_EQ(a->Poll(), std::nullopt) << a->Output();
  EXPECT_EQ(b->Poll(), std::nullopt) << b->Output();
  EXPECT_THAT(a->Output() + b->Output(), HasSubstr("restarting it"));
}

// SIGTERM (scancel, a walltime) retires a worker: the objects only it
// holds are copied to another worker before it exits, so nothing is
// recomputed, and its exit is no death.
TEST_F(CommandTest, RetiringWorkerHandsOffItsObjects) {
  auto scheduler = Scheduler();
  auto first = Worker();
  WaitForJoins(*scheduler, 1);
  weft::Client client = weft::Client::Connect(address_, token_file_);
  constexpr int64_t kBytes = 4 << 20;  // not inline: only a worker holds it
  weft::ObjectRef<std::string> blob =
      client.remote(suite::MarkedBlob)(dir_, "blob", kBytes, 7);
  client.wait(std::vector{blob}, 1, 60s);
  auto second = Worker();
  WaitForJoins(*scheduler, 2);
  // The supervisor passes the signal on (signal its process, not its
  // group, as `kill PID` does).
  ASSERT_EQ(::kill(first->pid(), SIGTERM), 0);
  ASSERT_TRUE(
      scheduler->WaitForOutput("retired (1 object handed off)", absl::Seconds(60)).ok())
      << scheduler->Output();
  const absl::StatusOr<int> code = first->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << first->Output();
  EXPECT_EQ(*code, 0) << first->Output();
  EXPECT_EQ(client.get(client.remote(suite::Digest)(blob), 60s),
            suite::Digest(suite::RandomBlob(kBytes, 7)));
  std::ifstream runs(dir_ + "/blob");
  int n = 0;
  for (std::string line; std::getline(runs, line);) ++n;
  EXPECT_EQ(n, 1) << "the blob was recomputed";
  EXPECT_THAT(scheduler->Output(), HasSubstr(") left"));
  EXPECT_THAT(scheduler->Output(), Not(HasSubstr("lost its connection")));
}

TEST_F(CommandTest, SecondSchedulerOnAPortInUseFails) {
  auto first = Scheduler();
  ASSERT_TRUE(first->WaitForOutput("listening on", absl::Seconds(30)).ok())
      << first->Output();
  auto second = Scheduler();
  const absl::StatusOr<int> code = second->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(second->Output(), HasSubstr("Address already in use"));
  EXPECT_EQ(first->Poll(), std::nullopt) << "the first one goes on";
}

TEST_F(CommandTest, WorkerLeavesQuietlyOnSigterm) {
  auto scheduler = Scheduler();
  auto worker = Worker();
  WaitForJoins(*scheduler, 1);
  ASSERT_TRUE(worker->Signal(SIGTERM).ok());
  const absl::StatusOr<int> code = worker->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << worker->Output();
  EXPECT_THAT(worker->Output(), Not(HasSubstr("***")));  // no crash dump
  ASSERT_TRUE(scheduler->WaitForOutput(") left", absl::Seconds(30)).ok())
      << scheduler->Output();
}

TEST_F(CommandTest, ClusterStartAndStopAreQuiet) {
  const weft::testing::EnvOverrides home = {{"HOME", dir_}, {"WEFT_HOME", ""}};
  auto start = Start({"cluster", "start", "-n", "2",
                      absl::StrCat("--port=", port_),
                      "--load=" + RunfilePath("tests/libsuite_tasks.so")},
                     "start.log", home);
  ASSERT_EQ(start->Wait(absl::Seconds(60)).value_or(-1), 0) << start->Output();
  EXPECT_THAT(start->Output(), HasSubstr("2 workers"));
  EXPECT_THAT(start->Output(), HasSubstr("dashboard at http://127.0.0.1:"));
  auto stop = Start({"cluster", "stop"}, "stop.log", home);
  ASSERT_EQ(stop->Wait(absl::Seconds(60)).value_or(-1), 0) << stop->Output();
  std::ifstream log(dir_ + "/.weft/cluster.log");
  const std::string text((std::istreambuf_iterator<char>(log)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text, Not(HasSubstr("***"))) << text;
  EXPECT_THAT(text, Not(HasSubstr("lost the scheduler"))) << text;
}

// The start time of process `pid` (/proc/PID/stat's 22nd field), as
// `weft cluster` records it; 0 if unreadable.
uint64_t StartTimeOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  const std::string stat((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 1));
  std::string field;
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
  }
  uint64_t start = 0;
  return absl::SimpleAtoi(field, &start) ? start : 0;
}

// `weft cluster stop` signals only the processes it started. Its state file
// here names four: one that is the cluster's (its mark, its recorded start
// time), one with no mark (an unrelated process that got a recorded pid),
// one with another cluster's mark, and one with the right mark but another
// start time (a pid recycled to a descendant of a cluster process). Only
// the first is stopped. (Before: state files had no start times; the
// marks alone were checked.)
TEST_F(CommandTest, ClusterStopSignalsOnlyItsOwnProcesses) {
  const weft::testing::EnvOverrides home = {{"HOME", dir_}, {"WEFT_HOME", ""}};
  auto sleeper = [&](const std::string& name,
                     weft::testing::EnvOverrides env) {
    auto p = SpawnLocal({"/bin/sleep", "120"}, dir_ + "/" + name + ".log", env);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  };
  auto ours = sleeper("ours", {{"WEFT_CLUSTER", "c0ffee"}});
  auto unrelated = sleeper("unrelated", {});
  auto other = sleeper("other", {{"WEFT_CLUSTER", "another"}});
  auto reborn = sleeper("reborn", {{"WEFT_CLUSTER", "c0ffee"}});
  ASSERT_TRUE(ours && unrelated && other && reborn);
  const uint64_t ours_start = StartTimeOf(ours->pid());
  ASSERT_NE(ours_start, 0u);
  ASSERT_EQ(::mkdir((dir_ + "/.weft").c_str(), 0700), 0);
  {
    std::ofstream state(dir_ + "/.weft/cluster");
    state << "127.0.0.1:1\ncluster c0ffee\n"
          << "local " << ours->pid() << " " << ours_start << "\n"
          << "local " << unrelated->pid() << " "
          << StartTimeOf(unrelated->pid()) << "\n"
          << "local " << other->pid() << " " << StartTimeOf(other->pid())
          << "\n"
          << "local " << reborn->pid() << " "
          << StartTimeOf(reborn->pid()) + 1 << "\n";
  }
  auto stop = Start({"cluster", "stop"}, "stop.log", home);
  ASSERT_EQ(stop->Wait(absl::Seconds(60)).value_or(-1), 0) << stop->Output();
  EXPECT_THAT(stop->Output(), HasSubstr("(1 processes)"));
  EXPECT_EQ(ours->Wait(absl::Seconds(30)).value_or(-1), 128 + SIGTERM);
  EXPECT_FALSE(unrelated->Poll().has_value());
  EXPECT_FALSE(other->Poll().has_value());
  EXPECT_FALSE(reborn->Poll().has_value());
}

// `weft status` lists each worker's threads, running and queued tasks, CPU,
// memory and objects, and says where the dashboard is.
TEST_F(CommandTest, StatusShowsWorkersTheirTasksAndTheDashboard) {
  const int dashboard_port = weft::testing::UnusedPort();
  auto scheduler =
      Scheduler({absl::StrCat("--dashboard-port=", dashboard_port)});
  auto worker = Worker({"--nthreads=2"});
  WaitForJoins(*scheduler, 1);
  const std::string dashboard =
      absl::StrCat("http://127.0.0.1:", dashboard_port, "/");
  EXPECT_THAT(scheduler->Output(), HasSubstr("weft dashboard at " + dashboard));
  weft::Client client = weft::Client::Connect(address_, token_file_);
  std::vector<weft::ObjectRef<int>> gates;
  for (int i = 0; i < 2; ++i) {
    gates.push_back(client.remote(suite::Gate)(dir_, absl::StrCat("g", i)));
  }
  // Both slots busy: heartbeats (every 500 ms) then report 2 running.
  std::string out;
  std::vector<std::string> row;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto status = Start({"status", "--scheduler=" + address_,
                         "--token-file=" + token_file_},
                        absl::StrCat("status-", ++started_, ".log"));
    ASSERT_EQ(status->Wait(absl::Seconds(30)).value_or(-1), 0)
        << status->Output();
    out = status->Output();
    row.clear();
    // The header, then one row: id address host pid threads running queued
    // cpu memory held objects.
    std::istringstream lines(out);
    std::string line;
    for (int i = 0; i < 3 && std::getline(lines, line); ++i) {
      if (i == 2) row = absl::StrSplit(line, ' ', absl::SkipEmpty());
    }
    if (row.size() == 11 && row[5] == "2") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_THAT(out, HasSubstr("1 workers; dashboard " + dashboard));
  EXPECT_THAT(out, HasSubstr("threads running  queued"));
  ASSERT_EQ(row.size(), 11u) << out;
  EXPECT_EQ(row[4], "2") << out;  // threads
  EXPECT_EQ(row[5], "2") << out;  // running
  EXPECT_EQ(row[6], "0") << out;  // queued
  EXPECT_GT(std::stod(row[8]), 0) << out;  // memory (resident), MB
  ::close(::open((dir_ + "/open").c_str(), O_WRONLY | O_CREAT, 0644));
  for (const auto& g : gates) EXPECT_EQ(client.get(g, 60s), 1);
}

// Every verb lists its flags for --help (exit 0, nothing started) and
// refuses a flag it does not know, a switch given a value and a stray word
// (exit 2, saying which and where to look), instead of running with it.
TEST_F(CommandTest, VerbsExplainTheirFlagsAndRefuseUnknownOnes) {
  struct Case {
    std::vector<std::string> verb;
    std::string flag;  // one the verb has, which --help lists
  };
  for (const Case& c : std::vector<Case>{{{"scheduler"}, "--interface=IF"},
                                         {{"worker"}, "--rejoin-timeout=S"},
                                         {{"cluster", "start"}, "--hosts="},
                                         {{"cluster", "stop"}, "--ssh="},
                                         {{"slurm"}, "--adapt=MIN:MAX"},
                                         {{"status"}, "--scheduler="}}) {
    const std::string name = "weft " + absl::StrJoin(c.verb, " ");
    std::vector<std::string> help = c.verb;
    help.push_back("--help");
    auto helped = Start(help, "help.log");
    ASSERT_NE(helped, nullptr);
    EXPECT_EQ(helped->Wait(absl::Seconds(30)).value_or(-1), 0) << name;
    EXPECT_THAT(helped->Output(), HasSubstr("usage: " + name + " [flags]"));
    EXPECT_THAT(helped->Output(), HasSubstr(c.flag));

    for (const auto& [word, said] :
         std::vector<std::pair<std::string, std::string>>{
             {"--bogus=1", "unknown flag --bogus for `" + name + "`"},
             {"stray", "unexpected argument 'stray' for `" + name + "`"}}) {
      std::vector<std::string> wrong = c.verb;
      wrong.push_back(word);
      auto refused = Start(wrong, "wrong.log");
      ASSERT_NE(refused, nullptr);
      EXPECT_EQ(refused->Wait(absl::Seconds(30)).value_or(-1), 2) << name;
      EXPECT_THAT(refused->Output(),
                  HasSubstr(said + "; `" + name + " --help` lists"));
    }
  }
  auto valued = Start({"worker", "--no-supervisor=yes"}, "valued.log");
  ASSERT_NE(valued, nullptr);
  EXPECT_EQ(valued->Wait(absl::Seconds(30)).value_or(-1), 2);
  EXPECT_THAT(valued->Output(), HasSubstr("--no-supervisor takes no value"));
}

}  // namespace
