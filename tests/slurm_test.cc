// Copyright 2026 The weft Authors.
//
// weft under a real SLURM (tests/testing/slurm_cluster.h): the batch
// scripts docs/deploy.md shows, submitted as they are written there (the
// tutorial's pattern and the symmetric start), two jobs on one node at
// once, and no process of a job left once it ended. One cluster of two
// 4-CPU nodes serves every test of the binary; WEFT_TEST_PROCTRACK=cgroup
// (the slurm_cgroup_test target) makes it track processes with cgroups
// instead of /proc.

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "deploy/run_command.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/deploy_tasks.h"
#include "tests/testing/slurm_cluster.h"
#include "tests/testing/test_hosts.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace weft::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr absl::Duration kJobTimeout = absl::Seconds(120);
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

SlurmProctrack Proctrack() {
  const char* env = std::getenv("WEFT_TEST_PROCTRACK");
  return env != nullptr && std::string(env) == "cgroup"
             ? SlurmProctrack::kCgroup
             : SlurmProctrack::kLinuxProc;
}

std::string Absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// The batch script docs/deploy.md shows under "<!-- template: NAME -->": the
// ```sh block that follows it.
std::string Template(const std::string& name) {
  const std::string doc = ReadFile(RunfilePath("docs/deploy.md"));
  const std::string marker = absl::StrCat("<!-- template: ", name, " -->\n");
  const size_t at = doc.find(marker);
  if (at == std::string::npos) return "";
  const size_t open = doc.find("```sh\n", at);
  const size_t begin = open + 6;
  const size_t end = doc.find("```\n", begin);
  if (open == std::string::npos || end == std::string::npos) return "";
  return doc.substr(begin, end - begin);
}

// Live processes (not zombies) whose environment says they belong to SLURM
// job `job`: "COMM (pid N)".
std::vector<std::string> ProcessesOfJob(int64_t job) {
  const std::string variable = absl::StrCat("SLURM_JOB_ID=", job);
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::string proc = absl::StrCat("/proc/", pid);
    const std::vector<std::string> environment =
        absl::StrSplit(ReadFile(proc + "/environ"), '\0');
    if (std::find(environment.begin(), environment.end(), variable) ==
        environment.end()) {
      continue;
    }
    std::string comm = ReadFile(proc + "/comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    found.push_back(absl::StrCat(comm, " (pid ", pid, ")"));
  }
  return found;
}

// Waits until no process of `job` runs (a scheduler stopping as its job
// ends may take a moment); returns those still there after `timeout`.
std::vector<std::string> ProcessesLeftBy(int64_t job, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> left = ProcessesOfJob(job);
  while (!left.empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    left = ProcessesOfJob(job);
  }
  return left;
}

