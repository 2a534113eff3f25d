// Copyright 2026 The weft Authors.
//
// Smoke tests of the SLURM harness, with SLURM alone: nodes come up idle
// with the CPUs they declare, srun spreads tasks over the hosts (also from a
// host outside the cluster), sbatch honours --cpus-per-task, exit codes
// reach WaitForJob, two jobs share a node, scancel gives steps SIGTERM
// before the kill, and Stop() leaves no process or cgroup behind, with
// either process tracking. Each test starts its own cluster.

#include "tests/testing/slurm_cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/as_nobody.h"
#include "tests/testing/test_hosts.h"

namespace weft::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kJobTimeout = absl::Seconds(30);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits up to `timeout` for `path` to exist.
bool WaitForFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  struct stat st {};
  while (::stat(path.c_str(), &st) != 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// A running process of a cluster: its command line names the cluster's
// directory, or its environment has the cluster's SLURM_CONF.
struct ClusterProcess {
  pid_t pid;
  std::string comm;
};

std::vector<ClusterProcess> ProcessesOf(const SlurmCluster& cluster) {
  const std::string conf_variable =
      absl::StrCat("SLURM_CONF=", cluster.conf_path());
  std::vector<ClusterProcess> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::string proc = absl::StrCat("/proc/", pid);
    // Zombies have neither: they have exited.
    const std::string cmdline = ReadFile(proc + "/cmdline");
    const std::vector<std::string> environment =
        absl::StrSplit(ReadFile(proc + "/environ"), '\0');
    if (absl::StrContains(cmdline, cluster.dir()) ||
        std::find(environment.begin(), environment.end(), conf_variable) !=
            environment.end()) {
      std::string comm = ReadFile(proc + "/comm");
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      found.push_back({pid, comm});
    }
  }
  return found;
}

// The cgroups of job `id` on any node (cgroup v1, as slurmd makes them).
std::vector<std::string> JobCgroups(int64_t id) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& controller :
       std::filesystem::directory_iterator("/sys/fs/cgroup", error)) {
    for (const auto& node :
         std::filesystem::directory_iterator(controller.path(), error)) {
      if (!absl::StartsWith(node.path().filename().string(), "slurm_")) {
        continue;
      }
      const std::filesystem::path job =
          node.path() / "uid_0" / absl::StrCat("job_", id);
      if (std::filesystem::exists(job, error)) found.push_back(job.string());
    }
  }
  return found;
}

class SlurmClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (absl::Status s = SlurmCluster::Availability(); !s.ok()) {
      GTEST_SKIP() << "no SLURM here: " << s.message();
    }
  }

  // Starts a network and a cluster in it, or fails the test.
  void StartCluster(SlurmClusterOptions options = {}) {
    absl::StatusOr<std::unique_ptr<TestNetwork>> network =
        TestNetwork::Create();
    ASSERT_TRUE(network.ok()) << network.status();
    network_ = *std::move(network);
    absl::StatusOr<std::unique_ptr<SlurmCluster>> cluster =
        SlurmCluster::Start(network_.get(), std::move(options));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    slurm_ = *std::move(cluster);
  }

  // Runs `command` in the controller host; its output, or a failed
  // assertion if it does not exit 0.
  std::string Run(const std::string& command) {
    absl::StatusOr<RunResult> run = slurm_->Run(slurm_->controller(), command);
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << command << ": " << run->output;
    return run->output;
  }

  std::string OutputOf(int64_t job) {
    return ReadFile(absl::StrCat(slurm_->jobs_dir(), "/slurm-", job, ".out"));
  }

  std::unique_ptr<TestNetwork> network_;
  std::unique_ptr<SlurmCluster> slurm_;  // goes before network_
};

