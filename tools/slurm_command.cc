// Copyright 2026 The weft Authors.

#include "tools/slurm_command.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "deploy/slurm_jobs.h"

namespace weft::cli {

const Verb kSlurmVerb = {
    "weft slurm",
    "usage: weft slurm [flags]\n"
    "Runs a scheduler here and its workers as SLURM jobs (sbatch), until\n"
    "SIGTERM or SIGINT; then cancels the jobs.\n"
    "  -n N                   keep N worker jobs\n"
    "  --adapt=MIN:MAX        keep between MIN and MAX, as the queue calls\n"
    "                         for\n"
    "  --cores=C              CPUs per job: the worker's threads (default 1)\n"
    "  --memory=M             --mem of each job (e.g. 4G)\n"
    "  --walltime=T           --time of each job (e.g. 01:00:00)\n"
    "  --partition=P          --partition of each job\n"
    "  --account=A            --account of each job\n"
    "  --job-name=J           --job-name of each job (default weft-worker)\n"
    "  --directive=OPTION     another #SBATCH line (repeatable)\n"
    "  --prologue=LINE        a shell line before the worker (repeatable)\n"
    "  --load=LIB.so          a library of tasks (repeatable)\n"
    "  --directory=D          the jobs' output and notes (default: a\n"
    "                         directory in the state directory, removed at\n"
    "                         the end)\n"
    "  --poll=S               how often to look at the queue (default 2)\n"
    "The scheduler (default --host=0.0.0.0):\n" +
        std::string(kSchedulerUsage) + kTlsUsage,
    [] {
      std::vector<std::string> flags = {
          "n=",         "adapt=",     "cores=",    "memory=",    "walltime=",
          "partition=", "account=",   "job-name=", "directive=", "prologue=",
          "load=",      "directory=", "poll="};
      for (std::string& flag : SchedulerFlags()) flags.push_back(flag);
      return flags;
    }()};

int SlurmCommand(const Args& args) {
  ::signal(SIGINT, OnStopSignal);
  ::signal(SIGTERM, OnStopSignal);
  deploy::WorkerJobPool::Options pool;
  pool.spec.cores = args.Int("cores", 1);
  if (pool.spec.cores < 1) Die("--cores wants a positive number");
  pool.spec.memory = args.Get("memory", "");
  pool.spec.walltime = args.Get("walltime", "");
  pool.spec.partition = args.Get("partition", "");
  pool.spec.account = args.Get("account", "");
  pool.spec.job_name = args.Get("job-name", "weft-worker");
  pool.spec.directives = args.All("directive");
  pool.spec.prologue = args.All("prologue");
  pool.spec.prologue.push_back("unset WEFT_TOKEN WEFT_SCHEDULER WEFT_WORKER");
  double poll = 2;
  if (!absl::SimpleAtod(args.Get("poll", "2"), &poll) || !(poll > 0)) {
    Die("--poll wants a positive number of seconds");
  }
  pool.poll_interval = absl::Seconds(poll);
  int n = args.Int("n", 0);
  int minimum = 0;
  int maximum = 0;
  const bool adapt = args.flags.contains("adapt");
  if (adapt) {
    const std::string range = args.Get("adapt", "");
    const size_t colon = range.find(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(range.substr(0, colon), &minimum) ||
        !absl::SimpleAtoi(range.substr(colon + 1), &maximum) || minimum < 0 ||
        maximum < minimum) {
      Die("--adapt wants MIN:MAX with 0 <= MIN <= MAX, got '" + range + "'");
    }
    if (args.flags.contains("n")) Die("give -n or --adapt, not both");
  } else if (n < 0) {
    Die("-n wants a number of worker jobs");
  }

  // Job output and the jobs' notes: a directory the nodes see.
  const bool keep = args.flags.contains("directory");
  std::string directory = args.Get("directory", "");
  std::error_code error;
  if (keep) {
    std::filesystem::create_directories(directory, error);
    directory = std::filesystem::absolute(directory).string();
  } else {
    std::filesystem::create_directories(StateDir(), error);
    directory = StateDir() + "/slurm-jobs-XXXXXX";
    if (::mkdtemp(directory.data()) == nullptr) {
      Die("cannot make a directory in " + StateDir());
    }
  }
  pool.spec.directory = directory;

  RunningScheduler scheduler = StartScheduler(args, "0.0.0.0");
  pool.spec.worker_command = {SelfPath(), "worker",
                              "--scheduler=" + scheduler.address,
                              "--token-file=" + scheduler.token_file};
  for (const std::string& lib : args.loads) {
    pool.spec.worker_command.push_back("--load=" +
                                       std::filesystem::absolute(lib).string());
  }
  // The scheduler's TLS files (the same paths on the nodes).
  for (std::string& flag : TlsArgsForChildren()) {
    pool.spec.worker_command.push_back(std::move(flag));
  }
  std::ofstream(directory + "/worker-job.sh")
      << deploy::WorkerJobScript(pool.spec);
  scheduler::SchedulerServer* server = scheduler.server.get();
  deploy::WorkerJobPool jobs(std::move(pool), [server] {
    const scheduler::SchedulerService::Load load =
        server->service().CurrentLoad();
    deploy::ClusterLoad out;
    out.ready_tasks = load.ready_tasks;
    for (const auto& w : load.workers) {
      out.workers.push_back(
          {w.host, w.pid, w.nthreads, static_cast<int>(w.processing)});
    }
    return out;
  });
  absl::Status started = adapt ? jobs.Adapt(minimum, maximum) : jobs.Scale(n);
  std::cout << "weft slurm: scheduler at " << scheduler.address << " (token in "
            << scheduler.token_file << ", address in "
            << scheduler.scheduler_file << "); "
            << (adapt ? absl::StrCat("between ", minimum, " and ", maximum)
                      : absl::StrCat(n))
            << " worker jobs (" << directory << "/worker-job.sh); jobs "
            << absl::StrJoin(jobs.jobs(), " ") << std::endl;
  if (!started.ok()) std::cerr << started.message() << std::endl;
  std::string said = jobs.last_error();
  while (!stop_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::string error = jobs.last_error(); error != said) {
      said = error;
      std::cerr << error << std::endl;
    }
  }
  std::cout << "weft slurm: cancelling jobs " << absl::StrJoin(jobs.jobs(), " ")
            << std::endl;
  const absl::Status closed = jobs.Close();
  if (!closed.ok()) std::cerr << closed.message() << std::endl;
  StopScheduler(scheduler);
  if (!keep) std::filesystem::remove_all(directory, error);
  return closed.ok() ? 0 : 1;
}

}  // namespace weft::cli