// The lines of `text` that start with `prefix`, without it.
std::vector<std::string> Lines(const std::string& text,
                               const std::string& prefix) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) out.emplace_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SlurmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ThisTestRole().empty()) return;
    available_ = new absl::Status(SlurmCluster::Availability(Proctrack()));
    if (!available_->ok()) return;
    absl::StatusOr<std::unique_ptr<TestNetwork>> network =
        TestNetwork::Create();
    if (!network.ok()) {
      *available_ = network.status();
      return;
    }
    network_ = network->release();
    absl::StatusOr<std::unique_ptr<SlurmCluster>> slurm = SlurmCluster::Start(
        network_, {.nodes = 2, .cpus_per_node = 4, .proctrack = Proctrack()});
    if (!slurm.ok()) {
      *available_ = slurm.status();
      return;
    }
    slurm_ = slurm->release();
    // As a user's shell would have it: `weft` on the PATH, and a home for
    // weft's files shared by every node (sbatch passes the environment on).
    const std::string weft_dir =
        std::filesystem::path(Absolute(RunfilePath("tools/weft")))
            .parent_path()
            .string();
    ::setenv("PATH", absl::StrCat(weft_dir, ":", std::getenv("PATH")).c_str(),
             1);
    ::setenv("WEFT_HOME", (slurm_->jobs_dir() + "/weft-home").c_str(), 1);
    ::unsetenv("WEFT_TOKEN");
    ::unsetenv("WEFT_SCHEDULER");
  }

  static void TearDownTestSuite() {
    delete slurm_;  // before its network
    slurm_ = nullptr;
    delete network_;
    network_ = nullptr;
  }

  void SetUp() override {
    if (!ThisTestRole().empty()) return;
    ASSERT_NE(available_, nullptr);
    if (!available_->ok()) {
      if (Proctrack() == SlurmProctrack::kCgroup &&
          SlurmCluster::Availability().ok()) {
        GTEST_SKIP() << "proctrack/cgroup does not work here: "
                     << available_->message();
      }
      GTEST_SKIP() << "no SLURM here: " << available_->message();
    }
  }

  // A fresh job directory, as a user's: my_program and libtasks.so in it.
  std::string JobDir(const std::string& name) {
    const std::string dir = absl::StrCat(slurm_->jobs_dir(), "/", name);
    std::filesystem::create_directories(dir);
    std::filesystem::create_symlink(
        Absolute(RunfilePath("tests/deploy_program")), dir + "/my_program");
    std::filesystem::create_symlink(
        Absolute(RunfilePath("tests/libdeploy_tasks.so")),
        dir + "/libtasks.so");
    return dir;
  }

  // Submits `script` to run in `dir`, waits for the job to end and returns
  // it with its output in `output`.
  SlurmJob RunJob(const std::string& script, const std::string& dir,
                  const std::string& sbatch_args, std::string* output) {
    absl::StatusOr<int64_t> id =
        slurm_->Submit(script, absl::StrCat("--chdir=", dir, " ", sbatch_args));
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) return {};
    absl::StatusOr<SlurmJob> job = slurm_->WaitForJob(*id, kJobTimeout);
    EXPECT_TRUE(job.ok()) << job.status() << "\n" << slurm_->LogTails();
    if (!job.ok()) {
      SlurmJob unknown;
      unknown.id = *id;
      return unknown;
    }
    *output = ReadFile(job->fields["StdOut"]);
    return *job;
  }

  static void ExpectQuietEnd(const std::string& output) {
    for (const char* noise : {"***", "lost", "CANCELLED", "aborted", "rror"}) {
      EXPECT_THAT(output, Not(HasSubstr(noise))) << output;
    }
  }

  // What every job of docs/deploy.md's scripts must show: it succeeded, the
  // program saw `workers` workers of `threads` threads each on both nodes
  // and the right sum, nothing crashed, and no process of it is left.
  void ExpectGoodRun(const SlurmJob& job, const std::string& output,
                     int workers, int threads) {
    EXPECT_EQ(job.state, "COMPLETED") << output;
    EXPECT_EQ(job.exit_code, 0) << output;
    EXPECT_THAT(output, HasSubstr(absl::StrCat("workers ", workers, "\n")));
    const std::vector<std::string> seen = Lines(output, "worker ");
    std::set<std::string> hosts;
    for (const std::string& line : seen) {
      const std::vector<std::string> words = absl::StrSplit(line, ' ');
      ASSERT_EQ(words.size(), 2) << line;
      hosts.insert(words[0]);
      EXPECT_EQ(words[1], absl::StrCat(threads)) << output;
    }
    EXPECT_EQ(seen.size(), workers) << output;
    EXPECT_EQ(hosts, (std::set<std::string>{"node1", "node2"})) << output;
    EXPECT_EQ(Lines(output, "where ").size(), workers) << output;
    EXPECT_THAT(output, HasSubstr("sum 285\n"));
    // A quiet end: no crash report, no worker that lost its scheduler or
    // was lost, no step that SLURM had to cancel.
    ExpectQuietEnd(output);
    EXPECT_THAT(ProcessesLeftBy(job.id, absl::Seconds(10)), IsEmpty())
        << output;
  }

  // Runs this test's `role` in the controller host, which serves as the
  // login node (SLURM's client commands work there), and waits for it.
  // Returns its output.
  std::string RunOnLoginNode(const std::string& role) {
    absl::StatusOr<std::unique_ptr<HostProcess>> login =
        slurm_->controller()->SpawnThisTest(role, slurm_->ClientEnv());
    EXPECT_TRUE(login.ok()) << login.status();
    if (!login.ok()) return "";
    EXPECT_EQ((*login)->Wait(absl::Seconds(240)).value_or(-1), 0)
        << (*login)->Output() << slurm_->LogTails();
    return (*login)->Output();
  }

  // Every job named on a "job ID" line of `output` ended as `state` and
  // left no process behind; returns how many there were.
  int ExpectJobsEnded(const std::string& output, const std::string& state) {
    int n = 0;
    for (const std::string& line : Lines(output, "job ")) {
      int64_t id = 0;
      if (!absl::SimpleAtoi(line, &id)) continue;
      ++n;
      absl::StatusOr<SlurmJob> job = slurm_->WaitForJob(id, kJobTimeout);
      EXPECT_TRUE(job.ok()) << job.status();
      if (!job.ok()) continue;
      EXPECT_EQ(job->state, state) << "job " << id;
      EXPECT_THAT(ProcessesLeftBy(id, absl::Seconds(10)), IsEmpty())
          << "job " << id;
    }
    return n;
  }

  static absl::Status* available_;
  static TestNetwork* network_;
  static SlurmCluster* slurm_;
};

