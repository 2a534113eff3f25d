// Copyright 2026 The weft Authors.
//
// Clusters: Client::Connect and LocalCluster.

#include "weft/cluster.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/cluster_internal.h"
#include "rpc/cluster_files.h"
#include "rpc/cluster_runtime.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/scheduler_service.h"
#include "weft/errors.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/mutex.h"
#include "worker/supervisor.h"
#include "worker/worker_main.h"

extern char** environ;

namespace weft {
namespace {

Client MakeDefault(
    absl::StatusOr<std::unique_ptr<rpc::ClusterRuntime>> runtime) {
  if (!runtime.ok()) throw UsageError(std::string(runtime.status().message()));
  Client client = internal::ClientImpl::Handle(
      std::make_shared<internal::ClientImpl>(*std::move(runtime)));
  client.make_default();
  return client;
}

Client ConnectTo(const std::string& address, const rpc::TokenSource& token,
                 std::chrono::milliseconds timeout, const std::string& name) {
  return MakeDefault(
      rpc::ClusterRuntime::Connect(address, token, timeout, name));
}

std::string ProgramName() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "client";
  path[n] = '\0';
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace

namespace internal {

Client ConnectInProcess(scheduler::SchedulerServer& server,
                        const std::string& token) {
  return MakeDefault(rpc::ClusterRuntime::ConnectLocal(
      server.service().local_link(), server.address(), token, ProgramName()));
}

}  // namespace internal

Client Client::Connect(const std::string& address,
                       const std::string& token_file,
                       std::chrono::milliseconds timeout) {
  std::string target = address;
  const auto started = std::chrono::steady_clock::now();
  if (const char* env = std::getenv("WEFT_SCHEDULER");
      target.empty() && env != nullptr && *env != '\0') {
    target = env;
  }
  if (target.empty()) {
    // The scheduler file beside the token file, which a scheduler that is
    // still starting may not have written yet.
    absl::StatusOr<std::string> file = rpc::SchedulerFileBeside(token_file);
    absl::StatusOr<std::string> found =
        file.ok() ? rpc::WaitForSchedulerFile(
                        *file, absl::Now() + absl::FromChrono(timeout))
                  : file.status();
    if (!found.ok()) {
      throw UsageError(absl::StrCat(
          "weft: Client::Connect was given no scheduler address and "
          "$WEFT_SCHEDULER is not set, and ",
          found.status().message()));
    }
    target = *std::move(found);
  }
  const auto left = std::max(
      std::chrono::milliseconds(1),
      timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started));
  return ConnectTo(target, rpc::TokenSource::FromEnvironmentOr(token_file),
                   left, ProgramName());
}

class LocalCluster::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    if (options_.workers <= 0) {
      options_.workers = static_cast<int>(std::thread::hardware_concurrency());
    }
    if (options_.worker_binary.empty()) options_.worker_binary = "/proc/self/exe";
    // Before the environment is taken for the workers: they inherit it.
    if (!options_.tls_directory.empty()) {
      if (absl::Status s = rpc::ConfigureProcessTls(
              rpc::TlsFilesInDirectory(options_.tls_directory));
          !s.ok()) {
        throw UsageError(std::string(s.message()));
      }
    }
    token_ = rpc::NewToken();
    SnapshotEnvironment();
    scheduler::SchedulerService::Options service;
    service.token = token_;
    service.state.heartbeat_timeout =
        absl::FromChrono(options_.heartbeat_timeout);
    service.state.saturation = std::max(1, options_.saturation);
    service.state.adaptive_saturation = options_.adaptive_saturation;
    service.dashboard_port = options_.dashboard_port;
    service.dashboard_port_fallback = true;
    absl::StatusOr<std::unique_ptr<scheduler::SchedulerServer>> server =
        scheduler::SchedulerServer::Start(options_.host, options_.port,
                                          std::move(service));
    if (!server.ok()) throw UsageError(std::string(server.status().message()));
    scheduler_ = *std::move(server);
    dashboard_link_ = scheduler_->dashboard_url();
    if (!dashboard_link_.empty()) {
      std::fprintf(stderr, "weft: LocalCluster dashboard at %s\n",
                   dashboard_link_.c_str());
    }
    try {
      client_ = std::make_unique<Client>(
          options_.in_process_client
              ? internal::ConnectInProcess(*scheduler_, token_)
              : ConnectTo(scheduler_->address(),
                          rpc::TokenSource::Literal(token_),
                          options_.start_timeout, ProgramName()));
      AddWorkers(options_.workers);
    } catch (...) {
      Stop();
      throw;
    }
    nanny_ = std::thread([this] { NannyLoop(); });
  }

  ~Impl() { Stop(); }

  void AddWorkers(int n) {
    size_t target;
    {
      internal::MutexLock lock(&mu_);
      target = pids_.size() + n;
      for (int i = 0; i < n; ++i) Spawn();
    }
    try {
      client_->wait_for_workers(static_cast<int>(target),
                                options_.start_timeout);
    } catch (const TimeoutError& e) {
      throw UsageError(absl::StrCat(e.what(), ". ", DeadWorkers()));
    }
  }

  Client client() const { return *client_; }
  const std::string& address() const { return scheduler_->address(); }
  const std::string& token() const { return token_; }
  const std::string& dashboard_link() const { return dashboard_link_; }
  std::vector<pid_t> pids() const {
    internal::MutexLock lock(&mu_);
    return pids_;
  }
  int restarts() const {
    internal::MutexLock lock(&mu_);
    return restarts_;
  }

 private:
  // Restarts worker processes that die (the scheduler has already moved
  // their tasks elsewhere when their connection broke).
  void NannyLoop() {
    internal::UniqueLock lock(mu_);
    while (!stopping_) {
      nanny_cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (stopping_) break;
      for (size_t i = 0; i < pids_.size(); ++i) {
        int status = 0;
        if (::waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        std::fprintf(stderr, "weft: worker process %d %s; %s\n", pids_[i],
                     worker::DescribeExit(status).c_str(),
                     restarts_ < options_.max_restarts ? "restarting it"
                                                       : "not restarting it");
        pids_.erase(pids_.begin() + i);
        --i;
        if (restarts_ < options_.max_restarts) {
          ++restarts_;
          Spawn();
        }
      }
    }
  }

  // The workers' environment, taken once: the program may change its own
  // environment later while the nanny restarts workers from another thread.
  // Each task slot gets one BLAS/OpenMP thread unless the user chose.
  void SnapshotEnvironment() {
    // This cluster restarts its workers itself (NannyLoop): they run
    // unsupervised.
    worker_env_ = {"WEFT_TOKEN=" + token_,
                   std::string(worker::kSupervisedVariable) + "=1"};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "WEFT_TOKEN=", 11) != 0 &&
          std::strncmp(*e, "WEFT_WORKER=", 12) != 0 &&
          std::strncmp(*e, "WEFT_SUPERVISED=", 16) != 0) {
        worker_env_.emplace_back(*e);
      }
    }
    for (const char* blas : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                             "MKL_NUM_THREADS"}) {
      if (std::getenv(blas) == nullptr) {
        worker_env_.push_back(std::string(blas) + "=1");
      }
    }
  }

  void Spawn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Everything the child needs is prepared before fork(): after it, only
    // async-signal-safe calls are allowed in a multithreaded process.
    std::vector<std::string> args = {options_.worker_binary};
    for (auto& flag : worker::WorkerFlags(scheduler_->address(),
                                          options_.threads_per_worker,
                                          options_.host)) {
      args.push_back(std::move(flag));
    }
    std::vector<std::string> env = worker_env_;
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      throw UsageError(absl::StrCat("weft: cannot start a worker: fork: ",
                                    std::strerror(errno)));
    }
    if (pid == 0) {
      // The worker dies with this process: no orphans.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    pids_.push_back(pid);
  }

  std::string DeadWorkers() {
    internal::MutexLock lock(&mu_);
    std::string out;
    for (pid_t pid : pids_) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        reaped_.push_back(pid);
        absl::StrAppend(&out, "worker process ", pid, " ",
                        worker::DescribeExit(status), "; ");
      }
    }
    if (out.empty()) out = "no worker process exited; ";
    return out + "did the program call weft::Init(argc, argv) first in main()?";
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    {
      internal::MutexLock lock(&mu_);
      stopping_ = true;
    }
    nanny_cv_.notify_all();
    if (nanny_.joinable()) nanny_.join();
    client_.reset();
    if (scheduler_ != nullptr) scheduler_->Shutdown();
    // Nothing spawns or reaps any more (the nanny is gone).
    std::vector<pid_t> pids;
    std::vector<pid_t> reaped;
    {
      internal::MutexLock lock(&mu_);
      pids = pids_;
      reaped = reaped_;
    }
    // Workers stop when told; give them a moment, then kill the rest.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (pid_t pid : pids) {
      if (std::find(reaped.begin(), reaped.end(), pid) != reaped.end()) {
        continue;
      }
      while (true) {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) break;
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid, SIGKILL);
          ::waitpid(pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    scheduler_.reset();
  }

  Options options_;
  std::string token_;
  std::string dashboard_link_;
  std::vector<std::string> worker_env_;  // constant after construction
  std::unique_ptr<scheduler::SchedulerServer> scheduler_;
  std::unique_ptr<Client> client_;
  mutable internal::Mutex mu_;
  std::condition_variable_any nanny_cv_;
  std::vector<pid_t> pids_ ABSL_GUARDED_BY(mu_);
  std::vector<pid_t> reaped_ ABSL_GUARDED_BY(mu_);
  int restarts_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ = false;
  std::thread nanny_;
};

LocalCluster::LocalCluster(int workers)
    : LocalCluster(Options{.workers = workers}) {}

LocalCluster::LocalCluster(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LocalCluster::~LocalCluster() = default;

Client LocalCluster::client() const { return impl_->client(); }
const std::string& LocalCluster::address() const { return impl_->address(); }
const std::string& LocalCluster::token() const { return impl_->token(); }
const std::string& LocalCluster::dashboard_link() const {
  return impl_->dashboard_link();
}
std::vector<pid_t> LocalCluster::worker_pids() const { return impl_->pids(); }
void LocalCluster::add_workers(int n) { impl_->AddWorkers(n); }
int LocalCluster::restarts() const { return impl_->restarts(); }

}  // namespace weft