TEST_F(SlurmClusterTest, NodesComeUpIdleWithTheirCpus) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 2, .cpus_per_node = 4}));
  // 4 CPUs per node, however many the machine has.
  EXPECT_THAT(absl::StrSplit(Run("sinfo -h -N -o '%N %T %c %P'"), '\n',
                             absl::SkipWhitespace()),
              UnorderedElementsAre("node1 idle 4 main*", "node2 idle 4 main*"));
  absl::StatusOr<std::map<std::string, std::string>> states =
      slurm_->NodeStates();
  ASSERT_TRUE(states.ok()) << states.status();
  EXPECT_EQ(states->size(), 2);
  absl::StatusOr<std::vector<SlurmQueuedJob>> queue = slurm_->Queue();
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_TRUE(queue->empty());
  EXPECT_THAT(Run("hostname; scontrol ping"),
              HasSubstr("slurmctl\nSlurmctld(primary) at slurmctl is UP"));
}

TEST_F(SlurmClusterTest, ExtraConfigOverridesAndBadConfigIsReported) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(
      {.nodes = 1, .kill_wait_seconds = 5, .extra_config = {"KillWait=7"}}));
  EXPECT_THAT(Run("scontrol show config"),
              ::testing::ContainsRegex("KillWait += 7 sec"));
  slurm_.reset();

  absl::StatusOr<std::unique_ptr<SlurmCluster>> bad = SlurmCluster::Start(
      network_.get(), {.controller_name = "bad-ctl",
                       .node_prefix = "bad-node",
                       .extra_config = {"NoSuchParameter=1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("slurmctld exited"));
  EXPECT_THAT(bad.status().message(), HasSubstr("NoSuchParameter"));
}

TEST_F(SlurmClusterTest, SrunSpreadsTasksAcrossHosts) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 2}));
  // --quiet: srun notes on standard error when it waits for the previous
  // job's nodes to finish completing.
  EXPECT_THAT(absl::StrSplit(Run("srun --quiet -N2 -n2 hostname"), '\n',
                             absl::SkipWhitespace()),
              UnorderedElementsAre("node1", "node2"));
  // Each task in its host: its own address.
  EXPECT_THAT(absl::StrSplit(Run("srun --quiet -N2 -n2 hostname -i"), '\n',
                             absl::SkipWhitespace()),
              UnorderedElementsAre(slurm_->nodes()[0]->address(),
                                   slurm_->nodes()[1]->address()));
}

TEST_F(SlurmClusterTest, RunsOnTheCallersHostsForClientsAnywhere) {
  absl::StatusOr<std::unique_ptr<TestNetwork>> network = TestNetwork::Create();
  ASSERT_TRUE(network.ok()) << network.status();
  network_ = *std::move(network);
  TestHost* login = network_->AddHost("login").value();
  TestHost* ctl = network_->AddHost("ctl").value();
  TestHost* a = network_->AddHost("a").value();
  TestHost* b = network_->AddHost("b").value();
  EXPECT_TRUE(absl::IsInvalidArgument(
      SlurmCluster::Start(network_.get(),
                          {.controller = ctl, .node_hosts = {a, a}})
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      SlurmCluster::Start(network_.get(),
                          {.controller = ctl, .node_hosts = {a, ctl}})
          .status()));
  absl::StatusOr<std::unique_ptr<SlurmCluster>> cluster = SlurmCluster::Start(
      network_.get(), {.controller = ctl, .node_hosts = {a, b}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  slurm_ = *std::move(cluster);
  EXPECT_EQ(slurm_->controller(), ctl);
  EXPECT_THAT(slurm_->nodes(), ::testing::ElementsAre(a, b));

  // A client in a host outside the cluster, started as the test likes.
  absl::StatusOr<std::unique_ptr<HostProcess>> srun = login->Spawn(
      {"srun", "--quiet", "-N2", "-n2", "hostname"}, slurm_->ClientEnv());
  ASSERT_TRUE(srun.ok()) << srun.status();
  EXPECT_EQ((*srun)->Wait(kJobTimeout).value_or(-1), 0) << (*srun)->Output();
  EXPECT_THAT(absl::StrSplit((*srun)->Output(), '\n', absl::SkipWhitespace()),
              UnorderedElementsAre("a", "b"));

  // Stop() kills what runs in the cluster's hosts, not in others.
  absl::StatusOr<std::unique_ptr<HostProcess>> outside =
      login->Spawn({"sleep", "300"});
  absl::StatusOr<std::unique_ptr<HostProcess>> inside =
      a->Spawn({"sleep", "300"});
  ASSERT_TRUE(outside.ok() && inside.ok());
  EXPECT_TRUE(slurm_->Stop().ok());
  EXPECT_EQ((*inside)->Wait(kJobTimeout).value_or(-1), 128 + SIGKILL);
  EXPECT_FALSE((*outside)->Poll().has_value());
}

TEST_F(SlurmClusterTest, SbatchGivesCpusPerTask) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 1, .cpus_per_node = 4}));
  absl::StatusOr<int64_t> job = slurm_->Submit(
      "#!/bin/sh\n"
      "#SBATCH --cpus-per-task=2\n"
      "echo cpus=$SLURM_CPUS_PER_TASK host=$(hostname)\n");
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<SlurmJob> done = slurm_->WaitForJob(*job, kJobTimeout);
  ASSERT_TRUE(done.ok()) << done.status() << slurm_->LogTails();
  EXPECT_EQ(done->state, "COMPLETED");
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->fields["NumCPUs"], "2");
  EXPECT_EQ(done->fields["BatchHost"], "node1");
  EXPECT_EQ(OutputOf(*job), "cpus=2 host=node1\n");
}