absl::Status* SlurmTest::available_ = nullptr;
TestNetwork* SlurmTest::network_ = nullptr;
SlurmCluster* SlurmTest::slurm_ = nullptr;

TEST_F(SlurmTest, DocsShowTheTemplates) {
  EXPECT_THAT(Template("slurm-batch"), HasSubstr("srun weft worker"));
  EXPECT_THAT(Template("slurm-symmetric"), HasSubstr("--weft-slurm"));
}

// The tutorial's pattern (section 3.2), without its `sleep 60`: the
// scheduler, then a worker per task with srun, then the program.
TEST_F(SlurmTest, BatchTemplateRunsSchedulerWorkersAndProgram) {
  const std::string dir = JobDir("batch");
  std::string output;
  const SlurmJob job = RunJob(Template("slurm-batch"), dir, "", &output);
  ASSERT_NE(job.id, 0);
  ExpectGoodRun(job, output, /*workers=*/3, /*threads=*/2);
  // The job's files were its own, and the scheduler took its address with
  // it when it stopped.
  const std::string files =
      absl::StrCat(slurm_->jobs_dir(), "/weft-home/slurm-", job.id);
  EXPECT_TRUE(std::filesystem::exists(files + "/token"));
  EXPECT_FALSE(std::filesystem::exists(files + "/scheduler"));
}

// The tutorial's script as users first write it, with nothing to stop the
// scheduler: it still ends with the job (it stops when the script that
// started it exits), whatever SLURM's process tracking.
TEST_F(SlurmTest, BackgroundSchedulerEndsWithItsJob) {
  const std::string dir = JobDir("background");
  std::string output;
  const SlurmJob job = RunJob(
      "#!/bin/bash\n"
      "#SBATCH --ntasks=2\n"
      "weft scheduler --host=0.0.0.0 &\n"
      "srun weft worker --load=$PWD/libtasks.so &\n"
      "./my_program\n",
      dir, "", &output);
  ASSERT_NE(job.id, 0);
  EXPECT_EQ(job.state, "COMPLETED") << output;
  EXPECT_THAT(output, HasSubstr("sum 285\n"));
  EXPECT_THAT(ProcessesLeftBy(job.id, absl::Seconds(10)), IsEmpty()) << output;
}

// `srun ./my_program --weft-slurm`: task 0 runs the scheduler and main, every
// task a worker with its CPUs.
TEST_F(SlurmTest, SymmetricStartMakesEveryTaskAWorker) {
  const std::string dir = JobDir("symmetric");
  std::string output;
  const SlurmJob job = RunJob(Template("slurm-symmetric"), dir, "", &output);
  ASSERT_NE(job.id, 0);
  ExpectGoodRun(job, output, /*workers=*/3, /*threads=*/2);
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(
      slurm_->jobs_dir(), "/weft-home/slurm-", job.id, "/step-0")));
}

// The symmetric start's workers run supervised: a task that aborts the
// worker of task 1 costs that worker a restart, not the job its worker.
TEST_F(SlurmTest, SymmetricStartRestartsAWorkerATaskCrashed) {
  const std::string dir = JobDir("symmetric-crash");
  const std::string marker = dir + "/crashed";
  std::string script = Template("slurm-symmetric");
  const size_t at = script.find("--weft-slurm");
  ASSERT_NE(at, std::string::npos) << script;
  script.insert(at + std::string("--weft-slurm").size(), " --crash-task=1");
  std::string output;
  const SlurmJob job = RunJob(
      script, dir,
      absl::StrCat("--export=ALL,WEFT_TEST_CRASH_MARKER=", marker), &output);
  ASSERT_NE(job.id, 0);
  EXPECT_TRUE(std::filesystem::exists(marker)) << output;  // it did crash
  EXPECT_THAT(output, HasSubstr("weft worker of SLURM task 1 supervisor: "
                                "the worker (pid "))
      << output;
  EXPECT_THAT(output, HasSubstr("a crashed worker came back\n")) << output;
  EXPECT_EQ(job.state, "COMPLETED") << output;
  EXPECT_EQ(job.exit_code, 0) << output;
  EXPECT_THAT(output, HasSubstr("sum 285\n"));
  EXPECT_THAT(ProcessesLeftBy(job.id, absl::Seconds(10)), IsEmpty()) << output;
}

