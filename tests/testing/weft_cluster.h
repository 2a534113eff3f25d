// Copyright 2026 The weft Authors.
//
// WeftCluster: a cluster started the way an operator starts one, with the
// `weft` command: `weft scheduler` and `weft worker` processes (workers
// running functions from libraries given with --load), on this machine or
// in test hosts (tests/testing/test_hosts.h). For tests of everything the
// documented command line promises, beside LocalCluster's in-program
// clusters.
//
//   auto cluster = WeftCluster::Start({.workers = 2,
//                                      .loads = {RunfilePath("tests/libsuite_tasks.so")}});
//   weft::Client client = weft::Client::Connect((*cluster)->address(),
//                                               (*cluster)->token_file());
//
// Processes write their output to files in a state directory under
// $TEST_TMPDIR (or /tmp); Logs() returns all of it, for failure messages.
// Destroying the cluster stops every process (SIGTERM, then SIGKILL after
// a grace period) and reaps it.
//
// Thread-safety: use a WeftCluster from one thread at a time.

#ifndef WEFT_TESTS_TESTING_WEFT_CLUSTER_H_
#define WEFT_TESTS_TESTING_WEFT_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/test_hosts.h"

namespace weft::testing {

// The path of a file of this test's runfiles (e.g. "tools/weft"), from
// $TEST_SRCDIR; relative to the working directory outside Bazel.
std::string RunfilePath(const std::string& path);

struct WeftClusterOptions {
  int workers = 2;
  int threads_per_worker = 1;
  // Libraries for `weft worker --load` (absolute paths).
  std::vector<std::string> loads = {};
  // Extra flags for `weft scheduler` and for each `weft worker`.
  std::vector<std::string> scheduler_flags = {};
  std::vector<std::string> worker_flags = {};
  // Where the processes run: nullptr (and an empty list) is this machine,
  // on loopback. Worker i runs in worker_hosts[i % size].
  TestHost* scheduler_host = nullptr;
  std::vector<TestHost*> worker_hosts = {};
  // Environment for every process, on top of the test's.
  EnvOverrides env = {};
  // How long Start() waits for the scheduler and the workers.
  absl::Duration start_timeout = absl::Seconds(60);
};

class WeftCluster {
 public:
  // Starts the scheduler (any free port), waits until it listens, starts
  // the workers and waits until the scheduler's log says each joined.
  // Errors: those of spawning; DeadlineExceeded (with the logs) if the
  // scheduler or a worker did not come up within options.start_timeout.
  static absl::StatusOr<std::unique_ptr<WeftCluster>> Start(
      WeftClusterOptions options);

  WeftCluster(const WeftCluster&) = delete;
  WeftCluster& operator=(const WeftCluster&) = delete;
  // Stops every process and reaps it.
  ~WeftCluster();

  // The scheduler's address as clients and workers reach it, host:port
  // (the scheduler host's name when in a test host).
  const std::string& address() const { return address_; }
  // The token file the scheduler wrote and workers read.
  const std::string& token_file() const { return token_file_; }
  // The directory holding the token file and the processes' output.
  const std::string& state_dir() const { return state_dir_; }

  // Starts one more worker (in `host`, or as the options say for its
  // index) without waiting for it. Errors: those of spawning.
  absl::Status AddWorker(TestHost* host = nullptr);
  // Waits until the scheduler's log shows `n` workers joined in all (since
  // it started). Errors: DeadlineExceeded with the logs.
  absl::Status WaitForJoins(int n, absl::Duration timeout);

  // Kills the scheduler (SIGKILL, as a crash would), waits `down_for`, and
  // starts it again on the same port with the same token file (it keeps
  // the token). WaitForJoins() counts from the new start. Errors: those of
  // Start()'s scheduler part.
  absl::Status RestartScheduler(absl::Duration down_for);

  HostProcess& scheduler() { return *scheduler_; }
  // The worker processes, in start order (including stopped ones).
  std::vector<HostProcess*> workers();

  // Everything the processes wrote, each file headed by its name.
  std::string Logs() const;

 private:
  explicit WeftCluster(WeftClusterOptions options);
  // Starts the scheduler on `port` (0: any free port) and learns its
  // address.
  absl::Status StartScheduler(int port);
  // The argv of worker number `index`, in `host`.
  std::vector<std::string> WorkerArgv(TestHost* host) const;

  const WeftClusterOptions options_;
  std::string state_dir_;
  std::string token_file_;
  std::string address_;
  std::unique_ptr<HostProcess> scheduler_;
  int port_ = 0;
  // Schedulers killed by RestartScheduler(), for Logs().
  std::vector<std::unique_ptr<HostProcess>> old_schedulers_;
  std::vector<std::unique_ptr<HostProcess>> workers_;
};

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_WEFT_CLUSTER_H_