TEST_F(SlurmClusterTest, WaitForJobReportsExitCodes) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 1}));
  absl::StatusOr<int64_t> failing = slurm_->Submit("#!/bin/sh\nexit 3\n");
  absl::StatusOr<int64_t> killed = slurm_->Submit("#!/bin/sh\nkill -KILL $$\n");
  ASSERT_TRUE(failing.ok()) << failing.status();
  ASSERT_TRUE(killed.ok()) << killed.status();
  absl::StatusOr<SlurmJob> done = slurm_->WaitForJob(*failing, kJobTimeout);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, "FAILED");
  EXPECT_EQ(done->exit_code, 3);
  EXPECT_EQ(done->signal, 0);
  done = slurm_->WaitForJob(*killed, kJobTimeout);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, "FAILED");
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->signal, 9);
  EXPECT_TRUE(absl::IsNotFound(slurm_->Job(*failing + 500).status()));
  EXPECT_TRUE(slurm_->WaitUntilIdle(kJobTimeout).ok());
}

TEST_F(SlurmClusterTest, TwoJobsShareANode) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 1, .cpus_per_node = 4}));
  // Each job waits (up to 30 s) until both have started: they finish only
  // if they run at the same time.
  const std::string script =
      "#!/bin/sh\n"
      "#SBATCH --cpus-per-task=2\n"
      "touch pair.$SLURM_JOB_ID\n"
      "i=0\n"
      "while [ $(ls pair.* | wc -l) -lt 2 ]; do\n"
      "  i=$((i + 1)); [ $i -gt 300 ] && exit 1; sleep 0.1\n"
      "done\n";
  absl::StatusOr<int64_t> first = slurm_->Submit(script);
  absl::StatusOr<int64_t> second = slurm_->Submit(script);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  for (int64_t job : {*first, *second}) {
    absl::StatusOr<SlurmJob> done = slurm_->WaitForJob(job, kJobTimeout);
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->state, "COMPLETED") << done->fields["Reason"];
    EXPECT_EQ(done->fields["NodeList"], "node1");
  }
}

// Tests with either process tracking.
class SlurmProctrackTest
    : public SlurmClusterTest,
      public ::testing::WithParamInterface<SlurmProctrack> {
 protected:
  void SetUp() override {
    SlurmClusterTest::SetUp();
    if (IsSkipped()) return;
    if (absl::Status s = SlurmCluster::Availability(GetParam()); !s.ok()) {
      GTEST_SKIP() << "this process tracking does not work here: "
                   << s.message();
    }
  }
};

