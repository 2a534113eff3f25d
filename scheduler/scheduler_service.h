// Copyright 2026 The weft Authors.
//
// SchedulerService: the central scheduler's gRPC face. It maps the client
// and worker streams onto SchedulerState (which knows nothing of sockets)
// and carries the state machine's actions back out, batched per peer.

#ifndef WEFT_SCHEDULER_SCHEDULER_SERVICE_H_
#define WEFT_SCHEDULER_SCHEDULER_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "rpc/frame_stream.h"
#include "rpc/local_link.h"
#include "rpc/weft.grpc.pb.h"
#include "scheduler/scheduler_state.h"
#include "weft/internal/mutex.h"

namespace weft::scheduler {

class SchedulerService final : public rpc::Scheduler::Service {
 public:
  struct Options {
    std::string token;  // required of every peer
    SchedulerState::Options state;
    // How often silent workers are looked for.
    absl::Duration monitor_interval = absl::Milliseconds(200);
    // SchedulerServer: the port of the scheduler's host on which workers
    // open their frame streams (0: any free port; -1: none, every task
    // stream stays on gRPC).
    int frame_port = 0;
  };

  // With WEFT_CHECK_INVARIANTS=1 in the environment, the state machine
  // checks its invariants after events (options.state.check_invariants),
  // whatever `options` says: the test suite sets it for every cluster.
  explicit SchedulerService(Options options);
  // REQUIRES: Shutdown() was called and the gRPC server stopped.
  ~SchedulerService() override;

