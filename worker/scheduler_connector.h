// Copyright 2026 The weft Authors.
//
// SchedulerConnector: how a worker reaches its scheduler. The worker's only
// seam to the network on the scheduler's side: the real connector
// (GrpcSchedulerConnector) opens a gRPC call, runs the join handshake
// (rpc/join.h) and connects the worker's nested client; a test gives the
// worker a connector that hands it one end of an in-process stream and
// plays the scheduler on the other (worker/worker_test.cc), so the
// worker's task slots, fetches, cancels and sessions are tested without a
// scheduler process.

#ifndef WEFT_WORKER_SCHEDULER_CONNECTOR_H_
#define WEFT_WORKER_SCHEDULER_CONNECTOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/cluster_runtime.h"
#include "rpc/peer_stream.h"
#include "rpc/weft.pb.h"

namespace weft::worker {

// The worker's stream to its scheduler.
using SchedulerStream =
    rpc::PeerStream<rpc::WorkerMessage, rpc::SchedulerToWorker>;

// Thread-safety: a worker calls one method at a time (from its serving
// thread), but a connector may outlive several sessions and is called again
// for each rejoin.
class SchedulerConnector {
 public:
  // A registration the scheduler accepted.
  struct Registered {
    // The stream to the scheduler (not serving yet).
    std::shared_ptr<SchedulerStream> stream;
    // The scheduler's first message: the worker id, its heartbeat timeout,
    // perhaps work already.
    rpc::SchedulerToWorker first;
    // Said once on stderr by the worker if not empty: how the connection
    // is worse than asked (say, no frame stream: tasks come over gRPC).
    std::string warning;
  };

  virtual ~SchedulerConnector() = default;

  // Sends `hello` (a WorkerMessage with `register` set) to the scheduler
  // with `token`, by `deadline`, and returns the accepted registration.
  // Errors: Unavailable (nothing answers, or it went away), Unauthenticated
  // (the token was refused), others as the scheduler says; each message
  // names the scheduler's address.
  virtual absl::StatusOr<Registered> Register(const rpc::WorkerMessage& hello,
                                              const std::string& token,
                                              absl::Time deadline) = 0;

  // A client runtime, named `name`, for tasks that call remote()/get()
  // themselves, by `deadline`. Errors: why it could not connect (the worker
  // then runs without nested tasks).
  virtual absl::StatusOr<std::unique_ptr<rpc::ClusterRuntime>> ConnectClient(
      const std::string& token, const std::string& name,
      absl::Time deadline) = 0;
};

// The connector of real workers: gRPC to `scheduler_address` ("host:port"),
// then a frame stream if the scheduler offers one (rpc/join.h), with this
// process's TLS settings (rpc/tls.h).
std::unique_ptr<SchedulerConnector> GrpcSchedulerConnector(
    std::string scheduler_address);

}  // namespace weft::worker

#endif  // WEFT_WORKER_SCHEDULER_CONNECTOR_H_
