// Copyright 2026 The weft Authors.
//
// WorkerJobPool's decisions with stand-in sbatch, squeue and scancel: shell
// scripts over a queue file the test edits (a job's line says its state; a
// job without a line has ended). tests/slurm_test.cc runs the pool against
// a real SLURM.

#include "deploy/slurm_jobs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::deploy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

class WorkerJobPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/pool-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
    queue_ = dir_ + "/queue";
    WriteFile(queue_, "");
    WriteFile(dir_ + "/next", "100\n");
    // sbatch: keeps the script, queues the job as PENDING, prints its id.
    Script("sbatch",
           "id=$(cat " + dir_ + "/next); echo $((id + 1)) > " + dir_ +
               "/next\n"
               "cat > " + dir_ + "/script-$id\n"
               "echo \"$id PENDING\" >> " + queue_ + "\n"
               "echo $id\n");
    Script("squeue", "cat " + queue_ + "\n");
    // scancel: notes the ids; the jobs stay listed until the test ends them
    // (a cancelled worker retires first).
    Script("scancel", "echo \"$@\" >> " + dir_ + "/cancelled\n");
  }

  // A stand-in command; it holds the queue's lock while it runs.
  void Script(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    WriteFile(path, "#!/bin/sh\nexec 9>>" + dir_ + "/lock\nflock 9\n" + body);
    ::chmod(path.c_str(), 0755);
  }

  WorkerJobPool::Options PoolOptions() {
    WorkerJobPool::Options options;
    options.spec.cores = 2;
    options.spec.directory = dir_;
    options.spec.worker_command = {"/bin/worker", "--flag"};
    options.commands = {.sbatch = dir_ + "/sbatch",
                        .squeue = dir_ + "/squeue",
                        .scancel = dir_ + "/scancel"};
    options.poll_interval = absl::Milliseconds(20);
    options.scale_down_after = 2;
    return options;
  }

  // Sets a job's state in the queue ("" removes it: the job ended).
  void SetState(int64_t id, const std::string& state) {
    const int lock = ::open((dir_ + "/lock").c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(lock, 0);
    ASSERT_EQ(::flock(lock, LOCK_EX), 0);
    std::string out;
    for (absl::string_view line :
         absl::StrSplit(ReadFile(queue_), '\n', absl::SkipEmpty())) {
      if (!absl::StartsWith(line, absl::StrCat(id, " "))) {
        absl::StrAppend(&out, line, "\n");
      }
    }
    if (!state.empty()) absl::StrAppend(&out, id, " ", state, "\n");
    WriteFile(queue_, out);
    ::close(lock);  // unlocks
  }

  // The job's worker runs on `host` with `pid` (the note its script
  // writes) and has `processing` tasks.
  void StartWorker(int64_t id, const std::string& host, int64_t pid,
                   int processing) {
    const std::string note = absl::StrCat(dir_, "/job-", id);
    WriteFile(note + ".tmp", absl::StrCat(host, " ", pid, "\n"));
    std::rename((note + ".tmp").c_str(), note.c_str());
    SetState(id, "RUNNING");
    std::lock_guard<std::mutex> lock(mu_);
    load_.workers.push_back({host, pid, 2, processing});
  }

  std::vector<std::string> Cancelled() {
    return absl::StrSplit(ReadFile(dir_ + "/cancelled"),
                          absl::ByAnyChar(" \n"), absl::SkipEmpty());
  }

  // Waits until `done()` holds; false if it does not within 30 s.
  template <class F>
  bool Eventually(F done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  // Waits until the pool has looked `n` more times.
  bool Looks(int n) {
    const int target = looks_.load() + n;
    return Eventually([&] { return looks_.load() >= target; });
  }

  std::function<ClusterLoad()> Load() {
    return [this] {
      ++looks_;
      std::lock_guard<std::mutex> lock(mu_);
      return load_;
    };
  }

  std::string dir_;
  std::string queue_;
  std::mutex mu_;
  ClusterLoad load_;  // guarded by mu_
  std::atomic<int> looks_{0};
};

TEST(WorkerJobScript, AsksForWhatTheSpecSaysThenExecsTheWorker) {
  WorkerJobSpec spec;
  spec.cores = 4;
  spec.memory = "8G";
  spec.walltime = "01:30:00";
  spec.partition = "batch";
  spec.account = "proj";
  spec.job_name = "w";
  spec.directives = {"--qos=debug", "--constraint=\"a b\""};
  spec.prologue = {"module load gcc"};
  spec.directory = "/shared/dir";
  spec.worker_command = {"/bin/prog", "--weft-worker", "--x=a b"};
  EXPECT_EQ(WorkerJobScript(spec),
            "#!/bin/sh\n"
            "#SBATCH --job-name=w\n"
            "#SBATCH --ntasks=1\n"
            "#SBATCH --cpus-per-task=4\n"
            "#SBATCH --mem=8G\n"
            "#SBATCH --time=01:30:00\n"
            "#SBATCH --partition=batch\n"
            "#SBATCH --account=proj\n"
            "#SBATCH --output=/shared/dir/slurm-%j.out\n"
            "#SBATCH --qos=debug\n"
            "#SBATCH --constraint=\"a b\"\n"
            "module load gcc\n"
            "echo \"$(hostname) $$\" > /shared/dir/job-$SLURM_JOB_ID.tmp && "
            "mv /shared/dir/job-$SLURM_JOB_ID.tmp /shared/dir/job-$SLURM_JOB_ID\n"
            "exec /bin/prog --weft-worker '--x=a b'\n");
}

TEST_F(WorkerJobPoolTest, ScaleSubmitsThenCancelsPendingAndIdleFirst) {
  WorkerJobPool pool(PoolOptions(), Load());
  ASSERT_TRUE(pool.Scale(3).ok()) << pool.last_error();
  EXPECT_THAT(pool.jobs(), ElementsAre(100, 101, 102));
  EXPECT_THAT(ReadFile(dir_ + "/script-100"), HasSubstr("exec /bin/worker --flag\n"));
  StartWorker(100, "n1", 11, /*processing=*/1);
  StartWorker(101, "n2", 22, /*processing=*/0);
  ASSERT_TRUE(pool.Scale(1).ok()) << pool.last_error();
  // 102 was pending, 101's worker idle; 100 is busy and stays.
  EXPECT_THAT(Cancelled(), UnorderedElementsAre("102", "101"));
  // Cancelled jobs stay listed until they end.
  EXPECT_THAT(pool.jobs(), ElementsAre(100, 101, 102));
  SetState(101, "");
  SetState(102, "");
  ASSERT_TRUE(Eventually([&] { return pool.jobs().size() == 1; }));
  EXPECT_THAT(pool.jobs(), ElementsAre(100));
  EXPECT_EQ(pool.last_error(), "");  // cancelled jobs are no failures
  ASSERT_TRUE(pool.Scale(0).ok());   // busy too when told a number
  EXPECT_THAT(Cancelled(), UnorderedElementsAre("102", "101", "100"));
}

TEST_F(WorkerJobPoolTest, AdaptFollowsTheQueue) {
  WorkerJobPool pool(PoolOptions(), Load());
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_.ready_tasks = 5;  // 2 cores a job: 3 jobs
  }
  ASSERT_TRUE(pool.Adapt(1, 10).ok());
  ASSERT_TRUE(Eventually([&] { return pool.jobs().size() == 3; }));
  StartWorker(100, "n1", 1, 2);
  StartWorker(101, "n1", 2, 2);
  StartWorker(102, "n2", 3, 1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_.ready_tasks = 0;  // 5 busy threads: still 3 jobs
  }
  ASSERT_TRUE(Looks(5));
  EXPECT_THAT(Cancelled(), IsEmpty());
  EXPECT_EQ(pool.jobs().size(), 3);
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_.ready_tasks = 8;  // 13 CPUs wanted: 7 jobs
  }
  ASSERT_TRUE(Eventually([&] { return pool.jobs().size() == 7; }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    load_.ready_tasks = 0;
    for (WorkerLoad& w : load_.workers) w.processing = 0;
  }
  // Down to the minimum: the four pending jobs, then two idle workers.
  ASSERT_TRUE(Eventually([&] { return Cancelled().size() == 6; }))
      << pool.last_error();
  EXPECT_THAT(Cancelled(), UnorderedElementsAre("103", "104", "105", "106",
                                                "101", "102"));
  ASSERT_TRUE(pool.Adapt(2, 1).code() == absl::StatusCode::kInvalidArgument);
}