TEST_P(SlurmProctrackTest, ScancelSendsStepsSigtermBeforeTheKill) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 1, .proctrack = GetParam()}));
  // The step traps SIGTERM and says so; KillWait (5 s) leaves it the time.
  // It says it has started (with its cgroups) by renaming a whole file.
  absl::StatusOr<int64_t> job = slurm_->Submit(
      "#!/bin/sh\n"
      "srun bash -c 'trap \"echo TERM > term.$SLURM_JOB_ID; exit 0\" TERM; "
      "cat /proc/self/cgroup > cgroup.$SLURM_JOB_ID; "
      "mv cgroup.$SLURM_JOB_ID started.$SLURM_JOB_ID; sleep 300 & wait'\n");
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string started =
      absl::StrCat(slurm_->jobs_dir(), "/started.", *job);
  ASSERT_TRUE(WaitForFile(started, kJobTimeout)) << slurm_->LogTails();
  if (GetParam() == SlurmProctrack::kCgroup) {
    // The step's processes are in its cgroup.
    EXPECT_THAT(
        ReadFile(started),
        HasSubstr(absl::StrCat("/slurm_node1/uid_0/job_", *job, "/step_0")));
  }
  ASSERT_TRUE(slurm_->Cancel(*job).ok());
  absl::StatusOr<SlurmJob> done = slurm_->WaitForJob(*job, kJobTimeout);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, "CANCELLED");
  EXPECT_EQ(ReadFile(absl::StrCat(slurm_->jobs_dir(), "/term.", *job)),
            "TERM\n");
}

TEST_P(SlurmProctrackTest, StopLeavesNoProcess) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({.nodes = 2, .proctrack = GetParam()}));
  // A job running on both nodes while the cluster stops.
  absl::StatusOr<int64_t> job =
      slurm_->Submit("#!/bin/sh\nsrun -N2 -n2 sleep 300\n", "-N2");
  ASSERT_TRUE(job.ok()) << job.status();
  std::multiset<std::string> before;
  const absl::Time deadline = absl::Now() + kJobTimeout;
  while (before.count("sleep") < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    before.clear();
    for (const ClusterProcess& p : ProcessesOf(*slurm_)) before.insert(p.comm);
  }
  ASSERT_EQ(before.count("sleep"), 2) << slurm_->LogTails();
  EXPECT_EQ(before.count("munged"), 1);
  EXPECT_EQ(before.count("slurmctld"), 1);
  EXPECT_EQ(before.count("slurmd"), 2);
  EXPECT_GE(before.count("slurmstepd"), 2);  // a step and the batch step
  EXPECT_EQ(JobCgroups(*job).size(),
            GetParam() == SlurmProctrack::kCgroup ? 2 : 0);

  EXPECT_TRUE(slurm_->Stop().ok());
  std::vector<std::string> after;
  for (const ClusterProcess& p : ProcessesOf(*slurm_)) {
    after.push_back(absl::StrCat(p.comm, " (pid ", p.pid, ")"));
  }
  EXPECT_THAT(after, ::testing::IsEmpty());
  EXPECT_THAT(JobCgroups(*job), ::testing::IsEmpty());
  EXPECT_TRUE(slurm_->Stop().ok());  // again: nothing to do
}

INSTANTIATE_TEST_SUITE_P(
    Proctrack, SlurmProctrackTest,
    ::testing::Values(SlurmProctrack::kLinuxProc, SlurmProctrack::kCgroup),
    [](const ::testing::TestParamInfo<SlurmProctrack>& info) {
      return info.param == SlurmProctrack::kCgroup ? "Cgroup" : "LinuxProc";
    });

TEST(SlurmAvailabilityTest, SaysWhyNotWithoutRoot) {
  if (::geteuid() != 0) {
    absl::Status s = SlurmCluster::Availability();
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("root"));
    return;
  }
  // As root: ask again in a child that gave root up.
  absl::StatusOr<std::string> message = RunAsNobody(
      [] { return std::string(SlurmCluster::Availability().message()); });
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(*message, HasSubstr("need root"));
}

}  // namespace
}  // namespace weft::testing