  grpc::Status ClientStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<rpc::SchedulerToClient, rpc::ClientMessage>*
          stream) override;
  grpc::Status WorkerStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<rpc::SchedulerToWorker, rpc::WorkerMessage>*
          stream) override;

  // Listens for workers' frame streams (rpc/frame_stream.h) on host:port
  // (port 0: any free port). Workers that register afterwards and offer to
  // are moved to one; the others keep their task stream on gRPC. Errors:
  // UNAVAILABLE if it cannot listen. REQUIRES: called at most once, before
  // the service serves.
  absl::Status StartFrames(const std::string& host, int port);

  // The port frame streams are taken on; 0 if StartFrames was not called.
  int frame_port() const;

  // Tells every worker to stop, ends every stream and tells in-process
  // clients. Idempotent.
  void Shutdown();

  // After Shutdown(): waits up to `timeout` for the workers' frame streams
  // to end, then cuts those still open, so that no stream handler waits on
  // a socket when the gRPC server stops.
  void EndFrameStreams(absl::Duration timeout);

  size_t num_workers();

  // The in-process path for a client in this process (LocalCluster). It
  // stays valid after the service is gone (its calls then fail).
  std::shared_ptr<rpc::LocalLink> local_link();

 private:
  struct ClientPeer;
  struct WorkerPeer;
  class Local;

  // Runs `f` under mu_, carries out the resulting actions, and after
  // unlocking delivers what they queued for in-process clients.
  template <class F>
  void RunLocked(F&& f) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues an update for a client (in-process ones get it after RunLocked
  // unlocks).
  template <class Fill>
  void ToClient(ClientPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an update for a worker (one on a frame stream gets it when
  // RunLocked unlocks).
  template <class Fill>
  void ToWorker(WorkerPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an update that may wait (kReleaseLinger at most) for the next
  // one: dropping copies is never urgent, and a message per release would
  // wake the worker once per object.
  template <class Fill>
  void ToWorkerLazily(WorkerPeer& peer, Fill&& fill)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Offers a registering worker or client (`who`, for messages) a frame
  // stream on its gRPC `stream` and waits for it. Returns the stream, or
  // nullptr if the peer could not connect (it stays on gRPC). Errors:
  // UNAVAILABLE if the peer left, DEADLINE_EXCEEDED if it said it connected
  // but no stream arrived with its key.
  template <class Out, class In>
  absl::StatusOr<std::shared_ptr<rpc::FrameStream>> OfferFrames(
      grpc::ServerReaderWriter<Out, In>& stream, const std::string& who);
  // Takes frame streams and matches them to OfferFrames by key.
  void AcceptLoop();
  // Reads `Message`s from `frames` until it ends and hands each to
  // `handle` under mu_ (what has already arrived, under one lock).
  template <class Message, class Handle>
  void ReadFrames(rpc::FrameStream& frames, Handle&& handle);

  // The LocalLink operations, once the link has checked the service lives.
  absl::StatusOr<ClientId> ConnectLocal(
      const std::string& name, std::shared_ptr<rpc::LocalClientPeer> peer);
  bool DeliverLocal(ClientId id, const rpc::ClientMessage& message);
  void DisconnectLocal(ClientId id);

  // Carries out the state machine's pending actions. REQUIRES: mu_ held.
  void DispatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a line for the scheduler's log (stderr), written by RunLocked
  // once it has released mu_.
  void Log(std::string line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleClientMessage(ClientPeer& peer, const rpc::ClientMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleWorkerMessage(WorkerPeer& peer, const rpc::WorkerMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillLocation(ObjectId id, uint64_t size,
                    const std::vector<WorkerId>& holders,
                    const std::string& inline_value, rpc::Location& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MonitorLoop();
  void RemoveExpiredWorkers() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  // WEFT_VERBOSE=1: also log the normal races (late reports).
  const bool verbose_;

  ::weft::internal::Mutex mu_;
  SchedulerState state_ ABSL_GUARDED_BY(mu_);
  uint64_t next_peer_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<ClientId, std::shared_ptr<ClientPeer>> clients_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WorkerId, std::shared_ptr<WorkerPeer>> workers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WorkerId> worker_by_address_
      ABSL_GUARDED_BY(mu_);
  // Log lines queued under the lock (see Log()).
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  // In-process clients and frame-stream workers with updates queued since
  // the last RunLocked.
  std::vector<std::shared_ptr<ClientPeer>> to_flush_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<WorkerPeer>> workers_to_flush_
      ABSL_GUARDED_BY(mu_);
  // Frame streams being read; EndFrameStreams waits for it to empty.
  absl::flat_hash_set<std::shared_ptr<rpc::FrameStream>> open_frames_
      ABSL_GUARDED_BY(mu_);
  std::condition_variable_any frames_closed_cv_;
  std::shared_ptr<Local> local_;  // constant after construction

  ::weft::internal::Mutex monitor_mu_;
  std::condition_variable_any monitor_cv_;
  bool monitor_stop_ ABSL_GUARDED_BY(monitor_mu_) = false;
  std::thread monitor_;

  // Frame streams. The listener is set once by StartFrames; streams that
  // arrived with a key wait in arrived_ for their OfferFrames.
  std::unique_ptr<rpc::FrameListener> frame_listener_;
  std::atomic<bool> acceptor_stop_{false};
  std::thread acceptor_;
  ::weft::internal::Mutex frames_mu_;
  std::condition_variable_any frames_cv_;
  absl::flat_hash_set<std::string> expected_keys_ ABSL_GUARDED_BY(frames_mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<rpc::FrameStream>> arrived_
      ABSL_GUARDED_BY(frames_mu_);
};

// A running scheduler: the service on a gRPC server.
class SchedulerServer {
 public:
  // Listens on host:port (port 0: any free port). Errors: UNAVAILABLE if it
  // cannot bind.
  static absl::StatusOr<std::unique_ptr<SchedulerServer>> Start(
      const std::string& host, int port, SchedulerService::Options options);
  // Shuts down (telling workers to stop) if not done yet.
  ~SchedulerServer();

  // host:port clients and workers connect to.
  const std::string& address() const { return address_; }
  // The port workers' frame streams use (0: none).
  int frame_port() const { return service_->frame_port(); }
  SchedulerService& service() { return *service_; }
  // Stops workers and the server; returns when every stream has ended.
  void Shutdown();
  // Blocks until Shutdown() (from another thread or a signal handler).
  void Wait();

 private:
  SchedulerServer() = default;

  std::unique_ptr<SchedulerService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_SCHEDULER_SERVICE_H_
