// Copyright 2026 The weft Authors.

#include "tests/testing/weft_cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace weft::testing {
namespace {

// Counts occurrences of `needle` in `text`.
int Count(const std::string& text, std::string_view needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string TempRoot() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir ? dir : "/tmp";
}

}  // namespace

std::string RunfilePath(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  if (root == nullptr || *root == '\0') return path;
  return absl::StrCat(root, "/weft/", path);
}

WeftCluster::WeftCluster(WeftClusterOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<WeftCluster>> WeftCluster::Start(
    WeftClusterOptions options) {
  std::unique_ptr<WeftCluster> cluster(new WeftCluster(std::move(options)));
  std::string dir = TempRoot() + "/weft-cluster-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", dir, " failed"));
  }
  cluster->state_dir_ = dir;
  cluster->token_file_ = dir + "/token";
  if (absl::Status s = cluster->StartScheduler(0); !s.ok()) return s;
  for (int i = 0; i < cluster->options_.workers; ++i) {
    if (absl::Status s = cluster->AddWorker(); !s.ok()) return s;
  }
  if (absl::Status s = cluster->WaitForJoins(cluster->options_.workers,
                                             cluster->options_.start_timeout);
      !s.ok()) {
    return s;
  }
  return cluster;
}

WeftCluster::~WeftCluster() {
  // As `weft cluster stop` does: workers first (they leave quietly on
  // SIGTERM), then the scheduler.
  for (auto& worker : workers_) (void)worker->Signal(SIGTERM);
  for (auto& worker : workers_) {
    if (!worker->Wait(absl::Seconds(10)).ok()) worker->Kill();
  }
  if (scheduler_ != nullptr) {
    (void)scheduler_->Signal(SIGTERM);
    if (!scheduler_->Wait(absl::Seconds(10)).ok()) scheduler_->Kill();
  }
}

absl::Status WeftCluster::RestartScheduler(absl::Duration down_for) {
  scheduler_->Kill();
  old_schedulers_.push_back(std::move(scheduler_));
  absl::SleepFor(down_for);
  return StartScheduler(port_);
}

absl::Status WeftCluster::StartScheduler(int port) {
  TestHost* host = options_.scheduler_host;
  std::vector<std::string> argv = {
      RunfilePath("tools/weft"), "scheduler",
      absl::StrCat("--host=", host != nullptr ? host->address() : "127.0.0.1"),
      absl::StrCat("--port=", port), absl::StrCat("--token-file=", token_file_)};
  argv.insert(argv.end(), options_.scheduler_flags.begin(),
              options_.scheduler_flags.end());
  absl::StatusOr<std::unique_ptr<HostProcess>> process =
      host != nullptr
          ? host->Spawn(argv, options_.env)
          : SpawnLocal(argv,
                       absl::StrCat(state_dir_, "/scheduler-",
                                    old_schedulers_.size(), ".log"),
                       options_.env);
  if (!process.ok()) return process.status();
  scheduler_ = *std::move(process);
  constexpr std::string_view kListening = "listening on ";
  if (absl::Status s =
          scheduler_->WaitForOutput(kListening, options_.start_timeout);
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(s.message(), "\n", Logs()));
  }
  // "weft scheduler listening on HOST:PORT (...)"
  const std::string out = scheduler_->Output();
  const size_t at = out.find(kListening) + kListening.size();
  const size_t colon = out.find(':', at);
  const size_t end = out.find_first_of(" \n", colon);
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(out.substr(colon + 1, end - colon - 1), &port)) {
    return absl::InternalError(
        absl::StrCat("cannot read the scheduler's port from: ", out));
  }
  port_ = port;
  address_ = absl::StrCat(host != nullptr ? host->name() : "127.0.0.1", ":",
                          port);
  return absl::OkStatus();
}

std::vector<std::string> WeftCluster::WorkerArgv(TestHost* host) const {
  std::vector<std::string> argv = {
      RunfilePath("tools/weft"), "worker",
      absl::StrCat("--scheduler=", address_),
      absl::StrCat("--token-file=", token_file_),
      absl::StrCat("--nthreads=", options_.threads_per_worker),
      absl::StrCat("--host=", host != nullptr ? host->address() : "127.0.0.1")};
  for (const std::string& lib : options_.loads) {
    argv.push_back(absl::StrCat("--load=", lib));
  }
  argv.insert(argv.end(), options_.worker_flags.begin(),
              options_.worker_flags.end());
  return argv;
}

absl::Status WeftCluster::AddWorker(TestHost* host) {
  if (host == nullptr && !options_.worker_hosts.empty()) {
    host = options_.worker_hosts[workers_.size() % options_.worker_hosts.size()];
  }
  const std::vector<std::string> argv = WorkerArgv(host);
  absl::StatusOr<std::unique_ptr<HostProcess>> process =
      host != nullptr
          ? host->Spawn(argv, options_.env)
          : SpawnLocal(argv,
                       absl::StrCat(state_dir_, "/worker-", workers_.size(),
                                    ".log"),
                       options_.env);
  if (!process.ok()) return process.status();
  workers_.push_back(*std::move(process));
  return absl::OkStatus();
}

absl::Status WeftCluster::WaitForJoins(int n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Count(scheduler_->Output(), " joined: ") < n) {
    if (scheduler_->Poll().has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the scheduler exited\n", Logs()));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          n, " workers did not join within ", absl::FormatDuration(timeout),
          "\n", Logs()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

std::vector<HostProcess*> WeftCluster::workers() {
  std::vector<HostProcess*> out;
  for (auto& w : workers_) out.push_back(w.get());
  return out;
}

std::string WeftCluster::Logs() const {
  std::string out;
  for (const auto& old : old_schedulers_) {
    absl::StrAppend(&out, "--- scheduler, killed (", old->output_path(),
                    ")\n", old->Output());
  }
  if (scheduler_ != nullptr) {
    absl::StrAppend(&out, "--- scheduler (", scheduler_->output_path(),
                    ")\n", scheduler_->Output());
  }
  for (const auto& w : workers_) {
    absl::StrAppend(&out, "--- worker (", w->output_path(), ")\n",
                    w->Output());
  }
  return out;
}

}  // namespace weft::testing
