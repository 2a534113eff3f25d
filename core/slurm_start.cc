// Copyright 2026 The weft Authors.

#include "core/slurm_start.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "deploy/slurm_env.h"
#include "rpc/cluster_files.h"
#include "rpc/token.h"
#include "weft/cluster.h"
#include "weft/errors.h"
#include "worker/supervisor.h"
#include "worker/worker_main.h"

extern char** environ;

namespace weft::internal {
namespace {

constexpr absl::string_view kFlag = "--weft-slurm";
constexpr absl::string_view kSchedulerFlag = "--weft-slurm-scheduler";
constexpr absl::string_view kTimeoutFlag = "--weft-slurm-timeout=";

[[noreturn]] void Fail(int code, const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(nullptr);
  std::_Exit(code);
}

// This task of the step, and the step's directory.
struct Step {
  deploy::SlurmTask task;
  std::string dir;
  std::string host;  // this node's host name
  std::string scheduler_file() const { return dir + "/scheduler"; }
  std::string token_file() const { return dir + "/token"; }
};

Step CurrentStep() {
  absl::StatusOr<std::optional<deploy::SlurmTask>> task =
      deploy::CurrentSlurmTask();
  if (!task.ok()) Fail(2, std::string(task.status().message()));
  if (!task->has_value() || !(*task)->step_id.has_value()) {
    Fail(2,
         "weft: --weft-slurm starts a cluster from the tasks of a SLURM "
         "step: run `srun ./my_program --weft-slurm` inside an allocation "
         "(sbatch or salloc); this process is not a task started by srun");
  }
  absl::StatusOr<std::string> state = rpc::DefaultStateDir();
  if (!state.ok()) Fail(2, std::string(state.status().message()));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return Step{**task, absl::StrCat(*state, "/step-", *(*task)->step_id),
              host};
}

volatile sig_atomic_t stop_requested = 0;
void OnStopSignal(int) { stop_requested = 1; }

// The scheduler process of task 0: a scheduler on this node's address with
// one worker for the task's CPUs, its address and token in the step's
// directory, until task 0 ends (SIGTERM, sent by task 0 on exit or by the
// kernel when it dies).
[[noreturn]] void RunScheduler(const Step& step,
                               std::chrono::milliseconds timeout) {
  ::signal(SIGTERM, OnStopSignal);
  ::signal(SIGINT, OnStopSignal);
  int code = 0;
  try {
    LocalCluster cluster(LocalCluster::Options{
        .workers = 1,
        .threads_per_worker = step.task.cpus,
        .host = step.host,
        .port = 0,
        .start_timeout = timeout,
    });
    absl::Status written =
        rpc::WriteTokenFile(step.token_file(), cluster.token());
    if (written.ok()) {
      written = rpc::WriteSchedulerFile(step.scheduler_file(),
                                        cluster.address());
    }
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", std::string(written.message()).c_str());
      code = 1;
    } else {
      while (!stop_requested) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    std::remove(step.scheduler_file().c_str());
    std::remove(step.token_file().c_str());
    ::rmdir(step.dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: the scheduler of SLURM step %s.%s: %s\n",
                 step.task.job_id.c_str(), step.task.step_id->c_str(),
                 e.what());
    code = 1;
  }
  std::fflush(nullptr);
  std::_Exit(code);
}

pid_t scheduler_pid = 0;

// At task 0's exit: the scheduler process stops the workers and goes.
void StopScheduler() {
  if (scheduler_pid <= 0) return;
  ::kill(scheduler_pid, SIGTERM);
  for (int i = 0; i < 300; ++i) {  // up to 15 s
    if (::waitpid(scheduler_pid, nullptr, WNOHANG) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(scheduler_pid, SIGKILL);
  ::waitpid(scheduler_pid, nullptr, 0);
}

// Task 0: starts the scheduler process, connects, waits for every task's
// worker.
void RunHead(const Step& step, std::chrono::milliseconds timeout) {
  // A file left by an earlier run of a requeued job names a dead scheduler.
  std::remove(step.scheduler_file().c_str());
  std::vector<std::string> args = {"/proc/self/exe",
                                   std::string(kSchedulerFlag),
                                   absl::StrCat(kTimeoutFlag, timeout.count() / 1000.0)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) Fail(1, "weft: cannot start the scheduler process: fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  scheduler_pid = pid;
  std::atexit(StopScheduler);
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  absl::StatusOr<std::string> address;
  for (;;) {
    address = rpc::ReadSchedulerFile(step.scheduler_file());
    if (!absl::IsNotFound(address.status())) break;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      scheduler_pid = 0;
      Fail(1, "weft: the scheduler process of task 0 exited; its message "
              "is above");
    }
    if (absl::Now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!address.ok()) Fail(1, std::string(address.status().message()));
  try {
    // Kept for the life of the process: freeing it at exit would race
    // with static destructors; the process's end closes its connection.
    Client* client = new Client(Client::Connect(
        *address, step.token_file(),
        std::max(std::chrono::milliseconds(1),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     absl::ToChronoTime(deadline) -
                     std::chrono::system_clock::now()))));
    client->wait_for_workers(
        step.task.ntasks,
        std::max(Duration(std::chrono::milliseconds(1)),
                 Duration(absl::ToChronoTime(deadline) -
                          std::chrono::system_clock::now())));
    client->make_default();
    // Client::Connect() with no address reaches this cluster too.
    absl::StatusOr<std::string> token = rpc::ReadTokenFile(step.token_file());
    ::setenv("WEFT_SCHEDULER", address->c_str(), 1);
    if (token.ok()) ::setenv("WEFT_TOKEN", token->c_str(), 1);
  } catch (const std::exception& e) {
    Fail(1, absl::StrCat("weft: SLURM step ", step.task.job_id, ".",
                         *step.task.step_id, ": ", e.what(),
                         " (a worker for each of the step's ",
                         step.task.ntasks,
                         " tasks; the other tasks' messages say why)"));
  }
}

// Task K > 0: a worker for the task's CPUs, under a supervisor
// (worker/supervisor.h) that runs this program again as the worker and
// restarts it when a task crashes it; `original` is the task's command line.
[[noreturn]] void RunWorkerTask(const Step& step,
                                std::chrono::milliseconds timeout,
                                const std::vector<std::string>& original) {
  if (!worker::IsSupervisedChild()) {
    worker::SupervisorOptions supervision;
    supervision.name = absl::StrCat("weft worker of SLURM task ",
                                    step.task.procid);
    const int code = worker::Supervise(original, supervision);
    std::fflush(nullptr);
    std::_Exit(code);
  }
  absl::StatusOr<std::string> address = rpc::WaitForSchedulerFile(
      step.scheduler_file(), absl::Now() + absl::FromChrono(timeout));
  if (!address.ok()) {
    Fail(1, absl::StrCat("weft: task ", step.task.procid, " of SLURM step ",
                         step.task.job_id, ".", *step.task.step_id, ": ",
                         address.status().message(),
                         " (task 0 says why on its standard error)"));
  }
  worker::WorkerOptions options;
  options.scheduler_address = *address;
  options.token = rpc::TokenSource::FromEnvironmentOr(step.token_file());
  options.nthreads = step.task.cpus;
  options.host = step.host;
  options.connect_timeout = timeout;
  const int code = worker::RunWorker(options);
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace

void StartSlurmStepIfAsked(int& argc, char** argv) {
  const std::vector<std::string> original(argv, argv + argc);
  bool asked = false;
  bool scheduler = false;
  std::chrono::milliseconds timeout(60000);
  if (const char* env = std::getenv("WEFT_SLURM"); env && *env == '1') {
    asked = true;
  }
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == kFlag) {
      asked = true;
    } else if (arg == kSchedulerFlag) {
      scheduler = true;
    } else if (absl::ConsumePrefix(&arg, kTimeoutFlag)) {
      timeout = worker::ParseSeconds("--weft-slurm-timeout", std::string(arg));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  if (!asked && !scheduler) return;
  // The tasks of a step share one token, which comes from the step's
  // directory, never from a WEFT_TOKEN meant for another cluster.
  ::unsetenv("WEFT_TOKEN");
  const Step step = CurrentStep();
  if (scheduler) RunScheduler(step, timeout);
  if (step.task.procid != 0) RunWorkerTask(step, timeout, original);
  RunHead(step, timeout);
}

}  // namespace weft::internal