// Two jobs of the batch template on one node at once: each has its own
// port, token and workers. Each program waits until the other has its
// workers, so they finish only if they ran at the same time.
TEST_F(SlurmTest, TwoJobsOnOneNodeEachHaveTheirOwnCluster) {
  const std::string meet = slurm_->jobs_dir() + "/meet";
  std::filesystem::create_directories(meet);
  const std::string args = absl::StrCat(
      "--nodelist=node1 --ntasks=2 --cpus-per-task=1 "
      "--export=ALL,WEFT_TEST_RENDEZVOUS=",
      meet);
  const std::string script = Template("slurm-batch");
  const std::string dir_a = JobDir("pair-a");
  const std::string dir_b = JobDir("pair-b");
  absl::StatusOr<int64_t> a =
      slurm_->Submit(script, absl::StrCat("--chdir=", dir_a, " ", args));
  absl::StatusOr<int64_t> b =
      slurm_->Submit(script, absl::StrCat("--chdir=", dir_b, " ", args));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  std::set<std::string> listening;
  std::set<std::string> tokens;
  for (int64_t id : {*a, *b}) {
    absl::StatusOr<SlurmJob> job = slurm_->WaitForJob(id, kJobTimeout);
    ASSERT_TRUE(job.ok()) << job.status() << slurm_->LogTails();
    const std::string output = ReadFile(job->fields["StdOut"]);
    EXPECT_EQ(job->state, "COMPLETED") << output;
    EXPECT_EQ(job->fields["NodeList"], "node1");
    EXPECT_THAT(output, HasSubstr("workers 2\n"));
    EXPECT_THAT(output, HasSubstr("met the other job"));
    EXPECT_THAT(output, HasSubstr("sum 285\n"));
    ExpectQuietEnd(output);
    for (const std::string& line :
         Lines(output, "weft scheduler listening on ")) {
      listening.insert(line.substr(0, line.find(' ')));
    }
    tokens.insert(ReadFile(
        absl::StrCat(slurm_->jobs_dir(), "/weft-home/slurm-", id, "/token")));
    EXPECT_THAT(ProcessesLeftBy(id, absl::Seconds(10)), IsEmpty());
  }
  EXPECT_EQ(listening.size(), 2) << "one port each";
  EXPECT_EQ(tokens.size(), 2) << "one token each";
}

// The fields `scontrol show job ID` prints, as one line.
std::string ScontrolJob(int64_t id) {
  absl::StatusOr<deploy::CommandResult> r = deploy::RunCommand(
      {"scontrol", "show", "job", "--oneliner", absl::StrCat(id)});
  return r.ok() ? r->out : std::string(r.status().message());
}