TEST_F(WorkerJobPoolTest, JobsThatEndWithoutTheirWorkerStopSubmissions) {
  WorkerJobPool::Options options = PoolOptions();
  options.max_failed_starts = 2;
  WorkerJobPool pool(options, Load());
  ASSERT_TRUE(pool.Scale(1).ok());
  for (int64_t id : {100, 101}) {
    ASSERT_TRUE(Eventually([&] { return !pool.jobs().empty(); }));
    ASSERT_EQ(pool.jobs().back(), id);
    WriteFile(absl::StrCat(dir_, "/slurm-", id, ".out"),
              "line 1\nprog: error while loading shared libraries\n");
    SetState(id, "");  // ended at once
    ASSERT_TRUE(Eventually([&] {
      return pool.jobs().empty() || pool.jobs().back() != id;
    }));
  }
  ASSERT_TRUE(Looks(5));
  EXPECT_THAT(pool.jobs(), IsEmpty()) << "no third job";
  EXPECT_THAT(pool.last_error(),
              HasSubstr("worker job 101 ended before its worker joined"));
  EXPECT_THAT(pool.last_error(), HasSubstr("error while loading shared"));
}

TEST_F(WorkerJobPoolTest, CloseCancelsEveryJob) {
  {
    WorkerJobPool pool(PoolOptions(), Load());
    ASSERT_TRUE(pool.Scale(2).ok());
    StartWorker(100, "n1", 1, 1);
  }  // closed
  EXPECT_THAT(Cancelled(), UnorderedElementsAre("100", "101"));
}

TEST_F(WorkerJobPoolTest, SlurmErrorsAreSaid) {
  Script("sbatch",
         "echo 'sbatch: error: invalid partition specified: nope' >&2; exit 1\n");
  WorkerJobPool pool(PoolOptions(), Load());
  const absl::Status s = pool.Scale(1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("invalid partition specified: nope"));
  EXPECT_THAT(pool.last_error(), HasSubstr("invalid partition"));
}

}  // namespace
}  // namespace weft::deploy
