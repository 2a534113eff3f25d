// Copyright 2026 The weft Authors.
//
// LocalCluster: a scheduler and N worker processes on this machine, started
// from inside the program (ipyparallel's Cluster(n).start_and_connect_sync(),
// Dask's LocalCluster):
//
//   int main(int argc, char** argv) {
//     weft::Init(argc, argv);            // workers of this binary stop here
//     weft::LocalCluster cluster(4);     // 4 worker processes
//     weft::Client client = cluster.client();
//     ... the same weft calls as on the embedded runtime ...
//   }                                    // workers and scheduler stop
//
// Workers are this same binary, re-executed with --weft-worker, so every
// function registered with WEFT_REMOTE is there. They die with the program:
// no orphan processes, even if the program is killed.

#ifndef WEFT_CORE_WEFT_CLUSTER_H_
#define WEFT_CORE_WEFT_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "weft/client.h"

namespace weft {

class LocalCluster {
 public:
  struct Options {
    int workers = 0;             // 0: one per core
    int threads_per_worker = 1;  // task slots per worker
    std::string host = "127.0.0.1";
    int port = 0;                // scheduler port; 0: any free port
    // The worker program; empty: this binary (/proc/self/exe).
    std::string worker_binary = {};
    std::chrono::milliseconds start_timeout{30000};
    // Worker heartbeat timeout at the scheduler.
    std::chrono::milliseconds heartbeat_timeout{5000};
    // Tasks in flight per worker thread (assigned to a worker but not done).
    // Higher keeps workers busy between scheduler round trips (tiny tasks);
    // lower rebalances long tasks sooner when a worker goes idle. With
    // adaptive_saturation (the default) this is the minimum, and the
    // scheduler raises it for short tasks (see docs/cluster.md).
    int saturation = 2;
    bool adaptive_saturation = true;
    // A worker process that dies is restarted (Dask's nanny), at most this
    // many times over the cluster's life; its tasks are rescheduled either
    // way.
    int max_restarts = 100;
    // The client reaches the scheduler (which runs in this process) by
    // function call; false: over loopback gRPC, as a client on another
    // machine would (for comparison and testing).
    bool in_process_client = true;
    // The web dashboard (docs/dashboard.md), on `host`: this port, or any
    // free one if it is taken (as Dask's); 0: any free port; -1: none.
    int dashboard_port = 8787;
    // Mutual TLS on every connection (docs/cluster.md, "TLS"): a directory
    // made by `weft tls init`. TLS is a process-wide setting: this sets it
    // for the whole process (as WEFT_TLS_CERT, WEFT_TLS_KEY, WEFT_TLS_CA,
    // which the workers inherit). Empty: those variables decide.
    std::string tls_directory = {};
  };

  // Starts the scheduler in this process and `workers` worker processes,
  // waits until all are connected, and makes client() the default client.
  // Says on stderr where its dashboard is.
  // Throws UsageError if a worker cannot start or connect in time (its
  // stderr says why).
  explicit LocalCluster(int workers);
  explicit LocalCluster(Options options);
  // Stops the workers (gracefully, then SIGKILL after a grace period) and
  // the scheduler, and reaps every process.
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // A client connected to this cluster.
  Client client() const;
  // The scheduler's host:port, and the token workers and clients present.
  const std::string& address() const;
  const std::string& token() const;
  // The dashboard's URL, e.g. "http://127.0.0.1:8787/" ("" without one).
  const std::string& dashboard_link() const;
  // Process ids of the live worker processes.
  std::vector<pid_t> worker_pids() const;
  // How many worker processes died and were restarted.
  int restarts() const;
  // Starts `n` more workers and waits for them.
  void add_workers(int n);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_CLUSTER_H_