// weft::SlurmCluster in a program on a login node (outside any allocation):
// worker jobs with the resources asked for, scale(), adapt() growing with
// the queue and shrinking when idle, every job cancelled at the end.
TEST_F(SlurmTest, SlurmClusterFromALoginNode) {
  if (ThisTestRole() == "login") {
    std::set<int64_t> seen;
    auto note = [&](const std::vector<int64_t>& ids) {
      for (int64_t id : ids) {
        if (seen.insert(id).second) std::cout << "job " << id << std::endl;
      }
    };
    weft::SlurmCluster cluster({.cores = 2,
                                .memory = "1M",
                                .walltime = "00:10:00",
                                .partition = "main",
                                .account = "weft-test",
                                .job_name = "weft-test-worker",
                                .job_directives = {"--comment=from-login"},
                                .poll_interval = 200ms});
    EXPECT_THAT(cluster.job_script(), HasSubstr("#SBATCH --cpus-per-task=2\n"));
    EXPECT_THAT(cluster.job_script(), HasSubstr("--weft-worker"));
    cluster.scale(2);
    ASSERT_EQ(cluster.job_ids().size(), 2);
    note(cluster.job_ids());
    weft::Client client = cluster.client();
    client.wait_for_workers(2, 60s);
    for (const auto& w : client.workers()) EXPECT_EQ(w.nthreads, 2);
    const std::string fields = ScontrolJob(cluster.job_ids()[0]);
    for (const char* field :
         {"JobName=weft-test-worker", "NumCPUs=2", "TimeLimit=00:10:00",
          "Partition=main", "Account=weft-test", "Comment=from-login",
          "MinMemoryNode=1M"}) {
      EXPECT_THAT(fields, HasSubstr(field));
    }
    std::vector<double> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(i);
    double sum = 0;
    for (double v : client.get(client.map(deploy_tasks::Square, xs))) sum += v;
    EXPECT_EQ(sum, 285);

    // A queue of slow tasks: more jobs, at most 3; then none once idle.
    cluster.adapt(0, 3);
    std::vector<double> slow;
    for (int i = 0; i < 24; ++i) slow.push_back(i);
    std::vector<int> ms(slow.size(), 500);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    {
      auto refs = client.map(deploy_tasks::SlowSquare, slow, ms);
      size_t most = 0;
      while (most < 3 && std::chrono::steady_clock::now() < deadline) {
        note(cluster.job_ids());
        most = std::max(most, cluster.job_ids().size());
        std::this_thread::sleep_for(20ms);
      }
      EXPECT_EQ(most, 3);
      double slow_sum = 0;
      for (double v : client.get(refs)) slow_sum += v;
      EXPECT_EQ(slow_sum, 4324);  // sum of i * i for i < 24
    }
    // The results are released: a worker that goes takes nothing the
    // program still holds (else the scheduler would compute it again on
    // new workers).
    while ((!cluster.job_ids().empty() || !client.workers().empty()) &&
           std::chrono::steady_clock::now() < deadline + 60s) {
      note(cluster.job_ids());
      EXPECT_LE(cluster.job_ids().size(), 3);
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_THAT(cluster.job_ids(), IsEmpty());
    EXPECT_THAT(client.workers(), IsEmpty());
    EXPECT_EQ(cluster.last_error(), "");

    cluster.scale(1);  // cancelled by the destructor
    note(cluster.job_ids());
    client.wait_for_workers(1, 60s);
    return;
  }
  const std::string output = RunOnLoginNode("login");
  EXPECT_EQ(ExpectJobsEnded(output, "CANCELLED"), 4) << output;  // 2, +1, 1
  absl::StatusOr<std::vector<SlurmQueuedJob>> queue = slurm_->Queue();
  ASSERT_TRUE(queue.ok());
  EXPECT_THAT(*queue, IsEmpty());
}

// The SLURM_JOB_ID in process `pid`'s environment (0 if none).
int64_t JobOfProcess(int64_t pid) {
  for (absl::string_view entry : absl::StrSplit(
           ReadFile(absl::StrCat("/proc/", pid, "/environ")), '\0')) {
    int64_t job = 0;
    if (absl::ConsumePrefix(&entry, "SLURM_JOB_ID=") &&
        absl::SimpleAtoi(entry, &job)) {
      return job;
    }
  }
  return 0;
}

// scancel (as at the end of a walltime): SLURM's SIGTERM makes the worker
// retire, handing the only copy of an object to the other worker before
// SLURM's SIGKILL; the program still gets it, computed once, and no
// process of the cancelled job is left.
TEST_F(SlurmTest, ScancelledWorkerHandsItsObjectsOff) {
  if (ThisTestRole() == "login") {
    weft::SlurmCluster cluster({.cores = 1, .poll_interval = 200ms});
    cluster.scale(2);
    const std::vector<int64_t> first = cluster.job_ids();
    ASSERT_EQ(first.size(), 2);
    for (int64_t id : first) std::cout << "job " << id << std::endl;
    weft::Client client = cluster.client();
    client.wait_for_workers(2, 60s);
    const std::string runs =
        absl::StrCat(std::getenv("WEFT_HOME"), "/retire-runs");
    constexpr int kN = 1 << 17;  // 1 MiB: kept by the worker that made it
    auto array = client.remote(deploy_tasks::MarkedArray)(runs, kN);
    ASSERT_EQ(client.wait(std::vector{array}, 1, 60s).ready.size(), 1);
    // Which worker (and job) holds it.
    const std::vector<std::string> ran = absl::StrSplit(
        ReadFile(runs), absl::ByAnyChar(" \n"), absl::SkipEmpty());
    ASSERT_EQ(ran.size(), 2) << ReadFile(runs);
    int64_t pid = 0;
    ASSERT_TRUE(absl::SimpleAtoi(ran[1], &pid));
    const int64_t job = JobOfProcess(pid);
    ASSERT_NE(job, 0) << "worker pid " << pid;
    absl::StatusOr<deploy::CommandResult> cancel =
        deploy::RunCommand({"scancel", absl::StrCat(job)});
    ASSERT_TRUE(cancel.ok() && cancel->exit_code == 0)
        << (cancel.ok() ? cancel->err : cancel.status().ToString());
    std::cout << "cancelled " << job << std::endl;
    // Its worker goes (SLURM's SIGTERM), its job ends.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    auto present = [&] {
      for (const auto& w : client.workers()) {
        if (w.pid == pid) return true;
      }
      return false;
    };
    while (present() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_FALSE(present());
    const std::vector<double> got = client.get(array, 60s);
    ASSERT_EQ(got.size(), static_cast<size_t>(kN));
    for (int i = 0; i < kN; ++i) {
      ASSERT_EQ(got[static_cast<size_t>(i)], i * 0.5) << i;
    }
    EXPECT_EQ(ReadFile(runs), absl::StrCat(ran[0], " ", ran[1], "\n"))
        << "computed again: the object was lost";
    // The pool keeps two jobs: a new one replaced the cancelled one.
    for (int64_t id : cluster.job_ids()) {
      if (std::find(first.begin(), first.end(), id) == first.end()) {
        std::cout << "job " << id << std::endl;
      }
    }
    return;
  }
  const std::string output = RunOnLoginNode("login");
  EXPECT_THAT(output, HasSubstr("retired (1 object handed off)"));
  EXPECT_THAT(output, Not(HasSubstr("lost")));
  const std::vector<std::string> cancelled = Lines(output, "cancelled ");
  ASSERT_EQ(cancelled.size(), 1) << output;
  // Every job, the scancelled one too, ended cancelled with nothing left.
  EXPECT_GE(ExpectJobsEnded(output, "CANCELLED"), 2) << output;
}

// `weft slurm`: the same from the shell, workers running `weft worker
// --load`, until the command is stopped.
TEST_F(SlurmTest, WeftSlurmKeepsWorkerJobsUntilStopped) {
  if (ThisTestRole() == "client") {
    weft::Client client = weft::Client::Connect("", "", 30s);
    client.wait_for_workers(2, 60s);
    for (const auto& w : client.workers()) EXPECT_EQ(w.nthreads, 2);
    std::vector<double> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(i);
    double sum = 0;
    for (double v : client.get(client.map(deploy_tasks::Square, xs))) sum += v;
    EXPECT_EQ(sum, 285);
    return;
  }
  absl::StatusOr<std::unique_ptr<HostProcess>> command =
      slurm_->controller()->Spawn(
          {Absolute(RunfilePath("tools/weft")), "slurm", "-n", "2", "--cores=2",
           "--walltime=00:10:00", "--poll=0.2",
           "--load=" + Absolute(RunfilePath("tests/libdeploy_tasks.so"))},
          slurm_->ClientEnv());
  ASSERT_TRUE(command.ok()) << command.status();
  ASSERT_TRUE((*command)->WaitForOutput("; jobs ", absl::Seconds(30)).ok())
      << (*command)->Output();
  EXPECT_EQ(RunOnLoginNode("client").find("FAILED"), std::string::npos);
  ASSERT_TRUE((*command)->Signal(SIGTERM).ok());
  EXPECT_EQ((*command)->Wait(absl::Seconds(60)).value_or(-1), 0)
      << (*command)->Output();
  const std::string output = (*command)->Output();
  EXPECT_THAT(output, HasSubstr("weft slurm: cancelling jobs"));
  std::string jobs;
  for (const std::string& line : Lines(output, "weft slurm: scheduler at ")) {
    const size_t at = line.find("; jobs ");
    for (absl::string_view id :
         absl::StrSplit(line.substr(at + 7), ' ', absl::SkipEmpty())) {
      absl::StrAppend(&jobs, "job ", id, "\n");
    }
  }
  EXPECT_EQ(ExpectJobsEnded(jobs, "CANCELLED"), 2) << output;
  // The scheduler took its address with it.
  EXPECT_FALSE(
      std::filesystem::exists(slurm_->jobs_dir() + "/weft-home/scheduler"));
}

}  // namespace
}  // namespace weft::testing
