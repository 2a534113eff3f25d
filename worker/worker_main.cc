// Copyright 2026 The weft Authors.

#include "worker/worker_main.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "deploy/slurm_env.h"
#include "rpc/cluster_files.h"
#include "rpc/report_limits.h"
#include "rpc/shared_region.h"
#include "rpc/token.h"
#include "worker/scheduler_connector.h"
#include "worker/worker.h"

namespace weft::worker {

namespace {

// SIGTERM and SIGINT make the running worker Leave(): a signal handler
// writes a byte to a pipe, and a thread that reads it calls Leave() (which
// is not async-signal-safe). With nullptr, stops watching.
void StopOnSignal(Worker* worker) {
  static int pipe_fds[2] = {-1, -1};
  static std::thread* watcher = nullptr;
  if (worker == nullptr) {
    if (watcher != nullptr) {
      const char stop = 0;
      [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], &stop, 1);
      watcher->join();
      delete watcher;
      watcher = nullptr;
    }
    return;
  }
  if (pipe_fds[0] < 0 && ::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  struct sigaction action = {};
  action.sa_handler = [](int) {
    const char leave = 1;
    [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], &leave, 1);
  };
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  // The first signal retires the worker (if it can), and the worker leaves
  // when the retirement runs past its timeout or a second signal comes. A
  // signal to a process group (Ctrl-C, scancel, `kill -- -PGID`) reaches
  // the worker twice when it runs supervised (directly, and passed on by
  // the supervisor): signals within kSameSignal of the first are one.
  watcher = new std::thread([worker] {
    constexpr absl::Duration kSameSignal = absl::Seconds(1);
    const auto timeout = worker->options().retire_timeout;
    bool retiring = false;
    absl::Time first_signal = absl::InfinitePast();
    absl::Time leave_at = absl::InfiniteFuture();
    while (true) {
      pollfd p{pipe_fds[0], POLLIN, 0};
      const int wait_ms =
          leave_at == absl::InfiniteFuture()
              ? -1
              : static_cast<int>(std::max<int64_t>(
                    0, absl::ToInt64Milliseconds(leave_at - absl::Now())));
      const int ready = ::poll(&p, 1, wait_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {  // the retirement took too long
        worker->Leave();
        leave_at = absl::InfiniteFuture();
        continue;
      }
      char byte = 0;
      const ssize_t n = ::read(pipe_fds[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      if (retiring && absl::Now() - first_signal < kSameSignal) continue;
      if (!retiring && timeout.count() > 0 && worker->Retire()) {
        retiring = true;
        first_signal = absl::Now();
        leave_at = first_signal + absl::FromChrono(timeout);
      } else {
        worker->Leave();
        leave_at = absl::InfiniteFuture();
      }
    }
  });
}

// Fills in options.host if empty, and checks that peers can reach it: a
// loopback address is refused when the scheduler is on another machine.
// False (after saying why on stderr) if it is refused.
bool ChooseHost(WorkerOptions& options) {
  // Where the scheduler is; if that cannot be told yet (a name that does
  // not resolve yet), joining will say what is wrong.
  absl::StatusOr<rpc::Whereabouts> where =
      rpc::LocateServer(options.scheduler_address);
  const bool remote = where.ok() && !where->here;
  if (options.host.empty()) {
    options.host = remote ? where->local_address : "127.0.0.1";
    return true;
  }
  if (remote && rpc::IsLoopbackHost(options.host)) {
    std::fprintf(
        stderr,
        "weft worker: would tell peers to reach it at %s, a loopback "
        "address, but the scheduler (%s) is on another machine and so are "
        "its peers; give the address they reach this machine at "
        "(--host=%s or --weft-host=%s: this machine's address toward the "
        "scheduler), or leave the flag out to have it chosen\n",
        options.host.c_str(), options.scheduler_address.c_str(),
        where->local_address.c_str(), where->local_address.c_str());
    return false;
  }
  return true;
}

}  // namespace

std::chrono::milliseconds ParseSeconds(std::string_view flag,
                                       const std::string& value,
                                       bool allow_zero) {
  double seconds = 0;
  if (!absl::SimpleAtod(value, &seconds) ||
      !(allow_zero ? seconds >= 0 : seconds > 0) || seconds > 1e7) {
    std::fprintf(stderr,
                 "weft: %.*s needs a %s number of seconds, got "
                 "'%s'\n",
                 static_cast<int>(flag.size()), flag.data(),
                 allow_zero ? "non-negative" : "positive", value.c_str());
    std::exit(2);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

namespace {

bool TakeFlag(std::string_view arg, std::string_view name, std::string* value) {
  if (arg.substr(0, name.size()) != name) return false;
  arg.remove_prefix(name.size());
  if (arg.empty()) {
    *value = "";
    return true;
  }
  if (arg[0] != '=') return false;
  *value = std::string(arg.substr(1));
  return true;
}

}  // namespace

int RunWorker(const WorkerOptions& options) {
  // A worker that crashes (a task's segfault or abort) prints its stack to
  // stderr before it dies, so the log says what happened.
  absl::InitializeSymbolizer("/proc/self/exe");
  absl::FailureSignalHandlerOptions handler;
  absl::InstallFailureSignalHandler(handler);
  ::setenv("OMP_NUM_THREADS", "1", /*overwrite=*/0);
  ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
  ::setenv("MKL_NUM_THREADS", "1", 0);
  // Each object in shared memory holds a descriptor.
  rpc::RaiseDescriptorLimit();
  WorkerOptions chosen = options;
  if (!ChooseHost(chosen)) return kExitCannotStart;
  Worker worker(chosen, GrpcSchedulerConnector(chosen.scheduler_address));
  StopOnSignal(&worker);
  const int code = worker.Run();
  StopOnSignal(nullptr);
  return code;
}

std::optional<WorkerOptions> WorkerOptionsFromFlags(int& argc, char** argv) {
  WorkerOptions options;
  bool worker = false;
  bool nthreads_given = false;
  bool host_given = false;
  std::string token_file;
  if (const char* env = std::getenv("WEFT_WORKER"); env && *env == '1') {
    worker = true;
  }
  if (const char* env = std::getenv("WEFT_SCHEDULER")) {
    options.scheduler_address = env;
  }
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    bool consumed = true;
    if (arg == "--weft-worker") {
      worker = true;
    } else if (TakeFlag(arg, "--weft-scheduler", &value)) {
      options.scheduler_address = value;
    } else if (TakeFlag(arg, "--weft-nthreads", &value)) {
      nthreads_given = true;
      if (!absl::SimpleAtoi(value, &options.nthreads) || options.nthreads < 1 ||
          options.nthreads > rpc::kMaxWorkerThreads) {
        std::fprintf(stderr,
                     "weft: --weft-nthreads needs a number from 1 to "
                     "%d, got '%s'\n",
                     rpc::kMaxWorkerThreads, value.c_str());
        std::exit(2);
      }
    } else if (TakeFlag(arg, "--weft-host", &value)) {
      host_given = true;
      options.host = value;
    } else if (TakeFlag(arg, "--weft-token-file", &value)) {
      token_file = value;
    } else if (TakeFlag(arg, "--weft-connect-timeout", &value)) {
      options.connect_timeout = ParseSeconds("--weft-connect-timeout", value);
    } else if (arg == "--weft-no-supervisor") {
      options.supervised = false;
    } else if (TakeFlag(arg, "--weft-max-restarts", &value)) {
      if (!absl::SimpleAtoi(value, &options.max_restarts)) {
        std::fprintf(stderr,
                     "weft: --weft-max-restarts needs a number, got "
                     "'%s'\n",
                     value.c_str());
        std::exit(2);
      }
    } else if (TakeFlag(arg, "--weft-retire-timeout", &value)) {
      options.retire_timeout =
          ParseSeconds("--weft-retire-timeout", value, /*allow_zero=*/true);
    } else if (TakeFlag(arg, "--weft-rejoin-timeout", &value)) {
      options.rejoin_timeout =
          ParseSeconds("--weft-rejoin-timeout", value, /*allow_zero=*/true);
    } else {
      consumed = false;
    }
    if (!consumed) argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
  if (!worker) return std::nullopt;
  // Inside a SLURM job its peers are on other nodes: the node's name.
  if (!host_given && deploy::CurrentSlurmJobId().has_value()) {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    options.host = host;
  }
  if (!nthreads_given) {  // the CPUs of its SLURM task, else 1
    absl::StatusOr<int> threads = deploy::DefaultWorkerThreads();
    if (!threads.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(threads.status().message()).c_str());
      std::exit(2);
    }
    options.nthreads = *threads;
  }
  if (options.scheduler_address.empty()) {
    std::fprintf(stderr, "weft: a worker needs --weft-scheduler=HOST:PORT\n");
    std::exit(2);
  }
  // Read when connecting (and again at each retry), not now: the scheduler
  // may not have written it yet.
  options.token = rpc::TokenSource::FromEnvironmentOr(token_file);
  return options;
}

std::vector<std::string> WorkerFlags(const std::string& scheduler_address,
                                     int nthreads, const std::string& host) {
  return {"--weft-worker", "--weft-scheduler=" + scheduler_address,
          absl::StrCat("--weft-nthreads=", nthreads), "--weft-host=" + host};
}

}  // namespace weft::worker
