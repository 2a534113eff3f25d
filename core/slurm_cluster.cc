// Copyright 2026 The weft Authors.
//
// SlurmCluster: an in-process scheduler and a WorkerJobPool of worker jobs
// running this program with --weft-worker.

#include "weft/slurm_cluster.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/cluster_internal.h"
#include "deploy/run_command.h"
#include "deploy/slurm_jobs.h"
#include "rpc/cluster_files.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/scheduler_service.h"
#include "weft/errors.h"

namespace weft {
namespace {

std::string ThisProgram() {
  std::error_code error;
  const std::filesystem::path path =
      std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw UsageError("weft: cannot find this program's path");
  return path.string();
}

// A new directory in the state directory, or `given` (created if missing).
std::string MakeDirectory(const std::string& given) {
  std::error_code error;
  if (!given.empty()) {
    std::filesystem::create_directories(given, error);
    if (error) {
      throw UsageError(absl::StrCat("weft: cannot make directory ", given,
                                    ": ", error.message()));
    }
    return std::filesystem::absolute(given).string();
  }
  absl::StatusOr<std::string> state = rpc::DefaultStateDir();
  if (!state.ok()) throw UsageError(std::string(state.status().message()));
  std::filesystem::create_directories(*state, error);
  std::string dir = *state + "/slurm-cluster-XXXXXX";
  if (error || ::mkdtemp(dir.data()) == nullptr) {
    throw UsageError(absl::StrCat("weft: cannot make a directory in ", *state,
                                  " for the worker jobs"));
  }
  return dir;
}

}  // namespace

class SlurmCluster::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)),
        keep_directory_(!options_.directory.empty()),
        directory_(MakeDirectory(options_.directory)) {
    if (options_.cores < 1) {
      throw UsageError("weft: SlurmCluster needs cores >= 1");
    }
    const std::string token = rpc::NewToken();
    const std::string token_file = directory_ + "/token";
    if (absl::Status s = rpc::WriteTokenFile(token_file, token); !s.ok()) {
      throw UsageError(std::string(s.message()));
    }
    scheduler::SchedulerService::Options service;
    service.token = token;
    const std::string listen = options_.host.empty() ? "0.0.0.0" : options_.host;
    absl::StatusOr<std::unique_ptr<scheduler::SchedulerServer>> server =
        scheduler::SchedulerServer::Start(listen, options_.port,
                                          std::move(service));
    if (!server.ok()) throw UsageError(std::string(server.status().message()));
    scheduler_ = *std::move(server);
    const std::string& bound = scheduler_->address();
    address_ = rpc::ReachableAddress(
        listen, std::stoi(bound.substr(bound.rfind(':') + 1)));
    client_ = std::make_unique<Client>(
        internal::ConnectInProcess(*scheduler_, token));

    deploy::WorkerJobPool::Options pool;
    pool.spec.cores = options_.cores;
    pool.spec.memory = options_.memory;
    pool.spec.walltime = options_.walltime;
    pool.spec.partition = options_.partition;
    pool.spec.account = options_.account;
    pool.spec.job_name = options_.job_name;
    pool.spec.directives = options_.job_directives;
    pool.spec.prologue = options_.prologue;
    // The token comes from the file, never from a WEFT_TOKEN that sbatch
    // passed on from this process's environment.
    pool.spec.prologue.push_back("unset WEFT_TOKEN WEFT_SCHEDULER WEFT_WORKER");
    // This process's TLS files (the same paths on the nodes), whatever
    // sbatch passes on of the environment.
    if (absl::StatusOr<std::shared_ptr<const rpc::TlsContext>> tls =
            rpc::ProcessTls();
        tls.ok() && *tls != nullptr) {
      const rpc::TlsFiles& files = (*tls)->files();
      pool.spec.prologue.push_back(absl::StrCat(
          "export ", rpc::kTlsCertEnv, "=", deploy::ShellQuote(files.cert),
          " ", rpc::kTlsKeyEnv, "=", deploy::ShellQuote(files.key), " ",
          rpc::kTlsCaEnv, "=", deploy::ShellQuote(files.ca)));
    }
    pool.spec.directory = directory_;
    pool.spec.worker_command = {
        options_.worker_binary.empty() ? ThisProgram() : options_.worker_binary,
        "--weft-worker", "--weft-scheduler=" + address_,
        "--weft-token-file=" + token_file};
    pool.commands = {.sbatch = options_.sbatch,
                     .squeue = options_.squeue,
                     .scancel = options_.scancel};
    pool.poll_interval = absl::FromChrono(options_.poll_interval);
    script_ = deploy::WorkerJobScript(pool.spec);
    pool_ = std::make_unique<deploy::WorkerJobPool>(
        std::move(pool), [this] { return Load(); });
  }

  ~Impl() {
    // Jobs first: their workers leave while the scheduler still listens.
    pool_.reset();
    client_.reset();
    scheduler_->Shutdown();
    scheduler_.reset();
    if (!keep_directory_) {
      std::error_code error;
      std::filesystem::remove_all(directory_, error);
    }
  }

  Client client() const { return *client_; }
  const std::string& address() const { return address_; }
  const std::string& job_script() const { return script_; }
  deploy::WorkerJobPool& pool() { return *pool_; }

 private:
  deploy::ClusterLoad Load() {
    const scheduler::SchedulerService::Load load =
        scheduler_->service().CurrentLoad();
    deploy::ClusterLoad out;
    out.ready_tasks = load.ready_tasks;
    for (const auto& w : load.workers) {
      out.workers.push_back({w.host, w.pid, w.nthreads,
                             static_cast<int>(w.processing)});
    }
    return out;
  }

  const Options options_;
  const bool keep_directory_;
  const std::string directory_;
  std::string address_;
  std::string script_;
  std::unique_ptr<scheduler::SchedulerServer> scheduler_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<deploy::WorkerJobPool> pool_;  // goes first
};

SlurmCluster::SlurmCluster(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SlurmCluster::~SlurmCluster() = default;

Client SlurmCluster::client() const { return impl_->client(); }
const std::string& SlurmCluster::address() const { return impl_->address(); }
std::string SlurmCluster::job_script() const { return impl_->job_script(); }

void SlurmCluster::scale(int n) {
  if (absl::Status s = impl_->pool().Scale(n); !s.ok()) {
    throw UsageError(std::string(s.message()));
  }
}

void SlurmCluster::adapt(int minimum, int maximum) {
  if (absl::Status s = impl_->pool().Adapt(minimum, maximum); !s.ok()) {
    throw UsageError(std::string(s.message()));
  }
}

std::vector<int64_t> SlurmCluster::job_ids() const {
  return impl_->pool().jobs();
}

std::string SlurmCluster::last_error() const {
  return impl_->pool().last_error();
}

}  // namespace weft
